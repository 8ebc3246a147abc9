"""TransportPlanDensity against exact references: KernelDensity, scipy's normals, POT's plan."""

import numpy as np
import ot
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

from skqg import TransportPlanDensity
from skqg._kernels import gaussian_mixture
from skqg.transport import _plan_mixture
from skqg.transport._references import reference_sample


@pytest.fixture(scope="module")
def moons():
    X, _ = make_moons(300, noise=0.1, random_state=0)
    return X[:200], X[200:]


def _scipy_mixture(model, X):
    parts = [
        multivariate_normal(mean, cov).logpdf(X)
        for mean, cov in zip(model.means_, model.covariances_, strict=True)
    ]
    return logsumexp(np.column_stack(parts), axis=1) - np.log(len(parts))


def test_epsilon_zero_is_kernel_density(moons):
    X, X_test = moons
    model = TransportPlanDensity(epsilon=0.0, bandwidth=0.2).fit(X)
    kde = KernelDensity(bandwidth=0.2).fit(X)
    np.testing.assert_allclose(model.score_samples(X_test), kde.score_samples(X_test), rtol=1e-12)


def test_density_is_the_stated_gaussian_mixture(moons):
    X, X_test = moons
    model = TransportPlanDensity(epsilon=0.05, bandwidth=0.1, random_state=0).fit(X)
    assert model.means_.shape == (200, 2) and model.covariances_.shape == (200, 2, 2)
    np.testing.assert_allclose(
        model.score_samples(X_test), _scipy_mixture(model, X_test), rtol=1e-10
    )


def test_components_are_the_conditionals_of_pots_plan(moons):
    """means_ and covariances_ are E[x | y_j] and Cov[x | y_j] + s^2 I of the entropic plan."""
    X, _ = moons
    eps = 0.1
    model = TransportPlanDensity(
        epsilon=eps, bandwidth=0.05, n_reference=150, tol=1e-9, max_iter=10000, random_state=3
    ).fit(X)
    # The latent sample the estimator draws for random_state=3.
    seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    Y = reference_sample("normal", 150, 2, int(seed))
    Xc = X - X.mean(axis=0)
    plan = ot.sinkhorn(
        np.full(200, 1 / 200), np.full(150, 1 / 150), ot.dist(Xc, Y), eps,
        method="sinkhorn_log", stopThr=1e-12, numItermax=100000,
    )  # fmt: skip
    weights = plan / plan.sum(axis=0)
    means = weights.T @ X
    np.testing.assert_allclose(model.means_, means, atol=1e-6)
    centred = X[None, :, :] - means[:, None, :]
    covariances = np.einsum("ij,jik,jil->jkl", weights, centred, centred) + 0.05**2 * np.eye(2)
    np.testing.assert_allclose(model.covariances_, covariances, atol=1e-6)


def test_large_epsilon_tends_to_one_gaussian(moons):
    X, X_test = moons
    model = TransportPlanDensity(epsilon=1e4, bandwidth=1e-3, random_state=0).fit(X)
    gaussian = multivariate_normal(X.mean(axis=0), np.cov(X.T, bias=True))
    np.testing.assert_allclose(model.score_samples(X_test), gaussian.logpdf(X_test), atol=1e-2)


def test_parabola_refinement_finds_the_vertex():
    """On an exact parabola in log s the refined bandwidth and peak are the vertex."""
    bandwidths = np.logspace(-2, 0, 9)
    t = np.log(bandwidths)
    scores = np.vstack([-((t - np.log(0.07)) ** 2), -1.0 - (t - np.log(0.3)) ** 2])
    epsilon, bandwidth = _plan_mixture.best_pair(scores, [0.1, 0.2], bandwidths)
    assert epsilon == 0.1
    np.testing.assert_allclose(bandwidth, 0.07, rtol=1e-12)


def test_kernel_matches_scipy_for_several_inflations():
    rng = np.random.default_rng(0)
    means = rng.standard_normal((40, 3))
    factors = rng.standard_normal((40, 3, 3))
    covariances = factors @ factors.transpose(0, 2, 1)
    values, vectors = np.linalg.eigh(covariances)
    X = rng.standard_normal((25, 3))
    inflations = np.array([1e-3, 0.5, 4.0])
    out = gaussian_mixture.mixture_log_density(X, means, vectors, values, inflations)
    for s, inflation in enumerate(inflations):
        parts = [multivariate_normal(mu, c + inflation * np.eye(3)).logpdf(X) for mu, c in
                 zip(means, covariances, strict=True)]  # fmt: skip
        expected = logsumexp(np.column_stack(parts), axis=1) - np.log(40)
        np.testing.assert_allclose(out[:, s], expected, rtol=1e-11)


def test_auto_choice_is_the_best_held_out_pair(moons):
    X, X_test = moons
    model = TransportPlanDensity(random_state=0).fit(X)
    scores = model.cv_scores_
    assert scores.shape == (len(model.epsilon_grid_), len(model.bandwidth_grid_))
    e = int(np.flatnonzero(model.epsilon_grid_ == model.epsilon_)[0])
    # The fitted pair is the refined best of the recorded scores, and the bandwidth lies
    # within half a grid step of its row's best grid point.
    chosen = _plan_mixture.best_pair(scores, model.epsilon_grid_, model.bandwidth_grid_)
    assert chosen == (model.epsilon_, model.bandwidth_)
    b = int(np.argmax(scores[e]))
    step = np.log(model.bandwidth_grid_[1] / model.bandwidth_grid_[0])
    assert abs(np.log(model.bandwidth_ / model.bandwidth_grid_[b])) <= 0.5 * step + 1e-12
    # The chosen member is at least as good as the kernel density it nests, held out.
    kde = GridSearchCV(KernelDensity(), {"bandwidth": model.bandwidth_grid_}, cv=5).fit(X)
    assert model.score(X_test) >= kde.score(X_test) / len(X_test) - 0.05


def test_sample_follows_the_mixture(moons):
    X, _ = moons
    model = TransportPlanDensity(epsilon=0.05, bandwidth=0.1, random_state=0).fit(X)
    draws = model.sample(100_000, random_state=1)
    mean = model.means_.mean(axis=0)
    centred = model.means_ - mean
    cov = model.covariances_.mean(axis=0) + centred.T @ centred / len(centred)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.01)
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.01)
    # Draws and density agree: the mean log-density of the draws is the model's entropy,
    # estimated the same way from a second independent set of draws.
    again = model.sample(100_000, random_state=2)
    assert abs(model.score(draws) - model.score(again)) < 0.02
    np.testing.assert_array_equal(draws, model.sample(100_000, random_state=1))


def test_reproducible_and_thread_independent(moons):
    X, X_test = moons
    one = TransportPlanDensity(random_state=0, n_jobs=1).fit(X)
    two = TransportPlanDensity(random_state=0, n_jobs=2).fit(X)
    np.testing.assert_array_equal(one.cv_scores_, two.cv_scores_)
    np.testing.assert_array_equal(one.score_samples(X_test), two.score_samples(X_test))


def test_grid_search_on_score(moons):
    X, _ = moons
    search = GridSearchCV(
        TransportPlanDensity(bandwidth=0.1, random_state=0), {"epsilon": [0.0, 0.05]}, cv=3
    ).fit(X)
    assert search.best_params_["epsilon"] in (0.0, 0.05)


@pytest.mark.parametrize(
    ("params", "X", "message"),
    [
        ({}, np.ones((30, 2)), "constant"),
        ({"epsilon": 0.0, "bandwidth": 0.1, "n_reference": 10}, None, "epsilon=0 needs"),
        ({"epsilon": "auto", "bandwidth": "auto"}, "few", "at least 10 samples"),
        ({}, "nan", "NaN"),
    ],
)
def test_bad_input_and_failed_fit_keeps_the_model(moons, params, X, message):
    X_ok, X_test = moons
    fitted = TransportPlanDensity(epsilon=0.05, bandwidth=0.1, random_state=0).fit(X_ok)
    before = fitted.score_samples(X_test)
    if X is None:
        X = X_ok
    elif isinstance(X, str) and X == "few":
        X = X_ok[:6]
    elif isinstance(X, str):
        X = X_ok.copy()
        X[3, 1] = np.nan
    with pytest.raises(ValueError, match=message):
        fitted.set_params(**params).fit(X)
    np.testing.assert_array_equal(fitted.score_samples(X_test), before)


def test_bad_input_to_a_fitted_model(moons):
    X, X_test = moons
    model = TransportPlanDensity(epsilon=0.05, bandwidth=0.1, random_state=0).fit(X)
    bad = X_test.copy()
    bad[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"inf"):
        model.score_samples(bad)
    with pytest.raises(ValueError, match="features"):
        model.score_samples(X_test[:, :1])
    with pytest.raises(ValueError, match="n_samples"):
        model.sample(0)
    with pytest.raises(ValueError, match="bandwidth"):
        TransportPlanDensity(bandwidth=-1.0).fit(X)


@pytest.mark.parametrize("rank", [0, 2, 5])
def test_kernel_with_fewer_eigenvectors_than_features_matches_scipy(rank):
    """Rank-r components (r < d columns, one of them zero): the complement has variance s^2."""
    rng = np.random.default_rng(rank)
    d, m = 6, 15
    means = rng.standard_normal((m, d))
    vectors = np.linalg.qr(rng.standard_normal((m, d, d)))[0][:, :, :rank].copy()
    values = rng.uniform(0.1, 3.0, (m, rank))
    if rank:
        vectors[:, :, 0] = 0.0  # a zero column with a zero eigenvalue: left to the complement
        values[:, 0] = 0.0
    covariances = np.einsum("jkl,jl,jml->jkm", vectors, values, vectors)
    X = 2.0 * rng.standard_normal((20, d))
    inflations = np.array([0.05, 0.7, 3.0])
    out = gaussian_mixture.mixture_log_density(X, means, vectors, values, inflations)
    for s, inflation in enumerate(inflations):
        parts = [multivariate_normal(mu, c + inflation * np.eye(d)).logpdf(X) for mu, c in
                 zip(means, covariances, strict=True)]  # fmt: skip
        expected = logsumexp(np.column_stack(parts), axis=1) - np.log(m)
        np.testing.assert_allclose(out[:, s], expected, rtol=1e-11)


def test_wide_conditionals_equal_the_full_eigendecomposition():
    """Fewer points than features: the Gram-matrix eigenpairs give the same covariances and
    densities as eigendecomposing the d x d conditional covariances."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 20)) * np.linspace(0.5, 2.0, 20)
    X -= X.mean(axis=0)
    Y = reference_sample("normal", 8, 20, 4)
    wide = _plan_mixture.plan_mixture(X, Y, 5.0, tol=1e-12, max_iter=10_000)
    assert wide.vectors.shape == (8, 20, 8)
    f, _, _, _ = _plan_mixture.sinkhorn_potentials(X, Y, 5.0, tol=1e-12, max_iter=10_000)
    from skqg._kernels import entropic_map

    _, means, covariances = entropic_map.softmax_moments(Y, X, f, 1 / 5.0, entropic_map.COVARIANCE)
    np.testing.assert_allclose(wide.means, means, atol=1e-12)
    rebuilt = np.einsum("jkl,jl,jml->jkm", wide.vectors, wide.values, wide.vectors)
    np.testing.assert_allclose(rebuilt, covariances, atol=1e-12)
    values, vectors = np.linalg.eigh(covariances)
    full = _plan_mixture.PlanMixture(means, vectors, np.maximum(values, 0.0))
    queries = rng.standard_normal((10, 20))
    np.testing.assert_allclose(
        wide.log_density(queries, [0.1, 1.0]), full.log_density(queries, [0.1, 1.0]), rtol=1e-10
    )


def test_wide_data_fit_the_stated_mixture_and_sample_its_covariance():
    """12 points in 40 dimensions: the fitted model is still the Gaussian mixture of its
    attributes, and draws have the covariance of that mixture."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 40))
    model = TransportPlanDensity(epsilon=2.0, bandwidth=0.3, random_state=0).fit(X)
    assert model._vectors.shape == (12, 40, 12)
    np.testing.assert_allclose(model.score_samples(X[:4]), _scipy_mixture(model, X[:4]), rtol=1e-10)
    draws = model.sample(200_000, random_state=0)
    mixture_mean = model.means_.mean(axis=0)
    centred = model.means_ - mixture_mean
    mixture_cov = model.covariances_.mean(axis=0) + centred.T @ centred / len(centred)
    np.testing.assert_allclose(np.cov(draws.T), mixture_cov, atol=0.03)
