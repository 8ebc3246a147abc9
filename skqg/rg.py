"""Renormalisation-group tools: block spins, receptive fields, RBM flows and an Ising thermometer.

A restricted Boltzmann machine trained on Ising configurations is often read as a learned
coarse-graining. This module holds what is needed to compare it with the classical one and to
measure what it does:

- :func:`block_spin` is Kadanoff's block-spin transformation (majority rule, decimation or
  block average) of configurations on a periodic 2-D lattice;
- :func:`receptive_field_spread` measures how local each hidden unit's weights are on the
  lattice, in lattice spacings;
- :func:`rbm_flow` iterates ``v -> h -> v'`` through a fitted RBM (Iso, Shiba & Yokoo 2018);
- :func:`ising_energy`, :func:`exact_ising_energy` and :func:`ising_temperature` form a
  thermometer: the energy per site of configurations, the exact mean energy of the finite
  periodic lattice (Kaufman 1949), and its inverse, which reads off the temperature at which
  that lattice has a given mean energy.

Lattices are 2-D and periodic; a configuration is one row of ``X``, its sites in row-major order
as produced by :func:`skqg.datasets.make_ising`.
"""

import math

import numpy as np
from scipy.optimize import brentq
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skqg import _ising
from skqg._kernels import gibbs_sampling
from skqg._validation import (
    check_coupling,
    check_dense_2d,
    check_int,
    check_lattice_shape,
    check_option,
    check_positive_values,
)

__all__ = [
    "block_spin",
    "exact_ising_energy",
    "ising_energy",
    "ising_temperature",
    "rbm_flow",
    "receptive_field_spread",
]

_BLOCK_RULES = ("majority", "decimation", "mean")

#: Mean resultant length below which the circular mean of a receptive field along an axis is
#: undefined (uniform weights, two antipodal peaks, ...).
_UNDEFINED_DIRECTION = 1e-9


# --- validation helpers --------------------------------------------------------------------


def _spin_alphabet(X):
    """True if ``X`` holds spins {-1, +1}, False if bits {0, 1}; ValueError otherwise."""
    is_plus = X == 1
    if np.all(is_plus | (X == -1)):
        return True
    if np.all(is_plus | (X == 0)):
        return False
    values = np.unique(X)
    outside = values[~np.isin(values, (-1, 0, 1))]
    found = (
        f"a value {outside[0].item()!r} outside both"
        if outside.size
        else "both -1 and 0, which mixes the two"
    )
    raise ValueError(
        "block_spin takes configurations in one alphabet, spins {-1, +1} or bits {0, 1}, but X "
        f"contains {found}. Binarise real-valued data first, e.g. np.where(X > 0, 1, -1)."
    )


def _exact_coupling(coupling, size):
    """|J| for Kaufman's solution, after checking the sign is allowed for this size."""
    coupling = check_coupling(coupling, nonzero=True)
    if coupling < 0 and size % 2:
        raise ValueError(
            f"coupling={coupling} describes an antiferromagnet, which is frustrated on a "
            f"periodic lattice of odd size {size}; the exact solution covers J > 0 at any size "
            "and J < 0 at even sizes only."
        )
    # On a bipartite torus (even size) flipping one sublattice maps J to -J: same energies.
    return abs(coupling)


# --- block spins ---------------------------------------------------------------------------


def block_spin(X, lattice_shape, b=2, rule="majority"):
    """Coarse-grain configurations by Kadanoff's block-spin transformation.

    The lattice is cut into ``b x b`` blocks, and each block becomes one site of a lattice
    ``b`` times smaller in each direction.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_sites)
        Configurations on a 2-D lattice, one per row, sites in row-major order (the layout of
        :func:`skqg.datasets.make_ising`). Either spins with all values in {-1, +1} or bits
        with all values in {0, 1}; the output uses the same alphabet. Dense input only.
    lattice_shape : tuple of (int, int)
        ``(L0, L1)``, the number of rows and columns of the lattice; ``L0 * L1 == n_sites``.
    b : int, default=2
        Linear block size, ``b >= 1``; it must divide ``L0`` and ``L1``. ``b = 1`` returns the
        configurations unchanged (as with ``rule="mean"``, converted to float).
    rule : {"majority", "decimation", "mean"}, default="majority"
        ``"majority"``: the sign of the block's sum of spins (for bits, the majority bit). A
        tie, possible when ``b * b`` is even, is broken by the block's top-left spin, so the
        result is deterministic.
        ``"decimation"``: the block's top-left spin.
        ``"mean"``: the block average, a real number in [-1, 1] for spins or [0, 1] for bits.

    Returns
    -------
    X_coarse : ndarray of shape (n_samples, (L0 // b) * (L1 // b))
        The coarse configurations, row-major. Same dtype as ``X`` for ``"majority"`` and
        ``"decimation"``; floating point for ``"mean"`` (float64 unless ``X`` is float32).

    Raises
    ------
    ValueError
        If ``X`` is not finite, not 2-D or not in one of the two alphabets; if
        ``lattice_shape`` is not a 2-D shape matching ``n_sites``; if ``b`` is not a positive
        integer dividing both sides; or if ``rule`` is unknown.
    TypeError
        If ``X`` is a sparse matrix (convert it with ``X.toarray()``).

    See Also
    --------
    rbm_flow : The learned counterpart: a coarse-graining through a fitted RBM.

    References
    ----------
    .. [1] L. P. Kadanoff, "Scaling laws for Ising models near T_c", Physics 2, 263 (1966).

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.rg import block_spin
    >>> x = np.array([[ 1,  1, -1, -1],
    ...               [ 1, -1, -1,  1],
    ...               [-1, -1,  1, -1],
    ...               [ 1, -1,  1,  1]]).reshape(1, -1)
    >>> block_spin(x, (4, 4)).reshape(2, 2).tolist()
    [[1, -1], [-1, 1]]
    >>> block_spin(x, (4, 4), rule="decimation").reshape(2, 2).tolist()
    [[1, -1], [-1, 1]]
    >>> block_spin(x, (4, 4), rule="mean").reshape(2, 2).tolist()
    [[0.5, -0.5], [-0.5, 0.5]]
    >>> block_spin((x + 1) // 2, (4, 4)).reshape(2, 2).tolist()
    [[1, 0], [0, 1]]
    """
    X = check_dense_2d(X, "X")
    rows, cols = check_lattice_shape(lattice_shape, X.shape[1], "X")
    b = check_int("b", b, 1)
    if rows % b or cols % b:
        raise ValueError(
            f"The block size b={b} must divide both sides of the lattice {(rows, cols)}; "
            "choose a common divisor of the sides."
        )
    check_option("rule", rule, _BLOCK_RULES)
    spins = _spin_alphabet(X)
    n_samples = X.shape[0]
    block_shape = (n_samples, rows // b, b, cols // b, b)

    if rule == "mean":
        dtype = X.dtype if X.dtype.kind == "f" else np.float64
        averages = X.astype(dtype).reshape(block_shape).mean(axis=(2, 4))
        return averages.reshape(n_samples, -1)

    blocks = X.reshape(block_shape)
    top_left = blocks[:, :, 0, :, 0]
    if rule == "decimation":
        coarse = top_left
    else:
        signed = blocks.astype(np.int64) if spins else 2 * blocks.astype(np.int64) - 1
        total = signed.sum(axis=(2, 4))
        majority = total > 0
        if not spins:
            coarse = np.where(total == 0, top_left, majority)
        else:
            coarse = np.where(total == 0, top_left, np.where(majority, 1, -1))
    return np.ascontiguousarray(coarse, dtype=X.dtype).reshape(n_samples, -1)


# --- receptive fields ----------------------------------------------------------------------


def _second_moment_about(marginal, centres, period):
    """``sum_x p(x) d(x, c)^2`` with ``d`` the minimum-image displacement on a ring.

    ``marginal`` has shape (n, period), ``centres`` (n, n_centres); returns (n, n_centres).
    """
    positions = np.arange(period, dtype=np.float64)
    displacement = positions - centres[:, :, None] + period / 2.0
    displacement = np.mod(displacement, period) - period / 2.0
    return np.einsum("ncx,nx->nc", displacement**2, marginal)


def _axis_second_moment(marginal, period):
    """Mean squared displacement along one periodic axis about the circular mean.

    Where the circular mean is undefined, the centre minimising the moment over the
    half-integer positions is used instead.
    """
    angles = 2.0 * np.pi * np.arange(period) / period
    resultant = marginal @ np.exp(1j * angles)
    centre = np.mod(np.angle(resultant) * period / (2.0 * np.pi), period)
    moment = _second_moment_about(marginal, centre[:, None], period)[:, 0]
    undefined = np.abs(resultant) < _UNDEFINED_DIRECTION
    if np.any(undefined):
        candidates = np.arange(2 * period) / 2.0
        candidates = np.broadcast_to(candidates, (int(undefined.sum()), 2 * period))
        moment[undefined] = _second_moment_about(marginal[undefined], candidates, period).min(
            axis=1
        )
    return moment


def receptive_field_spread(components, lattice_shape):
    r"""Spatial extent of each hidden unit's weights on the periodic lattice.

    Each row :math:`W_{j\cdot}` of ``components`` is read as a distribution over the lattice
    sites with weights :math:`w_i = W_{ji}^2 / \sum_k W_{jk}^2`. Its centre :math:`c` is the
    weighted circular mean along each axis (site coordinate :math:`x` on a side of length
    :math:`L` is the angle :math:`2\pi x / L`), so it may fall between sites and is not
    biased by the lattice's wrap-around. The spread is the root-mean-square distance

    .. math:: \sigma_j = \sqrt{\sum_i w_i \, |d_i|^2},

    with :math:`d_i` the minimum-image displacement of site :math:`i` from :math:`c` (each
    component in :math:`[-L/2, L/2)`). It is invariant under translations of the lattice.

    Parameters
    ----------
    components : array-like of shape (n_components, n_sites)
        Weights, one row per hidden unit, sites in row-major order (e.g. an RBM's
        ``components_``). Finite, dense, and no row may be all zero.
    lattice_shape : tuple of (int, int)
        ``(L0, L1)``, the number of rows and columns; ``L0 * L1 == n_sites``.

    Returns
    -------
    spread : ndarray of shape (n_components,)
        The spread of each row in lattice spacings: 0 for a single site, about 0.71 for a
        2 x 2 block, :math:`\sqrt{(L_0^2 - 1)/12 + (L_1^2 - 1)/12}` (about ``0.41 L`` on an
        ``L x L`` lattice) for weights spread uniformly over the whole lattice.

    Raises
    ------
    ValueError
        If ``components`` is not finite or not 2-D, if a row is all zero, or if
        ``lattice_shape`` does not match ``n_sites``.

    Notes
    -----
    Along an axis where the weights have no preferred direction (mean resultant length below
    1e-9, as for uniform weights or two equal antipodal peaks) the circular mean is undefined;
    the centre along that axis is then the half-integer position that minimises the spread.
    For uniform weights this gives the variance of a discrete uniform distribution on ``L``
    sites, :math:`(L^2 - 1)/12` per axis.

    References
    ----------
    .. [1] K. V. Mardia and P. E. Jupp, "Directional Statistics", Wiley (2000), ch. 2: the
       circular mean.
    .. [2] S. Iso, S. Shiba and S. Yokoo, "Scale-invariant feature extraction of neural network
       and renormalization group flow", Phys. Rev. E 97, 053304 (2018), arXiv:1801.07172.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.rg import receptive_field_spread
    >>> local = np.zeros((8, 8))
    >>> local[7:, 7:] = local[:1, 7:] = local[7:, :1] = local[:1, :1] = 1.0  # corner, wrapped
    >>> spread = receptive_field_spread([local.ravel(), np.ones(64)], (8, 8))
    >>> spread.round(4).tolist()
    [0.7071, 3.2404]
    """
    W = check_dense_2d(components, "components").astype(np.float64, copy=False)
    rows, cols = check_lattice_shape(lattice_shape, W.shape[1], "components")
    weights = W**2
    totals = weights.sum(axis=1)
    empty = np.flatnonzero(totals == 0)
    if empty.size:
        raise ValueError(
            f"components row(s) {empty.tolist()} are all zero: a receptive field needs at "
            "least one nonzero weight. Drop those hidden units before measuring their spread."
        )
    grid = (weights / totals[:, None]).reshape(-1, rows, cols)
    moment = _axis_second_moment(grid.sum(axis=2), rows)
    moment += _axis_second_moment(grid.sum(axis=1), cols)
    return np.sqrt(moment)


# --- RBM flow ------------------------------------------------------------------------------


def rbm_flow(estimator, X, n_steps, *, mean_field=False, random_state=None):
    """Iterate configurations through a fitted RBM: the RBM flow ``v -> h -> v'``.

    Iso, Shiba and Yokoo observed that repeatedly reconstructing Ising configurations through
    an RBM trained on all temperatures drives them towards the critical temperature: the
    sequence of reconstructions is the RBM's renormalisation-group flow. Measure the
    temperature along it with :func:`ising_energy` and :func:`ising_temperature`.

    Parameters
    ----------
    estimator : fitted estimator
        An RBM such as :class:`skqg.RBMCoarseGrainer` with ``transform(X)`` (returning
        ``P(h = 1 | v)``), ``inverse_transform(H)`` (returning ``E[v | h]``) and
        ``gibbs(V, *, random_state=None)`` (returning visible samples after one
        ``v -> h -> v`` Gibbs step).
    X : array-like of shape (n_samples, n_features)
        The starting configurations (dense, finite).
    n_steps : int
        Number of steps, ``>= 0``.
    mean_field : bool, default=False
        If false, each step is a Gibbs step ``estimator.gibbs(V, random_state=rng)``. If true,
        each step is the deterministic mean-field reconstruction
        ``estimator.inverse_transform(estimator.transform(V))`` and ``random_state`` is unused.
        From the second step on, the states are conditional means (magnetisations in (-1, 1)
        for spins), which ``transform`` refuses as data; for RBMs (estimators with
        ``components_`` and ``intercept_hidden_``) the hidden means
        ``sigmoid(V @ components_.T + intercept_hidden_)`` are then computed directly.
    random_state : int, RandomState instance or None, default=None
        Seeds the Gibbs steps. One ``RandomState`` (from
        :func:`sklearn.utils.check_random_state`) is passed to every step, so an integer makes
        the whole flow reproducible.

    Returns
    -------
    flow : ndarray of shape (n_steps + 1, n_samples, n_features)
        ``flow[0]`` is ``X`` and ``flow[t]`` the configurations after ``t`` steps.

    Raises
    ------
    ValueError
        If ``n_steps`` is not a non-negative integer or ``X`` is not finite and 2-D.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    block_spin : The classical coarse-graining to compare with.

    References
    ----------
    .. [1] S. Iso, S. Shiba and S. Yokoo, "Scale-invariant feature extraction of neural network
       and renormalization group flow", Phys. Rev. E 97, 053304 (2018), arXiv:1801.07172.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg import RBMCoarseGrainer
    >>> from skqg.rg import rbm_flow
    >>> X = (np.random.RandomState(0).uniform(size=(50, 16)) < 0.5).astype(float)
    >>> rbm = RBMCoarseGrainer(n_components=4, n_iter=5, random_state=0).fit(X)
    >>> flow = rbm_flow(rbm, X, 3, random_state=0)
    >>> flow.shape
    (4, 50, 16)
    >>> bool(np.array_equal(flow[0], X))
    True
    >>> bool(np.array_equal(flow, rbm_flow(rbm, X, 3, random_state=0)))
    True
    """
    check_is_fitted(estimator)
    n_steps = check_int("n_steps", n_steps, 0)
    X = check_dense_2d(X, "X")
    rng = check_random_state(random_state)
    states = [X]
    visible = X
    for step in range(n_steps):
        if mean_field:
            hidden = (
                estimator.transform(visible)
                if step == 0
                else _mean_field_hidden(estimator, visible)
            )
            visible = estimator.inverse_transform(hidden)
        else:
            visible = estimator.gibbs(visible, random_state=rng)
        states.append(np.asarray(visible))
    return np.stack(states)


def _mean_field_hidden(estimator, visible):
    """P(h = 1 | v) for mean-field visible states, which may lie inside the unit domain.

    After the first step the visible states are conditional means (e.g. magnetisations in
    (-1, 1) for spins), which ``transform`` rightly refuses as data. For estimators with the
    RBM parameters of scikit-learn's BernoulliRBM the hidden means are computed directly.
    """
    if hasattr(estimator, "components_") and hasattr(estimator, "intercept_hidden_"):
        # The RBM's own conditional-mean kernel, on a field it cannot get through transform.
        field = np.ascontiguousarray(
            np.asarray(visible, dtype=np.float64) @ estimator.components_.T.astype(np.float64)
        )
        bias = np.ascontiguousarray(estimator.intercept_hidden_, dtype=np.float64)
        gibbs_sampling.mean_layer(field, bias, gibbs_sampling.KIND_BERNOULLI, field)
        return field
    return estimator.transform(visible)


# --- Ising thermometer ---------------------------------------------------------------------


def ising_energy(X, lattice_shape, coupling=1.0, *, binary=False):
    r"""Energy per site of configurations of the Ising model on a periodic 2-D lattice.

    .. math:: \frac{E}{N} = -\frac{J}{N} \sum_{\langle ij \rangle} s_i s_j,

    summed over nearest-neighbour bonds, each counted once: the bond to the right and the bond
    below each site, wrapping around the edges. On a side of length 2 the two bonds between
    the same pair of sites (one direct, one across the boundary) both count, as in
    :func:`skqg.datasets.make_ising` and in Kaufman's exact solution.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_sites)
        Configurations, one per row, sites in row-major order. With ``binary=False``, values in
        [-1, 1]: spins, or real-valued local magnetisations such as mean-field reconstructions.
        Dense input only.
    lattice_shape : tuple of (int, int)
        ``(L0, L1)``, both at least 2, with ``L0 * L1 == n_sites``.
    coupling : float, default=1.0
        The nearest-neighbour coupling ``J``.
    binary : bool, default=False
        If true, ``X`` holds bits or their means, values in [0, 1], mapped to spins by
        ``s = 2 x - 1`` (the ``spins=False`` output of :func:`skqg.datasets.make_ising`).

    Returns
    -------
    energy : ndarray of float64, shape (n_samples,)
        ``E / N`` of each row: ``-2 J`` for the fully aligned state.

    Raises
    ------
    ValueError
        If ``X`` is not finite or not 2-D, has values outside [-1, 1] (or [0, 1] with
        ``binary=True``), if ``lattice_shape`` does not match, or ``coupling`` is not finite.

    See Also
    --------
    ising_temperature : The temperature whose exact mean energy equals a given energy.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.rg import ising_energy
    >>> up = np.ones((1, 16))
    >>> checkerboard = np.where(np.indices((4, 4)).sum(axis=0) % 2, 1, -1).reshape(1, 16)
    >>> ising_energy(np.vstack([up, checkerboard]), (4, 4)).tolist()
    [-2.0, 2.0]
    >>> ising_energy((up + 1) / 2, (4, 4), binary=True).tolist()
    [-2.0]
    """
    X = check_dense_2d(X, "X")
    rows, cols = check_lattice_shape(lattice_shape, X.shape[1], "X", minimum_side=2)
    coupling = check_coupling(coupling)
    low = 0.0 if binary else -1.0
    if X.size and (X.min() < low or X.max() > 1.0):
        alphabet = "bits in [0, 1] (binary=True)" if binary else "spins in [-1, 1]"
        hint = (
            "; for +-1 spins use binary=False" if binary else "; for {0, 1} bits pass binary=True"
        )
        raise ValueError(f"X must hold {alphabet}, got values in [{X.min()}, {X.max()}]{hint}.")
    spins = X.astype(np.float64)
    if binary:
        spins = 2.0 * spins - 1.0
    grid = spins.reshape(-1, rows, cols)
    bonds = grid * np.roll(grid, -1, axis=2) + grid * np.roll(grid, -1, axis=1)
    return -coupling * bonds.sum(axis=(1, 2)) / (rows * cols)


def exact_ising_energy(temperature, size, coupling=1.0):
    r"""Exact mean energy per site of the Ising model on the periodic ``L x L`` lattice.

    Kaufman's solution of the finite torus, evaluated in log space with the analytic
    derivative :math:`E/N = -(J/N)\, \partial \ln Z / \partial K` at :math:`K = J / T`. It is
    the finite-size curve that samples of :func:`skqg.datasets.make_ising` follow, and tends
    to Onsager's infinite-lattice energy as ``L`` grows.

    Parameters
    ----------
    temperature : float or array-like of float
        Temperatures ``T > 0`` in units of ``J / k_B`` (any shape).
    size : int
        Linear size ``L >= 2`` of the lattice.
    coupling : float, default=1.0
        The coupling ``J``, nonzero. An antiferromagnet (``J < 0``) needs an even ``L``, where
        its energies are those of the ferromagnet with coupling ``|J|``.

    Returns
    -------
    energy : float or ndarray of float64
        ``<E> / N`` at each temperature; a float for a scalar ``temperature``, otherwise an
        array of its shape. Increases with ``T`` from ``-2 |J|`` (below ``T`` of about
        ``|J| / 300`` it equals ``-2 |J|`` to double precision).

    Raises
    ------
    ValueError
        If a temperature is not finite and positive, ``size < 2``, ``coupling`` is 0 or not
        finite, or ``coupling < 0`` with an odd ``size`` (frustrated).

    See Also
    --------
    ising_temperature : The inverse of this function.

    References
    ----------
    .. [1] B. Kaufman, "Crystal statistics. II. Partition function evaluated by spinor
       analysis", Phys. Rev. 76, 1232 (1949).
    .. [2] P. D. Beale, "Exact distribution of energies in the two-dimensional Ising model",
       Phys. Rev. Lett. 76, 78 (1996).

    Examples
    --------
    >>> from skqg.rg import exact_ising_energy
    >>> round(exact_ising_energy(2.0, 10), 5)
    -1.74543
    >>> exact_ising_energy([1.5, 3.5], 10).round(5).tolist()
    [-1.95112, -0.66114]
    """
    temperatures = check_positive_values("temperature", temperature)
    size = check_int("size", size, 2)
    coupling = _exact_coupling(coupling, size)
    energy = coupling * _ising.energy_per_site(size, coupling / temperatures)
    return float(energy) if energy.ndim == 0 else energy


def ising_temperature(energy_per_site, size, coupling=1.0, bounds=(0.05, 50.0)):
    """Temperature at which the periodic ``L x L`` Ising lattice has a given mean energy.

    Inverts :func:`exact_ising_energy`, which increases with the temperature, by Brent's
    method on ``bounds``. Applied to the mean energy of samples, it is a thermometer: for
    configurations along an RBM flow it says which temperature they look like.

    Parameters
    ----------
    energy_per_site : float or array-like of float
        Mean energies per site ``<E> / N`` (any shape), e.g. the mean of
        :func:`ising_energy` over samples.
    size : int
        Linear size ``L >= 2`` of the lattice.
    coupling : float, default=1.0
        The coupling ``J``, nonzero (``J < 0`` needs an even ``size``).
    bounds : tuple of (float, float), default=(0.05, 50.0)
        The temperature bracket ``(T_low, T_high)``, ``0 < T_low < T_high``.

    Returns
    -------
    temperature : float or ndarray of float64
        The temperatures, a float for a scalar input, otherwise an array of its shape.

    Raises
    ------
    ValueError
        If an energy is not finite or lies outside the range of the exact energy over
        ``bounds`` (no clipping: widen ``bounds``, or the energy is not an equilibrium one);
        or for the reasons :func:`exact_ising_energy` gives.

    See Also
    --------
    exact_ising_energy : The function inverted.
    ising_energy : The energy per site of configurations.

    Notes
    -----
    At low temperature the energy approaches ``-2 |J|`` exponentially fast (to double
    precision below about ``T = 0.1 |J|``), so such energies fix the temperature only to that
    accuracy: an energy equal to the curve's value at ``T_low`` to rounding, such as exactly
    ``-2 |J|`` from perfectly ordered samples, returns ``T_low``.

    Examples
    --------
    >>> from skqg.rg import exact_ising_energy, ising_temperature
    >>> round(ising_temperature(-1.74543, 10), 4)
    2.0
    >>> energies = exact_ising_energy([1.5, 2.269, 3.0], 16)
    >>> ising_temperature(energies, 16).round(8).tolist()
    [1.5, 2.269, 3.0]
    """
    size = check_int("size", size, 2)
    coupling = _exact_coupling(coupling, size)
    try:
        low, high = (float(bound) for bound in bounds)
    except (TypeError, ValueError) as error:
        raise ValueError(f"bounds must be a pair (T_low, T_high), got {bounds!r}.") from error
    if not (0 < low < high < math.inf):
        raise ValueError(f"bounds must satisfy 0 < T_low < T_high < inf, got {bounds!r}.")
    energies = np.asarray(energy_per_site)
    if energies.dtype.kind not in "iuf":
        raise ValueError(f"energy_per_site must be real numbers, got {energy_per_site!r}.")
    energies = energies.astype(np.float64)
    if not np.all(np.isfinite(energies)):
        raise ValueError("energy_per_site must be finite (it has NaN or infinite values).")

    def energy_at(temperature):
        return coupling * _ising.energy_per_site(size, coupling / temperature).item()

    e_low, e_high = energy_at(low), energy_at(high)
    # The curve is flat to rounding at low T (E = -2|J| to double precision below T ~ 0.1|J|):
    # an energy within rounding of an end value, such as -2|J| from perfectly ordered samples,
    # counts as that end value.
    slack = 16 * np.finfo(np.float64).eps * coupling
    outside = energies[(energies < e_low - slack) | (energies > e_high + slack)]
    if outside.size:
        raise ValueError(
            f"energy_per_site={float(outside[0])} is outside [{e_low:.6g}, {e_high:.6g}], the "
            f"exact energies of the {size} x {size} lattice for T in bounds={(low, high)}. "
            "Widen bounds if the temperature lies outside them; energies below -2|J| or at "
            "or above 0 are not reached at any temperature."
        )
    energies = np.clip(energies, e_low, e_high)  # moves values by rounding only
    temperatures = np.array(
        [
            brentq(lambda t, e=e: energy_at(t) - e, low, high, xtol=1e-13, rtol=1e-14)
            for e in energies.ravel()
        ]
    ).reshape(energies.shape)
    return float(temperatures) if temperatures.ndim == 0 else temperatures
