"""The Gaussian part of the transport: moments of the data and the reference, the closed-form
Bures map, its entropic version, and the bias correction and tail built from them."""

from typing import NamedTuple

import numpy as np

from skqg import _spd
from skqg._warnings import warn_caller
from skqg.transport._references import reference_moments


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
    return _spd.transport_map(cov_source, cov_target)


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
    return _spd.transport_map(cov_source, cov_target, lambda k: k / (np.sqrt(k + delta**2) + delta))


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

    return _spd.transport_map(cov_source, cov_target, gap)


def floored_covariance(centred):
    """Covariance with its eigenvalues floored at a rounding-level fraction of the largest.

    Constant features (zero variance) would make the Gaussian maps singular; the floor keeps
    them finite without changing any well-conditioned covariance.
    """
    return floor_eigenvalues(centred.T @ centred / len(centred))[0]


def floor_data_covariance(cov):
    """:func:`floor_eigenvalues` for the data's covariance, with a warning when the floor
    binds: the density is then that of the floored model, which a user should know."""
    floored, n_floored = floor_eigenvalues(cov)
    if n_floored:
        warn_caller(
            f"X has almost no spread in {n_floored} of its {len(cov)} directions (covariance "
            f"eigenvalues below {FLOOR:g} times the largest: a constant, duplicated or "
            "collinear feature, or features on scales a million times apart). Their variance "
            "is floored there, so the maps stay finite, but score_samples is the density of "
            "that floored model: very large on the data and very small off it. Drop such "
            "features (VarianceThreshold, PCA) or standardise them (StandardScaler) when the "
            "density matters.",
            UserWarning,
        )
    return floored


# Eigenvalues of a covariance are floored at this fraction of the largest.
FLOOR = 1e-12


def floor_eigenvalues(cov):
    """``cov`` with its eigenvalues floored at ``FLOOR`` times the largest (see above), and how
    many were raised."""
    values, vectors = np.linalg.eigh(cov)
    top = max(float(values[-1]), np.finfo(np.float64).tiny)
    floor = top * FLOOR
    n_floored = int(np.sum(values < floor))
    if n_floored:
        cov = (vectors * np.maximum(values, floor)) @ vectors.T
    return cov, n_floored


def check_spread(largest_deviation, largest_value):
    """Refuse data whose rows are all equal (to rounding): nothing to transport, and the
    covariance floor would invent a spread."""
    if not largest_deviation > 16 * np.finfo(np.float64).eps * largest_value:
        raise ValueError(
            "X has zero variance in every direction (all its rows are equal): there is no "
            "spread to transport. Fit on at least two distinct rows."
        )


def gaussian_moments(X, Y, name):
    """Means and (floored) covariances of the data and of the reference."""
    x_centre = X.mean(axis=0)
    centred = X - x_centre
    check_spread(np.abs(centred).max(), np.abs(X).max())
    cov_x = floor_data_covariance(centred.T @ centred / len(centred))
    return (x_centre, cov_x, *reference_side_moments(Y, name, X.shape[1]))


def reference_side_moments(Y, name, n_features):
    """Mean and (floored) covariance of the reference: exact for a named law, else of ``Y``."""
    if name is not None:
        # The reference's moments are known exactly: no sampling error in the Gaussian part.
        return reference_moments(name, n_features)
    y_centre = Y.mean(axis=0)
    return y_centre, floored_covariance(Y - y_centre)


class GaussianParts(NamedTuple):
    """The Gaussian matrices of a fitted map: the Bures map and its inverse and gain (spectral
    norm), the bias correction ``B`` and the tail's metric root ``W``."""

    bures: np.ndarray
    bures_inverse: np.ndarray
    bures_gain: float
    linear: np.ndarray
    tail_root: np.ndarray


def gaussian_parts(cov_x, cov_y, epsilon):
    """:class:`GaussianParts` of the data and reference covariances at ``epsilon``.

    Every named reference has an isotropic covariance ``c I``. Then all the maps are spectral
    functions of ``S = cov_x = U diag(s) U^T``, ``S^-1/2 f(c S) S^-1/2 = U diag(f(c s) / s) U^T``,
    and one eigendecomposition serves them all (instead of about ten ``O(d^3)`` factorisations,
    which dominate the fit of wide data). Other references take the general formulas.
    """
    c = float(cov_y[0, 0])
    if not np.array_equal(cov_y, c * np.eye(len(cov_y))):
        bures = bures_map(cov_x, cov_y)
        return GaussianParts(
            bures,
            np.linalg.inv(bures),
            float(np.linalg.norm(bures, 2)),
            entropic_bias_correction(cov_x, cov_y, epsilon),
            tail_metric_root(cov_x, cov_y, epsilon),
        )
    values, vectors = np.linalg.eigh(cov_x)
    values = np.maximum(values, np.finfo(np.float64).tiny)  # floored by the caller already

    def spectral(weights):
        return _spd.sym((vectors * weights) @ vectors.T)

    delta = 0.25 * epsilon
    k = c * values  # the eigenvalues of S^1/2 (c I) S^1/2
    # Bures: sqrt(k) / s; entropic: (sqrt(k + delta^2) - delta) / s, written without
    # cancellation; the bias is their difference, as in entropic_bias_correction.
    root, shifted = np.sqrt(k), np.sqrt(k + delta**2)
    bures_weights = root / values
    entropic_weights = (k / (shifted + delta)) / values
    bias_weights = (delta * (root + shifted - delta) / (root + shifted)) / values
    return GaussianParts(
        spectral(bures_weights),
        spectral(1.0 / bures_weights),
        float(bures_weights.max()),
        spectral(bias_weights) if delta > 0 else np.zeros_like(cov_x),
        spectral(np.sqrt(entropic_weights)),
    )


def linear_part_and_tail(Xc, parts):
    """The Gaussian bias correction ``B``, the tail's metric root ``W`` and radius ``R``.

    Beyond the data the entropic part saturates; the tail restores the Gaussian slope there
    (``B + W^2`` is the Bures map).
    """
    tail_radius = float(np.max(np.linalg.norm(Xc @ parts.tail_root, axis=1)))
    return parts.linear, parts.tail_root, tail_radius


def tail_metric_root(cov_x, cov_y, epsilon):
    """The tail's metric root ``W = M_eps^(1/2)`` (``M_eps`` the entropic Gaussian map)."""
    return _spd.sqrtm(entropic_gaussian_map(cov_x, cov_y, epsilon))
