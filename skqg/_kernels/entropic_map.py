"""Entropic optimal-transport kernels: online log-sum-exp over a reference sample.

Everything is written in the inner-product form of the squared Euclidean cost. With
``c(x, y) = |x|^2 + |y|^2 - 2<x, y>``, the Sinkhorn potentials absorb the squared norms and the
log-weights, so a potential ``h`` on the reference points ``Y`` defines, at any point ``x``,

    logits_j(x) = (h_j + 2 <x, y_j>) / eps,

whose log-sum-exp is (2 / eps times) the convex entropic Brenier potential and whose softmax
weights give the entropic map (their mean) and its Jacobian (2 / eps times their covariance).
No ``n x m`` array is ever formed: each row recomputes its logits into a length-``m`` buffer, so
memory is ``O(m)`` per thread and the work is parallel across rows. Rows are independent, so the
results do not depend on the number of threads.

The exponentials go through :func:`fast_exp`, a branch-free exponential (1 ulp) that LLVM
vectorises: Numba has no vector math library here, so ``np.exp`` in a loop is a scalar call.
Logits are written to a buffer in one loop and exponentiated in another, and sums run in eight
fixed lanes (:func:`_sum_lanes`), so every row is summed in the same order whatever the number
of threads. The Sinkhorn log-sum-exps (:func:`log_sum_exp`) work through the reference points in
chunks of :data:`CHUNK` that stay in the L1 cache, and take a guess of their result (the
previous iterate) as the shift of the exponentials, which saves the pass that finds the largest
logit whenever the guess is good.

Kernels take C-contiguous float64 arrays and release the GIL (threaded dask workers run them
side by side). A serial twin serves small inputs, where starting the thread pool costs more
than it saves.
"""

import numpy as np
from numba import njit, prange

from skqg._kernels.fast_math import (
    CONTRACT,
    fast_exp,
    fast_exp32,
)
from skqg._kernels.parallel_policy import parallel_pays

# Rows handled by one task of the parallel loop: each task owns one logits buffer.
ROW_BLOCK = 32

LSE = 0
MEAN = 1
COVARIANCE = 2

# Reference points per chunk of a log-sum-exp row: the chunk's logits (8 KB) stay in L1.
CHUNK = 1024
# Columns per task of a transposed kernel product (a 4 KB accumulator), and the kernel size
# from which the products run on threads.
COLUMN_BLOCK = 512
PRODUCT_PARALLEL_MIN = 1 << 21
EXP32_CLAMP = 100.0
SUM_LOWEST_32 = float(np.exp(-30.0))
SUM_HIGHEST_32 = float(np.exp(30.0))
# A sum of exponentials shifted by a guess is trusted inside [e^-600, e^600].
SUM_LOWEST = float(np.exp(-600.0))
SUM_HIGHEST = float(np.exp(600.0))


def use_parallel(n_rows, n_reference, n_features):
    """Whether a call is big enough for the parallel twin."""
    return parallel_pays(n_rows, n_reference * max(n_features, 1))


@njit(cache=True, inline="always", error_model="numpy")
def _logits(x, Yt, h, inv_eps, buf):
    d, m = Yt.shape
    # Loop over the reference points innermost, along contiguous rows of Y^T: the
    # multiply-adds vectorise, whatever the (usually small) dimension d.
    for j in range(m):
        buf[j] = h[j]
    for k in range(d):
        xk = 2.0 * x[k]
        for j in range(m):
            buf[j] += xk * Yt[k, j]
    top = -np.inf
    for j in range(m):
        v = buf[j] * inv_eps
        buf[j] = v
        if v > top:
            top = v
    return top


@njit(cache=True, inline="always", error_model="numpy")
def _sum_lanes(z):
    """Sum in eight interleaved lanes, combined pairwise: a fixed order that pipelines."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    size = z.shape[0]
    j = 0
    while j + 8 <= size:
        s0 += z[j]
        s1 += z[j + 1]
        s2 += z[j + 2]
        s3 += z[j + 3]
        s4 += z[j + 4]
        s5 += z[j + 5]
        s6 += z[j + 6]
        s7 += z[j + 7]
        j += 8
    total = ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))
    while j < size:
        total += z[j]
        j += 1
    return total


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def _dot_lanes(a, b):
    """``sum_j a_j b_j`` in eight interleaved lanes (fixed order, as :func:`_sum_lanes`)."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    size = a.shape[0]
    j = 0
    while j + 8 <= size:
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        s4 += a[j + 4] * b[j + 4]
        s5 += a[j + 5] * b[j + 5]
        s6 += a[j + 6] * b[j + 6]
        s7 += a[j + 7] * b[j + 7]
        j += 8
    total = ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))
    while j < size:
        total += a[j] * b[j]
        j += 1
    return total


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def _chunk_logits(x, Yt, hs, inv2, start, z):
    """``z_j = hs_j + inv2 <x, y_j>`` for the reference points ``start .. start + len(z)``."""
    size = z.shape[0]
    stop = start + size
    hz = hs[start:stop]
    for j in range(size):
        z[j] = hz[j]
    for k in range(Yt.shape[0]):
        a = inv2 * x[k]
        yk = Yt[k, start:stop]
        for j in range(size):
            z[j] += a * yk[j]


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def _chunk_exps(x, Yt, hs, inv2, shift, start, z, z32, single):
    """``z_j = exp(hs_j + inv2 <x, y_j> - shift)`` for one chunk: float64 logits, and the
    exponentials in float64 or (``single``) in float32 through ``z32``."""
    size = z.shape[0]
    stop = start + size
    if Yt.shape[0] == 2:
        # The common planar case in one loop: the same operations in the same order.
        a0, a1 = inv2 * x[0], inv2 * x[1]
        hz, y0, y1 = hs[start:stop], Yt[0, start:stop], Yt[1, start:stop]
        for j in range(size):
            z[j] = ((hz[j] + a0 * y0[j]) + a1 * y1[j]) - shift
    else:
        _chunk_logits(x, Yt, hs, inv2, start, z)
        for j in range(size):
            z[j] -= shift
    if single:
        # Round the exponent to float32 and keep its rounding error d (exact in float64):
        # exp(z) = exp32(z32) (1 + d) to first order, so |z| does not scale the error.
        for j in range(size):
            # Clamped first (NaN passes): a huge |z| would round to an infinite float32.
            v = z[j]
            if v < -EXP32_CLAMP:
                v = -EXP32_CLAMP
            if v > EXP32_CLAMP:
                v = EXP32_CLAMP
            v32 = np.float32(v)
            z32[j] = v32
            z[j] = v - np.float64(v32)
        for j in range(size):
            z32[j] = fast_exp32(z32[j])
        for j in range(size):
            e = np.float64(z32[j])
            z[j] = e + e * z[j]
    else:
        for j in range(size):
            z[j] = fast_exp(z[j])


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def _shifted_exp_sum(x, Yt, hs, inv2, shift, buf, buf32, single):
    """``sum_j exp(hs_j + inv2 <x, y_j> - shift)``, chunk by chunk through ``buf``.

    Each chunk's logits are written to the buffer, then exponentiated in a separate loop (both
    vectorise), then summed in float64 lanes; the chunks keep the buffer in the L1 cache.
    """
    m = Yt.shape[1]
    total = 0.0
    for start in range(0, m, buf.shape[0]):
        size = min(buf.shape[0], m - start)
        z = buf[:size]
        _chunk_exps(x, Yt, hs, inv2, shift, start, z, buf32[:size], single)
        total += _sum_lanes(z)
    return total


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def _max_logit(x, Yt, hs, inv2, buf):
    m = Yt.shape[1]
    top = -np.inf
    for start in range(0, m, buf.shape[0]):
        z = buf[: min(buf.shape[0], m - start)]
        _chunk_logits(x, Yt, hs, inv2, start, z)
        for j in range(z.shape[0]):
            if z[j] > top:
                top = z[j]
    return top


@njit(cache=True, inline="always", error_model="numpy")
def _lse_row(x, Yt, hs, inv2, shift, buf, buf32, single):
    """``LSE_j(hs_j + inv2 <x, y_j>)``, in one pass when ``shift`` is close to it.

    With a guess ``shift`` (e.g. the previous Sinkhorn iterate) the sum of
    ``exp(logit - shift)`` is accepted when it lies in ``[e^-600, e^600]`` (``[e^-30, e^30]``
    in single precision): then no term overflowed and the largest terms are normal numbers, so
    the result is as accurate as with the largest logit as the shift. Otherwise (or with a NaN
    guess) a first pass finds the largest logit.
    """
    if shift == shift:
        total = _shifted_exp_sum(x, Yt, hs, inv2, shift, buf, buf32, single)
        low, high = (SUM_LOWEST_32, SUM_HIGHEST_32) if single else (SUM_LOWEST, SUM_HIGHEST)
        if low <= total <= high:
            return shift + np.log(total)
    top = _max_logit(x, Yt, hs, inv2, buf)
    if not np.isfinite(top):
        return top
    return top + np.log(_shifted_exp_sum(x, Yt, hs, inv2, top, buf, buf32, single))


@njit(cache=True, nogil=True, error_model="numpy")
def _lse_serial(X, Yt, hs, inv2, shift, single, out):
    size = min(CHUNK, Yt.shape[1])
    buf, buf32 = np.empty(size), np.empty(size, dtype=np.float32)
    for i in range(X.shape[0]):
        out[i] = _lse_row(X[i], Yt, hs, inv2, shift[i], buf, buf32, single)


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def _lse_parallel(X, Yt, hs, inv2, shift, single, out):
    n = X.shape[0]
    n_blocks = (n + ROW_BLOCK - 1) // ROW_BLOCK
    for b in prange(n_blocks):
        size = min(CHUNK, Yt.shape[1])
        buf, buf32 = np.empty(size), np.empty(size, dtype=np.float32)
        for i in range(b * ROW_BLOCK, min(n, (b + 1) * ROW_BLOCK)):
            out[i] = _lse_row(X[i], Yt, hs, inv2, shift[i], buf, buf32, single)


def log_sum_exp(X, Y, h, inv_eps, shift=None, single=False):
    """``LSE_j((h_j + 2 <x_i, y_j>) * inv_eps)`` for every row ``x_i`` of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
        Query points.
    Y : ndarray of shape (m, d), float64, C-contiguous
        Reference points.
    h : ndarray of shape (m,), float64
        Potential on the reference points (log-weights included).
    inv_eps : float
        Inverse regularisation ``1 / eps``.
    shift : ndarray of shape (n,) or None
        Guesses of the results (NaN: none). A guess within about 600 of the result saves the
        pass that finds each row's largest logit; the result does not depend on it beyond
        rounding.
    single : bool, default=False
        Exponentials in float32 (logits and sums stay float64): about 1.5x faster, with a
        relative error of about 1e-7 per term, so the log-sum-exps are exact to about 1e-7.

    Returns
    -------
    out : ndarray of shape (n,)
    """
    out = np.empty(X.shape[0])
    Yt = np.ascontiguousarray(Y.T)
    hs = np.ascontiguousarray(h, dtype=np.float64) * inv_eps
    shift = np.full(X.shape[0], np.nan) if shift is None else np.ascontiguousarray(shift)
    twin = _lse_parallel if use_parallel(X.shape[0], Y.shape[0], Y.shape[1]) else _lse_serial
    twin(X, Yt, hs, 2.0 * inv_eps, shift, bool(single), out)
    return out


@njit(cache=True, inline="always", error_model="numpy")
def _moments_row(i, X, Y, Yt, h, inv_eps, order, buf, lse, mean, cov):
    m, d = Y.shape
    top = _logits(X[i], Yt, h, inv_eps, buf)
    # Every weight is computed (fast_exp vectorises; it flushes only those below e^-708): the
    # covariance of a concentrated softmax is made of the tiny weights.
    for j in range(m):
        buf[j] = fast_exp(buf[j] - top)
    total = _sum_lanes(buf)
    lse[i] = top + np.log(total)
    if order < MEAN:
        return
    scale = 1.0 / total
    for j in range(m):
        buf[j] *= scale
    for k in range(d):
        mean[i, k] = _dot_lanes(buf, Yt[k])
    if order < COVARIANCE:
        return
    # Centred second pass: the covariance of a concentrated softmax is tiny, and the raw
    # second moment minus the squared mean would lose it to cancellation.
    for k in range(d):
        for q in range(k, d):
            cov[i, k, q] = 0.0
    for j in range(m):
        w = buf[j]
        if w == 0.0:
            continue
        for k in range(d):
            a = w * (Y[j, k] - mean[i, k])
            for q in range(k, d):
                cov[i, k, q] += a * (Y[j, q] - mean[i, q])
    for k in range(d):
        for q in range(k + 1, d):
            cov[i, q, k] = cov[i, k, q]


@njit(cache=True, nogil=True, error_model="numpy")
def _moments_serial(X, Y, Yt, h, inv_eps, order, lse, mean, cov):
    buf = np.empty(Y.shape[0])
    for i in range(X.shape[0]):
        _moments_row(i, X, Y, Yt, h, inv_eps, order, buf, lse, mean, cov)


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def _moments_parallel(X, Y, Yt, h, inv_eps, order, lse, mean, cov):
    n = X.shape[0]
    n_blocks = (n + ROW_BLOCK - 1) // ROW_BLOCK
    for b in prange(n_blocks):
        buf = np.empty(Y.shape[0])
        for i in range(b * ROW_BLOCK, min(n, (b + 1) * ROW_BLOCK)):
            _moments_row(i, X, Y, Yt, h, inv_eps, order, buf, lse, mean, cov)


def softmax_moments(X, Y, h, inv_eps, order):
    """Log-sum-exp, mean and covariance of the softmax weights over the reference points.

    The weights at ``x_i`` are ``w_ij = softmax_j((h_j + 2 <x_i, y_j>) * inv_eps)``.

    Parameters
    ----------
    X, Y, h, inv_eps
        As in :func:`log_sum_exp`.
    order : {LSE, MEAN, COVARIANCE}
        How far to go: the log-sum-exp only, also the weighted mean of ``Y``, or also the
        weighted covariance of ``Y``.

    Returns
    -------
    lse : ndarray of shape (n,)
    mean : ndarray of shape (n, d) or None
    cov : ndarray of shape (n, d, d) or None
    """
    n, d = X.shape[0], Y.shape[1]
    lse = np.empty(n)
    mean = np.empty((n, d) if order >= MEAN else (0, d))
    cov = np.empty((n, d, d) if order >= COVARIANCE else (0, d, d))
    Yt = np.ascontiguousarray(Y.T)
    if use_parallel(n, Y.shape[0], d):
        _moments_parallel(X, Y, Yt, h, inv_eps, order, lse, mean, cov)
    else:
        _moments_serial(X, Y, Yt, h, inv_eps, order, lse, mean, cov)
    return lse, (mean if order >= MEAN else None), (cov if order >= COVARIANCE else None)


@njit(parallel=True, cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
def _gibbs_rows(X, Yt, y_sq, inv_eps, out, row_top):
    n = X.shape[0]
    d, m = Yt.shape
    for i in prange(n):
        # In a float64 row buffer (the output may be float32).
        row = np.empty(m)
        x_sq = 0.0
        for k in range(d):
            x_sq += X[i, k] * X[i, k]
        # 2 <x_i, y_j> - |y_j|^2 (vectorised loops), then the shift by -|x_i|^2 and exp.
        for j in range(m):
            row[j] = -y_sq[j]
        for k in range(d):
            xk = 2.0 * X[i, k]
            yk = Yt[k]
            for j in range(m):
                row[j] += xk * yk[j]
        top = 0.0
        for j in range(m):
            v = (x_sq - row[j]) * inv_eps
            row[j] = v
            top = max(top, v)
        row_top[i] = top
        target = out[i]
        for j in range(m):
            target[j] = fast_exp(-row[j])


def gibbs_kernel(X, Y, inv_eps, out):
    """``out[i, j] = exp(-|x_i - y_j|^2 * inv_eps)``, parallel across rows.

    Written as ``exp((2 <x_i, y_j> - |x_i|^2 - |y_j|^2) * inv_eps)`` so the inner loop
    vectorises; rounding can put an entry a hair above 1 when ``x_i == y_j``, which is harmless.
    ``out`` may be float64 or float32 (computed in float64, then rounded).

    Returns
    -------
    float
        The largest exponent ``max_ij |x_i - y_j|^2 * inv_eps`` (at least 0).
    """
    row_top = np.empty(X.shape[0])
    _gibbs_rows(X, np.ascontiguousarray(Y.T), np.einsum("ij,ij->i", Y, Y), inv_eps, out, row_top)
    return float(np.max(row_top, initial=0.0))


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def _column_block_times(K, u, b, out):
    start = b * COLUMN_BLOCK
    stop = min(K.shape[1], start + COLUMN_BLOCK)
    acc = np.zeros(stop - start)
    for i in range(K.shape[0]):
        ui = u[i]
        row = K[i, start:stop]
        for j in range(stop - start):
            acc[j] += ui * row[j]
    out[start:stop] = acc


@njit(cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
def _rows_times_serial(K, v, out):
    for i in range(K.shape[0]):
        out[i] = _dot_lanes(K[i], v)


@njit(parallel=True, cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
def _rows_times_parallel(K, v, out):
    for i in prange(K.shape[0]):
        out[i] = _dot_lanes(K[i], v)


@njit(cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
def _cols_times_serial(K, u, out):
    for b in range((K.shape[1] + COLUMN_BLOCK - 1) // COLUMN_BLOCK):
        _column_block_times(K, u, b, out)


@njit(parallel=True, cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
def _cols_times_parallel(K, u, out):
    for b in prange((K.shape[1] + COLUMN_BLOCK - 1) // COLUMN_BLOCK):
        _column_block_times(K, u, b, out)


def kernel_times(K, v, transpose=False):
    """``K @ v`` (or ``K.T @ v``) of a float32 kernel, accumulated in float64.

    Parallel across output entries, each summed in a fixed order, so the result does not
    depend on the number of threads (unlike a multi-threaded BLAS).

    Parameters
    ----------
    K : ndarray of shape (n, m), float32, C-contiguous
    v : ndarray of shape (m,) or (n,) with ``transpose``, float64
    transpose : bool, default=False

    Returns
    -------
    ndarray of shape (n,) or (m,), float64
    """
    v = np.ascontiguousarray(v, dtype=np.float64)
    # A product is memory-bound and short (0.2 ns per entry): threads pay only on big kernels.
    parallel = K.size >= PRODUCT_PARALLEL_MIN
    if transpose:
        out = np.empty(K.shape[1])
        (_cols_times_parallel if parallel else _cols_times_serial)(K, v, out)
    else:
        out = np.empty(K.shape[0])
        (_rows_times_parallel if parallel else _rows_times_serial)(K, v, out)
    return out
