"""Evaluation of a fitted entropic Brenier map: values, potential, Jacobian and inverse.

A fitted map is described by plain arrays (:class:`BrenierMap`). With ``u = x - x_centre``,

    phi(x) = (eps / 2) LSE_j((h_j + 2 <u, y_j>) / eps) + <y_centre, u> + u^T B u / 2
             + (|W u| - R)_+^2 / 2,
    T(x)   = grad phi(x),     DT(x) = D^2 phi(x) = (2 / eps) Cov_w(y) + B + (tail Hessian),

with ``w(u)`` the softmax of the logits. Every term is convex (a log-sum-exp of affine
functions, a positive semi-definite quadratic, and the squared distance to a ball in the metric
``W^2``), so ``T`` is the gradient of a convex function, as a Brenier map must be.

The last term is the *tail*: beyond the training data (``|W u| > R``) the entropic part has
saturated at the extreme reference points, and the tail restores the Gaussian slope there
(``W^2 = M_eps``, the entropic Gaussian map, so that ``B + W^2`` is the Bures map). Inside the
data's range it is exactly zero.

Every function works through row batches so that memory stays ``O(batch * m)`` whatever the
number of rows.
"""

from typing import NamedTuple

import numpy as np

from skqg import _spd
from skqg._batching import row_batches
from skqg._kernels import entropic_map


class BrenierMap(NamedTuple):
    """Arrays that define a fitted map (all float64, C-contiguous)."""

    points: np.ndarray  # (m, d) reference points, centred at y_centre (may be empty)
    potential: np.ndarray  # (m,) dual potential h in inner-product form
    epsilon: float
    x_centre: np.ndarray  # (d,)
    y_centre: np.ndarray  # (d,)
    linear: np.ndarray  # (d, d) symmetric positive semi-definite B
    tail_root: np.ndarray  # (d, d) symmetric W (zero: no tail)
    tail_radius: float  # R


def _moments(bmap, u, order):
    """Softmax moments at centred rows ``u``; a map without reference points is purely affine."""
    if bmap.points.shape[0] == 0:
        n, d = u.shape
        return np.zeros(n), np.zeros((n, d)), np.zeros((n, d, d))
    return entropic_map.softmax_moments(u, bmap.points, bmap.potential, 1.0 / bmap.epsilon, order)


def _parts(bmap, X, order):
    """Potential, map and Jacobian (as far as ``order`` asks) at the rows of ``X``."""
    u = np.ascontiguousarray(X - bmap.x_centre, dtype=np.float64)
    lse, mean, cov = _moments(bmap, u, order)
    Bu = u @ bmap.linear
    value = 0.5 * bmap.epsilon * lse + u @ bmap.y_centre + 0.5 * np.einsum("ij,ij->i", u, Bu)
    gradient = jacobian = None
    if order >= entropic_map.MEAN:
        gradient = bmap.y_centre + mean + Bu
    if order >= entropic_map.COVARIANCE:
        jacobian = (2.0 / bmap.epsilon) * cov
        jacobian += bmap.linear
    # The tail: 0.5 * (|v| - R)_+^2 with v = W u.
    v = u @ bmap.tail_root
    radius = np.linalg.norm(v, axis=1)
    outside = radius > bmap.tail_radius
    if outside.any():
        r = radius[outside]
        excess = r - bmap.tail_radius
        value[outside] += 0.5 * excess**2
        if gradient is not None:
            gradient[outside] += ((excess / r)[:, None] * v[outside]) @ bmap.tail_root
        if jacobian is not None:
            d = u.shape[1]
            unit = v[outside] / r[:, None]
            inner = (excess / r)[:, None, None] * np.eye(d) + (bmap.tail_radius / r)[
                :, None, None
            ] * (unit[:, :, None] * unit[:, None, :])
            jacobian[outside] += bmap.tail_root @ inner @ bmap.tail_root
    return value, gradient, jacobian


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
    order = (
        entropic_map.COVARIANCE
        if log_det
        else (entropic_map.MEAN if gradient else entropic_map.LSE)
    )
    out = {}
    if value:
        out["value"] = np.empty(n)
    if gradient:
        out["gradient"] = np.empty((n, d))
    if log_det:
        out["log_det"] = np.empty(n)
    for rows in row_batches(n):
        phi, grad, jac = _parts(bmap, X[rows], order)
        if value:
            out["value"][rows] = phi
        if gradient:
            out["gradient"][rows] = grad
        if log_det:
            out["log_det"][rows] = _log_det(jac)
    return out


def _log_det(jacobians):
    _, pivots, logdets = _spd.cholesky(np.ascontiguousarray(jacobians))
    # A Jacobian can only fail to factor when the softmax has collapsed onto one reference point
    # (to the last bit) and there is no linear part: the map is locally constant there.
    return np.where(pivots > 0, logdets, -np.inf)


def inverse(bmap, Y, *, start, spreads, tol=1e-12, max_iter=100):
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
    spreads : tuple of float
        Spreads of the data and of the reference (root traces of their covariances): the
        units of the steps and of the objective, so the stopping rules do not depend on the
        data's scale.
    tol : float
        Relative step size at which a row is converged.
    max_iter : int

    Returns
    -------
    X : ndarray of shape (n, d)
        Preimages (the caller checks the round trip).
    """
    X = np.array(start, dtype=np.float64, order="C")
    # Targets outside a bounded map's range send Newton far out before it gives up on them;
    # the caller reports those rows, so overflow on the way is expected.
    with np.errstate(over="ignore", invalid="ignore"):
        for rows in row_batches(len(X)):
            X[rows] = _newton(bmap, Y[rows], X[rows], spreads, tol, max_iter)
    return X


def _newton(bmap, y, x, spreads, tol, max_iter):
    x_spread, y_spread = spreads
    n, d = x.shape
    done = np.zeros(n, dtype=bool)
    scale = x_spread + np.linalg.norm(x - bmap.x_centre, axis=1)
    unit = x_spread * (y_spread + np.linalg.norm(y, axis=1))  # of the objective
    for _ in range(max_iter):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        ya, xa = y[active], x[active]
        phi, grad, hessian = _parts(bmap, xa, entropic_map.COVARIANCE)
        obj = phi - np.einsum("ij,ij->i", xa, ya)
        residual = grad - ya
        trace = np.trace(hessian, axis1=1, axis2=2)
        # A row whose softmax has collapsed onto one reference point with no linear part has a
        # zero Hessian: the map is flat there and the target is out of its range. Give up on it.
        collapsed = ~(trace > 0) | ~np.isfinite(trace) | ~np.isfinite(obj)
        if collapsed.any():
            done[active[collapsed]] = True
            keep = ~collapsed
            active, ya, xa = active[keep], ya[keep], xa[keep]
            obj, residual, hessian, trace = obj[keep], residual[keep], hessian[keep], trace[keep]
            if active.size == 0:
                break
        # A ridge at the rounding level keeps the solve defined where the Hessian is singular.
        ridge = 1e-14 * trace[:, None, None] / d
        step = -np.linalg.solve(hessian + ridge * np.eye(d), residual[..., None])[..., 0]
        slope = np.einsum("ij,ij->i", residual, step)
        size = np.linalg.norm(step, axis=1)
        alpha = np.ones(len(active))
        candidate = xa.copy()
        # Near the solution the objective's decrease (the squared Newton decrement) drops below
        # its rounding error and cannot judge a step: there a small full Newton step is taken,
        # as the quadratic convergence region needs no safeguard.
        near = (-slope <= 1e-9 * (unit[active] + np.abs(obj))) & (size <= 1e-3 * scale[active])
        candidate[near] = xa[near] + step[near]
        pending = np.flatnonzero(~near)
        for _ in range(60):
            if pending.size == 0:
                break
            trial = xa[pending] + alpha[pending, None] * step[pending]
            trial_phi = _parts(bmap, trial, entropic_map.LSE)[0]
            trial_obj = trial_phi - np.einsum("ij,ij->i", trial, ya[pending])
            ok = trial_obj <= obj[pending] + 1e-4 * alpha[pending] * slope[pending] + (
                1e-15 * np.abs(obj[pending])
            )
            candidate[pending[ok]] = trial[ok]
            pending = pending[~ok]
            alpha[pending] *= 0.5
        x[active] = candidate
        moved = alpha * size
        small = moved <= tol * scale[active]
        # Rows whose line search found no decrease are at the objective's rounding floor.
        small[pending] = True
        done[active[small]] = True
    return x
