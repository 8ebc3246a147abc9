"""The observation model of :class:`skqg.WishartCovarianceModel`: 2-D input ``(n, p)``.

Gaussian observations ``x ~ N(m, C)``. ``C`` is a shrunk scatter ``A = sum (x - m)(x - m)^T``
(the evidence posterior mean ``(tau I + A) / (nu0 + n_dof - p - 1)``, nonlinear shrinkage of
its eigenvalues (Ledoit-Wolf 2020 or QIS, ``skqg.wishart._nonlinear``), Ledoit-Wolf, OAS,
``(1 - a) A / n + a tr(A / n) / p I``, or the empirical ``A / n``) or the latent structure
``W W^T + Psi``. With ``C = U diag(s^2) U^T``: whitening ``(x - m) U / s``, its inverse
``z s U^T + m``, the latent posterior mean ``(x - m) Psi^-1 W (I + W^T Psi^-1 W)^-1`` and its
reconstruction ``z W^T + m``, the squared Mahalanobis distance ``|(x - m) U / s|^2``, the
log-density ``-(p log 2 pi + log det C + d^2) / 2``, draws ``m + (e s) U^T``, and the Bartlett and
Marchenko-Pastur diagnostics of the scatter about ``m`` (``W_p(n, C)`` under the model).
"""

import numpy as np
from sklearn.covariance import ledoit_wolf, oas, shrunk_covariance
from sklearn.utils import check_random_state

from skqg import stats
from skqg._batching import row_batches
from skqg.wishart._evidence import evidence_prior, posterior_mean
from skqg.wishart._fitted import FittedModel, covariance_factor
from skqg.wishart._latent import fit_latent, posterior_map
from skqg.wishart._low_rank import LowRankPlusDiagonal
from skqg.wishart._nonlinear import (
    MIN_ANALYTICAL_SAMPLES,
    SHRINKERS,
    from_spectrum,
    monotone_analytical_shrinkage,
    nonlinear_covariance,
    sphericity_statistic,
    symmetric_eigen,
)

# shrinkage="auto": sphericity is rejected above this standardised John statistic (one-sided
# level 0.001); below it the evidence rule, exact for a scaled identity, is kept.
SPHERICITY_CRITICAL = 3.09


class ObservationModel(FittedModel):
    """A Gaussian model of observations, fitted by :meth:`fit`."""

    ndim = 2
    form = "2-D observations (n_samples, n_features)"
    fitted_on = "2-D observations"
    # The estimator's parameters this model is fitted with.
    settings = ("n_components", "shrinkage", "noise", "assume_centered", "tol", "max_iter")

    def __init__(self, location, covariance, estimates, latent=None, spectrum=None):
        """Hold ``location``, ``covariance``, the other public ``estimates`` and the latent fit.

        ``spectrum``, when the fit already has it, is ``(eigenvalues, eigenvectors)`` of
        ``covariance`` (all eigenvalues positive): it saves a second eigendecomposition.
        """
        self.location = location
        self.covariance = covariance
        if latent is not None:
            # W W^T + Psi (Psi > 0): no p x p factorisation, accurate in Heywood cases too.
            self.low_rank = LowRankPlusDiagonal(latent.components, latent.noise_variance)
            self.log_det, self.precision = self.low_rank.log_det, self.low_rank.precision()
            self.axes = self.scales = None
        elif spectrum is None:
            # Validates the covariance (a clear error if it is not positive definite).
            _, self.log_det, self.precision = covariance_factor(
                covariance, "The estimated covariance"
            )
            self.axes, self.scales = principal_axes(covariance)
        else:
            eigenvalues, eigenvectors = spectrum
            self.log_det = float(np.sum(np.log(eigenvalues)))
            self.precision = from_spectrum(1.0 / eigenvalues, eigenvectors)
            order = np.argsort(eigenvalues)[::-1]
            self.axes, self.scales = eigenvectors[:, order], np.sqrt(eigenvalues[order])
        self.estimates = estimates
        self.latent = latent
        self.latent_map = None if latent is None else posterior_map(latent)

    @classmethod
    def fit(cls, X, *, n_components, shrinkage, noise, assume_centered, tol, max_iter):
        """Fit to validated finite observations ``X`` of shape ``(n_samples, n_features)``."""
        n_samples, n_features = X.shape
        data = X.astype(np.float64, copy=False)
        location = np.zeros(n_features) if assume_centered else data.mean(axis=0)
        centred = data - location
        if n_components is None:
            n_dof = n_samples if assume_centered else n_samples - 1
            scatter = centred.T @ centred
            covariance, estimates, spectrum = _shrunk(centred, scatter, n_dof, shrinkage)
            return cls(location, covariance, {**estimates, "n_iter_": 1}, spectrum=spectrum)
        # Wide data: the latent fit works on the rows (n < p), never on a p x p matrix.
        if n_samples < n_features:
            empirical = centred / np.sqrt(n_samples)
        else:
            empirical = centred.T @ centred / n_samples
        latent = fit_latent(empirical, n_components, noise=noise, tol=tol, max_iter=max_iter)
        covariance = latent.components.T @ latent.components
        covariance[np.diag_indices_from(covariance)] += latent.noise_variance
        estimates = {
            "components_": latent.components,
            "noise_variance_": latent.noise_variance,
            "n_iter_": latent.n_iter,
        }
        return cls(location, covariance, estimates, latent)

    def attributes(self):
        """The estimator's fitted attributes: name (with trailing underscore) to value."""
        return {
            "location_": self.location,
            "covariance_": self.covariance,
            "precision_": self.precision,
            **self.estimates,
        }

    @property
    def n_features_out(self):
        """Columns of :meth:`transform`: the features, or the latent dimension."""
        return len(self.location) if self.latent is None else len(self.latent.components)

    def transform(self, X):
        """Whitened coordinates, or the latent posterior means, in ``X``'s dtype."""
        # Row batches bound the float64 temporaries, whatever the number of rows.
        out = np.empty((len(X), self.n_features_out), X.dtype)
        for rows in row_batches(len(X)):
            centred = X[rows].astype(np.float64, copy=False) - self.location
            if self.latent is None:
                out[rows] = (centred @ self.axes) / self.scales
            else:
                out[rows] = centred @ self.latent_map
        return out

    def inverse_transform(self, X):
        """Observations from whitened or latent coordinates ``X``, in ``X``'s dtype."""
        values = X.astype(np.float64, copy=False)
        if self.latent is None:
            out = (values * self.scales) @ self.axes.T + self.location
        else:
            out = values @ self.latent.components + self.location
        return out.astype(X.dtype, copy=False)

    def score_samples(self, X):
        """Gaussian log-density of each row."""
        p = X.shape[1]
        return -0.5 * (p * np.log(2.0 * np.pi) + self.log_det + self.mahalanobis(X))

    def mahalanobis(self, X):
        """Squared Mahalanobis distance of each row to ``location``."""
        distances = np.empty(len(X))
        for rows in row_batches(len(X)):  # bounded temporaries
            centred = X[rows].astype(np.float64, copy=False) - self.location
            if self.latent is not None:
                distances[rows] = self.low_rank.mahalanobis(centred)
                continue
            whitened = (centred @ self.axes) / self.scales
            distances[rows] = (whitened**2).sum(axis=1)
        return distances

    def sample(self, n_samples, random_state):
        """``n_samples`` Gaussian draws."""
        rng = check_random_state(random_state)
        noise = rng.standard_normal((n_samples, self.covariance.shape[0]))
        if self.latent is not None:  # x = m + W z + Psi^{1/2} e
            factors = rng.standard_normal((n_samples, len(self.latent.components)))
            spread = np.sqrt(self.latent.noise_variance)
            return self.location + factors @ self.latent.components + noise * spread
        return self.location + (noise * self.scales) @ self.axes.T

    def goodness_of_fit(self, X, *, n_bootstrap, random_state):
        """Bartlett test of the scatter of ``X`` about ``location`` (exact: no bootstrap)."""
        n_samples, p = X.shape
        if n_samples < p:
            raise ValueError(
                f"The goodness-of-fit test needs n_samples >= n_features ({p}) so that the "
                f"scatter matrix is positive definite; got {n_samples} samples."
            )
        centred = X.astype(np.float64, copy=False) - self.location
        scatter = centred.T @ centred
        return stats.wishart_gof(scatter, float(n_samples), n_samples * self.covariance)

    def spectrum(self, X):
        """Eigenvalues of the whitened sample covariance about ``location``, and the MP test."""
        centred = X.astype(np.float64, copy=False) - self.location
        axes, scales = (
            (self.axes, self.scales) if self.axes is not None else principal_axes(self.covariance)
        )
        whitened = ((centred @ axes) / scales).T
        sample = whitened @ whitened.T / X.shape[0]
        eigenvalues = np.linalg.eigvalsh(sample)
        ratio = X.shape[1] / X.shape[0]
        return eigenvalues, stats.marchenko_pastur_test(eigenvalues, ratio)

    def input_margins(self, X):
        """Margins of the empirical covariance of ``X`` about ``location``."""
        centred = X.astype(np.float64, copy=False) - self.location
        return stats.spd_margins(centred.T @ centred / X.shape[0])


def principal_axes(covariance):
    """Eigenvectors ``U`` of a covariance by decreasing eigenvalue, and the roots ``s`` of those."""
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    return eigenvectors[:, order], np.sqrt(eigenvalues[order])


def _shrunk(centred, scatter, n_dof, shrinkage):
    """The covariance by the ``shrinkage`` rule, its public estimates (``shrinkage_``...), and
    its ``(eigenvalues, eigenvectors)`` when the rule computed them (else None)."""
    empirical = scatter / len(centred)
    if shrinkage is None:
        return empirical, {}, None
    if shrinkage == "auto":
        return _automatic(scatter, n_dof)
    if shrinkage == "evidence":
        return _evidence_rule(scatter, n_dof, symmetric_eigen(scatter))
    if shrinkage in SHRINKERS:
        covariance, spectrum = nonlinear_covariance(scatter, n_dof, shrinkage)
        return covariance, {}, spectrum
    if shrinkage == "ledoit-wolf":
        covariance, weight = ledoit_wolf(centred, assume_centered=True)
    elif shrinkage == "oas":
        covariance, weight = oas(centred, assume_centered=True)
    else:
        weight = float(shrinkage)
        covariance = shrunk_covariance(empirical, weight)
    return covariance, {"shrinkage_": float(weight)}, None


def _evidence_rule(scatter, n_dof, eigen):
    """The evidence posterior mean, its public estimates, and its spectrum: it shares the
    scatter's eigenvectors ``eigen[1]``, with eigenvalues ``(tau + a_i) / (nu0 + n - p - 1)``."""
    eigenvalues, eigenvectors = eigen
    p = scatter.shape[0]
    prior = evidence_prior(eigenvalues, n_dof)
    denominator = prior.df + n_dof - p - 1.0
    spectrum = ((prior.scale + eigenvalues) / denominator, eigenvectors)
    return (
        posterior_mean(scatter, prior, n_dof),
        {
            "shrinkage_": float(1.0 - n_dof / denominator),
            "prior_df_": float(prior.df),
            "prior_scale_": float(prior.scale),
            "shrinkage_rule_": "evidence",
        },
        spectrum,
    )


def _automatic(scatter, n_dof):
    """``shrinkage="auto"``: the evidence rule where the sample covariance is singular
    (``n_dof <= p``) or the spectrum is consistent with a scaled identity, and otherwise the
    analytical nonlinear shrinkage made monotone. One eigendecomposition serves both."""
    p = scatter.shape[0]
    eigenvalues, eigenvectors = symmetric_eigen(scatter)
    spherical = sphericity_statistic(eigenvalues, n_dof) < SPHERICITY_CRITICAL
    if n_dof <= p or n_dof < MIN_ANALYTICAL_SAMPLES or spherical:
        return _evidence_rule(scatter, n_dof, (eigenvalues, eigenvectors))
    shrunk = monotone_analytical_shrinkage(eigenvalues / n_dof, n_dof)
    spectrum = (shrunk, eigenvectors)
    return from_spectrum(*spectrum), {"shrinkage_rule_": "nonlinear"}, spectrum
