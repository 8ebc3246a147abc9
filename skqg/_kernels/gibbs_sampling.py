"""Fused Numba kernels for restricted Boltzmann machines: conditional means and Gibbs sampling.

The matrix products (``V @ W.T``, ``H @ W``) are left to BLAS; these kernels do everything after
them in one pass over the product: add the bias, apply the unit's nonlinearity, and draw the
sample. Each row owns a xoshiro256** stream seeded from ``(seed, row)``, so the draws depend on
``seed`` only, never on the number of threads. Rows run in parallel when the layer is large
enough to pay for it; each public entry point picks its serial or parallel compiled twin.

Unit kinds (the ``KIND_*`` codes):

* ``KIND_BERNOULLI``: units in {0, 1}; mean ``sigmoid(x)``.
* ``KIND_SPIN``: units in {-1, +1}; mean ``tanh(x)``, P(+1) = ``sigmoid(2x)``.
* ``KIND_GAUSSIAN``: real units of variance ``noise_scale**2``; mean ``x``.

Here ``x = scale * (field + bias)`` is the unit's natural parameter (``scale`` is an inverse
temperature in parallel tempering and annealed importance sampling, 1 otherwise).
"""

import math

import numpy as np
from numba import njit, prange, uint64

from skqg._kernels.fast_math import fast_exp, fast_exp32
from skqg._kernels.parallel_policy import parallel_pays
from skqg._kernels.random_streams import next_uint64, seed_state, uniform

KIND_BERNOULLI = 0
KIND_SPIN = 1
KIND_GAUSSIAN = 2

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_MIX1 = uint64(0xBF58476D1CE4E5B9)
_MIX2 = uint64(0x94D049BB133111EB)
_LOW_32_BITS = uint64(0xFFFFFFFF)
_TWO_POW_MINUS_32 = 1.0 / 4294967296.0


@njit(cache=True, inline="always")
def _mix64(z):
    # SplitMix64's finaliser: decorrelates the per-row seeds derived from one call seed.
    z = (z ^ (z >> uint64(30))) * _MIX1
    z = (z ^ (z >> uint64(27))) * _MIX2
    return z ^ (z >> uint64(31))


@njit(cache=True, inline="always")
def _row_state(seed, row, state):
    seed_state(_mix64(uint64(seed) ^ _mix64(uint64(row) + uint64(1))), state)


@njit(cache=True, inline="always")
def sigmoid(x):
    """Logistic function, without overflow for large ``|x|``."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def softplus(x):
    """``log(1 + exp(x))`` without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@njit(cache=True, inline="always")
def log_normaliser(x, kind):
    """Log-normaliser of one unit with natural parameter ``x``: the sum (or integral) over its
    states of ``exp(x * s)`` (times the unit-variance Gaussian base measure for Gaussian units)."""
    if kind == KIND_BERNOULLI:
        return softplus(x)
    if kind == KIND_SPIN:
        # log(2 cosh x) = |x| + log(1 + exp(-2|x|)).
        ax = abs(x)
        return ax + math.log1p(math.exp(-2.0 * ax))
    return 0.5 * x * x + _HALF_LOG_2PI


@njit(cache=True, inline="always")
def conditional_mean(x, kind):
    """Mean of one unit with natural parameter ``x``."""
    if kind == KIND_BERNOULLI:
        return sigmoid(x)
    if kind == KIND_SPIN:
        return math.tanh(x)
    return x


@njit(cache=True, inline="always")
def _standard_normal(state):
    # Box-Muller; 1 - u lies in (0, 1], so the logarithm is finite.
    u1 = 1.0 - uniform(state)
    u2 = uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _between_blas(field):
    """Training alternates BLAS products and these kernels (see parallel_policy)."""
    return parallel_pays(field.shape[0], field.shape[1], between_blas=True)


@njit(cache=True, inline="always", error_model="numpy")
def logistic(x):
    """``1 / (1 + exp(-x))`` through the branch-free :func:`fast_exp`: a loop over it vectorises
    (relative error a few ulp; 0 and 1 at the extremes, NaN stays NaN)."""
    return 1.0 / (1.0 + fast_exp(-x))


@njit(cache=True, inline="always", error_model="numpy")
def logistic32(x):
    """:func:`logistic` of a float32 through :func:`fast_exp32` (relative error about 1e-7,
    float32's own precision), in float32 arithmetic: twice the SIMD lanes of float64."""
    one = np.float32(1.0)
    return one / (one + fast_exp32(-x))


@njit(cache=True, inline="always", error_model="numpy")
def bernoulli_means(i, field, bias, scale, mean):
    """``mean[i] = logistic(scale * (field[i] + bias))``, in float32 arithmetic when ``mean``
    is float32 (the branch is on a compile-time constant) and float64 otherwise."""
    if mean.itemsize == 4:
        scale32 = np.float32(scale)
        for j in range(field.shape[1]):
            mean[i, j] = logistic32(np.float32(scale32 * (field[i, j] + bias[j])))
    else:
        for j in range(field.shape[1]):
            mean[i, j] = logistic(scale * (field[i, j] + bias[j]))


@njit(cache=True, inline="always", error_model="numpy")
def sample_row(i, field, bias, scale, noise_scale, kind, seed, mean, sample):
    """Means and one draw of row ``i`` of a layer, from the stream of ``(seed, i)``.

    The means are computed in one loop (vectorised for Bernoulli units) and compared with the
    uniform draws in a second, so only the generator runs serially. ``mean`` may be ``field``.
    """
    state = np.empty(4, dtype=np.uint64)
    _row_state(seed, i, state)
    n_units = field.shape[1]
    if kind == KIND_GAUSSIAN:
        for j in range(n_units):
            mu = field[i, j] + bias[j]
            mean[i, j] = mu
            sample[i, j] = mu + noise_scale * _standard_normal(state)
    elif kind == KIND_SPIN:
        for j in range(n_units):
            mean[i, j] = math.tanh(scale * (field[i, j] + bias[j]))
        # P(+1) = sigmoid(2x) = (1 + tanh x) / 2.
        for j in range(n_units):
            sample[i, j] = 1.0 if 2.0 * uniform(state) < 1.0 + mean[i, j] else -1.0
    else:
        bernoulli_means(i, field, bias, scale, mean)
        # Two 32-bit uniforms per generator step (a bias below 2**-32 in each probability).
        for j in range(0, n_units - 1, 2):
            bits = next_uint64(state)
            u_first = (bits >> uint64(32)) * _TWO_POW_MINUS_32
            u_second = (bits & _LOW_32_BITS) * _TWO_POW_MINUS_32
            sample[i, j] = 1.0 if u_first < mean[i, j] else 0.0
            sample[i, j + 1] = 1.0 if u_second < mean[i, j + 1] else 0.0
        if n_units % 2:
            sample[i, n_units - 1] = 1.0 if uniform(state) < mean[i, n_units - 1] else 0.0


@njit(cache=True, error_model="numpy")
def _sample_layer_serial(field, bias, scale, noise_scale, kind, seed, mean, sample):
    for i in range(field.shape[0]):
        sample_row(i, field, bias, scale, noise_scale, kind, seed, mean, sample)


@njit(parallel=True, cache=True, error_model="numpy")
def _sample_layer_parallel(field, bias, scale, noise_scale, kind, seed, mean, sample):
    for i in prange(field.shape[0]):
        sample_row(i, field, bias, scale, noise_scale, kind, seed, mean, sample)


def sample_layer(field, bias, scale, noise_scale, kind, seed, mean, sample):
    """Conditional means and one Gibbs draw of a layer, fused.

    Parameters
    ----------
    field : ndarray, shape (n_rows, n_units)
        The BLAS product feeding the layer (``V @ W.T`` or ``H @ W``).
    bias : ndarray, shape (n_units,)
    scale : float
        Multiplies ``field + bias`` for binary units (inverse temperature).
    noise_scale : float
        Standard deviation of Gaussian units (ignored for binary units).
    kind : int
        One of ``KIND_BERNOULLI``, ``KIND_SPIN``, ``KIND_GAUSSIAN``.
    seed : int
        Seed of this call; row ``i`` draws from a stream seeded by ``(seed, i)``, so the
        draws are the same on any number of threads.
    mean, sample : ndarray, shape (n_rows, n_units)
        Outputs, written in place. ``mean`` may be ``field`` itself.
    """
    kernel = _sample_layer_parallel if _between_blas(field) else _sample_layer_serial
    kernel(field, bias, float(scale), float(noise_scale), int(kind), int(seed), mean, sample)


@njit(cache=True, inline="always")
def _mean_row(i, field, bias, kind, mean):
    for j in range(field.shape[1]):
        mean[i, j] = conditional_mean(field[i, j] + bias[j], kind)


@njit(cache=True)
def _mean_layer_serial(field, bias, kind, mean):
    for i in range(field.shape[0]):
        _mean_row(i, field, bias, kind, mean)


@njit(parallel=True, cache=True)
def _mean_layer_parallel(field, bias, kind, mean):
    for i in prange(field.shape[0]):
        _mean_row(i, field, bias, kind, mean)


def mean_layer(field, bias, kind, mean):
    """Conditional means of a layer (no sampling): ``mean = E[unit | field + bias]``."""
    kernel = _mean_layer_parallel if _between_blas(field) else _mean_layer_serial
    kernel(field, bias, int(kind), mean)


@njit(cache=True, inline="always")
def _log_normaliser_row(i, field, bias, scale, kind, out):
    total = 0.0
    for j in range(field.shape[1]):
        total += log_normaliser(scale * (field[i, j] + bias[j]), kind)
    out[i] = total


@njit(cache=True)
def _log_normaliser_rows_serial(field, bias, scale, kind, out):
    for i in range(field.shape[0]):
        _log_normaliser_row(i, field, bias, scale, kind, out)


@njit(parallel=True, cache=True)
def _log_normaliser_rows_parallel(field, bias, scale, kind, out):
    for i in prange(field.shape[0]):
        _log_normaliser_row(i, field, bias, scale, kind, out)


def log_normaliser_rows(field, bias, scale, kind, out):
    """``out[i] = sum_j log_normaliser(scale * (field[i, j] + bias[j]), kind)`` in float64.

    With ``kind = KIND_BERNOULLI`` this is the hidden layer's contribution to minus the free
    energy, ``sum_j softplus(b_j + W_j . v)``.
    """
    kernel = _log_normaliser_rows_parallel if _between_blas(field) else _log_normaliser_rows_serial
    kernel(field, bias, float(scale), int(kind), out)


@njit(cache=True, inline="always")
def _log_normaliser_and_mean_row(i, field, kind, log_norm):
    n_units = field.shape[1]
    total = 0.0
    if kind == KIND_GAUSSIAN:
        for j in range(n_units):
            x = field[i, j]
            total += 0.5 * x * x + _HALF_LOG_2PI
    else:
        product = 1.0
        for j in range(n_units):
            x = field[i, j]
            if kind == KIND_SPIN:
                ax = abs(x)
                e = math.exp(-2.0 * ax)
                t = (1.0 - e) / (1.0 + e)
                field[i, j] = t if x >= 0.0 else -t
                total += ax
            else:
                e = math.exp(-abs(x))
                p = 1.0 / (1.0 + e)
                field[i, j] = p if x >= 0.0 else 1.0 - p
                total += max(x, 0.0)
            product *= 1.0 + e
            if j % 256 == 255:
                total += math.log(product)
                product = 1.0
        total += math.log(product)
    log_norm[i] += total


@njit(cache=True)
def _log_normalisers_and_means_serial(field, kind, log_norm):
    for i in range(field.shape[0]):
        _log_normaliser_and_mean_row(i, field, kind, log_norm)


@njit(parallel=True, cache=True)
def _log_normalisers_and_means_parallel(field, kind, log_norm):
    for i in prange(field.shape[0]):
        _log_normaliser_and_mean_row(i, field, kind, log_norm)


def log_normalisers_and_means(field, kind, log_norm):
    """``log_norm[i] += sum_j log_normaliser(field[i, j])``; ``field`` becomes the unit means.

    Used by exact enumeration: one pass over a block of states gives each state's log-weight
    and the conditional means of the summed-out layer. For binary units the log1p terms, each
    log(1 + e) with e in (0, 1], are multiplied up and logged once per 256 units (the product
    stays below 2**256), which saves most of the logarithms. Blocks of 2**13 states are worth
    a parallel region even between the enumeration's BLAS products (2 operations per unit).
    """
    kernel = (
        _log_normalisers_and_means_parallel
        if parallel_pays(field.shape[0], 2 * field.shape[1])
        else _log_normalisers_and_means_serial
    )
    kernel(field, int(kind), log_norm)


@njit(cache=True, inline="always")
def draw_unit(x, kind, state):
    """One draw of a unit with natural parameter ``x`` (unit variance if Gaussian)."""
    if kind == KIND_GAUSSIAN:
        return x + _standard_normal(state)
    if kind == KIND_SPIN:
        return 1.0 if uniform(state) < sigmoid(2.0 * x) else -1.0
    return 1.0 if uniform(state) < sigmoid(x) else 0.0
