"""Issue 16's goals for ``bench_rbm.py``: the sklearn pipeline, stable training, and speed.

A. scikit-learn's ``plot_rbm_logistic_classification`` pipeline, macro-F1 of
   ``RBMCoarseGrainer(n_components=100, n_iter=10)`` against ``BernoulliRBM`` at the example's
   settings, over seeds of the RBMs.
B. The stability panel (``_rbm_panel.STABILITY_PANEL``): exact held-out log-likelihood of the
   defaults after 20 and 100 epochs, the spread over seeds, and the gap to ``method="exact"``
   run to convergence.
C. Time to BernoulliRBM's 100-epoch likelihood on digits, the per-update cost at 1024 x 256
   against the five matrix products of one update timed with NumPy, and 1 against 2 threads.
"""

import time
import warnings

import numpy as np
from _rbm_panel import STABILITY_PANEL, nudged_digits, split
from _report import SUMMARY, record
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline

from skqg import RBMCoarseGrainer


# --------------------------------------------------------------------------- A: the pipeline
def pipeline_f1(rbm, data):
    """Macro-F1 of ``Pipeline(rbm, LogisticRegression)`` as in scikit-learn's example."""
    X_train, X_test, y_train, y_test = data
    # The example's tol=1 stops newton-cg after 0 iterations in scikit-learn 1.9.
    logistic = LogisticRegression(solver="newton-cg", C=6000, tol=1e-4, max_iter=1000)
    pipeline = Pipeline([("rbm", rbm), ("logistic", logistic)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the logistic step
        pipeline.fit(X_train, y_train)
    return f1_score(y_test, pipeline.predict(X_test), average="macro")


def goal_pipeline(seeds):
    X, y = nudged_digits()
    data = train_test_split(X, y, test_size=0.2, random_state=0)
    print("\nGoal A: scikit-learn's RBM + logistic regression example (nudged digits), macro-F1")
    print("  BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10) as in the example;")
    print("  RBMCoarseGrainer(n_components=100, n_iter=10), everything else at its defaults")
    print(f"  {'seed':>4} {'BernoulliRBM':>13} {'skqg':>8}")
    theirs, ours = [], []
    for seed in seeds:
        theirs.append(
            pipeline_f1(
                BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=seed),
                data,
            )
        )
        ours.append(pipeline_f1(RBMCoarseGrainer(100, n_iter=10, random_state=seed), data))
        print(f"  {seed:>4} {theirs[-1]:>13.4f} {ours[-1]:>8.4f}")
    mean_theirs, mean_ours = np.mean(theirs), np.mean(ours)
    print(
        f"  mean {mean_theirs:>13.4f} {mean_ours:>8.4f}   difference {mean_ours - mean_theirs:+.4f}"
    )
    record(
        "A pipeline macro-F1, skqg - BernoulliRBM",
        f"{mean_ours:.4f} - {mean_theirs:.4f}",
        ">= 0",
        mean_ours >= mean_theirs,
    )


# --------------------------------------------------------------------------- B: stability
def exact_reference(X_train, X_test, visible, n_hidden, seed, n_iter):
    """Best held-out log-likelihood of full-batch exact-gradient training at two step sizes."""
    best = -np.inf
    for learning_rate, epochs in ((0.1, n_iter), (0.03, 3 * n_iter)):
        model = RBMCoarseGrainer(
            n_hidden,
            visible=visible,
            method="exact",
            batch_size=len(X_train),
            learning_rate=learning_rate,
            n_iter=epochs,
            random_state=seed,
        ).fit(X_train)
        best = max(best, model.score(X_test))
    return best


def goal_stability(seeds, quick):
    epochs = (5, 20) if quick else (20, 100)
    n_exact = 50 if quick else 300
    print(
        f"\nGoal B: stable training, exact held-out log-likelihood (nats), mean +- std over seeds "
        f"{list(seeds)}; 2:1 split per seed; defaults at {epochs[0]} and {epochs[1]} epochs; "
        f"'exact' = method='exact', full batch, best of lr 0.1 x {n_exact} and 0.03 x "
        f"{3 * n_exact} epochs"
    )
    print(
        f"  {'data set':<34} {f'{epochs[0]} epochs':>16} {f'{epochs[1]} epochs':>16} "
        f"{'exact':>8} {'gain':>7} {'gap':>6} {'fit s':>6}"
    )
    rows = []
    for name, (build, visible, n_hidden) in STABILITY_PANEL.items():
        X = build()
        if quick:
            X = X[:600]
        scores = {n: [] for n in epochs}
        exact, elapsed = [], 0.0
        for seed in seeds:
            X_train, X_test = split(X, seed)
            for n_iter in epochs:
                began = time.perf_counter()
                model = RBMCoarseGrainer(
                    n_hidden, visible=visible, n_iter=n_iter, random_state=seed
                ).fit(X_train)
                elapsed += time.perf_counter() - began if n_iter == epochs[1] else 0.0
                scores[n_iter].append(model.score(X_test))
            exact.append(exact_reference(X_train, X_test, visible, n_hidden, seed, n_exact))
        short, long = (np.array(scores[n]) for n in epochs)
        gain = long.mean() - short.mean()
        gap = np.mean(exact) - long.mean()
        spread = max(short.std(), long.std())
        rows.append((gain, spread, gap))
        print(
            f"  {name:<34} {short.mean():>8.3f} +-{short.std():.3f} {long.mean():>8.3f} "
            f"+-{long.std():.3f} {np.mean(exact):>8.3f} {gain:>+7.3f} {gap:>6.3f} "
            f"{elapsed / len(seeds):>6.2f}"
        )
    gains, spreads, gaps = (np.array(column) for column in zip(*rows, strict=True))
    print(
        "  gain = longer - shorter run (goal >= -0.02); std over seeds (goal <= 0.3, the larger "
        "of the two runs); gap = exact - longer run (goal <= 0.3)"
    )
    record(
        "B more epochs never worse (worst gain)",
        f"{gains.min():+.3f}",
        ">= -0.02",
        gains.min() >= -0.02,
    )
    record("B std over seeds (worst)", f"{spreads.max():.3f}", "<= 0.3", spreads.max() <= 0.3)
    record("B gap to exact training (worst)", f"{gaps.max():.3f}", "<= 0.3", gaps.max() <= 0.3)


# --------------------------------------------------------------------------- C: speed
PCD_LABEL = "method='pcd'"
# One chain per batch row at each temperature (the defaults keep max(batch_size, 50)).
FEW_CHAINS_LABEL = "n_chains=10"
EPOCH_GRID = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100)


def _timed_fit(make, X, repeats):
    times = []
    for _ in range(repeats):
        model = make()
        began = time.perf_counter()
        model.fit(X)
        times.append(time.perf_counter() - began)
    return model, float(np.median(times))


def goal_time_to_likelihood(digits, log_likelihood, seeds, quick):
    X_train, X_test = digits
    print(
        "\nGoal C1: time for the defaults to reach BernoulliRBM's 100-epoch held-out "
        "log-likelihood (binarised digits, 16 hidden units)"
    )
    repeats = 1 if quick else 3
    theirs, their_time = _timed_fit(
        lambda: BernoulliRBM(16, learning_rate=0.05, batch_size=20, n_iter=100, random_state=0),
        X_train,
        repeats,
    )
    target = log_likelihood(theirs, X_test)
    print(f"  BernoulliRBM lr=0.05 batch=20, 100 epochs: {target:.3f} nats in {their_time:.3f} s")
    worst = {}
    variants = (
        ("defaults", {}),
        (PCD_LABEL, {"method": "pcd"}),
        (FEW_CHAINS_LABEL, {"n_chains": 10}),
    )
    for label, params in variants:
        RBMCoarseGrainer(16, n_iter=1, random_state=0, **params).fit(X_train)  # compile
        worst[label] = _time_to_reach(
            X_train, X_test, target, their_time, params, seeds, repeats, label
        )
    ratio = worst["defaults"]
    record(
        "C1 time to BernoulliRBM's likelihood (worst seed)",
        f"{ratio:.3f}x",
        "<= 0.2x",
        ratio <= 0.2,
    )
    SUMMARY.append(("C1 the same, method='pcd'", f"{worst[PCD_LABEL]:.3f}x", "-", "INFO"))
    SUMMARY.append(("C1 the same, n_chains=10", f"{worst[FEW_CHAINS_LABEL]:.3f}x", "-", "INFO"))


def _time_to_reach(X_train, X_test, target, their_time, params, seeds, repeats, label):
    """The worst ratio over seeds of the first fit (over EPOCH_GRID) that reaches ``target``."""
    worst = 0.0
    for seed in seeds:
        for n_iter in EPOCH_GRID:
            model, elapsed = _timed_fit(
                lambda n_iter=n_iter, seed=seed: RBMCoarseGrainer(
                    16, n_iter=n_iter, random_state=seed, **params
                ),
                X_train,
                repeats,
            )
            score = model.score(X_test)
            if score >= target:
                break
        reached = score >= target
        print(
            f"  skqg {label}, random_state={seed}: {score:.3f} after {n_iter} epochs in "
            f"{elapsed:.3f} s ({elapsed / their_time:.3f} of BernoulliRBM's time)"
            + ("" if reached else " - never reached")
        )
        worst = max(worst, elapsed / their_time if reached else np.inf)
    return worst


def _gemm_ceiling(n_batch, n_chains, n_products_chain, W, X, repeats=8):
    """Seconds for one update's matrix products in NumPy: the data term, ``n_products_chain``
    chain products, and the stacked weight gradient."""
    rng = np.random.RandomState(0)
    V = X[:n_batch]
    H_chain = (rng.uniform(size=(n_chains, W.shape[0])) < 0.5).astype(W.dtype)
    V_chain = X[n_batch : n_batch + n_chains]
    H_stack = np.concatenate([V @ W.T, H_chain])
    V_stack = np.concatenate([V, V_chain])

    def products():
        V @ W.T
        for _ in range(n_products_chain // 2):
            H_chain @ W
            V_chain @ W.T
        H_stack.T @ V_stack

    # The least over blocks: the products' own cost, not the machine's other load.
    best = np.inf
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(5):
            products()
        best = min(best, (time.perf_counter() - began) / 5)
    return best


def goal_update_cost(quick):
    n_rows = 1000 if quick else 3000
    rng = np.random.RandomState(0)
    X = (rng.uniform(size=(n_rows, 1024)) < 0.3).astype(np.float64)
    print(
        "\nGoal C2: cost of one update at 1024 visible x 256 hidden, batch 100, against its matrix "
        "products timed with NumPy in this run (BLAS threads as configured)"
    )
    defaults = RBMCoarseGrainer(256, batch_size=100)
    n_replicas = defaults.n_temperatures if defaults.method == "pt" else 1
    header = ("method", "dtype", "threads", "update ms", "products ms", "fraction")
    print("  {:<8} {:<8} {:>7} {:>10} {:>12} {:>9}".format(*header))
    for method in dict.fromkeys((defaults.method, "pcd")):
        replicas = n_replicas if method == defaults.method else 1
        for dtype in (np.float64, np.float32):
            Xd = X.astype(dtype)
            W = (0.01 * rng.normal(size=(256, 1024))).astype(dtype)
            components = []
            for n_jobs in (1, 2):
                model = RBMCoarseGrainer(
                    256, method=method, batch_size=100, n_iter=2, random_state=0, n_jobs=n_jobs
                )
                model.fit(Xd[:200])
                # Products timed before and after the fits, the least of each kept: both sides
                # as free of the machine's other load as the run allows.
                ceiling = _gemm_ceiling(100, 100, 2 * replicas, W, Xd)
                elapsed = min(_timed_fit(lambda model=model: model, Xd, 1)[1] for _ in range(3))
                ceiling = min(ceiling, _gemm_ceiling(100, 100, 2 * replicas, W, Xd))
                per_update = elapsed / (2 * (n_rows // 100))
                components.append(model.components_.copy())
                fraction = ceiling / per_update
                row = (method, np.dtype(dtype).name, n_jobs, 1e3 * per_update, 1e3 * ceiling)
                print("  {:<8} {:<8} {:>7} {:>10.2f} {:>12.2f}".format(*row), f"{fraction:>9.2f}")
                if n_jobs == 2:
                    name = np.dtype(dtype).name
                    record(
                        f"C2 update / its products, {method} {name}",
                        f"{fraction:.2f}",
                        ">= 0.6",
                        fraction >= 0.6,
                    )
            same = np.array_equal(components[0], components[1])
            print(f"    same weights with 1 and 2 threads: {same}")
            record(
                f"C3 thread-count independence, {method} {np.dtype(dtype).name}",
                str(same),
                "True",
                same,
            )
