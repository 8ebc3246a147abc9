"""The density panel of issue 15: seven data sets, a 2:1 split over three seeds, three peers.

Each data set is split with ``train_test_split(test_size=1/3, random_state=seed)`` and a
``StandardScaler`` is fitted on the training part. Every method is scored by its mean held-out
log-likelihood in nats per sample, and timed for its fit (including its own parameter search)
plus the scoring of the test part.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_wine, make_blobs, make_circles, make_moons, make_swiss_roll
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler

SEEDS = (0, 1, 2)
ANISOTROPY = np.array([[0.6, -0.6], [-0.4, 0.8]])


def _banana(n, seed):
    z = np.random.default_rng(seed).standard_normal((n, 2))
    return np.c_[z[:, 0], z[:, 0] ** 2 + 0.5 * z[:, 1]]


DATASETS = {
    "moons(1500, noise=0.05)": lambda s: make_moons(1500, noise=0.05, random_state=s)[0],
    "moons(1500, noise=0.2)": lambda s: make_moons(1500, noise=0.2, random_state=s)[0],
    "circles(1500, 0.05, 0.5)": lambda s: make_circles(
        1500, noise=0.05, factor=0.5, random_state=s
    )[0],
    "swiss_roll(2000, 0.5)[0,2]": lambda s: make_swiss_roll(2000, noise=0.5, random_state=s)[0][
        :, [0, 2]
    ],
    "anisotropic blobs(1500)": lambda s: (
        make_blobs(1500, centers=3, random_state=170 + s)[0] @ ANISOTROPY
    ),
    "banana(3000)": lambda s: _banana(3000, s),
    "wine (13-D)": lambda s: load_wine().data,
}


def split(name, seed):
    """Standardised training and test parts of one data set."""
    X = DATASETS[name](seed)
    X_train, X_test = train_test_split(X, test_size=1 / 3, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def kernel_density(X):
    """KernelDensity with the bandwidth chosen by 5-fold GridSearchCV (the issue's grid)."""
    grid = {"bandwidth": np.logspace(-2, 0.5, 21)}
    return GridSearchCV(KernelDensity(), grid, cv=5).fit(X).best_estimator_


def bic_mixture(X):
    """GaussianMixture chosen by BIC over 1..10 components (and 12, 15, 20 full), 4 types."""
    best, best_bic = None, np.inf
    for kind in ("full", "tied", "diag", "spherical"):
        sizes = list(range(1, 11)) + ([12, 15, 20] if kind == "full" else [])
        for k in sizes:
            if k >= len(X):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = GaussianMixture(k, covariance_type=kind, reg_covar=1e-6, random_state=0)
                model.fit(X)
            bic = model.bic(X)
            if bic < best_bic:
                best, best_bic = model, bic
    return best


def measure(fit, X_train, X_test):
    """Held-out mean log-likelihood, fit + score seconds, and the fraction of finite values."""
    start = time.perf_counter()
    model = fit(X_train)
    values = model.score_samples(X_test)
    seconds = time.perf_counter() - start
    finite = np.isfinite(values)
    mean = float(np.mean(values)) if finite.all() else -np.inf
    return mean, seconds, float(finite.mean())
