"""Write ``docs/benchmarks.rst`` from the result files of the scripts under ``benchmarks/``.

Each script writes its full output to ``benchmarks/results/<name>.txt``: a header with the date,
machine and library versions, the measurements side by side with the peer libraries, and (for
most) a closing ``== Summary ==`` table of goals, measured values (ratios against the peers) and
verdicts. ``benchmarks/run.py`` runs them all and writes the combined table of every goal to
``benchmarks/results/summary.txt``; the page starts with that table, then shows, per script, the
header and the summary table, or the whole output when there is no summary, so the site always
shows the numbers of the last committed run.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

# Script name -> what it measures, in the order shown.
SCRIPTS = {
    "rbm": "RBMCoarseGrainer against scikit-learn's BernoulliRBM: exact held-out "
    "log-likelihoods on binarised digits, speed, Ising data.",
    "rbm_rg": "RBMCoarseGrainer as a renormalisation-group coarse-grainer: receptive fields "
    "of a stack of RBMs and the RBM flow of the temperature.",
    "wishart": "WishartCovarianceModel against scikit-learn's LedoitWolf and OAS and "
    "pyRiemann's means and tangent space.",
    "transport": "MongeAmpereTransport against POT's ot.da transports, KernelDensity and "
    "GaussianMixture.",
    "ising": "The Ising sampler (skqg.datasets.make_ising) against a vectorised NumPy "
    "checkerboard Metropolis.",
}

INTRO = """\
Benchmarks
==========

Every number on this page comes from a script under ``benchmarks/``, run side by side with the
peer library in the same process; ratios are the peer's time over skqg's. The machines are
shared 2-core virtual machines, so timings vary by tens of percent between runs; each script
prints the date, the machine, the load and the library versions of its run. Run one with

.. code-block:: console

   $ python benchmarks/run.py                     # every script, quick; the table below
   $ python benchmarks/run.py --full              # every script in full, writes results/*.txt
   $ python benchmarks/bench_<name>.py            # one script, full
   $ python benchmarks/bench_<name>.py --quick    # one script, a smaller, faster run

This page is regenerated from ``benchmarks/results/`` at every documentation build.
"""


def _sections(text):
    """The header (up to the first blank line) and the summary table, or ``None`` and every
    line when the output has no summary table."""
    lines = text.rstrip().splitlines()
    if "== Summary ==" not in lines:
        return None, lines
    header = lines[: lines.index("")] if "" in lines else lines[:1]
    return header, lines[lines.index("== Summary ==") + 1 :]


def _literal(lines):
    body = [("   " + line).rstrip() for line in lines]
    return [".. code-block:: text", "", *body, ""]


def _combined():
    """The section with ``benchmarks/run.py``'s table of every goal, if it has been run."""
    path = RESULTS / "summary.txt"
    if not path.exists():
        return []
    header, body = _sections(path.read_text(encoding="utf-8"))
    if header is None:
        header, body = [], body
    title = "All goals (``benchmarks/run.py``)"
    return [
        title,
        "-" * len(title),
        "",
        "Every goal of every script in one table, from the last ``python benchmarks/run.py``: "
        "the measured value (for speed, the ratio against the peer library), the target and "
        "the verdict. The run's mode, date, machine and revision:",
        "",
        *_literal(header),
        *_literal(body),
    ]


def render():
    """The page's reStructuredText."""
    out = [INTRO, *_combined()]
    names = list(SCRIPTS) + sorted(
        path.stem
        for path in RESULTS.glob("*.txt")
        if path.stem not in SCRIPTS and path.stem != "summary"
    )
    for name in names:
        path = RESULTS / f"{name}.txt"
        if not path.exists():
            continue
        title = f"``bench_{name}.py``"
        out += [title, "-" * len(title), ""]
        if name in SCRIPTS:
            out += [SCRIPTS[name], ""]
        header, body = _sections(path.read_text(encoding="utf-8"))
        if header is None:
            out += ["The full output:", "", *_literal(body)]
        else:
            out += ["The run:", "", *_literal(header)]
            out += ["The summary (full output in ``benchmarks/results/" + name + ".txt``):", ""]
            out += _literal(body)
    return "\n".join(out) + "\n"


PAGE = Path(__file__).resolve().parent / "benchmarks.rst"


def write(path=PAGE):
    """Write the page if its content changed (an unchanged file keeps Sphinx's cache valid)."""
    text = render()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
