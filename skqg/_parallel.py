"""Numba thread control and per-chunk seeding, shared by every estimator and kernel driver."""

import os
import threading
from contextlib import contextmanager
from numbers import Integral

import numba
import numpy as np
from sklearn.utils import check_random_state

# Seeds for the kernels' explicit generators (skqg._kernels.random_streams): any non-negative
# int64.
SEED_BOUND = 2**63 - 1


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


# The process in which Numba's OpenMP layer started; a fork inherits it, so a different pid
# here means a forked child, where GNU OpenMP would print "Terminating: fork() called from a
# process already using GNU OpenMP" and kill the worker (a fork-based pool then hangs).
_OPENMP_PID = None


def _refuse_forked_openmp():
    """Raise a clear error in a process forked after OpenMP started, instead of a hang."""
    global _OPENMP_PID
    if _OPENMP_PID is None:
        if numba.threading_layer() == "omp":
            _OPENMP_PID = os.getpid()
        return
    if _OPENMP_PID != os.getpid():
        raise RuntimeError(
            "This process was forked from one in which skqg's OpenMP threads had started; "
            "GNU OpenMP cannot run in such a child (it would abort the worker and the pool "
            "would hang). Start worker processes with the 'spawn' or 'forkserver' method "
            "(multiprocessing.get_context('spawn'), or joblib's default loky backend), or "
            "set NUMBA_THREADING_LAYER=tbb."
        )


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
    _refuse_forked_openmp()
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
    :mod:`skqg._kernels.random_streams`) gives results that depend on ``random_state`` only,
    not on the number of threads.

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
    return rng.randint(0, SEED_BOUND, size=n_chunks, dtype=np.int64)
