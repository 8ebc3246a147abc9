import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pytest

from skqg._parallel import chunk_seeds, max_numba_threads, numba_threads, resolve_n_threads


def test_resolve_n_threads_follows_joblib_conventions():
    ceiling = max_numba_threads()
    assert resolve_n_threads(None) == numba.get_num_threads()
    assert resolve_n_threads(1) == 1
    assert resolve_n_threads(-1) == ceiling
    assert resolve_n_threads(-ceiling - 5) == 1
    assert resolve_n_threads(10 * ceiling) == ceiling
    assert resolve_n_threads(np.int64(1)) == 1


@pytest.mark.parametrize("bad", [0, 1.5, "2", True])
def test_resolve_n_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero integer"):
        resolve_n_threads(bad)


def test_numba_threads_sets_and_restores():
    before = numba.get_num_threads()
    with numba_threads(1) as n:
        assert n == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_numba_threads_restores_after_an_exception():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError), numba_threads(1):
        raise RuntimeError("boom")
    assert numba.get_num_threads() == before


def test_numba_threads_never_exceeds_the_ceiling():
    with numba_threads(1000) as n:
        assert n == max_numba_threads()
        assert numba.get_num_threads() == max_numba_threads()


def test_numba_threads_is_thread_local():
    before = numba.get_num_threads()

    def work(_):
        with numba_threads(1):
            return numba.get_num_threads()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(work, range(8))) == [1] * 8
    assert numba.get_num_threads() == before


def test_numba_threads_inside_a_constrained_worker():
    """As in a loky worker (NUMBA_NUM_THREADS lowered), a larger request is clipped, not raised."""
    code = textwrap.dedent(
        """
        import numba
        from skqg._parallel import numba_threads
        with numba_threads(8) as n:
            assert n == 1 and numba.get_num_threads() == 1
        with numba_threads(-1) as n:
            assert n == 1
        print("ok")
        """
    )
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_chunk_seeds_are_reproducible_and_in_range():
    a = chunk_seeds(0, 1000)
    b = chunk_seeds(np.random.RandomState(0), 1000)
    assert a.dtype == np.int64 and a.shape == (1000,)
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() < 2**63 - 1
    assert len(np.unique(a)) == 1000
    assert not np.array_equal(chunk_seeds(1, 1000), a)


def test_chunk_seeds_advance_a_shared_generator():
    rng = np.random.RandomState(0)
    first, second = chunk_seeds(rng, 4), chunk_seeds(rng, 4)
    assert not np.array_equal(first, second)
