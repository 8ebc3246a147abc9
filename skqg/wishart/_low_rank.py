"""``Sigma = W W^T + Psi`` (``W`` of shape ``(p, m)``, ``Psi`` diagonal) without a ``p x p``
factorisation: its log-determinant, Mahalanobis distances and precision in ``O(p m^2)`` and
``O(p^2 m)``.

Woodbury's identity ``Sigma^-1 = Psi^-1 - Psi^-1 W K^-1 W^T Psi^-1`` (``K = I + W^T Psi^-1 W``)
subtracts terms of size ``1 / psi_i``. When a noise variance is tiny next to the variances (a
Heywood case of factor analysis) that cancellation loses ``Sigma_ii / psi_i`` of the relative
accuracy. Those features ``H`` are therefore eliminated first, by a block factorisation
``Sigma_HH = M M^T`` that needs no subtraction: with the SVD ``Psi_H^-1/2 W_H = U diag(s) V^T``,
``M = Psi_H^1/2 U diag(1 + s^2)^1/2``. The Schur complement of the rest is then
``S = Psi_R + W_R V diag(1 + s^2)^-1 V^T W_R^T``, again diagonal plus rank ``m`` with noise
variances Woodbury handles accurately.
"""

import numpy as np
from scipy.linalg import solve_triangular

# Woodbury's identity is accurate to about eps / ratio: used for the features whose noise
# variance is at least this fraction of the largest variance; the others are eliminated first.
WOODBURY_RATIO = 1e-6


class LowRankPlusDiagonal:
    """The Gaussian terms of ``Sigma = components^T components + diag(noise_variance)``.

    Parameters
    ----------
    components : ndarray of shape (m, p)
        Rows are the loadings ``W^T``.
    noise_variance : ndarray of shape (p,)
        Positive diagonal ``Psi``.

    Attributes
    ----------
    log_det : float
        ``log det Sigma``.
    heywood : ndarray of int
        Features eliminated first (noise variance below ``WOODBURY_RATIO`` times the largest
        variance).
    """

    def __init__(self, components, noise_variance):
        loadings = components.T
        variances = noise_variance + np.einsum("ik,ik->i", loadings, loadings)
        tiny = noise_variance < WOODBURY_RATIO * variances.max()
        self.heywood, self.rest = np.flatnonzero(tiny), np.flatnonzero(~tiny)
        self.rest_loadings = loadings[self.rest]
        self.rest_noise = noise_variance[self.rest]
        reduced = self.rest_loadings
        self.log_det = float(np.log(self.rest_noise).sum())
        if len(self.heywood):
            reduced = self._eliminate(loadings[self.heywood], noise_variance[self.heywood])
        over_noise = reduced.T / self.rest_noise  # (W_R F)^T Psi_R^-1
        inner = np.eye(len(over_noise)) + over_noise @ reduced
        inner_factor = np.linalg.cholesky(inner)
        self.whitened = solve_triangular(inner_factor, over_noise, lower=True)
        self.log_det += 2.0 * float(np.log(np.diag(inner_factor)).sum())

    def _eliminate(self, heywood_loadings, heywood_noise):
        """Factor ``Sigma_HH = M M^T``; return ``W_R F`` with ``F F^T = V diag(1 + s^2)^-1 V^T``.

        Sets ``unmix = M^-1`` and ``transfer = W_H^T Sigma_HH^-1 = V diag(s / (1 + s^2)) U^T
        Psi_H^-1/2`` (so that ``Sigma_RH Sigma_HH^-1 = W_R transfer``) and adds ``log det
        Sigma_HH`` to ``log_det``.
        """
        n_heywood, n_components = heywood_loadings.shape
        root = np.sqrt(heywood_noise)
        left, singular, right_t = np.linalg.svd(heywood_loadings / root[:, np.newaxis])
        kept = len(singular)
        lifted = np.ones(n_heywood)  # 1 + s^2, with s = 0 beyond the rank
        lifted[:kept] += singular**2
        self.unmix = (left / root[:, np.newaxis]).T / np.sqrt(lifted)[:, np.newaxis]
        self.transfer = (right_t[:kept].T * (singular / lifted[:kept])) @ (left[:, :kept].T / root)
        self.log_det += float(np.log(heywood_noise).sum() + np.log(lifted).sum())
        shrink = np.ones(n_components)
        shrink[:kept] = 1.0 / np.sqrt(lifted[:kept])
        return self.rest_loadings @ (right_t.T * shrink)

    def _schur_solve(self, right):
        """``S^-1 right`` for ``right`` of shape ``(|R|, k)`` (Woodbury)."""
        return right / self.rest_noise[:, np.newaxis] - self.whitened.T @ (self.whitened @ right)

    def mahalanobis(self, centred):
        """``x^T Sigma^-1 x`` for each row ``x`` of ``centred``: ``|M^-1 x_H|^2 + y^T S^-1 y``
        with ``y = x_R - Sigma_RH Sigma_HH^-1 x_H``, and Woodbury for ``S^-1``."""
        remainder = centred[:, self.rest]
        distances = np.zeros(len(centred))
        if len(self.heywood):
            heywood = centred[:, self.heywood].T
            solved = self.unmix @ heywood
            distances += np.einsum("hr,hr->r", solved, solved)
            remainder = remainder - (self.rest_loadings @ (self.transfer @ heywood)).T
        projected = self.whitened @ remainder.T
        distances += np.einsum("ri,ri->r", remainder / self.rest_noise, remainder)
        return distances - np.einsum("kr,kr->r", projected, projected)

    def precision(self):
        """``Sigma^-1`` of shape ``(p, p)``: with ``E = Sigma_RH Sigma_HH^-1``, the block inverse
        ``[[M^-T M^-1 + E^T S^-1 E, -E^T S^-1], [-S^-1 E, S^-1]]``, a sum of positive terms."""
        n_features = len(self.heywood) + len(self.rest)
        # S^-1 = Psi_R^-1 - A^T A in the rest's rows and columns (zeros in H's, filled below).
        whitened = np.zeros((len(self.whitened), n_features))
        whitened[:, self.rest] = self.whitened
        out = -(whitened.T @ whitened)
        out[self.rest, self.rest] += 1.0 / self.rest_noise
        if len(self.heywood):
            coupling = self.rest_loadings @ self.transfer
            solved = self._schur_solve(coupling)
            out[self.rest[:, np.newaxis], self.heywood] = -solved
            out[self.heywood[:, np.newaxis], self.rest] = -solved.T
            heywood_block = self.unmix.T @ self.unmix + coupling.T @ solved
            out[self.heywood[:, np.newaxis], self.heywood] = heywood_block
        return out
