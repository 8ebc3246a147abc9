"""The ``skqg`` command line: ``skqg demo`` and ``skqg ising``."""

import argparse
import sys
import time

from skqg import __version__
from skqg.cli._guards import (
    check_ising_memory,
    check_output_path,
    was_interrupted,
    write_atomically,
)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _add_ising_parser(subparsers):
    parser = subparsers.add_parser(
        "ising",
        help="sample 2-D Ising configurations and write them to an .npz file",
        description=(
            "Sample decorrelated equilibrium configurations of the 2-D Ising model "
            "(Wolff clusters near and below T_c, checkerboard Metropolis above) and write "
            "X (int8 spins, one row per configuration), temperature and energy per site."
        ),
    )
    parser.add_argument("--size", type=int, default=32, help="lattice side L (default 32)")
    parser.add_argument(
        "--temperature",
        type=float,
        nargs="+",
        default=[2.269],
        help="one or more temperatures in units of J/k_B (default 2.269, near T_c)",
    )
    parser.add_argument(
        "--n-samples",
        type=_positive_int,
        default=1000,
        help="total configurations, spread over the temperatures (default 1000)",
    )
    parser.add_argument("--out", default="ising.npz", help="output file (default ising.npz)")
    parser.add_argument("--coupling", type=float, default=1.0, help="coupling J (default 1)")
    parser.add_argument("--boundary", choices=["periodic", "open"], default="periodic")
    parser.add_argument("--algorithm", choices=["auto", "wolff", "metropolis"], default="auto")
    parser.add_argument(
        "--binary", action="store_true", help="write {0, 1} instead of {-1, +1} spins"
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="Numba threads, -1 for all (default: Numba's setting, normally all cores)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(func=_run_ising)


def _add_demo_parser(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="fit the three estimators on built-in data: a results table and a figure",
        description=(
            "Fit RBMCoarseGrainer to 2-D Ising configurations (receptive fields, the RBM "
            "flow of the temperature), WishartCovarianceModel to Gaussian data with p "
            "comparable to n (against LedoitWolf and Marchenko-Pastur) and "
            "MongeAmpereTransport to a curved 2-D law (its density against the exact one and "
            "a KernelDensity); print the held-out log-likelihoods and diagnostics and write "
            "a six-panel figure."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller problems: seconds instead of minutes"
    )
    parser.add_argument(
        "--out", default="skqg-demo.png", help="figure file (default skqg-demo.png)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_demo)


def _run_demo(args):
    from skqg.cli._demo import format_table, run_demo
    from skqg.cli._demo_figure import draw_demo_figure, figure_format

    check_output_path(args.out, "figure")
    image_format = figure_format(args.out)
    start = time.perf_counter()
    rows, panels = run_demo(quick=args.quick, seed=args.seed, progress=not args.quiet)
    # The results first: a figure that cannot be written must not cost the table.
    print(format_table(rows), flush=True)
    write_atomically(args.out, lambda file: draw_demo_figure(panels, file, image_format))
    print(f"wrote the figure to {args.out}; {time.perf_counter() - start:.1f} s in all")
    return 0


def _run_ising(args):
    # Imported here, inside main's Ctrl-C handling (numpy and Numba take seconds to load).
    import numpy as np

    from skqg._ising import IsingOptions, sample_dataset

    check_output_path(args.out, "configurations")
    if args.size >= 2:  # smaller sizes get the sampler's own message
        check_ising_memory(args.n_samples, args.size)
    start = time.perf_counter()
    options = IsingOptions(
        coupling=args.coupling,
        boundary=args.boundary,
        algorithm=args.algorithm,
        spins=not args.binary,
        shuffle=False,
        dtype=np.int8,
        verbose=not args.quiet,
        n_jobs=args.n_jobs,
        random_state=args.seed,
    )
    X, y, energy, runs = sample_dataset(args.n_samples, args.size, args.temperature, options)
    elapsed = time.perf_counter() - start
    if not args.quiet:  # the results first: a file that cannot be written must not cost them
        _print_ising_summary(X, y, energy, runs, args)
    write_atomically(args.out, lambda file: _write_ising(file, X, y, energy, args))
    if not args.quiet:
        print(
            f"wrote {X.shape[0]} configurations of {args.size}x{args.size} to {args.out} "
            f"in {elapsed:.1f} s"
        )
    return 0


def _print_ising_summary(X, y, energy, runs, args):
    import numpy as np

    spins = (2 * X.astype(np.int64) - 1) if args.binary else X
    magnetization = np.abs(spins.mean(axis=1))
    print(
        f"{'T':>8} {'algorithm':>10} {'samples':>8} {'tau':>8} {'thin':>5} "
        f"{'burn-in':>8} {'<E>/N':>9} {'<|m|>':>7}"
    )
    for run in runs:
        rows = y == run.temperature
        print(
            f"{run.temperature:8.4f} {run.algorithm:>10} {run.n_samples:8d} "
            f"{run.tau:8.2f} {run.thinning:5d} {run.burn_in:8d} "
            f"{energy[rows].mean():9.4f} {magnetization[rows].mean():7.4f}"
        )


def _write_ising(file, X, y, energy, args):
    import numpy as np

    np.savez_compressed(
        file,
        X=X,
        temperature=y,
        energy=energy,
        size=args.size,
        coupling=args.coupling,
        boundary=args.boundary,
        spins=not args.binary,
    )


def build_parser():
    """Return the ``skqg`` argument parser with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``skqg --help`` lists the subcommands.

    Examples
    --------
    >>> from skqg.cli import build_parser
    >>> args = build_parser().parse_args(["demo", "--quick", "--out", "demo.png"])
    >>> args.command, args.quick, args.out, args.seed
    ('demo', True, 'demo.png', 0)
    """
    parser = argparse.ArgumentParser(
        prog="skqg",
        description="skqg: scikit-learn estimators on the geometry of learning.",
    )
    parser.add_argument("--version", action="version", version=f"skqg {__version__}")
    subparsers = parser.add_subparsers(title="subcommands", dest="command", metavar="COMMAND")
    _add_demo_parser(subparsers)
    _add_ising_parser(subparsers)
    return parser


def main(argv=None):
    """Run the ``skqg`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 on invalid input (including an output path that
        cannot be written, or a run too large for the memory), 1 when writing fails anyway,
        130 after Ctrl-C (one line on standard error, no traceback).

    Examples
    --------
    ``main`` is what the ``skqg`` command runs. Invalid input prints a message to standard error
    (here: a lattice needs at least two sites a side) and returns status 2:

    >>> from skqg.cli import main
    >>> main(["ising", "--size", "1", "--out", "never-written.npz"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ValueError as error:
        print(f"skqg {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the file system refused what the checks could not foresee
        print(f"skqg {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemError) as error:
        if not was_interrupted(error):
            raise
        print(f"skqg {args.command}: interrupted", file=sys.stderr)
        return 130
