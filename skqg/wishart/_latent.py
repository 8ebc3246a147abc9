"""The latent-Gaussian structure ``Sigma = W W^T + Psi`` of observations.

Probabilistic PCA (``Psi = sigma^2 I``, closed form from the top eigenpairs) and factor analysis
(``Psi`` diagonal, maximum likelihood with ``W`` profiled out), and the posterior mean of the
latent factors ``E[z | x] = (I + W^T Psi^-1 W)^-1 W^T Psi^-1 (x - m)``. Used by the 2-D model.
"""

import warnings
from collections import namedtuple

import numpy as np
from scipy.linalg import cho_solve
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

LatentFit = namedtuple("LatentFit", ["components", "noise_variance", "n_iter"])


def fit_latent(empirical, n_components, *, noise, tol, max_iter):
    """Factor analysis (``noise="diagonal"``) or PPCA (``"isotropic"``) of ``empirical``."""
    n_features = empirical.shape[0]
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
    p = empirical.shape[0]
    eigenvalues, eigenvectors = np.linalg.eigh(empirical)
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    sigma2 = float(eigenvalues[n_components:].mean())
    if not sigma2 > 0.0:
        raise ValueError(
            f"The data have no variance outside their first {n_components} principal "
            "directions, so the noise variance is zero; use fewer components."
        )
    excess = np.maximum(eigenvalues[:n_components] - sigma2, 0.0)
    components = (eigenvectors[:, :n_components] * np.sqrt(excess)).T
    return LatentFit(components, np.full(p, sigma2), 1)


def _factor_profile(log_noise, empirical, n_components):
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
        warnings.warn(
            f"Factor analysis did not converge in {max_iter} iterations (projected gradient "
            f"{np.abs(result.jac).max():.2g} > tol={tol}); increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=4,  # the estimator's fit
        )
    _, _, loadings = _factor_profile(result.x, empirical, n_components)
    return LatentFit(loadings.T, np.exp(result.x), max(int(result.nit), 1))
