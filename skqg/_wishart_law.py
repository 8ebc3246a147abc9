"""Formulas of the Wishart distribution shared by :mod:`skqg.stats` and the Wishart family.

The log-density from Cholesky factors, the maximum-likelihood degrees of freedom, and the batched
triangular solves and Gram products they rest on. Inputs are validated by the callers.
"""

import math
import warnings

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import multigammaln
from sklearn.exceptions import ConvergenceWarning

from skqg import _spd

# --- linear algebra ----------------------------------------------------------------------------


def solve_lower(lower, stack):
    """``lower^{-1} @ stack[k]`` for every ``k``, in one triangular solve.

    Parameters
    ----------
    lower : ndarray of shape (p, p)
        Lower triangular, non-singular.
    stack : ndarray of shape (m, p, q)

    Returns
    -------
    ndarray of shape (m, p, q)
    """
    with _spd.one_blas_thread():
        return _solve_lower_unpinned(lower, stack)


def _solve_lower_unpinned(lower, stack):
    m, p, q = stack.shape
    columns = np.moveaxis(stack, 0, 1).reshape(p, m * q)
    solved = solve_triangular(lower, columns, lower=True, check_finite=False)
    return np.moveaxis(solved.reshape(p, m, q), 1, 0)


def solve_lower_each(lowers, stacks):
    """``lowers[k]^{-1} @ stacks[k, i]`` for every ``k, i``: shapes (r, p, p), (r, m, p, q)."""
    out = np.empty_like(stacks)
    with _spd.one_blas_thread():
        for k in range(len(lowers)):
            out[k] = _solve_lower_unpinned(lowers[k], stacks[k])
    return out


def gram(factors):
    """``F @ F.T`` for each matrix of a stack, exactly symmetric."""
    with _spd.one_blas_thread():
        out = np.matmul(factors, np.swapaxes(factors, -1, -2))
    return _spd.sym(out)


def logpdf_from_factors(factors, logdets, df, scale_factor):
    """Wishart log-densities from validated Cholesky factors (of the matrices and the scale)."""
    p = scale_factor.shape[0]
    whitened = solve_lower(scale_factor, factors)
    trace = np.einsum("kij,kij->k", whitened, whitened)
    scale_logdet = 2.0 * np.log(np.diag(scale_factor)).sum()
    return (
        0.5 * (df - p - 1) * logdets
        - 0.5 * trace
        - 0.5 * df * p * math.log(2.0)
        - 0.5 * df * scale_logdet
        - multigammaln(0.5 * df, p)
    )


def solve_df(gap, p, tol=1e-10, max_iter=100):
    """Vectorised root of ``psi_p(a) - p log a = gap`` (``gap < 0``); returns ``nu = 2 a``.

    Newton's method on the equation in the variable ``y = 1 / (a - (p - 1) / 2)``, in which the
    left-hand side is nearly linear at both ends (``~ -y`` as ``a -> (p - 1) / 2`` and
    ``~ -p (p + 1) y / 4`` as ``a -> inf``), safeguarded by a bracket updated from the sign of
    the residual (bisection, or doubling while the bracket is open, when a step leaves it).

    Returns
    -------
    df : ndarray
    n_iter : ndarray of int
    converged : ndarray of bool
    """
    gap = np.asarray(gap, dtype=np.float64)
    half = 0.5 * (p - 1)
    y = -4.0 * gap / (p * (p + 1))
    left = np.zeros_like(gap)  # residual > 0 here: a above the root
    right = np.full_like(gap, np.inf)  # residual < 0 here
    active = np.ones(gap.shape, dtype=bool)
    n_iter = np.zeros(gap.shape, dtype=np.int64)
    for _ in range(max_iter):
        x = 1.0 / y
        a = half + x
        residual = _spd.multidigamma(a, p) - p * np.log(a) - gap
        slope = _spd.multidigamma(a, p, derivative=1) - p / a  # > 0: increasing in a
        left = np.where(active & (residual > 0), np.maximum(left, y), left)
        right = np.where(active & (residual < 0), np.minimum(right, y), right)
        proposal = y + residual / (slope * x * x)
        outside = ~((proposal > left) & (proposal < right))
        fallback = np.where(np.isfinite(right), 0.5 * (left + right), 2.0 * y)
        proposal = np.where(outside, fallback, proposal)
        step = np.abs(proposal - y)
        y = np.where(active, proposal, y)
        n_iter += active
        active &= ~(step <= tol * y)
        if not active.any():
            break
    return 2.0 * (half + 1.0 / y), n_iter, ~active


def df_from_log_determinants(mean_logdet, logdet_of_mean, p, *, tol=1e-10, max_iter=100):
    """Maximum-likelihood degrees of freedom of the mean-parametrised Wishart.

    Solves ``psi_p(nu/2) - p log(nu/2) = mean_logdet - logdet_of_mean`` for ``nu > p - 1``;
    the left-hand side increases from ``-inf`` to ``0``, so the root exists and is unique when
    the right-hand side is negative (Jensen: ``mean_k log|S_k| < log|mean_k S_k|`` unless all
    matrices are equal). With a known mean ``C`` instead of the sample mean, pass
    ``logdet_of_mean = log|C| + tr(C^{-1} S_bar) - p``: the same equation gives the
    maximum-likelihood ``nu`` for that ``C``.

    Parameters
    ----------
    mean_logdet : float
        ``mean_k log det S_k``.
    logdet_of_mean : float
        ``log det`` of the mean matrix.
    p : int
        Matrix size.
    tol : float, default=1e-10
        Relative tolerance on ``nu - (p - 1)``.
    max_iter : int, default=100
        Maximum Newton iterations.

    Returns
    -------
    df : float
    n_iter : int

    Raises
    ------
    ValueError
        If ``mean_logdet >= logdet_of_mean`` (then ``nu = inf``).

    Warns
    -----
    ConvergenceWarning
        If ``max_iter`` iterations did not reach ``tol``.
    """
    gap = float(mean_logdet) - float(logdet_of_mean)
    if not gap < 0:
        raise ValueError(
            f"The mean log-determinant ({float(mean_logdet)!r}) is not below the log-determinant "
            f"of the mean ({float(logdet_of_mean)!r}), so the maximum-likelihood df is infinite: "
            "the matrices do not vary (all equal, up to rounding). Pass df explicitly."
        )
    df, n_iter, converged = solve_df(gap, p, tol, max_iter)
    if not converged:
        warnings.warn(
            f"The Newton iteration for df did not converge to tol={tol} in {max_iter} "
            f"iterations (last value {float(df)!r}); increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return float(df), int(n_iter)
