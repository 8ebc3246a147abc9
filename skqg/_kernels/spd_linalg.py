"""Batched kernels for stacks of symmetric positive-definite matrices, parallel across matrices.

Each public function takes a C-contiguous float64 stack ``(n, p, p)`` and dispatches to a serial
or a parallel compiled twin by the amount of work (``n * p**3``). Callers pin BLAS to one thread
around these calls (see :func:`skqg._spd.one_blas_thread`): the per-matrix LAPACK/BLAS calls must
not spawn threads of their own inside a parallel loop.

Spectral functions are selected by an integer code so one compiled kernel serves them all:
``LOG``, ``EXP`` and ``POWER`` (with an exponent; 0.5 is the square root, -0.5 the inverse
square root, -1 the inverse).
"""

import numpy as np
from numba import njit, prange

from skqg._kernels.parallel_policy import parallel_pays

LOG = 0
EXP = 1
POWER = 2


def _use_parallel(stack):
    n, p = stack.shape[0], stack.shape[1]
    return parallel_pays(n, p**3 / 4)


@njit(cache=True, inline="always")
def _symmetrise_row(i, stack, out, asymmetry, scale):
    p = stack.shape[1]
    worst = 0.0
    largest = 0.0
    for r in range(p):
        d = stack[i, r, r]
        out[i, r, r] = d
        largest = max(largest, abs(d))
        for c in range(r + 1, p):
            a = stack[i, r, c]
            b = stack[i, c, r]
            worst = max(worst, abs(a - b))
            largest = max(largest, max(abs(a), abs(b)))
            m = 0.5 * (a + b)
            out[i, r, c] = m
            out[i, c, r] = m
    asymmetry[i] = worst
    scale[i] = largest


@njit(cache=True)
def _symmetrise_serial(stack, out, asymmetry, scale):
    for i in range(stack.shape[0]):
        _symmetrise_row(i, stack, out, asymmetry, scale)


@njit(parallel=True, cache=True)
def _symmetrise_parallel(stack, out, asymmetry, scale):
    for i in prange(stack.shape[0]):
        _symmetrise_row(i, stack, out, asymmetry, scale)


def symmetrise(stack):
    """Symmetric parts of a stack, with each matrix's asymmetry and scale, in one pass.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64, C-contiguous
        Square matrices.

    Returns
    -------
    out : ndarray of shape (n, p, p)
        ``(S + S.T) / 2``.
    asymmetry : ndarray of shape (n,)
        ``max |S - S.T|``.
    scale : ndarray of shape (n,)
        ``max |S|``.
    """
    n, p, _ = stack.shape
    out = np.empty((n, p, p))
    asymmetry = np.empty(n)
    scale = np.empty(n)
    # One pass over memory: parallel only pays for large stacks.
    kernel = _symmetrise_parallel if parallel_pays(n, p * p / 16) else _symmetrise_serial
    kernel(stack, out, asymmetry, scale)
    return out, asymmetry, scale


@njit(cache=True, inline="always")
def _cholesky_one(a, out):
    """Lower Cholesky factor of ``a`` into ``out``; return the smallest pivot (<= 0: failed)."""
    p = a.shape[0]
    out[:] = 0.0
    smallest = np.inf
    for j in range(p):
        s = a[j, j]
        for k in range(j):
            s -= out[j, k] * out[j, k]
        if s < smallest:
            smallest = s
        if not s > 0.0:  # also catches NaN
            return smallest
        d = np.sqrt(s)
        out[j, j] = d
        for i in range(j + 1, p):
            t = a[i, j]
            for k in range(j):
                t -= out[i, k] * out[j, k]
            out[i, j] = t / d
    return smallest


@njit(cache=True, inline="always")
def _cholesky_row(i, stack, factors, pivots, logdets):
    pivot = _cholesky_one(stack[i], factors[i])
    pivots[i] = pivot
    if pivot > 0.0:
        total = 0.0
        for j in range(stack.shape[1]):
            total += np.log(factors[i, j, j])
        logdets[i] = 2.0 * total
    else:
        logdets[i] = -np.inf


@njit(cache=True)
def _cholesky_serial(stack, factors, pivots, logdets):
    for i in range(stack.shape[0]):
        _cholesky_row(i, stack, factors, pivots, logdets)


@njit(parallel=True, cache=True)
def _cholesky_parallel(stack, factors, pivots, logdets):
    for i in prange(stack.shape[0]):
        _cholesky_row(i, stack, factors, pivots, logdets)


def cholesky(stack):
    """Cholesky factors of a stack, without raising on matrices that are not positive definite.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64, C-contiguous
        Symmetric matrices; only the lower triangle is read.

    Returns
    -------
    factors : ndarray of shape (n, p, p)
        Lower factors ``L`` with ``L @ L.T == stack[i]``; meaningless where ``pivots <= 0``.
    pivots : ndarray of shape (n,)
        The smallest squared pivot met; ``<= 0`` (or NaN) means the factorisation stopped there
        because the matrix is not positive definite.
    logdets : ndarray of shape (n,)
        ``log det stack[i]``, ``-inf`` where the factorisation failed.
    """
    n, p, _ = stack.shape
    factors = np.empty((n, p, p))
    pivots = np.empty(n)
    logdets = np.empty(n)
    kernel = _cholesky_parallel if _use_parallel(stack) else _cholesky_serial
    kernel(stack, factors, pivots, logdets)
    return factors, pivots, logdets


@njit(cache=True, inline="always")
def _apply_spectral(values, vectors, code, exponent, out):
    """``out = vectors @ diag(f(values)) @ vectors.T`` for the function selected by ``code``."""
    p = values.shape[0]
    scaled = np.empty((p, p))
    for k in range(p):
        lam = values[k]
        if code == LOG:
            f = np.log(lam)
        elif code == EXP:
            f = np.exp(lam)
        elif exponent > 0.0:
            # Positive semi-definite input: rounding-level negative eigenvalues count as 0.
            f = max(lam, 0.0) ** exponent
        else:
            f = lam**exponent
        for r in range(p):
            scaled[r, k] = vectors[r, k] * f
    out[:] = np.dot(scaled, vectors.T)


@njit(cache=True, inline="always")
def _spectral_row(i, stack, code, exponent, out, eigenvalues):
    values, vectors = np.linalg.eigh(stack[i])
    eigenvalues[i] = values
    _apply_spectral(values, vectors, code, exponent, out[i])


@njit(cache=True)
def _spectral_serial(stack, code, exponent, out, eigenvalues):
    for i in range(stack.shape[0]):
        _spectral_row(i, stack, code, exponent, out, eigenvalues)


@njit(parallel=True, cache=True)
def _spectral_parallel(stack, code, exponent, out, eigenvalues):
    for i in prange(stack.shape[0]):
        _spectral_row(i, stack, code, exponent, out, eigenvalues)


def spectral_function(stack, code, exponent=1.0):
    """Apply a scalar function to the eigenvalues of each symmetric matrix of a stack.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64, C-contiguous
        Symmetric matrices (positive definite for ``LOG`` and for ``POWER`` with a negative
        exponent; for a positive exponent negative eigenvalues, rounding of a semi-definite
        matrix, count as 0).
    code : {LOG, EXP, POWER}
        The function.
    exponent : float, default=1.0
        The exponent for ``POWER``.

    Returns
    -------
    out : ndarray of shape (n, p, p)
        ``U f(Lambda) U.T`` per matrix.
    eigenvalues : ndarray of shape (n, p)
        The eigenvalues of each input matrix, ascending.
    """
    n, p, _ = stack.shape
    out = np.empty((n, p, p))
    eigenvalues = np.empty((n, p))
    kernel = _spectral_parallel if _use_parallel(stack) else _spectral_serial
    kernel(stack, code, float(exponent), out, eigenvalues)
    return out, eigenvalues


@njit(cache=True, inline="always")
def _log_vech_row(i, stack, left, weight, out, eigenvalues):
    whitened = np.dot(np.dot(left, stack[i]), left.T)
    p = whitened.shape[0]
    # Symmetrise the product's rounding so eigh sees an exactly symmetric matrix.
    for r in range(p):
        for c in range(r + 1, p):
            m = 0.5 * (whitened[r, c] + whitened[c, r])
            whitened[r, c] = m
            whitened[c, r] = m
    values, vectors = np.linalg.eigh(whitened)
    eigenvalues[i] = values
    logm = np.empty((p, p))
    _apply_spectral(values, vectors, LOG, 1.0, logm)
    k = 0
    for r in range(p):
        out[i, k] = logm[r, r]
        k += 1
        for c in range(r + 1, p):
            out[i, k] = weight * logm[r, c]
            k += 1


@njit(cache=True)
def _log_vech_serial(stack, left, weight, out, eigenvalues):
    for i in range(stack.shape[0]):
        _log_vech_row(i, stack, left, weight, out, eigenvalues)


@njit(parallel=True, cache=True)
def _log_vech_parallel(stack, left, weight, out, eigenvalues):
    for i in prange(stack.shape[0]):
        _log_vech_row(i, stack, left, weight, out, eigenvalues)


def whitened_log_vectors(stack, left, weight):
    """Tangent vectors ``vech(log(left @ S @ left.T))`` of each matrix ``S`` of a stack.

    The half-vectorisation runs row by row over the upper triangle (``numpy.triu_indices``
    order) with the off-diagonal entries multiplied by ``weight`` (``sqrt(2)`` makes it an
    isometry for the Frobenius inner product).

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64, C-contiguous
        Symmetric positive-definite matrices.
    left : ndarray of shape (p, p), float64, C-contiguous
        The whitening matrix (e.g. ``C^{-1/2}``).
    weight : float
        Factor on off-diagonal entries.

    Returns
    -------
    vectors : ndarray of shape (n, p * (p + 1) // 2)
    eigenvalues : ndarray of shape (n, p)
        The eigenvalues of each whitened matrix, ascending (<= 0 means it was not positive
        definite and its row of ``vectors`` holds NaN).
    """
    n, p, _ = stack.shape
    out = np.empty((n, p * (p + 1) // 2))
    eigenvalues = np.empty((n, p))
    kernel = _log_vech_parallel if _use_parallel(stack) else _log_vech_serial
    kernel(stack, left, float(weight), out, eigenvalues)
    return out, eigenvalues


@njit(cache=True, inline="always")
def _exp_unvech_row(i, vectors, right, inv_weight, out):
    p = out.shape[1]
    sym = np.empty((p, p))
    k = 0
    for r in range(p):
        sym[r, r] = vectors[i, k]
        k += 1
        for c in range(r + 1, p):
            v = vectors[i, k] * inv_weight
            sym[r, c] = v
            sym[c, r] = v
            k += 1
    values, basis = np.linalg.eigh(sym)
    expm = np.empty((p, p))
    _apply_spectral(values, basis, EXP, 1.0, expm)
    product = np.dot(np.dot(right, expm), right.T)
    for r in range(p):
        out[i, r, r] = product[r, r]
        for c in range(r + 1, p):
            m = 0.5 * (product[r, c] + product[c, r])
            out[i, r, c] = m
            out[i, c, r] = m


@njit(cache=True)
def _exp_unvech_serial(vectors, right, inv_weight, out):
    for i in range(vectors.shape[0]):
        _exp_unvech_row(i, vectors, right, inv_weight, out)


@njit(parallel=True, cache=True)
def _exp_unvech_parallel(vectors, right, inv_weight, out):
    for i in prange(vectors.shape[0]):
        _exp_unvech_row(i, vectors, right, inv_weight, out)


def colored_exp_matrices(vectors, right, weight):
    """Inverse of :func:`whitened_log_vectors`: ``right @ exp(unvech(v)) @ right.T`` per row.

    Parameters
    ----------
    vectors : ndarray of shape (n, p * (p + 1) // 2), float64, C-contiguous
        Tangent vectors in the weighted half-vectorisation.
    right : ndarray of shape (p, p), float64, C-contiguous
        The colouring matrix (the inverse of the whitening matrix, e.g. ``C^{1/2}``).
    weight : float
        The off-diagonal factor used by the forward map.

    Returns
    -------
    ndarray of shape (n, p, p)
        Symmetric positive-definite matrices.
    """
    n = vectors.shape[0]
    p = right.shape[0]
    out = np.empty((n, p, p))
    kernel = _exp_unvech_parallel if _use_parallel(out) else _exp_unvech_serial
    kernel(vectors, right, 1.0 / float(weight), out)
    return out
