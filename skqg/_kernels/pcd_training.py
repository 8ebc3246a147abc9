"""One epoch of persistent-chain RBM training (PCD and parallel tempering) in one compiled call.

A Python loop over mini-batches pays an interpreter and dispatch cost per update (tens of
microseconds, several array temporaries) that dwarfs the arithmetic of small models: at
64 x 16 units and batches of 10 rows one update is a few thousand multiply-adds. Here the whole
epoch runs in one call. Per mini-batch:

1. the batch rows (dense or CSR) are gathered into the top of a stacked visible buffer ``V``;
2. the data term: hidden means ``sigmoid(V_batch W^T + b)`` into the top of ``H``;
3. the model term: ``k`` block-Gibbs sweeps of every replica's persistent chains (hidden states
   ``chains[t]``) at its inverse temperature ``betas[t]``; replica 0 (beta = 1) writes its
   visible draws into the bottom of ``V`` and its hidden means into the bottom of ``H``;
4. with several replicas, neighbours exchange chains with the Metropolis probability
   ``min(1, exp((beta_t - beta_t+1) (E_t - E_t+1)))`` on the joint energies, even or odd pairs
   by a coin flip (Desjardins et al. 2010); attempts and acceptances are counted per pair;
5. the weight gradient ``E_data[h v^T] - E_model[h v^T]`` as one product ``H^T V`` with the rows
   of ``H`` weighted +1/n_batch and -1/n_chains;
6. one fused gradient-ascent step per parameter (:func:`skqg._kernels.ascent_steps.update_row`).

The matrix products go to BLAS (``np.dot`` on contiguous blocks); the elementwise work runs in
row loops, parallel in the threaded twin. Every draw comes from the stream of ``(seed, row)``
(:mod:`skqg._kernels.gibbs_sampling`) with the seeds drawn in Python, so the result does not
depend on the number of threads.
"""

import math

import numpy as np
from numba import njit, prange

from skqg._kernels.ascent_steps import update_row
from skqg._kernels.gibbs_sampling import (
    KIND_BERNOULLI,
    KIND_GAUSSIAN,
    bernoulli_means,
    sample_row,
)
from skqg._kernels.random_streams import seed_state, uniform


# Reassociation lets the row sums below run in SIMD lanes. They are compiled functions of their
# own, not inlined (Numba's IR inlining would drop the flag); the summation order is fixed by the
# compiled code, never by the thread count.
@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(x, y):
    """``sum_i x_i y_i`` in float64."""
    total = 0.0
    for i in range(x.shape[0]):
        total += np.float64(x[i]) * np.float64(y[i])
    return total


@njit(cache=True, fastmath={"reassoc", "contract"})
def _half_squared_distance(x, y):
    """``sum_i (x_i - y_i)^2 / 2`` in float64."""
    total = 0.0
    for i in range(x.shape[0]):
        gap = np.float64(x[i]) - np.float64(y[i])
        total += gap * gap
    return 0.5 * total


@njit(cache=True, inline="always")
def _visible_term(v, a, kind):
    # The visible part of minus the energy: a.v, or -|v - a|^2 / 2 for Gaussian units.
    if kind == KIND_GAUSSIAN:
        return -_half_squared_distance(v, a)
    return _dot(v, a)


@njit(cache=True, inline="always")
def _swap_replicas(chains, energies, betas, seed, attempts, accepts):
    """Metropolis exchanges between neighbouring replicas (one stream: serial, deterministic)."""
    n_replicas, n_chains, n_hidden = chains.shape
    state = np.empty(4, dtype=np.uint64)
    seed_state(seed, state)
    parity = 1 if uniform(state) < 0.5 else 0
    for t in range(parity, n_replicas - 1, 2):
        gap = betas[t] - betas[t + 1]
        for i in range(n_chains):
            attempts[t] += 1
            log_ratio = gap * (energies[t, i] - energies[t + 1, i])
            if math.log(1.0 - uniform(state)) < log_ratio:
                accepts[t] += 1
                for j in range(n_hidden):
                    held = chains[t, i, j]
                    chains[t, i, j] = chains[t + 1, i, j]
                    chains[t + 1, i, j] = held


@njit(cache=True, inline="always")
def _column_mean_difference(top, bottom, out):
    """``out[0] = mean(top, axis=0) - mean(bottom, axis=0)``, row by row (contiguous reads),
    serially, so the bias gradients do not depend on the thread count."""
    pos = np.zeros(out.shape[1])
    neg = np.zeros(out.shape[1])
    for r in range(top.shape[0]):
        for j in range(out.shape[1]):
            pos[j] += top[r, j]
    for r in range(bottom.shape[0]):
        for j in range(out.shape[1]):
            neg[j] += bottom[r, j]
    for j in range(out.shape[1]):
        out[0, j] = pos[j] / top.shape[0] - neg[j] / bottom.shape[0]


@njit(cache=True, inline="always")
def _data_term(data, start, W, b, V_data, H_data):
    """Gather the batch rows (dense or CSR) and their hidden means ``sigmoid(V W^T + b)``."""
    X, csr_data, csr_indices, csr_indptr, order, sparse = data
    for r in prange(V_data.shape[0]):
        row = order[start + r]
        if sparse:
            V_data[r] = 0.0
            for p in range(csr_indptr[row], csr_indptr[row + 1]):
                V_data[r, csr_indices[p]] = csr_data[p]
        else:
            V_data[r] = X[row]
    np.dot(V_data, W.T, H_data)
    for r in prange(H_data.shape[0]):
        bernoulli_means(r, H_data, b, 1.0, H_data)


@njit(cache=True, inline="always")
def _replica_sweeps(t, params, kind, beta, seeds, V_t, H_t, buffers, energies):
    """``k`` Gibbs sweeps of replica ``t`` (draws into ``V_t``, hidden means into ``H_t``,
    states into ``chains[t]``), then its chains' joint energies when there are replicas."""
    W, a, b, chains = params
    field_v, field_h = buffers
    k = seeds.shape[0] // 2
    noise = 1.0 / math.sqrt(beta)
    for sweep in range(k):
        np.dot(chains[t], W, field_v)
        for r in prange(field_v.shape[0]):
            sample_row(r, field_v, a, beta, noise, kind, seeds[2 * sweep], field_v, V_t)
        np.dot(V_t, W.T, field_h)
        for r in prange(field_h.shape[0]):
            seed = seeds[2 * sweep + 1]
            sample_row(r, field_h, b, beta, 1.0, KIND_BERNOULLI, seed, H_t, chains[t])
    if chains.shape[0] > 1:
        for r in prange(field_h.shape[0]):
            interaction = _dot(chains[t, r], field_h[r]) + _dot(chains[t, r], b)
            energies[t, r] = -_visible_term(V_t[r], a, kind) - interaction


@njit(cache=True, inline="always")
def _weight_gradient(V, H, n_batch, n_chains, out):
    """E_data[h v^T] - E_model[h v^T] as one product of the stacked, signed, weighted rows,
    into ``out`` (a new 2 MB array per update would cost its page faults every time)."""
    n_stacked = n_batch + n_chains
    for r in prange(n_stacked):
        weight = 1.0 / n_batch if r < n_batch else -1.0 / n_chains
        for j in range(H.shape[1]):
            H[r, j] *= weight
    np.dot(H[:n_stacked].T, V[:n_stacked], out)


@njit(cache=True, inline="always")
def _ascent(params, state, hyper, gradients, t_step):
    """One gradient-ascent step (Adam's bias corrections folded into the rate); the biases
    take no penalty."""
    W, a, b, _ = params
    first_w, second_w, first_a, second_a, first_b, second_b = state
    rate, momentum, beta2, epsilon, decay, l1, adam = hyper
    grad_w, grad_a, grad_b = gradients
    if adam:
        rate *= math.sqrt(1.0 - beta2**t_step) / (1.0 - momentum**t_step)
    for j in prange(W.shape[0]):
        update_row(j, W, grad_w, first_w, second_w, rate, momentum, beta2, epsilon, decay, l1, adam)
    none = 0.0
    a_row, b_row = a.reshape((1, a.shape[0])), b.reshape((1, b.shape[0]))
    update_row(
        0, a_row, grad_a, first_a, second_a, rate, momentum, beta2, epsilon, none, none, adam
    )
    update_row(
        0, b_row, grad_b, first_b, second_b, rate, momentum, beta2, epsilon, none, none, adam
    )


@njit(cache=True, inline="always")
def _epoch(data, params, state, hyper, kind, seeds, betas, swaps, batch_size, step):
    W, chains = params[0], params[3]
    n_hidden, n_visible = W.shape
    n_replicas, n_chains = chains.shape[0], chains.shape[1]
    n_rows = data[4].shape[0]
    k = (seeds.shape[1] - 1) // (2 * n_replicas)
    dtype = W.dtype
    V = np.empty((batch_size + n_chains, n_visible), dtype=dtype)
    H = np.empty((batch_size + n_chains, n_hidden), dtype=dtype)
    V_hot = np.empty((n_replicas, n_chains, n_visible), dtype=dtype)
    H_hot = np.empty((n_replicas, n_chains, n_hidden), dtype=dtype)
    buffers = (
        np.empty((n_chains, n_visible), dtype=dtype),
        np.empty((n_chains, n_hidden), dtype=dtype),
    )
    energies = np.zeros((n_replicas, n_chains))
    grad_a = np.empty((1, n_visible), dtype=dtype)
    grad_b = np.empty((1, n_hidden), dtype=dtype)
    grad_w = np.empty((n_hidden, n_visible), dtype=dtype)
    for batch, start in enumerate(range(0, n_rows, batch_size)):
        n_batch = min(batch_size, n_rows - start)
        V_data, H_data = V[:n_batch], H[:n_batch]
        _data_term(data, start, W, params[2], V_data, H_data)
        # Model term: k sweeps of each replica; replica 0's draws feed the gradient.
        V_model = V[n_batch : n_batch + n_chains]
        H_model = H[n_batch : n_batch + n_chains]
        for t in range(n_replicas):
            V_t = V_model if t == 0 else V_hot[t]
            H_t = H_model if t == 0 else H_hot[t]
            sweep_seeds = seeds[batch, 2 * t * k : 2 * (t + 1) * k]
            _replica_sweeps(t, params, kind, betas[t], sweep_seeds, V_t, H_t, buffers, energies)
        if n_replicas > 1:
            _swap_replicas(chains, energies, betas, seeds[batch, -1], swaps[0], swaps[1])
        _column_mean_difference(V_data, V_model, grad_a)
        _column_mean_difference(H_data, H_model, grad_b)
        _weight_gradient(V, H, n_batch, n_chains, grad_w)
        _ascent(params, state, hyper, (grad_w, grad_a, grad_b), step + batch + 1)


@njit(cache=True, error_model="numpy")
def _epoch_serial(data, params, state, hyper, kind, seeds, betas, swaps, batch_size, step):
    _epoch(data, params, state, hyper, kind, seeds, betas, swaps, batch_size, step)


@njit(parallel=True, cache=True, error_model="numpy")
def _epoch_parallel(data, params, state, hyper, kind, seeds, betas, swaps, batch_size, step):
    _epoch(data, params, state, hyper, kind, seeds, betas, swaps, batch_size, step)


def n_batches(n_rows, batch_size):
    """Mini-batches in an epoch of ``n_rows`` rows (the last one may be short)."""
    return -(-n_rows // batch_size)


def n_seeds(n_replicas, k):
    """Seeds per update: a visible and a hidden draw per sweep and replica, and the swaps'."""
    return 2 * n_replicas * k + 1


def persistent_epoch(
    data, params, state, hyper, kind, seeds, betas, swaps, batch_size, step, *, parallel
):
    """Run one epoch of persistent-chain updates in place.

    Parameters
    ----------
    data : tuple
        ``(X, csr_data, csr_indices, csr_indptr, order, sparse)``: the training rows, dense
        (``X``, C-contiguous, W's dtype; the CSR arrays empty) or CSR (``X`` of shape
        ``(0, n_visible)``), and the visiting order (int64); consecutive runs of
        ``batch_size`` form the mini-batches.
    params : tuple
        ``(W, a, b, chains)``: weights (n_hidden, n_visible), visible and hidden biases, and the
        hidden states of the persistent chains, shape (n_replicas, n_chains, n_hidden); all
        updated in place.
    state : tuple of six 2-D ndarrays
        First and second moment buffers of W, a (1, n_visible) and b (1, n_hidden).
    hyper : tuple
        ``(rate, momentum, beta2, epsilon, decay, l1, adam)`` as in
        :func:`skqg._kernels.ascent_steps.ascent_step` (``rate`` without Adam's corrections).
    kind : int
        Visible unit kind (``gibbs_sampling.KIND_*``).
    seeds : ndarray of int64, shape (n_batches, n_seeds(n_replicas, k))
        Per update: the visible and hidden draws' seeds of each sweep of each replica, in
        replica-major order, then the seed of the replica exchanges.
    betas : ndarray of float64, shape (n_replicas,)
        Inverse temperatures; ``betas[0]`` must be 1 (the model itself).
    swaps : tuple of two int64 ndarrays of shape (n_replicas - 1,)
        Exchange attempts and acceptances per neighbouring pair; incremented in place.
    batch_size : int
    step : int
        Updates made before this epoch (Adam's bias corrections count from it).
    parallel : bool
        Run the elementwise loops on Numba's threads.
    """
    kernel = _epoch_parallel if parallel else _epoch_serial
    hyper = (*(float(value) for value in hyper[:6]), bool(hyper[6]))
    kernel(data, params, state, hyper, int(kind), seeds, betas, swaps, int(batch_size), int(step))
