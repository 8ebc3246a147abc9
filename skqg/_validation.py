"""Input checks for public functions that take matrices (shared; see also skqg._utils)."""

import numpy as np

from skqg import _spd


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
    # Shape first, so a wrong-sized matrix is named as such; then the shared dtype, finiteness
    # and symmetry checks of skqg._spd.
    if array.shape != (n_features, n_features):
        if array.dtype.kind not in "biuf":
            _spd.as_float_stack(array, name)  # raises the dtype message
        raise ValueError(
            f"{name} must be a covariance matrix of shape ({n_features}, {n_features}) "
            f"(n_features={n_features}), got an array of shape {array.shape}."
        )
    stack, _ = _spd.as_float_stack(array, name)
    array = _spd.symmetrised(stack, name, array.dtype)[0]
    eps = np.finfo(np.float64).eps
    eigenvalues = np.linalg.eigvalsh(array)
    if eigenvalues[0] < -100 * n_features * eps * max(abs(eigenvalues[0]), eigenvalues[-1]):
        raise ValueError(
            f"{name} is not positive semi-definite (smallest eigenvalue {eigenvalues[0]:.3g}, "
            f"largest {eigenvalues[-1]:.3g}); pass a covariance matrix."
        )
    if not np.trace(array) > 0:
        raise ValueError(f"{name} is zero: a covariance matrix needs a positive trace.")
    return array
