"""Log-domain Sinkhorn between two point clouds, online (no ``n x m`` array), with ε-scaling.

The iteration (:func:`solve`) sees the source points only through a *source side*: an object
that holds the rows and their potential ``f`` and answers two questions per iteration, the
column log-sum-exps of ``f`` (``column_lse``) and the update of ``f`` against a new target
potential, returning the rows' marginal error (``update``). :class:`SourceSide` holds the rows
in memory; ``skqg.transport._distributed`` holds them as the chunks of a dask array on the
workers, with the same iteration and so the same potentials.

Large problems are solved coarse to fine (:func:`sinkhorn_potentials`): first on strided
subsamples of the rows, each rung's target potential and over-relaxation factor starting the
next, so the full problem starts close to its solution at a known convergence rate.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skqg._kernels import entropic_map
from skqg._spd import one_blas_thread

# The dense Gibbs kernel exp(-C / eps) is used when it fits in this many entries (256 MB) and
# no entry underflows (max cost / eps below DENSE_MAX_EXPONENT): each iteration is then two
# matrix-vector products instead of n * m exponentials.
DENSE_MAX_ENTRIES = 1 << 25
DENSE_MAX_EXPONENT = 300.0
# In single precision (see single_precision) the kernel is stored in float32 when no entry
# falls below exp(-80), above float32's smallest normal number (exp(-87.3)).
DENSE_MAX_EXPONENT_SINGLE = 80.0
# Coarse-to-fine: each rung keeps every LADDER_STEP-th row of the next, while it keeps at least
# as many rows as there are reference points.
LADDER_STEP = 16
# A rung is solved to this L1 marginal error at most: the next, finer rung starts from an error
# set by the subsampling (a few percent), not by the rung's own convergence.
RUNG_TOL = 1e-3
# From this tolerance up, the dense kernel may be stored in float32.
SINGLE_MIN_TOL = 1e-5
# Iterations allowed at each annealing stage above the final epsilon.
STAGE_BUDGET = 20
# Over-relaxation: errors observed before the rate is read (plain steps, relaxed steps), the
# slowdown against the predicted rate omega - 1 that raises omega, and its ceiling.
PLAIN_PROBE = 8
RELAXED_PROBE = 6
SLOW_FACTOR = 1.15
OMEGA_MAX = 1.9


class _OnlineLSE:
    """Log-sum-exps of the Sinkhorn updates, recomputing every exponential (O(n + m) memory).

    ``shift`` is a guess of the result (the previous iterate), which saves the kernels a pass;
    ``single`` computes the exponentials in float32 (see ``entropic_map.log_sum_exp``).
    """

    def __init__(self, X, Y, eps, single=False):
        self.X, self.Y, self.inv, self.single = X, Y, 1.0 / eps, single

    def rows(self, h, shift=None):
        """``LSE_j((h_j + 2 <x_i, y_j>) / eps)`` for every ``i``."""
        return entropic_map.log_sum_exp(self.X, self.Y, h, self.inv, shift, self.single)

    def cols(self, f, shift=None):
        """``LSE_i((f_i + 2 <x_i, y_j>) / eps)`` for every ``j``."""
        return entropic_map.log_sum_exp(self.Y, self.X, f, self.inv, shift, self.single)


class _DenseLSE:
    """The same log-sum-exps through the stored Gibbs kernel ``K = exp(-C / eps)``.

    ``LSE_j((h_j + 2 <x_i, y_j>) / eps) = |x_i|^2 / eps + c + log (K v)_i`` with
    ``v_j = exp((h_j + |y_j|^2) / eps - c)`` and ``c`` the largest exponent. Every ``K_ij`` is at
    least ``exp(-DENSE_MAX_EXPONENT)`` and the largest ``v_j`` is 1, so no sum underflows, and
    terms dropped by underflow in ``v`` are below the rounding of the largest one. With
    ``single`` the kernel is stored in float32 (half the memory traffic; every entry at least
    ``exp(-DENSE_MAX_EXPONENT_SINGLE)``, a normal float32) and the products accumulate in
    float64, in a fixed order on every thread.
    """

    def __init__(self, X, Y, eps, single=False):
        self.inv = 1.0 / eps
        self.single = single
        self.xx = np.einsum("ij,ij->i", X, X) * self.inv
        self.yy = np.einsum("ij,ij->i", Y, Y) * self.inv
        self.K = np.empty((len(X), len(Y)), dtype=np.float32 if single else np.float64)
        self.max_exponent = entropic_map.gibbs_kernel(X, Y, self.inv, self.K)

    def _lse(self, z, offset, transpose):
        top = np.max(z)
        weights = np.exp(z - top)
        if self.single:
            total = entropic_map.kernel_times(self.K, weights, transpose)
        else:
            # One BLAS thread: the products then sum in a fixed order whatever the machine.
            with one_blas_thread():
                total = (self.K.T if transpose else self.K) @ weights
        return offset + top + np.log(total)

    def rows(self, h, shift=None):
        return self._lse(h * self.inv + self.yy, self.xx, False)

    def cols(self, f, shift=None):
        return self._lse(f * self.inv + self.xx, self.yy, True)


def _log_sum_exps(X, Y, eps, single=False):
    """The dense kernel when it fits and cannot underflow, else the online kernels."""
    reach = np.sqrt(np.max(np.einsum("ij,ij->i", X, X))) + np.sqrt(
        np.max(np.einsum("ij,ij->i", Y, Y))
    )
    if len(X) * len(Y) <= DENSE_MAX_ENTRIES and reach**2 / eps <= DENSE_MAX_EXPONENT:
        if single:
            # The bound (|x| + |y|)^2 is loose: the float32 kernel reports the true largest
            # exponent, and is kept if it is in range.
            dense = _DenseLSE(X, Y, eps, single=True)
            if dense.max_exponent <= DENSE_MAX_EXPONENT_SINGLE:
                return dense
            del dense
        return _DenseLSE(X, Y, eps)
    # The online kernels stay in float64: their exponentials are shifted by the previous
    # iterate, so in float32 a rounding-level change of that iterate (as when a dask fit sums
    # its chunks) can flip a rounding and move the potentials by about 1e-9; the stored float32
    # kernel above does not depend on the iterate.
    return _OnlineLSE(X, Y, eps)


class SourceSide:
    """The source points and their potential ``f`` (inner-product form), in memory.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
        Source points (all of them, or one chunk of a distributed source).
    Y : ndarray of shape (m, d), float64, C-contiguous
        Target points.
    single : bool, default=False
        Store the dense Gibbs kernel in float32 when it fits (see :func:`single_precision`).
    """

    def __init__(self, X, Y, single=False):
        self.X, self.Y, self.single = X, Y, single
        self.f = None
        self.eps = None
        self._lse = None

    @property
    def n_rows(self):
        """Number of source points held."""
        return self.X.shape[0]

    def squared_norm_sum(self):
        """``sum_i |x_i|^2``."""
        return float(np.einsum("ij,ij->", self.X, self.X))

    def set_epsilon(self, eps):
        """Move to regularisation ``eps`` (``f`` is kept)."""
        self.eps = float(eps)
        self._lse = _log_sum_exps(self.X, self.Y, self.eps, self.single)

    def start(self, h):
        """Initial ``f``: ``-|x|^2`` (``f_i = 0``) without ``h``, else the c-transform of ``h``."""
        if h is None:
            self.f = -np.einsum("ij,ij->i", self.X, self.X)
        else:
            self.f = -self.eps * self._lse.rows(h)

    def column_lse(self, shift=None):
        """``LSE_i((f_i + 2 <x_i, y_j>) / eps)`` over the rows held, for every ``j``."""
        return self._lse.cols(self.f, shift)

    def update(self, h, omega):
        """Replace ``f`` by its (over-relaxed) c-transform against ``h``.

        Returns the sum over the rows held of ``|a_i^-1 marginal_i - 1|`` under ``(f, h)``
        before the update: the source marginal of row ``i`` is ``a_i exp((f - f_new) / eps)``.
        """
        f_new = -self.eps * self._lse.rows(h, -self.f / self.eps)
        error = float(np.sum(np.abs(np.expm1((self.f - f_new) / self.eps))))
        self.f = f_new if omega == 1.0 else self.f + omega * (f_new - self.f)
        return error


def sinkhorn_potentials(X, Y, epsilon, *, tol, max_iter, g_init=None, callback=None):
    """Entropic OT potentials for uniform weights and the squared Euclidean cost.

    Solves ``min <P, C> - epsilon * H(P)`` over couplings of the uniform measures on the rows of
    ``X`` and ``Y`` with ``C_ij = |x_i - y_j|^2`` (POT's convention for ``reg``), by alternating
    log-sum-exp updates of the dual potentials, over-relaxed once the convergence rate is known.
    Without a starting potential and at tiny ``epsilon`` (below 1 % of the mean cost) the
    regularisation is annealed geometrically from ``8 * epsilon`` (ε-scaling). Without a
    starting potential and with ``n >= LADDER_STEP * m``, the problem is first solved on strided
    subsamples of the rows (coarse to fine, see :func:`ladder`). For ``tol >= SINGLE_MIN_TOL``
    the dense kernel may be stored in float32 (:func:`single_precision`).

    The coupling depends on the data only through ``<x, y> / epsilon``, so the problem is solved
    in units where ``X`` has the reference's spread (:func:`common_unit`, a power of two: the
    rescaling is exact) and the potentials are scaled back. Data scaled by ``2^k`` then give the
    same map bit for bit, and the iteration never mixes the data's units with the reference's.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
        Source points (centred by the caller to limit cancellation).
    Y : ndarray of shape (m, d), float64, C-contiguous
        Target points.
    epsilon : float
        Regularisation.
    tol : float
        Stop when the L1 violation of the source marginal falls below ``tol``.
    max_iter : int
        Iterations allowed at the final ``epsilon`` (the annealing stages have their own small
        budget).
    g_init : ndarray of shape (m,) or None
        A starting target potential in inner-product form (``g_j - |y_j|^2``), for warm
        starts (e.g. along a path of ``epsilon``); the iteration then runs at ``epsilon`` only.
    callback : callable or None
        Called as ``callback(stage_epsilon, iteration, error)`` after every iteration of the
        full problem.

    Returns
    -------
    f : ndarray of shape (n,)
        Source potential in inner-product form, ``f_i - |x_i|^2``.
    h : ndarray of shape (m,)
        Target potential in inner-product form with the log-weights absorbed,
        ``g_j - |y_j|^2 + epsilon * log(1 / m)``: the logits of the entropic map at ``x`` are
        ``(h_j + 2 <x, y_j>) / epsilon``.
    n_iter : int
        Iterations run at the final ``epsilon`` on the full problem.
    error : float
        Final L1 marginal violation.
    """
    unit = common_unit(float(np.einsum("ij,ij->", X, X)) / max(len(X), 1), Y)
    if unit != 1.0:
        X = np.ascontiguousarray(X / unit)
        g_init = None if g_init is None else g_init / unit
    f, h, n_iter, error = _potentials_in_units(
        X, Y, epsilon / unit, tol, max_iter, g_init, in_data_units(callback, unit)
    )
    return f * unit, h * unit, n_iter, error


def common_unit(x_square_mean, Y):
    """The power of two ``c`` for which ``mean |x / c|^2`` is closest to ``mean |y|^2``.

    Parameters
    ----------
    x_square_mean : float
        ``mean |x|^2`` of the (centred) source points.
    Y : ndarray of shape (m, d)

    Returns
    -------
    float
        1.0 when either mean is zero or not finite.
    """
    y_square_mean = float(np.mean(np.einsum("ij,ij->i", Y, Y))) if len(Y) else 0.0
    if not (0.0 < x_square_mean < np.inf and 0.0 < y_square_mean < np.inf):
        return 1.0
    return float(np.ldexp(1.0, round(0.5 * np.log2(x_square_mean / y_square_mean))))


def in_data_units(callback, unit):
    """``callback`` reporting the stage's ``epsilon`` in the data's units."""
    if callback is None or unit == 1.0:
        return callback
    return lambda eps, iteration, error: callback(eps * unit, iteration, error)


def _potentials_in_units(X, Y, epsilon, tol, max_iter, g_init, callback):
    """:func:`sinkhorn_potentials` once ``X`` is in the reference's units."""
    g, omega = g_init, 1.0
    single = single_precision(tol)
    if g_init is None:
        for stride in ladder(X.shape[0], Y.shape[0]):
            rung = SourceSide(np.ascontiguousarray(X[::stride]), Y, single)
            g, _, _, omega = solve(
                rung, Y, epsilon, tol=max(tol, RUNG_TOL), max_iter=max_iter, g_init=g, omega=omega
            )
    source = SourceSide(X, Y, single)
    g, n_iter, error, _ = solve(
        source, Y, epsilon, tol=tol, max_iter=max_iter, g_init=g, omega=omega, callback=callback
    )
    return source.f, g + epsilon * -np.log(Y.shape[0]), n_iter, error


def check_potentials(potential, error, epsilon, tol, max_iter):
    """Refuse non-finite potentials; warn (ConvergenceWarning) when Sinkhorn stopped above tol.

    Parameters
    ----------
    potential : ndarray
    error : float
        The final L1 marginal violation.
    epsilon, tol : float
    max_iter : int
    """
    if not np.all(np.isfinite(potential)):
        raise ValueError(
            f"Sinkhorn broke down at epsilon={epsilon:.3g} (non-finite potentials); use a "
            "larger epsilon."
        )
    if error > tol:
        warnings.warn(
            f"Sinkhorn did not converge in max_iter={max_iter} iterations at "
            f"epsilon={epsilon:.3g} (marginal error {error:.2e} > tol={tol:g}). "
            "Increase max_iter, or use a larger epsilon, which converges faster.",
            ConvergenceWarning,
            stacklevel=6,
        )


def single_precision(tol):
    """Whether the dense Gibbs kernel may be stored in float32 at this ``tol``.

    Its log-sum-exps are then exact to about 1e-7 (products accumulate in float64), which puts
    a floor of about 1e-7 under the measured marginal error: well below any
    ``tol >= SINGLE_MIN_TOL``, and far below the error of the potentials at that ``tol``.

    Parameters
    ----------
    tol : float

    Returns
    -------
    bool
    """
    return tol >= SINGLE_MIN_TOL


def ladder(n_rows, n_reference):
    """Strides of the coarse-to-fine subsamples, coarsest first (empty for small problems).

    Each rung keeps every ``LADDER_STEP``-th row of the next finer one and at least
    ``n_reference`` rows: fewer source points than reference points would not pin down the
    target potential the next rung starts from.

    Parameters
    ----------
    n_rows, n_reference : int

    Returns
    -------
    list of int
    """
    strides = []
    stride = LADDER_STEP
    while n_rows // stride >= n_reference:
        strides.insert(0, stride)
        stride *= LADDER_STEP
    return strides


def solve(source, Y, epsilon, *, tol, max_iter, g_init=None, omega=1.0, callback=None):
    """The Sinkhorn iteration on a source side (in memory or distributed).

    Parameters
    ----------
    source : SourceSide or a distributed equivalent
        Anything with ``n_rows``, ``squared_norm_sum()``, ``set_epsilon(eps)``, ``start(h)``,
        ``column_lse(shift)`` and ``update(h, omega)`` as :class:`SourceSide` has them.
    Y : ndarray of shape (m, d)
        Target points.
    epsilon, tol, max_iter, g_init, callback
        As in :func:`sinkhorn_potentials`.
    omega : float, default=1.0
        Over-relaxation factor to start the final ``epsilon`` with (from a coarser rung).

    Returns
    -------
    g : ndarray of shape (m,)
        Target potential in inner-product form (``g_j - |y_j|^2``), without the log-weights.
    n_iter : int
        Iterations at the final ``epsilon``.
    error : float
        Final L1 marginal violation.
    omega : float
        The over-relaxation factor in use at the end.
    """
    m = Y.shape[0]
    log_a, log_b = -np.log(source.n_rows), -np.log(m)
    if g_init is None:
        mean_cost = source.squared_norm_sum() / source.n_rows + float(
            np.mean(np.einsum("ij,ij->i", Y, Y))
        )
        stages = annealing_stages(epsilon, mean_cost)
    else:
        stages = [epsilon]
    g = g_init
    n_iter, error = 0, np.inf
    for stage, eps in enumerate(stages):
        final = stage == len(stages) - 1
        source.set_epsilon(eps)
        if stage == 0:
            source.start(None if g is None else g + eps * log_b)
        g, n_iter, error, stage_omega = _iterate(
            source,
            (log_a, log_b, eps),
            g,
            omega if final else 1.0,
            (max_iter if final else STAGE_BUDGET, tol if final else max(tol, 1e-2)),
            callback,
        )
    return g, n_iter, error, stage_omega


def annealing_stages(epsilon, mean_cost):
    """The ε-scaling schedule: ``8, 4, 2`` times ``epsilon`` then ``epsilon``, or ``epsilon``.

    Annealing pays only at tiny ``epsilon`` (below 1 % of the mean cost of centred clouds, mean
    ``|x|^2`` + mean ``|y|^2``): at moderate ``epsilon`` the over-relaxed iterations converge as
    fast from a cold start, and each annealing stage is a full pass over the ``n x m`` costs.

    Parameters
    ----------
    epsilon, mean_cost : float

    Returns
    -------
    list of float
    """
    stages = []
    if epsilon < 0.01 * mean_cost:
        stage_eps = 8.0 * epsilon
        while stage_eps > epsilon * 1.5:
            stages.append(stage_eps)
            stage_eps *= 0.5
    stages.append(epsilon)
    return stages


def _iterate(source, logs, g, omega, limits, callback):
    """Iterations at one ``eps`` until the error is below ``target`` or ``budget`` is spent."""
    log_a, log_b, eps = logs
    budget, target = limits
    errors = []
    n_iter, error = 0, np.inf
    for n_iter in range(1, budget + 1):
        # The previous g guesses the column log-sum-exps, the previous f the row ones.
        shift = None if g is None else -g / eps - log_a
        g_new = -eps * (log_a + source.column_lse(shift))
        g = g_new if g is None or omega == 1.0 else g + omega * (g_new - g)
        error = source.update(g + eps * log_b, omega) / source.n_rows
        if callback is not None:
            callback(eps, n_iter, error)
        if not np.isfinite(error) or error < target:
            break
        errors.append(error)
        previous = omega
        omega = _relaxation(errors, omega)
        if omega != previous:
            errors = []
    return g, n_iter, error, omega


def _relaxation(errors, omega):
    """Over-relaxation factor from the observed linear convergence rate (Thibault et al. 2017).

    ``errors`` are the errors since ``omega`` was last changed. Plain Sinkhorn converges
    linearly at a rate ``r = lambda^2`` per iteration; the over-relaxed iteration with
    ``omega = 2 / (1 + sqrt(1 - r))`` converges at about ``omega - 1``, much faster when ``r``
    is close to 1 (small ``epsilon``). The rate is read off plain iterations once the initial
    transient has passed. A relaxed iteration that converges more slowly than ``omega - 1``
    (``omega`` below the optimum, e.g. one carried over from a coarser problem) shows its rate
    ``rho``, from which ``lambda = (rho + omega - 1) / (omega sqrt(rho))`` and a larger
    ``omega`` follow. If the relaxed error climbs well above its best value the iteration falls
    back to plain steps and measures again.
    """
    if omega != 1.0 and errors and errors[-1] > 2.0 * min(errors):
        return 1.0
    if len(errors) < (RELAXED_PROBE if omega != 1.0 else PLAIN_PROBE):
        return omega
    rho = (errors[-1] / errors[-5]) ** 0.25
    if not 0.0 < rho < 1.0:
        return omega
    if omega == 1.0:
        lam_sq = rho
    elif rho > SLOW_FACTOR * (omega - 1.0):
        lam_sq = ((rho + omega - 1.0) / (omega * np.sqrt(rho))) ** 2
    else:
        return omega
    better = min(OMEGA_MAX, 2.0 / (1.0 + np.sqrt(max(1.0 - lam_sq, 0.0))))
    return better if better > omega + 0.01 else omega
