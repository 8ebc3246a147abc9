"""Input validation in one place: scalars, arrays, stacks of SPD matrices, estimator state.

Public functions and estimators call these helpers and never re-implement a check; each raises a
``ValueError`` that names the argument, says what is wrong and how to fix it.
"""

import copy
import math
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from skqg import _spd

# --- scalars and options ---------------------------------------------------------------------


def check_int(name, value, minimum):
    """Return ``value`` as an int, or raise a ValueError naming ``name`` and the bound.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        Must be an integer (not a bool) and at least ``minimum``.
    minimum : int
        The smallest allowed value.

    Returns
    -------
    int
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_real(name, value, *, positive=False):
    """Return ``value`` as a float, or raise a ValueError if it is not a finite real number.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        Must be a real number (not a bool), finite, and ``> 0`` if ``positive``.
    positive : bool, default=False
        Whether zero and negative values are refused.

    Returns
    -------
    float
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    return value


def check_option(name, value, choices):
    """Return ``value`` if it is one of ``choices``, or raise a ValueError listing them.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        The value given.
    choices : tuple of str
        The allowed values.

    Returns
    -------
    str
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}.")
    return value


def check_auto_or_int(name, value, minimum):
    """``"auto"``, or ``value`` as an integer of at least ``minimum``."""
    return value if isinstance(value, str) and value == "auto" else check_int(name, value, minimum)


def check_df(df, p, *, allow_singular=False):
    """Validate the degrees of freedom of a ``p x p`` Wishart.

    Parameters
    ----------
    df : float
        The degrees of freedom.
    p : int
        The matrix size.
    allow_singular : bool, default=False
        Accept an integer ``df`` in ``[1, p - 1]`` (the singular Wishart).

    Returns
    -------
    df : float
    singular : bool
        Whether ``df`` is a singular Wishart's.
    """
    df = check_real("df", df)
    if df > p - 1:
        return df, False
    if allow_singular and df >= 1 and df == int(df):
        return df, True
    if allow_singular:
        raise ValueError(
            f"df must be > p - 1 = {p - 1} or an integer in [1, {p - 1}] (the singular Wishart "
            f"of rank df), got df={df!r} for {p}x{p} matrices."
        )
    raise ValueError(
        f"df must be > p - 1 = {p - 1} for {p}x{p} matrices, got df={df!r}. For integer "
        f"df < p the Wishart distribution is singular (its matrices have rank df) and has no "
        "density on the cone of positive-definite matrices."
    )


def check_coupling(coupling, *, nonzero=False):
    """The Ising coupling ``J`` as a finite float (nonzero when asked)."""
    coupling = check_real("coupling", coupling)
    if nonzero and coupling == 0:
        raise ValueError(
            "coupling must be nonzero: with J = 0 the energy is 0 at every temperature, so it "
            "carries no information about the temperature."
        )
    return coupling


# --- arrays ----------------------------------------------------------------------------------


def check_finite_entries(
    X,
    name,
    owner,
    *,
    unit="row",
    advice="impute or drop missing entries (e.g. sklearn.impute.SimpleImputer) first.",
):
    """Refuse NaN and infinity in an array, saying which comes first and where.

    Parameters
    ----------
    X : ndarray
        The array; its first axis indexes the ``unit`` (rows, or matrices of a stack).
    name : str
        The argument's name, for the message.
    owner : str
        Who needs finite values (the estimator's name), for the message.
    unit : str, default="row"
        What the first axis holds, for the message.
    advice : str
        What the caller can do, the message's last sentence.

    Raises
    ------
    ValueError
        If ``X`` has a NaN or an infinite entry.
    """
    finite = np.isfinite(X)
    if not finite.all():
        first = int(np.flatnonzero(~finite.reshape(len(X), -1).all(axis=1))[0])
        kind = "NaN" if np.isnan(X).any() else "infinity"
        raise ValueError(
            f"{name} contains {kind} (first in {unit} {first}). {owner} needs finite values: "
            f"{advice}"
        )


def check_dense_2d(X, name):
    """Dense, finite, 2-D numeric array (sparse input raises sklearn's TypeError)."""
    return check_array(X, accept_sparse=False, dtype="numeric", input_name=name)


def check_real_points(x, name):
    """``x`` as a float64 array of real numbers without NaN (infinities allowed)."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}.")
    x = x.astype(np.float64)
    if np.isnan(x).any():
        raise ValueError(f"{name} contains NaN.")
    return x


def check_positive_values(name, values, note=""):
    """Float64 array of a real, finite, positive scalar or array."""
    array = np.asarray(values)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be real numbers, got {values!r}.")
    array = array.astype(np.float64)
    bad = array[~(np.isfinite(array) & (array > 0))]
    if bad.size:
        raise ValueError(f"{name} must be finite and > 0{note}, got {float(bad[0])}.")
    return array


def check_weights(weights, n):
    """Weights of ``n`` items, normalised to sum to 1 (uniform when ``None``), or a ValueError."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights)
    if w.dtype.kind not in "biuf" or w.shape != (n,):
        raise ValueError(
            f"weights must be a 1-D array of {n} non-negative numbers, one per matrix; got an "
            f"array of shape {w.shape} and dtype {w.dtype}."
        )
    w = w.astype(np.float64)
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            "weights must be finite and non-negative with a positive sum; got min "
            f"{w.min():.3g}, sum {w.sum():.3g}."
        )
    return w / w.sum()


def check_temperatures(temperature):
    """Temperatures as a 1-D float64 array of finite positive values, or a ValueError."""
    shape = np.shape(temperature)
    if len(shape) > 1 or np.size(temperature) == 0:
        raise ValueError(
            "temperature must be a positive number or a non-empty 1-D list of positive "
            f"numbers, got an array of shape {shape}."
        )
    values = check_positive_values(
        "temperature",
        temperature,
        note=" (in units of J/k_B; T = 0 is the ground state and is not sampled)",
    )
    return np.atleast_1d(values)


def check_spin_dtype(dtype, spins):
    """A NumPy dtype that can hold the Ising values: -1 and +1 (``spins``) or 0 and 1."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be a NumPy numeric dtype, got {dtype!r}.") from error
    allowed = "if" if spins else "iuf"  # -1 does not fit an unsigned type
    if dtype.kind not in allowed:
        kinds = "a signed integer or floating" if spins else "an integer or floating"
        raise ValueError(f"dtype must be {kinds} dtype with spins={spins}, got {dtype}.")
    return dtype


def check_lattice_shape(lattice_shape, n_sites, array_name, minimum_side=1):
    """Return ``(rows, cols)`` after checking it is a 2-D shape with ``n_sites`` sites."""
    try:
        shape = tuple(lattice_shape)
    except TypeError:
        shape = ()
    if len(shape) != 2:
        raise ValueError(
            f"lattice_shape must be a pair (rows, columns) for a 2-D lattice, e.g. (8, 8); "
            f"got {lattice_shape!r}."
        )
    for side in shape:
        if isinstance(side, bool) or not isinstance(side, Integral) or side < minimum_side:
            raise ValueError(
                f"lattice_shape must hold integers >= {minimum_side}, got {lattice_shape!r}."
            )
    rows, cols = (int(side) for side in shape)
    if rows * cols != n_sites:
        raise ValueError(
            f"{array_name} has {n_sites} columns but lattice_shape {(rows, cols)} has "
            f"{rows * cols} sites; each row must hold one configuration in row-major order."
        )
    return rows, cols


# --- matrices and stacks of matrices ---------------------------------------------------------


def as_float_stack(X, name):
    """Return ``X`` as a C-contiguous float64 stack ``(n, p, p)`` of finite square matrices.

    Parameters
    ----------
    X : array-like of shape (n, p, p) or (p, p)
        The matrices; a single matrix becomes a stack of one.
    name : str
        The argument's name, for messages.

    Returns
    -------
    stack : ndarray of shape (n, p, p), float64
    single : bool
        Whether ``X`` was a single matrix.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold real numbers, got dtype {X.dtype}. Convert it to float first."
        )
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be a matrix (p, p) or a stack of matrices (n, p, p), got an array "
            f"of shape {X.shape}."
        )
    single = X.ndim == 2
    stack = X[np.newaxis] if single else X
    if stack.shape[-1] != stack.shape[-2] or stack.shape[-1] == 0:
        raise ValueError(f"{name} must hold non-empty square matrices, got shape {X.shape}.")
    if stack.shape[0] == 0:
        raise ValueError(f"{name} is an empty stack (shape {X.shape}); pass at least one matrix.")
    stack = np.ascontiguousarray(stack, dtype=np.float64)
    if not np.isfinite(stack).all():
        bad = int(np.flatnonzero(~np.isfinite(stack).reshape(len(stack), -1).all(axis=1))[0])
        raise ValueError(
            f"{name} contains NaN or infinity (first in matrix {bad}); covariance matrices must "
            "be finite."
        )
    return stack, single


def symmetrised(stack, name, dtype=np.float64):
    """Check that each matrix is symmetric up to rounding and return the exact symmetric part.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p), float64
        The matrices.
    name : str
        The argument's name, for messages.
    dtype : dtype, default=float64
        The input's original precision, which sets the rounding tolerance.

    Returns
    -------
    ndarray of shape (n, p, p)
        ``(S + S.T) / 2``.
    """
    symmetric, asymmetry, scale = _spd.symmetric_parts(stack)
    tolerance = 1e3 * np.finfo(np.dtype(dtype) if np.dtype(dtype).kind == "f" else float).eps
    bad = asymmetry > tolerance * scale
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must hold symmetric matrices; matrix {first} has max |S - S.T| = "
            f"{asymmetry[first]:.3g} ({asymmetry[first] / scale[first]:.3g} relative, "
            f"{int(bad.sum())} of {len(stack)} matrices are not symmetric)."
        )
    return symmetric


def check_symmetric_stack(X, name):
    """A finite stack of symmetric matrices (tangent vectors), float64."""
    dtype = np.asarray(X).dtype
    stack, single = as_float_stack(X, name)
    return symmetrised(stack, name, dtype), single


def describe_singular(stack, singular, name, eps=None):
    """Say which matrices are not positive definite, with rank and smallest eigenvalue.

    Parameters
    ----------
    stack : ndarray of shape (n, p, p)
        The matrices.
    singular : ndarray of shape (n,), bool
        Which ones failed.
    name : str
        The argument's name.
    eps : float, default=None
        Relative precision of the matrices (:func:`skqg._spd.rounding_eps`); float64's by default.

    Returns
    -------
    str
    """
    index = np.flatnonzero(singular)
    with _spd.one_blas_thread():
        eigenvalues = np.linalg.eigvalsh(stack[index])
    eps = np.finfo(np.float64).eps if eps is None else eps
    ranks = _spd.numerical_rank(eigenvalues, eps)
    tolerance = np.abs(eigenvalues).max(axis=-1) * eigenvalues.shape[-1] * eps
    n_negative = int((eigenvalues[0] < -tolerance[0]).sum())
    first = int(index[0])
    p = stack.shape[1]
    where = f"{name}[{first}]" if len(stack) > 1 else name
    negative = f", {n_negative} negative eigenvalue{'s' * (n_negative != 1)}" if n_negative else ""
    message = (
        f"{where} is not positive definite: rank {int(ranks[0])} of {p}{negative}, smallest "
        f"eigenvalue {eigenvalues[0, 0]:.3g} (largest {eigenvalues[0, -1]:.3g})"
    )
    if len(stack) == 1:
        return message + "."
    return (
        f"{message}; {len(index)} of {len(stack)} matrices are singular or indefinite (lowest "
        f"rank {int(ranks.min())})."
    )


# Pivots below this fraction of the largest diagonal entry get their numerical rank checked.
_DOUBTFUL_PIVOT = 1e-8


def check_spd(X, name="X", *, allow_singular=False, hint=""):
    """Validate a stack of symmetric positive-definite matrices and factor it.

    Parameters
    ----------
    X : array-like of shape (n, p, p) or (p, p)
        The matrices.
    name : str, default="X"
        The argument's name, for messages.
    allow_singular : bool, default=False
        Return singular or indefinite matrices flagged in ``singular`` instead of raising.
    hint : str, default=""
        What the caller can do about a matrix that is not positive definite, appended to the
        error message.

    Returns
    -------
    checked : skqg._spd.SPDStack
        The symmetrised float64 stack, its Cholesky factors and log-determinants.
    single : bool
        Whether ``X`` was a single matrix.

    Raises
    ------
    ValueError
        If ``X`` is not a finite stack of symmetric matrices, or (unless ``allow_singular``) a
        matrix is not numerically positive definite; the message gives its rank and smallest
        eigenvalue.
    """
    dtype = np.asarray(X).dtype
    stack, single = as_float_stack(X, name)
    stack = symmetrised(stack, name, dtype)
    factors, pivots, logdets = _spd.cholesky(stack)
    p = stack.shape[1]
    diagonal_scale = np.abs(np.diagonal(stack, axis1=1, axis2=2)).max(axis=1)
    # A pivot at rounding level means a numerically singular matrix even if it is positive.
    eps = _spd.rounding_eps(dtype)
    singular = ~(pivots > 10 * p * eps * diagonal_scale)
    # A rank-deficient matrix's last pivot can come out well above rounding level (Cholesky
    # "succeeds" with eigenvalues of 1e-16 relative, whose logarithm is then NaN): small
    # pivots are settled by the eigenvalues, as numpy.linalg.matrix_rank would.
    doubtful = np.flatnonzero(~singular & (pivots <= _DOUBTFUL_PIVOT * diagonal_scale))
    if len(doubtful):
        with _spd.one_blas_thread():
            eigenvalues = np.linalg.eigvalsh(stack[doubtful])
        singular[doubtful] = _spd.numerical_rank(eigenvalues, eps) < p
    if singular.any() and not allow_singular:
        message = describe_singular(stack, singular, name, eps)
        raise ValueError(f"{message} {hint}".strip())
    logdets = np.where(singular, -np.inf, logdets)
    return _spd.SPDStack(stack, factors, logdets, singular), single


def check_single_spd(scale, p, name):
    """A single SPD ``(p, p)`` matrix (``p=None``: any size); return its SPDStack."""
    checked, single = check_spd(scale, name)
    if not single:
        raise ValueError(
            f"{name} must be a single (p, p) matrix, got an array of shape {np.shape(scale)}."
        )
    if p is not None and checked.matrices.shape[1] != p:
        q = checked.matrices.shape[1]
        raise ValueError(
            f"{name} is {q}x{q} but X holds {p}x{p} matrices; they must have the same size."
        )
    return checked


def check_covariance_matrix(matrix, name, n_features):
    """Return ``matrix`` as a float64 ``(n_features, n_features)`` covariance, or raise.

    Parameters
    ----------
    matrix : array-like
        Must be a real, finite, symmetric positive semi-definite matrix (up to rounding) of
        shape ``(n_features, n_features)``, with a positive trace.
    name : str
        The argument's name, for the messages.
    n_features : int
        The expected size.

    Returns
    -------
    ndarray of shape (n_features, n_features), float64

    Raises
    ------
    ValueError
        Naming what is wrong: dtype, shape, NaN or infinity, asymmetry, a negative eigenvalue,
        or a zero trace.
    """
    array = np.asarray(matrix)
    # Shape first, so a wrong-sized matrix is named as such; then the shared dtype, finiteness
    # and symmetry checks of skqg._spd.
    if array.shape != (n_features, n_features):
        if array.dtype.kind not in "biuf":
            as_float_stack(array, name)  # raises the dtype message
        raise ValueError(
            f"{name} must be a covariance matrix of shape ({n_features}, {n_features}) "
            f"(n_features={n_features}), got an array of shape {array.shape}."
        )
    stack, _ = as_float_stack(array, name)
    array = symmetrised(stack, name, array.dtype)[0]
    eps = np.finfo(np.float64).eps
    eigenvalues = np.linalg.eigvalsh(array)
    if eigenvalues[0] < -100 * n_features * eps * max(abs(eigenvalues[0]), eigenvalues[-1]):
        raise ValueError(
            f"{name} is not positive semi-definite (smallest eigenvalue {eigenvalues[0]:.3g}, "
            f"largest {eigenvalues[-1]:.3g}); pass a covariance matrix."
        )
    if not np.trace(array) > 0:
        raise ValueError(f"{name} is zero: a covariance matrix needs a positive trace.")
    return array


def check_df_estimable(matrices, spread_needed=True):
    """Refuse a stack whose maximum-likelihood df does not exist: one matrix, or (when the mean
    is estimated too) all matrices equal."""
    n = len(matrices)
    if n < 2:
        raise ValueError(
            f"X holds {n} matrix; estimating df needs at least 2 matrices (or pass df)."
        )
    if spread_needed and np.all(matrices == matrices[0]):
        raise ValueError(
            f"All {n} matrices in X are equal, so the maximum-likelihood df is infinite (no "
            "spread around the mean); pass df explicitly."
        )


# --- the domains of the RBM's units ----------------------------------------------------------


def check_visible_values(X, visible):
    """Refuse visible data outside the domain of the RBM's ``visible`` unit kind.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Validated visible data.
    visible : {"bernoulli", "spin", "gaussian"}
        The unit kind: [0, 1], {-1, +1}, or any real value.

    Raises
    ------
    ValueError
        Naming the values found and how to map the data into the domain.
    """
    values = X.data if sp.issparse(X) else X
    if visible == "bernoulli" and values.size:
        low, high = values.min(), values.max()
        if low < 0 or high > 1:
            raise ValueError(
                "visible='bernoulli' takes values in [0, 1] (binary data, or probabilities "
                f"as mean-field input); X has values in [{low:g}, {high:g}]. Rescale it "
                "(e.g. a threshold, or MinMaxScaler(clip=True): without clip=True a "
                "scaler fitted on training data maps new data outside [0, 1]) or use "
                "visible='gaussian'."
            )
    elif visible == "spin":
        if sp.issparse(X) and X.nnz < X.shape[0] * X.shape[1]:
            raise ValueError(
                "visible='spin' takes Ising spins in {-1, +1}; the sparse X has implicit "
                "zeros. Pass a dense array of spins (e.g. 2 * X - 1 for {0, 1} data)."
            )
        bad = (values != 1) & (values != -1)
        if np.any(bad):
            raise ValueError(
                "visible='spin' takes Ising spins in {-1, +1}; X has "
                f"{int(np.count_nonzero(bad))} other values (e.g. {values[bad][0]:g}). "
                "Map {0, 1} data with 2 * X - 1, or use visible='bernoulli'."
            )


def check_hidden_values(H, n_hidden, owner):
    """Return ``H`` if it has ``n_hidden`` columns of Bernoulli states or probabilities.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_columns)
        Validated hidden states.
    n_hidden : int
        The model's number of hidden units.
    owner : str
        The estimator's name, for the message.

    Returns
    -------
    ndarray
    """
    if H.shape[1] != n_hidden:
        raise ValueError(
            f"H has {H.shape[1]} columns, but {owner} has {n_hidden} hidden units (n_components)."
        )
    if H.size and (H.min() < 0 or H.max() > 1):
        raise ValueError(
            "Hidden units are Bernoulli: H must hold values in [0, 1] (states or "
            f"probabilities); it has values in [{H.min():g}, {H.max():g}]."
        )
    return H


# --- estimator state -------------------------------------------------------------------------


@contextmanager
def state_restored_on_error(estimator, *, deep=False):
    """Put every attribute of ``estimator`` back as it was if the block raises (or is
    interrupted).

    ``validate_data(reset=True)`` overwrites ``n_features_in_`` and ``feature_names_in_``
    before a ``fit`` can fail; without this a failed ``fit`` would leave a previously fitted
    estimator inconsistent with its own state.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator being fitted.
    deep : bool, default=False
        Copy the attributes' values too: needed when the block updates fitted arrays in place
        (``partial_fit``); a ``fit`` that builds new arrays only needs the references.

    Yields
    ------
    None
    """
    saved = dict(vars(estimator))
    if deep:
        saved = copy.deepcopy(saved)
    try:
        yield
    except BaseException:
        state = vars(estimator)
        state.clear()
        state.update(saved)
        raise


def overflow_limit(n_terms):
    """The largest magnitude whose squares, summed ``n_terms`` at a time, stay below float64's
    maximum with a factor 16 to spare: ``sqrt(1.8e308 / (16 n_terms))`` (about 1e153 for 100
    terms)."""
    return float(np.sqrt(np.finfo(np.float64).max / (16.0 * max(n_terms, 1))))


# Below this magnitude squares fall under float64's smallest normal number (2.2e-308) and
# lose their precision: a covariance of such data is rounding noise.
UNDERFLOW_LIMIT = 16.0 * float(np.sqrt(np.finfo(np.float64).tiny))


def check_magnitude(X, name, estimator_name, n_terms, *, squares_needed=False):
    """Refuse finite entries so large that the estimator's sums of squares would overflow
    (or, with ``squares_needed``, so small that they would underflow).

    Parameters
    ----------
    X : ndarray or sparse matrix
        Finite values (checked before).
    name : str
        The argument's name, for the message.
    estimator_name : str
        Who refuses, for the message.
    n_terms : int
        How many squares the estimator sums at most (``n_samples * n_features`` for a
        covariance, ``n_features`` for a per-row quadratic form).
    squares_needed : bool, default=False
        The estimator estimates second moments: refuse nonzero data whose largest magnitude is
        below ``UNDERFLOW_LIMIT`` (about 2e-153) too.

    Raises
    ------
    ValueError
        Naming the largest magnitude found and the limit, and suggesting a rescaling.
    """
    values = X.data if sp.issparse(X) else np.asarray(X)
    if values.size == 0:
        return
    largest = float(max(values.max(), -values.min()))  # no |X| temporary on large inputs
    limit = overflow_limit(n_terms)
    if largest > limit:
        raise ValueError(
            f"{name} has entries of magnitude up to {largest:.3g}; {estimator_name} sums "
            f"squares of the data (covariances, quadratic forms), which overflow float64 "
            f"beyond {limit:.3g} at this size. Rescale {name} (e.g. with "
            "sklearn.preprocessing.StandardScaler), or check it for corrupted values."
        )
    if squares_needed and 0.0 < largest < UNDERFLOW_LIMIT:
        raise ValueError(
            f"{name} has entries of magnitude at most {largest:.3g}; {estimator_name} "
            f"estimates second moments, whose squares underflow float64 below "
            f"{UNDERFLOW_LIMIT:.3g}. Rescale {name} (e.g. with "
            "sklearn.preprocessing.StandardScaler)."
        )


def check_reach(X, centre, limit, name, estimator_name):
    """Refuse rows farther than ``limit`` (per coordinate) from a fitted ``centre``.

    For maps fitted to data: ``limit`` is where their quadratic terms would overflow, in the
    data's own units (:func:`overflow_limit` divided by the map's gain).

    Raises
    ------
    ValueError
        Naming the farthest coordinate and suggesting a rescaling.
    """
    if X.shape[0] == 0:
        return
    reach = float(np.max(np.abs(X - centre)))
    if reach > limit:
        raise ValueError(
            f"{name} has a coordinate {reach:.3g} away from the training data's centre; "
            f"{estimator_name}'s quadratic terms overflow float64 beyond {limit:.3g} there. "
            "Rescale it as the training data were (e.g. "
            "with the same sklearn.preprocessing.StandardScaler), or check it for corrupted "
            "values."
        )
