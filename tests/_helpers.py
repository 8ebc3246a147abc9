"""Random test data shared by several test files (imported as ``from _helpers import ...``).

``tests/conftest.py`` puts this directory on ``sys.path``, as for ``ising_reference``; the
leading underscore keeps pytest from collecting the module as tests. Each helper reproduces,
draw for draw, the copy it replaced in the test files, so every test sees the data it saw
before: the variants (a Gram matrix plus a ridge, the exponential of a symmetric Gaussian
matrix, a chosen spectrum) are separate helpers, not one helper with a switch.
"""

import math

import numpy as np


def random_spd(p, seed=0, ridge=1.0):
    """``A A^T / p + ridge I``, ``A`` a ``(p, p)`` standard normal draw of ``RandomState(seed)``.

    The smallest eigenvalue is at least ``ridge``.
    """
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(p, p))
    return A @ A.T / p + ridge * np.eye(p)


def random_spd_expm(rng, p, n=None, spread=1.0):
    """SPD matrices ``exp(S)``, ``S`` symmetric Gaussian: eigenvalues within about e^(+-3 spread).

    One ``(p, p)`` matrix, or ``n`` of them stacked, drawn from the generator ``rng``.
    """
    shape = (p, p) if n is None else (n, p, p)
    G = rng.standard_normal(shape)
    S = spread * (G + np.swapaxes(G, -1, -2)) / (2 * math.sqrt(p))
    values, vectors = np.linalg.eigh(S)
    return (vectors * np.exp(values)[..., None, :]) @ np.swapaxes(vectors, -1, -2)


def random_spd_spectrum(p, seed, condition=10.0):
    """``Q diag(geomspace(1, condition, p)) Q^T``, ``Q`` a random orthogonal matrix (QR of a
    standard normal draw of ``RandomState(seed)``): condition number exactly ``condition``."""
    rng = np.random.RandomState(seed)
    q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    return (q * np.geomspace(1.0, condition, p)) @ q.T


def random_gram_stack(rng, n, p=3, k=None, ridge=0.0):
    """``n`` Gram matrices ``A A^T / k (+ ridge I)``, ``A`` a ``(p, k)`` standard normal draw of
    ``rng``; ``k`` defaults to ``p + 3``. Full rank (almost surely) when ``k >= p``."""
    k = p + 3 if k is None else k
    A = rng.standard_normal((n, p, k))
    stack = A @ np.swapaxes(A, 1, 2) / k
    return stack + ridge * np.eye(p) if ridge else stack


def random_binary(rng, shape, p):
    """Independent 0/1 entries (float64), each 1 with probability ``p``, from ``rng.uniform``."""
    return (rng.uniform(size=shape) < p).astype(np.float64)


def random_spins(rng, shape, p):
    """``2 * random_binary(rng, shape, p) - 1``: independent -1/+1 spins (float64), up with
    probability ``p``."""
    return 2 * random_binary(rng, shape, p) - 1
