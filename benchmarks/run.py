"""Run every benchmark script and print one table of goals against the peer libraries.

Each ``benchmarks/bench_<name>.py`` runs in its own subprocess (``--quick`` by default, the full
version with ``--full``), its output streamed to the console. Every script ends with a
``== Summary ==`` table (goal, measured value, target, PASS/MISS); this runner collects those
rows into one table, prints it at the end and writes it, with the date, the machine and the git
revision, to ``benchmarks/results/summary.txt``, from which ``docs/benchmarks_page.py`` builds
the top of the documentation's benchmarks page. A full run also writes each script's whole
output to ``benchmarks/results/<name>.txt``.

Run: ``python benchmarks/run.py`` (quick, about 10 minutes on 2 cores), ``python
benchmarks/run.py --full`` (about an hour), ``--only wishart transport`` for some scripts.
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from _report import cpu_model, git_revision

import skqg

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SUMMARY_FILE = RESULTS / "summary.txt"

# Script name -> the peer libraries it measures skqg against; run in this order.
PEERS = {
    "rbm": "scikit-learn BernoulliRBM",
    "rbm_rg": "exact block spins, random weights",
    "ising": "NumPy checkerboard Metropolis",
    "wishart": "scikit-learn LedoitWolf/OAS/FactorAnalysis, pyRiemann",
    "transport": "POT ot.da, scikit-learn KernelDensity/GaussianMixture",
    "transport_speed": "OTT-JAX Sinkhorn; the machine's scalar exp",
    "wide": "one p x p eigendecomposition (the machine's ceiling)",
    "reliability": "exact rational arithmetic; the unscaled fit",
}


def scripts():
    found = {path.stem.removeprefix("bench_"): path for path in HERE.glob("bench_*.py")}
    order = [name for name in PEERS if name in found] + sorted(set(found) - set(PEERS))
    return {name: found[name] for name in order}


def parse_summary(output):
    """Rows ``(goal, measured, target, verdict)`` of the script's ``== Summary ==`` table.

    The goal column is as wide as the header says; measured value and target are separated by
    at least two spaces, and the verdict is the last word (a long target pushes it right).
    """
    lines = output.splitlines()
    if "== Summary ==" not in lines:
        return []
    table = lines[lines.index("== Summary ==") + 1 :]
    goal_width = table[0].index("measured")
    rows = []
    for line in table[1:]:
        if not line.strip():
            break
        rest, verdict = line[goal_width:].rstrip().rsplit(" ", 1)
        measured, target = [*re.split(r"\s{2,}", rest.strip(), maxsplit=1), ""][:2]
        rows.append((line[:goal_width].strip(), measured, target, verdict))
    return rows


def run_script(name, path, full, timeout):
    """Run one script, streaming its output; returns ``(output, returncode, seconds)``."""
    command = [sys.executable, "-u", str(path), *([] if full else ["--quick"])]
    print(f"\n######## {' '.join(['bench_' + name + '.py', *command[3:]])}", flush=True)
    began = time.perf_counter()
    lines = []
    with subprocess.Popen(
        command,
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
                lines.append(line)
                if timeout and time.perf_counter() - began > timeout:
                    raise subprocess.TimeoutExpired(command, timeout)
            returncode = process.wait()
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            lines.append(f"\n(stopped after {timeout:.0f} s)\n")
            returncode = "timeout"
    return "".join(lines), returncode, time.perf_counter() - began


def load_average():
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"
    except OSError:
        return "load average unknown"


def format_table(rows):
    head = ("benchmark", "goal", "measured", "target", "verdict")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(5)]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(head, widths, strict=True))]
    out.append("  ".join("-" * width for width in widths))
    for row in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the scripts' --quick runs (default)")
    mode.add_argument(
        "--full", action="store_true", help="full runs; write results/<name>.txt for each"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scripts")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per script (default: none)"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the table, do not write summary.txt"
    )
    args = parser.parse_args(argv)
    available = scripts()
    names = args.only or list(available)
    unknown = sorted(set(names) - set(available))
    if unknown:
        parser.error(f"no benchmark script for {unknown}; have {list(available)}")

    began = time.perf_counter()
    started = time.strftime("%Y-%m-%d %H:%M")
    rows, times = [], {}
    for name in names:
        output, returncode, seconds = run_script(name, available[name], args.full, args.timeout)
        times[name] = seconds
        if args.full and returncode == 0:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"{name}.txt").write_text(output, encoding="utf-8")
        found = parse_summary(output)
        rows += [(name, *row) for row in found]
        if returncode != 0:
            rows.append((name, "script run", f"exit {returncode}", "exit 0", "ERROR"))
        elif not found:
            rows.append((name, "summary table", "missing", "present", "ERROR"))
    wall = time.perf_counter() - began

    counts = {v: sum(row[4] == v for row in rows) for v in ("PASS", "MISS", "INFO", "ERROR")}
    header = [
        f"benchmarks/run.py: mode {'full' if args.full else 'quick'}, {started}, "
        f"{platform.node()}, {cpu_model()}, {os.cpu_count()} cores",
        f"python {platform.python_version()}, skqg {skqg.__version__} (git {git_revision()}); "
        f"{load_average()} at the end",
        "wall time "
        + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in times.items())
        + f"; total {wall:.0f}s",
        ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)
        + "; peers: "
        + "; ".join(f"{name}: {PEERS.get(name, '-')}" for name in names),
    ]
    if not args.full:
        header.append(
            "quick mode: smaller problems and fewer seeds than the goals; "
            "the goals' numbers come from --full"
        )
    text = "\n".join([*header, "", "== Summary ==", *format_table(rows)]) + "\n"
    print("\n" + text, end="")
    if not args.no_write and (args.full or not args.only):
        RESULTS.mkdir(exist_ok=True)
        SUMMARY_FILE.write_text(text, encoding="utf-8")
        print(f"written to {SUMMARY_FILE.relative_to(HERE.parent)}")
    return rows


if __name__ == "__main__":
    main()
