"""WishartCovarianceModel: a covariance model on the positive-definite (Wishart) cone."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.covariance import ledoit_wolf, oas, shrunk_covariance
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skqg import _spd, _validation, _wishart_law, stats
from skqg._batching import row_batches
from skqg._kernels import spd_linalg
from skqg._parallel import numba_threads
from skqg._validation import (
    check_finite_entries,
    check_int,
    input_attributes_restored_on_error,
)
from skqg.wishart._shrinkage import (
    diagonal_latent,
    evidence_covariance,
    evidence_covariances,
    isotropic_latent,
)

_OBSERVATIONS = 2
_MATRICES = 3

_SINGULAR_COVARIANCE_HINT = (
    "With fewer samples than features use shrinkage='evidence', 'oas', 'ledoit-wolf' or a float "
    "instead of None."
)
_NO_REGULARISATION_HINT = (
    "Regularisation is off (shrinkage=None); use shrinkage='evidence' (the default) or a "
    "float in [0, 1] to fit rank-deficient matrices."
)


class WishartCovarianceModel(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Covariance model on the positive-definite cone, for observations or for SPD matrices.

    One estimator, two input forms:

    - **2-D** ``X`` of shape ``(n_samples, n_features)``: observations of a Gaussian vector.
      Fits ``location_``, ``covariance_`` and ``precision_``, by default as the posterior mean
      under an inverse-Wishart prior whose strength and scale maximise the marginal likelihood
      (``shrinkage="evidence"``); with ``n_components=m`` the latent-Gaussian structure
      ``Sigma = W W^T + Psi`` (factor analysis, or probabilistic PCA with ``noise="isotropic"``).
      ``transform`` gives whitened (latent) coordinates; ``score`` is the mean Gaussian
      log-density, as in :meth:`sklearn.covariance.EmpiricalCovariance.score`.
    - **3-D** ``X`` of shape ``(n_matrices, p, p)``: a population of SPD matrices (covariances
      of EEG windows, connectomes, radar cells...), each a Wishart draw
      ``S ~ W_p(df, covariance_ / df)``, so ``covariance_ = E[S]`` and
      ``scale_ = covariance_ / df_``. Fits ``df_`` by maximum likelihood. ``transform`` gives
      whitened tangent vectors at ``covariance_`` (``p (p + 1) / 2`` features, the matrix
      logarithm of ``C^{-1/2} S C^{-1/2}`` with off-diagonals times sqrt(2)), which
      :meth:`inverse_transform` maps back exactly; ``score`` is the mean Wishart log-density.

    Read more in the :ref:`User Guide <wishart>`.

    Parameters
    ----------
    n_components : int, default=None
        2-D input only: the latent dimension ``m`` of ``Sigma = W W^T + Psi``. ``None`` fits an
        unstructured covariance (regularised by ``shrinkage``).
    shrinkage : {"evidence", "oas", "ledoit-wolf"}, float in [0, 1] or None, default="evidence"
        How the covariance is regularised towards a multiple of the identity.

        - 2-D input without ``n_components``: ``"evidence"`` is the posterior mean under an
          inverse-Wishart prior ``IW(nu0, tau I)`` with ``(nu0, tau)`` maximising the marginal
          likelihood; ``"oas"`` and ``"ledoit-wolf"`` are scikit-learn's estimators; a float is
          :func:`sklearn.covariance.shrunk_covariance` with that coefficient; ``None`` is the
          maximum-likelihood (empirical) covariance. With ``n_components`` the low-rank
          structure is the regulariser and ``shrinkage`` is not used.
        - 3-D input: the rule for input matrices that are not positive definite (e.g.
          covariances of fewer samples than channels). ``"evidence"`` replaces each such
          matrix of rank ``r`` by its evidence posterior mean as if it were the scatter of
          ``r`` observations and leaves positive-definite matrices as they are; a float
          shrinks *every* matrix ``S`` to ``(1 - a) S + a tr(S)/p I``; ``None`` raises an
          error giving the rank and smallest eigenvalue. ``"oas"`` and ``"ledoit-wolf"`` need
          the observations and are refused for 3-D input.
    df : "mle" or float, default="mle"
        3-D input only: the Wishart degrees of freedom, estimated by maximum likelihood or
        fixed (must exceed ``p - 1``).
    noise : {"diagonal", "isotropic"}, default="diagonal"
        With ``n_components``: ``Psi`` diagonal (factor analysis, heteroscedastic noise) or
        ``sigma^2 I`` (probabilistic PCA, closed form).
    assume_centered : bool, default=False
        2-D input: if True the data are not centred (``location_`` is zero).
    tol : float, default=1e-6
        Factor analysis stops when the gradient of the mean log-likelihood per sample with
        respect to the log noise variances is below this. (``df_`` is always solved to 1e-10
        relative.)
    max_iter : int, default=1000
        Iteration cap of factor analysis and of the ``df`` Newton solver.
    n_jobs : int, default=None
        Numba threads for batched matrix work on 3-D input (``None``: the environment's
        setting; ``-1``: all allowed). Results do not depend on it.

    Attributes
    ----------
    location_ : ndarray of shape (n_features,)
        2-D input: the estimated mean.
    covariance_ : ndarray of shape (n_features, n_features)
        The covariance (2-D) or the population mean matrix ``E[S]`` (3-D).
    precision_ : ndarray of shape (n_features, n_features)
        Inverse of ``covariance_``.
    shrinkage_ : float
        2-D input without ``n_components``: the weight of the scaled-identity target in
        ``covariance_`` (for ``"evidence"``, relative to the unbiased scatter estimate).
    prior_df_, prior_scale_ : float
        2-D input with ``shrinkage="evidence"``: the evidence-maximising prior
        ``IW(prior_df_, prior_scale_ * I)``.
    components_ : ndarray of shape (n_components, n_features)
        With ``n_components``: the loadings ``W^T``.
    noise_variance_ : ndarray of shape (n_features,)
        With ``n_components``: the diagonal of ``Psi`` (constant for ``noise="isotropic"``).
    df_ : float
        3-D input: the degrees of freedom.
    scale_ : ndarray of shape (p, p)
        3-D input: ``covariance_ / df_``, the Wishart scale matrix.
    n_regularised_ : int
        3-D input: how many training matrices were regularised by ``shrinkage``.
    n_iter_ : int
        Iterations of the iterative fit (1 for closed forms).
    n_features_in_ : int
        Number of features (2-D) or matrix size ``p`` (3-D).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names (2-D only).

    See Also
    --------
    sklearn.covariance.LedoitWolf, sklearn.covariance.OAS : Shrinkage of observations.
    sklearn.decomposition.FactorAnalysis : The latent structure with diagonal noise.
    skqg.stats.wishart_fit : The 3-D fit as a function.
    skqg.cone : Geometry of the positive-definite cone.

    Notes
    -----
    The 3-D maximum-likelihood fit is closed form in ``covariance_`` (the arithmetic mean) and
    a 1-D concave problem in ``df_`` solved by Newton's method, so it needs one Cholesky
    factorisation per matrix and no iteration over the stack; the affine-invariant
    (Riemannian) mean of a Wishart population is ``2 exp(psi_p(df/2)/p)/df * covariance_``.

    Examples
    --------
    Observations (2-D):

    >>> import numpy as np
    >>> from skqg import WishartCovarianceModel
    >>> from sklearn.covariance import LedoitWolf
    >>> rng = np.random.default_rng(0)
    >>> coloring = rng.normal(size=(40, 40))
    >>> X, X_test = rng.normal(size=(20, 40)) @ coloring, rng.normal(size=(20, 40)) @ coloring
    >>> model = WishartCovarianceModel().fit(X)
    >>> model.covariance_.shape
    (40, 40)
    >>> round(model.score(X_test), 2), round(float(LedoitWolf().fit(X).score(X_test)), 2)
    (-126.71, -126.74)

    A population of covariance matrices (3-D), 4 x 4 Wishart draws with 20 degrees of freedom:

    >>> from skqg.stats import wishart_sample
    >>> S = wishart_sample(2000, 20.0, np.eye(4) / 20.0, random_state=0)
    >>> model = WishartCovarianceModel().fit(S)
    >>> bool(abs(model.df_ - 20.0) < 0.5)
    True
    >>> model.transform(S).shape
    (2000, 10)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "shrinkage": [
            StrOptions({"evidence", "oas", "ledoit-wolf"}),
            Interval(Real, 0, 1, closed="both"),
            None,
        ],
        "df": [StrOptions({"mle"}), Interval(Real, 0, None, closed="neither")],
        "noise": [StrOptions({"diagonal", "isotropic"})],
        "assume_centered": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=None,
        *,
        shrinkage="evidence",
        df="mle",
        noise="diagonal",
        assume_centered=False,
        tol=1e-6,
        max_iter=1000,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.df = df
        self.noise = noise
        self.assume_centered = assume_centered
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to observations (2-D) or to a population of SPD matrices (3-D).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            Observations, or symmetric positive-definite matrices (rank-deficient ones are
            regularised according to ``shrinkage``).
        y : None
            Ignored.

        Returns
        -------
        self : WishartCovarianceModel
            The fitted model.
        """
        # A failed fit must leave a fitted model as it was: validate_data resets these first.
        with input_attributes_restored_on_error(self):
            X = validate_data(
                self,
                X,
                allow_nd=True,
                dtype=[np.float64, np.float32],
                ensure_min_samples=2,
                ensure_all_finite=False,
            )
            _check_finite(X, "X")
            if X.ndim == _OBSERVATIONS:
                self._fit_observations(X)
            elif X.ndim == _MATRICES:
                self._fit_matrices(X)
            else:
                raise ValueError(
                    "X must be 2-D observations (n_samples, n_features) or a 3-D stack of SPD "
                    f"matrices (n_matrices, p, p); got an array of shape {X.shape}."
                )
        self._input_ndim = X.ndim
        # Transforms follow the parameters the model was fitted with, even after set_params.
        self._rules = {
            "latent": self.n_components is not None,
            "shrinkage": self.shrinkage,
            "df": self.df,
        }
        return self

    def _fit_observations(self, X):
        n_samples, n_features = X.shape
        data = X.astype(np.float64, copy=False)
        location = np.zeros(n_features) if self.assume_centered else data.mean(axis=0)
        centred = data - location
        scatter = centred.T @ centred
        empirical = scatter / n_samples
        n_dof = n_samples if self.assume_centered else n_samples - 1
        fitted = {}
        if self.n_components is not None:
            if self.n_components > n_features:
                raise ValueError(
                    f"n_components={self.n_components} must be <= n_features={n_features}."
                )
            if self.noise == "isotropic":
                if self.n_components == n_features:
                    raise ValueError(
                        "noise='isotropic' needs n_components < n_features to estimate the "
                        f"noise variance; got n_components={self.n_components}."
                    )
                latent = isotropic_latent(empirical, self.n_components)
            else:
                latent = diagonal_latent(
                    empirical, self.n_components, tol=self.tol, max_iter=self.max_iter
                )
            covariance = latent.components.T @ latent.components + np.diag(latent.noise_variance)
            fitted.update(
                components_=latent.components,
                noise_variance_=latent.noise_variance,
                n_iter_=latent.n_iter,
            )
        else:
            covariance, extra = self._shrunk_covariance(centred, scatter, n_dof)
            fitted.update(extra, n_iter_=1)
        factor, log_det = _covariance_factor(covariance, "The estimated covariance")
        self._set_fitted(
            fitted,
            location_=location,
            covariance_=covariance,
            precision_=cho_solve((factor, True), np.eye(n_features)),
            _factor=factor,
            _log_det=log_det,
        )
        self._set_whitening(covariance)
        self._n_features_out = n_features if self.n_components is None else self.n_components
        if self.n_components is not None:
            noise = latent.noise_variance
            loadings_over_noise = latent.components / noise  # W^T Psi^{-1}
            inner = np.eye(self.n_components) + loadings_over_noise @ latent.components.T
            # Posterior mean of the latent z given x: (I + W^T Psi^-1 W)^-1 W^T Psi^-1 (x - m).
            self._latent_map = np.linalg.solve(inner, loadings_over_noise).T

    def _shrunk_covariance(self, centred, scatter, n_dof):
        shrinkage = self.shrinkage
        empirical = scatter / len(centred)
        if shrinkage is None:
            return empirical, {}
        if shrinkage == "evidence":
            covariance, prior = evidence_covariance(scatter, n_dof)
            p = scatter.shape[0]
            weight = 1.0 - n_dof / (prior.df + n_dof - p - 1.0)
            return covariance, {
                "shrinkage_": float(weight),
                "prior_df_": float(prior.df),
                "prior_scale_": float(prior.scale),
            }
        if shrinkage == "ledoit-wolf":
            covariance, weight = ledoit_wolf(centred, assume_centered=True)
        elif shrinkage == "oas":
            covariance, weight = oas(centred, assume_centered=True)
        else:
            weight = float(shrinkage)
            covariance = shrunk_covariance(empirical, weight)
        return covariance, {"shrinkage_": float(weight)}

    def _fit_matrices(self, X):
        if self.n_components is not None:
            raise ValueError(
                "n_components applies to 2-D observations; for a 3-D stack of matrices leave it "
                "as None."
            )
        checked, n_regularised = self._regularised_stack(X, "X", self.shrinkage)
        p = checked.matrices.shape[1]
        covariance = checked.matrices.mean(axis=0)
        factor, log_det = _covariance_factor(covariance, "The mean of the matrices")
        if self.df == "mle":
            df, n_iter = _wishart_law.df_from_log_determinants(
                float(checked.logdets.mean()), log_det, p, max_iter=self.max_iter
            )
        else:
            if not self.df > p - 1:
                raise ValueError(
                    f"df={self.df} must be > p - 1 = {p - 1} for {p}x{p} matrices to have a "
                    "Wishart density; use df='mle' or a larger value."
                )
            df, n_iter = float(self.df), 1
        self._set_fitted(
            {},
            covariance_=covariance,
            precision_=cho_solve((factor, True), np.eye(p)),
            df_=float(df),
            scale_=covariance / df,
            n_regularised_=int(n_regularised),
            n_iter_=int(n_iter),
            _factor=factor,
            _log_det=log_det,
        )
        self._set_whitening(covariance)
        self._n_features_out = p * (p + 1) // 2

    def _regularised_stack(self, X, name, shrinkage):
        """The validated stack with the ``shrinkage`` rule applied, and how many it changed.

        Returns an :class:`skqg._spd.SPDStack` (float64 matrices, Cholesky factors, log-dets).
        """
        if shrinkage in ("oas", "ledoit-wolf"):
            raise ValueError(
                f"shrinkage={shrinkage!r} needs the observations behind each matrix; for "
                "a 3-D stack use 'evidence', a float in [0, 1] or None."
            )
        hint = _NO_REGULARISATION_HINT if shrinkage is None else ""
        with numba_threads(self.n_jobs):
            if isinstance(shrinkage, Real) and not isinstance(shrinkage, bool):
                stack, _ = _validation.as_float_stack(X, name)
                stack = _shrink_to_identity(
                    _validation.symmetrised(stack, name, X.dtype), shrinkage
                )
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

    def _set_fitted(self, extra, **attributes):
        # Replace every fitted attribute at once, so a refit in another mode leaves none behind.
        for stale in (
            "location_",
            "shrinkage_",
            "prior_df_",
            "prior_scale_",
            "components_",
            "noise_variance_",
            "df_",
            "scale_",
            "n_regularised_",
            "_latent_map",
        ):
            if hasattr(self, stale):
                delattr(self, stale)
        for key, value in {**attributes, **extra}.items():
            setattr(self, key, value)

    def _set_whitening(self, covariance):
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
        root = np.sqrt(eigenvalues)
        # Principal-axis whitening for observations; symmetric C^{-1/2} for tangent vectors.
        self._principal_axes = eigenvectors
        self._principal_scales = root
        self._inverse_root = np.ascontiguousarray((eigenvectors / root) @ eigenvectors.T)
        self._root = np.ascontiguousarray((eigenvectors * root) @ eigenvectors.T)

    # ------------------------------------------------------------------ input checks

    def _check_input(self, X, *, name="X"):
        check_is_fitted(self)
        # Name a 2-D/3-D mix-up before validate_data reports it as a wrong number of features.
        ndim = getattr(X, "ndim", None)
        ndim = np.asarray(X).ndim if ndim is None else ndim
        if ndim >= _OBSERVATIONS and ndim != self._input_ndim:
            fitted = "2-D observations" if self._input_ndim == _OBSERVATIONS else "a 3-D stack"
            raise ValueError(
                f"This model was fitted on {fitted}; {name} is {ndim}-D with shape "
                f"{getattr(X, 'shape', None) or np.asarray(X).shape}. Pass the same kind of "
                "input as in fit."
            )
        X = validate_data(
            self,
            X,
            allow_nd=True,
            dtype=[np.float64, np.float32],
            reset=False,
            ensure_all_finite=False,
        )
        _check_finite(X, name)
        if X.ndim != self._input_ndim:
            fitted = "2-D observations" if self._input_ndim == _OBSERVATIONS else "a 3-D stack"
            raise ValueError(
                f"This model was fitted on {fitted}; {name} has shape {X.shape}. Pass the same "
                "kind of input as in fit."
            )
        if X.ndim == _MATRICES and X.shape[1] != X.shape[2]:
            raise ValueError(f"{name} must hold square matrices, got shape {X.shape}.")
        return X

    # ------------------------------------------------------------------ transforms

    def transform(self, X):
        """Whitened coordinates (2-D) or whitened tangent vectors at ``covariance_`` (3-D).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            Same kind of input as in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            2-D input: ``(x - location_)`` in principal axes scaled to unit variance, or with
            ``n_components`` the posterior mean of the latent factors. 3-D input:
            ``vech(log(C^{-1/2} S C^{-1/2}))`` with off-diagonal entries times sqrt(2), so
            Euclidean distances between rows are log-Euclidean-at-``C`` distances.
        """
        X = self._check_input(X)
        dtype = X.dtype
        if X.ndim == _OBSERVATIONS:
            # Row batches bound the float64 temporaries, whatever the number of rows.
            out = np.empty((len(X), self._n_features_out), dtype)
            for rows in row_batches(len(X)):
                centred = X[rows].astype(np.float64, copy=False) - self.location_
                if self._rules["latent"]:
                    out[rows] = centred @ self._latent_map
                else:
                    out[rows] = (centred @ self._principal_axes) / self._principal_scales
            return out
        vectors, _ = self._whitened_logarithms(X)
        return vectors.astype(dtype, copy=False)

    def _whitened_logarithms(self, X):
        """Tangent vectors at ``covariance_`` and the whitened eigenvalues of a 3-D input."""
        checked, _ = self._regularised_stack(X, "X", self._rules["shrinkage"])
        with numba_threads(self.n_jobs), _spd.one_blas_thread():
            return spd_linalg.whitened_log_vectors(checked.matrices, self._inverse_root, _spd.SQRT2)

    def inverse_transform(self, X):
        """Map coordinates back: observations (2-D) or SPD matrices (3-D).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out)
            Output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features) or (n_samples, p, p)
            Exactly the input of :meth:`transform` for full-rank models (up to rounding); with
            ``n_components`` the model's reconstruction ``location_ + z W^T``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {X.shape[1]} features, but this model's transform produces "
                f"{self._n_features_out}."
            )
        dtype = X.dtype
        values = X.astype(np.float64, copy=False)
        if self._input_ndim == _OBSERVATIONS:
            if self._rules["latent"]:
                out = values @ self.components_ + self.location_
            else:
                out = (values * self._principal_scales) @ self._principal_axes.T + self.location_
            return out.astype(dtype, copy=False)
        with numba_threads(self.n_jobs), _spd.one_blas_thread():
            out = spd_linalg.colored_exp_matrices(
                np.ascontiguousarray(values), self._root, _spd.SQRT2
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
        return out.astype(dtype, copy=False)

    # ------------------------------------------------------------------ likelihoods

    def score_samples(self, X):
        """Log-density of each observation (2-D, Gaussian) or matrix (3-D, Wishart).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            Same kind of input as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-densities in nats. 3-D input agrees with ``scipy.stats.wishart.logpdf`` at
            ``(df_, scale_)``.
        """
        X = self._check_input(X)
        if X.ndim == _OBSERVATIONS:
            p = X.shape[1]
            distances = self._squared_mahalanobis(X)
            return -0.5 * (p * np.log(2.0 * np.pi) + self._log_det + distances)
        checked, _ = self._regularised_stack(X, "X", self._rules["shrinkage"])
        # The matrices are validated and factored already: no second pass through scipy's checks.
        scale_factor = self._factor / np.sqrt(self.df_)
        return _wishart_law.logpdf_from_factors(
            checked.factors, checked.logdets, self.df_, scale_factor
        )

    def score(self, X, y=None):
        """Mean log-density of ``X`` under the model (nats per observation or matrix).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            Held-out data of the same kind as in ``fit``.
        y : None
            Ignored.

        Returns
        -------
        float
            For 2-D input the same quantity as
            :meth:`sklearn.covariance.EmpiricalCovariance.score`.
        """
        return float(np.mean(self.score_samples(X)))

    def mahalanobis(self, X):
        """Squared Mahalanobis distances of observations to ``location_`` (2-D models).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Observations.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``(x - location_)^T precision_ (x - location_)``, as
            :meth:`sklearn.covariance.EmpiricalCovariance.mahalanobis`.
        """
        X = self._check_input(X)
        if X.ndim != _OBSERVATIONS:
            raise ValueError("mahalanobis applies to models fitted on 2-D observations.")
        return self._squared_mahalanobis(X)

    def _squared_mahalanobis(self, X):
        distances = np.empty(len(X))
        for rows in row_batches(len(X)):  # bounded temporaries
            centred = X[rows].astype(np.float64, copy=False) - self.location_
            solved = solve_triangular(self._factor, centred.T, lower=True)
            distances[rows] = (solved**2).sum(axis=0)
        return distances

    def sample(self, n_samples=1, random_state=None):
        """Draw from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState instance or None, default=None
            Seed for reproducible draws.

        Returns
        -------
        ndarray of shape (n_samples, n_features) or (n_samples, p, p)
            Gaussian observations (2-D models) or Wishart matrices ``W_p(df_, scale_)`` (3-D).
        """
        check_is_fitted(self)
        n_samples = check_int("n_samples", n_samples, 1)
        if self._input_ndim == _MATRICES:
            return stats.wishart_sample(n_samples, self.df_, self.scale_, random_state)
        rng = check_random_state(random_state)
        noise = rng.standard_normal((n_samples, self.covariance_.shape[0]))
        return self.location_ + noise @ self._factor.T

    # ------------------------------------------------------------------ diagnostics

    def goodness_of_fit(self, X, *, n_bootstrap=199, random_state=None):
        """Bartlett-decomposition test that ``X`` follows this kind of model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            2-D models: observations, tested as Gaussian with ``location_`` and
            ``covariance_`` (their scatter about ``location_`` is then
            ``W_p(n_samples, covariance_)``; needs ``n_samples >= n_features``); the p-value is
            exact for held-out data. 3-D models: matrices, tested as a Wishart population; the
            parameters this model estimates (``covariance_``, and ``df_`` when ``df="mle"``)
            are re-estimated on ``X`` and the p-value comes from a parametric bootstrap that
            repeats the estimation, so it is calibrated for training data too.
        n_bootstrap : int, default=199
            Bootstrap replicates (3-D models).
        random_state : int, RandomState instance or None, default=None
            Seed of the bootstrap.

        Returns
        -------
        skqg.stats.WishartGOF
            ``statistic`` (Kolmogorov-Smirnov distance of the Bartlett probability-integral
            transforms from uniform) and ``pvalue``.
        """
        X = self._check_input(X)
        if X.ndim == _OBSERVATIONS:
            n_samples, p = X.shape
            if n_samples < p:
                raise ValueError(
                    f"The goodness-of-fit test needs n_samples >= n_features ({p}) so that the "
                    f"scatter matrix is positive definite; got {n_samples} samples."
                )
            centred = X.astype(np.float64, copy=False) - self.location_
            scatter = centred.T @ centred
            return stats.wishart_gof(scatter, float(n_samples), n_samples * self.covariance_)
        checked, _ = self._regularised_stack(X, "X", self._rules["shrinkage"])
        df = None if self._rules["df"] == "mle" else float(self._rules["df"])
        return stats.wishart_gof(
            checked.matrices, df, None, n_bootstrap=n_bootstrap, random_state=random_state
        )

    def spectrum(self, X):
        """Compare the whitened spectrum of ``X`` with the Marchenko-Pastur law.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            2-D models: the eigenvalues of the sample covariance of ``X`` about ``location_``
            whitened by ``covariance_``, against the law of ratio ``n_features / n_samples``.
            3-D models: the pooled eigenvalues of ``C^{-1/2} S C^{-1/2}``, which are
            ``W_p(df_, I / df_)`` draws under the model, against ratio ``p / df_``.

        Returns
        -------
        eigenvalues : ndarray
            The whitened eigenvalues.
        comparison : skqg.stats.MarchenkoPasturComparison
            Kolmogorov-Smirnov distance to the law, its edges, and the fraction of eigenvalues
            outside them.
        """
        X = self._check_input(X)
        if X.ndim == _OBSERVATIONS:
            centred = X.astype(np.float64, copy=False) - self.location_
            whitened = solve_triangular(self._factor, centred.T, lower=True)
            sample = whitened @ whitened.T / X.shape[0]
            eigenvalues = np.linalg.eigvalsh(sample)
            ratio = X.shape[1] / X.shape[0]
        else:
            _, eigenvalues = self._whitened_logarithms(X)
            eigenvalues = eigenvalues.ravel()
            ratio = X.shape[1] / self.df_
        return eigenvalues, stats.marchenko_pastur_test(eigenvalues, ratio)

    def input_margins(self, X):
        """Rank and positive-definiteness margins of input, before any regularisation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_matrices, p, p)
            3-D models: the matrices themselves. 2-D models: observations, whose empirical
            covariance about ``location_`` is examined (rank-deficient when
            ``n_samples < n_features``).

        Returns
        -------
        skqg.stats.SPDMargins
            ``rank``, ``min_eigenvalue``, ``max_eigenvalue`` and ``condition_number`` (one
            value per matrix for 3-D input).
        """
        X = self._check_input(X)
        if X.ndim == _OBSERVATIONS:
            centred = X.astype(np.float64, copy=False) - self.location_
            return stats.spd_margins(centred.T @ centred / X.shape[0])
        return stats.spd_margins(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _check_finite(X, name):
    """Refuse NaN and infinity, saying where the first one is (row, or matrix for stacks)."""
    check_finite_entries(
        X,
        name,
        "WishartCovarianceModel",
        unit="matrix" if X.ndim == _MATRICES else "row",
        advice="impute or drop missing entries (e.g. sklearn.impute.SimpleImputer for "
        "observations) before fitting.",
    )


def _covariance_factor(matrix, what):
    """Cholesky factor and log-determinant of a fitted covariance, or a ValueError with its rank."""
    checked, _ = _validation.check_spd(matrix, what, hint=_SINGULAR_COVARIANCE_HINT)
    return checked.factors[0], float(checked.logdets[0])


def _shrink_to_identity(stack, weight):
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
