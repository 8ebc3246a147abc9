"""Shared reporting for the benchmark scripts: PASS/MISS rows, the revision and the machine."""

import hashlib
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import skqg

SUMMARY = []  # (goal, measured, target, PASS/MISS)


def load():
    """The machine's load averages: the timings are only as good as the machine is quiet."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def verdict(ok):
    return "PASS" if ok else "MISS"


def first_line(message, width=150):
    """``message`` on one line, cut to ``width`` characters (for exception and warning texts)."""
    text = " ".join(str(message).split())
    return text if len(text) <= width else f"{text[: width - 3]}... [{len(text)} chars]"


def record(goal, measured, target, ok):
    SUMMARY.append((goal, measured, target, verdict(ok)))
    return verdict(ok)


def git_revision():
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "../skqg"],
            cwd=here,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    if not dirty:
        return rev
    # The working tree differs from HEAD: a digest of the package sources identifies it.
    digest = hashlib.sha1()
    for path in sorted(Path(skqg.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return f"{rev} + uncommitted skqg changes, sources sha1 {digest.hexdigest()[:10]}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_summary(target_width=14):
    """Print the PASS/MISS table of every recorded goal."""
    print("\n== Summary ==")
    width = max(len(row[0]) for row in SUMMARY)
    measured_width = max(len(row[1]) for row in SUMMARY)
    print(f"{'goal':<{width}}  {'measured':<{measured_width}}  {'target':<{target_width}} result")
    for goal, measured, target, result in SUMMARY:
        print(f"{goal:<{width}}  {measured:<{measured_width}}  {target:<{target_width}} {result}")


# A small interpreter that runs a child and reports RUSAGE_CHILDREN. Read in a (large) benchmark
# process, RUSAGE_CHILDREN would be wrong: a forked child's peak RSS counts the parent's pages it
# shared before exec, so every child would seem as large as the parent.
PEAK_RSS_WRAPPER = r"""
import resource, subprocess, sys
timeout = None if sys.argv[1] == "none" else float(sys.argv[1])
try:
    status = "rc=%d" % subprocess.run(sys.argv[2:], timeout=timeout).returncode
except subprocess.TimeoutExpired:
    status = "timeout"
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"WRAPPER {status} ru_maxrss_kb {peak}", flush=True)
"""


def run_with_peak_rss(source, argv, timeout):
    """Run the Python ``source`` with ``argv`` in a fresh interpreter, through the wrapper.

    Returns its output, wall time, status ("rc=0": finished, "timeout") and peak RSS in kB
    (``RUSAGE_CHILDREN.ru_maxrss`` of the wrapper, whose only child it is).
    """
    began = time.perf_counter()
    command = [sys.executable, "-c", PEAK_RSS_WRAPPER, "none" if timeout is None else str(timeout)]
    command += [sys.executable, "-c", source, *argv]
    done = subprocess.run(command, capture_output=True, text=True)
    out = done.stdout + done.stderr
    found = re.search(r"WRAPPER (\S+) ru_maxrss_kb (\d+)", out)
    status = found.group(1) if found else f"wrapper failed (rc={done.returncode})"
    peak_kb = int(found.group(2)) if found else -1
    return out, time.perf_counter() - began, status, peak_kb
