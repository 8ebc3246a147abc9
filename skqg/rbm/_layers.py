"""Array-level RBM operations shared by the estimator, its trainers and its partition functions.

An RBM here is the triple ``(W, a, b)``, weights of shape (n_hidden, n_visible), visible and hidden
biases, plus the visible unit kind. The energy is

* Bernoulli ({0, 1}) and spin ({-1, +1}) visible units: E(v, h) = -a.v - b.h - h^T W v;
* Gaussian visible units (unit variance): E(v, h) = |v - a|^2 / 2 - b.h - h^T W v;

hidden units are Bernoulli. Matrix products go to BLAS (``safe_sparse_dot`` also takes CSR);
the elementwise work after each product runs in the fused kernels of
:mod:`skqg._kernels.gibbs_sampling`.
"""

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot

from skqg._kernels import gibbs_sampling
from skqg._parallel import SEED_BOUND

VISIBLE_KINDS = {
    "bernoulli": gibbs_sampling.KIND_BERNOULLI,
    "spin": gibbs_sampling.KIND_SPIN,
    "gaussian": gibbs_sampling.KIND_GAUSSIAN,
}

# Clip the data mean used to initialise the visible biases, so constant columns start finite.
_MEAN_MARGIN = 1e-3


def writable(array):
    """``array`` as a C-contiguous writable array (copies read-only memmaps, for the kernels)."""
    return np.require(array, requirements=["C", "W"])


def draw_seed(rng):
    """One kernel seed from a ``RandomState``."""
    return int(rng.randint(0, SEED_BOUND, dtype=np.int64))


def hidden_field(V, W):
    """``V @ W.T`` as a C-contiguous array (``V`` dense or CSR)."""
    return np.ascontiguousarray(safe_sparse_dot(V, W.T, dense_output=True))


def hidden_means(V, W, b):
    """P(h = 1 | v) for each row of ``V``."""
    field = hidden_field(V, W)
    gibbs_sampling.mean_layer(field, writable(b), gibbs_sampling.KIND_BERNOULLI, field)
    return field


def visible_means(H, W, a, kind):
    """E[v | h] for each row of ``H``."""
    field = np.ascontiguousarray(H @ W)
    gibbs_sampling.mean_layer(field, writable(a), kind, field)
    return field


def sample_hidden(V, W, b, rng, beta=1.0):
    """Draw ``h ~ p_beta(h | v)``; returns ``(means, samples)``."""
    field = hidden_field(V, W)
    sample = np.empty_like(field)
    gibbs_sampling.sample_layer(
        field, writable(b), beta, 1.0, gibbs_sampling.KIND_BERNOULLI, draw_seed(rng), field, sample
    )
    return field, sample


def sample_visible(H, W, a, kind, rng, beta=1.0):
    """Draw ``v ~ p_beta(v | h)``; returns ``(means, samples)``.

    At inverse temperature ``beta`` binary units see ``beta * (a + W^T h)``; Gaussian units keep
    the mean ``a + W^T h`` and have variance ``1 / beta``.
    """
    field = np.ascontiguousarray(H @ W)
    sample = np.empty_like(field)
    noise_scale = 1.0 / np.sqrt(beta)
    gibbs_sampling.sample_layer(
        field, writable(a), beta, noise_scale, kind, draw_seed(rng), field, sample
    )
    return field, sample


def visible_term(V, a, kind):
    """The visible part of minus the free energy: ``a.v``, or ``-|v - a|^2 / 2`` (Gaussian)."""
    if kind == gibbs_sampling.KIND_GAUSSIAN:
        if hasattr(V, "toarray"):
            V = V.toarray()
        diff = np.asarray(V, dtype=np.float64) - a
        return -0.5 * np.einsum("ij,ij->i", diff, diff)
    return np.asarray(safe_sparse_dot(V, a.astype(V.dtype)), dtype=np.float64).ravel()


def free_energy(V, W, a, b, kind):
    """F(v) = -log sum_h exp(-E(v, h)) for each row of ``V``, in float64."""
    field = hidden_field(V, W)
    hidden_part = np.empty(field.shape[0])
    gibbs_sampling.log_normaliser_rows(
        field, writable(b), 1.0, gibbs_sampling.KIND_BERNOULLI, hidden_part
    )
    return -visible_term(V, a, kind) - hidden_part


def joint_energy(V, H, W, a, b, kind):
    """E(v, h) for paired rows of ``V`` and ``H``, in float64."""
    interaction = np.einsum("ij,ij->i", H @ W, V, dtype=np.float64)
    return -visible_term(V, a, kind) - H @ b.astype(np.float64) - interaction


def gibbs_steps(V, W, a, b, kind, n_steps, rng):
    """Run ``n_steps`` full Gibbs sweeps v -> h -> v from each row of ``V``; returns samples."""
    for _ in range(n_steps):
        _, H = sample_hidden(V, W, b, rng)
        _, V = sample_visible(H, W, a, kind, rng)
    return V


def base_visible_samples(n_samples, a, kind, rng):
    """Draws from the visible biases alone (W = 0): the start of chains and of AIS runs."""
    field = np.zeros((n_samples, a.shape[0]), dtype=a.dtype)
    sample = np.empty_like(field)
    gibbs_sampling.sample_layer(field, writable(a), 1.0, 1.0, kind, draw_seed(rng), field, sample)
    return sample


def independent_visible_biases(mean, kind):
    """Visible biases of independent units with the data's means (Hinton 2010, section 8.1).

    Means are clipped ``_MEAN_MARGIN`` inside the domain, so constant columns start finite.
    """
    if kind == gibbs_sampling.KIND_BERNOULLI:
        p = np.clip(mean, _MEAN_MARGIN, 1 - _MEAN_MARGIN)
        return np.log(p) - np.log1p(-p)
    if kind == gibbs_sampling.KIND_SPIN:
        return np.arctanh(np.clip(mean, -1 + 2 * _MEAN_MARGIN, 1 - 2 * _MEAN_MARGIN))
    return mean
