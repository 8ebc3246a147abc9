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

Kernels take C-contiguous float64 arrays. A serial twin serves small inputs, where starting the
thread pool costs more than it saves.
"""

import numpy as np
from numba import njit, prange

from skqg._kernels.parallel_policy import parallel_pays

# Rows handled by one task of the parallel loop: each task owns one logits buffer.
ROW_BLOCK = 32
# exp(-50) is 2e-22: terms further below the largest logit cannot change a float64 sum of up to
# 10^5 terms, so their exponentials are skipped (they dominate the cost at small regularisation).
NEGLIGIBLE = -50.0

LSE = 0
MEAN = 1
COVARIANCE = 2


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
def _lse_row(x, Yt, h, inv_eps, buf):
    top = _logits(x, Yt, h, inv_eps, buf)
    total = 0.0
    for j in range(Yt.shape[1]):
        # Compare the difference: top + NEGLIGIBLE rounds to top once |top| > 1e17.
        z = buf[j] - top
        if z > NEGLIGIBLE:
            total += np.exp(z)
    return top + np.log(total)


@njit(cache=True, error_model="numpy")
def _lse_serial(X, Yt, h, inv_eps, out):
    buf = np.empty(Yt.shape[1])
    for i in range(X.shape[0]):
        out[i] = _lse_row(X[i], Yt, h, inv_eps, buf)


@njit(parallel=True, cache=True, error_model="numpy")
def _lse_parallel(X, Yt, h, inv_eps, out):
    n = X.shape[0]
    n_blocks = (n + ROW_BLOCK - 1) // ROW_BLOCK
    for b in prange(n_blocks):
        buf = np.empty(Yt.shape[1])
        for i in range(b * ROW_BLOCK, min(n, (b + 1) * ROW_BLOCK)):
            out[i] = _lse_row(X[i], Yt, h, inv_eps, buf)


def log_sum_exp(X, Y, h, inv_eps):
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

    Returns
    -------
    out : ndarray of shape (n,)
    """
    out = np.empty(X.shape[0])
    Yt = np.ascontiguousarray(Y.T)
    if use_parallel(X.shape[0], Y.shape[0], Y.shape[1]):
        _lse_parallel(X, Yt, h, inv_eps, out)
    else:
        _lse_serial(X, Yt, h, inv_eps, out)
    return out


@njit(cache=True, inline="always", error_model="numpy")
def _moments_row(i, X, Y, Yt, h, inv_eps, order, buf, lse, mean, cov):
    m, d = Y.shape
    top = _logits(X[i], Yt, h, inv_eps, buf)
    total = 0.0
    # The covariance of a concentrated softmax is made of the tiny weights, so they are all
    # kept when it is wanted; the log-sum-exp and the mean do not feel them.
    floor = -np.inf if order >= COVARIANCE else NEGLIGIBLE
    for j in range(m):
        z = buf[j] - top
        w = np.exp(z) if z > floor else 0.0
        buf[j] = w
        total += w
    lse[i] = top + np.log(total)
    if order < MEAN:
        return
    scale = 1.0 / total
    for j in range(m):
        buf[j] *= scale
    for k in range(d):
        mean[i, k] = 0.0
    for j in range(m):
        w = buf[j]
        if w == 0.0:
            continue
        for k in range(d):
            mean[i, k] += w * Y[j, k]
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


@njit(cache=True, error_model="numpy")
def _moments_serial(X, Y, Yt, h, inv_eps, order, lse, mean, cov):
    buf = np.empty(Y.shape[0])
    for i in range(X.shape[0]):
        _moments_row(i, X, Y, Yt, h, inv_eps, order, buf, lse, mean, cov)


@njit(parallel=True, cache=True, error_model="numpy")
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


@njit(parallel=True, cache=True, error_model="numpy")
def _gibbs_rows(X, Yt, y_sq, inv_eps, out):
    n = X.shape[0]
    m = Yt.shape[1]
    neg_y_sq = -y_sq
    for i in prange(n):
        row = out[i]
        # Logits of h = -|y|^2 (vectorised loop), then shift by -|x_i|^2 / eps.
        _logits(X[i], Yt, neg_y_sq, inv_eps, row)
        x_sq = 0.0
        for k in range(X.shape[1]):
            x_sq += X[i, k] * X[i, k]
        shift = x_sq * inv_eps
        for j in range(m):
            row[j] = np.exp(row[j] - shift)


def gibbs_kernel(X, Y, inv_eps, out):
    """``out[i, j] = exp(-|x_i - y_j|^2 * inv_eps)``, parallel across rows.

    Written as ``exp((2 <x_i, y_j> - |x_i|^2 - |y_j|^2) * inv_eps)`` so the inner loop
    vectorises; rounding can put an entry a hair above 1 when ``x_i == y_j``, which is harmless.
    """
    _gibbs_rows(X, np.ascontiguousarray(Y.T), np.einsum("ij,ij->i", Y, Y), inv_eps, out)
