"""Log-likelihood gradient estimates for RBMs and the update that applies them.

The gradient of the mean log-likelihood is a data term minus a model term,
E_data[h v^T] - E_model[h v^T] (and likewise for the biases). The data term is exact (hidden
means given each row); the model term comes from one of:

* ``cd``: chains started at the mini-batch, ``k`` Gibbs sweeps (contrastive divergence);
* ``pcd``: persistent chains carried across updates (Tieleman 2008);
* ``pt``: persistent chains at a ladder of inverse temperatures with replica exchanges
  (Desjardins et al. 2010), for multimodal models; the ladder's rungs move to equalise the
  exchange rates between neighbours (:func:`retune_ladder`);
* ``exact``: enumeration of the smaller layer (:func:`skqg.rbm._partition.exact_model_moments`).

``cd`` and ``exact`` run one NumPy update per mini-batch (:class:`GradientAscent`); ``pcd`` and
``pt`` run a whole epoch in one compiled call (:func:`persistent_epoch`, with the same update
rule in :mod:`skqg._kernels.pcd_training`).
"""

import time
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from skqg._kernels import ascent_steps, parallel_policy, pcd_training
from skqg._parallel import SEED_BOUND
from skqg.rbm._layers import (
    hidden_means,
    independent_visible_biases,
    sample_hidden,
    sample_visible,
)
from skqg.rbm._partition import exact_model_moments

# Persistent chains when n_chains is None: at least this many, and at least one per batch row.
MIN_CHAINS = 50
# The hottest replica of the parallel-tempering ladder; its other rungs adapt to the exchange
# rates (see retune_ladder).
HOTTEST_BETA = 0.1


class Statistics(NamedTuple):
    """One phase of the gradient: E[v], E[h], and E[h v^T] as paired samples or as a matrix.

    ``cross`` is either an (n_hidden, n_visible) matrix (exact phase) or ``None``, in which case
    ``samples = (V, H)`` holds the rows whose mean outer product it is: the weight gradient
    then takes one BLAS call for both phases (see :func:`weight_gradient`).
    """

    visible: np.ndarray
    hidden: np.ndarray
    cross: np.ndarray | None = None
    samples: tuple | None = None


def _column_mean(V):
    return np.asarray(V.mean(axis=0), dtype=V.dtype).ravel()


def sample_statistics(V, H):
    """Moments of paired samples (``V`` dense or CSR)."""
    return Statistics(_column_mean(V), H.mean(axis=0), samples=(V, H))


def _cross(statistics):
    if statistics.cross is not None:
        return statistics.cross
    V, H = statistics.samples
    return np.asarray(safe_sparse_dot(H.T, V, dense_output=True)) / V.shape[0]


def weight_gradient(positive, negative):
    """E_data[h v^T] - E_model[h v^T].

    When both phases are dense samples, the rows are stacked with weights +1/n and -1/m and the
    difference is a single matrix product (one larger GEMM runs faster than two smaller ones).
    """
    both_dense = (
        positive.samples is not None
        and negative.samples is not None
        and not sp.issparse(positive.samples[0])
    )
    if not both_dense:
        return _cross(positive) - _cross(negative)
    (V_pos, H_pos), (V_neg, H_neg) = positive.samples, negative.samples
    V = np.concatenate([V_pos, V_neg])
    H = np.concatenate([H_pos / V_pos.shape[0], H_neg / -V_neg.shape[0]])
    return H.T @ V


def data_statistics(V, W, b):
    """The data term: exact hidden means given each row of the mini-batch."""
    return sample_statistics(V, hidden_means(V, W, b))


def cd_statistics(V, W, a, b, kind, k, rng):
    """Model term by CD-k: chains start at the mini-batch."""
    _, H = sample_hidden(V, W, b, rng)
    for _ in range(k):
        _, V = sample_visible(H, W, a, kind, rng)
        means, H = sample_hidden(V, W, b, rng)
    return sample_statistics(V, means)


def exact_statistics(W, a, b, kind):
    """Model term by exact enumeration, cast to the model's dtype."""
    visible, hidden, cross = exact_model_moments(W, a, b, kind)
    dtype = W.dtype
    return Statistics(visible.astype(dtype), hidden.astype(dtype), cross.astype(dtype))


class GradientAscent:
    """Mini-batch gradient ascent with L2 weight decay and an L1 penalty on the weights.

    ``solver="adam"`` scales each step by running estimates of the gradient's first and second
    moments (Kingma & Ba 2015) with ``momentum`` as the first-moment decay; ``solver="sgd"`` is
    classical momentum. ``state`` holds the moment buffers and step count; ``partial_fit``
    carries it between calls. The update runs in one fused pass per parameter
    (:func:`skqg._kernels.ascent_steps.ascent_step`).
    """

    BETA2 = 0.999
    EPSILON = 1e-8

    def __init__(self, solver, learning_rate, momentum, weight_decay, l1, state):
        self.solver = solver
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.l1 = l1
        self.state = state

    @staticmethod
    def initial_state(params):
        """Zero moment buffers (2-D views) for each parameter array, and a zero step count."""
        return {
            "step": 0,
            "first": [np.zeros_like(p).reshape(-1, p.shape[-1]) for p in params],
            "second": [np.zeros_like(p).reshape(-1, p.shape[-1]) for p in params],
        }

    def step(self, W, a, b, positive, negative):
        """Apply one update in place from the data and model statistics."""
        state = self.state
        state["step"] += 1
        adam = self.solver == "adam"
        rate = self.learning_rate
        if adam:
            t = state["step"]
            rate *= np.sqrt(1 - self.BETA2**t) / (1 - self.momentum**t)
        gradients = (
            weight_gradient(positive, negative),
            positive.visible - negative.visible,
            positive.hidden - negative.hidden,
        )
        for i, (param, grad) in enumerate(zip((W, a, b), gradients, strict=True)):
            penalised = i == 0
            ascent_steps.ascent_step(
                param.reshape(-1, param.shape[-1]),
                np.ascontiguousarray(grad, dtype=param.dtype).reshape(-1, param.shape[-1]),
                state["first"][i],
                state["second"][i],
                rate=rate,
                momentum=self.momentum,
                beta2=self.BETA2,
                epsilon=self.EPSILON,
                decay=self.weight_decay if penalised else 0.0,
                l1=self.l1 if penalised else 0.0,
                adam=adam,
            )


def persistent_epoch(estimator, X, order, optimizer, rng, betas):
    """One epoch of persistent-chain updates of ``estimator`` in a single compiled call.

    ``betas`` holds the replicas' inverse temperatures (``[1.0]`` for PCD). Returns the
    exchange attempts and acceptances per neighbouring pair of replicas.
    """
    W, a, b = estimator.components_, estimator.intercept_visible_, estimator.intercept_hidden_
    if sp.issparse(X):
        # No copies when the CSR arrays already have the kernel's types.
        csr = X.astype(W.dtype, copy=False)
        empty = np.empty((0, W.shape[1]), dtype=W.dtype)
        indices = csr.indices.astype(np.int64, copy=False)
        data = (empty, csr.data, indices, csr.indptr.astype(np.int64, copy=False))
    else:
        none = np.empty(0, dtype=np.int64)
        data = (np.ascontiguousarray(X, dtype=W.dtype), none.astype(W.dtype), none, none)
    data = (*data, order.astype(np.int64), sp.issparse(X))
    batches = pcd_training.n_batches(X.shape[0], estimator.batch_size)
    size = (batches, pcd_training.n_seeds(len(betas), estimator.k))
    seeds = rng.randint(0, SEED_BOUND, size=size, dtype=np.int64)
    state = optimizer.state
    moments = tuple(
        buffer for pair in zip(state["first"], state["second"], strict=True) for buffer in pair
    )
    hyper = (
        optimizer.learning_rate,
        optimizer.momentum,
        optimizer.BETA2,
        optimizer.EPSILON,
        optimizer.weight_decay,
        optimizer.l1,
        optimizer.solver == "adam",
    )
    chains = estimator.h_samples_.reshape(len(betas), -1, W.shape[0])
    swaps = (np.zeros(len(betas) - 1, dtype=np.int64), np.zeros(len(betas) - 1, dtype=np.int64))
    parallel = parallel_policy.parallel_pays(
        chains.shape[0] * chains.shape[1], W.shape[1], between_blas=True
    )
    pcd_training.persistent_epoch(
        data,
        (W, a, b, chains),
        moments,
        hyper,
        estimator._kind,
        seeds,
        np.asarray(betas, dtype=np.float64),
        swaps,
        estimator.batch_size,
        state["step"],
        parallel=parallel,
    )
    state["step"] += batches
    return swaps


def initial_ladder(n_temperatures):
    """Inverse temperatures from 1 (the model) down to ``HOTTEST_BETA``, evenly in log."""
    return np.geomspace(1.0, HOTTEST_BETA, n_temperatures)


def retune_ladder(betas, attempts, accepts):
    """Move the inner rungs of a tempering ladder toward equal exchange rates.

    The log-spacing of each neighbouring pair grows where exchanges are accepted more often
    than on average and shrinks where they are accepted less (the feedback of Vousden, Farr &
    Mandel 2016, applied once per epoch); the end points stay. Rates are smoothed by one
    pseudo-count each way, so an epoch with few attempts moves the ladder little.

    Parameters
    ----------
    betas : ndarray of shape (n_temperatures,)
        Decreasing inverse temperatures, ``betas[0] = 1``.
    attempts, accepts : ndarray of int, shape (n_temperatures - 1,)
        Exchange attempts and acceptances of each neighbouring pair over the epoch.

    Returns
    -------
    ndarray of shape (n_temperatures,)
    """
    if len(betas) < 3:
        return betas
    rates = (accepts + 1.0) / (attempts + 2.0)
    gaps = -np.diff(np.log(betas)) * np.exp(rates - rates.mean())
    gaps *= np.log(betas[0] / betas[-1]) / gaps.sum()
    return betas[0] * np.exp(-np.concatenate([[0.0], np.cumsum(gaps)]))


def persistent_chains(estimator, dtype):
    """Zero hidden states of the persistent chains and the ladder's inverse temperatures.

    Shapes: ``(n_chains, n_hidden)`` and ``[1.0]`` for ``pcd``; ``(n_temperatures, n_chains,
    n_hidden)`` and :func:`initial_ladder` for ``pt``; no chains for ``cd`` and ``exact``.
    """
    n_chains = estimator.n_chains or max(estimator.batch_size, MIN_CHAINS)
    n_hidden = estimator.n_components
    if estimator.method == "pt":
        ladder = initial_ladder(estimator.n_temperatures)
        return np.zeros((len(ladder), n_chains, n_hidden), dtype=dtype), ladder
    shape = (n_chains, n_hidden) if estimator.method == "pcd" else (0, n_hidden)
    return np.zeros(shape, dtype=dtype), np.ones(1)


def initialise(estimator, X, rng):
    """Fresh parameters, optimiser moments and persistent chains for ``estimator`` on ``X``:
    small random weights, zero hidden biases and the visible biases of independent units
    with the data's means."""
    n_features, dtype = X.shape[1], X.dtype
    shape = (estimator.n_components, n_features)
    estimator.components_ = rng.normal(0.0, 0.01, shape).astype(dtype)
    estimator.intercept_hidden_ = np.zeros(estimator.n_components, dtype=dtype)
    mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
    a = independent_visible_biases(mean, estimator._kind)
    estimator.intercept_visible_ = a.astype(dtype)
    estimator._optimizer_state = GradientAscent.initial_state(
        (estimator.components_, estimator.intercept_visible_, estimator.intercept_hidden_)
    )
    estimator.h_samples_, estimator.betas_ = persistent_chains(estimator, dtype)
    estimator.swap_rates_ = np.full(len(estimator.betas_) - 1, np.nan)
    estimator.n_iter_ = 0


def report_progress(estimator, X, began):
    """With ``verbose``, print the epoch's reconstruction error on up to 1000 rows."""
    if not estimator.verbose:
        return
    sample = X[: min(X.shape[0], 1000)]
    reconstruction = estimator.inverse_transform(estimator.transform(sample))
    diff = (sample.toarray() if sp.issparse(sample) else sample) - reconstruction
    error = float(np.mean(diff**2))
    print(
        f"[{type(estimator).__name__}] Iteration {estimator.n_iter_}, reconstruction error = "
        f"{error:.5f}, time = {time.perf_counter() - began:.2f}s"
    )
