"""Goal 9 of ``bench_wishart.py`` (issue 18, item 7): factor analysis of wide data.

``WishartCovarianceModel(n_components=2).fit`` on ``n x p`` data with ``n < p`` against
scikit-learn's ``FactorAnalysis(2).fit`` in the same run (best of interleaved repeats). Our fit
also forms the ``p x p`` ``covariance_`` and ``precision_``, so the ratio to
``FactorAnalysis(2).fit(X)`` followed by ``get_covariance()`` and ``get_precision()`` is the one
that compares like with like; the bare ratio is shown too. The panel includes Heywood cases
(``n = 5``: some noise variances go to their lower bound), where the precision is formed by the
block elimination of ``skqg/wishart/_low_rank.py``.
"""

import numpy as np


def _race_one(X, race, repeats):
    """Best times of our fit, FactorAnalysis's, and FactorAnalysis's with its matrices."""
    from sklearn.decomposition import FactorAnalysis

    from skqg import WishartCovarianceModel

    model = WishartCovarianceModel(n_components=2)

    def theirs_with_matrices():
        fitted = FactorAnalysis(2).fit(X)
        return fitted.get_covariance(), fitted.get_precision()

    best = race(
        {
            "skqg": lambda: model.fit(X),
            "FA": lambda: FactorAnalysis(2).fit(X),
            "FA+mats": theirs_with_matrices,
        },
        repeats=repeats,
    )
    return best, len(model._model.low_rank.heywood)


def goal_wide(quick, record, race):
    """Time ratios to FactorAnalysis on a panel of shapes and seeds (``record`` the worst)."""
    shapes = [(5, 500), (20, 500)] if quick else [(5, 2000), (20, 2000), (50, 3000), (10, 5000)]
    seeds = (0,) if quick else (0, 1)
    print("\n== Goal 9: factor analysis of wide data, against sklearn FactorAnalysis(2) ==")
    print(
        f"  {'n x p':>11} {'seed':>4} {'Heywood':>7} {'skqg s':>8} {'FA s':>8} "
        f"{'FA+mats s':>9} {'/FA':>6} {'/FA+mats':>8}"
    )
    worst = 0.0
    for n, p in shapes:
        for seed in seeds:
            rng = np.random.RandomState(seed)
            X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, p)) + rng.normal(size=(n, p))
            best, n_heywood = _race_one(X, race, repeats=3 if quick else 5)
            bare, like = best["skqg"] / best["FA"], best["skqg"] / best["FA+mats"]
            worst = max(worst, like)
            print(
                f"  {f'{n}x{p}':>11} {seed:>4} {n_heywood:>7} {best['skqg']:>8.3f} "
                f"{best['FA']:>8.3f} {best['FA+mats']:>9.3f} {bare:>6.2f} {like:>8.2f}"
            )
    record("9 wide FA / sklearn FA + matrices (worst)", f"{worst:.2f}", "<= 1.5", worst <= 1.5)
