"""The latent-Gaussian structure ``Sigma = W W^T + Psi`` of observations.

Probabilistic PCA (``Psi = sigma^2 I``, closed form from the top eigenpairs) and factor analysis
(``Psi`` diagonal, maximum likelihood with ``W`` profiled out), and the posterior mean of the
latent factors ``E[z | x] = (I + W^T Psi^-1 W)^-1 W^T Psi^-1 (x - m)``. Used by the 2-D model.
"""

from collections import namedtuple

import numpy as np
from scipy.linalg import cho_solve
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from skqg._warnings import warn_caller

LatentFit = namedtuple("LatentFit", ["components", "noise_variance", "n_iter"])


def fit_latent(empirical, n_components, *, noise, tol, max_iter):
    """Factor analysis (``noise="diagonal"``) or PPCA (``"isotropic"``) of ``empirical``.

    ``empirical`` is the ``(p, p)`` maximum-likelihood covariance, or, for wide data
    (``n < p``), its factor ``Y`` of shape ``(n, p)`` with ``Y^T Y`` the covariance (the
    centred rows divided by ``sqrt(n)``): every step then works in the ``n``-dimensional row
    space, as ``O(n^2 p)`` instead of ``O(p^3)``.
    """
    n_features = empirical.shape[1]
    if n_components > n_features:
        raise ValueError(f"n_components={n_components} must be <= n_features={n_features}.")
    if noise == "diagonal":
        return diagonal_latent(empirical, n_components, tol=tol, max_iter=max_iter)
    if n_components == n_features:
        raise ValueError(
            "noise='isotropic' needs n_components < n_features to estimate the "
            f"noise variance; got n_components={n_components}."
        )
    return isotropic_latent(empirical, n_components)


def posterior_map(latent):
    """The matrix ``M`` with ``E[z | x] = (x - m) M``: ``Psi^-1 W (I + W^T Psi^-1 W)^-1``."""
    loadings_over_noise = latent.components / latent.noise_variance  # W^T Psi^{-1}
    inner = np.eye(len(latent.components)) + loadings_over_noise @ latent.components.T
    return np.linalg.solve(inner, loadings_over_noise).T


def isotropic_latent(empirical, n_components):
    """Probabilistic PCA (Tipping & Bishop 1999): the closed-form maximum-likelihood fit.

    Parameters
    ----------
    empirical : ndarray of shape (p, p)
        Maximum-likelihood covariance of the observations.
    n_components : int
        Latent dimension ``m < p``.

    Returns
    -------
    LatentFit
        ``components`` of shape ``(m, p)`` (rows are ``W^T``) and ``noise_variance`` of shape
        ``(p,)``, constant.
    """
    p = empirical.shape[1]
    eigenvalues, eigenvectors = _top_eigenpairs(empirical)
    # The eigenvalues a thin factor does not reach are zeros.
    sigma2 = float((eigenvalues.sum() - eigenvalues[:n_components].sum()) / (p - n_components))
    if not sigma2 > 0.0:
        raise ValueError(
            f"The data have no variance outside their first {n_components} principal "
            "directions, so the noise variance is zero; use fewer components."
        )
    top = _padded(eigenvalues, n_components)
    excess = np.maximum(top - sigma2, 0.0)
    components = (_padded(eigenvectors, n_components) * np.sqrt(excess)).T
    return LatentFit(components, np.full(p, sigma2), 1)


def _is_factor(matrix):
    """Whether ``matrix`` is a thin factor ``Y`` (n < p rows) rather than a ``(p, p)`` matrix."""
    return matrix.shape[0] != matrix.shape[1]


def _top_eigenpairs(matrix):
    """Eigenvalues (descending) and eigenvectors of ``S``, given ``S`` or a thin factor ``Y``
    of ``S = Y^T Y`` (then only its ``n`` possibly nonzero pairs, from the SVD of ``Y``)."""
    if _is_factor(matrix):
        _, singular, rows = np.linalg.svd(matrix, full_matrices=False)
        return singular**2, rows.T
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return eigenvalues[::-1], eigenvectors[:, ::-1]


def _padded(array, size):
    """The first ``size`` entries along the last axis, zeros beyond the given ones (a thin
    factor has fewer eigenpairs than components: the missing ones weigh 0)."""
    out = np.zeros((*array.shape[:-1], size))
    kept = min(size, array.shape[-1])
    out[..., :kept] = array[..., :kept]
    return out


def _factor_profile(log_noise, empirical, n_components):
    """:func:`_dense_profile`, or :func:`_wide_profile` when ``empirical`` is a thin factor."""
    if _is_factor(empirical):
        return _wide_profile(log_noise, empirical, n_components)
    return _dense_profile(log_noise, empirical, n_components)


def _wide_profile(log_noise, factor, n_components):
    """:func:`_dense_profile` for ``S = Y^T Y`` with ``Y`` of shape ``(n, p)``, ``n < p``.

    With ``M = psi^{-1/2} S psi^{-1/2}`` and the SVD ``Y psi^{-1/2} = P diag(s) Q^T``, the top
    ``m`` pairs ``(s_k^2, q_k)`` give the loadings; with ``d_k = (s_k^2 - 1)_+`` the determinant
    lemma and Woodbury's identity leave ``log det Sigma = sum log psi + sum log(1 + d_k)``,
    ``tr(Sigma^-1 S) = sum S_ii / psi_i - sum d_k``, and the gradient
    ``(1 - sum_k c_k q_ik^2 - sum_r Z_ri^2) / 2`` with ``c_k = d_k / (1 + d_k)`` and
    ``Z = (I - P c P^T) Y psi^{-1/2}``: no ``p x p`` matrix is formed. ``P`` and ``s^2`` come
    from the ``n x n`` Gram matrix, and ``q_k = psi^{-1/2} Y^T p_k / s_k`` only for ``s_k > 1``.
    """
    noise = np.exp(log_noise)
    root = np.sqrt(noise)
    scaled = factor / root
    squares, left = np.linalg.eigh(scaled @ scaled.T)
    top = _padded(squares[::-1], n_components)
    left = _padded(left[:, ::-1], n_components)
    lifted = np.maximum(top - 1.0, 0.0)
    weight = lifted / (1.0 + lifted)
    # Columns with s_k <= 1 weigh 0 everywhere; dividing by s_k only where s_k > 1 is safe.
    projections = scaled.T @ left  # q_k s_k
    unit = np.divide(1.0, np.sqrt(top), out=np.zeros_like(top), where=lifted > 0.0)
    loadings = root[:, np.newaxis] * projections * (unit * np.sqrt(lifted))
    variances = np.einsum("ri,ri->i", factor, factor)
    value = 0.5 * (
        np.sum(log_noise) + np.sum(np.log1p(lifted)) + np.sum(variances / noise) - lifted.sum()
    )
    residual = scaled - (left * weight) @ projections.T
    explained = (projections**2) @ (weight * unit**2)
    gradient = 0.5 * (1.0 - explained - np.einsum("ri,ri->i", residual, residual))
    return value, gradient, loadings


def _dense_profile(log_noise, empirical, n_components):
    """Negative mean log-likelihood of factor analysis with ``W`` profiled out, and its gradient.

    For noise variances ``psi`` the best loadings are ``psi^{1/2} U (Lambda - 1)_+^{1/2}`` from
    the top eigenpairs of ``psi^{-1/2} S psi^{-1/2}`` (Joreskog 1967); by the envelope theorem
    the gradient in ``psi`` is ``diag(Sigma^{-1} (Sigma - S) Sigma^{-1}) / 2`` at those loadings.
    """
    noise = np.exp(log_noise)
    root = np.sqrt(noise)
    eigenvalues, eigenvectors = np.linalg.eigh(empirical / np.outer(root, root))
    top = eigenvalues[::-1][:n_components]
    vectors = eigenvectors[:, ::-1][:, :n_components]
    loadings = root[:, np.newaxis] * vectors * np.sqrt(np.maximum(top - 1.0, 0.0))
    covariance = loadings @ loadings.T + np.diag(noise)
    factor = np.linalg.cholesky(covariance)
    inverse = cho_solve((factor, True), np.eye(len(noise)))
    value = np.log(np.diag(factor)).sum() + 0.5 * np.sum(inverse * empirical)
    gradient = 0.5 * np.einsum("ij,jk,ki->i", inverse, covariance - empirical, inverse) * noise
    return value, gradient, loadings


def diagonal_latent(empirical, n_components, *, tol, max_iter):
    """Factor analysis ``Sigma = W W^T + diag(psi)`` by maximum likelihood.

    The loadings are profiled out in closed form, leaving a smooth problem in ``log psi``
    solved by L-BFGS-B with ``psi`` between ``1e-12`` times and once each feature's variance
    (at the optimum ``psi_i <= S_ii``). This reaches the maximum in tens of iterations where
    the EM and alternating-eigenvector methods crawl when components are superfluous.

    Parameters
    ----------
    empirical : ndarray of shape (p, p)
        Maximum-likelihood covariance of the observations.
    n_components : int
        Latent dimension.
    tol : float
        Stop when the projected gradient of the mean log-likelihood per observation with
        respect to ``log psi`` is below this.
    max_iter : int
        Iteration cap (a ConvergenceWarning is raised when reached).

    Returns
    -------
    LatentFit
    """
    if _is_factor(empirical):
        variances = np.einsum("ri,ri->i", empirical, empirical)
    else:
        variances = np.diag(empirical).copy()
    if not (variances > 0.0).all():
        zero = int(np.flatnonzero(~(variances > 0.0))[0])
        raise ValueError(
            f"Feature {zero} has zero variance; factor analysis needs every feature to vary. "
            "Drop constant features (e.g. with sklearn.feature_selection.VarianceThreshold)."
        )
    # Heywood cases drive a noise variance to 0: the lower bound keeps Sigma invertible.
    bounds = np.log(np.stack([1e-12 * variances, variances], axis=1))
    result = minimize(
        lambda x: _factor_profile(x, empirical, n_components)[:2],
        np.log(0.5 * variances),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 0.0, "gtol": tol},
    )
    if result.nit >= max_iter:
        warn_caller(
            f"Factor analysis did not converge in {max_iter} iterations (projected gradient "
            f"{np.abs(result.jac).max():.2g} > tol={tol}); increase max_iter or tol.",
            ConvergenceWarning,
        )
    _, _, loadings = _factor_profile(result.x, empirical, n_components)
    return LatentFit(loadings.T, np.exp(result.x), max(int(result.nit), 1))
