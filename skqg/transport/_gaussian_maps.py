"""Closed-form optimal transport between Gaussian laws: the Bures map and its entropic version."""

import numpy as np


def _roots(cov):
    """``cov^{1/2}`` and ``cov^{-1/2}`` from one eigendecomposition."""
    values, vectors = np.linalg.eigh(cov)
    root = (vectors * np.sqrt(values)) @ vectors.T
    return root, (vectors / np.sqrt(values)) @ vectors.T


def _sandwich(cov_source, cov_target, spectral):
    """``S^{-1/2} f(K) S^{-1/2}`` with ``K = S^{1/2} T S^{1/2}``, ``f`` applied to eigenvalues.

    Every Gaussian transport map here has this form; ``spectral`` receives the eigenvalues of
    ``K`` (clipped at 0 against rounding).
    """
    root, inv_root = _roots(cov_source)
    values, vectors = np.linalg.eigh(_symmetric(root @ cov_target @ root))
    middle = (vectors * spectral(np.maximum(values, 0.0))) @ vectors.T
    return _symmetric(inv_root @ middle @ inv_root)


def bures_map(cov_source, cov_target):
    """The symmetric matrix ``A`` of the optimal map ``x -> m_t + A (x - m_s)`` between Gaussians.

    ``A = S^{-1/2} (S^{1/2} T S^{1/2})^{1/2} S^{-1/2}`` for source covariance ``S`` and target
    covariance ``T``.

    Parameters
    ----------
    cov_source, cov_target : ndarray of shape (d, d)
        Positive-definite covariances.

    Returns
    -------
    ndarray of shape (d, d)
    """
    return _sandwich(cov_source, cov_target, np.sqrt)


def entropic_gaussian_map(cov_source, cov_target, epsilon):
    """The matrix of the entropic optimal map between centred Gaussians (closed form).

    For the cost ``|x - y|^2`` and regularisation ``epsilon`` (POT's convention), the optimal
    entropic plan between ``N(0, S)`` and ``N(0, T)`` is Gaussian (Janati, Muzellec, Peyré &
    Cuturi 2020) and its conditional mean is ``E[y | x] = M x`` with

        M = S^{-1/2} (S^{1/2} T S^{1/2} + (epsilon/4)^2 I)^{1/2} S^{-1/2} - (epsilon/4) S^{-1}.

    ``M`` tends to :func:`bures_map` as ``epsilon -> 0`` and to 0 as ``epsilon -> inf``;
    ``bures_map - M`` is positive definite for every ``epsilon > 0``.

    Parameters
    ----------
    cov_source, cov_target : ndarray of shape (d, d)
        Positive-definite covariances.
    epsilon : float
        Entropic regularisation.

    Returns
    -------
    ndarray of shape (d, d)
    """
    delta = 0.25 * epsilon
    # sqrt(k + delta^2) - delta, written without cancellation.
    return _sandwich(cov_source, cov_target, lambda k: k / (np.sqrt(k + delta**2) + delta))


def entropic_bias_correction(cov_source, cov_target, epsilon):
    """``bures_map - entropic_gaussian_map``: the Gaussian part of the entropic map's bias.

    Computed in the eigenbasis of ``K = S^{1/2} T S^{1/2}`` as
    ``S^{-1/2} U diag(sqrt(k) - sqrt(k + delta^2) + delta) U^T S^{-1/2}`` with
    ``delta = epsilon / 4``, which is positive for every eigenvalue ``k >= 0`` and free of the
    cancellation of subtracting the two maps.

    Parameters
    ----------
    cov_source, cov_target : ndarray of shape (d, d)
        Positive-definite covariances.
    epsilon : float
        Entropic regularisation.

    Returns
    -------
    ndarray of shape (d, d)
        Symmetric positive definite.
    """
    delta = 0.25 * epsilon
    if delta == 0:
        return np.zeros_like(cov_source)

    def gap(k):
        # sqrt(k) - sqrt(k + delta^2) + delta = delta (s + t - delta) / (s + t) with s = sqrt(k),
        # t = sqrt(k + delta^2): one fraction, exact whether delta is tiny or huge against k.
        s, t = np.sqrt(k), np.sqrt(k + delta**2)
        return delta * (s + t - delta) / (s + t)

    return _sandwich(cov_source, cov_target, gap)


def gaussian_w2_squared(mean_source, cov_source, mean_target, cov_target):
    """Squared 2-Wasserstein distance between two Gaussians (Bures–Wasserstein formula)."""
    root, _ = _roots(cov_source)
    values = np.linalg.eigvalsh(_symmetric(root @ cov_target @ root))
    cross_trace = np.sum(np.sqrt(np.maximum(values, 0.0)))
    return float(
        np.sum((mean_source - mean_target) ** 2)
        + np.trace(cov_source)
        + np.trace(cov_target)
        - 2.0 * cross_trace
    )


def _symmetric(matrix):
    return 0.5 * (matrix + matrix.T)
