"""Log-domain Sinkhorn between two point clouds, online (no ``n x m`` array), with ε-scaling."""

import numpy as np

from ._kernels.entropic import log_sum_exp


def sinkhorn_potentials(X, Y, epsilon, *, tol, max_iter, n_scaling_steps=None, callback=None):
    """Entropic OT potentials for uniform weights and the squared Euclidean cost.

    Solves ``min <P, C> - epsilon * H(P)`` over couplings of the uniform measures on the rows of
    ``X`` and ``Y`` with ``C_ij = |x_i - y_j|^2`` (POT's convention for ``reg``), by alternating
    log-sum-exp updates of the dual potentials. Regularisation is annealed geometrically from the
    data's scale down to ``epsilon`` (ε-scaling), which cuts the iterations at small ``epsilon``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
        Source points (centred by the caller to limit cancellation).
    Y : ndarray of shape (m, d), float64, C-contiguous
        Target points.
    epsilon : float
        Target regularisation.
    tol : float
        Stop when the L1 violation of the source marginal falls below ``tol``.
    max_iter : int
        Iterations allowed at the final ``epsilon`` (the annealing stages have their own small
        budget).
    callback : callable or None
        Called as ``callback(stage_epsilon, iteration, error)`` after every iteration.

    Returns
    -------
    f : ndarray of shape (n,)
        Source potential in inner-product form, ``f_i - |x_i|^2``.
    h : ndarray of shape (m,)
        Target potential in inner-product form with the log-weights absorbed,
        ``g_j - |y_j|^2 + epsilon * log(1 / m)``: the logits of the entropic map at ``x`` are
        ``(h_j + 2 <x, y_j>) / epsilon``.
    n_iter : int
        Iterations run at the final ``epsilon``.
    error : float
        Final L1 marginal violation.
    """
    n, m = X.shape[0], Y.shape[0]
    log_a, log_b = -np.log(n), -np.log(m)
    # Start from f = 0 (inner-product form -|x|^2) at the data's own scale.
    f = -np.einsum("ij,ij->i", X, X)
    scale = 2.0 * (np.mean(f * f) ** 0.5 + np.mean(np.einsum("ij,ij->i", Y, Y)))
    stages = []
    stage_eps = max(scale, epsilon)
    while stage_eps > epsilon * 2.0:
        stages.append(stage_eps)
        stage_eps *= 0.5
    stages.append(epsilon)
    if n_scaling_steps is not None:
        stages = stages[-(n_scaling_steps + 1) :]

    h = None
    error = np.inf
    n_iter = 0
    for stage, eps in enumerate(stages):
        final = stage == len(stages) - 1
        inv = 1.0 / eps
        budget = max_iter if final else 20
        target = tol if final else max(tol, 1e-2)
        for n_iter in range(1, budget + 1):
            g = -eps * log_sum_exp(Y, X, f + eps * log_a, inv)
            h = g + eps * log_b
            f_new = -eps * log_sum_exp(X, Y, h, inv)
            # After the g-update the target marginal is exact; the source marginal of row i is
            # a_i * exp((f_old - f_new) / eps).
            error = float(np.sum(np.abs(np.expm1((f - f_new) * inv))) / n)
            f = f_new
            if callback is not None:
                callback(eps, n_iter, error)
            if not np.isfinite(error) or error < target:
                break
    return f, h, n_iter, error
