"""MongeAmpereTransport against POT and scikit-learn, side by side in one process.

Goal 1, Gaussian to Gaussian: random SPD covariances (eigenvalues in [0.3, 3]) and random means,
``n`` source draws and ``n`` target draws given as an array reference; L2-UVP of the default
model's ``transform`` against the exact Bures map on 2000 new points (d = 2, n = 1000 and d = 10,
n = 2000; median over 5 seeds), with POT's ``EMDTransport`` (its out-of-sample map),
``SinkhornTransport(out_of_sample_map="continuous")`` at the same ``epsilon`` and the closed-form
plug-in ``ot.gaussian.bures_wasserstein_mapping`` side by side; the same with
``reference="normal"``; the median ``log_det_jacobian`` against the exact constant, and the
``inverse_transform`` round trip (against POT's EMD map back, target to source).

Goal 2, resources: fit + transform of 10^4 points at n = 5000, d = 10 against POT's
``SinkhornTransport`` at our ``epsilon_`` and ``tol`` (interleaved in this process, best of two
rounds). POT's time per iteration comes from an 11-iteration probe on the full problem; if POT
has not converged by then it gets ``max_iter`` worth about 10 minutes, and if it still has not
converged its time is extrapolated from the geometric decay of its logged errors (labelled
EXTRAPOLATED; ``--pot-full`` lets it run instead). Memory: the peak RSS of a fresh process
fitting n = 100000, d = 2 (reference="normal"), minus that of a process that only imports skqg,
both read as ``RUSAGE_CHILDREN`` by a small wrapper interpreter (read here, it would count this
process's pages that a forked child shares before exec); the fit is stopped after 10 minutes
unless ``--memory-full``, and the child also reports its own peak from a VmHWM reset after the
warm-up. Pickled size of the n = 5000, d = 10 model, and of POT's EMDTransport at n = 2000.

Goal 3, density: 2-D banana, held-out log-likelihood against the exact log-density, with
``KernelDensity`` (bandwidth by 5-fold ``GridSearchCV``), ``GaussianMixture`` (BIC) and a
``QuantileTransformer`` Gaussian copula side by side, in and outside the training range.

Goal 4, exactness: 1-D maps against the empirical quantile composition, the spherical-uniform
(``"ball"``) map of N(0, I) against the exact radial map, equivariance under translation,
scaling and rotation, and ``transport_cost_`` of ``solver="exact"`` against ``ot.emd2``.

Goal 5, robustness: finiteness from ``epsilon = 1e-3`` to ``1`` times the mean cost, on
duplicated, constant and badly scaled features, and the messages of bad input.

Nothing here depends on the estimator's defaults: the regularisation is read from the fitted
``epsilon_`` and the stopping threshold from ``get_params()``. Rows marked INFO in the summary
have no target. Run ``python benchmarks/bench_transport.py`` (about 15 minutes on 2 cores, 8 of
them the n = 100000 memory fit; ``--quick`` for a smoke run of about 3 minutes with smaller
problems, ``--goal N`` for one goal, ``--pot-full`` and ``--memory-full`` as above). The full
run's output is ``benchmarks/results/transport.txt``.
"""

import argparse
import os
import pickle
import platform
import re
import time
import warnings

import numba
import numpy as np
import ot
import scipy
import sklearn
from _report import (
    SUMMARY,
    cpu_model,
    first_line,
    git_revision,
    load,
    print_summary,
    record,
    run_with_peak_rss,
)
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import QuantileTransformer
from threadpoolctl import threadpool_info

import skqg
from skqg import MongeAmpereTransport

# POT's network simplex needs more than its default 100000 iterations at n = 2000, d = 10.
EMD_MAX_ITER = 10_000_000
# Budget for one run of POT's Sinkhorn before its time is extrapolated instead (seconds).
POT_BUDGET = 600.0


def header(args):
    blas = [
        f"{info['internal_api']} {info.get('version')} ({info['num_threads']} threads)"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    flags = [
        flag
        for flag in ("--pot-full", "--memory-full")
        if getattr(args, flag[2:].replace("-", "_"))
    ]
    print(
        f"bench_transport: mode {'quick' if args.quick else 'full'}"
        f"{''.join(', ' + flag for flag in flags)}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {cpu_model()}, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"python {platform.python_version()}, skqg {skqg.__version__} (git {git_revision()}), "
        f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"POT {ot.__version__}, numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} "
        "threads)"
    )
    defaults = MongeAmpereTransport().get_params()
    print(
        f"MongeAmpereTransport defaults: epsilon={defaults['epsilon']!r}, "
        f"solver={defaults['solver']!r}, tol={defaults['tol']:g}, max_iter={defaults['max_iter']}"
    )
    print(f"BLAS: {'; '.join(sorted(set(blas)))}; {load()}\n")


def race(funcs, repeats):
    """Best (minimum) wall time of each callable over interleaved rounds (order alternates)."""
    best = dict.fromkeys(funcs, np.inf)
    names = list(funcs)
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            began = time.perf_counter()
            funcs[name]()
            best[name] = min(best[name], time.perf_counter() - began)
    return best


def timed(func):
    began = time.perf_counter()
    out = func()
    return out, time.perf_counter() - began


def caught_warnings(func):
    """Run ``func`` and return its result with the messages of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = func()
    return out, caught


def warning_note(caught, category=Warning):
    seen = sorted({first_line(w.message, 70) for w in caught if issubclass(w.category, category)})
    return "; ".join(seen)


def warm_up():
    """Compile (or load from Numba's cache) every kernel outside the timings."""
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((64, 2))
    model = MongeAmpereTransport(random_state=0).fit(X)
    model.inverse_transform(model.transform(X))
    model.score_samples(X)


def sym_pow(matrix, exponent):
    """Power of a symmetric positive-definite matrix (independent of skqg's helpers)."""
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return (vectors * values**exponent) @ vectors.T


def bures_matrix(cov_source, cov_target):
    root = sym_pow(cov_source, 0.5)
    inv_root = sym_pow(cov_source, -0.5)
    return inv_root @ sym_pow(root @ cov_target @ root, 0.5) @ inv_root


def random_spd(rng, d):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q *= np.sign(np.diag(r))
    return (q * rng.uniform(0.3, 3.0, d)) @ q.T


def gaussian_problem(seed, d, n, n_test, reference):
    """Source N(m1, S1) and a target law; the exact map on ``n_test`` new source points.

    ``reference="array"``: target N(m2, S2) given by ``n`` draws. ``"normal"``: target N(0, I)
    (the draws ``Y`` are still returned for POT, which needs target samples).
    """
    rng = np.random.default_rng(seed)
    S1, S2 = random_spd(rng, d), random_spd(rng, d)
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    if reference == "normal":
        S2, m2 = np.eye(d), np.zeros(d)
    X = rng.multivariate_normal(m1, S1, n)
    Y = rng.multivariate_normal(m2, S2, n)
    X_new = rng.multivariate_normal(m1, S1, n_test)
    A = bures_matrix(S1, S2)
    return {
        "X": X,
        "Y": Y,
        "X_new": X_new,
        "T_new": m2 + (X_new - m1) @ A,
        "var": float(np.trace(S2)),
        "log_det": 0.5 * (np.linalg.slogdet(S2)[1] - np.linalg.slogdet(S1)[1]),
    }


def uvp(T_hat, T, var):
    """L2-UVP in percent, over the finite rows of ``T_hat`` (and how many rows were finite)."""
    finite = np.all(np.isfinite(T_hat), axis=1)
    return 100.0 * np.mean(np.sum((T_hat[finite] - T[finite]) ** 2, axis=1)) / var, finite


def round_trip_error(X, X_back):
    """Max over rows of ``|x_back - x| / |x|``."""
    return float(np.max(np.linalg.norm(X_back - X, axis=1) / np.linalg.norm(X, axis=1)))


def banana(rng, n, scale=1.0):
    z = scale * rng.standard_normal((n, 2))
    return np.column_stack([z[:, 0], z[:, 1] + 0.5 * (z[:, 0] ** 2 - 1.0)])


def banana_log_density(X):
    """Exact: the banana map is volume preserving, so log p(x) = log N(z; 0, I)."""
    z2 = X[:, 1] - 0.5 * (X[:, 0] ** 2 - 1.0)
    return stats.norm.logpdf(X[:, 0]) + stats.norm.logpdf(z2)


# ----------------------------------------------------------------------------------- goal 1


def gaussian_seed(seed, d, n, reference, with_sinkhorn):
    """One seed of goal 1: our map and POT's peers on the same problem."""
    prob = gaussian_problem(seed, d, n, 2000, reference)
    X, Y, X_new, T_new, var = prob["X"], prob["Y"], prob["X_new"], prob["T_new"], prob["var"]
    row = {}
    ref = Y if reference == "array" else "normal"
    model, row["fit_s"] = timed(
        lambda: MongeAmpereTransport(reference=ref, random_state=seed).fit(X)
    )
    T_hat = model.transform(X_new)
    row["ours"], _ = uvp(T_hat, T_new, var)
    row["eps"], row["n_iter"] = model.epsilon_, model.n_iter_
    row["eps_rel"] = model.epsilon_ / float(np.mean(ot.dist(X, model.reference_samples_)))
    row["log_det_err"] = abs(float(np.median(model.log_det_jacobian(X_new))) - prob["log_det"])
    row["round_trip"] = round_trip_error(X_new, model.inverse_transform(T_hat))

    emd, caught = caught_warnings(lambda: ot.da.EMDTransport(max_iter=EMD_MAX_ITER).fit(Xs=X, Xt=Y))
    row["emd_note"] = warning_note(caught)
    T_emd = emd.transform(Xs=X_new)
    row["emd"], _ = uvp(T_emd, T_new, var)
    if reference == "array":
        # POT's way back: a second EMDTransport fitted target -> source.
        back = ot.da.EMDTransport(max_iter=EMD_MAX_ITER).fit(Xs=Y, Xt=X)
        X_back = back.transform(Xs=T_emd)
        row["emd_round_trip"] = round_trip_error(X_new, X_back)
        row["emd_rt_median"] = float(
            np.median(np.linalg.norm(X_back - X_new, axis=1) / np.linalg.norm(X_new, axis=1))
        )

    # Closed-form plug-in; a named reference's moments are known exactly, as skqg uses them.
    mean_t, cov_t = (Y.mean(0), np.cov(Y.T)) if reference == "array" else (np.zeros(d), np.eye(d))
    A, b = ot.gaussian.bures_wasserstein_mapping(X.mean(0), mean_t, np.cov(X.T), cov_t)
    row["linear"], _ = uvp(X_new @ A + b, T_new, var)
    # The plug-in's log det: the sampling error of the moments alone, for scale.
    row["linear_log_det_err"] = abs(float(np.linalg.slogdet(A)[1]) - prob["log_det"])

    if with_sinkhorn:
        sinkhorn = ot.da.SinkhornTransport(
            reg_e=model.epsilon_, tol=model.get_params()["tol"], max_iter=2000
        )
        (sinkhorn, caught), row["pot_fit_s"] = timed(
            lambda: caught_warnings(lambda: sinkhorn.fit(Xs=X, Xt=Y))
        )
        row["pot_note"] = warning_note(caught)
        row["pot_iter"] = int(sinkhorn.log_["niter"]) + 1  # niter is the last index
        T_sk, caught = caught_warnings(lambda: sinkhorn.transform(Xs=X_new))
        row["sinkhorn"], finite = uvp(T_sk, T_new, var)
        row["sinkhorn_finite"] = int(finite.sum())
        row["pot_note"] += warning_note(caught)
    return row, prob["log_det"]


def goal1(args):
    print("== Goal 1: Gaussian -> Gaussian, L2-UVP on 2000 new points ==")
    print(
        "UVP = mean |T_hat(x) - T(x)|^2 / tr Cov(T(X)), in %; ours = MongeAmpereTransport("
        "reference=..., random_state=seed); POT's EMDTransport(max_iter=1e7).transform; POT's "
        "SinkhornTransport(reg_e=our epsilon_, tol=our tol, out_of_sample_map='continuous'); "
        "linear = bures_wasserstein_mapping with sample moments"
    )
    seeds = range(1 if args.quick else 5)
    targets = {2: 0.5, 10: 5.0}
    worst_log_det, worst_round_trip = {2: 0.0, 10: 0.0}, 0.0
    for reference in ("array", "normal"):
        for d, n in ((2, 1000), (10, 2000)):
            # POT's Sinkhorn on the array problem; at d = 10 only in the full run.
            with_sinkhorn = reference == "array" and (d == 2 or not args.quick)
            target_name = "N(m2, S2), n draws" if reference == "array" else "N(0, I), 'normal'"
            print(
                f"\n  d = {d}, n = {n}, reference = {target_name}"
                + (
                    ""
                    if with_sinkhorn or reference == "normal"
                    else " (POT Sinkhorn: not in --quick)"
                )
            )
            print(
                f"  {'seed':>4} {'ours':>7} {'EMD':>7} {'Sinkh.':>7} {'linear':>7} "
                f"{'eps_':>7} {'eps/cost':>8} {'iter':>5} {'fit':>6} {'POT it':>6} {'POT fit':>7} "
                f"{'|logdet|':>8} {'lin.':>6} {'rt err':>8} {'EMD rt':>8}"
            )
            rows = []
            for seed in seeds:
                row, truth = gaussian_seed(seed, d, n, reference, with_sinkhorn)
                rows.append(row)
                sk = f"{row['sinkhorn']:>6.3f}%" if "sinkhorn" in row else f"{'-':>7}"
                pot_it = f"{row['pot_iter']:>6d}" if "pot_iter" in row else f"{'-':>6}"
                pot_fit = f"{row['pot_fit_s']:>6.1f}s" if "pot_fit_s" in row else f"{'-':>7}"
                emd_rt = (
                    f"{row['emd_round_trip']:>8.1e}" if "emd_round_trip" in row else f"{'-':>8}"
                )
                print(
                    f"  {seed:>4} {row['ours']:>6.3f}% {row['emd']:>6.3f}% {sk} "
                    f"{row['linear']:>6.3f}% {row['eps']:>7.4f} {row['eps_rel']:>8.4f} "
                    f"{row['n_iter']:>5d} {row['fit_s']:>5.1f}s {pot_it} {pot_fit} "
                    f"{row['log_det_err']:>8.4f} {row['linear_log_det_err']:>6.4f} "
                    f"{row['round_trip']:>8.1e} {emd_rt}"
                )
                for key in ("emd_note", "pot_note"):
                    if row.get(key):
                        print(f"       POT warning ({key[:3]}): {row[key]}")
                if "sinkhorn_finite" in row and row["sinkhorn_finite"] < 2000:
                    print(
                        f"       POT Sinkhorn map finite on {row['sinkhorn_finite']} of 2000 "
                        "points (UVP over the finite ones)"
                    )
            med = {
                key: float(np.median([r[key] for r in rows]))
                for key in ("ours", "emd", "sinkhorn", "linear")
                if key in rows[0]
            }
            print(
                "  median "
                + ", ".join(f"{key} {value:.3f}%" for key, value in med.items())
                + f"; log det truth {truth:+.4f} (last seed)"
            )
            target = targets[d]
            result = record(
                f"1 UVP d={d} ({reference} reference)",
                f"{med['ours']:.3f}% (median)",
                f"<= {target}%",
                med["ours"] <= target,
            )
            print(
                f"  ours, median over {len(rows)} seed(s): {med['ours']:.3f}% (goal <= {target}%): "
                f"{result}"
            )
            worst_log_det[d] = max(worst_log_det[d], max(r["log_det_err"] for r in rows))
            if "emd_rt_median" in rows[0]:
                print(
                    "  POT EMD round trip: median over points of |x' - x| / |x| "
                    f"{np.median([r['emd_rt_median'] for r in rows]):.1e} (median over seeds)"
                )
            worst_round_trip = max(worst_round_trip, max(r["round_trip"] for r in rows))
    n_fits = 4 * len(seeds)
    results_ld = {
        d: record(
            f"1 |median log det - truth|, d={d} (worst of {n_fits // 2})",
            f"{worst:.4f}",
            "<= 0.05",
            worst <= 0.05,
        )
        for d, worst in worst_log_det.items()
    }
    result_rt = record(
        f"1 round trip max rel. error (worst of {n_fits})",
        f"{worst_round_trip:.1e}",
        "<= 1e-6",
        worst_round_trip <= 1e-6,
    )
    print(
        "\n  |median_x log det DT(x) - 0.5 log(det S2 / det S1)|, worst over seeds and both "
        "references: "
        + ", ".join(f"d = {d} {worst:.4f} ({results_ld[d]})" for d, worst in worst_log_det.items())
        + " (goal <= 0.05); column 'lin.': the same for the plug-in's log det A, i.e. the "
        "sampling error of the moments alone"
    )
    print(
        "  inverse_transform(transform(x)) max |x' - x| / |x|, worst of "
        f"{n_fits} fits: {worst_round_trip:.1e} (goal <= 1e-6): {result_rt}; POT's EMD "
        "round trip (source -> target, then an EMDTransport fitted target -> source) in the "
        "'EMD rt' column"
    )


# ----------------------------------------------------------------------------------- goal 2

CHILD = r"""
import resource, sys, time
t0 = time.perf_counter()
import numpy as np
import skqg
from skqg import MongeAmpereTransport


def status_mb(key):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory():
    return f"rss {status_mb('VmRSS'):.1f} MB, peak {status_mb('VmHWM'):.1f} MB"


print(f"MEM import: {memory()}", flush=True)
if sys.argv[1] == "fit":
    n, d = int(sys.argv[2]), int(sys.argv[3])

    class Stamped:
        def __init__(self, stream):
            self.stream = stream

        def write(self, text):
            if text.strip():
                text = f"[{time.perf_counter() - t0:6.1f}s, {memory()}] {text}"
            self.stream.write(text)
            self.stream.flush()

        def flush(self):
            self.stream.flush()

    rng = np.random.default_rng(0)
    z = rng.standard_normal((n, 2))
    X = np.column_stack([z[:, 0], z[:, 1] + 0.5 * (z[:, 0] ** 2 - 1.0)])
    MongeAmpereTransport(random_state=0).fit(X[:64])  # compile or load the kernels
    print(f"MEM warm-up: {memory()}", flush=True)
    try:  # reset VmHWM (Linux): from here the peak is the fit's own
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        print(f"MEM before fit (peak reset): {memory()}", flush=True)
    except OSError as error:
        print(f"MEM could not reset the peak: {error}", flush=True)
    sys.stdout = Stamped(sys.stdout)
    began = time.perf_counter()
    model = MongeAmpereTransport(random_state=0, verbose=1).fit(X)
    sys.stdout = sys.stdout.stream
    print(f"fit {time.perf_counter() - began:.1f} s, epsilon_ {model.epsilon_:.4g}, "
          f"n_iter_ {model.n_iter_}, n_reference {len(model.reference_samples_)}", flush=True)
    print(f"MEM after fit: {memory()}", flush=True)
"""


def run_child(argv, timeout):
    """Run CHILD in a fresh interpreter; see ``_report.run_with_peak_rss``."""
    return run_with_peak_rss(CHILD, argv, timeout)


def pot_sinkhorn_run(X, Y, X_new, eps, tol, max_iter):
    """POT's SinkhornTransport fit + transform; returns (model, mapped points, warnings)."""

    def run():
        model = ot.da.SinkhornTransport(reg_e=eps, tol=tol, max_iter=max_iter)
        model.fit(Xs=X, Xt=Y)
        return model, model.transform(Xs=X_new)

    (model, mapped), caught = caught_warnings(run)
    return model, mapped, warning_note(caught)


def speed_comparison(prob, eps, tol, args, budget=POT_BUDGET):
    """Fit + transform, ours against POT's SinkhornTransport at the same eps and tol."""
    # POT's time per iteration on the full problem, from a capped run (11 iterations, 2 checks).
    X, Y, X_new = prob["X"], prob["Y"], prob["X_new"]
    n, d = X.shape
    n_new = len(X_new)
    dist_s = timed(lambda: ot.dist(X, Y))[1]
    probe, probe_s = timed(lambda: pot_sinkhorn_run(X, Y, X_new[:10], eps, tol, 11))
    per_iter = max(probe_s - dist_s, 1e-9) / (probe[0].log_["niter"] + 1)
    probe_converged = probe[0].log_["err"][-1] < tol
    cap = 100_000 if args.pot_full else max(11, int((budget - dist_s) / per_iter))
    print(
        f"  POT probe (max_iter=11): {probe_s:.1f}s, {per_iter:.3f}s per iteration, marginal "
        f"errors {[f'{e:.1e}' for e in probe[0].log_['err']]}"
        + (" -> converged already" if probe_converged else "")
    )
    if not probe_converged:
        print(
            f"  POT budget: max_iter={cap} "
            + ("(--pot-full)" if args.pot_full else f"(~{budget:.0f}s at that rate)")
        )

    results = {}

    def ours(n_jobs):
        def run():
            model = MongeAmpereTransport(
                reference=Y, epsilon=eps, tol=tol, random_state=0, n_jobs=n_jobs
            ).fit(X)
            results[f"ours {n_jobs}"] = (model, model.transform(X_new))

        return run

    def pot():
        results["pot"] = pot_sinkhorn_run(X, Y, X_new, eps, tol, cap)

    funcs = {"ours": ours(None), "ours n_jobs=1": ours(1), "POT": pot}
    # One interleaved round (ours, ours n_jobs=1, POT), a second in reverse if POT is quick.
    times = race(funcs, 1)
    if times["POT"] < 200 and not args.quick:
        second = race({k: funcs[k] for k in reversed(funcs)}, 1)
        times = {k: min(times[k], second[k]) for k in times}
        rounds = 2
    else:
        rounds = 1
    pot_model, pot_mapped, pot_note = results["pot"]
    pot_iter = int(pot_model.log_["niter"])
    pot_err = float(pot_model.log_["err"][-1])
    pot_converged = pot_err < tol
    model, mapped = results["ours None"]
    ours_uvp, _ = uvp(mapped, prob["T_new"], prob["var"])
    pot_uvp, pot_finite = uvp(pot_mapped, prob["T_new"], prob["var"])
    print(
        f"  fit + transform of {n_new} points, best of {rounds} interleaved round(s) "
        f"(Numba {numba.get_num_threads()} threads for 'ours'; POT is numpy, one thread):"
    )
    print(
        f"    ours              {times['ours']:7.1f}s  (n_iter_ {model.n_iter_} at the final "
        f"epsilon, after epsilon-scaling), UVP vs exact {ours_uvp:.3f}%"
    )
    print(f"    ours n_jobs=1     {times['ours n_jobs=1']:7.1f}s")
    print(
        f"    POT Sinkhorn      {times['POT']:7.1f}s  ({pot_iter + 1} iterations, last marginal "
        f"error {pot_err:.1e}{', converged' if pot_converged else ', NOT converged'}), UVP vs "
        f"exact {pot_uvp:.3f}% on {int(pot_finite.sum())}/{n_new} finite rows"
        + (f"; warnings: {pot_note}" if pot_note else "")
    )
    if pot_converged:
        pot_time, label = times["POT"], "measured"
    else:
        # Extrapolate the iterations from the linear (geometric) decay of POT's marginal error.
        # POT logs its error every 10 iterations; the capped run's time plus the missing
        # iterations at the probe's rate.
        errs = np.asarray(pot_model.log_["err"], dtype=float)[-5:]
        slope = np.polyfit(10.0 * np.arange(len(errs)), np.log(errs), 1)[0] if len(errs) > 1 else 0
        extra = np.log(tol / pot_err) / slope if slope < 0 else np.inf
        needed = pot_iter + 1 + extra
        pot_time, label = times["POT"] + per_iter * extra, "EXTRAPOLATED"
        print(
            f"    POT did not converge within max_iter={cap}: its error decays by "
            f"{np.exp(slope * 10):.3f} per 10 iterations, so ~{needed:.0f} iterations, "
            f"~{pot_time:.0f}s at {per_iter:.3f}s per iteration (an extrapolation)"
        )
    ratio = pot_time / times["ours"]
    ratio1 = pot_time / times["ours n_jobs=1"]
    result = record(
        f"2 fit+transform vs POT Sinkhorn (n={n}, d={d})",
        f"{ratio:.1f}x ({label})",
        ">= 10x",
        ratio >= 10,
    )
    print(
        f"  ratio POT / ours {ratio:.1f}x, with ours on one thread {ratio1:.1f}x ({label}; goal "
        f">= 10x): {result}"
    )
    print(
        "  context: per Sinkhorn iteration POT forms dense n x m arrays (cost, then exp); ours "
        "streams them; the difference in iteration counts is the epsilon-scaling and the rules"
    )


def goal2(args):
    n, d, n_new = (2000, 10, 10_000) if args.quick else (5000, 10, 10_000)
    n_mem = 10_000 if args.quick else 100_000
    print(f"\n== Goal 2: speed at n = {n}, d = {d}, memory at n = {n_mem}, pickled size ==")
    if args.quick:
        print("  (--quick: n = 2000 and 10000 instead of the goal's 5000 and 100000)")
    prob = gaussian_problem(0, d, n, n_new, "array")
    X, Y = prob["X"], prob["Y"]
    warm_up()
    default, fit_s = timed(lambda: MongeAmpereTransport(reference=Y, random_state=0).fit(X))
    eps, tol = default.epsilon_, default.get_params()["tol"]
    mean_cost = float(np.mean(ot.dist(X, Y)))
    print(
        f"  default fit: epsilon_ {eps:.4g} ({eps / mean_cost:.4f} x mean cost {mean_cost:.2f}), "
        f"n_iter_ {default.n_iter_}, {fit_s:.1f}s; both libraries get reg = {eps:.4g}, "
        f"tol = {tol:g}"
    )
    print(
        "  stopping rules: ours, L1 violation of the source marginal after each iteration; "
        "POT's sinkhorn_log, L2 norm of the target marginal's violation, checked every 10 "
        "iterations (weaker than L1 at the same threshold)"
    )

    speed_comparison(prob, eps, tol, args)

    # Pickled size.
    size = len(pickle.dumps(default))
    emd_n = 2000
    emd = ot.da.EMDTransport(max_iter=EMD_MAX_ITER).fit(Xs=X[:emd_n], Xt=Y[:emd_n])
    emd_size = len(pickle.dumps(emd))
    result = record(
        f"2 pickled size (n={n}, d={d})",
        f"{size / 1e6:.2f} MB",
        "< 2 MB",
        size < 2e6,
    )
    print(
        f"  pickled fitted model (array reference, n = {n}, d = {d}): {size / 1e6:.3f} MB (goal "
        f"< 2 MB): {result}; POT EMDTransport at n = {emd_n}, d = {d}: {emd_size / 1e6:.1f} MB"
    )

    # Memory of a fresh process.
    timeout = None if args.memory_full else (60 if args.quick else 600)
    _, _, _, base_kb = run_child(["base"], 120)
    out, mem_s, status, fit_kb = run_child(["fit", str(n_mem), "2"], timeout)
    finished = status == "rc=0"
    peak_mb = (fit_kb - base_kb) / 1024 if min(fit_kb, base_kb) > 0 else np.nan
    outcome = {"rc=0": "finished", "timeout": "STOPPED at the time limit"}.get(status, status)
    limit = "" if finished or timeout is None else f" (limit {timeout}s; --memory-full to finish)"
    print(
        f"  memory: fresh process fitting n = {n_mem}, d = 2 (banana, reference='normal', "
        f"default epsilon), {outcome} after {mem_s:.1f}s{limit}"
    )
    lines = [line for line in out.splitlines() if line.strip()]
    shown = [line for line in lines if line.startswith("MEM")]
    shown += [line for line in lines if not line.startswith(("MEM", "WRAPPER"))][-5:]
    for line in shown:
        print(f"    child: {first_line(line, 140)}")
    print(
        f"    peak RSS (RUSAGE_CHILDREN): import-only process {base_kb / 1024:.1f} MB, fitting "
        f"process {fit_kb / 1024:.1f} MB, difference {peak_mb:.1f} MB (the child's own lines "
        "give the fit's peak after a reset of VmHWM, free of import and compilation)"
    )
    before = re.findall(r"MEM before fit \(peak reset\): rss ([0-9.]+) MB", out)
    peaks = re.findall(r"peak ([0-9.]+) MB", out)
    own = (
        f"; the fit's own peak above its start {float(peaks[-1]) - float(before[0]):.1f} MB"
        if (before and peaks)
        else ""
    )
    what = "fit" if finished else f"fit, stopped after {mem_s:.0f}s"
    result = record(
        f"2 peak RSS, n={n_mem}, d=2 ({what})",
        f"{peak_mb:.0f} MB",
        "<= 2048 MB",
        bool(peak_mb <= 2048),
    )
    print(f"    goal <= 2 GB above the import-only process: {result}{own}")
    fit_line = re.search(r"^fit ([0-9.]+) s", out, flags=re.MULTILINE)
    SUMMARY.append(
        (
            f"2 fit time, n={n_mem}, d=2",
            f"{float(fit_line.group(1)):.0f}s" if fit_line else f"> {mem_s:.0f}s (unfinished)",
            "(no target)",
            "INFO",
        )
    )


# ----------------------------------------------------------------------------------- goal 3


def copula_log_density(qt, R, X):
    """Gaussian-copula log-density with the QuantileTransformer's piecewise-linear marginals.

    ``log p(x) = log N(z; 0, R) - sum_j log phi(z_j) + sum_j log F_j'(x_j)``, with
    ``z = qt.transform(x)``; ``F_j'`` is the slope of the fitted CDF (0 outside the range).
    """
    Z = qt.transform(X)
    out = stats.multivariate_normal(np.zeros(len(R)), R).logpdf(Z) - stats.norm.logpdf(Z).sum(1)
    refs = qt.references_
    for j in range(X.shape[1]):
        q = qt.quantiles_[:, j]
        k = np.clip(np.searchsorted(q, X[:, j], side="right") - 1, 0, len(q) - 2)
        slope = (refs[k + 1] - refs[k]) / (q[k + 1] - q[k])
        inside = (X[:, j] >= q[0]) & (X[:, j] <= q[-1])
        with np.errstate(divide="ignore"):
            out = out + np.where(inside, np.log(slope), -np.inf)
    return out


def goal3(args):
    n = 2000 if args.quick else 5000
    print(f"\n== Goal 3: density of a 2-D banana, n = {n} training points ==")
    rng = np.random.default_rng(0)
    X, X_test, X_wide = banana(rng, n), banana(rng, 5000), banana(rng, 1000, 2.5)
    sets = {"held-out": X_test, "wide z~N(0,2.5^2 I)": X_wide}
    truth = {name: float(np.mean(banana_log_density(S))) for name, S in sets.items()}
    print(
        "  exact mean log-density: "
        + ", ".join(f"{name} {value:.4f}" for name, value in truth.items())
        + f" (5000 and 1000 points); wide points outside the training box: "
        f"{np.mean(np.any((X_wide < X.min(0)) | (X_wide > X.max(0)), axis=1)):.1%}"
    )
    scores, times, notes = {}, {}, {}
    model, times["skqg MongeAmpereTransport"] = timed(
        lambda: MongeAmpereTransport(random_state=0).fit(X)
    )
    scores["skqg MongeAmpereTransport"] = model.score_samples
    notes["skqg MongeAmpereTransport"] = f"epsilon_ {model.epsilon_:.4g}, n_iter_ {model.n_iter_}"
    grid = np.logspace(-1.5, 0.0, 13)
    search, times["KernelDensity (GridSearchCV)"] = timed(
        lambda: GridSearchCV(KernelDensity(), {"bandwidth": grid}, cv=5).fit(X)
    )
    scores["KernelDensity (GridSearchCV)"] = search.best_estimator_.score_samples
    bandwidth = search.best_params_["bandwidth"]
    notes["KernelDensity (GridSearchCV)"] = f"bandwidth {bandwidth:.3f} of {grid[0]:.3f}..1"

    def bic_mixture():
        fits = [GaussianMixture(k, random_state=0).fit(X) for k in range(1, 11)]
        return min(fits, key=lambda g: g.bic(X))

    gmm, times["GaussianMixture (BIC 1..10)"] = timed(bic_mixture)
    scores["GaussianMixture (BIC 1..10)"] = gmm.score_samples
    notes["GaussianMixture (BIC 1..10)"] = f"{gmm.n_components} components"

    def copula():
        qt = QuantileTransformer(output_distribution="normal", n_quantiles=1000, random_state=0)
        qt.fit(X)
        return qt, np.corrcoef(qt.transform(X).T)

    (qt, R), times["QuantileTransformer + Gaussian copula"] = timed(copula)
    scores["QuantileTransformer + Gaussian copula"] = lambda S: copula_log_density(qt, R, S)
    notes["QuantileTransformer + Gaussian copula"] = "1000 quantiles, -inf outside the range"

    names = list(sets)
    print(
        f"  {'model':<38} "
        + " ".join(f"{name:>21} {'finite':>7}" for name in names)
        + f" {'fit':>6}  notes"
    )
    print(
        f"  {'exact log-density':<38} "
        + " ".join(f"{truth[name]:>21.4f} {'100%':>7}" for name in names)
    )
    measured = {}
    for label, score in scores.items():
        cells = []
        for name in names:
            values = score(sets[name])
            finite = np.isfinite(values)
            mean = float(np.mean(values)) if finite.all() else -np.inf
            measured[(label, name)] = (mean, float(finite.mean()))
            shown = f"{mean:.4f}" if finite.all() else f"-inf ({np.mean(values[finite]):.3f} fin.)"
            cells.append(f"{shown:>21} {finite.mean():>7.1%}")
        print(f"  {label:<38} " + " ".join(cells) + f" {times[label]:>5.1f}s  {notes[label]}")
    ours_label = "skqg MongeAmpereTransport"
    held, held_finite = measured[(ours_label, names[0])]
    wide, wide_finite = measured[(ours_label, names[1])]
    gap = abs(held - truth[names[0]])
    result = record("3 held-out log-lik. vs truth", f"{gap:.4f} nats", "<= 0.05 nats", gap <= 0.05)
    print(
        f"  ours held-out: {held:.4f} vs exact {truth[names[0]]:.4f}, |gap| {gap:.4f} nats "
        f"(goal <= 0.05): {result}; wide set gap {wide - truth[names[1]]:+.4f} nats (context)"
    )
    all_finite = held_finite == 1.0 and wide_finite == 1.0
    result = record(
        "3 finite log-densities (both sets)",
        f"{held_finite:.1%} / {wide_finite:.1%}",
        "100% / 100%",
        all_finite,
    )
    print(
        f"  ours finite: held-out {held_finite:.1%}, wide {wide_finite:.1%} (goal 100%): {result}"
    )
    # Outside the training range: where the wide set's gap comes from, point by point.
    gaps = model.score_samples(X_wide) - banana_log_density(X_wide)
    worst = int(np.argmin(gaps))
    print(
        f"  context, wide set point by point (ours - exact): median {np.median(gaps):+.3f}, 10th "
        f"pct {np.percentile(gaps, 10):+.3f}, worst {gaps[worst]:+.1f} nats at x = "
        f"({X_wide[worst, 0]:.2f}, {X_wide[worst, 1]:.2f}) (exact "
        f"{banana_log_density(X_wide[worst : worst + 1])[0]:.1f}, T(x) = "
        f"{np.array2string(model.transform(X_wide[worst : worst + 1])[0], precision=2)})"
    )
    SUMMARY.append(
        (
            "3 wide-set log-lik. vs truth (context)",
            f"{wide - truth[names[1]]:+.3f} nats",
            "-",
            "INFO",
        )
    )


# ----------------------------------------------------------------------------------- goal 4


def goal4a(args):
    n = 1000
    rng = np.random.default_rng(0)
    x, y = rng.exponential(size=n), rng.standard_normal(n)
    x_new = rng.exponential(size=5000)
    lo, hi = np.quantile(x_new, [0.01, 0.99])
    x_new = np.sort(x_new[(x_new >= lo) & (x_new <= hi)])
    p = (np.arange(n) + 0.5) / n
    sorted_y = np.sort(y)
    composed = np.interp(np.interp(x_new, np.sort(x), p), p, sorted_y)
    exact_map = stats.norm.ppf(stats.expon.cdf(x_new))
    covered = (sorted_y >= composed.min()) & (sorted_y <= composed.max())
    half_gap = 0.5 * np.max(np.diff(sorted_y[covered]))
    print(
        f"  (a) 1-D: {n} Exp(1) draws to an array of {n} N(0, 1) draws; max |T_hat - "
        "F_t^-1(F_s(x))| over the central 98% of 5000 new points (target 1e-3)"
    )
    print(
        "      the composition differs from the population map by "
        f"{np.abs(composed - exact_map).max():.3f}; an entropic map tends, as epsilon -> 0, "
        "to a piecewise-constant (semi-discrete) one, off the piecewise-linear composition by "
        f"up to half a gap of the sorted targets, here {half_gap:.3f}"
    )
    for solver in ("exact", "sinkhorn"):
        model = MongeAmpereTransport(reference=y[:, None], solver=solver)
        (model, caught), fit_s = timed(lambda m=model: caught_warnings(lambda: m.fit(x[:, None])))
        mapped = model.transform(x_new[:, None])[:, 0]
        err = np.abs(mapped - composed)
        note = warning_note(caught)
        print(
            f"      solver={solver!r:<11} epsilon_ {model.epsilon_:.4g}: max err {err.max():.2e} "
            f"(at x = {x_new[np.argmax(err)]:.3f}), median {np.median(err):.2e}; vs the "
            f"population map {np.abs(mapped - exact_map).max():.3f}; {fit_s:.1f}s"
            + (f" [{note}]" if note else "")
        )
        record(f"4a 1-D max error, {solver}", f"{err.max():.2e}", "<= 1e-3", err.max() <= 1e-3)


def radial_errors(X, T, d):
    """Angle between ``T(x)`` and ``x`` (degrees) and ``| |T(x)| - chi_d CDF(|x|) |``."""
    r, rt = np.linalg.norm(X, axis=1), np.linalg.norm(T, axis=1)
    cos = np.sum(T * X, axis=1) / (r * rt)
    angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    lo, hi = np.quantile(r, [0.01, 0.99])
    central = (r >= lo) & (r <= hi)
    return angle, np.abs(rt - stats.chi(d).cdf(r)), central


def goal4b(args):
    n = 1000 if args.quick else 2000
    print(
        f"  (b) N(0, I) data, n = {n}, reference='ball', 4000 new points: angle(T(x), x) and "
        "| |T(x)| - chi_d CDF(|x|) | (central 98% of radii). Baseline: the empirical "
        "centre-outward map of Hallin et al. (ot.emd from the n data points onto the same n "
        "ball points, in-sample: it has no out-of-sample map)"
    )
    rng = np.random.default_rng(1)
    for d in (2, 3):
        X, X_new = rng.standard_normal((n, d)), rng.standard_normal((4000, d))
        model, fit_s = timed(
            lambda X=X: MongeAmpereTransport(reference="ball", random_state=0).fit(X)
        )
        angle, dev, central = radial_errors(X_new, model.transform(X_new), d)
        print(
            f"      d = {d}, ours: angle 95th pct {np.percentile(angle, 95):.2f} deg, max "
            f"{angle.max():.2f} (central radii: 95th pct {np.percentile(angle[central], 95):.2f}"
            f", max {angle[central].max():.2f}); radius error mean {dev[central].mean():.4f}, "
            f"max {dev[central].max():.4f}; epsilon_ {model.epsilon_:.4g}, n_iter_ "
            f"{model.n_iter_}, {fit_s:.1f}s"
        )
        grid = model.reference_samples_[:n]
        weights = np.full(n, 1.0 / n)
        plan = ot.emd(weights, weights, ot.dist(X, grid), numItermax=10**7)
        angle_e, dev_e, central_e = radial_errors(X, grid[np.argmax(plan, axis=1)], d)
        print(
            f"      d = {d}, POT emd (Hallin et al.), in-sample: angle 95th pct "
            f"{np.percentile(angle_e, 95):.2f} deg, max {angle_e.max():.2f}; radius error mean "
            f"{dev_e[central_e].mean():.4f}, max {dev_e[central_e].max():.4f}"
        )
        record(
            f"4b ball d={d} angle, 95th pct / max",
            f"{np.percentile(angle, 95):.2f} / {angle.max():.2f} deg "
            f"(emd {np.percentile(angle_e, 95):.1f} / {angle_e.max():.0f})",
            "<= 2 deg",
            angle.max() <= 2.0,
        )
        record(
            f"4b ball d={d} radius error, mean / max",
            f"{dev[central].mean():.4f} / {dev[central].max():.4f} "
            f"(emd {dev_e[central_e].mean():.3f} / {dev_e[central_e].max():.3f})",
            "<= 0.02",
            dev[central].max() <= 0.02,
        )


def goal4c(args):
    n, d = (300, 2) if args.quick else (500, 2)
    rng = np.random.default_rng(2)
    X = banana(rng, n)
    Y = rng.standard_t(5, size=(n, d)) + np.array([1.0, 2.0])
    X_new = 1.5 * rng.standard_normal((1000, d))
    angle = 0.7
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    s, t = 2.5, np.array([3.0, -7.0])
    moves = {
        "translation": (1.0, np.eye(d), t),
        "scaling x2.5": (s, np.eye(d), np.zeros(d)),
        "rotation": (1.0, R, np.zeros(d)),
        "all three": (s, R, t),
    }
    print(
        f"  (c) equivariance, banana data and t_5 reference array (n = {n}): max |T'(sRx + t) - "
        "(sR T(x) + t)| on 1000 new points, both data and reference moved (target 1e-8)"
    )
    worst = {}
    for solver in ("sinkhorn", "exact"):
        base = MongeAmpereTransport(reference=Y, solver=solver).fit(X)
        T = base.transform(X_new)
        errors = []
        for scale, rot, shift in moves.values():

            def move(A, scale=scale, rot=rot, shift=shift):
                return scale * A @ rot.T + shift

            moved = MongeAmpereTransport(reference=move(Y), solver=solver).fit(move(X))
            errors.append(float(np.abs(moved.transform(move(X_new)) - move(T)).max()))
        worst[solver] = max(errors)
        print(
            f"      solver={solver!r:<11} "
            + ", ".join(f"{name} {e:.1e}" for name, e in zip(moves, errors, strict=True))
        )
    record(
        "4c equivariance (default solver)",
        f"{worst['sinkhorn']:.1e}",
        "<= 1e-8",
        worst["sinkhorn"] <= 1e-8,
    )
    record(
        "4c equivariance (solver='exact')",
        f"{worst['exact']:.1e}",
        "<= 1e-8",
        worst["exact"] <= 1e-8,
    )


def goal4d(args):
    n = 500
    rng = np.random.default_rng(3)
    X = banana(rng, n)
    Y = rng.standard_t(5, size=(n, 2)) + np.array([1.0, 2.0])
    weights = np.full(n, 1.0 / n)
    print(
        f"  (d) solver='exact' transport_cost_ vs ot.emd2 on the same points (n = {n}, "
        "means differ by (1, 2); target 1e-10)"
    )
    model = MongeAmpereTransport(reference=Y, solver="exact").fit(X)
    emd2 = float(ot.emd2(weights, weights, ot.dist(X, Y), numItermax=EMD_MAX_ITER))
    rel = abs(model.transport_cost_ - emd2) / emd2
    shift = float(np.sum((X.mean(0) - Y.mean(0)) ** 2))
    centred = float(
        ot.emd2(weights, weights, ot.dist(X - X.mean(0), Y - Y.mean(0)), numItermax=EMD_MAX_ITER)
    )
    print(
        f"      array reference: transport_cost_ {model.transport_cost_:.12g}, ot.emd2 "
        f"{emd2:.12g}, relative difference {rel:.1e}"
    )
    print(
        f"      (ot.emd2 of the centred clouds {centred:.12g}; |mean_x - mean_y|^2 = {shift:.12g};"
        f" emd2 - transport_cost_ = {emd2 - model.transport_cost_:.12g})"
    )
    named = MongeAmpereTransport(reference="normal", solver="exact", random_state=0).fit(X)
    Z = named.reference_samples_
    w_z = np.full(len(Z), 1.0 / len(Z))
    emd2_named = float(ot.emd2(weights, w_z, ot.dist(X, Z), numItermax=EMD_MAX_ITER))
    rel_named = abs(named.transport_cost_ - emd2_named) / emd2_named
    print(
        f"      reference='normal' (vs ot.emd2 to reference_samples_): transport_cost_ "
        f"{named.transport_cost_:.12g}, ot.emd2 {emd2_named:.12g}, relative difference "
        f"{rel_named:.1e}"
    )
    record("4d exact transport_cost_ vs ot.emd2", f"{rel:.1e} (rel.)", "<= 1e-10", rel <= 1e-10)
    record("4d same, reference='normal'", f"{rel_named:.1e} (rel.)", "<= 1e-10", rel_named <= 1e-10)


def goal4(args):
    print("\n== Goal 4: exactness ==")
    goal4a(args)
    goal4b(args)
    goal4c(args)
    goal4d(args)


# ----------------------------------------------------------------------------------- goal 5


def finiteness(model, X_new, named=True):
    """Non-finite counts of every output on ``X_new``, and the round trip's max error."""
    out = {}
    try:
        T = model.transform(X_new)
        out["transform"] = int((~np.isfinite(T)).sum())
    except Exception as error:
        return {"transform": f"{type(error).__name__}: {first_line(error, 80)}"}
    for name, method in (("score_samples", "score_samples"), ("log_det", "log_det_jacobian")):
        if name == "score_samples" and not named:
            continue
        try:
            out[name] = int((~np.isfinite(getattr(model, method)(X_new))).sum())
        except Exception as error:
            out[name] = f"{type(error).__name__}: {first_line(error, 80)}"
    try:
        back = model.inverse_transform(T)
        bad = int((~np.isfinite(back)).sum())
        scale = np.linalg.norm(X_new, axis=1) + np.linalg.norm(X_new.std(0))
        out["round trip"] = bad
        out["round trip err"] = float(np.max(np.linalg.norm(back - X_new, axis=1) / scale))
    except Exception as error:
        out["round trip"] = f"{type(error).__name__}: {first_line(error, 80)}"
    return out


def all_finite(report):
    return all(v == 0 for k, v in report.items() if k != "round trip err")


def show(report):
    return ", ".join(
        f"{k} {v:.1e}" if k == "round trip err" else f"{k} {v}" for k, v in report.items()
    )


def goal5(args):
    print("\n== Goal 5: robustness ==")
    n = 500 if args.quick else 1000
    rng = np.random.default_rng(4)
    X = banana(rng, n)
    X_new = np.vstack([banana(rng, 1000), banana(rng, 200, 2.5)])
    default = MongeAmpereTransport(random_state=0).fit(X)
    mean_cost = float(np.mean(ot.dist(X, default.reference_samples_)))
    print(
        f"  2-D banana, n = {n}; new points: 1000 banana + 200 wide draws; mean cost "
        f"{mean_cost:.3f}, default epsilon_ {default.epsilon_:.4g} "
        f"({default.epsilon_ / mean_cost:.4f} x mean cost); counts of non-finite values, "
        "round trip max |x' - x| / (|x| + spread)"
    )
    finite_everywhere, problems = True, []
    for factor in (1e-3, 1e-2, 1e-1, 1.0):
        eps = factor * mean_cost
        model = MongeAmpereTransport(epsilon=eps, random_state=0)
        began = time.perf_counter()
        try:
            _, caught = caught_warnings(lambda m=model: m.fit(X))
        except Exception as error:
            print(f"    eps = {factor:g} x cost: fit raised {type(error).__name__}: {error}")
            problems.append(f"fit at {factor:g} x cost")
            continue
        fit_s = time.perf_counter() - began
        warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        report = finiteness(model, X_new)
        finite_everywhere &= all_finite(report)
        others = warning_note([w for w in caught if not issubclass(w.category, ConvergenceWarning)])
        print(
            f"    eps = {factor:g} x cost = {eps:.4g}: n_iter_ {model.n_iter_}, "
            f"ConvergenceWarning {'YES' if warned else 'no'}, {fit_s:.1f}s; {show(report)}"
            + (f"; other warnings: {others}" if others else "")
        )
    result = record(
        "5 finite over eps = 1e-3..1 x mean cost",
        "all finite" if finite_everywhere and not problems else "NOT all finite",
        "no NaN/inf",
        finite_everywhere and not problems,
    )
    print(f"  no NaN/inf at any epsilon: {result}")

    base = banana(rng, n)
    unique = banana(rng, n // 5)
    degenerate = {
        "duplicates (each point 5x)": (np.repeat(unique, 5, axis=0), banana(rng, 500)),
        "constant 3rd feature": (
            np.column_stack([base, np.full(n, 5.0)]),
            np.column_stack([banana(rng, 500), np.full(500, 5.0)]),
        ),
        "feature scales 1e-3 / 1e3": (base * [1e-3, 1e3], banana(rng, 500) * [1e-3, 1e3]),
    }
    ok_all = True
    print("  degenerate data (default model, 500 new points):")
    for name, (data, new) in degenerate.items():
        try:
            (model, caught), fit_s = timed(
                lambda data=data: caught_warnings(
                    lambda: MongeAmpereTransport(random_state=0).fit(data)
                )
            )
            report = finiteness(model, new)
            ok = all_finite(report)
            note = warning_note(caught)
            print(
                f"    {name:<28} {fit_s:5.1f}s, epsilon_ {model.epsilon_:.3g}: {show(report)}"
                + (f" [warnings: {note}]" if note else "")
            )
            if name.startswith("constant"):
                off = new.copy()
                off[:, 2] += 1e-3
                print(
                    f"      score on new points {model.score(new):.1f} nats (a constant feature "
                    "has no density: the floored covariance makes it a near-delta), "
                    f"{model.score(off):.3g} with the constant moved by 1e-3"
                )
            if name.startswith("feature scales"):
                scales = np.array([1e-3, 1e3])
                exact = float(np.mean(banana_log_density(new / scales))) - np.log(scales).sum()
                unscaled = MongeAmpereTransport(random_state=0).fit(data / scales)
                print(
                    f"      score on new points {model.score(new):.4f} vs exact {exact:.4f}; the "
                    f"same data unscaled scores {unscaled.score(new / scales):.4f} (the cost "
                    "|x - y|^2 is isotropic, so the small feature is smoothed at the big one's "
                    "scale)"
                )
        except Exception as error:
            ok = False
            print(f"    {name:<28} {type(error).__name__}: {first_line(error)}")
        ok_all &= ok
    record(
        "5 degenerate data finite", "all finite" if ok_all else "NOT all finite", "finite", ok_all
    )

    print("  bad input (expect ValueError):")
    good = banana(rng, 50)
    ref3 = rng.standard_normal((50, 3))
    with_nan = good.copy()
    with_nan[3, 1] = np.nan
    with_inf = good.copy()
    with_inf[7, 0] = np.inf
    ref_nan = good.copy()
    ref_nan[2, 0] = np.nan
    fitted = MongeAmpereTransport(random_state=0).fit(good)
    fitted_ball = MongeAmpereTransport(reference="ball", random_state=0).fit(good)
    fitted_array = MongeAmpereTransport(reference=good[::-1] + 1.0).fit(good)
    cases = {
        "fit: NaN in X": lambda: MongeAmpereTransport().fit(with_nan),
        "fit: inf in X": lambda: MongeAmpereTransport().fit(with_inf),
        "fit: NaN in the reference array": lambda: MongeAmpereTransport(reference=ref_nan).fit(
            good
        ),
        "fit: 2-D X, 3-D reference array": lambda: MongeAmpereTransport(reference=ref3).fit(good),
        "fit: one sample": lambda: MongeAmpereTransport().fit(good[:1]),
        "fit: one-sample reference array": lambda: MongeAmpereTransport(reference=good[:1]).fit(
            good
        ),
        "transform: NaN": lambda: fitted.transform(with_nan),
        "transform: 3 features after fitting 2": lambda: fitted.transform(ref3),
        "inverse_transform: outside the ball": lambda: fitted_ball.inverse_transform(
            np.array([[2.0, 0.0]])
        ),
        "score_samples with an array reference": lambda: fitted_array.score_samples(good),
    }
    n_clear = 0
    for name, call in cases.items():
        try:
            call()
            message, ok = "no error", False
        except Exception as error:
            message = f"{type(error).__name__}: {first_line(error, 200)}"
            ok = isinstance(error, ValueError)
        n_clear += ok
        print(f"    {name}\n      {message}")
    record("5 bad input -> ValueError", f"{n_clear}/{len(cases)}", "all", n_clear == len(cases))


def goal6(args):
    from _density_panel import DATASETS, SEEDS, bic_mixture, kernel_density, measure, split

    from skqg import TransportPlanDensity

    seeds = SEEDS[:1] if args.quick else SEEDS
    print(
        f"\n== Goal 6: the density panel, held-out log-likelihood (nats/sample), mean of "
        f"{len(seeds)} seed(s) =="
    )
    print(
        "  protocol: train_test_split(test_size=1/3, random_state=seed), StandardScaler on the "
        "training part; times are fit (with the method's own parameter search) + scoring"
    )
    methods = {
        "TransportPlanDensity()": lambda X: TransportPlanDensity(random_state=0).fit(X),
        "MongeAmpereTransport()": lambda X: MongeAmpereTransport(random_state=0).fit(X),
        "KernelDensity (CV)": kernel_density,
        "GaussianMixture (BIC)": bic_mixture,
    }
    print(
        f"  {'data set':<28}" + "".join(f"{name:>24}" for name in methods) + "   ours - best peer"
    )
    wins, gaps, slow, finite_all = 0, [], [], True
    for name in DATASETS:
        cells = {label: [] for label in methods}
        for seed in seeds:
            X_train, X_test = split(name, seed)
            for label, fit in methods.items():
                cells[label].append(measure(fit, X_train, X_test))
        means = {label: np.mean([c[0] for c in cell]) for label, cell in cells.items()}
        times = {label: np.mean([c[1] for c in cell]) for label, cell in cells.items()}
        finite_all &= all(c[2] == 1.0 for c in cells["TransportPlanDensity()"])
        peers = [means["KernelDensity (CV)"], means["GaussianMixture (BIC)"]]
        best = max(p for p in peers if np.isfinite(p))
        gap = means["TransportPlanDensity()"] - best
        wins += gap >= 0.0
        gaps.append(gap)
        if times["TransportPlanDensity()"] > times["KernelDensity (CV)"]:
            slow.append(name)
        print(
            f"  {name:<28}"
            + "".join(f"{means[label]:>15.3f} ({times[label]:>5.1f}s)" for label in methods)
            + f"   {gap:+.3f}"
        )
    worst = min(gaps)
    n_sets = len(DATASETS)
    ok = wins >= n_sets - 1 and worst >= -0.05
    result = record(
        "6 density panel: wins vs best peer",
        f"{wins}/{n_sets}, worst {worst:+.3f}",
        f">= {n_sets - 1}/{n_sets}, worst >= -0.05",
        ok,
    )
    print(
        f"  TransportPlanDensity >= the better peer on {wins} of {n_sets}, worst gap {worst:+.3f}"
        f" nats (goal >= {n_sets - 1} and >= -0.05): {result}"
    )
    result = record(
        "6 density panel: time <= KDE search",
        f"{n_sets - len(slow)}/{n_sets} sets",
        f"{n_sets}/{n_sets} sets",
        not slow,
    )
    print(
        f"  fit + score within the KernelDensity search's time: {result}"
        + (f" (slower on {', '.join(slow)})" if slow else "")
    )
    result = record("6 density panel: finite densities", str(finite_all), "True", finite_all)
    print(f"  every held-out density finite: {result}")
    sample_tails(args)


def sample_tails(args):
    """Draws against the exact banana law: how often they land in its 0.1 % density tail."""
    from skqg import TransportPlanDensity

    rng = np.random.default_rng(1)
    X = banana(rng, 3000)
    level = np.quantile(banana_log_density(banana(rng, 1_000_000)), 0.001)
    n_draws = 20_000 if args.quick else 200_000
    models = {
        "TransportPlanDensity()": TransportPlanDensity(random_state=0).fit(X),
        "MongeAmpereTransport()": MongeAmpereTransport(random_state=0).fit(X),
    }
    print(
        f"  tails: banana, n = 3000; {n_draws} draws from each fitted model; the fraction below "
        f"the exact law's 0.1 % density quantile ({level:.2f} nats) should be about 0.1 %"
    )
    for label, model in models.items():
        draws = model.sample(n_draws, random_state=2)
        below = float(np.mean(banana_log_density(draws) < level))
        # Draws and density agree: the model's own 0.1 % quantile holds 0.1 % of its draws.
        own = model.score_samples(draws)
        own_level = np.quantile(model.score_samples(model.sample(n_draws, random_state=3)), 0.001)
        print(
            f"    {label:<24} below the exact quantile {below:.3%}; below the model's own "
            f"0.1 % quantile (independent draws) {np.mean(own < own_level):.3%}"
        )
        if label.startswith("TransportPlanDensity"):
            result = record(
                "6 draws in the exact 0.1 % tail", f"{below:.3%}", "<= 0.2 %", below <= 0.002
            )
            print(f"    goal about 0.1 % (<= 0.2 %): {result}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, fewer seeds")
    parser.add_argument(
        "--goal",
        choices=["1", "2", "3", "4", "5", "6", "all"],
        default="all",
        help="which goal to run",
    )
    parser.add_argument(
        "--pot-full",
        action="store_true",
        help="let POT's Sinkhorn (goal 2) run to convergence instead of extrapolating",
    )
    parser.add_argument(
        "--memory-full",
        action="store_true",
        help="let the n = 100000 fit (goal 2) finish instead of stopping it at a time limit",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    header(args)
    warm_up()
    goals = {"1": goal1, "2": goal2, "3": goal3, "4": goal4, "5": goal5, "6": goal6}
    for key, goal in goals.items():
        if args.goal in (key, "all"):
            start = time.perf_counter()
            goal(args)
            print(f"  (goal {key}: {time.perf_counter() - start:.1f}s; {load()})")
    print_summary(14)
    print(f"\ntotal wall time: {time.perf_counter() - began:.1f}s")


if __name__ == "__main__":
    main()
