"""Grid searches under joblib, Dask and Ray give the serial results; Numba threads stay bounded.

Every estimator runs with ``n_jobs=-1``, so each worker uses all the Numba threads it may
(``NUMBA_NUM_THREADS``) and the results must still equal the serial run's, where the same
``-1`` means every core. The Dask and Ray workers get ``NUMBA_NUM_THREADS=1`` the way
``docs/install.rst`` recommends; the thread probes check that the limit is seen and respected.
Ray and Dask are optional (``pip install "dask[distributed]" ray``); their tests skip without them.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_config
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skqg import MongeAmpereTransport, RBMCoarseGrainer, WishartCovarianceModel

_rng = np.random.RandomState(0)
# name: (estimator, grid, X). Small, but big enough that the transport's entropic kernels and
# the RBM's exact partition function take their parallel (prange) paths.
CASES = {
    "RBMCoarseGrainer": (
        RBMCoarseGrainer(n_components=4, n_iter=3, random_state=0, n_jobs=-1),
        {"learning_rate": [0.01, 0.1]},
        (_rng.rand(120, 16) < 0.3).astype(float),
    ),
    "WishartCovarianceModel": (
        WishartCovarianceModel(n_jobs=-1),
        {"shrinkage": ["evidence", 0.1]},
        _rng.randn(120, 6),
    ),
    "MongeAmpereTransport": (
        MongeAmpereTransport(random_state=0, n_jobs=-1),
        {"epsilon": [0.5, 1.0]},
        _rng.randn(300, 2),
    ),
}
NAMES = list(CASES)
# Workers' results may differ from the serial run's by BLAS rounding only.
RTOL = 1e-10


def _search(name, n_jobs=None):
    estimator, grid, X = CASES[name]
    return GridSearchCV(clone(estimator), grid, cv=2, n_jobs=n_jobs).fit(X)


@pytest.fixture(scope="module")
def serial():
    """The reference: each search run in this process, one job."""
    return {name: _search(name) for name in NAMES}


def _assert_same_as_serial(search, reference):
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"], rtol=RTOL
    )
    assert search.best_params_ == reference.best_params_
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def _thread_probe():
    """A function (pickled by value, so workers need not import this test module) that fits an
    estimator with ``n_jobs=-1`` and reports the Numba thread limits seen inside the worker."""

    def probe(seed):
        import os

        import numba
        import numpy as np

        from skqg import MongeAmpereTransport
        from skqg._parallel import numba_threads

        X = np.random.RandomState(seed).randn(300, 2)
        # Must not raise: -1 and 64 are clipped to the worker's NUMBA_NUM_THREADS.
        MongeAmpereTransport(random_state=seed, n_jobs=-1).fit(X)
        MongeAmpereTransport(random_state=seed, n_jobs=64).fit(X)
        with numba_threads(-1) as granted:
            inside = numba.get_num_threads()
        return {
            "pid": os.getpid(),
            "env": os.environ.get("NUMBA_NUM_THREADS"),
            "ceiling": numba.config.NUMBA_NUM_THREADS,
            "granted": granted,
            "inside": inside,
            "layer": numba.threading_layer(),
        }

    return probe


def _assert_bounded(reports, env):
    for report in reports:
        assert report["env"] == env, report
        assert report["ceiling"] == int(env), report
        assert report["granted"] == report["inside"] == report["ceiling"], report


# joblib: loky (processes) and threading ------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_joblib_backend_equals_serial(backend, name, serial):
    with parallel_config(backend=backend):
        search = _search(name, n_jobs=2)
    _assert_same_as_serial(search, serial[name])


def test_loky_workers_respect_their_numba_thread_limit():
    """loky sets NUMBA_NUM_THREADS = cores // n_jobs in its workers; n_jobs=-1 stays within it."""
    n_jobs = 2
    expected = str(max(1, os.cpu_count() // n_jobs))
    reports = Parallel(n_jobs=n_jobs, backend="loky")(
        delayed(_thread_probe())(seed) for seed in range(4)
    )
    assert all(report["pid"] != os.getpid() for report in reports)
    _assert_bounded(reports, expected)


_CONCURRENT_SCRIPT = textwrap.dedent(
    """
    import numba
    import numpy as np
    from joblib import Parallel, delayed

    from skqg import MongeAmpereTransport, RBMCoarseGrainer

    rng = np.random.RandomState(0)
    X = rng.randn(300, 2)
    V = (rng.rand(120, 16) < 0.3).astype(float)


    def job(seed):
        transport = MongeAmpereTransport(random_state=seed, n_jobs=-1).fit(X)
        rbm = RBMCoarseGrainer(n_components=4, n_iter=2, random_state=seed, n_jobs=-1).fit(V)
        return transport.score(X) + rbm.score(V)


    threaded = Parallel(n_jobs=4, backend="threading")(delayed(job)(s) for s in range(8))
    assert threaded == [job(s) for s in range(8)], threaded
    print(numba.threading_layer())
    """
)


def test_parallel_kernels_called_from_many_threads_do_not_abort():
    """Parallel kernels launched from four threads at once: no SIGABRT, results unchanged.

    Once under Numba's default choice of threading layer (``tbb``, else ``omp``, else
    ``workqueue``) and once forcing ``workqueue``, which aborts the process on concurrent launches
    unless skqg serialises its kernels (skqg._parallel.numba_threads). Each runs in a subprocess
    (the layer is fixed per process, and an abort must not take pytest down); both run at once.
    """
    layers = ["default", "workqueue"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT_SCRIPT],
            env={**os.environ, "NUMBA_THREADING_LAYER": layer},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for layer in layers
    ]
    used = {}
    for layer, process in zip(layers, processes, strict=True):
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, (layer, process.returncode, stderr[-2000:])
        used[layer] = stdout.split()[-1]
    assert used["workqueue"] == "workqueue"
    assert used["default"] in ("tbb", "omp", "workqueue")


# Dask ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    # Two worker processes with one thread each; NUMBA_NUM_THREADS must be in the environment
    # before a worker starts (Numba reads it at import), which the nanny's env does.
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1"},
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("name", NAMES)
def test_dask_backend_equals_serial(name, serial, dask_client):
    with parallel_config(backend="dask"):
        search = _search(name, n_jobs=-1)
    _assert_same_as_serial(search, serial[name])


def test_dask_workers_respect_their_numba_thread_limit(dask_client):
    """Two probes pinned to each of the two workers: each runs in its worker's own process."""
    dask_client.wait_for_workers(2, timeout=120)
    worker_pids = dask_client.run(os.getpid)  # {worker address: pid of its process}
    assert len(set(worker_pids.values())) == 2, worker_pids
    assert os.getpid() not in worker_pids.values()
    probe = _thread_probe()
    placed = [(address, seed) for address in worker_pids for seed in range(2)]
    futures = [
        dask_client.submit(probe, seed, workers=[address], allow_other_workers=False, pure=False)
        for address, seed in placed
    ]
    reports = dask_client.gather(futures)
    for (address, _), report in zip(placed, reports, strict=True):
        assert report["pid"] == worker_pids[address], (address, report, worker_pids)
    _assert_bounded(reports, "1")


# Ray -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install ray)")
    from ray.util.joblib import register_ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        # Ray's workers take NUMBA_NUM_THREADS from the job's runtime environment.
        runtime_env={"env_vars": {"NUMBA_NUM_THREADS": "1"}},
    )
    register_ray()
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_ray_backend_equals_serial(name, serial, ray_session):
    with parallel_config(backend="ray"):
        search = _search(name, n_jobs=2)
    _assert_same_as_serial(search, serial[name])


@pytest.mark.slow
def test_ray_workers_respect_their_numba_thread_limit(ray_session):
    remote_probe = ray_session.remote(_thread_probe())
    reports = ray_session.get([remote_probe.remote(seed) for seed in range(4)])
    assert all(report["pid"] != os.getpid() for report in reports)
    _assert_bounded(reports, "1")
