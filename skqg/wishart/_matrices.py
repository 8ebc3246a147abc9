"""The matrix model of :class:`skqg.WishartCovarianceModel`: 3-D input ``(n, p, p)``.

A population of Wishart draws ``S ~ W_p(df, C / df)``. The maximum-likelihood ``C`` is the mean
matrix and ``df`` solves a 1-D concave problem in the mean log-determinant
(:func:`skqg._wishart_law.df_from_log_determinants`). With ``C = U diag(s^2) U^T``: tangent vectors
``vech(log(C^-1/2 S C^-1/2))`` (off-diagonals times sqrt(2)) and their inverse
``C^1/2 exp(.) C^1/2``, the Wishart log-density from Cholesky factors, draws, and the pooled
whitened eigenvalues (``W_p(df, I / df)`` draws) against Marchenko-Pastur. Matrices that are not
positive definite are regularised by the ``shrinkage`` rule: ``(1 - a) S + a tr(S) / p I`` for a
float ``a``, or for ``"evidence"`` the evidence posterior mean of ``r S`` as the scatter of ``r``
draws (``r`` the rank), divided by ``r``.
"""

from numbers import Real

import numpy as np

from skqg import _spd, _validation, _wishart_law, stats
from skqg._kernels import spd_linalg
from skqg._parallel import numba_threads
from skqg.wishart._evidence import evidence_covariances
from skqg.wishart._fitted import FittedModel, covariance_factor

_NO_REGULARISATION_HINT = (
    "Regularisation is off (shrinkage=None); use shrinkage='auto' (the default: the evidence "
    "rule for matrices), 'evidence' or a float in [0, 1] to fit rank-deficient matrices."
)


class MatrixModel(FittedModel):
    """A Wishart model of a population of SPD matrices, fitted by :meth:`fit`."""

    ndim = 3
    form = "a 3-D stack of SPD matrices (n_matrices, p, p)"
    fitted_on = "a 3-D stack"
    # The estimator's parameters this model is fitted with.
    settings = ("shrinkage", "df", "max_iter", "n_jobs")

    def __init__(self, covariance, factored, *, df, n_regularised, n_iter, rules):
        """Hold the mean ``covariance``, its ``factored`` form (factor, log-det, inverse), the
        fitted ``df``, the counts, and the ``rules`` of the fit (shrinkage, df, n_jobs)."""
        self.covariance = covariance
        self.factor, self.log_det, self.precision = factored
        self.df = float(df)
        self.scale = covariance / self.df
        self.n_regularised, self.n_iter = int(n_regularised), int(n_iter)
        # Symmetric C^{-1/2} and C^{1/2} for tangent vectors.
        self.inverse_root = _spd.powm(covariance[np.newaxis], -0.5)[0]
        self.root = _spd.powm(covariance[np.newaxis], 0.5)[0]
        # The rules of the fit, which later input follows whatever set_params does.
        self.shrinkage, self.df_rule, self.n_jobs = rules

    @classmethod
    def fit(cls, X, *, shrinkage, df, max_iter, n_jobs):
        """Fit to a validated finite stack ``X`` of shape ``(n_matrices, p, p)``."""
        checked, n_regularised = regularised_stack(X, "X", shrinkage, n_jobs)
        p = checked.matrices.shape[1]
        covariance = checked.matrices.mean(axis=0)
        factored = covariance_factor(covariance, "The mean of the matrices")
        if df == "mle":
            fitted_df, n_iter = _wishart_law.df_from_log_determinants(
                float(checked.logdets.mean()), factored[1], p, max_iter=max_iter
            )
        else:
            fitted_df, n_iter = _validation.check_df(df, p)[0], 1
        return cls(
            covariance,
            factored,
            df=fitted_df,
            n_regularised=n_regularised,
            n_iter=n_iter,
            rules=(shrinkage, df, n_jobs),
        )

    def attributes(self):
        """The estimator's fitted attributes: name (with trailing underscore) to value."""
        return {
            "covariance_": self.covariance,
            "precision_": self.precision,
            "df_": self.df,
            "scale_": self.scale,
            "n_regularised_": self.n_regularised,
            "n_iter_": self.n_iter,
        }

    @property
    def n_features_out(self):
        """Columns of :meth:`transform`: ``p (p + 1) / 2``."""
        p = len(self.covariance)
        return p * (p + 1) // 2

    def _checked(self, X):
        """``X`` regularised by the fitted rule, as an :class:`skqg._spd.SPDStack`."""
        checked, _ = regularised_stack(X, "X", self.shrinkage, self.n_jobs)
        return checked

    def _whitened_logarithms(self, X):
        """Tangent vectors at ``covariance`` and the whitened eigenvalues of each matrix."""
        checked = self._checked(X)
        with numba_threads(self.n_jobs), _spd.one_blas_thread():
            return spd_linalg.whitened_log_vectors(checked.matrices, self.inverse_root, _spd.SQRT2)

    def transform(self, X):
        """Whitened tangent vectors, in ``X``'s dtype."""
        vectors, _ = self._whitened_logarithms(X)
        return vectors.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """SPD matrices from tangent vectors ``X``, in ``X``'s dtype."""
        values = X.astype(np.float64, copy=False)
        with numba_threads(self.n_jobs), _spd.one_blas_thread():
            out = spd_linalg.colored_exp_matrices(
                np.ascontiguousarray(values), self.root, _spd.SQRT2
            )
        overflow = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
        if overflow.any():
            first = int(np.flatnonzero(overflow)[0])
            raise ValueError(
                f"Row {first} of X is too large to map back: the matrix exponential of the "
                f"tangent vector overflows (largest |entry| {np.abs(values[first]).max():.3g}; "
                "entries beyond about 700 cannot be exponentiated in float64). Pass tangent "
                "vectors produced by transform or of similar size."
            )
        return out.astype(X.dtype, copy=False)

    def score_samples(self, X):
        """Wishart log-density of each matrix."""
        checked = self._checked(X)
        # The matrices are validated and factored already: no second pass through scipy's checks.
        scale_factor = self.factor / np.sqrt(self.df)
        return _wishart_law.logpdf_from_factors(
            checked.factors, checked.logdets, self.df, scale_factor
        )

    def mahalanobis(self, X):
        """Refused: a matrix population has no location to measure from."""
        raise ValueError("mahalanobis applies to models fitted on 2-D observations.")

    def sample(self, n_samples, random_state):
        """``n_samples`` Wishart matrices ``W_p(df, scale)``."""
        return stats.wishart_sample(n_samples, self.df, self.scale, random_state)

    def goodness_of_fit(self, X, *, n_bootstrap, random_state):
        """Bartlett test of ``X`` as a Wishart population, calibrated by a parametric bootstrap."""
        checked = self._checked(X)
        df = None if self.df_rule == "mle" else float(self.df_rule)
        return stats.wishart_gof(
            checked.matrices, df, None, n_bootstrap=n_bootstrap, random_state=random_state
        )

    def spectrum(self, X):
        """Pooled eigenvalues of ``C^-1/2 S C^-1/2``, and the Marchenko-Pastur test."""
        _, eigenvalues = self._whitened_logarithms(X)
        eigenvalues = eigenvalues.ravel()
        ratio = X.shape[1] / self.df
        return eigenvalues, stats.marchenko_pastur_test(eigenvalues, ratio)

    def input_margins(self, X):
        """Margins of each matrix of ``X``, before any regularisation."""
        return stats.spd_margins(X)


# Shrinkage rules that need the observations behind a matrix (their number, or the rows).
OBSERVATION_ONLY_RULES = ("oas", "ledoit-wolf", "nonlinear", "qis")


def regularised_stack(X, name, shrinkage, n_jobs):
    """The validated stack with the ``shrinkage`` rule applied, and how many it changed.

    Returns an :class:`skqg._spd.SPDStack` (float64 matrices, Cholesky factors, log-dets).
    """
    if shrinkage in OBSERVATION_ONLY_RULES:
        raise ValueError(
            f"shrinkage={shrinkage!r} needs the observations behind each matrix; for "
            "a 3-D stack use 'evidence', a float in [0, 1] or None."
        )
    hint = _NO_REGULARISATION_HINT if shrinkage is None else ""
    with numba_threads(n_jobs):
        if isinstance(shrinkage, Real) and not isinstance(shrinkage, bool):
            stack, _ = _validation.as_float_stack(X, name)
            stack = _shrink_to_identity(_validation.symmetrised(stack, name, X.dtype), shrinkage)
            checked, _ = _validation.check_spd(stack, name, hint="Use a larger shrinkage.")
            return checked, len(stack) * (shrinkage > 0)
        allow_singular = shrinkage is not None
        checked, _ = _validation.check_spd(X, name, allow_singular=allow_singular, hint=hint)
        singular = np.flatnonzero(checked.singular)
        if len(singular) == 0:
            return checked, 0
        eps = _spd.rounding_eps(X.dtype)
        stack = checked.matrices.copy()
        stack[singular] = _evidence_regularised(stack[singular], singular, name, eps)
        repaired, _ = _validation.check_spd(stack[singular], name)
        factors, logdets = checked.factors.copy(), checked.logdets.copy()
        factors[singular] = repaired.factors
        logdets[singular] = repaired.logdets
        return _spd.SPDStack(stack, factors, logdets, np.zeros(len(stack), bool)), len(singular)


def _shrink_to_identity(stack, weight):
    """``(1 - weight) S + weight tr(S) / p I`` for each matrix."""
    p = stack.shape[1]
    targets = np.trace(stack, axis1=1, axis2=2) / p
    out = (1.0 - weight) * stack
    out[:, np.arange(p), np.arange(p)] += weight * targets[:, np.newaxis]
    return np.ascontiguousarray(out)


def _evidence_regularised(matrices, indices, name, eps):
    """Evidence posterior means of rank-deficient matrices, each taken as the scatter of ``r``
    draws (``r`` its rank) divided by ``r``; ``eps`` is the input's rounding precision."""
    with _spd.one_blas_thread():
        eigenvalues = np.linalg.eigvalsh(matrices)
    ranks = _spd.numerical_rank(eigenvalues, eps)
    if (ranks == 0).any():
        first = int(np.flatnonzero(ranks == 0)[0])
        raise ValueError(
            f"{name}[{int(indices[first])}] is zero (to rounding); a covariance matrix needs at "
            "least one direction with variance. Remove it or check how it was computed."
        )
    tolerance = np.abs(eigenvalues).max(axis=1) * matrices.shape[1] * eps
    indefinite = eigenvalues[:, 0] < -100 * tolerance
    if indefinite.any():
        first = int(np.flatnonzero(indefinite)[0])
        raise ValueError(
            f"{name}[{int(indices[first])}] is not positive semi-definite (smallest eigenvalue "
            f"{eigenvalues[first, 0]:.3g}, largest {eigenvalues[first, -1]:.3g}); only "
            "rank-deficient covariance matrices can be regularised. Check how the matrices "
            "were computed."
        )
    weights = ranks.astype(np.float64)
    return evidence_covariances(
        matrices * weights[:, None, None], eigenvalues * weights[:, None], weights, eps
    )
