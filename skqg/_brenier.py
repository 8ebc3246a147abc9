"""Evaluation of a fitted entropic Brenier map: values, potential, Jacobian and inverse.

A fitted map is described by plain arrays (:class:`BrenierMap`). With ``u = x - x_centre``,

    phi(x) = (eps / 2) LSE_j((h_j + 2 <u, y_j>) / eps) + <y_centre, u> + u^T B u / 2,
    T(x)   = grad phi(x) = y_centre + sum_j w_j(u) y_j + B u,
    DT(x)  = (2 / eps) Cov_w(y) + B,

with ``w(u)`` the softmax of the logits. ``phi`` is convex (a log-sum-exp of affine functions
plus a positive semi-definite quadratic), so ``T`` is the gradient of a convex function, as a
Brenier map must be. Every function works through row batches so that memory stays
``O(batch * m)`` whatever the number of rows.
"""

from typing import NamedTuple

import numpy as np

from ._kernels import entropic as _kernels
from ._kernels.spd import cholesky

# Rows per kernel call: bounds the (batch, d, d) Jacobian stack and keeps progress granular.
BATCH_ROWS = 4096


class BrenierMap(NamedTuple):
    """Arrays that define a fitted map (all float64, C-contiguous)."""

    points: np.ndarray  # (m, d) reference points, centred at y_centre
    potential: np.ndarray  # (m,) dual potential h in inner-product form
    epsilon: float
    x_centre: np.ndarray  # (d,)
    y_centre: np.ndarray  # (d,)
    linear: np.ndarray  # (d, d) symmetric positive semi-definite B


def _batches(n_rows):
    for start in range(0, n_rows, BATCH_ROWS):
        yield slice(start, min(n_rows, start + BATCH_ROWS))


def _centred(bmap, X):
    return np.ascontiguousarray(X - bmap.x_centre, dtype=np.float64)


def evaluate(bmap, X, *, value=False, gradient=False, log_det=False):
    """Potential, map and log-determinant of the Jacobian at the rows of ``X``.

    Parameters
    ----------
    bmap : BrenierMap
    X : ndarray of shape (n, d)
    value, gradient, log_det : bool
        Which quantities to compute.

    Returns
    -------
    dict
        ``"value"`` (n,), ``"gradient"`` (n, d) and ``"log_det"`` (n,) as requested.
    """
    n, d = X.shape
    order = _kernels.COVARIANCE if log_det else (_kernels.MEAN if gradient else _kernels.LSE)
    out = {}
    if value:
        out["value"] = np.empty(n)
    if gradient:
        out["gradient"] = np.empty((n, d))
    if log_det:
        out["log_det"] = np.empty(n)
    for rows in _batches(n):
        u = _centred(bmap, X[rows])
        lse, mean, cov = _moments(bmap, u, order)
        if value:
            out["value"][rows] = (
                0.5 * bmap.epsilon * lse
                + u @ bmap.y_centre
                + 0.5 * np.einsum("ij,jk,ik->i", u, bmap.linear, u)
            )
        if gradient:
            out["gradient"][rows] = bmap.y_centre + mean + u @ bmap.linear
        if log_det:
            out["log_det"][rows] = _log_det(_jacobians(bmap, cov))
    return out


def _moments(bmap, u, order):
    """Softmax moments at centred rows ``u``; a map without reference points is purely affine."""
    if bmap.points.shape[0] == 0:
        n, d = u.shape
        return np.zeros(n), np.zeros((n, d)), np.zeros((n, d, d))
    return _kernels.softmax_moments(u, bmap.points, bmap.potential, 1.0 / bmap.epsilon, order)


def _jacobians(bmap, cov):
    jac = (2.0 / bmap.epsilon) * cov
    jac += bmap.linear
    return jac


def _log_det(jacobians):
    _, pivots, logdets = cholesky(np.ascontiguousarray(jacobians))
    # A Jacobian can only fail to factor when the softmax has collapsed onto one reference point
    # and there is no linear part: the map is locally constant there.
    return np.where(pivots > 0, logdets, -np.inf)


def inverse(bmap, Y, *, start, tol=1e-12, max_iter=100):
    """Solve ``T(x) = y`` for each row of ``Y`` by damped Newton on ``phi(x) - <y, x>``.

    The objective is convex with Hessian ``DT``, so Newton's direction is a descent direction;
    backtracking keeps every step monotone, and near the solution the full step converges
    quadratically.

    Parameters
    ----------
    bmap : BrenierMap
    Y : ndarray of shape (n, d)
        Points in the reference space.
    start : ndarray of shape (n, d)
        Initial guesses.
    tol : float
        Relative step size at which a row is converged.
    max_iter : int

    Returns
    -------
    X : ndarray of shape (n, d)
    converged : ndarray of shape (n,), bool
    """
    X = np.array(start, dtype=np.float64, order="C")
    converged = np.zeros(len(X), dtype=bool)
    for rows in _batches(len(X)):
        X[rows], converged[rows] = _newton(bmap, Y[rows], X[rows], tol, max_iter)
    return X, converged


def _objective_parts(bmap, x, y, order):
    u = _centred(bmap, x)
    lse, mean, cov = _moments(bmap, u, order)
    # phi(x) - <y, x> up to a constant, in the centred coordinate u.
    objective = (
        0.5 * bmap.epsilon * lse
        + 0.5 * np.einsum("ij,jk,ik->i", u, bmap.linear, u)
        - np.einsum("ij,ij->i", u, y - bmap.y_centre)
    )
    return objective, mean, cov, u


def _newton(bmap, y, x, tol, max_iter):
    n, d = x.shape
    done = np.zeros(n, dtype=bool)
    scale = 1.0 + np.linalg.norm(x - bmap.x_centre, axis=1)
    for _ in range(max_iter):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        ya, xa = y[active], x[active]
        obj, mean, cov, u = _objective_parts(bmap, xa, ya, _kernels.COVARIANCE)
        residual = bmap.y_centre + mean + u @ bmap.linear - ya
        hessian = _jacobians(bmap, cov)
        trace = np.trace(hessian, axis1=1, axis2=2)
        # A row whose softmax has collapsed onto one reference point with no linear part has a
        # zero Hessian: the map is flat there and the target is out of its range. Give up on it.
        collapsed = ~(trace > 0) | ~np.isfinite(trace) | ~np.isfinite(obj)
        if collapsed.any():
            done[active[collapsed]] = True
            keep = ~collapsed
            active, ya, xa = active[keep], ya[keep], xa[keep]
            obj, u, residual, hessian = obj[keep], u[keep], residual[keep], hessian[keep]
            trace = trace[keep]
            if active.size == 0:
                break
        # A ridge at the rounding level keeps the solve defined where the Hessian is singular.
        ridge = 1e-14 * trace[:, None, None] / d
        step = -np.linalg.solve(hessian + ridge * np.eye(d), residual[..., None])[..., 0]
        slope = np.einsum("ij,ij->i", residual, step)
        alpha = np.ones(len(active))
        candidate = xa.copy()
        # Near the solution the objective's decrease (the squared Newton decrement) drops below
        # its rounding error and cannot judge a step: there the full Newton step is taken, as
        # the quadratic convergence region needs no safeguard.
        near = -slope <= 1e-9 * (1.0 + np.abs(obj))
        candidate[near] = xa[near] + step[near]
        pending = np.flatnonzero(~near)
        for _ in range(60):
            trial = xa[pending] + alpha[pending, None] * step[pending]
            trial_obj = _objective_parts(bmap, trial, ya[pending], _kernels.LSE)[0]
            ok = trial_obj <= obj[pending] + 1e-4 * alpha[pending] * slope[pending] + (
                1e-15 * np.abs(obj[pending])
            )
            candidate[pending[ok]] = trial[ok]
            pending = pending[~ok]
            if pending.size == 0:
                break
            alpha[pending] *= 0.5
        # Rows whose line search found no decrease are at the objective's rounding floor.
        stalled = pending
        x[active] = candidate
        moved = np.linalg.norm(alpha[:, None] * step, axis=1)
        small = moved <= tol * scale[active]
        small[stalled] = True
        done[active[small]] = True
    return x, done
