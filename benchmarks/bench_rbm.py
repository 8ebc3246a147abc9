"""RBMCoarseGrainer against scikit-learn's BernoulliRBM, side by side in one process.

Goal 1, likelihood: binarised digits (pixel / 16 > 0.5, ``train_test_split(test_size=0.3,
random_state=0)``), 16 hidden units, exact held-out log-likelihood (hidden states enumerated)
of BernoulliRBM (learning_rate=0.05, batch_size=20) after 20 and 100 epochs against skqg's
defaults after 20 epochs, and ``method="exact"``.

Goal 2, throughput: 1024 visible x 256 hidden, batch 100, the same epochs, float64 and float32;
training samples per second of each, measured alternately, and their ratio (context for C2).

Goal 3, partition function: AIS against exact enumeration at 16 hidden units on the trained
digits model, over several seeds, with the reported standard errors.

Goals A (scikit-learn's RBM pipeline example), B (stable training on a panel) and C (time to
likelihood, cost per update against its matrix products, threads) are issue 16's; they live in
``_rbm_goals.py``.

Run ``python benchmarks/bench_rbm.py`` (``--quick`` for a smoke run, ``--goal B`` for one goal).
"""

import argparse
import platform
import time

import numpy as np
from _rbm_goals import goal_pipeline, goal_stability, goal_time_to_likelihood, goal_update_cost
from _report import SUMMARY, print_summary, record
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM

from skqg import RBMCoarseGrainer
from skqg._kernels.gibbs_sampling import KIND_BERNOULLI
from skqg.rbm._layers import free_energy
from skqg.rbm._partition import exact_log_partition


def digits():
    X, _ = load_digits(return_X_y=True)
    X = (X / 16 > 0.5).astype(np.float64)
    return train_test_split(X, test_size=0.3, random_state=0)


def exact_log_likelihood(W, a, b, X):
    """Mean log p(v) of the rows of X under the RBM (W, a, b), with log Z by enumeration."""
    minus_free_energy = -free_energy(X, W, a, b, KIND_BERNOULLI)
    return float(np.mean(minus_free_energy) - exact_log_partition(W, a, b, KIND_BERNOULLI))


def sklearn_log_likelihood(rbm, X):
    return exact_log_likelihood(rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_, X)


def goal_likelihood(quick, seeds):
    X_train, X_test = digits()
    print("Goal 1: exact held-out log-likelihood on binarised digits, 16 hidden units (nats)")
    print(f"{'model':<52} {'held-out':>9} {'train':>8} {'time':>7}")
    epochs = (5, 20) if quick else (20, 100)
    for n_iter in epochs:
        began = time.perf_counter()
        rbm = BernoulliRBM(16, learning_rate=0.05, batch_size=20, n_iter=n_iter, random_state=0)
        rbm.fit(X_train)
        elapsed = time.perf_counter() - began
        print(
            f"{f'BernoulliRBM lr=0.05 batch=20, {n_iter} epochs':<52} "
            f"{sklearn_log_likelihood(rbm, X_test):>9.3f} "
            f"{sklearn_log_likelihood(rbm, X_train):>8.3f} {elapsed:>6.1f}s"
        )
    ours = []
    for seed in seeds:
        began = time.perf_counter()
        est = RBMCoarseGrainer(16, n_iter=5 if quick else 20, random_state=seed).fit(X_train)
        elapsed = time.perf_counter() - began
        ours.append(est.score(X_test))
        label = f"skqg defaults, {est.n_iter_} epochs, random_state={seed}"
        print(f"{label:<52} {ours[-1]:>9.3f} {est.score(X_train):>8.3f} {elapsed:>6.1f}s")
    n_exact = 20 if quick else 400
    began = time.perf_counter()
    exact = RBMCoarseGrainer(
        16,
        method="exact",
        batch_size=len(X_train),
        learning_rate=0.1,
        n_iter=n_exact,
        random_state=0,
    ).fit(X_train)
    elapsed = time.perf_counter() - began
    label = f"skqg method='exact', full batch, lr=0.1, {n_exact} epochs"
    print(f"{label:<52} {exact.score(X_test):>9.3f} {exact.score(X_train):>8.3f} {elapsed:>6.1f}s")
    worst = min(ours)
    record("1 held-out log-lik., defaults (worst)", f"{worst:.3f}", ">= -19.30", worst >= -19.30)
    held_out = exact.score(X_test)
    record("1 held-out log-lik., method='exact'", f"{held_out:.3f}", ">= -18.9", held_out >= -18.9)
    print(
        f"  defaults: worst held-out {worst:.3f} over {len(seeds)} seeds "
        f"(goal >= -19.30): {'PASS' if worst >= -19.30 else 'MISS'}"
    )
    print(
        f"  exact: held-out {exact.score(X_test):.3f} (goal >= -18.9): "
        f"{'PASS' if exact.score(X_test) >= -18.9 else 'MISS'}"
    )
    return exact


def _samples_per_second(estimator, X, repeats):
    rates = []
    for _ in range(repeats):
        began = time.perf_counter()
        estimator.fit(X)
        rates.append(estimator.n_iter * len(X) / (time.perf_counter() - began))
    return float(np.median(rates))


def goal_throughput(quick):
    n_samples = 1000 if quick else 3000
    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(n_samples, 1024)) < 0.3).astype(np.float64)
    print("\nGoal 2: training throughput, 1024 visible x 256 hidden, batch 100 (samples/s)")
    print("  skqg's default method='pt' samples 4 replicas per update; 'pcd' one, as BernoulliRBM")
    print(f"{'dtype':<8} {'method':<7} {'BernoulliRBM':>12} {'skqg':>10} {'ratio':>7}")
    repeats = 1 if quick else 3
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        for method in ("pt", "pcd"):
            theirs = BernoulliRBM(256, learning_rate=0.05, batch_size=100, n_iter=2, random_state=0)
            ours = RBMCoarseGrainer(256, method=method, batch_size=100, n_iter=2, random_state=0)
            ours.fit(Xd[:200])  # compile the kernels for this dtype outside the timing
            rates = {"theirs": [], "ours": []}
            for _ in range(repeats):  # alternate, so both see the same machine load
                rates["theirs"].append(_samples_per_second(theirs, Xd, 1))
                rates["ours"].append(_samples_per_second(ours, Xd, 1))
            theirs_rate, ours_rate = np.median(rates["theirs"]), np.median(rates["ours"])
            ratio = ours_rate / theirs_rate
            name = np.dtype(dtype).name
            print(f"{name:<8} {method:<7} {theirs_rate:>12.0f} {ours_rate:>10.0f} {ratio:>6.2f}x")
            SUMMARY.append(
                (f"2 throughput vs BernoulliRBM, {method} {name}", f"{ratio:.2f}x", "-", "INFO")
            )


def goal_partition(model, quick, n_seeds):
    exact = model.log_partition("exact").log_z
    print("\nGoal 3: AIS against exact log Z, 16 hidden units (digits model)")
    print(f"exact log Z = {exact:.4f}")
    n_betas = 2000 if quick else 10000
    errors, std_errs = [], []
    for seed in range(n_seeds):
        began = time.perf_counter()
        log_z, std_err, _ = model.log_partition(
            "ais", n_runs=100, n_betas=n_betas, random_state=seed
        )
        errors.append(log_z - exact)
        std_errs.append(std_err)
        print(
            f"  seed {seed}: AIS {log_z:.4f} +- {std_err:.4f}, error {log_z - exact:+.4f} "
            f"({time.perf_counter() - began:.1f}s)"
        )
    errors, std_errs = np.array(errors), np.array(std_errs)
    covered = np.mean(np.abs(errors) <= 2 * std_errs)
    worst = np.abs(errors).max()
    record("3 AIS max |log Z error|", f"{worst:.4f}", "< 0.1", worst < 0.1)
    print(
        f"  max |error| {np.abs(errors).max():.4f} (goal < 0.1): "
        f"{'PASS' if np.abs(errors).max() < 0.1 else 'MISS'}; "
        f"spread of estimates {errors.std(ddof=1):.4f} vs mean reported SE {std_errs.mean():.4f}; "
        f"|error| <= 2 SE in {covered:.0%} of runs"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--goal",
        choices=["1", "2", "3", "A", "B", "C", "all"],
        default="all",
        help="which goal to run",
    )
    args = parser.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d')} {platform.node()} {platform.processor() or ''}")
    seeds = [0] if args.quick else [0, 1, 2]
    model = None
    if args.goal in ("1", "3", "all"):
        model = goal_likelihood(args.quick, seeds)
    if args.goal in ("2", "all"):
        goal_throughput(args.quick)
    if args.goal in ("3", "all"):
        goal_partition(model, args.quick, 2 if args.quick else 10)
    if args.goal in ("A", "all"):
        goal_pipeline(seeds)
    if args.goal in ("B", "all"):
        goal_stability(seeds, args.quick)
    if args.goal in ("C", "all"):
        goal_time_to_likelihood(digits(), sklearn_log_likelihood, seeds, args.quick)
        goal_update_cost(args.quick)
    print_summary(10)


if __name__ == "__main__":
    main()
