"""Linear algebra on symmetric positive-definite matrices, in one place.

Shared by :mod:`skqg.cone`, :mod:`skqg.stats`, the Wishart and transport families (their
validation is :mod:`skqg._validation`). Stacks are batch-first ``(n, p, p)``; the work runs in
:mod:`skqg._kernels.spd_linalg` in float64, parallel across matrices, with BLAS pinned to one
thread (two OpenBLAS threads made batches of small ``eigh`` calls 135x slower on these
machines).
"""

from collections import namedtuple

import numpy as np
from scipy.linalg import lapack
from scipy.special import digamma, gammaln, polygamma
from threadpoolctl import ThreadpoolController

from skqg._kernels import spd_linalg

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


def cholesky(stack):
    """Lower Cholesky factors, pivots and log-determinants of a float64 stack (BLAS pinned).

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64, C-contiguous
        Symmetric matrices.

    Returns
    -------
    factors : ndarray of shape (n, p, p)
    pivots : ndarray of shape (n,)
        The smallest pivot of each factorisation (not positive where it failed).
    logdets : ndarray of shape (n,)
    """
    with one_blas_thread():
        if stack.shape[-1] < _LAPACK_FROM:
            return spd_linalg.cholesky(stack)
        return _lapack_cholesky(stack)


# From this order on LAPACK's blocked factorisation, one matrix at a time, beats the batched
# Numba kernel: 4x at p = 128, 6.5x at p = 500 (measured here, one BLAS thread).
_LAPACK_FROM = 96


def _lapack_cholesky(stack):
    """:func:`cholesky` by LAPACK's ``dpotrf``, with the same outputs (BLAS pinned by the
    caller, so the summation order does not depend on the thread count)."""
    n, p, _ = stack.shape
    factors = np.empty((n, p, p))
    pivots = np.empty(n)
    logdets = np.empty(n)
    for i, matrix in enumerate(stack):
        factor, info = lapack.dpotrf(matrix, lower=True, clean=True)
        factors[i] = factor
        diagonal = np.diag(factor)
        if info == 0:
            pivots[i] = float(diagonal.min()) ** 2
            logdets[i] = 2.0 * float(np.log(diagonal).sum())
        else:  # not positive definite: the factorisation stopped
            pivots[i] = 0.0
            logdets[i] = -np.inf
    return factors, pivots, logdets


def symmetric_parts(stack):
    """``(S + S.T) / 2`` of each matrix, with ``max |S - S.T|`` and the scale to judge it by.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p)
        Square matrices.

    Returns
    -------
    symmetric : ndarray of shape (n, p, p), float64
    asymmetry : ndarray of shape (n,)
    scale : ndarray of shape (n,)
    """
    return spd_linalg.symmetrise(np.ascontiguousarray(stack, dtype=np.float64))


def sym(matrices):
    """The exact symmetric part ``(M + M.T) / 2`` of a matrix or of each matrix of a stack."""
    return 0.5 * (matrices + np.swapaxes(matrices, -1, -2))


def spectral(stack, code, exponent=1.0):
    """``U f(Lambda) U.T`` for each matrix of a float64 stack (see :mod:`skqg._kernels.spd_linalg`).

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64
        Symmetric matrices.
    code : int
        ``LOG``, ``EXP`` or ``POWER`` from :mod:`skqg._kernels.spd_linalg`.
    exponent : float, default=1.0
        Exponent for ``POWER``.

    Returns
    -------
    out : ndarray of shape (n, p, p)
    eigenvalues : ndarray of shape (n, p)
    """
    with one_blas_thread():
        return spd_linalg.spectral_function(
            np.ascontiguousarray(stack, dtype=np.float64), code, exponent
        )


def logm(stack):
    """Matrix logarithm of each SPD matrix of a stack."""
    return spectral(stack, spd_linalg.LOG)[0]


def expm(stack):
    """Matrix exponential of each symmetric matrix of a stack."""
    return spectral(stack, spd_linalg.EXP)[0]


def powm(stack, exponent):
    """Matrix power of each SPD matrix of a stack."""
    return spectral(stack, spd_linalg.POWER, exponent)[0]


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


def sqrtm(matrices):
    """Square root of a symmetric positive semi-definite matrix, or of each matrix of a stack.

    :func:`powm` with exponent 1/2: eigenvalues below zero (rounding) count as zero.

    Parameters
    ----------
    matrices : ndarray of shape (p, p) or (n, p, p)
        Symmetric positive semi-definite matrices.

    Returns
    -------
    ndarray of the same shape
    """
    stack = np.asarray(matrices, dtype=np.float64)
    roots = powm(stack.reshape(-1, *stack.shape[-2:]), 0.5)
    return roots.reshape(stack.shape)


def multigammaln(a, p):
    """``log Gamma_p(a)``, elementwise over an array ``a`` (SciPy's version takes scalars).

    Parameters
    ----------
    a : ndarray
        Arguments, ``> (p - 1) / 2``.
    p : int
        The dimension.

    Returns
    -------
    ndarray
        With the shape of ``a``.
    """
    halves = 0.5 * np.arange(p)
    return 0.25 * p * (p - 1) * np.log(np.pi) + gammaln(a[..., np.newaxis] - halves).sum(axis=-1)


def multidigamma(a, p, derivative=0):
    """``psi_p(a)`` (``derivative=0``) or its derivative ``psi_p'(a)``, elementwise, unchecked.

    ``psi_p(a) = sum_{i=1}^{p} psi(a + (1 - i) / 2)``, the derivative of :func:`multigammaln`.

    Parameters
    ----------
    a : ndarray of float64
        Arguments, ``> (p - 1) / 2``.
    p : int
        The dimension.
    derivative : {0, 1}, default=0
        Which function.

    Returns
    -------
    ndarray
        With the shape of ``a``.
    """
    z = a[..., np.newaxis] - 0.5 * np.arange(p)
    values = digamma(z) if derivative == 0 else polygamma(1, z)
    return values.sum(axis=-1)


def transported_factors(factors, targets, function=None):
    """``L^{-T} f(L^T B L)`` and ``L^{-1}`` for Cholesky factors ``L`` of ``A`` and matrices ``B``.

    For ``A = L L^T``, ``S^{-1/2} f(S^{1/2} B S^{1/2}) S^{-1/2} = L^{-T} f(L^T B L) L^{-1}`` for
    any spectral function ``f`` (``S^{1/2} = L Q`` with ``Q`` orthogonal), so the Gaussian
    transport maps need one Cholesky factorisation instead of a matrix square root. With the
    square root this is ``T L``, ``T`` the Bures map (optimal transport from ``N(0, A)`` to
    ``N(0, B)``).

    Parameters
    ----------
    factors : ndarray of shape (n, p, p)
        Lower Cholesky factors of the source matrices.
    targets : ndarray of shape (n, p, p)
        Target matrices (symmetric positive semi-definite).
    function : callable or None, default=None
        ``f`` applied to the eigenvalues of ``K = L^T B L`` (clipped at 0); ``None`` is the
        square root, by the batched kernel.

    Returns
    -------
    transported : ndarray of shape (n, p, p)
        ``L^{-T} f(K)``.
    inverse_factors : ndarray of shape (n, p, p)
        ``L^{-1}``.
    """
    with one_blas_thread():
        inverse_factors = np.linalg.inv(factors)
        congruent = np.ascontiguousarray(sym(np.swapaxes(factors, -1, -2) @ targets @ factors))
    if function is None:
        middle = powm(congruent, 0.5)
    else:
        with one_blas_thread():
            values, vectors = np.linalg.eigh(congruent)
        scaled = vectors * function(np.maximum(values, 0.0))[..., np.newaxis, :]
        middle = scaled @ np.swapaxes(vectors, -1, -2)
    with one_blas_thread():
        return np.swapaxes(inverse_factors, -1, -2) @ middle, inverse_factors


def transport_map(source, target, function=None):
    """``S^{-1/2} f(S^{1/2} T S^{1/2}) S^{-1/2}`` for one pair of matrices, exactly symmetric.

    With ``f`` the square root (``None``) this is the Bures map ``A`` of the optimal transport
    ``x -> A x`` from ``N(0, S)`` to ``N(0, T)``; other spectral functions give the entropic
    Gaussian maps (see :func:`transported_factors`).

    Parameters
    ----------
    source, target : ndarray of shape (p, p)
        Positive-definite source and positive semi-definite target matrices.
    function : callable or None, default=None
        As in :func:`transported_factors`.

    Returns
    -------
    ndarray of shape (p, p)
    """
    factors, _, _ = cholesky(np.ascontiguousarray(source[np.newaxis], dtype=np.float64))
    transported, inverse_factors = transported_factors(factors, target[np.newaxis], function)
    return sym(transported[0] @ inverse_factors[0])
