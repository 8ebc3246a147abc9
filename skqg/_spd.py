"""Validation and batched linear algebra for stacks of symmetric positive-definite matrices.

Shared by :mod:`skqg.cone`, :mod:`skqg.stats` and :class:`skqg.WishartCovarianceModel`. Stacks are
batch-first ``(n, p, p)``; the work runs in :mod:`skqg._kernels.spd` in float64, parallel across
matrices, with BLAS pinned to one thread (two OpenBLAS threads made batches of small ``eigh``
calls 135x slower on these machines; see ../shared/ENGINEERING.md).
"""

from collections import namedtuple

import numpy as np
from threadpoolctl import ThreadpoolController

from skqg._kernels import spd as _k

_CONTROLLER = None

SQRT2 = float(np.sqrt(2.0))


def one_blas_thread():
    """Context manager that limits BLAS to one thread (cheap after the first call)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


SPDStack = namedtuple("SPDStack", ["matrices", "factors", "logdets", "singular"])
SPDStack.__doc__ = """A validated stack of symmetric matrices.

Attributes
----------
matrices : ndarray of shape (n, p, p), float64
    The matrices, symmetrised (their asymmetry was within rounding).
factors : ndarray of shape (n, p, p)
    Lower Cholesky factors (meaningless where ``singular``).
logdets : ndarray of shape (n,)
    ``log det`` of each matrix (``-inf`` where ``singular``).
singular : ndarray of shape (n,), bool
    Matrices that are not numerically positive definite.
"""


def as_float_stack(X, name):
    """Return ``X`` as a C-contiguous float64 stack ``(n, p, p)`` of finite square matrices.

    Parameters
    ----------
    X : array-like of shape (n, p, p) or (p, p)
        The matrices; a single matrix becomes a stack of one.
    name : str
        The argument's name, for messages.

    Returns
    -------
    stack : ndarray of shape (n, p, p), float64
    single : bool
        Whether ``X`` was a single matrix.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold real numbers, got dtype {X.dtype}. Convert it to float first."
        )
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be a matrix (p, p) or a stack of matrices (n, p, p), got an array "
            f"of shape {X.shape}."
        )
    single = X.ndim == 2
    stack = X[np.newaxis] if single else X
    if stack.shape[-1] != stack.shape[-2] or stack.shape[-1] == 0:
        raise ValueError(f"{name} must hold non-empty square matrices, got shape {X.shape}.")
    if stack.shape[0] == 0:
        raise ValueError(f"{name} is an empty stack (shape {X.shape}); pass at least one matrix.")
    stack = np.ascontiguousarray(stack, dtype=np.float64)
    if not np.isfinite(stack).all():
        bad = int(np.flatnonzero(~np.isfinite(stack).reshape(len(stack), -1).all(axis=1))[0])
        raise ValueError(
            f"{name} contains NaN or infinity (first in matrix {bad}); covariance matrices must "
            "be finite."
        )
    return stack, single


def symmetrised(stack, name, dtype=np.float64):
    """Check that each matrix is symmetric up to rounding and return the exact symmetric part.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64
        The matrices.
    name : str
        The argument's name, for messages.
    dtype : dtype, default=float64
        The input's original precision, which sets the rounding tolerance.

    Returns
    -------
    ndarray of shape (n, p, p)
        ``(S + S.T) / 2``.
    """
    symmetric, asymmetry, scale = _k.symmetrise(np.ascontiguousarray(stack, dtype=np.float64))
    tolerance = 1e3 * np.finfo(np.dtype(dtype) if np.dtype(dtype).kind == "f" else float).eps
    bad = asymmetry > tolerance * scale
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must hold symmetric matrices; matrix {first} has max |S - S.T| = "
            f"{asymmetry[first]:.3g} ({asymmetry[first] / scale[first]:.3g} relative, "
            f"{int(bad.sum())} of {len(stack)} matrices are not symmetric)."
        )
    return symmetric


def rounding_eps(dtype):
    """Machine epsilon of the input's precision: float32's for float32, float64's otherwise.

    Rank and definiteness decisions use it, because a float32 matrix carries float32 rounding
    even after conversion to float64.
    """
    return float(np.finfo(np.float32 if np.dtype(dtype) == np.float32 else np.float64).eps)


def numerical_rank(eigenvalues, eps=None):
    """Numerical rank of symmetric matrices from their eigenvalues (NumPy's ``matrix_rank`` tol).

    Eigenvalues count when ``|lambda| > p * eps * max|lambda|``, negative ones included.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n, p)
        Eigenvalues per matrix.
    eps : float, default=None
        Relative precision of the matrices (:func:`rounding_eps`); float64's by default.

    Returns
    -------
    ndarray of shape (n,), int
    """
    p = eigenvalues.shape[-1]
    eps = np.finfo(np.float64).eps if eps is None else eps
    largest = np.abs(eigenvalues).max(axis=-1, keepdims=True)
    tolerance = largest * p * eps
    return (np.abs(eigenvalues) > tolerance).sum(axis=-1)


def describe_singular(stack, singular, name, eps=None):
    """Say which matrices are not positive definite, with rank and smallest eigenvalue.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p)
        The matrices.
    singular : ndarray of shape (n,), bool
        Which ones failed.
    name : str
        The argument's name.
    eps : float, default=None
        Relative precision of the matrices (:func:`rounding_eps`); float64's by default.

    Returns
    -------
    str
    """
    index = np.flatnonzero(singular)
    with one_blas_thread():
        eigenvalues = np.linalg.eigvalsh(stack[index])
    eps = np.finfo(np.float64).eps if eps is None else eps
    ranks = numerical_rank(eigenvalues, eps)
    tolerance = np.abs(eigenvalues).max(axis=-1) * eigenvalues.shape[-1] * eps
    n_negative = int((eigenvalues[0] < -tolerance[0]).sum())
    first = int(index[0])
    p = stack.shape[1]
    where = f"{name}[{first}]" if len(stack) > 1 else name
    negative = f", {n_negative} negative eigenvalue{'s' * (n_negative != 1)}" if n_negative else ""
    message = (
        f"{where} is not positive definite: rank {int(ranks[0])} of {p}{negative}, smallest "
        f"eigenvalue {eigenvalues[0, 0]:.3g} (largest {eigenvalues[0, -1]:.3g})"
    )
    if len(stack) == 1:
        return message + "."
    return (
        f"{message}; {len(index)} of {len(stack)} matrices are singular or indefinite (lowest "
        f"rank {int(ranks.min())})."
    )


def check_spd(X, name="X", *, allow_singular=False, hint=""):
    """Validate a stack of symmetric positive-definite matrices and factor it.

    Parameters
    ----------
    X : array-like of shape (n, p, p) or (p, p)
        The matrices.
    name : str, default="X"
        The argument's name, for messages.
    allow_singular : bool, default=False
        Return singular or indefinite matrices flagged in ``singular`` instead of raising.
    hint : str, default=""
        What the caller can do about a matrix that is not positive definite, appended to the
        error message.

    Returns
    -------
    checked : SPDStack
        The symmetrised float64 stack, its Cholesky factors and log-determinants.
    single : bool
        Whether ``X`` was a single matrix.

    Raises
    ------
    ValueError
        If ``X`` is not a finite stack of symmetric matrices, or (unless ``allow_singular``) a
        matrix is not numerically positive definite; the message gives its rank and smallest
        eigenvalue.
    """
    dtype = np.asarray(X).dtype
    stack, single = as_float_stack(X, name)
    stack = symmetrised(stack, name, dtype)
    factors, pivots, logdets = _cholesky(stack)
    p = stack.shape[1]
    diagonal_scale = np.abs(np.diagonal(stack, axis1=1, axis2=2)).max(axis=1)
    # A pivot at rounding level means a numerically singular matrix even if it is positive.
    eps = rounding_eps(dtype)
    singular = ~(pivots > 10 * p * eps * diagonal_scale)
    if singular.any() and not allow_singular:
        message = describe_singular(stack, singular, name, eps)
        raise ValueError(f"{message} {hint}".strip())
    logdets = np.where(singular, -np.inf, logdets)
    return SPDStack(stack, factors, logdets, singular), single


def _cholesky(stack):
    with one_blas_thread():
        return _k.cholesky(stack)


def spectral(stack, code, exponent=1.0):
    """``U f(Lambda) U.T`` for each matrix of a float64 stack (see :mod:`skqg._kernels.spd`).

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64
        Symmetric matrices.
    code : int
        ``LOG``, ``EXP`` or ``POWER`` from :mod:`skqg._kernels.spd`.
    exponent : float, default=1.0
        Exponent for ``POWER``.

    Returns
    -------
    out : ndarray of shape (n, p, p)
    eigenvalues : ndarray of shape (n, p)
    """
    with one_blas_thread():
        return _k.spectral_function(np.ascontiguousarray(stack, dtype=np.float64), code, exponent)


def logm(stack):
    """Matrix logarithm of each SPD matrix of a stack."""
    return spectral(stack, _k.LOG)[0]


def expm(stack):
    """Matrix exponential of each symmetric matrix of a stack."""
    return spectral(stack, _k.EXP)[0]


def powm(stack, exponent):
    """Matrix power of each SPD matrix of a stack."""
    return spectral(stack, _k.POWER, exponent)[0]


def vech(stack, weight=SQRT2):
    """Half-vectorise symmetric matrices: upper triangle row by row, off-diagonals times ``weight``.

    Parameters
    ----------
    stack : ndarray of shape (..., p, p)
        Symmetric matrices.
    weight : float, default=sqrt(2)
        Factor on the off-diagonal entries (``sqrt(2)`` preserves the Frobenius inner product).

    Returns
    -------
    ndarray of shape (..., p * (p + 1) // 2)
    """
    p = stack.shape[-1]
    rows, cols = np.triu_indices(p)
    factors = np.where(rows == cols, 1.0, weight)
    return stack[..., rows, cols] * factors


def unvech(vectors, weight=SQRT2):
    """Inverse of :func:`vech`.

    Parameters
    ----------
    vectors : ndarray of shape (..., m)
        Half-vectorised matrices, ``m = p * (p + 1) // 2``.
    weight : float, default=sqrt(2)
        The off-diagonal factor used by :func:`vech`.

    Returns
    -------
    ndarray of shape (..., p, p)
    """
    m = vectors.shape[-1]
    p = round(float(np.sqrt(8 * m + 1) - 1) / 2)
    if p * (p + 1) // 2 != m:
        raise ValueError(
            f"vectors of length {m} are not half-vectorised symmetric matrices; the length must "
            "be p * (p + 1) / 2 for some p."
        )
    rows, cols = np.triu_indices(p)
    factors = np.where(rows == cols, 1.0, 1.0 / weight)
    out = np.zeros((*vectors.shape[:-1], p, p), dtype=np.result_type(vectors, float))
    values = vectors * factors
    out[..., rows, cols] = values
    out[..., cols, rows] = values
    return out
