"""Property tests (hypothesis): invariances and round trips of the estimators and functions.

Conditioning of the generated inputs (every strategy states its own):

- SPD matrices are ``Q diag(lam) Q^T`` with ``Q`` orthogonal (from a QR factorisation) and
  eigenvalues ``lam`` in [0.5, 2]: condition number at most 4.
- Invertible maps ``A = Q1 diag(s) Q2`` have singular values ``s`` in [0.5, 2]: condition
  number at most 4, so ``A^T C A`` stays within condition 64 of an SPD ``C``.
- Scalings are in [0.2, 5], translations in [-10, 10] per coordinate.

Tolerances are relative and a few orders above rounding, except where an iterative solver
sets them (stated at the test).
"""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skqg import MongeAmpereTransport, WishartCovarianceModel, cone, rg, stats

P = 3
FINITE = {"allow_nan": False, "allow_infinity": False}
FAST = settings(max_examples=25, deadline=None)
SLOW = settings(max_examples=8, deadline=None)  # each example fits an iterative estimator


# ----------------------------------------------------------------------------------- strategies


@st.composite
def orthogonal(draw, p=P):
    """A p x p orthogonal matrix: Q of the QR factorisation of a bounded random matrix."""
    M = draw(arrays(np.float64, (p, p), elements=st.floats(-1, 1, **FINITE)))
    Q, R = np.linalg.qr(M + 1e-3 * np.eye(p))
    # Fix the signs so Q is a function of M (QR's signs are arbitrary).
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


@st.composite
def spd(draw, p=P):
    """An SPD matrix with eigenvalues in [0.5, 2] (condition number <= 4)."""
    Q = draw(orthogonal(p))
    eigenvalues = draw(arrays(np.float64, (p,), elements=st.floats(0.5, 2.0, **FINITE)))
    return (Q * eigenvalues) @ Q.T


@st.composite
def invertible(draw, p=P):
    """An invertible matrix with singular values in [0.5, 2] (condition number <= 4)."""
    Q1, Q2 = draw(orthogonal(p)), draw(orthogonal(p))
    singular = draw(arrays(np.float64, (p,), elements=st.floats(0.5, 2.0, **FINITE)))
    return (Q1 * singular) @ Q2


scalars = st.floats(0.2, 5.0, **FINITE)
translations = arrays(np.float64, (P,), elements=st.floats(-10, 10, **FINITE))
seeds = st.integers(0, 2**31 - 1)


def _observations(seed, n=40, p=P):
    """Well-conditioned Gaussian observations (covariance eigenvalues in [0.5, 2])."""
    rng = np.random.RandomState(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    return rng.normal(size=(n, p)) * np.sqrt(rng.uniform(0.5, 2.0, size=p)) @ Q.T


def _congruence(A, stack):
    return np.einsum("ji,njk,kl->nil", A, stack, A)


# ------------------------------------------------------------------------------- skqg.cone


@FAST
@given(spd(), spd(), st.sampled_from(["affine", "log-euclidean", "bures-wasserstein"]))
def test_distance_is_symmetric_and_zero_on_the_diagonal(A, B, metric):
    d_ab, d_ba = cone.distance(A, B, metric), cone.distance(B, A, metric)
    assert d_ab >= 0
    np.testing.assert_allclose(d_ab, d_ba, rtol=1e-10, atol=1e-12)
    assert cone.distance(A, A, metric) == pytest.approx(0.0, abs=1e-7)


@FAST
@given(spd(), spd(), invertible())
def test_affine_distance_is_invariant_under_congruence(A, B, G):
    """d(G A G^T, G B G^T) = d(A, B): the affine-invariant metric."""
    moved = cone.distance(G @ A @ G.T, G @ B @ G.T)
    np.testing.assert_allclose(moved, cone.distance(A, B), rtol=1e-8, atol=1e-10)


@FAST
@given(spd(), spd(), orthogonal(), scalars)
def test_log_euclidean_and_bures_are_invariant_under_rotation(A, B, Q, c):
    """Only rotations (and, for log-Euclidean, scalings) preserve these two metrics."""
    rotated = (Q @ A @ Q.T, Q @ B @ Q.T)
    for metric in ("log-euclidean", "bures-wasserstein"):
        np.testing.assert_allclose(
            cone.distance(*rotated, metric), cone.distance(A, B, metric), rtol=1e-8, atol=1e-10
        )
    scaled = cone.distance(c * A, c * B, "log-euclidean")
    np.testing.assert_allclose(scaled, cone.distance(A, B, "log-euclidean"), rtol=1e-8, atol=1e-10)


@FAST
@given(spd(), spd())
def test_exp_map_inverts_log_map(X, Y):
    np.testing.assert_allclose(cone.exp_map(X, cone.log_map(X, Y)), Y, rtol=1e-9, atol=1e-12)


@FAST
@given(spd(), spd(), st.floats(0.0, 1.0, **FINITE))
def test_geodesic_endpoints_and_constant_speed(A, B, t):
    np.testing.assert_allclose(cone.geodesic(A, B, 0.0), A, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cone.geodesic(A, B, 1.0), B, rtol=1e-9, atol=1e-12)
    # The affine geodesic has constant speed: d(A, gamma(t)) = t d(A, B).
    along = cone.distance(A, cone.geodesic(A, B, t))
    np.testing.assert_allclose(along, t * cone.distance(A, B), rtol=1e-7, atol=1e-9)


@FAST
@given(
    arrays(np.float64, (4, P, P), elements=st.floats(-1e3, 1e3, **FINITE)),
    st.sampled_from([1.0, np.sqrt(2.0)]),
)
def test_unvech_inverts_vech(M, weight):
    """Any symmetric matrices; with weight 1 the round trip is bit-exact."""
    X = M + np.swapaxes(M, 1, 2)
    back = cone.unvech(cone.vech(X, weight=weight), weight=weight)
    if weight == 1.0:
        np.testing.assert_array_equal(back, X)
    else:  # x * sqrt(2) / sqrt(2) can differ from x by one rounding
        np.testing.assert_allclose(back, X, rtol=4 * np.finfo(float).eps, atol=0)


@FAST
@given(spd())
def test_vech_preserves_the_frobenius_inner_product(X):
    """With the default weight sqrt(2), |vech(X)| = |X|_F (the isometry transform relies on)."""
    np.testing.assert_allclose(np.linalg.norm(cone.vech(X)), np.linalg.norm(X), rtol=1e-12)


# ------------------------------------------------------------------------------- skqg.stats


@FAST
@given(spd(), invertible(), st.floats(4.0, 50.0, **FINITE), seeds)
def test_wishart_logpdf_transforms_with_the_jacobian(scale, A, df, seed):
    """If S ~ W(df, V) then A^T S A ~ W(df, A^T V A), and densities change by |det A|^-(p+1)."""
    S = stats.wishart_sample(3, df, scale, random_state=seed)
    base = stats.wishart_logpdf(S, df, scale)
    moved = stats.wishart_logpdf(_congruence(A, S), df, A.T @ scale @ A)
    jacobian = (P + 1) * np.log(abs(np.linalg.det(A)))
    np.testing.assert_allclose(moved, base - jacobian, rtol=1e-8, atol=1e-8)


# ------------------------------------------------------------------------------- skqg.rg


lattices = st.sampled_from([(4, 4), (2, 6), (6, 4)])


@st.composite
def spin_configurations(draw):
    shape = draw(lattices)
    n_sites = shape[0] * shape[1]
    X = draw(arrays(np.int8, (3, n_sites), elements=st.sampled_from([-1, 1])))
    return X.astype(np.float64), shape


@FAST
@given(spin_configurations(), st.sampled_from(["majority", "decimation", "mean"]))
def test_block_spin_with_b1_is_the_identity(configs, rule):
    X, shape = configs
    np.testing.assert_array_equal(rg.block_spin(X, shape, b=1, rule=rule), X)


@FAST
@given(spin_configurations(), st.sampled_from(["majority", "decimation", "mean"]))
def test_block_spin_commutes_with_a_global_spin_flip(configs, rule):
    """Ties of the majority rule go to the top-left spin, which flips too."""
    X, shape = configs
    np.testing.assert_array_equal(
        rg.block_spin(-X, shape, rule=rule), -rg.block_spin(X, shape, rule=rule)
    )


@FAST
@given(spin_configurations(), st.integers(0, 5), st.integers(0, 5))
def test_ising_energy_is_invariant_under_flips_and_periodic_translations(configs, dy, dx):
    X, shape = configs
    energy = rg.ising_energy(X, shape)
    np.testing.assert_allclose(rg.ising_energy(-X, shape), energy, rtol=0, atol=1e-12)
    grid = X.reshape(len(X), *shape)
    shifted = np.roll(grid, (dy, dx), axis=(1, 2)).reshape(len(X), -1)
    np.testing.assert_allclose(rg.ising_energy(shifted, shape), energy, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ WishartCovarianceModel


@FAST
@given(seeds, invertible(), translations)
def test_empirical_covariance_is_affine_equivariant(seed, A, b):
    """shrinkage=None: location(XA + b) = location(X) A + b, Cov(XA + b) = A^T Cov(X) A."""
    X = _observations(seed)
    model = WishartCovarianceModel(shrinkage=None).fit(X)
    moved = WishartCovarianceModel(shrinkage=None).fit(X @ A + b)
    np.testing.assert_allclose(moved.location_, model.location_ @ A + b, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        moved.covariance_, A.T @ model.covariance_ @ A, rtol=1e-9, atol=1e-10
    )


@FAST
@given(
    seeds,
    orthogonal(),
    scalars,
    translations,
    st.sampled_from(["evidence", "oas", "ledoit-wolf", 0.3]),
)
def test_shrunk_covariance_is_equivariant_under_rotation_and_scaling(seed, Q, c, b, shrinkage):
    """Shrinkage towards a multiple of the identity is NOT affine-equivariant (the target is not
    A^T I A), only under X -> c X Q + b: Cov = c^2 Q^T Cov(X) Q. The evidence prior is fitted
    iteratively, hence its looser tolerance; its shrinkage_ is not compared, because near full
    shrinkage the evidence is flat in it (the optimum is prior_df -> inf) and the optimiser stops
    at 1 - 1e-6 or so, while the covariance it gives is the same to rounding."""
    X = _observations(seed)
    model = WishartCovarianceModel(shrinkage=shrinkage).fit(X)
    moved = WishartCovarianceModel(shrinkage=shrinkage).fit(c * X @ Q + b)
    rtol = 1e-6 if shrinkage == "evidence" else 1e-9
    np.testing.assert_allclose(
        moved.covariance_, c**2 * Q.T @ model.covariance_ @ Q, rtol=rtol, atol=rtol * c**2
    )
    if shrinkage != "evidence":
        np.testing.assert_allclose(moved.shrinkage_, model.shrinkage_, rtol=1e-9, atol=1e-12)


@FAST
@given(seeds, invertible(), st.floats(5.0, 30.0, **FINITE))
def test_matrix_model_is_affine_equivariant(seed, A, df):
    """3-D input: covariance_ (the mean) moves by congruence, df_ is invariant (the log-det
    statistics shift by a constant)."""
    S = stats.wishart_sample(30, df, np.eye(P) / df, random_state=seed)
    model = WishartCovarianceModel().fit(S)
    moved = WishartCovarianceModel().fit(_congruence(A, S))
    np.testing.assert_allclose(
        moved.covariance_, A.T @ model.covariance_ @ A, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(moved.df_, model.df_, rtol=1e-8)


@FAST
@given(seeds, st.sampled_from(["evidence", "ledoit-wolf", None]))
def test_observation_transform_round_trip(seed, shrinkage):
    X = _observations(seed)
    model = WishartCovarianceModel(shrinkage=shrinkage).fit(X)
    Z = model.transform(X)
    np.testing.assert_allclose(model.inverse_transform(Z), X, rtol=1e-9, atol=1e-9)
    # Whitened coordinates of the training data have the fitted covariance's identity.
    if shrinkage is None:
        np.testing.assert_allclose(np.cov(Z.T, bias=True), np.eye(P), atol=1e-9)


@FAST
@given(seeds, st.floats(5.0, 30.0, **FINITE))
def test_matrix_transform_round_trip(seed, df):
    S = stats.wishart_sample(20, df, np.eye(P) / df, random_state=seed)
    model = WishartCovarianceModel().fit(S)
    np.testing.assert_allclose(
        model.inverse_transform(model.transform(S)), S, rtol=1e-8, atol=1e-12
    )


# ---------------------------------------------------------------------- MongeAmpereTransport

# Sinkhorn stops at a marginal error tol; tol=1e-10 makes the map's solver error negligible
# next to the tolerances below (the default 1e-4 only gives equivariance to about 1e-3).
_SINKHORN = {"tol": 1e-10, "max_iter": 10_000, "random_state": 0}


@functools.cache
def _transport(solver="sinkhorn"):
    X = _observations(0, n=40, p=2)
    options = _SINKHORN if solver == "sinkhorn" else {"random_state": 0}
    return X, MongeAmpereTransport(solver=solver, **options).fit(X)


points = arrays(np.float64, (5, 2), elements=st.floats(-3.0, 3.0, **FINITE))


@SLOW
@given(
    st.floats(0.2, 5.0, **FINITE),
    arrays(np.float64, (2,), elements=st.floats(-10, 10, **FINITE)),
    points,
    st.sampled_from(["sinkhorn", "gaussian"]),
)
def test_transport_is_translation_and_scale_equivariant(c, b, x, solver):
    """Fitting on c X + b gives the same map (epsilon="auto" scales with the data) and the
    density of c x + b is the density of x over c^d.

    Not asserted for solver="exact": the network simplex's dual potential is not unique (the
    optimal plan of n uniform points onto n is a degenerate assignment), so the smoothed
    out-of-sample map depends on which dual the solver returns.
    """
    X, model = _transport(solver)
    options = _SINKHORN if solver == "sinkhorn" else {"random_state": 0}
    moved = MongeAmpereTransport(solver=solver, **options).fit(c * X + b)
    np.testing.assert_allclose(moved.transform(c * x + b), model.transform(x), rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        moved.score_samples(c * x + b), model.score_samples(x) - 2 * np.log(c), rtol=0, atol=1e-5
    )


@FAST
@given(points, st.sampled_from(["sinkhorn", "gaussian"]))
def test_transport_inverse_transform_round_trip(x, solver):
    _, model = _transport(solver)
    np.testing.assert_allclose(model.inverse_transform(model.transform(x)), x, rtol=0, atol=1e-8)
    y = model.transform(x)
    np.testing.assert_allclose(model.transform(model.inverse_transform(y)), y, rtol=0, atol=1e-8)


@FAST
@given(points)
def test_transport_map_is_monotone(x):
    """A Brenier map is the gradient of a convex function: <T(x) - T(y), x - y> >= 0."""
    _, model = _transport()
    y = x[::-1] + 0.1
    inner = np.sum((model.transform(x) - model.transform(y)) * (x - y), axis=1)
    assert np.all(inner >= -1e-10)
