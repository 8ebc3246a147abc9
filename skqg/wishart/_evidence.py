"""Evidence-maximised inverse-Wishart shrinkage of a scatter matrix.

With ``Sigma ~ IW(nu0, tau I)`` and the scatter ``A ~ W(n_dof, Sigma)``, the prior ``(nu0, tau)``
maximises the marginal likelihood (the evidence) and the covariance is the posterior mean
``(tau I + A) / (nu0 + n_dof - p - 1)``. The 2-D model applies it to the observations' scatter,
the 3-D model to each rank-deficient matrix of a stack. Pure NumPy/SciPy on ``p x p`` matrices:
the work is a handful of symmetric eigendecompositions, too small for a kernel.
"""

from collections import namedtuple

import numpy as np

from skqg import _spd

EvidencePrior = namedtuple("EvidencePrior", ["df", "scale", "log_evidence"])
EvidencePrior.__doc__ = """Inverse-Wishart prior ``IW(df, scale * I)`` chosen by the evidence.

Attributes
----------
df : float
    Prior degrees of freedom ``nu0``.
scale : float
    ``tau`` in the prior scale matrix ``tau * I``.
log_evidence : float
    Log marginal likelihood of the data at the optimum, up to a constant free of the prior.
"""

# Search range for log(nu0 - nu_min): beyond e^18 the prior has pinned the estimate to tau/nu0 I.
_LOG_EXCESS_RANGE = (-12.0, 18.0)


def _log_evidence(nu0, tau, eigenvalues, n_dof):
    """log p(X | nu0, tau) up to terms free of (nu0, tau), for scatter eigenvalues ``a``.

    With Sigma ~ IW(nu0, tau I) and scatter A ~ W(n, Sigma), integrating Sigma out leaves
    log Gamma_p((nu0 + n)/2) - log Gamma_p(nu0/2) + (nu0 p/2) log tau
    - ((nu0 + n)/2) sum_i log(tau + a_i).

    Shapes: ``nu0`` and ``tau`` (k, g), ``eigenvalues`` (k, p), ``n_dof`` (k, 1).
    """
    p = eigenvalues.shape[-1]
    return (
        _spd.multigammaln(0.5 * (nu0 + n_dof), p)
        - _spd.multigammaln(0.5 * nu0, p)
        + 0.5 * nu0 * p * np.log(tau)
        - 0.5 * (nu0 + n_dof) * np.log(tau[..., np.newaxis] + eigenvalues[:, None, :]).sum(-1)
    )


def _best_tau(nu0, eigenvalues, n_dof, typical):
    """The evidence-maximising tau for each fixed nu0.

    The root of ``sum_i tau / (tau + a_i) = nu0 p / (nu0 + n)``: the left side increases in
    ``u = log tau``, so Newton steps in ``u`` safeguarded by a shrinking bracket converge.
    Shapes: ``nu0`` (k, g), ``eigenvalues`` (k, p), ``n_dof`` and ``typical`` (k, 1).
    """
    p = eigenvalues.shape[-1]
    target = nu0 * p / (nu0 + n_dof)
    centre = np.broadcast_to(np.log(typical), nu0.shape)
    low, high, u = centre - 50.0, centre + 50.0, centre.copy()
    active = np.ones(nu0.shape, dtype=bool)
    for _ in range(200):
        tau = np.exp(u)[..., np.newaxis]
        ratio = tau / (tau + eigenvalues[:, None, :])
        gap = ratio.sum(axis=-1) - target
        slope = (ratio * (1.0 - ratio)).sum(axis=-1)
        low = np.where(gap < 0.0, u, low)
        high = np.where(gap > 0.0, u, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = u - gap / slope
        step = np.where((step > low) & (step < high), step, 0.5 * (low + high))
        # Converged entries are frozen, so each result is independent of the rest of the batch.
        converged = np.abs(step - u) <= 1e-13 * np.maximum(1.0, np.abs(u))
        u = np.where(active, step, u)
        active &= ~converged
        if not active.any():
            break
    return np.exp(u)


def evidence_priors(eigenvalues, n_dof, eps=None):
    """Maximise the marginal likelihood of an inverse-Wishart prior ``IW(nu0, tau I)``.

    Vectorised over a batch of scatter matrices, given by their eigenvalues.

    Parameters
    ----------
    eigenvalues : ndarray of shape (k, p)
        Eigenvalues of each scatter matrix ``A = sum (x - m)(x - m)^T`` (non-negative; a rank
        deficit shows as zeros).
    n_dof : ndarray of shape (k,)
        Degrees of freedom of each scatter (``n - 1`` when the mean was estimated).
    eps : float, default=None
        Relative rounding level of the data: eigenvalues below ``p * eps * max`` count as zero
        (float64's epsilon by default).

    Returns
    -------
    nu0 : ndarray of shape (k,)
        Prior degrees of freedom.
    tau : ndarray of shape (k,)
        Prior scale (the prior scale matrix is ``tau * I``).
    log_evidence : ndarray of shape (k,)
        Log marginal likelihood at the optimum, up to a constant free of the prior.

    Notes
    -----
    For fixed ``nu0`` the optimal ``tau`` solves a monotone 1-D equation, which leaves a 1-D
    profile in ``log(nu0 - nu_min)``, maximised by four rounds of grid zoom (31 points each,
    vectorised) and a final parabolic step. ``nu_min`` keeps the prior's mean finite
    (``nu0 > p + 1``, so the posterior mean is a convex combination of the unbiased scatter
    ``A / n_dof`` and a scaled identity: below it the evidence can prefer a prior without a mean
    whose posterior mean inflates the scatter and adds a ridge), the posterior mean finite
    (``nu0 + n_dof > p + 1``) and the evidence
    bounded (``nu0 * rank > n_dof * (p - rank)``; with more zero eigenvalues the evidence grows
    without bound as ``tau -> 0``).
    """
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    k, p = eigenvalues.shape
    n_dof = np.asarray(n_dof, dtype=np.float64).reshape(k, 1)
    largest = eigenvalues.max(axis=1, keepdims=True)
    if not (largest > 0.0).all():
        raise ValueError(
            "The observations have zero variance in every direction; the covariance cannot be "
            "estimated. Check that X is not constant."
        )
    eps = np.finfo(np.float64).eps if eps is None else eps
    positive = eigenvalues > largest * p * eps
    eigenvalues = np.where(positive, eigenvalues, 0.0)
    rank = positive.sum(axis=1, keepdims=True)
    nu_min = np.maximum.reduce(
        [np.full((k, 1), p + 1.0), p + 1.0 - n_dof, n_dof * (p - rank) / rank]
    )
    # Work in units of the mean non-zero eigenvalue, so any data scale is safe in exp/log.
    typical = eigenvalues.sum(axis=1, keepdims=True) / rank
    eigenvalues = eigenvalues / typical
    units = typical
    typical = np.ones_like(units)

    def negative_profile(log_excess):
        nu0 = nu_min + np.exp(log_excess)
        tau = _best_tau(nu0, eigenvalues, n_dof, typical)
        return -_log_evidence(nu0, tau, eigenvalues, n_dof)

    # Vectorised zoom: each round evaluates a grid around the best point so far; a parabola
    # through the best point and its neighbours finishes (the profile is smooth there).
    rows = np.arange(k)
    low = np.full((k, 1), _LOG_EXCESS_RANGE[0])
    high = np.full((k, 1), _LOG_EXCESS_RANGE[1])
    fractions = np.linspace(0.0, 1.0, 31)
    for _ in range(4):
        grid = low + (high - low) * fractions
        values = negative_profile(grid)
        best = np.argmin(values, axis=1)
        step = grid[:, 1] - grid[:, 0]
        centre = grid[rows, best]
        low, high = (centre - step)[:, None], (centre + step)[:, None]
    inner = (best > 0) & (best < len(fractions) - 1)
    index = np.clip(best, 1, len(fractions) - 2)
    left, middle, right = (values[rows, index + d] for d in (-1, 0, 1))
    curvature = left - 2.0 * middle + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(inner & (curvature > 0.0), 0.5 * step * (left - right) / curvature, 0.0)
    log_excess = (centre + shift)[:, None]
    nu0 = nu_min + np.exp(log_excess)
    tau = _best_tau(nu0, eigenvalues, n_dof, typical)
    # Back to the data's units: tau scales with them, the evidence shifts by -(n p / 2) log c.
    evidence = _log_evidence(nu0, tau, eigenvalues, n_dof) - 0.5 * n_dof * p * np.log(units)
    return nu0[:, 0], (tau * units)[:, 0], evidence[:, 0]


def evidence_prior(eigenvalues, n_dof):
    """:func:`evidence_priors` for one scatter matrix, as an :class:`EvidencePrior`."""
    nu0, tau, evidence = evidence_priors(np.asarray(eigenvalues)[np.newaxis], [n_dof])
    return EvidencePrior(float(nu0[0]), float(tau[0]), float(evidence[0]))


def posterior_mean(scatter, prior, n_dof):
    """``(tau I + A) / (nu0 + n_dof - p - 1)`` for a scatter ``A`` and an :class:`EvidencePrior`."""
    return _posterior_means(scatter[np.newaxis], [prior.df], [prior.scale], [n_dof])[0]


def _posterior_means(scatters, nu0, tau, n_dof):
    """``(tau I + A) / (nu0 + n_dof - p - 1)`` for each scatter ``A`` of a stack."""
    p = scatters.shape[1]
    nu0, tau, n_dof = (np.asarray(v, dtype=np.float64) for v in (nu0, tau, n_dof))
    out = scatters.copy()
    out[:, np.arange(p), np.arange(p)] += tau[:, np.newaxis]
    out /= (nu0 + n_dof - p - 1.0)[:, np.newaxis, np.newaxis]
    return out


def evidence_covariances(scatters, eigenvalues, n_dof, eps=None):
    """Evidence posterior means of a stack, given the eigenvalues of each scatter.

    Parameters
    ----------
    scatters : ndarray of shape (k, p, p)
        Scatter matrices.
    eigenvalues : ndarray of shape (k, p)
        Their eigenvalues.
    n_dof : ndarray of shape (k,)
        Their degrees of freedom.
    eps : float, default=None
        Relative rounding level (see :func:`evidence_priors`).

    Returns
    -------
    ndarray of shape (k, p, p)
        The posterior means.
    """
    k, p, _ = scatters.shape
    n_dof = np.asarray(n_dof, dtype=np.float64)
    out = np.empty_like(scatters)
    # Chunks keep the (chunk, grid, p) work arrays small.
    chunk = max(1, (1 << 21) // (31 * p))
    for start in range(0, k, chunk):
        part = slice(start, start + chunk)
        nu0, tau, _ = evidence_priors(eigenvalues[part], n_dof[part], eps)
        out[part] = _posterior_means(scatters[part], nu0, tau, n_dof[part])
    return out
