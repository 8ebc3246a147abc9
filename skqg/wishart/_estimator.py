"""WishartCovarianceModel: a covariance model on the positive-definite (Wishart) cone.

The estimator validates the input, picks the model of its form (``skqg.wishart._observations``
for 2-D observations, ``skqg.wishart._matrices`` for a 3-D stack of SPD matrices), refuses
parameters that form does not use, and forwards every method to the fitted model.
"""

import inspect
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skqg._validation import (
    check_finite_entries,
    check_int,
    check_magnitude,
    state_restored_on_error,
)
from skqg.wishart._matrices import MatrixModel
from skqg.wishart._observations import ObservationModel

# One model per input form, by the number of dimensions of X.
_MODELS = {model.ndim: model for model in (ObservationModel, MatrixModel)}
# Resource settings: accepted for either form, since results do not depend on them.
_RESOURCE_PARAMETERS = ("n_jobs",)
# Set by validate_data, not by a model: kept across fits (and restored by a failed one).
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


class WishartCovarianceModel(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Covariance model on the positive-definite cone, for observations or for SPD matrices.

    One estimator, two input forms:

    - **2-D** ``X`` of shape ``(n_samples, n_features)``: observations of a Gaussian vector.
      Fits ``location_``, ``covariance_`` and ``precision_``, by default
      (``shrinkage="auto"``) as the posterior mean under an inverse-Wishart prior whose
      strength and scale maximise the marginal likelihood, or, when the sample covariance is
      invertible and far from spherical, by nonlinear shrinkage of its eigenvalues; with
      ``n_components=m`` the latent-Gaussian structure
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

    A parameter marked "2-D input only" or "3-D input only" below must keep its default for the
    other form: ``fit`` raises a ``ValueError`` naming it rather than ignoring it. Every method
    follows the parameters of the last fit: :meth:`set_params` takes effect at the next ``fit``.

    Read more in the :ref:`User Guide <wishart>`.

    Parameters
    ----------
    n_components : int, default=None
        2-D input only: the latent dimension ``m`` of ``Sigma = W W^T + Psi``. ``None`` fits an
        unstructured covariance (regularised by ``shrinkage``).
    shrinkage : {"auto", "evidence", "nonlinear", "qis", "oas", "ledoit-wolf"}, float in \
            [0, 1] or None, default="auto"
        How the covariance is regularised.

        - 2-D input without ``n_components``: ``"auto"`` applies ``"evidence"`` when the sample
          covariance is singular (``n_samples - 1 <= n_features``, or ``n_samples <=
          n_features`` with ``assume_centered``) or John's test does not reject a scaled
          identity at level 0.001, and otherwise ``"nonlinear"`` made monotone in the sample
          eigenvalues (the rule used is ``shrinkage_rule_``). ``"evidence"`` is the posterior
          mean under an
          inverse-Wishart prior ``IW(nu0, tau I)`` with ``(nu0, tau)`` maximising the marginal
          likelihood; ``"nonlinear"`` is the analytical nonlinear shrinkage of Ledoit & Wolf
          (2020) and ``"qis"`` their quadratic-inverse shrinkage (2022), which keep the sample
          eigenvectors and shrink each eigenvalue towards its oracle value (see the
          :ref:`User Guide <wishart>`); ``"oas"`` and ``"ledoit-wolf"`` are scikit-learn's
          linear estimators; a float is :func:`sklearn.covariance.shrunk_covariance` with that
          coefficient; ``None`` is the maximum-likelihood (empirical) covariance. With
          ``n_components`` the low-rank structure is the regulariser and ``shrinkage`` is not
          used.
        - 3-D input: the rule for input matrices that are not positive definite (e.g.
          covariances of fewer samples than channels). ``"evidence"`` replaces each such
          matrix of rank ``r`` by its evidence posterior mean as if it were the scatter of
          ``r`` observations and leaves positive-definite matrices as they are; a float
          shrinks *every* matrix ``S`` to ``(1 - a) S + a tr(S)/p I``; ``None`` raises an
          error giving the rank and smallest eigenvalue; ``"auto"`` is ``"evidence"`` here.
          ``"nonlinear"``, ``"qis"``, ``"oas"``
          and ``"ledoit-wolf"`` need the observations and are refused for 3-D input.
    df : "mle" or float, default="mle"
        3-D input only: the Wishart degrees of freedom, estimated by maximum likelihood or
        fixed (must exceed ``p - 1``).
    noise : {"diagonal", "isotropic"}, default="diagonal"
        2-D input only, with ``n_components``: ``Psi`` diagonal (factor analysis,
        heteroscedastic noise) or ``sigma^2 I`` (probabilistic PCA, closed form).
    assume_centered : bool, default=False
        2-D input only: if True the data are not centred (``location_`` is zero).
    tol : float, default=1e-6
        2-D input only: factor analysis stops when the gradient of the mean log-likelihood per
        sample with respect to the log noise variances is below this. (``df_`` is always solved
        to 1e-10 relative.)
    max_iter : int, default=1000
        Iteration cap of factor analysis and of the ``df`` Newton solver.
    n_jobs : int, default=None
        Numba threads for batched matrix work on 3-D input (``None``: the environment's
        setting; ``-1``: all allowed). Results do not depend on it. Accepted with 2-D input
        too, as a resource setting: the observation model has no batched matrix work.

    Attributes
    ----------
    location_ : ndarray of shape (n_features,)
        2-D input: the estimated mean.
    covariance_ : ndarray of shape (n_features, n_features)
        The covariance (2-D) or the population mean matrix ``E[S]`` (3-D).
    precision_ : ndarray of shape (n_features, n_features)
        Inverse of ``covariance_``.
    shrinkage_ : float
        2-D input without ``n_components``, linear rules (not ``"nonlinear"`` or ``"qis"``):
        the weight of the scaled-identity target in
        ``covariance_`` (for ``"evidence"``, relative to the unbiased scatter estimate).
    shrinkage_rule_ : str
        2-D input with ``shrinkage="auto"`` or ``"evidence"``: the rule applied,
        ``"evidence"`` or ``"nonlinear"``.
    prior_df_, prior_scale_ : float
        2-D input when the evidence rule was applied: the evidence-maximising prior
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
            StrOptions({"auto", "evidence", "nonlinear", "qis", "oas", "ledoit-wolf"}),
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
        shrinkage="auto",
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
        with state_restored_on_error(self):
            X = validate_data(
                self,
                X,
                allow_nd=True,
                dtype=[np.float64, np.float32],
                ensure_min_samples=2,
                ensure_all_finite=False,
            )
            _check_finite(X, "X")
            check_magnitude(X, "X", "WishartCovarianceModel", X.size, squares_needed=True)
            if X.ndim not in _MODELS:
                raise ValueError(
                    "X must be 2-D observations (n_samples, n_features) or a 3-D stack of SPD "
                    f"matrices (n_matrices, p, p); got an array of shape {X.shape}."
                )
            model_class = _MODELS[X.ndim]
            self._check_parameters_apply(model_class)
            model = model_class.fit(
                X, **{name: getattr(self, name) for name in model_class.settings}
            )
        # Only a successful fit replaces the fitted state, all of it at once.
        for name in [name for name in vars(self) if _is_fitted_attribute(name)]:
            delattr(self, name)
        for name, value in model.attributes().items():
            setattr(self, name, value)
        self._model = model
        return self

    def _check_parameters_apply(self, model_class):
        """Refuse a non-default value of a parameter that ``model_class``'s form does not use."""
        signature = inspect.signature(type(self).__init__).parameters
        for name, value in self.get_params(deep=False).items():
            if name in model_class.settings or name in _RESOURCE_PARAMETERS:
                continue
            default = signature[name].default
            if value is default or value == default:
                continue
            applies = next(model.form for model in _MODELS.values() if name in model.settings)
            raise ValueError(
                f"{name} applies to {applies}; X is {model_class.form}, for which "
                f"{name}={value!r} has no meaning. Leave {name} at its default {default!r} for "
                "this input."
            )

    @property
    def _n_features_out(self):
        """Number of columns of :meth:`transform` (for ``get_feature_names_out``)."""
        return self._model.n_features_out

    # ------------------------------------------------------------------ input checks

    def _check_input(self, X, *, name="X"):
        check_is_fitted(self)
        model = self._model
        # Name a 2-D/3-D mix-up before validate_data reports it as a wrong number of features.
        ndim = getattr(X, "ndim", None)
        ndim = np.asarray(X).ndim if ndim is None else ndim
        if ndim >= 2 and ndim != model.ndim:
            raise ValueError(
                f"This model was fitted on {model.fitted_on}; {name} is {ndim}-D with shape "
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
        if X.ndim != model.ndim:
            raise ValueError(
                f"This model was fitted on {model.fitted_on}; {name} has shape {X.shape}. Pass "
                "the same kind of input as in fit."
            )
        if X.ndim == 3 and X.shape[1] != X.shape[2]:
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
        return self._model.transform(X)

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
        if X.shape[1] != self._model.n_features_out:
            raise ValueError(
                f"X has {X.shape[1]} features, but this model's transform produces "
                f"{self._model.n_features_out}."
            )
        return self._model.inverse_transform(X)

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
        return self._model.score_samples(X)

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
        return self._model.mahalanobis(X)

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
        return self._model.sample(n_samples, random_state)

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
        return self._model.goodness_of_fit(X, n_bootstrap=n_bootstrap, random_state=random_state)

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
        return self._model.spectrum(X)

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
        return self._model.input_margins(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _is_fitted_attribute(name):
    """Whether ``name`` is a public fitted attribute that a model sets (not an input one)."""
    return name.endswith("_") and not name.startswith("_") and name not in _INPUT_ATTRIBUTES


def _check_finite(X, name):
    """Refuse NaN and infinity, saying where the first one is (row, or matrix for stacks)."""
    check_finite_entries(
        X,
        name,
        "WishartCovarianceModel",
        unit="matrix" if X.ndim == 3 else "row",
        advice="impute or drop missing entries (e.g. sklearn.impute.SimpleImputer for "
        "observations) before fitting.",
    )
