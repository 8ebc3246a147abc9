"""MongeAmpereTransport: Brenier maps, densities and multivariate quantiles."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skqg._parallel import numba_threads
from skqg._validation import (
    check_finite_entries,
    check_int,
    check_magnitude,
    check_reach,
    state_restored_on_error,
)
from skqg.transport import _brenier_map, _distributed, _monotone_map
from skqg.transport._epsilon import auto_epsilon
from skqg.transport._exact import exact_potential, uncentred_cost
from skqg.transport._fitted import fitted_state
from skqg.transport._gaussian_maps import (
    gaussian_moments,
    gaussian_parts,
    linear_part_and_tail,
)
from skqg.transport._references import (
    BOUNDED_REFERENCES,
    NAMED_REFERENCES,
    draw_reference,
    reference_log_density,
    reference_sample,
)
from skqg.transport._sinkhorn import check_potentials, sinkhorn_potentials

# Default cap on the size of a named reference sample: the solver's work is n * m per iteration.
_MAX_DEFAULT_REFERENCE = 5000
# Relative accuracy of inverse_transform's round trip that counts as converged.
_INVERSE_RTOL = 1e-9


class MongeAmpereTransport(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Optimal-transport (Brenier) map from the data to a reference law, with a density.

    Fits the map ``T = grad phi`` (``phi`` convex) that pushes the data's law onto a reference
    law ``q`` at the least squared displacement: the solution of the Monge–Ampère equation
    ``det D^2 phi(x) = p(x) / q(grad phi(x))``. It is a multivariate
    :class:`~sklearn.preprocessing.QuantileTransformer` with a likelihood: ``transform`` gives
    the map, ``inverse_transform`` inverts it, and the change of variables gives the data's
    density ``log p(x) = log q(T(x)) + log det DT(x)`` (:meth:`score_samples`).

    The default solver is entropic: log-domain Sinkhorn between the data and a low-discrepancy
    reference sample, whose dual potential defines a smooth map at every point (the entropic
    map). For unbounded references the map adds back the Gaussian part of the entropic bias,
    ``B = A - M_eps`` (the closed-form Bures map minus the closed-form entropic Gaussian map at
    the same ``epsilon``), which makes it exact for Gaussian data, a diffeomorphism of the whole
    space with affine tails, and lets ``epsilon`` interpolate between the nonparametric Brenier
    map (``epsilon -> 0``) and the Gaussian one (``epsilon -> inf``).

    Read more in the :ref:`User Guide <transport>`.

    Parameters
    ----------
    reference : {"normal", "uniform", "ball"} or array-like of shape (n_reference, n_features), \
            default="normal"
        The target law. ``"normal"``: standard Gaussian. ``"uniform"``: the unit cube
        ``[0, 1]^d`` (a multivariate quantile transform). ``"ball"``: the spherical uniform law
        (uniform radius in ``[0, 1)``, uniform direction), whose map gives the centre-outward
        quantiles and ranks of Hallin et al. (2021). An array: samples of a target law with the
        data's number of features (a map between two data sets).
    epsilon : "auto" or float > 0, default="auto"
        Entropic regularisation, absolute, for the squared Euclidean cost ``|x - y|^2`` (POT's
        convention for ``ot.dist`` and ``reg``), so results compare with POT at the same value.
        ``"auto"`` scales it to the data (:func:`skqg.transport.auto_epsilon`): a
        kernel-bandwidth rate in low dimension, the reference sample's nearest-neighbour
        spacing in high dimension. For ``solver="exact"`` it is the smoothing
        temperature of the out-of-sample map; ``solver="gaussian"`` ignores it.
    solver : {"sinkhorn", "exact", "gaussian"}, default="sinkhorn"
        ``"sinkhorn"``: entropic transport by log-domain Sinkhorn with ε-scaling, in ``O(n + m)``
        memory. ``"exact"``: POT's network simplex (``ot.emd``, dense ``n x m`` memory during
        ``fit``); ``transport_cost_`` is the exact optimal cost and the map is its dual
        potential smoothed at ``epsilon``. ``"gaussian"``: the closed-form affine map between
        the Gaussian laws with the data's and the reference's means and covariances.
    n_reference : int >= 2, default=None
        Size of the sample drawn from a named reference. ``None`` uses ``n_samples`` up to
        5000. Ignored when ``reference`` is an array.
    tol : float > 0, default=1e-4
        Sinkhorn stops when the L1 violation of the data marginal (the fraction of mass
        misplaced) falls below ``tol``. Points far in the tails converge last: lower it for
        maps that are accurate there too.
    max_iter : int >= 1, default=1000
        Sinkhorn iterations allowed at the final ``epsilon``.
    verbose : int, default=0
        Print the solver's progress.
    random_state : int, RandomState instance or None, default=None
        Seeds the scrambling of the named reference's low-discrepancy sample and
        :meth:`sample`.
    n_jobs : int, default=None
        Numba threads for the transport kernels (``None``: the environment's setting, ``-1``:
        all). Results do not depend on it.

    Attributes
    ----------
    reference_samples_ : ndarray of shape (n_reference, n_features)
        The reference points the map was solved against.
    dual_potential_ : ndarray of shape (n_reference,)
        The dual potential on the reference points, in inner-product form (see the User Guide).
    epsilon_ : float
        The regularisation used.
    location_ : ndarray of shape (n_features,)
        Mean of the training data (the centre of the map's coordinates).
    reference_location_ : ndarray of shape (n_features,)
        Mean of the reference points.
    linear_part_ : ndarray of shape (n_features, n_features)
        The symmetric positive semi-definite matrix ``B`` added to the entropic map (zero for
        bounded references; the whole Bures map for ``solver="gaussian"``).
    transport_cost_ : float
        Estimate of the squared 2-Wasserstein distance between the data and the reference: the
        exact optimal cost for ``solver="exact"``, otherwise the mean squared displacement
        ``mean |T(x_i) - x_i|^2`` of the fitted map over the training data.
    n_iter_ : int
        Sinkhorn iterations at the final ``epsilon`` (0 for the other solvers).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string feature names.

    See Also
    --------
    sklearn.preprocessing.QuantileTransformer : Marginal (per-feature) quantile transform.
    ot.da.SinkhornTransport : POT's entropic transport between two data sets.

    References
    ----------
    Brenier (1991), Polar factorization and monotone rearrangement of vector-valued functions.
    Pooladian & Niles-Weed (2021), Entropic estimation of optimal transport maps.
    Janati, Muzellec, Peyré & Cuturi (2020), Entropic optimal transport between unbalanced
    Gaussian measures has a closed form.
    Hallin, del Barrio, Cuesta-Albertos & Matrán (2021), Distribution and quantile functions,
    ranks and signs in dimension d: a measure transportation approach.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg import MongeAmpereTransport
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 2)) @ np.array([[2.0, 0.0], [1.0, 0.5]])
    >>> model = MongeAmpereTransport(random_state=0).fit(X)
    >>> Z = model.transform(X)
    >>> bool(np.allclose(model.inverse_transform(Z), X))
    True
    >>> round(model.score(X), 1)  # the true mean log-density is -2.84
    -2.8
    """

    _parameter_constraints: ClassVar[dict] = {
        "reference": [StrOptions(set(NAMED_REFERENCES)), "array-like"],
        "epsilon": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"sinkhorn", "exact", "gaussian"})],
        "n_reference": [Interval(Integral, 2, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        reference="normal",
        *,
        epsilon="auto",
        solver="sinkhorn",
        n_reference=None,
        tol=1e-4,
        max_iter=1000,
        verbose=0,
        random_state=None,
        n_jobs=None,
    ):
        self.reference = reference
        self.epsilon = epsilon
        self.solver = solver
        self.n_reference = n_reference
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Solve the transport problem from ``X`` to the reference.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : MongeAmpereTransport
            The fitted model.
        """
        if _distributed.is_dask_array(X):
            fitted = self._solve_on_cluster(X)
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            for key, value in fitted.items():
                setattr(self, key, value)
            return self
        # A failed fit must leave a fitted model as it was: validate_data resets these first.
        with state_restored_on_error(self):
            X = validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                ensure_min_samples=2,
                ensure_all_finite=False,
            )
            _check_finite(X, "X")
            check_magnitude(X, "X", "MongeAmpereTransport", X.size, squares_needed=True)
            fitted = self._solve(X.astype(np.float64))
        for key, value in fitted.items():
            setattr(self, key, value)
        return self

    def _reference_name(self):
        return self.reference if isinstance(self.reference, str) else None

    def _reference_points(self, n_samples, n_features, rng):
        name = self._reference_name()
        if name is not None:
            size = self.n_reference
            if size is None:
                size = min(n_samples, _MAX_DEFAULT_REFERENCE)
            seed = int(rng.randint(np.iinfo(np.int32).max))
            return reference_sample(name, size, n_features, seed)
        Y = check_array(
            self.reference,
            dtype=np.float64,
            ensure_min_samples=2,
            ensure_all_finite=False,
            input_name="reference",
        )
        _check_finite(Y, "reference")
        if Y.shape[1] != n_features:
            raise ValueError(
                f"reference has {Y.shape[1]} features but X has {n_features}: the target "
                "samples must live in the same space as the data."
            )
        return Y

    def _solve(self, X):
        n_samples, n_features = X.shape
        rng = check_random_state(self.random_state)
        name = self._reference_name()
        d = n_features
        if name is not None and self.solver == "gaussian":
            # The closed form needs only the law's moments, not a sample of it.
            Y = np.zeros((0, d))
        else:
            Y = self._reference_points(n_samples, d, rng)
        x_centre, cov_x, y_centre, cov_y = gaussian_moments(X, Y, name)
        epsilon = self._epsilon(cov_x, cov_y, n_samples, max(len(Y), 2), d)
        bounded = name in BOUNDED_REFERENCES
        Xc = np.ascontiguousarray(X - x_centre)
        Yc = np.ascontiguousarray(Y - y_centre)
        n_iter = 0
        exact_cost = None
        tail_root, tail_radius = np.zeros((d, d)), 0.0
        parts = gaussian_parts(cov_x, cov_y, epsilon)
        with numba_threads(self.n_jobs):
            if self.solver == "gaussian":
                linear = parts.bures
                points, potential = np.zeros((0, d)), np.zeros(0)
            else:
                if self.solver == "sinkhorn":
                    potential, n_iter = self._sinkhorn(Xc, Yc, epsilon)
                else:
                    potential, exact_cost = exact_potential(Xc, Yc)
                points = Yc
                linear = np.zeros((d, d))
                if not bounded:
                    linear, tail_root, tail_radius = linear_part_and_tail(Xc, parts)
            knots = None
            if self.solver == "exact" and d == 1:
                # In 1-D the exact map is the monotone rearrangement: keep it exactly, as the
                # quantile composition, instead of smoothing the dual potential.
                knots = tuple(_monotone_map.fit_monotone(X[:, 0], Y[:, 0]))
            bmap = _brenier_map.BrenierMap(
                points, potential, epsilon, x_centre, y_centre, linear, tail_root, tail_radius
            )
            moved = _evaluate_map(bmap, knots, X, gradient=True)["gradient"]
        if exact_cost is None:
            cost = float(np.mean(np.sum((moved - X) ** 2, axis=1)))
        else:
            cost = uncentred_cost(exact_cost, x_centre, y_centre, Y.mean(axis=0))
        return fitted_state(bmap, Y, name, cost, n_iter, (cov_x, cov_y, parts), knots)

    def _solve_on_cluster(self, X):
        """The entropic fit of a dask array, its row work on the dask.distributed workers."""
        if self.solver != "sinkhorn":
            raise ValueError(
                f"A dask array is fitted with solver='sinkhorn' only, got solver={self.solver!r}"
                ": compute the array first (X.compute()) for the other solvers."
            )
        n, d = X.shape
        Y = self._reference_points(n, d, check_random_state(self.random_state))
        name = self._reference_name()
        with numba_threads(self.n_jobs):
            parts = _distributed.fit_map_on_cluster(
                X, Y, name, self._epsilon, tol=self.tol, max_iter=self.max_iter,
                callback=self._progress(),
            )  # fmt: skip
        check_potentials(
            parts["potential"], parts["error"], parts["epsilon"], self.tol, self.max_iter
        )
        bmap = _brenier_map.BrenierMap(
            parts["Yc"], parts["potential"], parts["epsilon"], parts["x_centre"],
            parts["y_centre"], parts["linear"], parts["tail_root"], parts["tail_radius"],
        )  # fmt: skip

        def squared_moves(block):
            moved = _brenier_map.evaluate(bmap, block, gradient=True)["gradient"]
            return np.sum((moved - block) ** 2, axis=1)

        cost = _distributed.dask_row_mean(X.astype(np.float64), squared_moves)
        moments = (parts["cov_x"], parts["cov_y"], parts["gaussian_parts"])
        return fitted_state(bmap, Y, name, cost, parts["n_iter"], moments, None)

    def _epsilon(self, cov_x, cov_y, n_samples, n_reference, n_features):
        if self.epsilon != "auto":
            return float(self.epsilon)
        return auto_epsilon(cov_x, cov_y, n_samples, n_reference, n_features)

    def _progress(self):
        """The Sinkhorn callback that prints progress when ``verbose``, else None."""
        if not self.verbose:
            return None

        def callback(stage_eps, iteration, error):
            if iteration == 1 or iteration % 50 == 0 or error < self.tol:
                print(
                    f"[MongeAmpereTransport] epsilon={stage_eps:.4g} "
                    f"iteration {iteration}: marginal error {error:.3e}"
                )

        return callback

    def _sinkhorn(self, Xc, Yc, epsilon):
        _, potential, n_iter, error = sinkhorn_potentials(
            Xc, Yc, epsilon, tol=self.tol, max_iter=self.max_iter, callback=self._progress()
        )
        check_potentials(potential, error, epsilon, self.tol, self.max_iter)
        return potential, n_iter

    # ------------------------------------------------------------ the map

    def _map(self):
        return _brenier_map.BrenierMap(
            self._map_points,
            self.dual_potential_,
            self.epsilon_,
            self.location_,
            self.reference_location_,
            self.linear_part_,
            self._tail_root,
            self._tail_radius,
        )

    def _check_input(self, X, name="X"):
        X = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], ensure_all_finite=False
        )
        _check_finite(X, name)
        check_reach(
            X,
            self.location_,
            self.__dict__.get("_input_limit", np.inf),
            name,
            "MongeAmpereTransport",
        )
        return X

    def _evaluate(self, X, **what):
        """Validate ``X`` against the fitted model and evaluate the requested quantities."""
        check_is_fitted(self)
        X = self._check_input(X)
        with numba_threads(self.n_jobs):
            return X, _evaluate_map(self._map(), self._knots, X.astype(np.float64), **what)

    def transform(self, X):
        """Apply the map: ``T(x) = grad phi(x)``, a point of the reference space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Any points (the map is smooth and defined everywhere).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Same dtype as ``X``. For ``reference="ball"`` the norm of a row is its
            centre-outward rank in ``[0, 1)`` and its direction the sign.
        """
        X, out = self._evaluate(X, gradient=True)
        return out["gradient"].astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Invert the map: the point ``x`` with ``T(x) = y`` for each row ``y``.

        Solved by damped Newton on the convex objective ``phi(x) - <y, x>``. For ``"normal"``
        and array references (with ``solver="sinkhorn"`` or ``"exact"``) the map is a
        bijection of the whole space, so every ``y`` has a preimage; for ``"uniform"`` and
        ``"ball"`` its range is the interior of the convex hull of the reference sample, and
        points outside it raise a ValueError.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points in the reference space.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Preimages, in the data space; same dtype as the input.
        """
        check_is_fitted(self)
        Y = self._check_input(X)
        X_hat, ok = self._inverse(Y.astype(np.float64))
        if not ok.all():
            bad = ~ok
            raise ValueError(
                f"{int(bad.sum())} of {len(Y)} points (first: row {int(np.flatnonzero(bad)[0])})"
                " are outside the range of the map, so they have no preimage. With a bounded "
                "reference ('uniform', 'ball') the range is the interior of the convex hull of "
                "reference_samples_, where transform's outputs lie."
            )
        return X_hat.astype(Y.dtype, copy=False)

    def _inverse(self, Y64):
        """Preimages of the rows of ``Y64`` and whether each round trip is within tolerance."""
        bmap = self._map()
        start = self.location_ + (Y64 - self.reference_location_) @ self._inverse_start
        with numba_threads(self.n_jobs):
            if self._knots is None:
                spreads = (self._data_spread, self._reference_spread)
                X_hat = _brenier_map.inverse(bmap, Y64, start=start, spreads=spreads)
            else:
                X_hat = _monotone_map.inverse(_monotone_map.MonotoneMap(*self._knots), Y64[:, 0])[
                    :, None
                ]
            image = _evaluate_map(bmap, self._knots, X_hat, gradient=True)["gradient"]
        # Judge convergence by the round trip itself, at the scale of the reference.
        miss = np.linalg.norm(image - Y64, axis=1)
        ok = miss <= _INVERSE_RTOL * (self._reference_spread + np.linalg.norm(Y64, axis=1))
        return X_hat, ok

    def potential(self, X):
        """The convex Brenier potential ``phi`` whose gradient is the map.

        Defined up to an additive constant (fixed so that it is comparable between calls on
        the same fitted model).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._evaluate(X, value=True)[1]["value"]

    def log_det_jacobian(self, X):
        """``log det DT(x)``, the log-volume change of the map (``DT = D^2 phi``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._evaluate(X, log_det=True)[1]["log_det"]

    def score_samples(self, X):
        """Log-density of the data model: ``log q(T(x)) + log det DT(x)`` (Monge–Ampère).

        Needs the reference's density, so a named reference.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-densities in nats. For ``"uniform"`` and ``"ball"`` references this is finite
            wherever the map's Jacobian is non-degenerate (the map lands inside the support).
        """
        check_is_fitted(self)
        name = self._fitted_reference
        if name is None:
            raise ValueError(
                "score_samples needs the reference's density, which an array reference does "
                "not give: use reference='normal', 'uniform' or 'ball'."
            )
        _, out = self._evaluate(X, gradient=True, log_det=True)
        return reference_log_density(name, out["gradient"]) + out["log_det"]

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
        """Draw from the fitted data model: reference draws pulled back through the map.

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
        name = self._fitted_reference
        d = self.n_features_in_
        out = np.empty((n_samples, d))
        todo = np.arange(n_samples)
        # Bounded references: the map's range is the interior of the reference sample's hull,
        # so the few draws outside it are drawn again (rejection sampling of the fitted law).
        for _ in range(100):
            draws = draw_reference(name, self.reference_samples_, len(todo), d, rng)
            X_hat, ok = self._inverse(draws)
            out[todo[ok]] = X_hat[ok]
            todo = todo[~ok]
            if todo.size == 0:
                return out
        raise ValueError(  # pragma: no cover - the hull holds almost all of the mass
            "Could not draw inside the range of the map; refit with a larger n_reference."
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _evaluate_map(bmap, knots, X, **what):
    """Evaluate the entropic map, or the exact 1-D monotone map when it has knots."""
    if knots is None:
        return _brenier_map.evaluate(bmap, X, **what)
    out = _monotone_map.evaluate(_monotone_map.MonotoneMap(*knots), X[:, 0], **what)
    if "gradient" in out:
        out["gradient"] = out["gradient"][:, None]
    return out


def _check_finite(X, name):
    check_finite_entries(X, name, "MongeAmpereTransport")
