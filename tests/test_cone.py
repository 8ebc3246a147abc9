"""Tests for skqg.cone against exact identities and independent references (scipy.linalg, POT)."""

import math
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from _helpers import random_spd_expm
from scipy import special, stats
from sklearn.exceptions import ConvergenceWarning

from skqg import cone

METRICS = ["affine", "log-euclidean", "bures-wasserstein"]


def random_symmetric(rng, p, n=None):
    shape = (p, p) if n is None else (n, p, p)
    G = rng.standard_normal(shape)
    return (G + np.swapaxes(G, -1, -2)) / 2


def random_invertible(rng, p):
    return rng.standard_normal((p, p)) + 2 * np.eye(p)


def sqrtm(A):
    return np.real(sla.sqrtm(A))


def inv_sqrtm(A):
    return np.linalg.inv(sqrtm(A))


def sym(A):
    return (A + A.T) / 2


# --- barrier, gradient, Hessian -------------------------------------------------------------


def test_barrier_matches_slogdet():
    rng = np.random.default_rng(0)
    X = random_spd_expm(rng, 4, n=6)
    expected = -np.linalg.slogdet(X)[1]
    np.testing.assert_allclose(cone.barrier(X), expected, rtol=1e-12, atol=1e-12)
    single = cone.barrier(X[2])
    assert isinstance(single, float)
    assert single == pytest.approx(expected[2], abs=1e-12)
    np.testing.assert_allclose(cone.barrier_gradient(X), -np.linalg.inv(X), atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p", [1, 3, 4])
def test_gradient_matches_central_differences(weighted, p):
    rng = np.random.default_rng(p)
    X = random_spd_expm(rng, p)
    w = math.sqrt(2.0) if weighted else 1.0
    x = cone.vech(X, weight=w)
    h = 1e-6
    steps = h * np.eye(len(x))
    plus = cone.barrier(cone.unvech(x + steps, weight=w))
    minus = cone.barrier(cone.unvech(x - steps, weight=w))
    numerical = (plus - minus) / (2 * h)
    # d Phi / d x_a = <grad, E_a>: G_ii on the diagonal, 2 G_ij / w off it.
    analytic = cone.vech(cone.barrier_gradient(X), weight=2.0 / w)
    np.testing.assert_allclose(numerical, analytic, rtol=1e-7, atol=1e-8)


def _fd_hessian_of_gradient(X, weighted):
    w = math.sqrt(2.0) if weighted else 1.0
    x = cone.vech(X, weight=w)
    h = 1e-6
    steps = h * np.eye(len(x))
    grad_plus = cone.vech(cone.barrier_gradient(cone.unvech(x + steps, weight=w)), weight=2 / w)
    grad_minus = cone.vech(cone.barrier_gradient(cone.unvech(x - steps, weight=w)), weight=2 / w)
    return ((grad_plus - grad_minus) / (2 * h)).T


def _fd_hessian_of_function(function, X, weighted, h=1e-4):
    """Second central differences of ``function(unvech(x))`` in vech coordinates (no gradient)."""
    w = math.sqrt(2.0) if weighted else 1.0
    x = cone.vech(X, weight=w)
    m = len(x)
    e = h * np.eye(m)
    points = np.stack(
        [
            x + sa * e[a] + sb * e[b]
            for a in range(m)
            for b in range(m)
            for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1))
        ]
    )
    values = function(cone.unvech(points, weight=w)).reshape(m, m, 4)
    return (values[..., 0] - values[..., 1] - values[..., 2] + values[..., 3]) / (4 * h * h)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p", [2, 3, 5])
def test_hessian_matches_finite_differences(weighted, p):
    rng = np.random.default_rng(10 + p)
    X = random_spd_expm(rng, p)
    hessian = cone.barrier_hessian(X, weighted=weighted)
    m = p * (p + 1) // 2
    assert hessian.shape == (m, m)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-14)
    scale = np.abs(hessian).max()
    np.testing.assert_allclose(_fd_hessian_of_gradient(X, weighted), hessian, atol=1e-7 * scale)
    np.testing.assert_allclose(
        _fd_hessian_of_function(cone.barrier, X, weighted), hessian, atol=1e-5 * scale
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_hessian_is_the_metric_in_vech_coordinates(weighted):
    rng = np.random.default_rng(3)
    p = 4
    X = random_spd_expm(rng, p, n=3)
    H, K = random_symmetric(rng, p, n=3), random_symmetric(rng, p, n=3)
    w = math.sqrt(2.0) if weighted else 1.0
    hessian = cone.barrier_hessian(X, weighted=weighted)
    quadratic = np.einsum("na,nab,nb->n", cone.vech(H, weight=w), hessian, cone.vech(K, weight=w))
    expected = [
        np.trace(np.linalg.solve(x, h) @ np.linalg.solve(x, k))
        for x, h, k in zip(X, H, K, strict=True)
    ]
    np.testing.assert_allclose(quadratic, expected, rtol=1e-10)
    np.testing.assert_allclose(cone.metric(X, H, K), expected, rtol=1e-10)


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5, 6])
def test_monge_ampere_identity(p):
    rng = np.random.default_rng(20 + p)
    X = random_spd_expm(rng, p, n=5)
    for weighted in (False, True):
        residual = cone.monge_ampere_residual(X, weighted=weighted)
        assert residual.shape == (5,)
        np.testing.assert_allclose(residual, 0.0, atol=1e-11)
    # The same identity written out: log det D^2 Phi = 1/2 p (p - 1) log 2 + (p + 1) Phi.
    logdet = np.linalg.slogdet(cone.barrier_hessian(X))[1]
    expected = 0.5 * p * (p - 1) * math.log(2) + (p + 1) * cone.barrier(X)
    np.testing.assert_allclose(logdet, expected, rtol=1e-12, atol=1e-11)
    assert isinstance(cone.monge_ampere_residual(X[0]), float)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p", [2, 3, 4])
def test_monge_ampere_identity_on_finite_difference_hessian(weighted, p):
    rng = np.random.default_rng(30 + p)
    X = random_spd_expm(rng, p, spread=0.5)
    hessian = _fd_hessian_of_function(cone.barrier, X, weighted)
    sign, logdet = np.linalg.slogdet(sym(hessian))
    assert sign == 1
    constant = 0.0 if weighted else 0.5 * p * (p - 1) * math.log(2)
    assert logdet == pytest.approx(constant + (p + 1) * cone.barrier(X), abs=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p", [2, 3])
def test_canonical_potential_solves_monge_ampere(weighted, p):
    # F = (p + 1)/2 Phi has D^2 F = (p + 1)/2 D^2 Phi, so with m = p (p + 1) / 2:
    # log det D^2 F = m log((p + 1)/2) + c_p + (p + 1) Phi = log K + 2F,
    # log K = c_p + m log((p + 1)/2), c_p = p (p - 1)/2 log 2 (plain) or 0 (weighted).
    m = p * (p + 1) // 2
    c_p = 0.0 if weighted else 0.5 * p * (p - 1) * math.log(2)
    log_k = c_p + m * math.log((p + 1) / 2)
    rng = np.random.default_rng(40 + p)
    for X in random_spd_expm(rng, p, n=3, spread=0.5):

        def potential(Y):
            return 0.5 * (p + 1) * cone.barrier(Y)

        hessian = _fd_hessian_of_function(potential, X, weighted)
        logdet = np.linalg.slogdet(sym(hessian))[1]
        assert logdet - 2 * potential(X) == pytest.approx(log_k, abs=1e-5)
        exact = np.linalg.slogdet(0.5 * (p + 1) * cone.barrier_hessian(X, weighted=weighted))[1]
        assert exact - 2 * potential(X) == pytest.approx(log_k, abs=1e-11)


# --- means ---------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0.5, 0.2])
def test_two_point_mean_is_geodesic_point(t):
    rng = np.random.default_rng(50)
    A, B = random_spd_expm(rng, 4, n=2)
    weights = [1 - t, t]
    for metric in METRICS:
        mean = cone.mean(np.stack([A, B]), metric=metric, weights=weights)
        np.testing.assert_allclose(mean, cone.geodesic(A, B, t, metric=metric), atol=1e-9)
    # The affine midpoint A #_1/2 B by an independent formula.
    root = sqrtm(A)
    midpoint = root @ sqrtm(inv_sqrtm(A) @ B @ inv_sqrtm(A)) @ root
    np.testing.assert_allclose(cone.mean(np.stack([A, B])), midpoint, atol=1e-9)


def test_affine_congruence_equivariance():
    rng = np.random.default_rng(51)
    p = 4
    X = random_spd_expm(rng, p, n=7)
    G = random_invertible(rng, p)
    moved = G @ X @ G.T
    np.testing.assert_allclose(
        cone.distance(moved[0], moved[1:]), cone.distance(X[0], X[1:]), rtol=1e-9
    )
    expected = G @ cone.mean(X) @ G.T
    np.testing.assert_allclose(cone.mean(moved), expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("metric", METRICS)
def test_orthogonal_invariance_of_all_distances(metric):
    rng = np.random.default_rng(52)
    A, B = random_spd_expm(rng, 5, n=2)
    Q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    assert cone.distance(Q @ A @ Q.T, Q @ B @ Q.T, metric=metric) == pytest.approx(
        cone.distance(A, B, metric=metric), rel=1e-9
    )


@pytest.mark.parametrize("metric", ["affine", "log-euclidean"])
def test_inversion_equivariance(metric):
    rng = np.random.default_rng(53)
    X = random_spd_expm(rng, 4, n=6)
    inverses = np.linalg.inv(X)
    np.testing.assert_allclose(
        cone.distance(inverses[0], inverses[1:], metric=metric),
        cone.distance(X[0], X[1:], metric=metric),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        cone.mean(inverses, metric=metric), np.linalg.inv(cone.mean(X, metric=metric)), atol=1e-9
    )


@pytest.mark.parametrize("metric", ["affine", "log-euclidean"])
def test_mean_determinant_is_geometric_mean_of_determinants(metric):
    rng = np.random.default_rng(54)
    X = random_spd_expm(rng, 3, n=9, spread=1.5)
    weights = rng.uniform(0.1, 2.0, size=9)
    logdets = np.linalg.slogdet(X)[1]
    for w in (None, weights):
        target = logdets.mean() if w is None else np.average(logdets, weights=w)
        mean = cone.mean(X, metric=metric, weights=w)
        assert np.linalg.slogdet(mean)[1] == pytest.approx(target, abs=1e-9)


def test_means_of_commuting_matrices_have_closed_forms():
    rng = np.random.default_rng(55)
    p, n = 4, 6
    Q = np.linalg.qr(rng.standard_normal((p, p)))[0]
    d = np.exp(rng.normal(size=(n, p)))
    X = (Q * d[:, None, :]) @ Q.T
    w = rng.uniform(0.5, 1.5, size=n)
    w /= w.sum()

    def rotate(values):
        return (Q * values) @ Q.T

    geometric = rotate(np.exp(w @ np.log(d)))
    expected = {
        "affine": geometric,
        "log-euclidean": geometric,
        "euclidean": rotate(w @ d),
        "bures-wasserstein": rotate((w @ np.sqrt(d)) ** 2),
    }
    for metric, reference in expected.items():
        np.testing.assert_allclose(cone.mean(X, metric=metric, weights=w), reference, atol=1e-9)


def test_weights_are_normalised_and_zero_weights_ignored():
    rng = np.random.default_rng(56)
    X = random_spd_expm(rng, 3, n=5)
    w = np.array([1.0, 2.0, 0.0, 3.0, 0.0])
    for metric in ["affine", "log-euclidean", "bures-wasserstein", "euclidean"]:
        np.testing.assert_allclose(
            cone.mean(X, metric=metric, weights=10 * w),
            cone.mean(X[[0, 1, 3]], metric=metric, weights=w[[0, 1, 3]]),
            atol=1e-9,
        )


def test_affine_mean_gradient_vanishes():
    rng = np.random.default_rng(57)
    X = random_spd_expm(rng, 5, n=20, spread=2.0)
    M = cone.mean(X, tol=1e-12)
    tangent = cone.log_map(M, X).mean(axis=0)
    assert math.sqrt(cone.metric(M, tangent, tangent)) < 1e-11


def test_bures_wasserstein_mean_is_fixed_point():
    # The barycentre S satisfies S = sum_i w_i (S^1/2 X_i S^1/2)^1/2 (Agueh & Carlier 2011).
    rng = np.random.default_rng(58)
    X = random_spd_expm(rng, 4, n=10, spread=1.5)
    S = cone.mean(X, metric="bures-wasserstein", tol=1e-12, max_iter=500)
    root = sqrtm(S)
    fixed = np.mean([sqrtm(root @ x @ root) for x in X], axis=0)
    np.testing.assert_allclose(fixed, S, atol=1e-9)


def test_mean_warns_when_not_converged():
    rng = np.random.default_rng(59)
    X = random_spd_expm(rng, 4, n=10, spread=3.0)
    for metric in ("affine", "bures-wasserstein"):
        with pytest.warns(ConvergenceWarning, match="did not reach tol"):
            result = cone.mean(X, metric=metric, tol=1e-15, max_iter=1)
        assert np.all(np.linalg.eigvalsh(result) > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cone.mean(X)


def eigh_logm(X):
    """Matrix logarithm of (stacks of) SPD matrices by numpy's eigh (scipy's logm is slow)."""
    values, vectors = np.linalg.eigh(sym(X) if X.ndim == 2 else (X + np.swapaxes(X, 1, 2)) / 2)
    return (vectors * np.log(values)[..., None, :]) @ np.swapaxes(vectors, -1, -2)


def multivariate_digamma(a, p):
    return sum(special.digamma(a + (1 - i) / 2) for i in range(1, p + 1))


def test_wishart_population_affine_mean():
    # S_k ~ W_p(nu, Sigma / nu). By congruence equivariance the Riemannian mean is c Sigma, where
    # E[log W] = log(c) I for W ~ W_p(nu, I / nu): tr E[log W] = E[log det W]
    # = psi_p(nu / 2) + p log(2 / nu), so c = 2 exp(psi_p(nu / 2) / p) / nu.
    rng = np.random.default_rng(60)
    p, nu, n = 4, 10, 4000
    G = rng.standard_normal((p, p))
    Sigma = G @ G.T / p + np.eye(p)
    S = stats.wishart.rvs(df=nu, scale=Sigma / nu, size=n, random_state=rng)
    M = cone.mean(S)
    c = 2 * math.exp(multivariate_digamma(nu / 2, p) / p) / nu
    # Error in whitened tangent coordinates at c Sigma, against its Monte-Carlo standard error:
    # the sample mean of the whitened log-vectors has covariance Var / n, and the Karcher
    # estimator's is smaller (the Hessian of the Frechet function is >= I on this
    # non-positively curved space), so Var / n bounds it.
    whitening = inv_sqrtm(c * Sigma)
    error = cone.vech(eigh_logm(whitening @ M @ whitening))
    spread = cone.vech(eigh_logm(whitening @ S @ whitening))
    standard_error = spread.std(axis=0, ddof=1) / math.sqrt(n)
    z = np.abs(error) / standard_error
    # 10 coordinates; P(max |z| > 4.5) < 1e-4 for Gaussian errors.
    assert z.max() < 4.5, (z, c)
    # The scale c alone, through the determinant: log det M equals the sample mean of
    # log det S_k exactly (first-order condition), whose standard error is sd(log det S) / sqrt(n)
    # (sd about 1.04 here); a 2 % error in c would shift it by about 4.8 standard errors.
    logdets = np.linalg.slogdet(S)[1]
    assert np.linalg.slogdet(M)[1] == pytest.approx(logdets.mean(), abs=1e-9)
    trace_z = (logdets.mean() - np.linalg.slogdet(c * Sigma)[1]) / (
        logdets.std(ddof=1) / math.sqrt(n)
    )
    assert abs(trace_z) < 4.0, trace_z


# --- distances and geodesics ----------------------------------------------------------------


def reference_distance(A, B, metric):
    if metric == "affine":
        return np.linalg.norm(sla.logm(sym(inv_sqrtm(A) @ B @ inv_sqrtm(A))), "fro")
    if metric == "log-euclidean":
        return np.linalg.norm(sla.logm(A) - sla.logm(B), "fro")
    root = sqrtm(A)
    return math.sqrt(max(np.trace(A) + np.trace(B) - 2 * np.trace(sqrtm(root @ B @ root)), 0.0))


@pytest.mark.parametrize("metric", METRICS)
def test_distance_matches_scipy_reference(metric):
    rng = np.random.default_rng(70)
    A = random_spd_expm(rng, 5, spread=1.5)
    B = random_spd_expm(rng, 5, n=4, spread=1.5)
    values = cone.distance(A, B, metric=metric)
    assert values.shape == (4,)
    expected = [reference_distance(A, b, metric) for b in B]
    np.testing.assert_allclose(values, expected, rtol=1e-9)
    # Stack against single broadcasts the other way round too.
    np.testing.assert_allclose(cone.distance(B, A, metric=metric), expected, rtol=1e-9)
    assert isinstance(cone.distance(A, B[0], metric=metric), float)


def test_bures_wasserstein_is_gaussian_wasserstein():
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(71)
    p = 4
    A, B = random_spd_expm(rng, p, n=2, spread=1.5)
    value = cone.distance(A, B, metric="bures-wasserstein")
    # W2 between N(0, A) and N(0, B) through the optimal map T (T A T = B): E|x - T x|^2.
    T = inv_sqrtm(A) @ sqrtm(sqrtm(A) @ B @ sqrtm(A)) @ inv_sqrtm(A)
    np.testing.assert_allclose(T @ A @ T, B, atol=1e-10)
    transport_cost = np.trace((np.eye(p) - T) @ A @ (np.eye(p) - T))
    assert value**2 == pytest.approx(transport_cost, rel=1e-9)
    pot = float(ot.gaussian.bures_wasserstein_distance(np.zeros(p), np.zeros(p), A, B))
    assert value == pytest.approx(pot, rel=1e-7)
    # Commuting case: W2^2 = sum (sqrt a_i - sqrt b_i)^2.
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    assert cone.distance(np.diag(a), np.diag(b), metric="bures-wasserstein") == pytest.approx(
        np.linalg.norm(np.sqrt(a) - np.sqrt(b)), rel=1e-12
    )


@pytest.mark.parametrize("metric", METRICS)
def test_distance_axioms(metric):
    rng = np.random.default_rng(72)
    A, B, C = (random_spd_expm(rng, 4, n=30, spread=1.5) for _ in range(3))
    ab = cone.distance(A, B, metric=metric)
    np.testing.assert_allclose(ab, cone.distance(B, A, metric=metric), rtol=1e-9)
    np.testing.assert_allclose(cone.distance(A, A, metric=metric), 0.0, atol=1e-12)
    assert np.all(ab > 0)
    bc = cone.distance(B, C, metric=metric)
    ac = cone.distance(A, C, metric=metric)
    assert np.all(ac <= ab + bc + 1e-12)


def test_distance_of_close_matrices_is_accurate():
    rng = np.random.default_rng(73)
    A = random_spd_expm(rng, 4)
    E = 1e-7 * random_symmetric(rng, 4)
    for metric in METRICS:
        # To first order all three are the norm of E in the metric's tangent space at A.
        d = cone.distance(A, A + E, metric=metric)
        assert 1e-9 < d < 1e-5, metric
    # Bures-Wasserstein of a scaling: d(A, s^2 A) = |s - 1| sqrt(tr A).
    s = 1 + 1e-9
    assert cone.distance(A, s * s * A, metric="bures-wasserstein") == pytest.approx(
        (s - 1) * math.sqrt(np.trace(A)), rel=1e-5
    )


@pytest.mark.parametrize("metric", ["affine", "log-euclidean"])
@pytest.mark.parametrize("t", [-0.5, 0.0, 0.3, 1.0, 1.7])
def test_geodesic_constant_speed_any_t(metric, t):
    rng = np.random.default_rng(74)
    A, B = random_spd_expm(rng, 4, n=2, spread=1.5)
    point = cone.geodesic(A, B, t, metric=metric)
    total = cone.distance(A, B, metric=metric)
    assert cone.distance(A, point, metric=metric) == pytest.approx(abs(t) * total, abs=1e-9)
    assert cone.distance(point, B, metric=metric) == pytest.approx(abs(1 - t) * total, abs=1e-9)


@pytest.mark.parametrize("t", [0.0, 0.25, 0.5, 1.0])
def test_bures_wasserstein_geodesic_constant_speed(t):
    rng = np.random.default_rng(75)
    A, B = random_spd_expm(rng, 4, n=2, spread=1.5)
    point = cone.geodesic(A, B, t, metric="bures-wasserstein")
    total = cone.distance(A, B, metric="bures-wasserstein")
    assert cone.distance(A, point, metric="bures-wasserstein") == pytest.approx(t * total, abs=1e-9)
    T = inv_sqrtm(A) @ sqrtm(sqrtm(A) @ B @ sqrtm(A)) @ inv_sqrtm(A)
    move = (1 - t) * np.eye(4) + t * T
    np.testing.assert_allclose(point, move @ A @ move, atol=1e-9)


def test_geodesic_endpoints_and_reference():
    rng = np.random.default_rng(76)
    A, B = random_spd_expm(rng, 3, n=2, spread=1.5)
    for metric in METRICS:
        np.testing.assert_allclose(cone.geodesic(A, B, 0.0, metric=metric), A, atol=1e-10)
        np.testing.assert_allclose(cone.geodesic(A, B, 1.0, metric=metric), B, atol=1e-10)
    t = 0.3
    root = sqrtm(A)
    inner = inv_sqrtm(A) @ B @ inv_sqrtm(A)
    affine = root @ np.real(sla.fractional_matrix_power(sym(inner), t)) @ root
    np.testing.assert_allclose(cone.geodesic(A, B, t), affine, atol=1e-10)
    log_euclidean = sla.expm((1 - t) * sla.logm(A) + t * sla.logm(B))
    np.testing.assert_allclose(
        cone.geodesic(A, B, t, metric="log-euclidean"), log_euclidean, atol=1e-10
    )


def test_parallel_sized_batches_match_single_matrices():
    # n * p**3 above the kernels' parallel threshold, so the prange twins run.
    rng = np.random.default_rng(78)
    A = random_spd_expm(rng, 10, n=300)
    B = random_spd_expm(rng, 10, n=300)
    for metric in METRICS:
        values = cone.distance(A, B, metric=metric)
        points = cone.geodesic(A, B, 0.3, metric=metric)
        for k in (0, 151, 299):
            assert values[k] == pytest.approx(cone.distance(A[k], B[k], metric=metric), rel=1e-12)
            np.testing.assert_allclose(
                points[k], cone.geodesic(A[k], B[k], 0.3, metric=metric), atol=1e-12
            )
    logs = cone.log_map(A, B)
    np.testing.assert_allclose(cone.exp_map(A, logs), B, atol=1e-9)


def test_geodesic_broadcasts():
    rng = np.random.default_rng(77)
    A = random_spd_expm(rng, 3)
    B = random_spd_expm(rng, 3, n=4)
    for metric in METRICS:
        batch = cone.geodesic(A, B, 0.4, metric=metric)
        assert batch.shape == (4, 3, 3)
        for k in range(4):
            np.testing.assert_allclose(
                batch[k], cone.geodesic(A, B[k], 0.4, metric=metric), atol=1e-12
            )


# --- exponential and logarithm --------------------------------------------------------------


def test_exp_log_round_trip():
    rng = np.random.default_rng(80)
    X = random_spd_expm(rng, 4, n=5, spread=1.5)
    Y = random_spd_expm(rng, 4, n=5, spread=1.5)
    V = cone.log_map(X, Y)
    np.testing.assert_allclose(V, np.swapaxes(V, 1, 2), atol=0)
    np.testing.assert_allclose(cone.exp_map(X, V), Y, atol=1e-10)
    W = random_symmetric(rng, 4, n=5)
    np.testing.assert_allclose(cone.log_map(X, cone.exp_map(X, W)), W, atol=1e-10)
    np.testing.assert_allclose(cone.log_map(X, X), 0.0, atol=1e-12)


def test_exp_map_matches_formula_and_log_length_is_distance():
    rng = np.random.default_rng(81)
    X = random_spd_expm(rng, 4)
    V = random_symmetric(rng, 4)
    root = sqrtm(X)
    expected = root @ sla.expm(inv_sqrtm(X) @ V @ inv_sqrtm(X)) @ root
    np.testing.assert_allclose(cone.exp_map(X, V), expected, rtol=1e-10, atol=1e-10)
    Y = random_spd_expm(rng, 4, n=6)
    logs = cone.log_map(X, Y)
    lengths = np.sqrt(cone.metric(X, logs, logs))
    np.testing.assert_allclose(lengths, cone.distance(X, Y), rtol=1e-10)
    # The exponential follows the geodesic: Exp_X(t Log_X Y) = X #_t Y.
    np.testing.assert_allclose(
        cone.exp_map(X, 0.3 * logs), cone.geodesic(X, Y, 0.3), rtol=1e-10, atol=1e-10
    )


def test_metric_is_congruence_invariant():
    rng = np.random.default_rng(82)
    X = random_spd_expm(rng, 3)
    A, B = random_symmetric(rng, 3, n=2)
    G = random_invertible(rng, 3)
    assert cone.metric(G @ X @ G.T, G @ A @ G.T, G @ B @ G.T) == pytest.approx(
        cone.metric(X, A, B), rel=1e-10
    )


# --- projection ----------------------------------------------------------------------------


def higham_psd(X):
    """Higham (1988): (B + H) / 2 with B the symmetric part and H its polar factor's PSD part."""
    B = sym(X)
    _, H = sla.polar(B)
    return sym((B + H) / 2)


def test_project_matches_higham():
    rng = np.random.default_rng(90)
    X = rng.standard_normal((6, 4, 4))
    projected = cone.project(X)
    for x, proj in zip(X, projected, strict=True):
        np.testing.assert_allclose(proj, higham_psd(x), atol=1e-12)
    floor = 0.5
    shifted = cone.project(X, min_eigenvalue=floor)
    for x, proj in zip(X, shifted, strict=True):
        np.testing.assert_allclose(
            proj, floor * np.eye(4) + higham_psd(x - floor * np.eye(4)), atol=1e-12
        )
    # Higham's closed form on a known example: eigenvalues 3 and -1 of [[1, 2], [2, 1]].
    np.testing.assert_allclose(
        cone.project(np.array([[1.0, 2.0], [2.0, 1.0]])), [[1.5, 1.5], [1.5, 1.5]], atol=1e-15
    )


def test_project_floor_idempotence_and_optimality():
    rng = np.random.default_rng(91)
    X = 3 * rng.standard_normal((20, 5, 5))
    for floor in (0.0, 0.1, 2.0):
        projected = cone.project(X, min_eigenvalue=floor)
        assert np.all(np.linalg.eigvalsh(projected) >= floor - 1e-12 * np.abs(X).max())
        np.testing.assert_allclose(
            cone.project(projected, min_eigenvalue=floor), projected, atol=1e-12
        )
        # Nearest: no matrix of the target set is closer (here: random members of it).
        candidates = cone.project(
            projected + 0.3 * rng.standard_normal(X.shape), min_eigenvalue=floor
        )
        assert np.all(
            np.linalg.norm(X - projected, axis=(1, 2))
            <= np.linalg.norm(X - candidates, axis=(1, 2)) + 1e-12
        )


def test_project_leaves_spd_input_unchanged():
    rng = np.random.default_rng(92)
    X = random_spd_expm(rng, 4, n=3)
    assert np.array_equal(cone.project(X), (X + np.swapaxes(X, 1, 2)) / 2)
    assert np.array_equal(cone.project(X[1], min_eigenvalue=1e-3), sym(X[1]))


# --- self-duality --------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1, 2, 5])
def test_self_duality_check(p):
    result = cone.self_duality_check(p, n_probes=40, random_state=0)
    assert isinstance(result, cone.SelfDualityResiduals)
    assert result.n_probes == 40
    assert 0 < result.min_cosine_inside <= 1
    assert -1 <= result.max_cosine_separating < 0
    assert result.conjugate_error < 1e-12
    assert result.maximiser_error < 1e-12
    assert result.min_fenchel_young_gap >= 0
    assert result == cone.self_duality_check(p, n_probes=40, random_state=0)
    for value in result[:-1]:
        assert isinstance(value, float)


def test_self_duality_check_validates():
    with pytest.raises(ValueError, match="p must be an integer >= 1"):
        cone.self_duality_check(0)
    with pytest.raises(ValueError, match="n_probes must be an integer >= 1"):
        cone.self_duality_check(3, n_probes=0)


# --- half-vectorisation --------------------------------------------------------------------


def test_vech_is_an_isometry_and_unvech_inverts_it():
    rng = np.random.default_rng(100)
    A, B = random_symmetric(rng, 4, n=2)
    assert cone.vech(A) @ cone.vech(B) == pytest.approx(np.trace(A @ B), rel=1e-12)
    rows, cols = np.triu_indices(4)
    np.testing.assert_array_equal(cone.vech(A, weight=1.0), A[rows, cols])
    stack = random_symmetric(rng, 3, n=5)
    for weight in (1.0, math.sqrt(2.0), 3.0):
        v = cone.vech(stack, weight=weight)
        assert v.shape == (5, 6)
        np.testing.assert_allclose(cone.unvech(v, weight=weight), stack, atol=1e-15)
    with pytest.raises(ValueError, match="p \\* \\(p \\+ 1\\) / 2"):
        cone.unvech(np.ones(4))
    with pytest.raises(ValueError, match="weight must be > 0"):
        cone.vech(A, weight=0.0)
    with pytest.raises(ValueError, match="v contains NaN"):
        cone.unvech(np.array([1.0, np.nan, 1.0]))


# --- validation ----------------------------------------------------------------------------


def _spd_calls(X, good):
    """Every public call with an SPD argument set to ``X`` (the others valid), and its name."""
    stack = good[np.newaxis].repeat(3, axis=0)
    return [
        (lambda: cone.barrier(X), "X"),
        (lambda: cone.barrier_gradient(X), "X"),
        (lambda: cone.barrier_hessian(X), "X"),
        (lambda: cone.monge_ampere_residual(X), "X"),
        (lambda: cone.metric(X, good, good), "X"),
        (lambda: cone.distance(X, good), "A"),
        (lambda: cone.distance(good, X, metric="bures-wasserstein"), "B"),
        (lambda: cone.geodesic(good, X, 0.5), "B"),
        (lambda: cone.exp_map(X, good), "X"),
        (lambda: cone.log_map(good, X), "Y"),
        (lambda: cone.mean(np.concatenate([stack, np.asarray(X)[None]])), "X"),
    ]


def _bad_matrices():
    good = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.5]])
    nan = good.copy()
    nan[1, 2] = np.nan
    inf = good.copy()
    inf[0, 0] = np.inf
    asymmetric = good.copy()
    asymmetric[0, 1] = 1.0
    indefinite = good.copy()
    indefinite[2, 2] = -1.0
    singular = np.ones((3, 3))
    return good, [
        (nan, "NaN or infinity"),
        (inf, "NaN or infinity"),
        (asymmetric, "symmetric"),
        (
            indefinite,
            "not positive definite: rank 3 of 3, 1 negative eigenvalue, smallest eigenvalue -1.02",
        ),
        (singular, "not positive definite: rank 1 of 3"),
    ]


def test_bad_spd_arguments_raise_naming_the_argument():
    good, cases = _bad_matrices()
    for bad, message in cases:
        for call, name in _spd_calls(bad, good):
            with pytest.raises(ValueError, match=message) as info:
                call()
            assert name in str(info.value), (name, str(info.value))


def test_not_positive_definite_message_suggests_project():
    _, cases = _bad_matrices()
    with pytest.raises(ValueError, match=r"A is not positive definite.*skqg.cone.project\(A"):
        cone.distance(cases[3][0], np.eye(3))
    stack = np.stack([np.eye(3), cases[3][0]])
    with pytest.raises(ValueError, match=r"X\[1\] is not positive definite"):
        cone.barrier(stack)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1, 2, 3, 3), (0, 3, 3), (3, 0)])
def test_wrong_shapes_raise(shape):
    with pytest.raises(ValueError, match="X "):
        cone.barrier(np.ones(shape))


def test_mean_requires_a_stack():
    with pytest.raises(ValueError, match=r"stack of SPD matrices of shape \(n, p, p\)"):
        cone.mean(np.eye(3))


def test_mismatched_sizes_and_lengths_raise():
    with pytest.raises(ValueError, match="same size: A is 3x3, B is 2x2"):
        cone.distance(np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match="same size"):
        cone.metric(np.eye(3), np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match="same size"):
        cone.exp_map(np.eye(3), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="A holds 2, B holds 3"):
        cone.geodesic(np.stack([np.eye(2)] * 2), np.stack([np.eye(2)] * 3), 0.5)


def test_unknown_metric_raises_listing_choices():
    for call in (
        lambda: cone.distance(np.eye(2), np.eye(2), metric="riemann"),
        lambda: cone.geodesic(np.eye(2), np.eye(2), 0.5, metric="riemann"),
        lambda: cone.mean(np.eye(2)[None], metric="riemann"),
    ):
        with pytest.raises(ValueError, match="'affine', 'log-euclidean', 'bures-wasserstein'"):
            call()
    with pytest.raises(ValueError, match="'euclidean'"):
        cone.mean(np.eye(2)[None], metric="Affine")
    with pytest.raises(ValueError, match="metric must be one of"):
        cone.distance(np.eye(2), np.eye(2), metric="euclidean")


def test_bad_tangent_arguments_raise():
    X = np.eye(3)
    asymmetric = np.arange(9.0).reshape(3, 3)
    with pytest.raises(ValueError, match="V must hold symmetric matrices"):
        cone.exp_map(X, asymmetric)
    with pytest.raises(ValueError, match="B contains NaN or infinity"):
        cone.metric(X, np.zeros((3, 3)), np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="A must be a matrix"):
        cone.metric(X, np.zeros(3), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="X must hold symmetric"):
        cone.vech(asymmetric)


def test_bad_scalars_raise():
    A = np.eye(2)
    with pytest.raises(ValueError, match="t must be a finite real number"):
        cone.geodesic(A, A, np.nan)
    with pytest.raises(ValueError, match="t must lie in \\[0, 1\\]"):
        cone.geodesic(A, A, 1.5, metric="bures-wasserstein")
    with pytest.raises(ValueError, match="min_eigenvalue must be non-negative"):
        cone.project(A, min_eigenvalue=-1.0)
    with pytest.raises(ValueError, match="X contains NaN"):
        cone.project(np.full((2, 2), np.inf))
    X = np.stack([A, 2 * A])
    with pytest.raises(ValueError, match="tol must be positive"):
        cone.mean(X, tol=0.0)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        cone.mean(X, max_iter=0)
    for weights in ([1.0], [1.0, -1.0], [0.0, 0.0], [np.nan, 1.0], [[1.0, 1.0]]):
        with pytest.raises(ValueError, match="weights must"):
            cone.mean(X, weights=weights)


# --- dtypes and shapes ---------------------------------------------------------------------


def test_float32_in_float32_out():
    rng = np.random.default_rng(110)
    X = random_spd_expm(rng, 3, n=4)
    Y = random_spd_expm(rng, 3, n=4)
    V = random_symmetric(rng, 3, n=4)
    X32, Y32, V32 = (a.astype(np.float32) for a in (X, Y, V))
    matrix_calls = [
        (lambda a, b, v: cone.barrier_gradient(a)),
        (lambda a, b, v: cone.barrier_hessian(a)),
        (lambda a, b, v: cone.geodesic(a, b, 0.3)),
        (lambda a, b, v: cone.geodesic(a, b, 0.3, metric="bures-wasserstein")),
        (lambda a, b, v: cone.exp_map(a, v)),
        (lambda a, b, v: cone.log_map(a, b)),
        (lambda a, b, v: cone.mean(a)),
        (lambda a, b, v: cone.mean(a, metric="log-euclidean")),
        (lambda a, b, v: cone.project(v)),
        (lambda a, b, v: cone.vech(v)),
        (lambda a, b, v: cone.unvech(cone.vech(v))),
    ]
    for call in matrix_calls:
        single = call(X32, Y32, V32)
        double = call(X32.astype(np.float64), Y32.astype(np.float64), V32.astype(np.float64))
        assert single.dtype == np.float32
        assert double.dtype == np.float64
        np.testing.assert_allclose(single, double, rtol=1e-6, atol=1e-6)
    # Mixed precision gives float64.
    assert cone.geodesic(X32, Y, 0.3).dtype == np.float64
    assert cone.exp_map(X, V32).dtype == np.float64
    assert cone.log_map(X32, Y).dtype == np.float64
    value32 = cone.distance(X32, Y32)
    assert value32.dtype == np.float64
    np.testing.assert_allclose(value32, cone.distance(X, Y), rtol=1e-5)


def test_single_matrix_and_stack_agree():
    rng = np.random.default_rng(111)
    X = random_spd_expm(rng, 3, n=3)
    Y = random_spd_expm(rng, 3)
    stacked = cone.log_map(X, Y)
    for k in range(3):
        single = cone.log_map(X[k], Y)
        assert single.shape == (3, 3)
        np.testing.assert_allclose(stacked[k], single, atol=1e-13)
    assert cone.barrier_hessian(X).shape == (3, 6, 6)
    assert cone.project(X[0]).shape == (3, 3)
    integers = np.array([[2, 1], [1, 2]])
    assert cone.barrier_gradient(integers).dtype == np.float64


def test_overflowing_results_raise_instead_of_returning_nan():
    A, B = np.eye(3), np.diag([1.0, 2.0, 3.0])
    calls = [
        lambda: cone.exp_map(A, 1e4 * np.eye(3)),
        lambda: cone.geodesic(A, B, 1e4),
        lambda: cone.geodesic(A, B, 1e4, metric="log-euclidean"),
        lambda: cone.barrier_hessian(1e-200 * np.eye(2)),
    ]
    with np.errstate(over="ignore", invalid="ignore"):
        for call in calls:
            with pytest.raises(ValueError, match="not finite in float64"):
                call()
    assert np.isfinite(cone.geodesic(A, B, 3.0)).all()
