"""Log-density of an equally weighted Gaussian mixture, for several isotropic inflations at once.

Component ``j`` has mean ``mu_j`` and covariance ``U_j diag(lam_j) U_j^T + s^2 I``: stored by its
eigenvectors and eigenvalues, so the inflation ``s^2`` only shifts the eigenvalues and one pass
over the components serves a whole grid of ``s`` (how the bandwidth is chosen). ``U_j`` may
have fewer columns ``r`` than the dimension ``d`` (a covariance of rank ``r``, as when it is
built from fewer points than features): the complement of its columns then has variance
``s^2``, and its squared length is ``|x - mu_j|^2`` minus the squared coordinates. Each query row
projects onto every component's eigenbasis once and accumulates a running log-sum-exp per
bandwidth, so memory is ``O(n_bandwidths)`` per thread and rows are independent: the results do
not depend on the number of threads.
"""

import numpy as np
from numba import njit, prange

from skqg._kernels.parallel_policy import parallel_pays

_LOG_2PI = float(np.log(2.0 * np.pi))
# exp(-40) is 4e-18: a term that far below the largest one cannot change a float64 sum of up to
# 10^5 terms by more than its rounding, so its exponential is skipped (most components are far
# from any given point).
NEGLIGIBLE = 40.0


@njit(cache=True, inline="always", error_model="numpy")
def _row(x, means, vectors, inverse_values, half_log_dets, ceilings, widest, work, out_row):
    m, d = means.shape
    r = vectors.shape[2]
    n_s = half_log_dets.shape[1]
    # The complement's inverse variances 1 / s^2 are the last column of inverse_values.
    proj, top, total = work[0, : r + 1], work[1, :n_s], work[2, :n_s]
    for s in range(n_s):
        top[s] = -np.inf
        total[s] = 0.0
    floor = -np.inf  # the smallest running maximum over the inflations
    for j in range(m):
        # Squared coordinates of x - mu_j in the component's eigenbasis, and (rank r < d) the
        # squared length of the rest in the last slot.
        length = 0.0
        if r < d:
            for q in range(d):
                diff = x[q] - means[j, q]
                length += diff * diff
        for k in range(r):
            acc = 0.0
            for q in range(d):
                acc += vectors[j, q, k] * (x[q] - means[j, q])
            proj[k] = acc * acc
            length -= proj[k]
        proj[r] = max(length, 0.0) if r < d else 0.0
        # The widest inflation has the smallest quadratic form and ceilings[j] the largest
        # normaliser: if even their sum is negligible at every inflation, skip the component.
        wide = 0.0
        for k in range(r + 1):
            wide += proj[k] * inverse_values[j, widest, k]
        if ceilings[j] - 0.5 * wide < floor - NEGLIGIBLE:
            continue
        raised = False
        for s in range(n_s):
            quad = 0.0
            for k in range(r + 1):
                quad += proj[k] * inverse_values[j, s, k]
            z = -0.5 * quad - half_log_dets[j, s]
            # Running log-sum-exp: rescale the sum whenever a larger term arrives. Terms more
            # than NEGLIGIBLE below the running maximum cannot change the sum.
            if z < top[s] - NEGLIGIBLE:
                continue
            if z > top[s]:
                total[s] = total[s] * np.exp(top[s] - z) + 1.0
                top[s] = z
                raised = True
            else:
                total[s] += np.exp(z - top[s])
        if raised:
            floor = top[0]
            for s in range(1, n_s):
                floor = min(floor, top[s])
    for s in range(n_s):
        out_row[s] = top[s] + np.log(total[s]) - np.log(m) - 0.5 * d * _LOG_2PI


@njit(cache=True, error_model="numpy")
def _serial(X, means, vectors, inverse_values, half_log_dets, ceilings, widest, out):
    work = np.empty((3, max(vectors.shape[2] + 1, half_log_dets.shape[1])))
    for i in range(X.shape[0]):
        _row(X[i], means, vectors, inverse_values, half_log_dets, ceilings, widest, work, out[i])


@njit(parallel=True, cache=True, error_model="numpy")
def _parallel(X, means, vectors, inverse_values, half_log_dets, ceilings, widest, out):
    size = max(vectors.shape[2] + 1, half_log_dets.shape[1])
    for i in prange(X.shape[0]):
        work = np.empty((3, size))
        _row(X[i], means, vectors, inverse_values, half_log_dets, ceilings, widest, work, out[i])


def mixture_log_density(X, means, vectors, values, inflations):
    """``log (1/m) sum_j N(x_i; mu_j, U_j diag(lam_j) U_j^T + s^2 I)`` for every row and ``s^2``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
        Query points.
    means : ndarray of shape (m, d)
        Component means.
    vectors : ndarray of shape (m, d, r)
        Orthonormal eigenvectors of the components' covariances, in columns (``r <= d``; a
        zero column is allowed where its eigenvalue is 0).
    values : ndarray of shape (m, r)
        Their eigenvalues (non-negative); the other ``d - r`` are 0.
    inflations : ndarray of shape (n_s,)
        Isotropic variances ``s^2`` added to every component (positive).

    Returns
    -------
    ndarray of shape (n, n_s)
        Log-densities in nats, one column per inflation.
    """
    n, d = X.shape
    r = values.shape[1]
    out = np.empty((n, inflations.shape[0]))
    # Per component and inflation: the inverse variances (the complement's 1 / s^2 last) and
    # half the log-determinant.
    inflations = np.asarray(inflations, dtype=np.float64)
    variances = values[:, None, :] + inflations[None, :, None]
    half_log_dets = 0.5 * (np.log(variances).sum(axis=2) + (d - r) * np.log(inflations))
    inverse_values = np.concatenate(
        [
            1.0 / variances,
            np.broadcast_to(1.0 / inflations[None, :, None], (len(means), len(inflations), 1)),
        ],
        axis=2,
    )
    args = (
        np.ascontiguousarray(X, dtype=np.float64),
        np.ascontiguousarray(means, dtype=np.float64),
        np.ascontiguousarray(vectors, dtype=np.float64),
        np.ascontiguousarray(inverse_values),
        np.ascontiguousarray(half_log_dets),
        np.ascontiguousarray(-half_log_dets.min(axis=1)),
        int(np.argmax(inflations)),
        out,
    )
    work = means.shape[0] * (d * r + d + r * inflations.shape[0])
    if parallel_pays(n, work):
        _parallel(*args)
    else:
        _serial(*args)
    return out
