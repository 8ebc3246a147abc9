"""Small helpers shared by the estimators: scalar checks, Numba thread control and seeding."""

import math
import threading
from contextlib import contextmanager
from numbers import Integral, Real

import numba
import numpy as np
from sklearn.utils import check_random_state

# Seeds for the kernels' explicit generators (skqg/_kernels/random.py): any non-negative int64.
_SEED_BOUND = 2**63 - 1


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


def check_finite_real(name, value):
    """Return ``value`` as a float, or raise a ValueError if it is not a finite real number.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        Must be a real number (not a bool), finite.

    Returns
    -------
    float
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    return float(value)


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


_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


@contextmanager
def input_attributes_restored_on_error(estimator):
    """Put ``n_features_in_`` and ``feature_names_in_`` back if the block raises.

    ``validate_data(reset=True)`` overwrites them before a ``fit`` can fail, so without this a
    failed ``fit`` would leave a previously fitted estimator inconsistent with its own state.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator being fitted.

    Yields
    ------
    None
    """
    previous = {k: v for k, v in vars(estimator).items() if k in _INPUT_ATTRIBUTES}
    try:
        yield
    except Exception:
        for key in _INPUT_ATTRIBUTES:
            if key in previous:
                setattr(estimator, key, previous[key])
            elif hasattr(estimator, key):
                delattr(estimator, key)
        raise


def max_numba_threads():
    """Return the hard ceiling on Numba threads in this process.

    ``numba.set_num_threads`` raises above ``NUMBA_NUM_THREADS``, which joblib's loky workers
    lower to ``cpus // n_jobs``; every request is clipped to this value.

    Returns
    -------
    int
        ``numba.config.NUMBA_NUM_THREADS``.
    """
    return int(numba.config.NUMBA_NUM_THREADS)


def resolve_n_threads(n_jobs):
    """Translate a scikit-learn style ``n_jobs`` into a Numba thread count.

    Parameters
    ----------
    n_jobs : int or None
        ``None`` keeps the calling thread's current Numba setting (the environment's choice);
        a positive value asks for that many threads; ``-1`` means all allowed threads and
        ``-k`` all but ``k - 1``, as in joblib. Requests are clipped to
        ``[1, NUMBA_NUM_THREADS]``, so they never raise inside a constrained worker.

    Returns
    -------
    int
        The thread count to use.
    """
    ceiling = max_numba_threads()
    if n_jobs is None:
        return min(int(numba.get_num_threads()), ceiling)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        raise ValueError(
            f"n_jobs must be None or a non-zero integer (-1 for all threads), got {n_jobs!r}."
        )
    requested = int(n_jobs) if n_jobs > 0 else ceiling + 1 + int(n_jobs)
    return max(1, min(requested, ceiling))


@contextmanager
def numba_threads(n_jobs):
    """Run a block with a given number of Numba threads, then restore the previous setting.

    Numba's thread count is thread-local, so this is safe under joblib's threading backend.
    Under Numba's ``workqueue`` threading layer (the fallback when neither TBB nor OpenMP can be
    loaded), parallel kernels launched from two threads at once abort the process (SIGABRT), so
    there blocks from different threads run one at a time.

    Parameters
    ----------
    n_jobs : int or None
        See :func:`resolve_n_threads`.

    Yields
    ------
    int
        The number of threads in effect inside the block.
    """
    # get_num_threads starts Numba's threading layer, so the layer is known from here on.
    previous = numba.get_num_threads()
    with _serialised_if_workqueue():
        n_threads = resolve_n_threads(n_jobs)
        numba.set_num_threads(n_threads)
        try:
            yield n_threads
        finally:
            numba.set_num_threads(previous)


# Serialises numba_threads blocks across threads under Numba's ``workqueue`` threading layer,
# which is not thread-safe. Re-entrant: blocks nest within one thread.
_WORKQUEUE_LOCK = threading.RLock()


@contextmanager
def _serialised_if_workqueue():
    """Hold a process-wide lock if Numba's threading layer is ``workqueue``.

    ``omp`` and ``tbb`` accept concurrent launches, so no lock is taken under them. Parallel
    kernels launched outside :func:`numba_threads` are not covered.
    """
    if numba.threading_layer() == "workqueue":
        with _WORKQUEUE_LOCK:
            yield
    else:
        yield


def chunk_seeds(random_state, n_chunks):
    """Draw one seed per chunk of parallel work from ``random_state``.

    A ``prange`` body whose chunk seeds its own generator from ``seeds[chunk]`` (see
    :mod:`skqg._kernels.random`) gives results that depend on ``random_state`` only, not on the
    number of threads.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        The source of randomness (as in scikit-learn).
    n_chunks : int
        Number of seeds to draw.

    Returns
    -------
    ndarray of int64, shape (n_chunks,)
        Seeds in ``[0, 2**63 - 1)``.
    """
    rng = check_random_state(random_state)
    return rng.randint(0, _SEED_BOUND, size=n_chunks, dtype=np.int64)


# Rows per batch in the estimators' row-wise methods: bounds their temporaries (hidden fields,
# Jacobian stacks) whatever the number of rows, at a size where BLAS still runs at full speed.
BATCH_ROWS = 4096


def row_batches(n_rows, batch_rows=None):
    """Slices that cover ``range(n_rows)`` in batches of ``batch_rows`` to ``2 * batch_rows`` rows.

    ``batch_rows`` defaults to ``BATCH_ROWS``. One batch when ``n_rows < 2 * batch_rows``; no
    batch is smaller than ``batch_rows`` (unless it is the only one), so no tail batch of a few
    rows falls to a slower BLAS path. Batched and
    unbatched results agree to rounding: BLAS results for a row already depend (by an ulp or so)
    on its position among the rows of one call.
    """
    # Read at call time, so tests can shrink the batches.
    batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
    bounds = np.linspace(0, n_rows, max(1, n_rows // batch_rows) + 1).astype(np.intp).tolist()
    return [slice(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
