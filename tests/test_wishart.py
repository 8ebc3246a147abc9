"""WishartCovarianceModel against exact and independent references.

2-D observations are checked against scikit-learn's covariance estimators, the closed-form
probabilistic-PCA maximum-likelihood fit, scikit-learn's FactorAnalysis and a log marginal
likelihood of the inverse-Wishart prior written here with ``scipy.special.multigammaln``. 3-D
stacks of SPD matrices are checked against ``scipy.stats.wishart`` and matrix functions from
``scipy.linalg``. The scikit-learn API contract of the 2-D form is covered by
tests/test_common.py; here the 3-D form gets the same treatment by hand.
"""

import pickle
import re

import numpy as np
import pytest
from _helpers import random_spd
from scipy import linalg
from scipy import stats as sps
from scipy.optimize import minimize
from scipy.special import multigammaln
from sklearn.base import clone
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf, ShrunkCovariance
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from skqg import WishartCovarianceModel
from skqg.stats import MarchenkoPasturComparison, marchenko_pastur_test, wishart_sample


# ------------------------------------------------------------------ helpers
def shrinkage_example():
    """The data of scikit-learn's "Shrinkage covariance estimation" example (n=20, p=40).

    The example seeds the global generator (``np.random.seed(42)``); a ``RandomState(42)``
    draws the same numbers without touching global state.
    """
    rng = np.random.RandomState(42)
    n_samples, n_features = 20, 40
    base_X_train = rng.normal(size=(n_samples, n_features))
    base_X_test = rng.normal(size=(n_samples, n_features))
    coloring_matrix = rng.normal(size=(n_features, n_features))
    return base_X_train @ coloring_matrix, base_X_test @ coloring_matrix


def heteroscedastic_example():
    """The data of scikit-learn's "Model selection with PPCA and FA" example (rank 5)."""
    n_samples, n_features, rank = 500, 25, 5
    rng = np.random.RandomState(42)
    U, _, _ = linalg.svd(rng.randn(n_features, n_features))
    X = rng.randn(n_samples, rank) @ U[:, :rank].T
    sigmas = 1 * rng.rand(n_features) + 1 / 2
    return X + rng.randn(n_samples, n_features) * sigmas, sigmas


def log_marginal_likelihood(nu0, tau, scatter, n_dof):
    """log p(A | nu0, tau) up to terms free of the prior, for A ~ W(n, Sigma), Sigma ~ IW."""
    p = scatter.shape[0]
    _, logdet = np.linalg.slogdet(tau * np.eye(p) + scatter)
    return (
        multigammaln(0.5 * (nu0 + n_dof), p)
        - multigammaln(0.5 * nu0, p)
        + 0.5 * nu0 * p * np.log(tau)
        - 0.5 * (nu0 + n_dof) * logdet
    )


def vech(M):
    """Row-major upper triangle with off-diagonal entries times sqrt(2)."""
    rows, cols = np.triu_indices(M.shape[0])
    return M[rows, cols] * np.where(rows == cols, 1.0, np.sqrt(2.0))


def log_vectors(S, C):
    """vech(logm(C^{-1/2} S C^{-1/2})) for each matrix, with scipy.linalg."""
    inverse_root = linalg.inv(linalg.sqrtm(C).real)
    return np.array([vech(linalg.logm(inverse_root @ s @ inverse_root).real) for s in S])


def fitted_attributes(est):
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


def wishart_stack(n=200, p=4, df=10.0, seed=0):
    C = random_spd(p, seed=seed)
    return wishart_sample(n, df, C / df, random_state=seed + 1), C


def window_covariances(n_matrices=20, n_times=32, p=64, seed=0, centred=False):
    """Sample covariances of short windows of correlated Gaussian data (rank-deficient)."""
    rng = np.random.RandomState(seed)
    mixing = np.eye(p) + rng.normal(size=(p, p)) / np.sqrt(p)
    windows = rng.normal(size=(n_matrices, n_times, p)) @ mixing.T
    if centred:
        windows = windows - windows.mean(axis=1, keepdims=True)
        return np.einsum("nti,ntj->nij", windows, windows) / (n_times - 1), windows
    return np.einsum("nti,ntj->nij", windows, windows) / n_times, windows


# ------------------------------------------------------------------ 2-D: scikit-learn estimators
SKLEARN_EQUIVALENTS = [
    (None, EmpiricalCovariance),
    ("ledoit-wolf", LedoitWolf),
    ("oas", OAS),
    (0.3, lambda **kw: ShrunkCovariance(shrinkage=0.3, **kw)),
    (0.0, lambda **kw: ShrunkCovariance(shrinkage=0.0, **kw)),
    (1.0, lambda **kw: ShrunkCovariance(shrinkage=1.0, **kw)),
]


@pytest.mark.parametrize("assume_centered", [False, True])
@pytest.mark.parametrize(("shrinkage", "reference"), SKLEARN_EQUIVALENTS)
def test_observations_match_sklearn_covariance(shrinkage, reference, assume_centered):
    rng = np.random.RandomState(0)
    mixing = rng.normal(size=(6, 6))
    X = rng.normal(size=(60, 6)) @ mixing + 3.0
    X_test = rng.normal(size=(40, 6)) @ mixing + 3.0
    model = WishartCovarianceModel(shrinkage=shrinkage, assume_centered=assume_centered).fit(X)
    ref = reference(assume_centered=assume_centered).fit(X)

    np.testing.assert_allclose(model.covariance_, ref.covariance_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.location_, ref.location_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.precision_, ref.precision_, rtol=1e-10, atol=1e-12)
    assert model.score(X_test) == pytest.approx(ref.score(X_test), rel=1e-10)
    np.testing.assert_allclose(model.mahalanobis(X_test), ref.mahalanobis(X_test), rtol=1e-10)
    if shrinkage is None:
        assert not hasattr(model, "shrinkage_")
    elif isinstance(shrinkage, float):
        assert model.shrinkage_ == shrinkage
    else:
        assert model.shrinkage_ == pytest.approx(ref.shrinkage_, rel=1e-12)
    if assume_centered:
        assert np.array_equal(model.location_, np.zeros(6))


# ------------------------------------------------------------------ 2-D: evidence
def evidence_datasets():
    X_train, _ = shrinkage_example()
    rng = np.random.RandomState(0)
    return {
        "sklearn-example": X_train,
        "many-samples": rng.normal(size=(5000, 10)) @ rng.normal(size=(10, 10)),
        "nearly-isotropic": 2.0 * rng.normal(size=(2000, 10)),
        "mild-correlation": rng.normal(size=(50, 10))
        @ (np.eye(10) + 0.3 * rng.normal(size=(10, 10))),
    }


@pytest.mark.parametrize("name", list(evidence_datasets()))
def test_evidence_maximises_the_marginal_likelihood(name):
    X = evidence_datasets()[name]
    n_samples, p = X.shape
    n_dof = n_samples - 1
    model = WishartCovarianceModel(shrinkage="evidence").fit(X)
    centred = X - X.mean(axis=0)
    scatter = centred.T @ centred
    nu0, tau = model.prior_df_, model.prior_scale_
    # The domain: priors with a mean (nu0 > p + 1), so that the shrinkage weight is in [0, 1].
    assert nu0 > p + 1 and tau > 0
    assert 0.0 <= model.shrinkage_ <= 1.0

    best = log_marginal_likelihood(nu0, tau, scatter, n_dof)
    for rel in (0.01, 0.1):
        for d_nu in (-rel, 0.0, rel):
            for d_tau in (-rel, 0.0, rel):
                if d_nu == d_tau == 0.0 or nu0 * (1 + d_nu) <= p + 1:
                    continue  # the centre, or a prior without a mean
                other = log_marginal_likelihood(nu0 * (1 + d_nu), tau * (1 + d_tau), scatter, n_dof)
                assert best > other, (d_nu, d_tau)

    # An independent optimiser over the whole domain finds nothing better.
    result = minimize(
        lambda v: -log_marginal_likelihood(p + 1 + np.exp(v[0]), np.exp(v[1]), scatter, n_dof),
        x0=[0.0, np.log(np.trace(scatter) / p)],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
    )
    assert best >= -result.fun - 1e-7 * max(1.0, abs(best))

    # covariance_ is the posterior mean of IW(nu0 + n, tau I + A).
    expected = (tau * np.eye(p) + scatter) / (nu0 + n_dof - p - 1)
    np.testing.assert_allclose(model.covariance_, expected, rtol=1e-12, atol=0)
    assert model.shrinkage_ == pytest.approx(1.0 - n_dof / (nu0 + n_dof - p - 1), rel=1e-12)


def test_evidence_assume_centered_uses_the_raw_scatter():
    rng = np.random.RandomState(8)
    X = rng.normal(size=(30, 6)) @ (np.eye(6) + 0.5 * rng.normal(size=(6, 6)))
    n, p = X.shape
    model = WishartCovarianceModel(shrinkage="evidence", assume_centered=True).fit(X)
    scatter = X.T @ X
    nu0, tau = model.prior_df_, model.prior_scale_
    best = log_marginal_likelihood(nu0, tau, scatter, n)
    for d_nu, d_tau in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        if nu0 * (1 + d_nu) <= p + 1:
            continue  # a prior without a mean: outside the domain
        other = log_marginal_likelihood(nu0 * (1 + d_nu), tau * (1 + d_tau), scatter, n)
        assert best > other
    np.testing.assert_allclose(
        model.covariance_, (tau * np.eye(p) + scatter) / (nu0 + n - p - 1), rtol=1e-12
    )
    assert np.array_equal(model.location_, np.zeros(p))


@pytest.mark.parametrize(
    "params",
    [{}, {"n_components": 3}, {"n_components": 3, "noise": "isotropic"}, {"shrinkage": "oas"}],
)
def test_observation_fit_is_equivariant(params):
    # The prior tau I is invariant under rotations and the fit under translations; rescaling the
    # data rescales the covariance.
    rng = np.random.RandomState(9)
    X = rng.normal(size=(200, 8)) @ rng.normal(size=(8, 8)) + rng.normal(size=(200, 8))
    Q, _ = linalg.qr(rng.normal(size=(8, 8)))
    base = WishartCovarianceModel(**params).fit(X)
    scale = np.abs(base.covariance_).max()
    # Factor analysis is iterative: equal only to its optimisation tolerance (tol=1e-6).
    iterative = params.get("noise", "diagonal") == "diagonal" and "n_components" in params
    tolerance = 1e-6 if iterative else 1e-8
    for c in (1e-8, 1e8):
        moved = c * (X + 7.0)  # translation too: only the centred data matter
        scaled = WishartCovarianceModel(**params).fit(moved)
        np.testing.assert_allclose(
            scaled.covariance_ / c**2, base.covariance_, rtol=0, atol=tolerance * scale
        )
        np.testing.assert_allclose(scaled.location_ / c - 7.0, base.location_, atol=1e-8)
        np.testing.assert_allclose(scaled.score(moved) + 8 * np.log(c), base.score(X), rtol=1e-8)
    if "n_components" not in params:  # factor analysis is not rotation invariant
        rotated = WishartCovarianceModel(**params).fit(X @ Q)
        np.testing.assert_allclose(
            rotated.covariance_, Q.T @ base.covariance_ @ Q, rtol=0, atol=1e-8 * scale
        )


def test_evidence_on_sklearn_shrinkage_example_beats_ledoit_wolf():
    X_train, X_test = shrinkage_example()
    model = WishartCovarianceModel().fit(X_train)
    negative_log_likelihood = -model.score(X_test)
    assert negative_log_likelihood <= 127.05
    assert negative_log_likelihood < -LedoitWolf().fit(X_train).score(X_test)
    assert negative_log_likelihood < -OAS().fit(X_train).score(X_test)
    # The docstring's claim: better than almost-total shrinkage, on the training data too.
    assert model.score(X_train) > WishartCovarianceModel(shrinkage=0.99).fit(X_train).score(X_train)


def test_evidence_with_many_samples_is_the_empirical_covariance():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(5000, 10)) @ rng.normal(size=(10, 10))
    model = WishartCovarianceModel(shrinkage="evidence").fit(X)
    empirical = EmpiricalCovariance().fit(X).covariance_
    assert abs(model.shrinkage_) < 0.01
    assert linalg.norm(model.covariance_ - empirical) < 0.01 * linalg.norm(empirical)


def test_evidence_shrinks_isotropic_data_strongly():
    rng = np.random.RandomState(2)
    X = 2.0 * rng.normal(size=(30, 10))
    model = WishartCovarianceModel().fit(X)
    empirical = EmpiricalCovariance().fit(X).covariance_
    assert model.shrinkage_ > 0.9
    off_diagonal = model.covariance_ - np.diag(np.diag(model.covariance_))
    assert np.abs(off_diagonal).max() < 0.01 * np.diag(model.covariance_).min()
    truth = 4.0 * np.eye(10)
    assert linalg.norm(model.covariance_ - truth) < 0.5 * linalg.norm(empirical - truth)


# ------------------------------------------------------------------ 2-D: latent structure
@pytest.mark.parametrize("n_components", [1, 3, 5, 24])
def test_isotropic_noise_is_the_ppca_mle(n_components):
    X, _ = heteroscedastic_example()
    n_samples, p = X.shape
    model = WishartCovarianceModel(n_components, noise="isotropic").fit(X)

    centred = X - X.mean(axis=0)
    eigenvalues, eigenvectors = linalg.eigh(centred.T @ centred / n_samples)
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    sigma2 = eigenvalues[n_components:].mean()
    U = eigenvectors[:, :n_components]
    expected = U @ np.diag(eigenvalues[:n_components]) @ U.T + sigma2 * (np.eye(p) - U @ U.T)

    np.testing.assert_allclose(model.covariance_, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.noise_variance_, np.full(p, sigma2), rtol=1e-10)
    assert model.components_.shape == (n_components, p)
    np.testing.assert_allclose(
        model.components_.T @ model.components_ + sigma2 * np.eye(p), expected, atol=1e-10
    )
    # PCA's covariance is the same model with n - 1 denominators.
    pca = PCA(n_components=n_components).fit(X)
    np.testing.assert_allclose(
        model.covariance_, pca.get_covariance() * (n_samples - 1) / n_samples, atol=1e-10
    )
    assert model.n_iter_ == 1


@pytest.mark.parametrize("n_components", [1, 2, 5])
def test_diagonal_noise_matches_sklearn_factor_analysis(n_components):
    X, _ = heteroscedastic_example()
    model = WishartCovarianceModel(n_components, tol=1e-9, max_iter=10000).fit(X)
    # svd_method="lapack": the default randomized SVD stops FactorAnalysis early on this data.
    with threadpool_limits(1):
        fa = FactorAnalysis(n_components, tol=1e-8, max_iter=10000, svd_method="lapack").fit(X)
    # Never worse than scikit-learn; equal where both reach the same optimum.
    assert model.score(X) >= fa.score(X) - 1e-6
    if n_components > 1:
        assert model.score(X) == pytest.approx(fa.score(X), abs=1e-4)
        np.testing.assert_allclose(model.covariance_, fa.get_covariance(), atol=5e-3)
    np.testing.assert_allclose(
        model.covariance_,
        model.components_.T @ model.components_ + np.diag(model.noise_variance_),
        atol=1e-12,
    )


def test_factor_analysis_recovers_heteroscedastic_noise():
    X, sigmas = heteroscedastic_example()
    model = WishartCovarianceModel(5).fit(X)
    ppca = WishartCovarianceModel(5, noise="isotropic").fit(X)
    error = np.abs(model.noise_variance_ / sigmas**2 - 1.0)
    assert np.median(error) < 0.15
    assert model.score(X) > ppca.score(X)


def test_factor_analysis_warns_when_not_converged():
    X, _ = heteroscedastic_example()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        model = WishartCovarianceModel(3, max_iter=2).fit(X)
    assert model.n_iter_ == 2


def test_gridsearch_selects_the_true_rank_with_diagonal_noise():
    X, _ = heteroscedastic_example()
    search = GridSearchCV(WishartCovarianceModel(), {"n_components": [2, 4, 5, 6, 8]}, cv=3).fit(X)
    assert search.best_params_ == {"n_components": 5}


# ------------------------------------------------------------------ 2-D: transforms, sampling
@pytest.mark.parametrize("shrinkage", [None, "evidence", "ledoit-wolf", 0.5])
def test_transform_round_trip_full_model(shrinkage):
    rng = np.random.RandomState(3)
    X = rng.normal(size=(80, 7)) @ rng.normal(size=(7, 7)) + 5.0
    X_new = rng.normal(size=(30, 7)) * 4.0
    model = WishartCovarianceModel(shrinkage=shrinkage).fit(X)
    Z = model.transform(X_new)
    assert Z.shape == (30, 7)
    np.testing.assert_allclose(model.inverse_transform(Z), X_new, rtol=0, atol=1e-10)
    # Whitening: squared norms are the Mahalanobis distances.
    np.testing.assert_allclose((Z**2).sum(axis=1), model.mahalanobis(X_new), rtol=1e-10)


@pytest.mark.parametrize("assume_centered", [False, True])
def test_whitened_training_data_has_identity_covariance(assume_centered):
    rng = np.random.RandomState(4)
    X = rng.normal(size=(200, 5)) @ rng.normal(size=(5, 5)) + 1.0
    model = WishartCovarianceModel(shrinkage=None, assume_centered=assume_centered).fit(X)
    Z = model.transform(X)
    np.testing.assert_allclose(Z.T @ Z / len(Z), np.eye(5), atol=1e-10)
    if not assume_centered:
        np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("noise", ["diagonal", "isotropic"])
def test_latent_transform_is_the_posterior_mean(noise):
    X, _ = heteroscedastic_example()
    model = WishartCovarianceModel(4, noise=noise).fit(X)
    Z = model.transform(X[:50])
    W = model.components_.T
    # E[z | x] = W^T Sigma^{-1} (x - mu), from the joint Gaussian of (z, x).
    sigma = W @ W.T + np.diag(model.noise_variance_)
    expected = linalg.solve(sigma, (X[:50] - model.location_).T, assume_a="pos").T @ W
    np.testing.assert_allclose(Z, expected, atol=1e-10)
    # scikit-learn's FactorAnalysis.transform with the same parameters.
    fa = FactorAnalysis(4)
    fa.components_, fa.noise_variance_ = model.components_, model.noise_variance_
    fa.mean_ = model.location_
    fa.n_features_in_ = X.shape[1]
    np.testing.assert_allclose(Z, fa.transform(X[:50]), atol=1e-10)
    np.testing.assert_allclose(model.inverse_transform(Z), Z @ W.T + model.location_, atol=1e-12)
    assert model.get_feature_names_out().shape == (4,)


@pytest.mark.parametrize(
    "params",
    [{"shrinkage": None}, {}, {"n_components": 2}, {"n_components": 2, "noise": "isotropic"}],
)
def test_score_samples_is_the_gaussian_log_density(params):
    rng = np.random.RandomState(5)
    X = rng.normal(size=(100, 6)) @ rng.normal(size=(6, 6)) - 2.0
    X_test = rng.normal(size=(25, 6)) * 3.0
    model = WishartCovarianceModel(**params).fit(X)
    expected = sps.multivariate_normal(model.location_, model.covariance_).logpdf(X_test)
    np.testing.assert_allclose(model.score_samples(X_test), expected, rtol=1e-10)
    assert model.score(X_test) == pytest.approx(expected.mean(), rel=1e-10)
    np.testing.assert_allclose(model.precision_ @ model.covariance_, np.eye(6), atol=1e-10)


def test_sample_observations_have_the_model_covariance():
    rng = np.random.RandomState(6)
    X = rng.normal(size=(100, 4)) @ rng.normal(size=(4, 4)) + 3.0
    model = WishartCovarianceModel().fit(X)
    n = 40000
    draws = model.sample(n, random_state=0)
    assert draws.shape == (n, 4)
    C = model.covariance_
    mean_error = np.sqrt(np.diag(C) / n)
    assert np.all(np.abs(draws.mean(axis=0) - model.location_) < 5 * mean_error)
    covariance_error = np.sqrt((C**2 + np.outer(np.diag(C), np.diag(C))) / n)
    assert np.all(np.abs(np.cov(draws.T) - C) < 5 * covariance_error)
    assert np.array_equal(model.sample(10, random_state=3), model.sample(10, random_state=3))
    assert not np.array_equal(model.sample(10, random_state=3), model.sample(10, random_state=4))


# ------------------------------------------------------------------ 2-D: diagnostics
def test_unregularised_rank_deficient_observations_raise():
    X = np.random.RandomState(7).normal(size=(5, 10))
    with pytest.raises(ValueError, match=r"rank 4 of 10.*smallest eigenvalue"):
        WishartCovarianceModel(shrinkage=None).fit(X)
    # Any regulariser fits the same data.
    for shrinkage in ("evidence", "oas", "ledoit-wolf", 0.1):
        model = WishartCovarianceModel(shrinkage=shrinkage).fit(X)
        assert np.linalg.eigvalsh(model.covariance_).min() > 0


def test_goodness_of_fit_observations_gaussian_versus_heavy_tailed():
    # The p-value treats location_ and covariance_ as known: fit on much more data than is
    # tested, and test held-out data.
    p, n_train, n_test = 20, 40000, 2000
    rng = np.random.RandomState(0)
    gaussian = WishartCovarianceModel(shrinkage=None).fit(rng.normal(size=(n_train, p)))
    result = gaussian.goodness_of_fit(rng.normal(size=(n_test, p)))
    assert result.pvalue > 0.05
    assert result.df == n_test

    heavy = sps.multivariate_t(np.zeros(p), np.eye(p), df=3)
    model = WishartCovarianceModel(shrinkage=None).fit(heavy.rvs(size=n_train, random_state=1))
    result = model.goodness_of_fit(heavy.rvs(size=n_test, random_state=2))
    assert result.pvalue < 1e-6
    with pytest.raises(ValueError, match="n_samples >= n_features"):
        model.goodness_of_fit(heavy.rvs(size=p - 1, random_state=3))


def test_spectrum_observations_follow_marchenko_pastur_for_white_noise():
    p, n_train, n_test = 100, 20000, 500
    rng = np.random.RandomState(1)
    model = WishartCovarianceModel(shrinkage=None).fit(rng.normal(size=(n_train, p)))
    X = rng.normal(size=(n_test, p))
    eigenvalues, comparison = model.spectrum(X)
    centred = X - model.location_
    expected = np.sort(linalg.eigvals(linalg.solve(model.covariance_, centred.T @ centred)).real)
    np.testing.assert_allclose(eigenvalues, expected / n_test, rtol=1e-8)
    assert isinstance(comparison, MarchenkoPasturComparison)
    assert comparison == marchenko_pastur_test(eigenvalues, p / n_test)
    assert comparison.ks_distance < 0.05
    # Five spikes (variance 9) stand out.
    spiked = rng.normal(size=(n_test, p))
    spiked[:, :5] *= 3.0
    _, spiked_comparison = model.spectrum(spiked)
    assert spiked_comparison.ks_distance > comparison.ks_distance
    assert (eigenvalues > comparison.upper_edge * 1.5).sum() == 0
    assert (model.spectrum(spiked)[0] > comparison.upper_edge * 1.5).sum() == 5


# ------------------------------------------------------------------ 3-D: the Wishart fit
@pytest.fixture(scope="module")
def wishart_population():
    p, df = 8, 20.0
    C = random_spd(p, seed=0)
    S = wishart_sample(2000, df, C / df, random_state=1)
    return S, C, df, WishartCovarianceModel().fit(S)


def test_wishart_fit_recovers_df_and_covariance(wishart_population):
    S, C, df, model = wishart_population
    assert model.df_ == pytest.approx(df, rel=0.02)
    assert linalg.norm(model.covariance_ - C) < 0.03 * linalg.norm(C)
    np.testing.assert_allclose(model.covariance_, S.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.scale_, model.covariance_ / model.df_, rtol=1e-12)
    np.testing.assert_allclose(model.precision_ @ model.covariance_, np.eye(8), atol=1e-10)
    assert model.n_features_in_ == 8
    assert model.n_regularised_ == 0
    assert not hasattr(model, "location_")


def test_one_by_one_matrices_are_the_gamma_mle():
    # W_1(df, s) is Gamma(df / 2, 2 s): df_ / 2 is the gamma shape MLE.
    S = wishart_sample(500, 7.0, np.array([[0.3]]), random_state=0)
    model = WishartCovarianceModel().fit(S)
    shape, _, scale = sps.gamma.fit(S.ravel(), floc=0)
    assert model.df_ / 2 == pytest.approx(shape, rel=1e-7)
    assert model.covariance_[0, 0] == pytest.approx(shape * scale, rel=1e-7)
    np.testing.assert_allclose(
        model.score_samples(S),
        sps.gamma(model.df_ / 2, scale=2 * model.scale_[0, 0]).logpdf(S.ravel()),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        model.transform(S).ravel(), np.log(S.ravel() / model.covariance_[0, 0]), atol=1e-12
    )


def test_wishart_fit_is_affine_invariant():
    S, _ = wishart_stack(n=150, p=4, df=8.0, seed=5)
    A = np.random.RandomState(6).normal(size=(4, 4)) + 3 * np.eye(4)
    moved = A @ S @ A.T
    base = WishartCovarianceModel().fit(S)
    model = WishartCovarianceModel().fit(moved)
    assert model.df_ == pytest.approx(base.df_, rel=1e-9)
    np.testing.assert_allclose(model.covariance_, A @ base.covariance_ @ A.T, rtol=1e-10)
    # log f(A S A^T) = log f(S) - (p + 1) log|det A| for the transported parameters.
    shift = 5 * np.log(abs(np.linalg.det(A)))
    np.testing.assert_allclose(model.score_samples(moved), base.score_samples(S) - shift, rtol=1e-9)
    # Whitening at the transported mean is an isometry: distances between rows agree.
    T, T0 = model.transform(moved), base.transform(S)
    distances = np.linalg.norm(T[:, None] - T[None], axis=2)
    np.testing.assert_allclose(distances, np.linalg.norm(T0[:, None] - T0[None], axis=2), atol=1e-9)
    # A pure rescaling leaves the tangent vectors themselves unchanged.
    np.testing.assert_allclose(
        WishartCovarianceModel().fit(1e6 * S).transform(1e6 * S), T0, rtol=0, atol=1e-10
    )


def test_identical_matrices_need_a_fixed_df():
    C = random_spd(3, seed=3)
    S = np.stack([C, C, C])
    with pytest.raises(ValueError, match="Pass df explicitly"):
        WishartCovarianceModel().fit(S)
    model = WishartCovarianceModel(df=10.0).fit(S)
    np.testing.assert_allclose(model.covariance_, C, rtol=1e-12)
    np.testing.assert_allclose(model.transform(S), 0.0, atol=1e-12)


def test_wishart_df_is_the_profile_mle():
    S, _ = wishart_stack(n=300, p=5, df=9.0, seed=4)
    model = WishartCovarianceModel().fit(S)
    mean = S.mean(axis=0)

    def log_likelihood(nu):
        return sps.wishart(nu, mean / nu).logpdf(np.moveaxis(S, 0, -1)).sum()

    best = log_likelihood(model.df_)
    for rel in (-0.01, -1e-4, 1e-4, 0.01):
        assert best > log_likelihood(model.df_ * (1 + rel))


def test_wishart_score_samples_match_scipy(wishart_population):
    S, _, _, model = wishart_population
    expected = sps.wishart(model.df_, model.scale_).logpdf(np.moveaxis(S, 0, -1))
    np.testing.assert_allclose(model.score_samples(S), expected, rtol=1e-10)
    assert model.score(S) == pytest.approx(expected.mean(), rel=1e-10)


def test_fixed_df_is_used_as_given():
    S, _ = wishart_stack(n=100, p=4, df=10.0)
    model = WishartCovarianceModel(df=20.0).fit(S)
    assert model.df_ == 20.0
    np.testing.assert_allclose(model.scale_, S.mean(axis=0) / 20.0, rtol=1e-12)
    expected = sps.wishart(20.0, model.scale_).logpdf(np.moveaxis(S, 0, -1))
    np.testing.assert_allclose(model.score_samples(S), expected, rtol=1e-10)
    assert WishartCovarianceModel(df=3.5).fit(S).df_ == 3.5
    for df in (3.0, 2.0, 0.5):
        with pytest.raises(ValueError, match=r"must be > p - 1 = 3"):
            WishartCovarianceModel(df=df).fit(S)


# ------------------------------------------------------------------ 3-D: tangent vectors
def test_transform_matches_scipy_matrix_logarithm(wishart_population):
    S, _, _, model = wishart_population
    T = model.transform(S)
    assert T.shape == (2000, 36)
    np.testing.assert_allclose(T[:40], log_vectors(S[:40], model.covariance_), atol=1e-10)
    names = model.get_feature_names_out()
    assert len(names) == 36
    assert names[0] == "wishartcovariancemodel0"


def test_transform_layout_is_row_major_upper_triangle():
    # At C = I the vector is vech(logm(S)); a diagonal-plus-one-pair matrix pins the layout.
    p = 3
    S = np.stack([np.eye(p), np.eye(p)])
    model = WishartCovarianceModel(df=10.0).fit(S)
    L = np.array([[0.1, 0.0, 0.3], [0.0, -0.2, 0.0], [0.3, 0.0, 0.5]])
    T = model.transform(linalg.expm(L)[np.newaxis])[0]
    s = np.sqrt(2.0)
    np.testing.assert_allclose(T, [0.1, 0.0, 0.3 * s, -0.2, 0.0, 0.5], atol=1e-12)


def test_inverse_transform_round_trip(wishart_population):
    S, _, _, model = wishart_population
    back = model.inverse_transform(model.transform(S[:200]))
    assert back.shape == (200, 8, 8)
    np.testing.assert_allclose(back, S[:200], rtol=0, atol=1e-10 * np.abs(S[:200]).max())
    # Any vector maps to an SPD matrix that transforms back to it.
    V = np.random.RandomState(0).normal(size=(10, 36))
    matrices = model.inverse_transform(V)
    assert np.linalg.eigvalsh(matrices).min() > 0
    np.testing.assert_allclose(model.transform(matrices), V, atol=1e-10)


def test_tangent_distances_are_frobenius_log_distances(wishart_population):
    S, _, _, model = wishart_population
    T = model.transform(S[:6])
    inverse_root = linalg.inv(linalg.sqrtm(model.covariance_).real)
    logs = [linalg.logm(inverse_root @ s @ inverse_root).real for s in S[:6]]
    for i in range(6):
        for j in range(i + 1, 6):
            assert linalg.norm(T[i] - T[j]) == pytest.approx(
                linalg.norm(logs[i] - logs[j], "fro"), rel=1e-10
            )


# ------------------------------------------------------------------ 3-D: API
def test_clone_and_pickle_three_d():
    S, _ = wishart_stack(n=50, p=4)
    model = WishartCovarianceModel(shrinkage=0.1, df=12.0).fit(S)
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "covariance_")
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.transform(S), model.transform(S))
    assert restored.score(S) == model.score(S)
    T = model.transform(S)
    assert np.array_equal(restored.inverse_transform(T), model.inverse_transform(T))
    assert restored.df_ == model.df_ and restored.n_regularised_ == model.n_regularised_


def test_three_d_input_checks_at_transform():
    S4, _ = wishart_stack(n=30, p=4)
    S5, _ = wishart_stack(n=30, p=5)
    model = WishartCovarianceModel().fit(S4)
    for method in (model.transform, model.score_samples, model.score):
        with pytest.raises(ValueError, match="features"):
            method(S5)
    with pytest.raises(ValueError, match="3-D stack"):
        model.transform(S4[:, :, 0])
    with pytest.raises(ValueError, match="square"):
        model.transform(np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match="features"):
        model.inverse_transform(np.zeros((3, 9)))
    with pytest.raises(ValueError, match="2-D observations"):
        model.mahalanobis(S4)
    observations = WishartCovarianceModel().fit(np.random.RandomState(0).normal(size=(30, 4)))
    with pytest.raises(ValueError, match="2-D observations"):
        observations.transform(S4)


def test_fit_is_idempotent_three_d():
    S, _ = wishart_stack(n=60, p=4)
    model = WishartCovarianceModel().fit(S)
    first = {k: getattr(model, k) for k in fitted_attributes(model)}
    T = model.transform(S)
    model.fit(S)
    assert fitted_attributes(model) == set(first)
    for key, value in first.items():
        assert np.array_equal(getattr(model, key), value), key
    assert np.array_equal(model.transform(S), T)


def test_float32_three_d():
    S, _ = wishart_stack(n=60, p=4)
    model64 = WishartCovarianceModel().fit(S)
    model32 = WishartCovarianceModel().fit(S.astype(np.float32))
    T32 = model32.transform(S.astype(np.float32))
    assert T32.dtype == np.float32
    T64 = model64.transform(S)
    np.testing.assert_allclose(T32, T64, rtol=1e-4, atol=1e-5)
    back = model32.inverse_transform(T32)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, S, rtol=1e-4, atol=1e-5 * np.abs(S).max())
    assert model32.df_ == pytest.approx(model64.df_, rel=1e-5)
    np.testing.assert_allclose(model32.covariance_, model64.covariance_, rtol=1e-5)
    # Observations keep float32 too.
    X = np.random.RandomState(0).normal(size=(50, 4)).astype(np.float32)
    observations = WishartCovarianceModel().fit(X)
    assert observations.transform(X).dtype == np.float32
    assert observations.inverse_transform(observations.transform(X)).dtype == np.float32


def test_refit_in_the_other_form_leaves_no_stale_attributes():
    S, _ = wishart_stack(n=60, p=4)
    X = np.random.RandomState(0).normal(size=(40, 4))
    model = WishartCovarianceModel().fit(X)
    observation_attributes = fitted_attributes(model)
    assert {"location_", "shrinkage_", "prior_df_", "prior_scale_"} <= observation_attributes

    model.fit(S)
    assert fitted_attributes(model) == {
        "covariance_",
        "precision_",
        "df_",
        "scale_",
        "n_regularised_",
        "n_iter_",
        "n_features_in_",
    }
    assert model.transform(S).shape == (60, 10)

    model.fit(X)
    assert fitted_attributes(model) == observation_attributes
    assert model.transform(X).shape == (40, 4)
    assert model.get_feature_names_out().shape == (4,)

    model.set_params(n_components=2).fit(X)
    assert {"components_", "noise_variance_"} <= fitted_attributes(model)
    model.set_params(n_components=None, shrinkage=None).fit(X)
    assert fitted_attributes(model) == {
        "location_",
        "covariance_",
        "precision_",
        "n_iter_",
        "n_features_in_",
    }
    np.testing.assert_allclose(model.covariance_, EmpiricalCovariance().fit(X).covariance_)


OBSERVATIONS_FORM = "2-D observations (n_samples, n_features)"
MATRICES_FORM = "a 3-D stack of SPD matrices (n_matrices, p, p)"
# (parameter, a value other than its default, the form X has, the form the parameter applies to)
NOT_APPLICABLE = [
    pytest.param(
        name,
        value,
        form,
        applies_to,
        id=f"{name}-with-{'3-D' if form == MATRICES_FORM else '2-D'}-input",
    )
    for name, value, form, applies_to in [
        ("n_components", 2, MATRICES_FORM, OBSERVATIONS_FORM),
        ("noise", "isotropic", MATRICES_FORM, OBSERVATIONS_FORM),
        ("assume_centered", True, MATRICES_FORM, OBSERVATIONS_FORM),
        ("tol", 1e-3, MATRICES_FORM, OBSERVATIONS_FORM),
        ("df", 5.0, OBSERVATIONS_FORM, MATRICES_FORM),
    ]
]


def two_forms():
    S, _ = wishart_stack(n=60, p=4)
    X = np.random.RandomState(0).normal(size=(40, 4))
    return {OBSERVATIONS_FORM: X, MATRICES_FORM: S}


@pytest.mark.parametrize("previous", ["same form", "other form"])
@pytest.mark.parametrize(("name", "value", "form", "applies_to"), NOT_APPLICABLE)
def test_parameter_of_the_other_form_raises_and_keeps_the_fitted_model(
    name, value, form, applies_to, previous
):
    data = two_forms()
    X = data[form]
    if previous == "same form":
        model = WishartCovarianceModel().fit(X)
        reference = X
    else:  # fitted where the parameter applies, then refitted on the other form
        model = WishartCovarianceModel(**{name: value}).fit(data[applies_to])
        reference = data[applies_to]
    before = {k: np.copy(getattr(model, k)) for k in fitted_attributes(model)}
    T = model.transform(reference)
    scores = model.score_samples(reference)

    model.set_params(**{name: value})
    with pytest.raises(ValueError) as info:
        model.fit(X)
    message = str(info.value)
    assert f"{name} applies to {applies_to}" in message
    assert f"{name}={value!r}" in message
    assert f"X is {form}" in message
    assert "default" in message

    assert fitted_attributes(model) == set(before)
    for key, expected in before.items():
        assert np.array_equal(getattr(model, key), expected), key
    assert np.array_equal(model.transform(reference), T)
    assert np.array_equal(model.score_samples(reference), scores)


def test_parameters_at_their_defaults_apply_to_either_form():
    data = two_forms()
    defaults = {"n_components": None, "noise": "diagonal", "assume_centered": False, "tol": 1e-6}
    explicit = WishartCovarianceModel(**defaults, df="mle", n_jobs=1)
    for X in data.values():
        assert np.array_equal(
            explicit.fit(X).covariance_, WishartCovarianceModel().fit(X).covariance_
        )
    # n_jobs is a resource setting, accepted for observations too (results never depend on it).
    X = data[OBSERVATIONS_FORM]
    assert np.array_equal(
        WishartCovarianceModel(n_jobs=2).fit(X).transform(X),
        WishartCovarianceModel().fit(X).transform(X),
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"n_components": 2}, {"n_components": 2, "noise": "isotropic"}, {"shrinkage": "oas"}],
)
def test_refit_from_observations_to_matrices_and_back_keeps_one_form(params):
    data = two_forms()
    X, S = data[OBSERVATIONS_FORM], data[MATRICES_FORM]
    fresh_observations = WishartCovarianceModel(**params).fit(X)
    fresh_matrices = WishartCovarianceModel().fit(S)
    model = WishartCovarianceModel(**params).fit(X)

    model.set_params(**WishartCovarianceModel().get_params()).fit(S)
    assert fitted_attributes(model) == fitted_attributes(fresh_matrices)
    assert not {"location_", "shrinkage_", "components_", "noise_variance_"} & set(vars(model))
    assert np.array_equal(model.transform(S), fresh_matrices.transform(S))
    assert model.sample(2, random_state=0).shape == (2, 4, 4)
    with pytest.raises(ValueError, match="mahalanobis applies to models fitted on 2-D"):
        model.mahalanobis(S)

    model.set_params(**params).fit(X)
    assert fitted_attributes(model) == fitted_attributes(fresh_observations)
    assert not {"df_", "scale_", "n_regularised_"} & set(vars(model))
    assert np.array_equal(model.transform(X), fresh_observations.transform(X))
    assert np.array_equal(model.score_samples(X), fresh_observations.score_samples(X))
    assert model.sample(2, random_state=0).shape == (2, 4)


def test_set_params_after_fit_does_not_change_the_fitted_model():
    # Observations: no later parameter changes what the fitted model computes.
    X = np.random.RandomState(1).normal(size=(40, 5)) @ random_spd(5)
    model = WishartCovarianceModel().fit(X)
    Z, scores, distances = model.transform(X), model.score_samples(X), model.mahalanobis(X)
    model.set_params(shrinkage=None, n_components=2, noise="isotropic", assume_centered=True)
    assert np.array_equal(model.transform(X), Z)
    assert np.array_equal(model.score_samples(X), scores)
    assert np.array_equal(model.mahalanobis(X), distances)
    assert np.array_equal(
        model.inverse_transform(Z), WishartCovarianceModel().fit(X).inverse_transform(Z)
    )

    # Matrices: rank-deficient input stays regularised by the fitted rule (shrinkage=None
    # would refuse it) and the goodness of fit keeps the fitted df rule.
    S, _ = window_covariances(n_matrices=8, n_times=6, p=8)
    model = WishartCovarianceModel().fit(S)
    T, scores = model.transform(S), model.score_samples(S)
    test = model.goodness_of_fit(S, n_bootstrap=9, random_state=0)
    model.set_params(shrinkage=None, df=30.0, n_jobs=1)
    assert np.array_equal(model.transform(S), T)
    assert np.array_equal(model.score_samples(S), scores)
    again = model.goodness_of_fit(S, n_bootstrap=9, random_state=0)
    assert (again.statistic, again.pvalue, again.df) == (test.statistic, test.pvalue, test.df)
    with pytest.raises(ValueError, match="rank 6 of 8"):
        clone(model).fit(S)  # the new parameters apply at the next fit


@pytest.mark.parametrize(
    "bad",
    [
        lambda S: np.where(np.arange(5)[:, None, None] == 2, np.nan, S[:5]),  # NaN, p=4
        lambda S: np.where(np.arange(3)[None, :, None] == 1, np.inf, np.abs(S[:5, :3, :3])),  # inf
        lambda S: np.random.RandomState(0).normal(size=(5, 10)),  # 2-D, n < p, rank-deficient
        lambda S: S[:1],  # a single matrix
    ],
)
def test_failed_fit_leaves_the_model_unchanged(bad):
    S, _ = wishart_stack(n=40, p=4)
    model = WishartCovarianceModel(shrinkage=None).fit(S)
    before = {k: np.copy(getattr(model, k)) for k in fitted_attributes(model)}
    T = model.transform(S)
    with pytest.raises(ValueError):
        model.fit(bad(S))
    assert fitted_attributes(model) == set(before)
    for key, value in before.items():
        assert np.array_equal(getattr(model, key), value), key
    assert model.n_features_in_ == 4
    assert np.array_equal(model.transform(S), T)


def test_n_jobs_does_not_change_results():
    S, _ = wishart_stack(n=300, p=6)
    one = WishartCovarianceModel(n_jobs=1).fit(S)
    two = WishartCovarianceModel(n_jobs=2).fit(S)
    assert one.df_ == two.df_
    assert np.array_equal(one.covariance_, two.covariance_)
    assert np.array_equal(one.transform(S), two.transform(S))
    assert np.array_equal(one.score_samples(S), two.score_samples(S))
    T = one.transform(S)
    assert np.array_equal(one.inverse_transform(T), two.inverse_transform(T))
    with pytest.raises(ValueError, match="n_jobs"):
        WishartCovarianceModel(n_jobs=0).fit(S)


# ------------------------------------------------------------------ 3-D: pipelines
def two_class_matrices(n_per_class=60, df=20.0):
    p = 4
    first = np.eye(p)
    second = np.eye(p)
    second[0, 1] = second[1, 0] = 0.7
    second[3, 3] = 2.0
    X = np.concatenate(
        [
            wishart_sample(n_per_class, df, first / df, random_state=1),
            wishart_sample(n_per_class, df, second / df, random_state=2),
        ]
    )
    y = np.repeat([0, 1], n_per_class)
    order = np.random.RandomState(0).permutation(len(y))
    return X[order], y[order]


def test_pipeline_classifies_matrices():
    X, y = two_class_matrices()
    pipe = Pipeline([("wishart", WishartCovarianceModel()), ("clf", LogisticRegression())])
    scores = cross_val_score(pipe, X, y, cv=5)
    assert scores.mean() > 0.9

    search = GridSearchCV(
        pipe,
        {"wishart__shrinkage": ["evidence", 0.1, None], "wishart__df": ["mle", 25.0]},
        cv=3,
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(search.cv_results_["params"]) == 6
    assert search.best_score_ > 0.9
    assert search.predict(X).shape == y.shape


# ------------------------------------------------------------------ 3-D: rank-deficient stacks
@pytest.fixture(scope="module")
def rank_deficient():
    return window_covariances(n_matrices=20, n_times=32, p=64)


def test_rank_deficient_stack_is_regularised_by_default(rank_deficient):
    S, _ = rank_deficient
    assert np.linalg.matrix_rank(S[0]) == 32
    model = WishartCovarianceModel().fit(S)
    assert model.n_regularised_ == 20
    T = model.transform(S)
    assert T.shape == (20, 64 * 65 // 2)
    assert np.isfinite(T).all()
    assert np.isfinite(model.score_samples(S)).all()
    assert np.linalg.eigvalsh(model.covariance_).min() > 0


def test_rank_deficient_regularisation_is_the_observation_evidence_fit():
    # A centred window covariance of 32 samples has rank 31 and is the scatter of 31 draws; its
    # evidence regularisation must equal the 2-D evidence fit of the window itself.
    S, windows = window_covariances(n_matrices=4, n_times=32, p=64, seed=1, centred=True)
    assert np.linalg.matrix_rank(S[0]) == 31
    model = WishartCovarianceModel().fit(S)
    per_window = [WishartCovarianceModel().fit(w).covariance_ for w in windows]
    expected = np.mean(per_window, axis=0)
    # The evidence optimum is located to ~1e-10 relative; rounding of the scatter moves it.
    np.testing.assert_allclose(model.covariance_, expected, atol=1e-8 * np.abs(expected).max())


def test_rank_deficient_stack_without_regularisation_raises(rank_deficient):
    S, _ = rank_deficient
    with pytest.raises(ValueError, match="rank 32 of 64") as info:
        WishartCovarianceModel(shrinkage=None).fit(S)
    assert "smallest eigenvalue" in str(info.value)
    with pytest.raises(ValueError, match=re.escape("shrinkage='oas'")):
        WishartCovarianceModel(shrinkage="oas").fit(S)
    with pytest.raises(ValueError, match=re.escape("shrinkage='ledoit-wolf'")):
        WishartCovarianceModel(shrinkage="ledoit-wolf").fit(S)


def test_rank_deficient_stack_with_float_shrinkage(rank_deficient):
    S, _ = rank_deficient
    a = 0.2
    model = WishartCovarianceModel(shrinkage=a).fit(S)
    assert model.n_regularised_ == 20
    p = S.shape[1]
    shrunk = np.array([(1 - a) * s + a * np.trace(s) / p * np.eye(p) for s in S])
    np.testing.assert_allclose(model.covariance_, shrunk.mean(axis=0), rtol=1e-12)
    assert np.isfinite(model.transform(S)).all()
    with pytest.raises(ValueError, match="larger shrinkage"):
        WishartCovarianceModel(shrinkage=0.0).fit(S)


# ------------------------------------------------------------------ 3-D: bad input
def _spd_stack():
    S, _ = wishart_stack(n=30, p=3, df=10.0)
    return S


def _with(index, value, pos=(0, 0)):
    S = _spd_stack()
    S[(index, *pos)] = value
    return S


def _indefinite():
    S = _spd_stack()
    S[3] = np.diag([1.0, 2.0, -1.0])
    return S


def _asymmetric():
    S = _spd_stack()
    S[3, 0, 1] += 1.0
    return S


@pytest.mark.parametrize(
    ("make", "params", "message"),
    [
        (lambda: _with(3, np.nan), {}, "NaN"),
        (lambda: _with(3, np.inf, (0, 1)), {}, "infinity"),
        (_asymmetric, {}, r"symmetric matrices; matrix 3"),
        (_indefinite, {}, r"X\[3\] is not positive semi-definite \(smallest eigenvalue -1"),
        (_indefinite, {"shrinkage": None}, r"X\[3\] is not positive definite.*negative eigenvalue"),
        (_indefinite, {"shrinkage": 0.1}, r"X\[3\] is not positive definite.*larger shrinkage"),
        (lambda: _spd_stack()[:, :, :, np.newaxis], {}, r"2-D observations.*3-D stack"),
        (lambda: _spd_stack()[:1], {}, "minimum of 2"),
        (lambda: _spd_stack()[:, :, :2], {}, "square"),
        (_spd_stack, {"n_components": 2}, "n_components applies to 2-D observations"),
        (_spd_stack, {"shrinkage": "oas"}, "needs the observations"),
    ],
)
def test_bad_matrices_raise_helpful_errors(make, params, message):
    with pytest.raises(ValueError, match=message):
        WishartCovarianceModel(**params).fit(make())


def test_bad_matrices_at_transform_time():
    S = _spd_stack()
    model = WishartCovarianceModel().fit(S)
    with pytest.raises(ValueError, match=r"X\[3\] is not positive semi-definite"):
        model.transform(_indefinite())
    with pytest.raises(ValueError, match="symmetric"):
        model.score_samples(_asymmetric())


# ------------------------------------------------------------------ 3-D: diagnostics, sampling
def test_goodness_of_fit_wishart_versus_mixture():
    C = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.5]])
    df = 20.0
    S = wishart_sample(40, df, C / df, random_state=0)
    model = WishartCovarianceModel().fit(S)
    result = model.goodness_of_fit(S, n_bootstrap=49, random_state=0)
    assert result.pvalue > 0.01
    assert result.df == pytest.approx(model.df_, rel=1e-8)
    np.testing.assert_allclose(result.covariance, model.covariance_, rtol=1e-12)
    again = model.goodness_of_fit(S, n_bootstrap=49, random_state=0)
    assert again.pvalue == result.pvalue and again.statistic == result.statistic

    mixture = np.concatenate(
        [
            wishart_sample(200, df, C / df, random_state=1),
            wishart_sample(200, df, 4 * C / df, random_state=2),
        ]
    )
    mixed = (
        WishartCovarianceModel()
        .fit(mixture)
        .goodness_of_fit(mixture, n_bootstrap=49, random_state=0)
    )
    assert mixed.pvalue == pytest.approx(1 / 50)  # no bootstrap replicate is as extreme
    # The fitted df absorbs the spread of scales, far below the 20 of each component.
    assert WishartCovarianceModel().fit(mixture).df_ < 0.5 * df


def test_spectrum_of_a_wishart_population(wishart_population):
    S, _, _, model = wishart_population
    eigenvalues, comparison = model.spectrum(S[:500])
    assert eigenvalues.shape == (500 * 8,)
    inverse_root = linalg.inv(linalg.sqrtm(model.covariance_).real)
    expected = np.concatenate([linalg.eigvalsh(inverse_root @ s @ inverse_root) for s in S[:500]])
    np.testing.assert_allclose(np.sort(eigenvalues), np.sort(expected), rtol=1e-8)
    assert comparison == marchenko_pastur_test(eigenvalues, 8 / model.df_)
    assert comparison.ks_distance < 0.05
    # A population with df 5 times larger is far narrower than the fitted law.
    narrow = wishart_sample(200, 100.0, model.covariance_ / 100.0, random_state=3)
    assert model.spectrum(narrow)[1].ks_distance > 3 * comparison.ks_distance


def test_sample_matrices(wishart_population):
    _, _, _, model = wishart_population
    n = 4000
    draws = model.sample(n, random_state=0)
    assert draws.shape == (n, 8, 8)
    assert np.array_equal(draws, np.swapaxes(draws, 1, 2))
    # Var(S_ij) = df (scale_ij^2 + scale_ii scale_jj).
    V = model.scale_
    error = np.sqrt(model.df_ * (V**2 + np.outer(np.diag(V), np.diag(V))) / n)
    assert np.all(np.abs(draws.mean(axis=0) - model.covariance_) < 5 * error)
    assert np.array_equal(model.sample(5, random_state=7), model.sample(5, random_state=7))
    assert np.array_equal(
        model.sample(5, random_state=7),
        wishart_sample(5, model.df_, model.scale_, random_state=7),
    )
    refit = WishartCovarianceModel().fit(draws)
    assert refit.df_ == pytest.approx(model.df_, rel=0.05)


# ------------------------------------------------------------------ regressions
def test_float32_rank_deficient_stack_is_regularised(rank_deficient):
    S, _ = rank_deficient
    reference = WishartCovarianceModel().fit(S)
    model = WishartCovarianceModel().fit(S.astype(np.float32))
    assert model.n_regularised_ == 20
    assert np.isfinite(model.transform(S.astype(np.float32))).all()
    assert linalg.norm(model.covariance_ - reference.covariance_) < 1e-3 * linalg.norm(
        reference.covariance_
    )


def test_zero_matrix_error_does_not_claim_it_is_indefinite():
    S = _spd_stack()
    S[2] = 0.0
    with pytest.raises(ValueError, match=r"X\[2\] is zero") as info:
        WishartCovarianceModel().fit(S)
    assert "not positive semi-definite" not in str(info.value)


def test_transform_depends_on_fitted_state_not_on_changed_parameters():
    X = np.random.RandomState(0).normal(size=(100, 6))
    model = WishartCovarianceModel(3).fit(X)
    Z = model.transform(X)
    model.set_params(n_components=None)
    with pytest.raises(ValueError):
        model.fit(np.full((5, 6), np.nan))
    assert np.array_equal(model.transform(X), Z)
    assert model.inverse_transform(model.transform(X)).shape == X.shape


@pytest.mark.parametrize("factor", [1e-100, 1e100])
def test_evidence_is_scale_equivariant_at_extreme_magnitudes(factor):
    X = np.random.RandomState(3).normal(size=(25, 8)) @ np.diag(np.linspace(1.0, 3.0, 8))
    reference = WishartCovarianceModel(shrinkage="evidence").fit(X)
    scaled = WishartCovarianceModel(shrinkage="evidence").fit(factor * X)
    np.testing.assert_allclose(
        scaled.covariance_ / factor**2, reference.covariance_, rtol=1e-6, atol=0
    )
    assert scaled.prior_df_ == pytest.approx(reference.prior_df_, rel=1e-6)


def test_input_margins_report_rank_before_regularisation():
    rng = np.random.RandomState(5)
    windows = rng.normal(size=(6, 5, 8))
    S = np.einsum("nti,ntj->nij", windows, windows) / 5
    model = WishartCovarianceModel().fit(S)
    margins = model.input_margins(S)
    np.testing.assert_array_equal(margins.rank, np.full(6, 5))
    assert np.all(np.abs(margins.min_eigenvalue) < 1e-12 * margins.max_eigenvalue)
    X = rng.normal(size=(30, 4))
    observations = WishartCovarianceModel().fit(X).input_margins(X)
    expected = np.linalg.eigvalsh(np.cov(X.T, bias=True))
    assert int(observations.rank) == 4
    assert observations.min_eigenvalue == pytest.approx(expected[0], rel=1e-10)
    assert observations.condition_number == pytest.approx(expected[-1] / expected[0], rel=1e-10)


def test_methods_reject_bad_input_with_clear_errors():
    S = _spd_stack()
    matrices = WishartCovarianceModel().fit(S)
    X = np.random.RandomState(0).normal(size=(30, 3))
    observations = WishartCovarianceModel().fit(X)
    m = S.shape[1] * (S.shape[1] + 1) // 2
    fitted = matrices.covariance_.copy()
    cases = [
        (lambda: matrices.inverse_transform(np.full((2, m), np.nan)), "NaN"),
        (lambda: matrices.inverse_transform(np.ones((2, m + 1))), f"produces {m}"),
        (lambda: matrices.inverse_transform(np.full((2, m), 1e6)), "Row 0 of X is too large"),
        (lambda: observations.inverse_transform(np.full((2, 3), np.inf)), "infinity"),
        (lambda: matrices.sample(0), "n_samples must be an integer >= 1"),
        (lambda: matrices.goodness_of_fit(S, n_bootstrap=0), "n_bootstrap must be an integer"),
        (lambda: matrices.spectrum(np.full((2, 3, 3), np.nan)), "X contains NaN"),
        (lambda: matrices.input_margins(np.ones((2, 4, 4))), "expecting 3 features"),
        (lambda: matrices.mahalanobis(S), "mahalanobis applies to models fitted on 2-D"),
        (lambda: observations.mahalanobis(np.ones((2, 4))), "expecting 3 features"),
        (lambda: observations.goodness_of_fit(X[:2]), "needs n_samples >= n_features"),
        (lambda: observations.score(np.ones(3)), "Expected 2D array"),
        (lambda: WishartCovarianceModel().fit(S.astype(complex)), "Complex data"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    np.testing.assert_array_equal(matrices.covariance_, fitted)


def test_every_parameter_belongs_to_a_form_or_to_both():
    """A new parameter must be listed by the model(s) it applies to, or the form check breaks."""
    from skqg.wishart import _estimator

    listed = set(_estimator._RESOURCE_PARAMETERS)
    for model in _estimator._MODELS.values():
        listed |= set(model.settings)
    assert listed == set(WishartCovarianceModel().get_params())
