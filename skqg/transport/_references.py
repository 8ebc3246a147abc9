"""Reference laws for MongeAmpereTransport: low-discrepancy samples and log-densities.

The reference sample is the target of the discrete transport problem, so its sampling noise goes
straight into the map. Scrambled Sobol' points (pushed through the law's quantile map) spread the
mass far more evenly than i.i.d. draws at the same size, and stay reproducible with a seed.
"""

import warnings

import numpy as np
from scipy.special import gammaln, ndtri
from scipy.stats import qmc

NAMED_REFERENCES = ("normal", "uniform", "ball")
# Laws with bounded support: their maps must land inside it.
BOUNDED_REFERENCES = ("uniform", "ball")


def _sobol(n_samples, dimension, seed):
    sampler = qmc.Sobol(dimension, scramble=True, seed=seed)
    with warnings.catch_warnings():
        # Balance is best at powers of two; any size is still far more even than i.i.d. draws.
        warnings.simplefilter("ignore", UserWarning)
        points = sampler.random(n_samples)
    # Scrambled points lie strictly inside (0, 1); keep them off the ends for the quantile maps.
    tiny = np.finfo(np.float64).eps
    return np.clip(points, tiny, 1.0 - tiny)


def reference_sample(name, n_samples, n_features, seed):
    """A low-discrepancy sample of size ``n_samples`` from a named reference law.

    Parameters
    ----------
    name : {"normal", "uniform", "ball"}
        ``"normal"``: standard Gaussian; ``"uniform"``: the unit cube ``[0, 1]^d``; ``"ball"``:
        the spherical uniform law of Hallin et al. (2021), uniform radius on ``[0, 1)`` and
        uniform direction, whose centre-outward quantiles are the transport's values.
    n_samples, n_features : int
    seed : int or numpy Generator
        Scrambling seed.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    if name == "normal":
        return ndtri(_sobol(n_samples, n_features, seed))
    if name == "uniform":
        return _sobol(n_samples, n_features, seed)
    # "ball": radius from the first coordinate, direction from the rest.
    if n_features == 1:
        u = _sobol(n_samples, 1, seed)[:, 0]
        return (2.0 * u - 1.0)[:, None]
    u = _sobol(n_samples, n_features + 1, seed)
    radius = u[:, :1]
    if n_features == 2:
        angle = 2.0 * np.pi * u[:, 1]
        return radius * np.column_stack([np.cos(angle), np.sin(angle)])
    direction = ndtri(u[:, 1:])
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return radius * direction


def reference_log_density(name, Y):
    """Log-density of a named reference law at the rows of ``Y`` (``-inf`` outside its support).

    Parameters
    ----------
    name : {"normal", "uniform", "ball"}
    Y : ndarray of shape (n, d)

    Returns
    -------
    ndarray of shape (n,)
    """
    d = Y.shape[1]
    if name == "normal":
        return -0.5 * np.einsum("ij,ij->i", Y, Y) - 0.5 * d * np.log(2.0 * np.pi)
    if name == "uniform":
        inside = np.all((Y >= 0.0) & (Y <= 1.0), axis=1)
        return np.where(inside, 0.0, -np.inf)
    # Spherical uniform: radius ~ U[0, 1), direction uniform on the sphere, so the density at
    # radius r is 1 / (r^(d-1) * area of the unit sphere).
    radius = np.linalg.norm(Y, axis=1)
    log_area = np.log(2.0) + 0.5 * d * np.log(np.pi) - gammaln(0.5 * d)
    with np.errstate(divide="ignore"):
        inside_value = -(d - 1) * np.log(radius) - log_area
    return np.where(radius < 1.0, inside_value, -np.inf)


def reference_moments(name, n_features):
    """Exact mean and covariance of a named reference law.

    Returns
    -------
    mean : ndarray of shape (d,)
    covariance : ndarray of shape (d, d)
    """
    d = n_features
    if name == "normal":
        return np.zeros(d), np.eye(d)
    if name == "uniform":
        return np.full(d, 0.5), np.eye(d) / 12.0
    # Spherical uniform: E|Y|^2 = E[R^2] = 1/3, spread evenly over the d directions.
    return np.zeros(d), np.eye(d) / (3.0 * d)


def draw_reference(name, reference_samples, n_samples, n_features, rng):
    """I.i.d. draws from a named reference law, or from the empirical law of an array one."""
    if name is None:
        return reference_samples[rng.randint(len(reference_samples), size=n_samples)]
    if name == "normal":
        return rng.standard_normal((n_samples, n_features))
    if name == "uniform":
        return rng.uniform(size=(n_samples, n_features))
    direction = rng.standard_normal((n_samples, n_features))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return rng.uniform(size=(n_samples, 1)) * direction
