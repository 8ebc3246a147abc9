"""TransportPlanDensity: the density of an entropic transport plan from a Gaussian latent."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skqg._parallel import numba_threads
from skqg._validation import (
    check_finite_entries,
    check_int,
    check_magnitude,
    check_reach,
    overflow_limit,
    state_restored_on_error,
)
from skqg.transport import _plan_mixture
from skqg.transport._references import reference_sample

# Default cap on the latent sample (the mixture's number of components).
_MAX_DEFAULT_REFERENCE = 2000


class TransportPlanDensity(DensityMixin, BaseEstimator):
    """Density estimate from the entropic transport plan between a Gaussian latent and the data.

    Generative learning transports a latent law onto the data. This estimator solves the
    entropic optimal-transport problem between the data and a low-discrepancy sample
    ``y_1..y_m`` of the standard normal law, and models the data as the latent law pushed
    through the plan: given ``y_j`` the plan's conditional law of the data has mean
    ``mu_j = E[x | y_j]`` (the entropic Brenier map of ``y_j``) and covariance
    ``Sigma_j = Cov[x | y_j]`` (how the data spread around it), and

    ``p(x) = (1 / m) sum_j N(x; mu_j, Sigma_j + bandwidth^2 I)``.

    With ``epsilon = 0`` the plan is a permutation and this is a Gaussian kernel density
    estimate; a positive ``epsilon`` gives each kernel the data's local shape (anisotropic,
    adaptive kernels along curves and sheets); ``epsilon -> inf`` gives one Gaussian. By
    default both ``epsilon`` and ``bandwidth`` are chosen by ``cv``-fold held-out likelihood on
    grids in units of the data's scale, so the model needs no tuning.

    Unlike :class:`MongeAmpereTransport` there is no ``transform``: the model is the plan, not
    a map (use :class:`MongeAmpereTransport` for quantiles, ranks and maps).

    Read more in the :ref:`User Guide <transport-density>`.

    Parameters
    ----------
    epsilon : "auto" or float >= 0, default="auto"
        Entropic regularisation of the squared Euclidean cost, absolute (POT's convention).
        ``0`` needs ``n_reference`` equal to the number of samples. ``"auto"``: chosen by
        held-out likelihood among ``{0, 0.003, 0.01, 0.03, 0.1, 0.3} x 2 d s`` with ``s`` the
        root mean variance of the data (0 only when every sample gets its own latent point).
    bandwidth : "auto" or float > 0, default="auto"
        Standard deviation of the isotropic Gaussian added to every conditional. ``"auto"``:
        chosen with ``epsilon`` on 11 values from ``10^-2.5 s`` to ``s``, 4 per decade, the best
        refined by a parabola in ``log bandwidth`` through it and its neighbours (Silverman's
        rule stays below ``s`` from 10 samples up, and a large ``epsilon`` covers wider laws).
    n_reference : int >= 2, default=None
        Number of latent points (mixture components). ``None``: ``n_samples`` up to 2000.
    cv : int >= 2, default=5
        Folds of the held-out likelihood that chooses the ``"auto"`` parameters.
    tol : float > 0, default=1e-4
        Sinkhorn's tolerance (L1 violation of the data marginal).
    max_iter : int >= 1, default=1000
        Sinkhorn iterations allowed per solve.
    verbose : int, default=0
        Print the choice's progress.
    random_state : int, RandomState instance or None, default=None
        Seeds the latent samples, the folds and :meth:`sample`.
    n_jobs : int, default=None
        Numba threads (``None``: the environment's setting, ``-1``: all). Results do not
        depend on it.

    Attributes
    ----------
    means_ : ndarray of shape (n_reference, n_features)
        Component means ``mu_j``.
    covariances_ : ndarray of shape (n_reference, n_features, n_features)
        Component covariances ``Sigma_j + bandwidth_^2 I``.
    epsilon_ : float
        The regularisation used.
    bandwidth_ : float
        The bandwidth used.
    cv_scores_ : ndarray of shape (n_epsilons, n_bandwidths) or None
        Mean held-out log-likelihood (nats per sample) of every candidate pair, when a
        parameter was ``"auto"``. The regularisations are tried from the largest down and the
        search stops at the first whose best score falls below the best so far (the
        likelihood is unimodal in ``epsilon``): rows it did not reach are NaN. The search's
        Sinkhorn solves stop at a marginal error of ``max(tol, 1e-2)``.
    epsilon_grid_ : ndarray of shape (n_epsilons,)
        The candidate regularisations (rows of ``cv_scores_``).
    bandwidth_grid_ : ndarray of shape (n_bandwidths,)
        The candidate bandwidths (columns of ``cv_scores_``).
    location_ : ndarray of shape (n_features,)
        Mean of the training data.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string feature names.

    See Also
    --------
    sklearn.neighbors.KernelDensity : The ``epsilon = 0`` member of this family.
    sklearn.mixture.GaussianMixture : Mixtures with fitted weights, fitted by EM.
    MongeAmpereTransport : The Brenier map and its change-of-variables density.

    References
    ----------
    Cuturi (2013), Sinkhorn distances: lightspeed computation of optimal transport.
    Pooladian & Niles-Weed (2021), Entropic estimation of optimal transport maps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_moons
    >>> from skqg.transport import TransportPlanDensity
    >>> X, _ = make_moons(600, noise=0.05, random_state=0)
    >>> model = TransportPlanDensity(random_state=0).fit(X[:400])
    >>> round(model.score(X[400:]), 1)  # held-out log-likelihood, nats per sample
    -0.4
    >>> model.sample(3, random_state=0).shape
    (3, 2)
    """

    _parameter_constraints: ClassVar[dict] = {
        "epsilon": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "bandwidth": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "n_reference": [Interval(Integral, 2, None, closed="left"), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        epsilon="auto",
        bandwidth="auto",
        n_reference=None,
        cv=5,
        tol=1e-4,
        max_iter=1000,
        verbose=0,
        random_state=None,
        n_jobs=None,
    ):
        self.epsilon = epsilon
        self.bandwidth = bandwidth
        self.n_reference = n_reference
        self.cv = cv
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Solve the plan, choosing ``epsilon`` and ``bandwidth`` by held-out likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : TransportPlanDensity
            The fitted model.
        """
        with state_restored_on_error(self):
            X = validate_data(
                self, X, dtype=[np.float64, np.float32], ensure_min_samples=2,
                ensure_all_finite=False,
            )  # fmt: skip
            check_finite_entries(X, "X", "TransportPlanDensity")
            # Variances of the data and the plan: sums of squares that must neither overflow
            # nor underflow.
            check_magnitude(X, "X", "TransportPlanDensity", X.size, squares_needed=True)
            fitted = self._solve(X.astype(np.float64))
        for key, value in fitted.items():
            setattr(self, key, value)
        return self

    def _solve(self, X):
        n, d = X.shape
        location = X.mean(axis=0)
        Xc = np.ascontiguousarray(X - location)
        scale = _plan_mixture.data_scale(Xc)
        if not scale > 0.0:
            raise ValueError(
                "TransportPlanDensity needs data that vary: every feature of X is constant, so "
                "the density would be a point mass."
            )
        n_reference = (
            min(n, _MAX_DEFAULT_REFERENCE) if self.n_reference is None else self.n_reference
        )
        if self.epsilon == 0.0 and n_reference != n:
            raise ValueError(
                f"epsilon=0 needs one latent point per sample (n_reference={n_reference}, "
                f"n_samples={n}): set n_reference=None (up to {_MAX_DEFAULT_REFERENCE} samples) "
                "or a positive epsilon."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with numba_threads(self.n_jobs):
            epsilons, bandwidths, scores = self._candidates(Xc, scale, n_reference, seed)
            if scores is None:
                epsilon, bandwidth = epsilons[0], bandwidths[0]
            else:
                epsilon, bandwidth = _plan_mixture.best_pair(scores, epsilons, bandwidths)
            Y = reference_sample("normal", n_reference, d, seed)
            mixture = _plan_mixture.plan_mixture(
                Xc, Y, epsilon, tol=self.tol, max_iter=self.max_iter
            )
        covariances = np.einsum("jkl,jl,jml->jkm", mixture.vectors, mixture.values, mixture.vectors)
        covariances += bandwidth**2 * np.eye(d)
        return {
            "means_": mixture.means + location,
            "covariances_": covariances,
            "epsilon_": float(epsilon),
            "bandwidth_": float(bandwidth),
            "cv_scores_": scores,
            "epsilon_grid_": np.asarray(epsilons, dtype=np.float64),
            "bandwidth_grid_": np.asarray(bandwidths, dtype=np.float64),
            "location_": location,
            "_vectors": mixture.vectors,
            "_values": mixture.values,
        }

    def _candidates(self, Xc, scale, n_reference, seed):
        """The grids and their held-out scores (``None`` when nothing is chosen)."""
        n, d = Xc.shape
        if self.epsilon == "auto":
            epsilons = _plan_mixture.candidate_epsilons(scale, d, n, n_reference)
        else:
            epsilons = [float(self.epsilon)]
        if self.bandwidth == "auto":
            bandwidths = [scale * b for b in _plan_mixture.BANDWIDTH_GRID]
        else:
            bandwidths = [float(self.bandwidth)]
        if len(epsilons) == 1 and len(bandwidths) == 1:
            return epsilons, bandwidths, None
        if n < 2 * self.cv:
            raise ValueError(
                f"Choosing epsilon or bandwidth by {self.cv}-fold held-out likelihood needs at "
                f"least {2 * self.cv} samples, got {n}: set both epsilon and bandwidth, or a "
                "smaller cv."
            )
        scores = _plan_mixture.heldout_scores(
            Xc, epsilons, bandwidths, cv=self.cv, n_reference=n_reference, seed=seed,
            tol=self.tol, max_iter=self.max_iter, verbose=self.verbose,
        )  # fmt: skip
        return epsilons, bandwidths, scores

    def score_samples(self, X):
        """Log-density of the model at each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-densities in nats.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], ensure_all_finite=False
        )
        check_finite_entries(X, "X", "TransportPlanDensity")
        # Every component's variance is at least bandwidth^2: beyond this reach (per
        # coordinate, from the centre) some squared Mahalanobis distance would overflow.
        offset = float(np.max(np.abs(self.means_ - self.location_)))
        reach = overflow_limit(X.shape[1]) * self.bandwidth_ - offset
        check_reach(X, self.location_, reach, "X", "TransportPlanDensity")
        mixture = _plan_mixture.PlanMixture(
            self.means_ - self.location_, self._vectors, self._values
        )
        Xc = np.ascontiguousarray(X - self.location_, dtype=np.float64)
        with numba_threads(self.n_jobs):
            return mixture.log_density(Xc, [self.bandwidth_])[:, 0]

    def score(self, X, y=None):
        """Mean log-density of ``X`` (nats per sample): held-out log-likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples=1, random_state=None):
        """Draw from the fitted density: a latent point, then its Gaussian conditional.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        n_samples = check_int("n_samples", n_samples, 1)
        rng = check_random_state(random_state)
        component = rng.randint(len(self.means_), size=n_samples)
        noise = rng.standard_normal((n_samples, self.n_features_in_))
        vectors, values = self._vectors[component], self._values[component]
        if values.shape[1] == self.n_features_in_:  # the whole eigenbasis
            scales = np.sqrt(values + self.bandwidth_**2)
            return self.means_[component] + np.einsum("ikl,il->ik", vectors, scales * noise)
        # Rank r < d: x = mu + U diag(lam)^1/2 z + s e, covariance U diag(lam) U^T + s^2 I.
        spread = rng.standard_normal(values.shape) * np.sqrt(values)
        steps = np.einsum("ikl,il->ik", vectors, spread) + self.bandwidth_ * noise
        return self.means_[component] + steps

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
