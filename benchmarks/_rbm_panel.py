"""Data sets of issue 16's RBM panels: the sklearn pipeline example and the stability panel.

Every set of the stability panel is small enough for an exact held-out log-likelihood
(``RBMCoarseGrainer.score`` enumerates the smaller binary layer), and the synthetic ones are
drawn exactly (by enumerating all 2**16 visible states), so no sampler's bias enters the data.
"""

import itertools

import numpy as np
from scipy.ndimage import convolve
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import minmax_scale


def nudged_digits():
    """scikit-learn's ``plot_rbm_logistic_classification`` data: digits and their 1-pixel shifts.

    Returns ``(X, y)`` scaled to [0, 1] by ``minmax_scale``, 5 times the 1797 digits.
    """
    X, y = load_digits(return_X_y=True)
    directions = [
        [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
    ]
    shifted = [
        np.apply_along_axis(
            lambda x, w=w: convolve(x.reshape((8, 8)), mode="constant", weights=w).ravel(), 1, X
        )
        for w in directions
    ]
    X = np.concatenate([X, *shifted])
    y = np.concatenate([y for _ in range(5)])
    return minmax_scale(X.astype(np.float64), feature_range=(0, 1)), y


def all_states(n_units, spin=False):
    """Every configuration of ``n_units`` binary units, one per row (float64)."""
    states = np.array(list(itertools.product((0.0, 1.0), repeat=n_units)))
    return 2 * states - 1 if spin else states


def _draw(states, log_weights, n_samples, rng):
    p = np.exp(log_weights - logsumexp(log_weights))
    return states[rng.choice(len(states), size=n_samples, p=p / p.sum())]


def bars_and_stripes(n_samples=4000, seed=0):
    """Uniform draws from the 30 distinct 4x4 bars-and-stripes patterns (entropy log 30)."""
    rows = [
        np.repeat(np.array(bits)[:, None], 4, axis=1)
        for bits in itertools.product((0, 1), repeat=4)
    ]
    patterns = {tuple(p.ravel()) for r in rows for p in (r, r.T)}
    patterns = np.array(sorted(patterns), dtype=np.float64)
    rng = np.random.RandomState(seed)
    return patterns[rng.randint(len(patterns), size=n_samples)]


def teacher_rbm(n_samples=6000, n_visible=16, n_hidden=6, seed=0):
    """Exact draws from an RBM with N(0, 1) weights and zero biases (Bernoulli units)."""
    rng = np.random.RandomState(seed)
    W = rng.normal(size=(n_hidden, n_visible))
    states = all_states(n_visible)
    log_weights = np.logaddexp(0.0, states @ W.T).sum(axis=1)
    return _draw(states, log_weights, n_samples, rng)


def ising(temperature, n_samples=4000, size=4, seed=0):
    """Exact draws of a ``size`` x ``size`` periodic Ising model (J = 1), spins in {-1, +1}."""
    states = all_states(size * size, spin=True)
    grid = states.reshape(-1, size, size)
    bonds = grid * np.roll(grid, 1, axis=1) + grid * np.roll(grid, 1, axis=2)
    log_weights = bonds.sum(axis=(1, 2)) / temperature
    return _draw(states, log_weights, n_samples, np.random.RandomState(seed))


def binarised_digits():
    """Digits with pixels / 16 > 0.5, as in ``bench_rbm.py`` goal 1."""
    X, _ = load_digits(return_X_y=True)
    return (X / 16 > 0.5).astype(np.float64)


# name -> (data builder, visible units, hidden units)
STABILITY_PANEL = {
    "digits>0.5, 16 hidden": (binarised_digits, "bernoulli", 16),
    "bars-and-stripes 4x4, 16 hidden": (bars_and_stripes, "bernoulli", 16),
    "teacher RBM 16x6, 8 hidden": (teacher_rbm, "bernoulli", 8),
    "Ising 4x4 T=1.8, 8 hidden": (lambda: ising(1.8), "spin", 8),
    "Ising 4x4 T=1.8, 16 hidden": (lambda: ising(1.8), "spin", 16),
    "Ising 4x4 T=3.0, 8 hidden": (lambda: ising(3.0), "spin", 8),
    "Ising 4x4 T=3.0, 16 hidden": (lambda: ising(3.0), "spin", 16),
}


def split(X, seed):
    """The panel's 2:1 split."""
    return train_test_split(X, test_size=1 / 3, random_state=seed)
