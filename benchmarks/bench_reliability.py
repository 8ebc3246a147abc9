"""Issue 18's reliability numbers: accuracy at Heywood cases, scale, and Ctrl-C responsiveness.

1. Factor-model precision ``(W W^T + Psi)^-1`` with tiny noise variances (Heywood cases), against
   exact rational arithmetic (``fractions``): skqg's block elimination
   (``skqg/wishart/_low_rank.py``), the plain Woodbury identity, and LAPACK's Cholesky factor of
   the formed matrix. Relative max-abs error of the precision, p = 8, m = 3, 0 to 5 tiny
   noise variances (1e-11 of the variance).
2. ``MongeAmpereTransport`` on data scaled by 1e-150 .. 1e150 (``solver="sinkhorn"`` and
   ``"exact"``): the round trip ``inverse_transform(transform(X))`` relative to the scale, and
   the map against the one fitted on unscaled data.
3. The command line: the time ``import skqg, skqg.cli`` takes in a fresh interpreter, and
   which heavy libraries it loads (none: Ctrl-C while they load is then inside ``main``'s
   handling); the longest compiled sampling call of a 128 x 128 Ising run at T = 2.0 (Wolff)
   and 3.5 (Metropolis), between which Ctrl-C acts.

Run ``python benchmarks/bench_reliability.py`` (about 30 s). Output:
``benchmarks/results/reliability.txt``.
"""

import subprocess
import sys
import time
import warnings
from fractions import Fraction

import numpy as np
from _report import git_revision, load, print_summary, record


def exact_inverse(components, noise):
    """``(W W^T + Psi)^-1`` by Gauss-Jordan elimination in rationals (exact up to the final
    conversion to float)."""
    p, m = len(noise), len(components)
    loadings = [[Fraction(float(v)) for v in row] for row in components.T]
    rows = [
        [
            sum((loadings[i][k] * loadings[j][k] for k in range(m)), Fraction(0))
            + (Fraction(float(noise[i])) if i == j else 0)
            for j in range(p)
        ]
        + [Fraction(int(i == j)) for j in range(p)]
        for i in range(p)
    ]
    for column in range(p):
        pivot = rows[column][column]
        rows[column] = [value / pivot for value in rows[column]]
        for row in range(p):
            factor = rows[row][column]
            if row != column and factor:
                rows[row] = [a - factor * b for a, b in zip(rows[row], rows[column], strict=True)]
    return np.array([[float(value) for value in row[p:]] for row in rows])


def heywood_accuracy():
    from skqg.wishart._low_rank import LowRankPlusDiagonal

    print("\n== 1. Precision of W W^T + Psi with tiny noise variances, vs exact rationals ==")
    print(f"  {'tiny':>4} {'skqg block':>11} {'Woodbury':>10} {'LAPACK chol':>12}")
    worst = 0.0
    for n_tiny in (0, 1, 2, 3, 5):
        rng = np.random.default_rng(n_tiny)
        components = rng.normal(size=(3, 8))
        variances = (components**2).sum(axis=0)
        noise = rng.uniform(0.2, 1.0, 8) * variances
        noise[:n_tiny] = 1e-11 * variances[:n_tiny] * rng.uniform(1.0, 3.0, n_tiny)
        exact = exact_inverse(components, noise)
        scale = np.abs(exact).max()
        ours = LowRankPlusDiagonal(components, noise).precision()
        over_noise = components / noise
        inner = np.eye(3) + over_noise @ components.T
        woodbury = np.diag(1.0 / noise) - over_noise.T @ np.linalg.solve(inner, over_noise)
        factor = np.linalg.cholesky(components.T @ components + np.diag(noise))
        lapack = np.linalg.inv(factor).T @ np.linalg.inv(factor)
        errors = [np.abs(m - exact).max() / scale for m in (ours, woodbury, lapack)]
        worst = max(worst, errors[0])
        print(f"  {n_tiny:>4} {errors[0]:>11.1e} {errors[1]:>10.1e} {errors[2]:>12.1e}")
    record(
        "1 Heywood precision, relative error (worst)", f"{worst:.1e}", "<= 1e-13", worst <= 1e-13
    )


def transport_scales():
    from skqg import MongeAmpereTransport

    print("\n== 2. MongeAmpereTransport on scaled data ==")
    rng = np.random.RandomState(2)
    X = rng.normal(size=(60, 2))
    X[:, 1] = X[:, 1] ** 2
    print(f"  {'solver':>8} {'scale':>7} {'round trip / scale':>18} {'map vs unscaled':>16}")
    worst = 0.0
    for solver in ("sinkhorn", "exact"):
        unit = MongeAmpereTransport(solver=solver, random_state=0).fit(X)
        for scale in (1e-150, 1e-20, 1e-3, 1e3, 1e20, 1e150):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = MongeAmpereTransport(solver=solver, random_state=0).fit(X * scale)
                back = model.inverse_transform(model.transform(X * scale))
                assert np.isfinite(model.sample(100, random_state=0)).all()
            trip = float(np.abs(back / scale - X).max())
            gap = float(np.abs(model.transform(X * scale) - unit.transform(X)).max())
            worst = max(worst, trip)
            print(f"  {solver:>8} {scale:>7.0e} {trip:>18.1e} {gap:>16.1e}")
    record("2 transport round trip at 1e-150..1e150", f"{worst:.1e}", "<= 1e-12", worst <= 1e-12)


def command_line():
    print("\n== 3. The command line ==")
    code = (
        "import sys, time; began = time.perf_counter(); import skqg, skqg.cli; "
        "print(time.perf_counter() - began, "
        "sorted({'numpy', 'scipy', 'sklearn', 'numba'} & set(sys.modules)))"
    )
    times, loaded = [], None
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        seconds, loaded = out.stdout.split(maxsplit=1)
        times.append(float(seconds))
    print(f"  import skqg, skqg.cli: {min(times) * 1e3:.0f} ms (best of 5), loads {loaded.strip()}")
    record(
        "3 heavy libraries loaded by import skqg.cli", loaded.strip(), "[]", loaded.strip() == "[]"
    )

    from skqg._ising import _sampler
    from skqg.datasets import make_ising

    kernels = _sampler.ising_monte_carlo
    longest = {}
    for name in ("trace_chains", "sample_chains"):
        original = getattr(kernels, name)

        def timed(*args, original=original, name=name):
            began = time.perf_counter()
            out = original(*args)
            longest[name] = max(longest.get(name, 0.0), time.perf_counter() - began)
            return out

        setattr(kernels, name, timed)
    worst = 0.0
    for temperature in (2.0, 3.5):
        longest.clear()
        make_ising(n_samples=8000, size=128, temperature=temperature, random_state=0)
        print(
            f"  Ising 128x128, T = {temperature}: longest compiled call "
            f"{max(longest.values()):.2f} s (burn-in {longest['trace_chains']:.2f} s, "
            f"production {longest['sample_chains']:.2f} s)"
        )
        worst = max(worst, *longest.values())
    record(
        "3 longest compiled sampling call (Ctrl-C latency)", f"{worst:.2f} s", "<= 2 s", worst <= 2
    )


def main():
    print(f"bench_reliability: {time.strftime('%Y-%m-%d %H:%M')}, skqg {git_revision()}; {load()}")
    heywood_accuracy()
    transport_scales()
    command_line()
    print(f"  ({load()})")
    print_summary()


if __name__ == "__main__":
    main()
