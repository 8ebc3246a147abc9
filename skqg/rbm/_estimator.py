"""RBMCoarseGrainer: a restricted Boltzmann machine as a learned coarse-graining."""

import time
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skqg._batching import row_batches
from skqg._parallel import numba_threads
from skqg._validation import (
    check_hidden_values,
    check_int,
    check_magnitude,
    check_option,
    check_visible_values,
    state_restored_on_error,
)
from skqg.rbm._layers import (
    VISIBLE_KINDS,
    base_visible_samples,
    free_energy,
    gibbs_steps,
    hidden_means,
    visible_means,
)
from skqg.rbm._partition import (
    MAX_AUTO_ENUMERATION,
    cached_log_partition,
    enumerated_layer_size,
    resolve_partition_method,
)
from skqg.rbm._training import (
    GradientAscent,
    cd_statistics,
    data_statistics,
    exact_statistics,
    initialise,
    persistent_epoch,
    report_progress,
    retune_ladder,
)

# The parameters a fitted model keeps using whatever set_params does after fit: the visible kind
# and the seed of its partition-function estimate.
_FITTED_SETTINGS = ("visible", "random_state")


class RBMCoarseGrainer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Restricted Boltzmann machine whose hidden layer is a learned coarse-graining.

    A bipartite energy model of visible units ``v`` and Bernoulli hidden units ``h`` with
    energy ``E(v, h) = -a.v - b.h - h^T W v`` (``a`` = ``intercept_visible_``,
    ``b`` = ``intercept_hidden_``, ``W`` = ``components_``); with Gaussian visible units the
    term ``-a.v`` becomes ``|v - a|^2 / 2``. Trained by stochastic gradient ascent on the
    log-likelihood, with the model term of the gradient from contrastive divergence, persistent
    chains, parallel tempering, or exact enumeration. Read more in the :ref:`API reference <api>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    visible : {"bernoulli", "spin", "gaussian"}, default="bernoulli"
        Visible unit type: ``"bernoulli"`` takes values in {0, 1} (values in [0, 1] are
        accepted as mean-field input), ``"spin"`` takes Ising spins in {-1, +1},
        ``"gaussian"`` real values with unit variance (standardise the data first).
    method : {"pt", "pcd", "cd", "exact"}, default="pt"
        How the model term of the gradient is estimated: ``"pt"`` (parallel tempering) keeps
        ``n_chains`` persistent chains at each of ``n_temperatures`` inverse temperatures
        from 1 down to 0.1 and exchanges neighbours' states, so the chains cross between the
        modes of multimodal laws (bars and stripes, the ordered Ising phase); ``"pcd"`` keeps
        persistent chains at the model's temperature only: about ``n_temperatures`` times
        cheaper per update, as good on unimodal data, but its likelihood can fall with more
        epochs when the chains stay in one mode; ``"cd"`` runs ``k`` Gibbs sweeps from the
        mini-batch (CD-k); ``"exact"``
        enumerates the smaller binary layer (at most 20 units; hidden units for Gaussian
        visible units), which gives the exact gradient. Each ``exact`` update enumerates
        2**n states (about 0.1 s at 16 x 64 units), so give it large batches, e.g. the whole
        training set with ``learning_rate=0.1`` and a few hundred epochs.
    k : int, default=1
        Gibbs sweeps per update (``cd``, ``pcd``, ``pt``).
    solver : {"adam", "sgd"}, default="adam"
        ``"adam"`` scales each step by running moment estimates of the gradient (Kingma &
        Ba 2015), with ``momentum`` as the first-moment decay; ``"sgd"`` is classical momentum.
    learning_rate : float or "auto", default="auto"
        Initial step size. ``"auto"`` is ``0.3 / max(n_components, 10)`` for ``solver="adam"``
        (Adam moves every weight by about the step size, and a visible unit's field sums
        ``n_components`` weights, so the step is scaled by that fan-in) and ``0.06`` for
        ``"sgd"`` (scikit-learn's example setting). In ``fit`` it decays linearly over the
        epochs, ending at ``learning_rate / n_iter``: large early steps, then averaging out the
        gradient noise of the sampled model term. ``partial_fit`` uses it unchanged.
    batch_size : int, default=10
        Rows per mini-batch.
    n_iter : int, default=20
        Passes over the training data (epochs) in ``fit``.
    momentum : float, default=0.5
        First-moment decay (Adam's beta1) or classical momentum coefficient (``sgd``), in
        [0, 1).
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    l1 : float, default=0.0
        L1 penalty on the weights (sparse, local receptive fields).
    n_chains : int, default=None
        Persistent chains for ``pcd`` and ``pt`` (per temperature); ``None`` means
        ``max(batch_size, 50)``: many chains per small batch keep the model term's noise down.
        Ignored by ``cd`` (chains start at the batch) and ``exact``.
    n_temperatures : int, default=4
        Replicas of the ``pt`` ladder, the model included (at least 2). Its hottest inverse
        temperature is 0.1; the rungs between move after each epoch toward equal exchange
        rates between neighbours (see ``betas_``). Ignored by the other methods.
    random_state : int, RandomState instance or None, default=None
        Controls initialisation, mini-batch order, Gibbs sampling and annealed importance
        sampling. Pass an int for reproducible results (independent of ``n_jobs``).
    verbose : int, default=0
        Print the reconstruction error and time per epoch.
    n_jobs : int, default=None
        Numba threads for the sampling kernels (``None``: the current setting, ``-1``: all).
        Results do not depend on it.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights ``W``; row ``j`` is hidden unit ``j``'s receptive field.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``b``.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``a``.
    h_samples_ : ndarray of shape (n_chains, n_components) or (n_temperatures, n_chains, \
n_components)
        Hidden states of the persistent chains (``pcd``; per temperature for ``pt``); empty
        for ``cd`` and ``exact``.
    betas_ : ndarray of shape (n_temperatures,)
        Inverse temperatures of the ``pt`` replicas (``betas_[0] = 1``, the model); ``[1.0]``
        for the other methods.
    swap_rates_ : ndarray of shape (n_temperatures - 1,)
        Fraction of accepted exchanges between neighbouring ``pt`` replicas in the last epoch
        (empty for the other methods). Rates near 0 mean the ladder is too coarse for the
        model: raise ``n_temperatures``.
    n_iter_ : int
        Epochs run by ``fit``, plus one per ``partial_fit`` call.
    random_state_ : RandomState
        The generator used for training and, when no ``random_state`` is given, sampling.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when they are all strings.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : Bernoulli visible units, PCD-1, pseudo-likelihood.
    skqg.rg.block_spin : The classical coarse-graining to compare the hidden layer against.

    References
    ----------
    G. E. Hinton, "A practical guide to training restricted Boltzmann machines", 2010.
    T. Tieleman, "Training restricted Boltzmann machines using approximations to the likelihood
    gradient", ICML 2008.
    R. Salakhutdinov and I. Murray, "On the quantitative analysis of deep belief networks",
    ICML 2008.
    P. Mehta and D. J. Schwab, "An exact mapping between the variational renormalization group
    and deep learning", arXiv:1410.3831, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg import RBMCoarseGrainer
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.uniform(size=(200, 8)) < 0.3).astype(float)
    >>> rbm = RBMCoarseGrainer(n_components=4, n_iter=5, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (200, 4)
    >>> log_z, std_err, method = rbm.log_partition()
    >>> method, std_err
    ('exact', 0.0)
    >>> bool(rbm.score(X) < 0)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "visible": [StrOptions(set(VISIBLE_KINDS))],
        "method": [StrOptions({"cd", "pcd", "pt", "exact"})],
        "k": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left"), None],
        "n_temperatures": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=256,
        *,
        visible="bernoulli",
        method="pt",
        k=1,
        solver="adam",
        learning_rate="auto",
        batch_size=10,
        n_iter=20,
        momentum=0.5,
        weight_decay=1e-4,
        l1=0.0,
        n_chains=None,
        n_temperatures=4,
        random_state=None,
        verbose=0,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.visible = visible
        self.method = method
        self.k = k
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.l1 = l1
        self.n_chains = n_chains
        self.n_temperatures = n_temperatures
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    # ----------------------------------------------------------------- validation
    def _setting(self, name):
        """A parameter in ``_FITTED_SETTINGS`` as the model was fitted with it (``set_params``
        after ``fit`` does not change the fitted model), or its value before any fit."""
        return self.__dict__.get("_fitted_settings", {}).get(name, getattr(self, name))

    @property
    def _visible(self):
        return self._setting("visible")

    @property
    def _kind(self):
        return VISIBLE_KINDS[self._visible]

    def _check_visible(self, X, reset):
        """Validate visible data (dense or CSR, float32/float64) and its domain."""
        X = validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=reset)
        check_visible_values(X, self._visible)
        if self._visible == "gaussian":  # binary kinds are bounded by their domain check
            check_magnitude(
                X, "X", type(self).__name__, X.shape[0] * X.shape[1] if reset else X.shape[1]
            )
        return X

    def _check_hidden(self, H):
        H = check_array(H, dtype=(np.float64, np.float32))
        return check_hidden_values(H, self.components_.shape[0], type(self).__name__)

    def _check_enumerable(self, n_features):
        size = enumerated_layer_size(n_features, self.n_components, self._kind)
        if size > MAX_AUTO_ENUMERATION:
            raise ValueError(
                f"method='exact' enumerates all 2**{size} states of the smaller binary layer "
                f"(n_components={self.n_components}, n_features={n_features}, "
                f"visible={self._visible!r}); at most {MAX_AUTO_ENUMERATION} units are allowed. "
                "Use fewer hidden units or method='pcd' / 'pt'."
            )

    # ----------------------------------------------------------------- training
    def _learning_rate(self):
        if self.learning_rate != "auto":
            return self.learning_rate
        return 0.3 / max(self.n_components, 10) if self.solver == "adam" else 0.06

    def _update(self, V, optimizer, rng):
        W, a, b = self.components_, self.intercept_visible_, self.intercept_hidden_
        positive = data_statistics(V, W, b)
        if self.method == "exact":
            negative = exact_statistics(W, a, b, self._kind)
        else:
            negative = cd_statistics(V, W, a, b, self._kind, self.k, rng)
        optimizer.step(W, a, b, positive, negative)

    def _run_epoch(self, X, rng, learning_rate):
        optimizer = GradientAscent(
            self.solver,
            learning_rate,
            self.momentum,
            self.weight_decay,
            self.l1,
            self._optimizer_state,
        )
        n_samples = X.shape[0]
        order = rng.permutation(n_samples)
        if self.method in ("pcd", "pt"):
            attempts, accepts = persistent_epoch(self, X, order, optimizer, rng, self.betas_)
            self.swap_rates_ = accepts / np.maximum(attempts, 1)
            self.betas_ = retune_ladder(self.betas_, attempts, accepts)
        else:
            for start in range(0, n_samples, self.batch_size):
                self._update(X[order[start : start + self.batch_size]], optimizer, rng)
        if not np.all(np.isfinite(self.components_)):
            raise FloatingPointError(
                "Training diverged (non-finite weights); lower learning_rate or momentum"
                + (", or standardise X" if self._visible == "gaussian" else "")
                + "."
            )
        self.n_iter_ += 1

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to the data X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 or float64; dense or CSR), in the domain of ``visible``.
        y : None
            Ignored.

        Returns
        -------
        self : RBMCoarseGrainer
            The fitted estimator.
        """
        # A failed or interrupted fit leaves a fitted model exactly as it was.
        with state_restored_on_error(self):
            self.__dict__.pop("_fitted_settings", None)  # this fit follows the parameters
            X = self._check_visible(X, reset=True)
            if self.method == "exact":
                self._check_enumerable(X.shape[1])
            rng = check_random_state(self.random_state)
            initialise(self, X, rng)
            self.random_state_ = rng
            began = time.perf_counter()
            with numba_threads(self.n_jobs):
                for epoch in range(self.n_iter):
                    # The step size decays linearly over fit, ending at 1 / n_iter of its
                    # start: large early steps, then averaging out the gradient noise.
                    decay = 1.0 - epoch / self.n_iter
                    self._run_epoch(X, rng, self._learning_rate() * decay)
                    report_progress(self, X, began)
            self._partition_cache = {}
            self._fitted_settings = {name: getattr(self, name) for name in _FITTED_SETTINGS}
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Run one pass of mini-batch updates over X (initialising on the first call).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.

        Returns
        -------
        self : RBMCoarseGrainer
            The updated estimator.
        """
        first = not hasattr(self, "components_")
        # The pass updates the fitted arrays in place: a deep copy restores them on failure.
        with state_restored_on_error(self, deep=not first):
            X = self._check_visible(X, reset=first)
            if self.method == "exact":
                self._check_enumerable(X.shape[1])
            if first:
                self.random_state_ = check_random_state(self.random_state)
                initialise(self, X, self.random_state_)
            with numba_threads(self.n_jobs):
                self._run_epoch(X, self.random_state_, self._learning_rate())
            self._partition_cache = {}
            if first:
                self._fitted_settings = {name: getattr(self, name) for name in _FITTED_SETTINGS}
        return self

    # ----------------------------------------------------------------- inference
    def transform(self, X):
        """Hidden-unit probabilities P(h = 1 | v): the coarse-grained representation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Visible data.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Same dtype as X.
        """
        check_is_fitted(self)
        X = self._check_visible(X, reset=False)
        with numba_threads(self.n_jobs):
            W = self.components_.astype(X.dtype, copy=False)
            return hidden_means(X, W, self.intercept_hidden_.astype(X.dtype, copy=False))

    def inverse_transform(self, H):
        """Visible means E[v | h]: map hidden states or probabilities back to the data space.

        Parameters
        ----------
        H : array-like of shape (n_samples, n_components)
            Hidden states or probabilities, in [0, 1].

        Returns
        -------
        V : ndarray of shape (n_samples, n_features)
            Same dtype as H.
        """
        check_is_fitted(self)
        H = self._check_hidden(H)
        with numba_threads(self.n_jobs):
            return visible_means(
                H,
                self.components_.astype(H.dtype, copy=False),
                self.intercept_visible_.astype(H.dtype, copy=False),
                self._kind,
            )

    def gibbs(self, V, *, n_steps=1, random_state=None):
        """Run Gibbs sweeps v -> h -> v from each row of V.

        Parameters
        ----------
        V : {array-like, sparse matrix} of shape (n_samples, n_features)
            Starting visible states.
        n_steps : int, default=1
            Number of sweeps.
        random_state : int, RandomState instance or None, default=None
            ``None`` draws from ``random_state_`` (advancing it), as BernoulliRBM does.

        Returns
        -------
        V_new : ndarray of shape (n_samples, n_features)
            Visible samples after ``n_steps`` sweeps.
        """
        check_is_fitted(self)
        V = self._check_visible(V, reset=False)
        if sp.issparse(V):
            V = V.toarray()
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        with numba_threads(self.n_jobs):
            return self._gibbs(V, check_int("n_steps", n_steps, 0), rng)

    def _gibbs(self, V, n_steps, rng):
        W = self.components_.astype(V.dtype, copy=False)
        a = self.intercept_visible_.astype(V.dtype, copy=False)
        b = self.intercept_hidden_.astype(V.dtype, copy=False)
        return gibbs_steps(V, W, a, b, self._kind, n_steps, rng)

    def sample(self, n_samples=1, *, n_steps=1000, random_state=None):
        """Draw visible configurations from the model by block Gibbs sampling.

        Each sample is the end of its own chain, started from the visible biases alone.

        Parameters
        ----------
        n_samples : int, default=1
            Number of independent chains (and samples).
        n_steps : int, default=1000
            Gibbs sweeps per chain.
        random_state : int, RandomState instance or None, default=None
            ``None`` draws from ``random_state_``.

        Returns
        -------
        V : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        n_samples = check_int("n_samples", n_samples, 1)
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        with numba_threads(self.n_jobs):
            V = base_visible_samples(n_samples, self.intercept_visible_, self._kind, rng)
            return self._gibbs(V, check_int("n_steps", n_steps, 0), rng)

    def free_energy(self, X):
        """Free energy F(v) = -log sum_h exp(-E(v, h)) of each row, in nats.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        F : ndarray of float64, shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._check_visible(X, reset=False)
        with numba_threads(self.n_jobs):
            return self._free_energy(X)

    def _free_energy(self, X):
        W = self.components_.astype(X.dtype, copy=False)
        b = self.intercept_hidden_.astype(X.dtype, copy=False)
        a = self.intercept_visible_.astype(np.float64)
        # Row batches bound the (rows, n_components) hidden field, whatever the number of rows.
        energy = np.empty(X.shape[0])
        for rows in row_batches(X.shape[0]):
            energy[rows] = free_energy(X[rows], W, a, b, self._kind)
        return energy

    def log_partition(self, method="auto", *, n_runs=100, n_betas=10000, random_state=None):
        """Log partition function log Z of the fitted model, with its standard error.

        Parameters
        ----------
        method : {"auto", "exact", "ais"}, default="auto"
            ``"exact"`` sums over every state of the smaller binary layer (at most 30 units);
            ``"ais"`` runs annealed importance sampling; ``"auto"`` is exact up to 20 units.
        n_runs : int, default=100
            AIS runs (the standard error shrinks as 1/sqrt(n_runs)).
        n_betas : int, default=10000
            AIS inverse temperatures.
        random_state : int, RandomState instance or None, default=None
            Seeds AIS; ``None`` uses the estimator's ``random_state``. Results are cached until
            the model changes, so repeated calls (and ``score``) agree.

        Returns
        -------
        LogPartition
            Named tuple ``(log_z, std_err, method)``; ``std_err`` is 0 for exact enumeration.
        """
        check_is_fitted(self)
        method = check_option("method", method, ("auto", "exact", "ais"))
        n_runs, n_betas = check_int("n_runs", n_runs, 2), check_int("n_betas", n_betas, 2)
        W, a, b = self.components_, self.intercept_visible_, self.intercept_hidden_
        method = resolve_partition_method(method, W.shape[1], W.shape[0], self._kind)
        seed = self._setting("random_state") if random_state is None else random_state
        cache = self.__dict__.setdefault("_partition_cache", {})
        model = (W, a, b, self._visible)
        return cached_log_partition(cache, model, method, n_runs, n_betas, seed, self.n_jobs)

    def score_samples(self, X):
        """Log-likelihood log p(v) of each row, in nats: -F(v) - log Z.

        log Z comes from :meth:`log_partition` with ``method="auto"`` (exact when the smaller
        binary layer has at most 20 units, AIS otherwise); it is deterministic for a fixed
        ``random_state`` and cached. For Gaussian visible units this is a log-density. AIS
        costs O(100 runs x 10 000 betas x n_components x n_features): about 2 s at 64 x 16 and
        80 s at 1024 x 256 on two cores. For a cheaper estimate with its standard error, use
        ``-self.free_energy(X) - self.log_partition("ais", n_betas=1000).log_z``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_likelihood : ndarray of float64, shape (n_samples,)
        """
        return -self.free_energy(X) - self.log_partition().log_z

    def score(self, X, y=None):
        """Mean log-likelihood of X in nats (higher is better; used by GridSearchCV).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
