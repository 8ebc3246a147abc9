"""Issue 17's covariance panel: populations, losses and the win-rate tables.

Seven population covariances (identity; one spike of 10 along one direction; 10 % of the
directions spiked to 10; eigenvalues linear from 1 to 10; a power law ``1 / i``; AR(1) Toeplitz
with rho = 0.7; the ``C^T C`` of a standard normal ``C``, the Wishart-distributed covariance of
scikit-learn's "Shrinkage covariance estimation" example), at ``n / p`` in {0.5, 1, 2, 5}:
28 cells per dimension, each replicated with fresh training and test data (Gaussian, mean
zero, estimated by every estimator). Four losses per fit:

* Frobenius: ``||S - Sigma||_F / ||Sigma||_F``;
* NLL: mean negative Gaussian log-likelihood of ``10 p`` fresh test rows;
* Stein: ``tr(S^-1 Sigma) - log det(S^-1 Sigma) - p``;
* minimum variance: ``tr(S^-1 Sigma S^-1) / p / (tr(S^-1) / p)^2 - 1 / (tr(Sigma^-1) / p)``
  (Ledoit & Wolf's out-of-sample variance of the estimated minimum-variance portfolio above the
  best one, scaled).
"""

import numpy as np
from scipy.linalg import toeplitz

RATIOS = (0.5, 1, 2, 5)
LOSSES = ("Frobenius", "NLL", "Stein", "min-variance")


def populations(p, seed=0):
    """The seven population covariances of dimension ``p``, by name."""
    spiked = np.ones(p)
    spiked[: max(1, p // 10)] = 10.0
    one_spike = np.ones(p)
    one_spike[0] = 10.0
    coloring = np.random.RandomState(seed).normal(size=(p, p))
    return {
        "identity": np.eye(p),
        "one spike": np.diag(one_spike),
        "10% spikes": np.diag(spiked),
        "linear 1..10": np.diag(np.linspace(1.0, 10.0, p)),
        "power law 1/i": np.diag(1.0 / np.arange(1.0, p + 1.0)),
        "AR(1) 0.7": toeplitz(0.7 ** np.arange(p)),
        "Wishart C^T C": coloring.T @ coloring,
    }


def losses(estimate, sigma, sigma_inverse, log_det_sigma, X_test):
    """The four losses of a covariance ``estimate``, in ``LOSSES`` order."""
    p = len(sigma)
    factor = np.linalg.cholesky(estimate)
    log_det = 2.0 * np.log(np.diag(factor)).sum()
    precision = np.linalg.inv(estimate)
    frobenius = np.linalg.norm(estimate - sigma) / np.linalg.norm(sigma)
    solved = np.linalg.solve(factor, X_test.T)
    nll = 0.5 * (p * np.log(2.0 * np.pi) + log_det + (solved**2).sum(axis=0).mean())
    product = precision @ sigma
    stein = np.trace(product) - (log_det_sigma - log_det) - p
    min_variance = np.trace(product @ precision) / p / (np.trace(precision) / p) ** 2 - 1.0 / (
        np.trace(sigma_inverse) / p
    )
    return frobenius, nll, stein, min_variance


def run_panel(estimators, p, n_reps, seed=0, progress=None, ratios=RATIOS):
    """Losses of every estimator in every cell.

    Parameters
    ----------
    estimators : dict
        Name to a function ``X -> covariance``.
    p : int
    n_reps : int
    seed : int
    progress : callable, optional
        Called with a line of text after each cell.
    ratios : tuple of float
        The ``n / p`` of the cells.

    Returns
    -------
    dict
        ``(population, ratio) -> array (n_estimators, n_reps, n_losses)``.
    """
    results = {}
    for population, sigma in populations(p, seed).items():
        root = np.linalg.cholesky(sigma)
        sigma_inverse = np.linalg.inv(sigma)
        log_det_sigma = 2.0 * np.log(np.diag(root)).sum()
        for ratio in ratios:
            n = round(ratio * p)
            cell = np.empty((len(estimators), n_reps, len(LOSSES)))
            for rep in range(n_reps):
                rng = np.random.RandomState([seed, p, n, rep])
                X = rng.normal(size=(n, p)) @ root.T
                X_test = rng.normal(size=(10 * p, p)) @ root.T
                for k, estimate in enumerate(estimators.values()):
                    cell[k, rep] = losses(estimate(X), sigma, sigma_inverse, log_det_sigma, X_test)
            results[(population, ratio)] = cell
            if progress is not None:
                progress(f"  p={p} {population:<14} n/p={ratio:<4} done")
    return results


def win_table(results, names, candidate, peers):
    """Fraction of cells where ``candidate``'s mean loss is below each peer's, per loss.

    Returns ``{loss: {peer: fraction}}``.
    """
    index = {name: k for k, name in enumerate(names)}
    table = {}
    for j, loss in enumerate(LOSSES):
        table[loss] = {}
        for peer in peers:
            wins = [
                cell[index[candidate], :, j].mean() < cell[index[peer], :, j].mean()
                for cell in results.values()
            ]
            table[loss][peer] = float(np.mean(wins))
    return table


def worst_excess_over(results, names, candidate, reference):
    """The largest ``(mean paired excess loss) / (its standard error)`` of ``candidate`` over
    ``reference`` across cells and losses, with where it happens."""
    index = {name: k for k, name in enumerate(names)}
    worst = (-np.inf, None)
    for key, cell in results.items():
        for j, loss in enumerate(LOSSES):
            excess = cell[index[candidate], :, j] - cell[index[reference], :, j]
            error = excess.std(ddof=1) / np.sqrt(len(excess))
            score = excess.mean() / error if error > 0 else 0.0
            if score > worst[0]:
                worst = (score, (*key, loss))
    return worst


# --------------------------------------------------------------------------- the goals
PEERS = ("LedoitWolf", "OAS", "LW 2020", "QIS")
DEFAULT = "skqg default"
# Issue 17's goals: the least fraction of cells won against each peer, per loss.
WIN_GOALS = {"Frobenius": 0.60, "NLL": 0.75, "Stein": 0.75, "min-variance": 0.60}


def panel_estimators():
    """The default and its four peers, each ``X -> covariance``. LW 2020 and QIS are skqg's
    ``shrinkage="nonlinear"`` and ``"qis"``, tested against the authors' code
    (``tests/test_nonlinear_shrinkage.py``)."""
    from sklearn.covariance import OAS, LedoitWolf

    from skqg import WishartCovarianceModel

    def skqg(**params):
        return lambda X: WishartCovarianceModel(**params).fit(X).covariance_

    return {
        DEFAULT: skqg(),
        "LedoitWolf": lambda X: LedoitWolf().fit(X).covariance_,
        "OAS": lambda X: OAS().fit(X).covariance_,
        "LW 2020": skqg(shrinkage="nonlinear"),
        "QIS": skqg(shrinkage="qis"),
    }


def goal_panel(quick, record):
    """Run the panel at p = 50 and 200 and print the win tables; ``record`` takes the goals."""
    import time

    estimators = panel_estimators()
    names = list(estimators)
    n_reps = 3 if quick else 20
    for p in (20, 40) if quick else (50, 200):
        began = time.perf_counter()
        results = run_panel(estimators, p, n_reps)
        print(
            f"\nPanel p = {p}: 7 populations x n/p in {list(RATIOS)}, {n_reps} replications, "
            f"{time.perf_counter() - began:.0f}s. Fraction of the 28 cells where the default's "
            "mean loss is lower:"
        )
        table = win_table(results, names, DEFAULT, PEERS)
        print(f"  {'loss':<14}" + "".join(f"{peer:>12}" for peer in PEERS) + "   goal")
        for loss in LOSSES:
            row = table[loss]
            print(
                f"  {loss:<14}" + "".join(f"{row[peer]:>12.2f}" for peer in PEERS),
                f"  >= {WIN_GOALS[loss]:.2f}",
            )
            worst = min(row.values())
            record(
                f"panel p={p} {loss}: least win fraction",
                f"{worst:.2f}",
                f">= {WIN_GOALS[loss]:.2f}",
                worst >= WIN_GOALS[loss],
            )
        score, where = worst_excess_over(results, names, DEFAULT, "LedoitWolf")
        print(
            f"  worst cell against LedoitWolf: {score:+.1f} standard errors worse "
            f"({where[0]}, n/p = {where[1]}, {where[2]})"
        )
        record(
            f"panel p={p}: worst excess over LedoitWolf", f"{score:+.1f} SE", "<= 2 SE", score <= 2
        )
        _print_cells(results, names)


def _print_cells(results, names):
    """Mean NLL and Frobenius loss of each estimator in each cell."""
    for j, loss in ((1, "NLL"), (0, "Frobenius")):
        print(f"  mean {loss} per cell:")
        print(f"    {'population':<14} {'n/p':>4}" + "".join(f"{name:>14}" for name in names))
        for (population, ratio), cell in results.items():
            means = cell[:, :, j].mean(axis=1)
            print(
                f"    {population:<14} {ratio:>4}" + "".join(f"{value:>14.4f}" for value in means)
            )


def goal_speed(quick, record, race):
    """The default fit at p = 1000, n = 2000 against one symmetric eigendecomposition of the
    sample covariance, in the same run (best of interleaved repeats)."""
    from skqg import WishartCovarianceModel

    p, n = (300, 600) if quick else (1000, 2000)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, p)) * np.sqrt(np.linspace(1.0, 10.0, p))
    sample = np.cov(X, rowvar=False)
    model = WishartCovarianceModel()
    best = race(
        {"fit": lambda: model.fit(X), "eigh": lambda: np.linalg.eigh(sample)},
        repeats=3 if quick else 5,
    )
    ratio = best["fit"] / best["eigh"]
    print(
        f"\nSpeed, p = {p}, n = {n} (rule {model.shrinkage_rule_!r}): default fit "
        f"{best['fit']:.3f}s, one eigh of the sample covariance {best['eigh']:.3f}s, "
        f"ratio {ratio:.2f}"
    )
    record(f"default fit / eigh at p={p}, n={n}", f"{ratio:.2f}", "<= 2", ratio <= 2)
