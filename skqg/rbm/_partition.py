"""The RBM partition function: exact enumeration and annealed importance sampling (AIS).

Exact: sum over every state of the smaller binary layer with the other layer summed out
(:mod:`skqg._kernels.state_enumeration`). Gaussian visible units can only be integrated out, so the
hidden layer is enumerated for them.

AIS (Neal 2001; Salakhutdinov & Murray 2008): anneal from the model with its weights switched off,
whose log Z is known in closed form, to the model through
p_beta(v) ∝ exp(visible term) prod_j (1 + exp(beta (W v + b)_j)). Each run's log-weight sums the
log-ratios of successive unnormalised laws; ``log Z = log Z_0 + log mean exp(log w)`` and the
standard error comes from the delta method on the weights' sample variance.
"""

import hashlib
import threading
from numbers import Integral
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from skqg._kernels import annealed_importance, gibbs_sampling, state_enumeration
from skqg._parallel import chunk_seeds, numba_threads
from skqg.rbm._layers import VISIBLE_KINDS, writable

# Largest enumerated layer: 2**20 states take about a second at 64 units on the other side.
MAX_AUTO_ENUMERATION = 20
MAX_ENUMERATION = 30
# States per BLAS block in exact_model_moments.
_BLOCK_BITS = 13


class LogPartition(NamedTuple):
    """An estimate of the log partition function.

    Attributes
    ----------
    log_z : float
        log Z in nats.
    std_err : float
        Its standard error (0 for exact enumeration).
    method : str
        ``"exact"`` or ``"ais"``.
    """

    log_z: float
    std_err: float
    method: str


def enumerated_layer_size(n_visible, n_hidden, kind):
    """Units in the layer that exact enumeration sums over (the smaller binary layer)."""
    if kind == gibbs_sampling.KIND_GAUSSIAN:
        return n_hidden
    return min(n_hidden, n_visible)


def _enumeration_problem(W, a, b, kind):
    # Express the RBM as (coupling, field bias, state bias, enumerated kind, summed-out kind).
    W = np.asarray(W, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n_hidden, n_visible = W.shape
    if kind == gibbs_sampling.KIND_GAUSSIAN or n_hidden <= n_visible:
        return "hidden", (np.ascontiguousarray(W), a, b, gibbs_sampling.KIND_BERNOULLI, kind)
    return "visible", (np.ascontiguousarray(W.T), b, a, kind, gibbs_sampling.KIND_BERNOULLI)


def _gaussian_offset(a, kind):
    # E(v, h) has |v - a|^2 / 2; the enumerated log-normaliser integrates exp(-|v|^2/2 + x.v).
    return -0.5 * float(a @ a) if kind == gibbs_sampling.KIND_GAUSSIAN else 0.0


def exact_log_partition(W, a, b, kind):
    """log Z by enumerating the smaller binary layer."""
    _, problem = _enumeration_problem(W, a, b, kind)
    log_z = float(logsumexp(state_enumeration.chunk_log_sums(*problem)))
    return log_z + _gaussian_offset(np.asarray(a, dtype=np.float64), kind)


def _layer_states(first, count, n_units, kind):
    # Rows are the states first, ..., first + count - 1 in binary order, as unit values.
    bits = (np.arange(first, first + count)[:, None] >> np.arange(n_units)) & 1
    return (2.0 * bits - 1.0) if kind == gibbs_sampling.KIND_SPIN else bits.astype(np.float64)


def exact_model_moments(W, a, b, kind):
    """Exact model expectations ``(E[v], E[h], E[h v^T])``, the negative phase of the gradient.

    Blocks of enumerated states go through BLAS (fields and the weighted cross moment) and one
    fused kernel (log-weights and conditional means); block sums are combined in a running
    log-scale, so no weight overflows.
    """
    layer, (coupling, field_bias, state_bias, kind_a, kind_b) = _enumeration_problem(W, a, b, kind)
    n_a, n_b = coupling.shape
    block = 1 << min(n_a, _BLOCK_BITS)
    peak = -np.inf
    total = 0.0
    mean_a, mean_b, cross = np.zeros(n_a), np.zeros(n_b), np.zeros((n_a, n_b))
    for first in range(0, 1 << n_a, block):
        states = _layer_states(first, block, n_a, kind_a)
        field = states @ coupling
        field += field_bias
        log_weight = states @ state_bias
        gibbs_sampling.log_normalisers_and_means(field, kind_b, log_weight)
        block_peak = log_weight.max()
        if block_peak > peak:
            rescale = np.exp(peak - block_peak)
            total, mean_a, mean_b, cross = (
                total * rescale,
                mean_a * rescale,
                mean_b * rescale,
                cross * rescale,
            )
            peak = block_peak
        weight = np.exp(log_weight - peak)
        total += weight.sum()
        mean_a += weight @ states
        mean_b += weight @ field
        cross += (states * weight[:, None]).T @ field
    mean_a, mean_b, cross = mean_a / total, mean_b / total, cross / total
    if layer == "hidden":
        return mean_b, mean_a, cross
    return mean_a, mean_b, cross.T


def default_betas(n_betas):
    """Inverse temperatures from 0 to 1, dense near 1 (Salakhutdinov & Murray's 1 : 8 : 20)."""
    n1, n2 = max(2, n_betas // 29), max(2, (8 * n_betas) // 29)
    n3 = max(2, n_betas - n1 - n2)
    return np.unique(
        np.concatenate(
            [np.linspace(0.0, 0.5, n1), np.linspace(0.5, 0.9, n2), np.linspace(0.9, 1.0, n3)]
        )
    )


def _base_log_partition(a, n_hidden, kind):
    a = np.asarray(a, dtype=np.float64)
    hidden = n_hidden * np.log(2.0)
    if kind == gibbs_sampling.KIND_GAUSSIAN:
        return hidden + 0.5 * a.shape[0] * np.log(2.0 * np.pi)
    out = np.empty(1)
    gibbs_sampling.log_normaliser_rows(a[None, :], np.zeros_like(a), 1.0, kind, out)
    return hidden + float(out[0])


def ais_log_partition(W, a, b, kind, *, n_runs, betas, seeds):
    """log Z by annealed importance sampling; returns ``(log_z, std_err, log_weights)``."""
    log_weight = annealed_importance.ais_log_weights(
        W, writable(a), writable(b), kind, betas, seeds
    )
    log_mean = logsumexp(log_weight) - np.log(n_runs)
    weights = np.exp(log_weight - log_weight.max())
    std_err = float(np.std(weights, ddof=1) / (np.sqrt(n_runs) * weights.mean()))
    log_z = float(_base_log_partition(a, W.shape[0], kind) + log_mean)
    return log_z, std_err, log_weight


def resolve_partition_method(method, n_visible, n_hidden, kind):
    """``"auto"`` made concrete (exact up to ``MAX_AUTO_ENUMERATION`` units), or a ValueError
    when exact enumeration is asked for beyond ``MAX_ENUMERATION`` units."""
    size = enumerated_layer_size(n_visible, n_hidden, kind)
    if method == "auto":
        method = "exact" if size <= MAX_AUTO_ENUMERATION else "ais"
    if method == "exact" and size > MAX_ENUMERATION:
        raise ValueError(
            f"Exact enumeration needs 2**{size} states here; at most {MAX_ENUMERATION} "
            "units are feasible. Use method='ais'."
        )
    return method


def compute_log_partition(W, a, b, kind, method, *, n_runs, n_betas, seed):
    """log Z as a :class:`LogPartition`, by ``"exact"`` enumeration or ``"ais"``.

    AIS runs ``n_runs`` chains over ``n_betas`` inverse temperatures, one seed per run drawn
    from ``seed`` (so the result does not depend on the thread count).
    """
    if method == "exact":
        return LogPartition(exact_log_partition(W, a, b, kind), 0.0, method)
    log_z, std_err, _ = ais_log_partition(
        W, a, b, kind, n_runs=n_runs, betas=default_betas(n_betas), seeds=chunk_seeds(seed, n_runs)
    )
    return LogPartition(log_z, std_err, method)


def model_fingerprint(W, a, b, visible):
    """A digest of the parameters: cached partition functions are valid while it is unchanged."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (W, a, b):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(visible.encode())
    return digest.hexdigest()


def seed_cache_key(random_state):
    """A cache key for a seed: integers and None by value, a RandomState by identity."""
    if random_state is None or isinstance(random_state, Integral):
        return random_state
    return id(random_state)


# One computation of a model's log Z at a time: threads scoring the same fresh model wait for
# the first one's result instead of each running (with random_state=None, differently seeded)
# annealed importance sampling of their own.
_PARTITION_LOCK = threading.Lock()


def cached_log_partition(cache, model, method, n_runs, n_betas, seed, n_jobs):
    """``compute_log_partition`` of ``model = (W, a, b, visible)``, memoised in ``cache``.

    The key is the model's fingerprint and the settings, so an updated model is recomputed;
    concurrent callers compute each key once.
    """
    W, a, b, visible = model
    key = (model_fingerprint(W, a, b, visible), method, n_runs, n_betas, seed_cache_key(seed))
    if key in cache:
        return cache[key]
    with _PARTITION_LOCK:
        if key not in cache:
            kind = VISIBLE_KINDS[visible]
            with numba_threads(n_jobs):
                cache[key] = compute_log_partition(
                    W, a, b, kind, method, n_runs=n_runs, n_betas=n_betas, seed=seed
                )
    return cache[key]
