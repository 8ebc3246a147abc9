"""Exact sums over every state of one binary layer of an RBM, by Gray-code enumeration.

Summing out the other layer analytically, an RBM's partition function is

    Z = sum_{s in layer A} exp(d . s) prod_b exp(log_normaliser(c_b + (M^T s)_b)),

a sum over the 2**n_A states of the enumerated layer A ({0, 1} or {-1, +1} units). Visiting the
states in Gray-code order changes one unit at a time, so each state costs one row update of the
field ``c + M^T s`` (O(n_B)) instead of a matrix-vector product. The range of states is cut into
fixed chunks that run in parallel; each chunk rebuilds its field from scratch (bounding rounding
drift) and keeps a running log-sum-exp, so results do not depend on the number of threads.

(The exact gradient's moments need a weighted outer product per state, which BLAS does better:
see :func:`skqg.rbm._partition.exact_model_moments`.)
"""

import math

import numpy as np
from numba import njit, prange

from skqg._kernels.gibbs_sampling import KIND_SPIN, log_normaliser

CHUNK_BITS = 12


def n_chunks(n_units):
    """Number of enumeration chunks for a layer of ``n_units`` binary units."""
    return 1 << max(0, n_units - CHUNK_BITS)


@njit(cache=True, inline="always")
def _gray(index):
    return index ^ (index >> 1)


@njit(cache=True, inline="always")
def _lowest_set_bit(index):
    bit = 0
    while (index >> bit) & 1 == 0:
        bit += 1
    return bit


@njit(cache=True)
def _start_chunk(first, coupling, field_bias, state_bias, kind_a, state, field):
    # Unit values and field of the Gray-code state number `first`; returns d . s.
    n_a, n_b = coupling.shape
    code = _gray(first)
    for b in range(n_b):
        field[b] = field_bias[b]
    linear = 0.0
    for a in range(n_a):
        on = (code >> a) & 1
        if kind_a == KIND_SPIN:
            value = 1.0 if on else -1.0
        else:
            value = 1.0 if on else 0.0
        state[a] = value
        if value != 0.0:
            linear += value * state_bias[a]
            for b in range(n_b):
                field[b] += value * coupling[a, b]
    return linear


@njit(cache=True, inline="always")
def _flip(a, coupling, state_bias, kind_a, state, field, linear):
    # Change unit `a` (the next Gray-code step) and return the new d . s.
    n_b = coupling.shape[1]
    if kind_a == KIND_SPIN:
        delta = -2.0 * state[a]
    else:
        delta = 1.0 - 2.0 * state[a]
    state[a] += delta
    for b in range(n_b):
        field[b] += delta * coupling[a, b]
    return linear + delta * state_bias[a]


@njit(cache=True, inline="always")
def _log_weight(field, kind_b, linear):
    total = linear
    for b in range(field.shape[0]):
        total += log_normaliser(field[b], kind_b)
    return total


@njit(cache=True, inline="always")
def _chunk_log_sum(chunk, chunk_size, coupling, field_bias, state_bias, kind_a, kind_b, out):
    n_a, n_b = coupling.shape
    state = np.empty(n_a)
    field = np.empty(n_b)
    first = chunk * chunk_size
    linear = _start_chunk(first, coupling, field_bias, state_bias, kind_a, state, field)
    peak = _log_weight(field, kind_b, linear)
    acc = 1.0
    for index in range(first + 1, first + chunk_size):
        linear = _flip(_lowest_set_bit(index), coupling, state_bias, kind_a, state, field, linear)
        lw = _log_weight(field, kind_b, linear)
        if lw > peak:
            acc = acc * math.exp(peak - lw) + 1.0
            peak = lw
        else:
            acc += math.exp(lw - peak)
    out[chunk] = peak + math.log(acc)


@njit(cache=True)
def _chunk_log_sums_serial(coupling, field_bias, state_bias, kind_a, kind_b, chunk_size, out):
    for chunk in range(out.shape[0]):
        _chunk_log_sum(chunk, chunk_size, coupling, field_bias, state_bias, kind_a, kind_b, out)


@njit(parallel=True, cache=True)
def _chunk_log_sums_parallel(coupling, field_bias, state_bias, kind_a, kind_b, chunk_size, out):
    for chunk in prange(out.shape[0]):
        _chunk_log_sum(chunk, chunk_size, coupling, field_bias, state_bias, kind_a, kind_b, out)


def chunk_log_sums(coupling, field_bias, state_bias, kind_a, kind_b):
    """Log of the partial sums of ``exp(log weight)`` over each chunk of states.

    Parameters
    ----------
    coupling : ndarray of float64, shape (n_a, n_b)
        ``M``: row ``a`` is added to layer B's field when unit ``a`` turns on.
    field_bias : ndarray of float64, shape (n_b,)
        ``c``, the bias of layer B.
    state_bias : ndarray of float64, shape (n_a,)
        ``d``, the bias of the enumerated layer A.
    kind_a, kind_b : int
        Unit kinds (see :mod:`skqg._kernels.gibbs_sampling`); ``kind_a`` is binary or spin.

    Returns
    -------
    ndarray of float64, shape (n_chunks,)
        Their log-sum-exp is log Z.
    """
    n_a = coupling.shape[0]
    total_chunks = n_chunks(n_a)
    out = np.empty(total_chunks)
    kernel = _chunk_log_sums_parallel if total_chunks > 1 else _chunk_log_sums_serial
    kernel(
        coupling,
        field_bias,
        state_bias,
        int(kind_a),
        int(kind_b),
        (1 << n_a) // total_chunks,
        out,
    )
    return out
