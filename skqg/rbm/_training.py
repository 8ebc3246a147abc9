"""Log-likelihood gradient estimates for RBMs and the update that applies them.

The gradient of the mean log-likelihood is a data term minus a model term,
E_data[h v^T] - E_model[h v^T] (and likewise for the biases). The data term is exact (hidden
means given each row); the model term comes from one of:

* ``cd``: chains started at the mini-batch, ``k`` Gibbs sweeps (contrastive divergence);
* ``pcd``: persistent chains carried across updates (Tieleman 2008);
* ``pt``: persistent chains at a ladder of inverse temperatures with replica swaps
  (Desjardins et al. 2010), for multimodal models;
* ``exact``: enumeration of the smaller layer (:func:`skqg.rbm._partition.exact_model_moments`).
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from skqg._kernels import ascent_steps
from skqg.rbm._layers import (
    hidden_means,
    joint_energy,
    sample_hidden,
    sample_visible,
)
from skqg.rbm._partition import exact_model_moments

# Inverse temperatures of the parallel-tempering replicas; index 0 is the model itself.
TEMPERING_BETAS = np.linspace(1.0, 0.1, 10)


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


def pcd_statistics(chains, W, a, b, kind, k, rng):
    """Model term by persistent chains; ``chains`` holds hidden states and is advanced in place."""
    H = chains
    for _ in range(k):
        _, V = sample_visible(H, W, a, kind, rng)
        means, H = sample_hidden(V, W, b, rng)
    chains[...] = H
    return sample_statistics(V, means)


def tempering_statistics(chains, W, a, b, kind, k, rng, betas=TEMPERING_BETAS):
    """Model term by parallel tempering.

    ``chains`` has shape (n_betas, n_chains, n_hidden) and holds the hidden states of each
    replica; it is advanced in place. After ``k`` Gibbs sweeps at every inverse temperature,
    neighbouring replicas exchange states with the Metropolis probability
    min(1, exp((beta_i - beta_j)(E_i - E_j))) on the joint energies; even and odd pairs alternate
    by a coin flip so the swap move is symmetric.
    """
    n_betas = len(betas)
    visible = [None] * n_betas
    means = [None] * n_betas
    for t, beta in enumerate(betas):
        H = chains[t]
        for _ in range(k):
            _, visible[t] = sample_visible(H, W, a, kind, rng, beta=beta)
            means[t], H = sample_hidden(visible[t], W, b, rng, beta=beta)
        chains[t] = H
    statistics = sample_statistics(visible[0], means[0])
    energies = [joint_energy(visible[t], chains[t], W, a, b, kind) for t in range(n_betas)]
    for t in range(rng.randint(2), n_betas - 1, 2):
        log_ratio = (betas[t] - betas[t + 1]) * (energies[t] - energies[t + 1])
        swap = np.log(rng.uniform(size=log_ratio.shape)) < log_ratio
        chains[t, swap], chains[t + 1, swap] = chains[t + 1, swap], chains[t, swap].copy()
    return statistics


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
