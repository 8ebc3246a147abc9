"""Input checks for public functions that take matrices (shared; see also skqg._utils)."""

import numpy as np


def check_covariance_matrix(matrix, name, n_features):
    """Return ``matrix`` as a float64 ``(n_features, n_features)`` covariance, or raise.

    Parameters
    ----------
    matrix : array-like
        Must be a real, finite, symmetric positive semi-definite matrix (up to rounding) of
        shape ``(n_features, n_features)``, with a positive trace.
    name : str
        The argument's name, for the messages.
    n_features : int
        The expected size.

    Returns
    -------
    ndarray of shape (n_features, n_features), float64

    Raises
    ------
    ValueError
        Naming what is wrong: dtype, shape, NaN or infinity, asymmetry, a negative eigenvalue,
        or a zero trace.
    """
    array = np.asarray(matrix)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold real numbers, got dtype {array.dtype}. Convert it to float first."
        )
    if array.shape != (n_features, n_features):
        raise ValueError(
            f"{name} must be a covariance matrix of shape ({n_features}, {n_features}) "
            f"(n_features={n_features}), got an array of shape {array.shape}."
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        kind = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{name} contains {kind}; a covariance matrix must be finite.")
    eps = np.finfo(np.float64).eps
    scale = float(np.abs(array).max())
    asymmetry = float(np.abs(array - array.T).max())
    if asymmetry > 1e3 * eps * scale:
        raise ValueError(
            f"{name} must be symmetric; max |C - C.T| = {asymmetry:.3g} ({asymmetry / scale:.3g} "
            "relative)."
        )
    array = 0.5 * (array + array.T)
    eigenvalues = np.linalg.eigvalsh(array)
    if eigenvalues[0] < -100 * n_features * eps * max(abs(eigenvalues[0]), eigenvalues[-1]):
        raise ValueError(
            f"{name} is not positive semi-definite (smallest eigenvalue {eigenvalues[0]:.3g}, "
            f"largest {eigenvalues[-1]:.3g}); pass a covariance matrix."
        )
    if not np.trace(array) > 0:
        raise ValueError(f"{name} is zero: a covariance matrix needs a positive trace.")
    return array
