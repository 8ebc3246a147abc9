"""The Gaussian mixture of an entropic transport plan, and its choice by held-out likelihood.

Solve entropic optimal transport between the data ``x_1..x_n`` and a low-discrepancy sample
``y_1..y_m`` of the standard normal law. Given a latent point ``y_j``, the plan's conditional law
of the data is a softmax over the data points; its mean ``mu_j = E[x | y_j]`` is the entropic
(barycentric) map of ``y_j`` and its covariance ``Sigma_j = Cov[x | y_j]`` says along which
directions the data around that point spread. The density model closes each conditional as a
Gaussian and adds an isotropic variance ``s^2``:

    p(x) = (1 / m) sum_j N(x; mu_j, Sigma_j + s^2 I).

At ``epsilon = 0`` with ``m = n`` the plan is a permutation, ``mu_j`` runs over the data and
``Sigma_j = 0``: a Gaussian kernel density estimate with bandwidth ``s``. Larger ``epsilon``
widens each conditional along the data's local geometry (anisotropic, adaptive kernels); as
``epsilon -> inf`` every conditional is the whole data set and the model is one Gaussian.
"""

import numpy as np
from sklearn.model_selection import KFold

from skqg._kernels import entropic_map, gaussian_mixture
from skqg._spd import one_blas_thread
from skqg.transport._references import reference_sample
from skqg.transport._sinkhorn import sinkhorn_potentials

# Candidate regularisations, as fractions of the mean squared distance 2 d s^2 between the
# centred data (mean variance s^2) and the standard normal reference when s = 1.
EPSILON_GRID = (0.0, 0.003, 0.01, 0.03, 0.1, 0.3)
# The held-out search only ranks candidates: its solves stop at a 1 % marginal error (the final
# fit uses the estimator's own tolerance). Measured on the density panel of
# benchmarks/bench_transport.py (goal 6, 21 fits), the choices and scores equal those of
# solves to 0.1 %, in three quarters of the time.
SEARCH_TOL = 1e-2
# Candidate bandwidths, in units of the data's scale s, 4 per decade (Silverman's rule stays
# below s from 10 samples up; a large epsilon covers wider laws). The held-out likelihood is
# smooth in log s, so the choice refines the best grid point by a parabola through it and its
# neighbours (:func:`best_pair`).
BANDWIDTH_GRID = tuple(np.logspace(-2.5, 0.0, 11))


class PlanMixture:
    """Components of the plan's Gaussian mixture, in eigen-form.

    Attributes
    ----------
    means : ndarray of shape (m, d)
    vectors : ndarray of shape (m, d, r)
        Eigenvectors of the conditional covariances, in columns: all ``d`` of them, or, when
        the plan has fewer points ``n < d`` (covariances of rank below ``n``), ``r = n`` of
        them (zero columns for zero eigenvalues), or none at ``epsilon = 0``.
    values : ndarray of shape (m, r)
        Their eigenvalues, clipped at zero (rounding can make them slightly negative); the
        other ``d - r`` are zero.
    reference_potential : ndarray of shape (m,) or None
        The target potential of the solve, to warm-start a smaller ``epsilon``.
    """

    def __init__(self, means, vectors, values, reference_potential=None):
        self.means = means
        self.vectors = vectors
        self.values = values
        self.reference_potential = reference_potential

    def log_density(self, X, bandwidths):
        """Log-density at the rows of ``X``, one column per bandwidth."""
        inflations = np.asarray(bandwidths, dtype=np.float64) ** 2
        return gaussian_mixture.mixture_log_density(
            X, self.means, self.vectors, self.values, inflations
        )


def plan_mixture(X, Y, epsilon, *, tol, max_iter, warm_start=None):
    """The mixture of the entropic plan between the rows of ``X`` and ``Y`` at ``epsilon``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
        Data, centred.
    Y : ndarray of shape (m, d), float64, C-contiguous
        Reference points.
    epsilon : float
        Regularisation (0: the permutation plan, which needs ``m == n``).
    tol, max_iter
        Sinkhorn's stopping rule.
    warm_start : ndarray of shape (m,) or None
        ``reference_potential`` of a solve at a larger ``epsilon`` on the same points.

    Returns
    -------
    PlanMixture
    """
    n, d = X.shape
    if epsilon == 0.0:  # the permutation plan: every conditional is a point (rank 0)
        return PlanMixture(X.copy(), np.zeros((n, d, 0)), np.zeros((n, 0)))
    log_b = -np.log(len(Y))
    g_init = None
    if warm_start is not None:
        g_init = warm_start[0] - warm_start[1] * log_b
    f, h, _, _ = sinkhorn_potentials(X, Y, epsilon, tol=tol, max_iter=max_iter, g_init=g_init)
    # Given y_j the plan weighs x_i by exp((f_i + 2 <x_i, y_j>) / epsilon): the same softmax
    # as the entropic map with the roles of the two clouds swapped.
    if n < d:
        # One BLAS thread: the products sum in a fixed order whatever the thread count.
        with one_blas_thread():
            means, vectors, values = _wide_conditionals(X, Y, f, epsilon)
        return PlanMixture(means, vectors, values, (h, epsilon))
    _, means, covariances = entropic_map.softmax_moments(
        Y, X, f, 1.0 / epsilon, entropic_map.COVARIANCE
    )
    values, vectors = np.linalg.eigh(covariances)
    return PlanMixture(means, vectors, np.maximum(values, 0.0), (h, epsilon))


# Components per batch of the wide path: bounds its (batch, n, d) temporaries.
_WIDE_BATCH_ENTRIES = 1 << 22


def _wide_conditionals(X, Y, f, epsilon):
    """Means and eigenpairs of the plan's conditionals when there are fewer points than
    features: each covariance ``A_j^T A_j`` (``A_j`` the weighted, centred rows, ``n x d``)
    has rank below ``n``, so its eigenpairs come from the ``n x n`` Gram matrix ``A_j A_j^T``
    (``O(n^2 d)`` per component instead of ``O(d^3)``, and ``d x n`` vectors, not ``d x d``)."""
    n, d = X.shape
    logits = (f[np.newaxis, :] + 2.0 * (Y @ X.T)) / epsilon
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    means = weights @ X
    vectors = np.zeros((len(Y), d, n))
    values = np.zeros((len(Y), n))
    batch = max(1, _WIDE_BATCH_ENTRIES // (n * d))
    for start in range(0, len(Y), batch):
        rows = slice(start, start + batch)
        spread = np.sqrt(weights[rows])[:, :, np.newaxis] * (
            X[np.newaxis] - means[rows, np.newaxis, :]
        )
        gram = spread @ np.swapaxes(spread, 1, 2)
        found, left = np.linalg.eigh(gram)
        # Eigenvalues at the rounding level of the largest are zero: their directions are
        # left to the isotropic part (zero columns), where a division would amplify noise.
        kept = found > 1e-10 * found.max(axis=1, keepdims=True)
        roots = np.sqrt(np.where(kept, found, 1.0))
        vectors[rows] = (
            np.swapaxes(spread, 1, 2) @ left * np.where(kept, 1.0 / roots, 0.0)[:, np.newaxis, :]
        )
        values[rows] = np.where(kept, found, 0.0)
    return means, vectors, values


def data_scale(X):
    """Root mean variance of the columns of ``X`` (the unit of both grids)."""
    return float(np.sqrt(np.mean(np.var(X, axis=0))))


def candidate_epsilons(scale, n_features, n_samples, n_reference):
    """The regularisation grid in data units; 0 only when the plan can be a permutation."""
    unit = 2.0 * n_features * scale
    return [c * unit for c in EPSILON_GRID if c > 0.0 or n_samples == n_reference]


def heldout_scores(X, epsilons, bandwidths, *, cv, n_reference, seed, tol, max_iter, verbose=0):
    """Mean held-out log-likelihood of (epsilon, bandwidth) pairs over ``cv`` folds.

    The regularisations are solved from the largest down, each fold's solve warm-started from
    its solve at the last one; each fold has its own latent sample. The held-out likelihood is
    unimodal in ``epsilon`` (one Gaussian at the top, a kernel estimate at the bottom, the
    best fit between), so the search stops at the first ``epsilon`` whose best score falls
    below the best so far: the smallest values, the slowest to solve, are often never needed.

    Returns
    -------
    ndarray of shape (len(epsilons), len(bandwidths))
        Held-out log-likelihood in nats per sample, averaged over all rows; NaN for the
        regularisations the search did not reach.
    """
    n, d = X.shape
    scores = np.full((len(epsilons), len(bandwidths)), np.nan)
    folds = []
    for fold, (train, test) in enumerate(KFold(cv, shuffle=True, random_state=seed).split(X)):
        Yf = reference_sample("normal", min(len(train), n_reference), d, seed + fold)
        folds.append((np.ascontiguousarray(X[train]), Yf, X[test]))
    warm = [None] * cv
    best = -np.inf
    for k in np.argsort(epsilons)[::-1]:
        total = np.zeros(len(bandwidths))
        for fold, (Xf, Yf, X_test) in enumerate(folds):
            mixture = plan_mixture(
                Xf, Yf, epsilons[k], tol=max(tol, SEARCH_TOL), max_iter=max_iter,
                warm_start=warm[fold],
            )  # fmt: skip
            warm[fold] = mixture.reference_potential
            total += mixture.log_density(X_test, bandwidths).sum(axis=0)
        scores[k] = total / n
        peak = _row_peak(np.log(bandwidths), scores[k])[1]
        if verbose:
            print(f"[TransportPlanDensity] epsilon={epsilons[k]:.4g}: held-out {peak:.4f}")
        if peak < best:
            break
        best = peak
    return scores


def _parabola_peak(t, values, b):
    """Vertex of the parabola through the grid points ``b - 1, b, b + 1`` (equal spacing)."""
    if b == 0 or b == len(values) - 1:
        return t[b], values[b]
    left, mid, right = values[b - 1], values[b], values[b + 1]
    curvature = left - 2.0 * mid + right
    if not curvature < 0.0:
        return t[b], mid
    step = t[b + 1] - t[b]
    slope = right - left
    return t[b] - 0.5 * step * slope / curvature, mid - slope**2 / (8.0 * curvature)


def _row_peak(t, row):
    """Refined peak of one row of scores on the log-bandwidths ``t``."""
    if len(row) < 3:
        b = int(np.argmax(row))
        return t[b], row[b]
    return _parabola_peak(t, row, int(np.argmax(row)))


def best_pair(scores, epsilons, bandwidths):
    """The (epsilon, bandwidth) of the highest held-out score, the bandwidth refined in log s.

    Parameters
    ----------
    scores : ndarray of shape (len(epsilons), len(bandwidths))
        Held-out scores on a grid of bandwidths equally spaced in log (rows of NaN: not
        reached by the search).
    epsilons, bandwidths : sequence of float

    Returns
    -------
    epsilon, bandwidth : float
    """
    t = np.log(np.asarray(bandwidths, dtype=np.float64))
    reached = [e for e in range(len(epsilons)) if not np.isnan(scores[e]).any()]
    peaks = {e: _row_peak(t, scores[e]) for e in reached}
    e = max(reached, key=lambda row: peaks[row][1])
    return float(epsilons[e]), float(np.exp(peaks[e][0]))
