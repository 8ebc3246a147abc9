"""The fast paths of the Sinkhorn fit: the vectorisable exponential, shifted log-sum-exps, the
coarse-to-fine rungs and the over-relaxation that adapts to a carried-over factor.

Speed itself is measured by ``benchmarks/bench_transport_speed.py``; these tests pin down that
the fast paths compute what the slow ones did.
"""

import numpy as np
import pytest
from scipy.special import logsumexp

from skqg._kernels import entropic_map, fast_math
from skqg._parallel import numba_threads
from skqg.transport import _sinkhorn
from skqg.transport._sinkhorn import SourceSide, ladder, sinkhorn_potentials, solve

ULP = np.finfo(np.float64).eps
# Below this fast_exp flushes to zero: round(x log2 e) < -1021, values under 3.2e-308.
FLUSH = -1021.5 * np.log(2.0)


def fast_exp(x):
    out = np.empty_like(x)
    fast_math.fast_exp_array(np.ascontiguousarray(x, dtype=np.float64), out)
    return out


def test_fast_exp_is_within_one_ulp_of_numpy_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            np.linspace(-708.0, 709.78, 2_000_001),
            rng.uniform(-40.0, 1.0, 1_000_000),
            rng.uniform(-1e-3, 1e-3, 100_000),
            [0.0, -0.0, 1.0, -1.0, np.log(2.0), 0.5 * np.log(2.0), -0.5 * np.log(2.0)],
        ]
    )
    got, want = fast_exp(x), np.exp(x)
    assert np.max(np.abs(got - want) / want) <= ULP
    assert got[-7] == 1.0 and got[-6] == 1.0


def test_fast_exp_underflows_to_exact_zero_overflows_to_inf_and_keeps_nan():
    low = np.concatenate([np.linspace(-1e4, -709.0, 1000), [-745.2, -746.0, -1e308, -np.inf]])
    assert np.all(fast_exp(low) == 0.0)
    # Between the flush point and the smallest normal result: either 0 or accurate.
    edge = np.linspace(-708.5, -707.5, 10_001)
    got, want = fast_exp(edge), np.exp(edge)
    assert np.all(got[edge < FLUSH - 1e-9] == 0.0)
    above = edge > FLUSH + 1e-9
    assert np.max(np.abs(got[above] - want[above]) / want[above]) <= ULP
    high = np.array([709.79, 710.0, 800.0, 1e308, np.inf])
    assert np.all(fast_exp(high) == np.inf)
    assert np.isnan(fast_exp(np.array([np.nan, -np.nan]))).all()


def test_single_precision_exp_is_within_1e7_and_flushes_to_zero():
    x = np.concatenate([np.linspace(-86.9, 0.0, 1_000_001), [0.0, -1.0, -40.0]]).astype(np.float32)
    out = np.empty_like(x)
    fast_math.fast_exp32_array(x, out)
    want = np.exp(x.astype(np.float64))
    assert np.max(np.abs(out - want) / want) < 1.5e-7
    low = np.array([-87.5, -88.0, -1e4, -np.inf], dtype=np.float32)
    fast_math.fast_exp32_array(low, out[:4])
    assert np.all(out[:4] == 0.0)
    nan = np.array([np.nan], dtype=np.float32)
    fast_math.fast_exp32_array(nan, out[:1])
    assert np.isnan(out[0])


def shifted_inputs(n=700, m=1300, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    h = -np.einsum("ij,ij->i", Y, Y) + 0.1 * rng.standard_normal(m)
    return X, Y, h


@pytest.mark.parametrize("inv_eps", [0.5, 20.0, 400.0])
def test_log_sum_exp_with_any_shift_matches_brute_force(inv_eps):
    """Good guesses (one pass), bad ones (over- or underflow: the max pass) and NaN agree."""
    X, Y, h = shifted_inputs()
    want = logsumexp((h[None, :] + 2.0 * X @ Y.T) * inv_eps, axis=1)
    tol = 1e-14 * np.max(np.abs(want)) + 1e-13
    rng = np.random.default_rng(1)
    for shift in (
        None,
        want + rng.uniform(-5.0, 5.0, len(want)),
        want + 2000.0,
        want - 2000.0,
        np.where(rng.random(len(want)) < 0.5, np.nan, want),
    ):
        got = entropic_map.log_sum_exp(X, Y, h, inv_eps, shift)
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)
        # Float32 exponentials: each term to about 1e-7, so the log-sum-exp too.
        got = entropic_map.log_sum_exp(X, Y, h, inv_eps, shift, single=True)
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-7 + tol)


def test_log_sum_exp_with_a_shift_does_not_depend_on_the_thread_count():
    X, Y, h = shifted_inputs(n=2000, m=2100)
    shift = entropic_map.log_sum_exp(X, Y, h, 5.0) + 1.0
    for single in (False, True):
        runs = []
        for threads in (1, 2):
            with numba_threads(threads):
                runs.append(entropic_map.log_sum_exp(X, Y, h, 5.0, shift, single))
        assert np.array_equal(runs[0], runs[1])


def test_single_precision_moves_the_map_by_far_less_than_the_tolerance(monkeypatch):
    """At the default tol the fit takes float32 exponentials; the potentials and the map move
    by about 1e-7 of the scale against the float64 fit, the error of the fit itself ~1e-4."""
    from skqg import MongeAmpereTransport

    X = banana(4000)
    assert _sinkhorn.single_precision(MongeAmpereTransport().tol)
    single = MongeAmpereTransport(random_state=0).fit(X)
    monkeypatch.setattr(_sinkhorn, "SINGLE_MIN_TOL", np.inf)
    double = MongeAmpereTransport(random_state=0).fit(X)
    assert single.n_iter_ == double.n_iter_
    eps = double.epsilon_
    assert np.max(np.abs(single.dual_potential_ - double.dual_potential_)) < 1e-5 * eps
    X_new = 2.0 * np.random.default_rng(5).standard_normal((300, 2))
    np.testing.assert_allclose(single.transform(X_new), double.transform(X_new), atol=1e-6)


def test_ladder_strides():
    assert ladder(1000, 100) == []
    assert ladder(1600, 100) == [16]
    assert ladder(100_000, 5000) == [16]
    assert ladder(1_000_000, 1000) == [256, 16]


def banana(n, seed=0):
    z = np.random.default_rng(seed).standard_normal((n, 2))
    X = np.column_stack([z[:, 0], z[:, 0] ** 2 + 0.5 * z[:, 1]])
    return np.ascontiguousarray(X - X.mean(axis=0))


def test_coarse_to_fine_converges_to_the_same_potentials_in_fewer_full_iterations(monkeypatch):
    """Both stop at the same marginal error, so their potentials differ by about that much
    (up to the constant shared between f and g)."""
    X = banana(3200)
    Y = np.ascontiguousarray(np.random.default_rng(1).standard_normal((200, 2)))
    epsilon = 0.2
    fine = sinkhorn_potentials(X, Y, epsilon, tol=1e-6, max_iter=5000)
    monkeypatch.setattr(_sinkhorn, "LADDER_STEP", 10**9)  # no rungs
    cold = sinkhorn_potentials(X, Y, epsilon, tol=1e-6, max_iter=5000)
    assert fine[3] < 1e-6 and cold[3] < 1e-6
    assert fine[2] < cold[2]
    assert np.ptp(fine[1] - cold[1]) < 1e-3 * epsilon
    assert np.ptp(fine[0] - cold[0]) < 1e-3 * epsilon


def test_a_carried_over_relaxation_factor_is_raised_when_convergence_is_slow():
    """Started relaxed at omega = 1.2 (too low for this epsilon), the iteration reads its
    rate off the relaxed errors, raises omega and converges in fewer iterations."""
    X = banana(800)
    Y = np.ascontiguousarray(np.random.default_rng(2).standard_normal((300, 2)))
    g = -np.einsum("ij,ij->i", Y, Y)
    seen = []
    _, n_iter, error, omega = solve(
        SourceSide(X, Y), Y, 0.05, tol=1e-8, max_iter=5000, g_init=g, omega=1.2
    )
    assert error < 1e-8 and omega > 1.5
    plain = solve(SourceSide(X, Y), Y, 0.05, tol=1e-8, max_iter=5000, g_init=g)
    assert n_iter < plain[1]
    assert _sinkhorn._relaxation([1e-2] * 3, 1.2) == 1.2
    seen = [0.5**k for k in range(6)]  # rate 0.5 > 1.15 * 0.2: raise
    assert _sinkhorn._relaxation(seen, 1.2) > 1.2
    fast = [0.1**k for k in range(6)]  # as predicted: keep
    assert _sinkhorn._relaxation(fast, 1.2) == 1.2


@pytest.mark.parametrize("shape", [(70, 110), (1500, 1500)])
def test_float32_kernel_products_accumulate_in_float64_whatever_the_threads(shape):
    """Serial (small kernels) and parallel twins; each output summed in one fixed order."""
    rng = np.random.default_rng(4)
    K = rng.random(shape).astype(np.float32)
    u, v = rng.random(shape[0]), rng.random(shape[1])
    K64 = K.astype(np.float64)
    for threads in (1, 2):
        with numba_threads(threads):
            rows = entropic_map.kernel_times(K, v)
            cols = entropic_map.kernel_times(K, u, transpose=True)
        np.testing.assert_allclose(rows, K64 @ v, rtol=1e-13)
        np.testing.assert_allclose(cols, K64.T @ u, rtol=1e-13)
        if threads == 1:
            first = (rows, cols)
    assert np.array_equal(first[0], rows) and np.array_equal(first[1], cols)


@pytest.mark.parametrize("epsilon", [1.0, 0.3])
def test_single_precision_dense_kernel_only_when_every_entry_is_a_normal_float32(epsilon):
    """The float32 Gibbs kernel is kept when max cost / eps <= 80 (checked exactly, on the
    kernel), else the float64 one; both give the float64 potentials to about 1e-7."""
    rng = np.random.default_rng(6)
    X = np.ascontiguousarray(rng.standard_normal((300, 3)))
    Y = np.ascontiguousarray(rng.standard_normal((250, 3)))
    lse = _sinkhorn._log_sum_exps(X, Y, epsilon, single=True)
    exact = np.max(np.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=2)) / epsilon
    assert isinstance(lse, _sinkhorn._DenseLSE)
    assert lse.single == (exact <= _sinkhorn.DENSE_MAX_EXPONENT_SINGLE) == (epsilon == 1.0)
    assert lse.K.dtype == (np.float32 if lse.single else np.float64)
    h = -np.einsum("ij,ij->i", Y, Y)
    want = logsumexp((h[None, :] + 2.0 * X @ Y.T) / epsilon, axis=1)
    np.testing.assert_allclose(lse.rows(h), want, rtol=0, atol=1e-6)
