"""Sinkhorn over a dask array on dask.distributed workers equals the in-memory fit.

The rows stay on the workers as chunks; only the reference points and the potentials travel
(skqg.transport._distributed). The distributed and in-memory fits run the same iteration code,
so the potentials and the map agree to rounding (rtol 1e-10, at the default tol too: the online
kernels keep their exponentials in float64), with one chunk or many, with
chunks far from each other (sorted rows: each chunk's partial column log-sum-exps then lie far
below the shift the client sends) and through the coarse-to-fine rungs.
"""

import numpy as np
import pytest

from skqg._kernels import entropic_map
from skqg.transport._distributed import (
    dask_max_row_norm,
    dask_moments,
    dask_row_mean,
    is_dask_array,
    sinkhorn_potentials_dask,
)
from skqg.transport._sinkhorn import ladder, sinkhorn_potentials

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # In-process workers start in a fraction of a second; one thread each.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def clouds(n, m, seed=0, sort=False):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    X = np.column_stack([z[:, 0], z[:, 0] ** 2 + 0.5 * z[:, 1]])
    if sort:
        X = X[np.argsort(X[:, 0])]
    Y = rng.standard_normal((m, 2))
    return np.ascontiguousarray(X - X.mean(axis=0)), np.ascontiguousarray(Y - Y.mean(axis=0))


@pytest.mark.parametrize(
    ("n", "m", "epsilon", "chunk_rows", "sort"),
    [
        (600, 150, 0.3, 600, False),  # one chunk
        (600, 150, 0.3, 170, False),  # uneven chunks
        (600, 150, 0.05, 150, True),  # eps-scaling; sorted rows: chunks far apart
        (3400, 200, 0.2, 1000, False),  # a coarse-to-fine rung (every 16th row)
    ],
)
def test_distributed_potentials_equal_the_in_memory_ones(client, n, m, epsilon, chunk_rows, sort):
    X, Y = clouds(n, m, sort=sort)
    assert bool(ladder(n, m)) == (n >= 16 * m)
    f, h, n_iter, error = sinkhorn_potentials(X, Y, epsilon, tol=1e-6, max_iter=5000)
    Xd = da.from_array(X, chunks=(chunk_rows, 2))
    fd, hd, n_iter_d, error_d = sinkhorn_potentials_dask(
        Xd, Y, epsilon, tol=1e-6, max_iter=5000, client=client
    )
    assert is_dask_array(fd) and fd.chunks[0] == Xd.chunks[0]
    assert n_iter_d == n_iter
    assert error_d == pytest.approx(error, rel=1e-6)
    # rtol 1e-10, with an absolute floor at that fraction of the potentials' scale.
    np.testing.assert_allclose(hd, h, rtol=1e-10, atol=1e-10 * np.max(np.abs(h)))
    np.testing.assert_allclose(fd.compute(), f, rtol=1e-10, atol=1e-10 * np.max(np.abs(f)))
    # The map is the softmax mean of the potential: equal too.
    x_new = np.random.default_rng(1).standard_normal((50, 2))
    mean = entropic_map.softmax_moments(x_new, Y, h, 1.0 / epsilon, entropic_map.MEAN)[1]
    mean_d = entropic_map.softmax_moments(x_new, Y, hd, 1.0 / epsilon, entropic_map.MEAN)[1]
    np.testing.assert_allclose(mean_d, mean, rtol=1e-10, atol=1e-13)


def test_distributed_fit_takes_a_warm_start_and_reports_progress(client):
    X, Y = clouds(400, 100)
    g_init = -np.einsum("ij,ij->i", Y, Y)
    seen = []
    _, h, n_iter, _ = sinkhorn_potentials(X, Y, 0.2, tol=1e-6, max_iter=500, g_init=g_init)
    _, hd, n_iter_d, _ = sinkhorn_potentials_dask(
        da.from_array(X, chunks=(100, 2)),
        Y,
        0.2,
        tol=1e-6,
        max_iter=500,
        g_init=g_init,
        callback=lambda *args: seen.append(args),
        client=client,
    )
    assert n_iter_d == n_iter == len(seen)
    np.testing.assert_allclose(hd, h, rtol=1e-10)


def test_dask_moments_equal_numpy_and_dask_arrays_are_recognised():
    X, _ = clouds(500, 10, seed=3)
    X = X + np.array([1.0, -2.0])
    Xd = da.from_array(X, chunks=(128, 1))
    mean, cov = dask_moments(Xd)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-13)
    centred = X - X.mean(axis=0)
    np.testing.assert_allclose(cov, centred.T @ centred / len(X), rtol=1e-12)
    assert is_dask_array(Xd)
    assert not is_dask_array(X)
    assert not is_dask_array([[1.0, 2.0]])


def test_dask_row_reductions_equal_numpy():
    X, _ = clouds(500, 10, seed=4)
    Xd = da.from_array(X, chunks=(128, 2))
    M = np.array([[2.0, 0.5], [0.0, 1.0]])
    assert dask_max_row_norm(Xd, M) == pytest.approx(np.max(np.linalg.norm(X @ M, axis=1)))
    squares = dask_row_mean(Xd, lambda block: np.sum(block**2, axis=1))
    assert squares == pytest.approx(np.mean(np.sum(X**2, axis=1)), rel=1e-13)


def test_at_the_default_tol_the_distributed_fit_agrees_to_1e10(client):
    """At tol >= 1e-5 (the default 1e-4) the online kernels still take float64 exponentials:
    in float32 a rounding-level difference of the shift (the partial column sums are grouped by
    chunk) could flip an exponent's rounding and move the potentials by about 1e-9."""
    X, Y = clouds(3400, 200)
    f, h, n_iter, _ = sinkhorn_potentials(X, Y, 0.2, tol=1e-4, max_iter=5000)
    fd, hd, n_iter_d, _ = sinkhorn_potentials_dask(
        da.from_array(X, chunks=(1000, 2)), Y, 0.2, tol=1e-4, max_iter=5000, client=client
    )
    assert n_iter_d == n_iter
    np.testing.assert_allclose(hd, h, rtol=1e-10, atol=1e-12 * np.max(np.abs(h)))
    np.testing.assert_allclose(fd.compute(), f, rtol=1e-10, atol=1e-12 * np.max(np.abs(f)))


@pytest.mark.parametrize("reference", ["normal", "ball", "array"])
def test_estimator_fit_on_a_dask_array_equals_the_in_memory_fit(client, reference):
    """MongeAmpereTransport.fit on a chunked dask array: same potentials, map and density."""
    from skqg import MongeAmpereTransport

    X, Y = clouds(4000, 300, seed=5)
    X = X * np.array([2.0, 0.5]) + np.array([3.0, -1.0])
    ref = Y if reference == "array" else reference
    params = {"reference": ref, "n_reference": 300, "random_state": 0}
    memory = MongeAmpereTransport(**params).fit(X)
    cluster = MongeAmpereTransport(**params).fit(da.from_array(X, chunks=(700, 2)))
    np.testing.assert_allclose(cluster.dual_potential_, memory.dual_potential_, rtol=1e-10)
    # The moments are dask reductions: equal to rounding, and so is epsilon.
    assert cluster.epsilon_ == pytest.approx(memory.epsilon_, rel=1e-12)
    assert cluster.n_iter_ == memory.n_iter_
    assert cluster.n_features_in_ == 2
    np.testing.assert_allclose(cluster.transport_cost_, memory.transport_cost_, rtol=1e-10)
    X_new = clouds(300, 2, seed=6)[0] * 2.0
    np.testing.assert_allclose(cluster.transform(X_new), memory.transform(X_new), rtol=1e-10)
    if reference != "array":
        np.testing.assert_allclose(
            cluster.score_samples(X_new), memory.score_samples(X_new), rtol=1e-10
        )


def test_estimator_refuses_non_finite_dask_input_and_other_solvers(client):
    from skqg import MongeAmpereTransport

    X, _ = clouds(400, 10)
    bad = X.copy()
    bad[7, 1] = np.nan
    fitted = MongeAmpereTransport(random_state=0).fit(X)
    before = fitted.transform(X[:5])
    with pytest.raises(ValueError, match="non-finite"):
        fitted.fit(da.from_array(bad, chunks=(100, 2)))
    with pytest.raises(ValueError, match="solver='sinkhorn' only"):
        MongeAmpereTransport(solver="exact").fit(da.from_array(X, chunks=(100, 2)))
    np.testing.assert_array_equal(fitted.transform(X[:5]), before)


def test_estimator_applies_the_in_memory_range_and_spread_checks_to_dask_input(client):
    """Issue 18: the dask fit refuses what the in-memory fit refuses, with the same words."""
    from skqg import MongeAmpereTransport

    X, _ = clouds(400, 11)
    for data, message in (
        (X * 1e300, r"magnitude up to .*Rescale X"),
        (np.tile(X[:1], (400, 1)), "zero variance in every direction"),
    ):
        for container in (data, da.from_array(data, chunks=(100, 2))):
            with pytest.raises(ValueError, match=message):
                MongeAmpereTransport(random_state=0).fit(container)


def test_dask_fit_warns_like_the_in_memory_fit_about_a_constant_feature(client):
    from skqg import MongeAmpereTransport

    X, _ = clouds(400, 12)
    X = np.column_stack([X, np.full(len(X), 3.0)])
    with pytest.warns(UserWarning, match="almost no spread in 1 of its 3 directions"):
        MongeAmpereTransport(random_state=0).fit(da.from_array(X, chunks=(100, 3)))
