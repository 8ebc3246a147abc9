"""Big data: out-of-core evaluation over dask arrays, and bounded memory over 10**6 rows.

Every estimator's ``transform`` and ``score_samples`` work row by row, so a fitted estimator
evaluated block by block over a dask array (``dask_ml.wrappers.ParallelPostFit`` for
``transform``, ``dask.array.map_blocks`` for both) gives the numbers of one in-memory call, to
rounding: BLAS results for a row can differ by an ulp with the number of rows in the call.
The dask tests run dask's synchronous scheduler; the threaded one runs Numba's parallel kernels
from several threads at once, which needs a thread-safe threading layer (see
``docs/install.rst``).

Memory: each output method works through row batches (``skqg._batching.BATCH_ROWS``), so the
peak memory of a call over ``n`` rows is the output plus a bounded overhead, not ``n`` times
the number of hidden units or reference points. The 10**6-row measurement runs in subprocesses
(``tests/_memory_probe.py``) and is marked slow.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _helpers import random_binary, random_gram_stack, random_spins

import skqg
import skqg.rbm
import skqg.wishart
from skqg._batching import row_batches

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

PROBE = Path(__file__).with_name("_memory_probe.py")


def _case(name):
    """A fitted estimator, its output methods and fresh data of ``n`` rows."""
    rng = np.random.RandomState(0)
    if name == "rbm_bernoulli":
        est = skqg.RBMCoarseGrainer(8, n_iter=3, random_state=0).fit(
            random_binary(rng, (300, 12), p=0.3)
        )
        return est, ("transform", "score_samples"), lambda n: random_binary(rng, (n, 12), p=0.3)
    if name == "rbm_spin":
        est = skqg.RBMCoarseGrainer(8, visible="spin", n_iter=3, random_state=0)
        est.fit(random_spins(rng, (300, 12), p=0.3))
        return est, ("transform", "score_samples"), lambda n: random_spins(rng, (n, 12), p=0.3)
    if name == "rbm_gaussian":
        est = skqg.RBMCoarseGrainer(6, visible="gaussian", n_iter=3, random_state=0)
        est.fit(rng.standard_normal((300, 5)))
        return est, ("transform", "score_samples"), lambda n: rng.standard_normal((n, 5))
    if name == "wishart_2d":
        est = skqg.WishartCovarianceModel().fit(rng.standard_normal((200, 6)))
        return est, ("transform", "score_samples"), lambda n: rng.standard_normal((n, 6))
    if name == "wishart_2d_latent":
        est = skqg.WishartCovarianceModel(n_components=2).fit(rng.standard_normal((200, 6)))
        return est, ("transform", "score_samples"), lambda n: rng.standard_normal((n, 6))
    if name == "wishart_3d":
        est = skqg.WishartCovarianceModel().fit(random_gram_stack(rng, 100))
        return est, ("transform", "score_samples"), lambda n: random_gram_stack(rng, n)
    if name == "transport_normal":
        est = skqg.MongeAmpereTransport(reference="normal", n_reference=200, random_state=0)
        est.fit(rng.standard_normal((200, 2)))
        return est, ("transform", "score_samples"), lambda n: rng.standard_normal((n, 2))
    if name == "transport_array":
        reference = rng.uniform(size=(150, 2))
        est = skqg.MongeAmpereTransport(reference=reference, random_state=0)
        est.fit(rng.standard_normal((150, 2)))
        # An array reference has no density: transform only.
        return est, ("transform",), lambda n: rng.standard_normal((n, 2))
    raise KeyError(name)


CASES = [
    "rbm_bernoulli",
    "rbm_spin",
    "rbm_gaussian",
    "wishart_2d",
    "wishart_2d_latent",
    "wishart_3d",
    "transport_normal",
    "transport_array",
]


def _blockwise(est, method, X_dask):
    """``est.method`` block by block over the row chunks of ``X_dask``."""
    function = getattr(est, method)
    sample = function(np.asarray(X_dask[:2]))
    if sample.ndim == 1:
        drop = tuple(range(1, X_dask.ndim))
        return X_dask.map_blocks(function, drop_axis=drop, dtype=sample.dtype)
    if X_dask.ndim == 3:  # a stack of matrices -> one row of coordinates per matrix
        return X_dask.map_blocks(
            function, drop_axis=2, chunks=(X_dask.chunks[0], sample.shape[1]), dtype=sample.dtype
        )
    return X_dask.map_blocks(
        function, chunks=(X_dask.chunks[0], sample.shape[1]), dtype=sample.dtype
    )


def _assert_close(lazy, expected, input_dtype):
    """Equal to rounding at the precision of the computation (the input's dtype)."""
    assert lazy.shape == expected.shape and lazy.dtype == expected.dtype
    rtol = 1e-12 if input_dtype == np.float64 else 1e-5
    np.testing.assert_allclose(lazy, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_dask_map_blocks_matches_in_memory(name, dtype):
    est, methods, make = _case(name)
    X = make(1000).astype(dtype)
    X_dask = da.from_array(X, chunks=(333, *X.shape[1:]))  # uneven chunks on purpose
    with dask.config.set(scheduler="synchronous"):
        for method in methods:
            lazy = _blockwise(est, method, X_dask).compute()
            _assert_close(lazy, getattr(est, method)(X), X.dtype)


@pytest.mark.parametrize("name", [c for c in CASES if c != "wishart_3d"])
def test_dask_ml_parallel_post_fit_transform(name):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    est, _, make = _case(name)
    X = make(1000)
    # ParallelPostFit wraps the fitted estimator (no refit). Without transform_meta it infers
    # the output type by transforming a row of zeros, which visible='spin' rejects (not spins).
    meta = np.empty((0, est.transform(X[:1]).shape[1]), dtype=X.dtype)
    wrapped = wrappers.ParallelPostFit(est, transform_meta=meta)
    with dask.config.set(scheduler="synchronous"):
        lazy = wrapped.transform(da.from_array(X, chunks=(250, X.shape[1])))
        assert isinstance(lazy, da.Array)
        _assert_close(lazy.compute(), est.transform(X), X.dtype)


def test_row_batches_cover_the_rows_without_small_tails():
    for n_rows in (1, 5, 99, 100, 199, 200, 201, 1000, 12345):
        slices = row_batches(n_rows, 100)
        covered = np.concatenate([np.arange(n_rows)[rows] for rows in slices])
        np.testing.assert_array_equal(covered, np.arange(n_rows))
        sizes = [rows.stop - rows.start for rows in slices]
        assert max(sizes) < 200 or len(sizes) == 1
        assert min(sizes) >= 100 or len(sizes) == 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "name",
    ["rbm_bernoulli", "rbm_gaussian", "wishart_2d", "wishart_2d_latent", "transport_normal"],
)
def test_batched_evaluation_matches_one_batch(name, dtype, monkeypatch):
    """Small batches (many of them, uneven) give the numbers of one batch over all rows."""
    est, methods, make = _case(name)
    X = make(5003).astype(dtype)
    extra = {"rbm": ("free_energy",), "wishart": ("mahalanobis",), "transport": ("potential",)}
    methods = (*methods, *extra[name.split("_")[0]])
    monkeypatch.setattr(skqg._batching, "BATCH_ROWS", 10**9)
    one_batch = {method: getattr(est, method)(X) for method in methods}
    monkeypatch.setattr(skqg._batching, "BATCH_ROWS", 97)
    for method in methods:
        _assert_close(getattr(est, method)(X), one_batch[method], X.dtype)


def test_the_transport_map_is_evaluated_in_row_batches(monkeypatch):
    """Every kernel call of the transport's evaluation sees one batch of BATCH_ROWS rows or so."""
    from skqg._kernels import entropic_map

    est, methods, make = _case("transport_normal")
    X = make(1000)
    sizes = []
    moments = entropic_map.softmax_moments

    def recording(u, *args):
        sizes.append(len(u))
        return moments(u, *args)

    monkeypatch.setattr(entropic_map, "softmax_moments", recording)
    monkeypatch.setattr(skqg._batching, "BATCH_ROWS", 97)
    for method in (*methods, "potential", "log_det_jacobian"):
        sizes.clear()
        getattr(est, method)(X)
        assert sum(sizes) == len(X) and 97 <= min(sizes) and max(sizes) < 2 * 97, method


def _probe(config, method, n_rows):
    done = subprocess.run(
        [sys.executable, str(PROBE), config, method, str(n_rows)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# Overhead allowed beyond the output: the batch temporaries and allocator slack (MB), plus for
# the 3-D Wishart stack the validated float64 copy of the matrices and their Cholesky factors
# (the validation checks every matrix before any is used), in multiples of the input size.
MEMORY_CASES = {
    "rbm_spin": 64,  # 16 visible spins, 64 hidden units
    "rbm_bernoulli": 64,
    "wishart_2d": 64,
    "wishart_3d": 64,
    "transport_normal": 64,
}
INPUT_COPIES = {"wishart_3d": 4.5}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.slow
@pytest.mark.parametrize("method", ["transform", "score_samples"])
@pytest.mark.parametrize("config", list(MEMORY_CASES))
def test_million_rows_in_bounded_memory(config, method):
    result = _probe(config, method, 10**6)
    bound = (
        result["output_mb"]
        + INPUT_COPIES.get(config, 0.0) * result["input_mb"]
        + MEMORY_CASES[config]
    )
    assert result["peak_growth_mb"] <= bound, result
