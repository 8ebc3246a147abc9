"""skqg.stats: the Wishart distribution, its fit and goodness of fit, Marchenko-Pastur, margins.

Every value is checked against a reference computed another way: SciPy's Wishart density
(batch axis last), closed-form moments of the Wishart, chi-square and normal marginals of the
Bartlett factors, numerical integration, root bracketing, and the calibration of p-values over
replicated null data sets.
"""

import warnings

import numpy as np
import pytest
from _helpers import random_gram_stack, random_spd_spectrum
from scipy import stats
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import digamma, multigammaln
from sklearn.exceptions import ConvergenceWarning

from skqg._wishart_law import df_from_log_determinants
from skqg.stats import (
    WishartFit,
    marchenko_pastur_cdf,
    marchenko_pastur_pdf,
    marchenko_pastur_test,
    multivariate_digamma,
    spd_margins,
    wishart_fit,
    wishart_gof,
    wishart_logpdf,
    wishart_sample,
)

C3 = np.array([[2.0, 0.6, 0.2], [0.6, 1.0, -0.3], [0.2, -0.3, 0.5]])


def _scipy_logpdf(X, df, scale):
    return np.atleast_1d(stats.wishart(df, scale).logpdf(np.moveaxis(X, 0, -1)))


def _bartlett_factors(S, scale):
    """``chol(L^-1 S L^-T)`` with NumPy, ``L = chol(scale)``: the reference whitening."""
    inverse = np.linalg.inv(np.linalg.cholesky(scale))
    return np.linalg.cholesky(inverse @ S @ inverse.T)


def _check_uniform(pvalues, label):
    """p-values of a null: KS against U(0, 1) not rejected at 1 %; P(p < 0.05) within 3 sd."""
    pvalues = np.asarray(pvalues)
    n = len(pvalues)
    ks = stats.kstest(pvalues, "uniform").pvalue
    below = int((pvalues < 0.05).sum())
    sd = np.sqrt(n * 0.05 * 0.95)
    assert ks > 0.01, f"{label}: p-values not uniform (KS p = {ks:.4f})"
    assert abs(below - 0.05 * n) <= 3 * sd, f"{label}: {below}/{n} p-values below 0.05"


# --- multivariate digamma ----------------------------------------------------------------------


@pytest.mark.parametrize("p", [1, 2, 3, 7])
def test_multivariate_digamma_is_the_derivative_of_multigammaln(p):
    a = np.array([0.5 * (p - 1) + 0.3, p + 0.25, 4.0 * p, 250.0])
    h = 1e-5
    numeric = (multigammaln(a + h, p) - multigammaln(a - h, p)) / (2 * h)
    np.testing.assert_allclose(multivariate_digamma(a, p), numeric, rtol=1e-7)
    explicit = sum(digamma(a + (1 - i) / 2) for i in range(1, p + 1))
    np.testing.assert_allclose(multivariate_digamma(a, p), explicit, rtol=1e-14)
    assert np.ndim(multivariate_digamma(3.0 * p, p)) == 0


def test_multivariate_digamma_rejects_its_domain():
    with pytest.raises(ValueError, match=r"a > \(p - 1\) / 2 = 1.0"):
        multivariate_digamma(1.0, 3)
    with pytest.raises(ValueError, match="p must be an integer >= 1"):
        multivariate_digamma(2.0, 0)


# --- log-density -------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1, 2, 5, 10])
@pytest.mark.parametrize("offset", [1e-3, 0.5, 3.7, "large"])
def test_logpdf_matches_scipy(p, offset):
    df = 50.0 * p if offset == "large" else p - 1 + offset
    scale = random_spd_spectrum(p, seed=p)
    X = random_gram_stack(np.random.RandomState(10 + p), 40, p, k=2 * p + 1, ridge=0.1)
    np.testing.assert_allclose(
        wishart_logpdf(X, df, scale), _scipy_logpdf(X, df, scale), rtol=1e-10, atol=0
    )


def test_logpdf_float32_and_single_matrix():
    p, df = 4, 6.5
    scale = random_spd_spectrum(p, seed=1).astype(np.float32)
    X = random_gram_stack(np.random.RandomState(2), 10, p, k=2 * p + 1, ridge=0.1).astype(
        np.float32
    )
    out = wishart_logpdf(X, df, scale)
    assert out.dtype == np.float64 and out.shape == (10,)
    reference = _scipy_logpdf(X.astype(np.float64), df, scale.astype(np.float64))
    np.testing.assert_allclose(out, reference, rtol=1e-10)
    single = wishart_logpdf(X[3], df, scale)
    assert np.ndim(single) == 0
    np.testing.assert_allclose(single, reference[3], rtol=1e-10)


def test_logpdf_of_samples_is_normalised():
    """E_f[f'/f] = 1 for two Wisharts: the densities are normalised over the cone."""
    p, df = 2, 5.0
    scale = random_spd_spectrum(p, seed=4)
    S = wishart_sample(40000, df + 1, scale * df / (df + 1), random_state=0)
    ratio = np.exp(wishart_logpdf(S, df, scale) - wishart_logpdf(S, df + 1, scale * df / (df + 1)))
    assert abs(ratio.mean() - 1) < 4 * ratio.std() / np.sqrt(len(S))


# --- sampling ----------------------------------------------------------------------------------


def test_sample_mean_is_df_times_scale():
    p, df, n = 4, 6.5, 20000
    scale = random_spd_spectrum(p, seed=3)
    S = wishart_sample(n, df, scale, random_state=0)
    assert S.shape == (n, p, p) and S.dtype == np.float64
    assert np.array_equal(S, np.swapaxes(S, 1, 2))
    variance = df * (scale**2 + np.outer(np.diag(scale), np.diag(scale)))
    z = (S.mean(axis=0) - df * scale) / np.sqrt(variance / n)
    assert np.abs(z).max() < 4.5


def test_sample_bartlett_factors_have_chi2_and_normal_marginals():
    p, df, n = 4, 5.3, 4000
    scale = random_spd_spectrum(p, seed=5)
    T = _bartlett_factors(wishart_sample(n, df, scale, random_state=1), scale)
    for i in range(p):
        assert stats.kstest(T[:, i, i] ** 2, stats.chi2(df - i).cdf).pvalue > 1e-3
    rows, cols = np.tril_indices(p, -1)
    for i, j in zip(rows, cols, strict=True):
        assert stats.kstest(T[:, i, j], "norm").pvalue > 1e-3
    # Independence: the factor entries are uncorrelated.
    entries = np.concatenate([T[:, np.arange(p), np.arange(p)] ** 2, T[:, rows, cols]], axis=1)
    correlation = np.corrcoef(entries.T) - np.eye(entries.shape[1])
    assert np.abs(correlation).max() < 4.5 / np.sqrt(n)


def test_sample_covariance_of_vech_matches_the_closed_form():
    p, df, n = 3, 5.0, 100000
    sigma = C3
    S = wishart_sample(n, df, sigma, random_state=2)
    rows, cols = np.triu_indices(p)
    vech = S[:, rows, cols]
    empirical = np.cov(vech.T)
    exact = df * (
        sigma[rows][:, rows] * sigma[cols][:, cols] + sigma[rows][:, cols] * sigma[cols][:, rows]
    )
    # exact[a, b] = df (sigma_ik sigma_jl + sigma_il sigma_jk) for (i, j) = a, (k, l) = b.
    i, j, k, ell = 0, 1, 1, 2
    a = np.flatnonzero((rows == i) & (cols == j))[0]
    b = np.flatnonzero((rows == k) & (cols == ell))[0]
    assert exact[a, b] == pytest.approx(
        df * (sigma[i, k] * sigma[j, ell] + sigma[i, ell] * sigma[j, k])
    )
    relative = np.linalg.norm(empirical - exact) / np.linalg.norm(exact)
    assert relative < 0.03


@pytest.mark.parametrize(("p", "df"), [(6, 1), (6, 3), (6, 5), (3, 2)])
def test_singular_sample_has_rank_df_and_mean_df_times_scale(p, df):
    n = 20000
    scale = random_spd_spectrum(p, seed=6)
    S = wishart_sample(n, df, scale, random_state=3)
    assert np.array_equal(S, np.swapaxes(S, 1, 2))
    ranks = np.linalg.matrix_rank(S[:200], hermitian=True)
    assert np.all(ranks == df)
    assert np.all(spd_margins(S[:200]).rank == df)
    variance = df * (scale**2 + np.outer(np.diag(scale), np.diag(scale)))
    z = (S.mean(axis=0) - df * scale) / np.sqrt(variance / n)
    assert np.abs(z).max() < 4.5


def test_sample_is_reproducible_and_seeds_differ():
    scale = random_spd_spectrum(3, seed=7)
    a = wishart_sample(5, 4.5, scale, random_state=11)
    b = wishart_sample(5, 4.5, scale, random_state=11)
    c = wishart_sample(5, 4.5, scale, random_state=12)
    d = wishart_sample(5, 4.5, scale, random_state=np.random.RandomState(11))
    assert np.array_equal(a, b) and np.array_equal(a, d)
    assert not np.allclose(a, c)
    singular = wishart_sample(5, 2, scale, random_state=11)
    assert np.array_equal(singular, wishart_sample(5, 2, scale, random_state=11))


def test_sample_float32_scale_gives_float64():
    scale = random_spd_spectrum(3, seed=8).astype(np.float32)
    S = wishart_sample(3, 4, scale, random_state=0)
    assert S.dtype == np.float64
    # The draws of the float64 scale with the same values.
    np.testing.assert_array_equal(S, wishart_sample(3, 4, scale.astype(np.float64), random_state=0))


# --- fit -----------------------------------------------------------------------------------------


def test_fit_recovers_df_and_covariance():
    p, df = 8, 20.0
    C = random_spd_spectrum(p, seed=9, condition=5.0)
    S = wishart_sample(2000, df, C / df, random_state=4)
    fit = wishart_fit(S)
    assert isinstance(fit, WishartFit)
    assert abs(fit.df - df) / df < 0.02
    assert np.linalg.norm(fit.covariance - C) / np.linalg.norm(C) < 0.03
    np.testing.assert_allclose(fit.scale, fit.covariance / fit.df)
    assert 1 <= fit.n_iter <= 8


def test_fit_maximises_the_likelihood():
    p, df = 3, 7.0
    S = wishart_sample(300, df, C3 / df, random_state=5)
    fit = wishart_fit(S)

    def loglik(nu, cov):
        return _scipy_logpdf(S, nu, cov / nu).sum()

    best = loglik(fit.df, fit.covariance)
    for factor in (0.99, 0.999, 1.001, 1.01):
        assert best > loglik(fit.df * factor, fit.covariance)
    rng = np.random.RandomState(0)
    for _ in range(5):
        e = rng.standard_normal((p, p))
        e = 0.01 * (e + e.T)
        assert best > loglik(fit.df, fit.covariance + e)
        assert best > loglik(fit.df, fit.covariance - e)
    assert best > loglik(fit.df, 1.01 * fit.covariance)


def test_fit_solves_the_profile_equation():
    p = 4
    S = wishart_sample(500, 6.0, random_spd_spectrum(p, seed=10), random_state=6)
    fit = wishart_fit(S)
    gap = np.mean(np.linalg.slogdet(S)[1]) - np.linalg.slogdet(S.mean(axis=0))[1]

    def equation(nu):
        return multivariate_digamma(nu / 2, p) - p * np.log(nu / 2) - gap

    root = brentq(equation, p - 1 + 1e-9, 1e6, xtol=1e-14, rtol=1e-14)
    assert fit.df == pytest.approx(root, rel=1e-9)


@pytest.mark.parametrize("p", [1, 2, 3, 8, 20, 50])
@pytest.mark.parametrize("excess", [1e-6, 0.01, 0.5, 2.0, 10.0, 1e3])
def test_df_solver_converges_in_few_newton_steps(p, excess):
    nu = p - 1 + excess * max(p, 1)
    a = nu / 2
    gap = multivariate_digamma(a, p) - p * np.log(a)
    df, n_iter = df_from_log_determinants(gap, 0.0, p)
    assert df == pytest.approx(nu, rel=1e-8)
    assert n_iter <= 8


def test_fit_with_known_df_and_single_matrix():
    S = wishart_sample(50, 6.0, C3 / 6.0, random_state=7)
    fit = wishart_fit(S, df=6)
    assert fit.df == 6.0 and fit.n_iter == 0
    np.testing.assert_allclose(fit.covariance, S.mean(axis=0))
    np.testing.assert_allclose(fit.scale, S.mean(axis=0) / 6)
    one = wishart_fit(S[0], df=6)
    np.testing.assert_allclose(one.covariance, S[0])


def test_fit_float32_input():
    S = wishart_sample(200, 6.0, C3 / 6.0, random_state=8)
    fit32 = wishart_fit(S.astype(np.float32))
    fit64 = wishart_fit(S.astype(np.float32).astype(np.float64))
    assert isinstance(fit32.df, float) and fit32.covariance.dtype == np.float64
    assert fit32.df == pytest.approx(fit64.df, rel=1e-12)


def test_fit_errors_and_convergence_warning():
    S = wishart_sample(50, 6.0, C3 / 6.0, random_state=9)
    with pytest.raises(ValueError, match="at least 2 matrices"):
        wishart_fit(S[:1])
    with pytest.raises(ValueError, match="at least 2 matrices"):
        wishart_fit(S[0])
    with pytest.raises(ValueError, match=r"are equal.*df is infinite"):
        wishart_fit(np.stack([C3] * 4))
    with pytest.raises(ValueError, match="df is infinite"):
        df_from_log_determinants(1.0, 1.0, 3)
    with pytest.raises(ValueError, match="df must be > p - 1 = 2"):
        wishart_fit(S, df=1.5)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = wishart_fit(S, max_iter=1)
    assert fit.n_iter == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wishart_fit(S)


# --- goodness of fit -----------------------------------------------------------------------------


def test_gof_simple_null_statistic_and_exact_pvalue():
    """Against the Bartlett transforms computed independently (NumPy Cholesky, scipy.stats)."""
    p, df, n = 3, 6.0, 40
    S = wishart_sample(n, df, C3 / df, random_state=10)
    T = _bartlett_factors(S, C3 / df)
    rows, cols = np.tril_indices(p, -1)
    u = np.concatenate(
        [stats.chi2(df - i).cdf(T[:, i, i] ** 2) for i in range(p)]
        + [stats.norm.cdf(T[:, rows, cols]).ravel()]
    )
    reference = stats.kstest(u, "uniform", method="exact")
    result = wishart_gof(S, df=df, covariance=C3)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.df == df
    np.testing.assert_array_equal(result.covariance, C3)


def test_gof_simple_null_is_calibrated():
    rng = np.random.RandomState(20)
    pvalues = [
        wishart_gof(wishart_sample(30, 6.0, C3 / 6.0, random_state=rng), 6.0, C3).pvalue
        for _ in range(200)
    ]
    _check_uniform(pvalues, "simple null")


@pytest.mark.slow
@pytest.mark.parametrize("estimated", ["both", "df", "covariance"])
def test_gof_composite_null_is_calibrated(estimated):
    df = 6.0
    given = {"both": {}, "df": {"covariance": C3}, "covariance": {"df": df}}[estimated]
    rng = np.random.RandomState(21)
    pvalues = []
    for _ in range(200):
        S = wishart_sample(30, df, C3 / df, random_state=rng)
        pvalues.append(wishart_gof(S, n_bootstrap=99, random_state=rng, **given).pvalue)
    _check_uniform(pvalues, f"composite null ({estimated} estimated)")


def test_gof_bootstrap_is_needed_and_reproducible():
    """With fitted parameters the exact Kolmogorov p-value would be far too large."""
    S = wishart_sample(40, 6.0, C3 / 6.0, random_state=11)
    a = wishart_gof(S, n_bootstrap=49, random_state=3)
    b = wishart_gof(S, n_bootstrap=49, random_state=3)
    assert a == (a.statistic, a.pvalue, a.df, a.covariance)
    assert (a.statistic, a.pvalue, a.df) == (b.statistic, b.pvalue, b.df)
    assert a.pvalue in {k / 50 for k in range(1, 51)}
    fit = wishart_fit(S)
    assert a.df == fit.df
    np.testing.assert_allclose(a.covariance, fit.covariance)


def test_gof_power_wrong_df_simple_null():
    df = 6.0
    S = wishart_sample(300, 1.3 * df, C3 / (1.3 * df), random_state=12)  # mean C3, df 30 % high
    assert wishart_gof(S, df=df, covariance=C3).pvalue < 1e-3
    assert wishart_gof(S, df=df, n_bootstrap=99, random_state=0).pvalue == 0.01


def test_gof_power_mixture_of_two_scales():
    df = 6.0
    a = wishart_sample(200, df, C3 / df, random_state=13)
    b = wishart_sample(200, df, 4 * C3 / df, random_state=14)
    result = wishart_gof(np.concatenate([a, b]), n_bootstrap=99, random_state=0)
    assert result.pvalue <= 0.02


def test_gof_power_matrix_f():
    """``W2^{-1/2} W1 W2^{-1/2}`` (a matrix F, symmetric square root) is not Wishart."""
    p, n = 3, 300
    w1 = wishart_sample(n, 6.0, C3 / 6.0, random_state=15)
    w2 = wishart_sample(n, 12.0, np.eye(p) / 12.0, random_state=16)
    values, vectors = np.linalg.eigh(w2)
    root = (vectors / np.sqrt(values)[:, None, :]) @ np.swapaxes(vectors, 1, 2)
    F = root @ w1 @ root
    assert wishart_gof(F, n_bootstrap=99, random_state=0).pvalue <= 0.02


def test_gof_float32_input():
    """float32 matrices: the exact reference on their values, calibrated under the null,
    and powerful against a wrong covariance."""
    p, df, C32 = 3, 6.0, C3.astype(np.float32)
    S = wishart_sample(30, df, C3 / df, random_state=17).astype(np.float32)
    result = wishart_gof(S, df=df, covariance=C32)
    assert isinstance(result.statistic, float) and isinstance(result.pvalue, float)
    T = _bartlett_factors(S.astype(np.float64), C32.astype(np.float64) / df)
    rows, cols = np.tril_indices(p, -1)
    u = np.concatenate(
        [stats.chi2(df - i).cdf(T[:, i, i] ** 2) for i in range(p)]
        + [stats.norm.cdf(T[:, rows, cols]).ravel()]
    )
    reference = stats.kstest(u, "uniform", method="exact")
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.pvalue == pytest.approx(reference.pvalue, rel=1e-7)
    rng = np.random.RandomState(22)
    null = [
        wishart_gof(wishart_sample(30, df, C3 / df, random_state=rng).astype(np.float32), df, C32)
        for _ in range(200)
    ]
    _check_uniform([r.pvalue for r in null], "simple null, float32")
    wrong = wishart_sample(30, df, 2.0 * C3 / df, random_state=23).astype(np.float32)
    assert wishart_gof(wrong, df=df, covariance=C32).pvalue < 1e-3


# --- Marchenko-Pastur ---------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.1, 0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("variance", [1.0, 2.5])
def test_marchenko_pastur_pdf_and_cdf_against_quadrature(ratio, variance):
    lower = variance * (1 - np.sqrt(ratio)) ** 2
    upper = variance * (1 + np.sqrt(ratio)) ** 2
    atom = max(0.0, 1 - 1 / ratio)

    def pdf(x):
        return float(marchenko_pastur_pdf(x, ratio, variance))

    total = quad(pdf, lower, upper, limit=200)[0]
    assert total == pytest.approx(1 - atom, abs=1e-9)
    for x in np.linspace(lower, upper, 11)[1:-1]:
        reference = atom + quad(pdf, lower, x, limit=200)[0]
        assert float(marchenko_pastur_cdf(x, ratio, variance)) == pytest.approx(reference, abs=1e-9)
    grid = np.linspace(-1.0, upper + 1.0, 2001)
    cdf = marchenko_pastur_cdf(grid, ratio, variance)
    assert np.all(np.diff(cdf) >= 0)
    assert np.all(cdf[grid < 0] == 0) and np.all(cdf[grid >= upper] == 1)
    assert np.all(marchenko_pastur_pdf(grid[(grid < lower) | (grid > upper)], ratio, variance) == 0)
    if ratio > 1:
        assert float(marchenko_pastur_cdf(0.0, ratio, variance)) == pytest.approx(atom)
        assert float(marchenko_pastur_cdf(lower / 2, ratio, variance)) == pytest.approx(atom)


def test_marchenko_pastur_pdf_diverges_at_zero_for_ratio_one():
    assert marchenko_pastur_pdf(0.0, 1.0) == np.inf
    assert marchenko_pastur_pdf(1e-8, 1.0) == pytest.approx(
        np.sqrt(4 / 1e-8) / (2 * np.pi), rel=1e-6
    )


def test_whitened_wishart_spectrum_follows_marchenko_pastur():
    p, n = 400, 1600
    sigma = random_spd_spectrum(p, seed=18, condition=20.0)
    S = wishart_sample(1, n, sigma / n, random_state=19)[0]  # sample covariance of n draws
    inverse = np.linalg.inv(np.linalg.cholesky(sigma))
    eigenvalues = np.linalg.eigvalsh(inverse @ S @ inverse.T)
    result = marchenko_pastur_test(eigenvalues, p / n)
    assert result.ks_distance < 0.02
    assert result.lower_edge == pytest.approx(0.25) and result.upper_edge == pytest.approx(2.25)
    assert result.fraction_outside <= 2 / p
    # Not whitened, the spectrum is far from the law.
    assert marchenko_pastur_test(np.linalg.eigvalsh(S), p / n).ks_distance > 0.2


def test_singular_wishart_spectrum_has_the_atom():
    p, n = 400, 200
    S = wishart_sample(1, n, np.eye(p) / n, random_state=20)[0]
    result = marchenko_pastur_test(np.linalg.eigvalsh(S), p / n)
    assert result.ks_distance < 0.02
    assert result.fraction_outside <= 2 / p


def test_spiked_model_has_eigenvalues_outside():
    p, n = 300, 1200
    spikes = np.ones(p)
    spikes[:3] = [8.0, 6.0, 5.0]
    S = wishart_sample(1, n, np.diag(spikes) / n, random_state=21)[0]
    result = marchenko_pastur_test(np.linalg.eigvalsh(S), p / n)
    assert result.fraction_outside >= 3 / p
    assert np.sort(np.linalg.eigvalsh(S))[-3] > result.upper_edge + 1


def test_marchenko_pastur_validation():
    with pytest.raises(ValueError, match="ratio must be > 0"):
        marchenko_pastur_pdf(1.0, 0.0)
    with pytest.raises(ValueError, match="variance must be > 0"):
        marchenko_pastur_cdf(1.0, 0.5, variance=-1.0)
    with pytest.raises(ValueError, match="ratio must be a finite real number"):
        marchenko_pastur_cdf(1.0, np.inf)
    with pytest.raises(ValueError, match="x contains NaN"):
        marchenko_pastur_cdf([1.0, np.nan], 0.5)
    with pytest.raises(ValueError, match="1-D array"):
        marchenko_pastur_test(np.ones((2, 2)), 0.5)
    with pytest.raises(ValueError, match="1-D array"):
        marchenko_pastur_test([], 0.5)
    with pytest.raises(ValueError, match="eigenvalues contains NaN"):
        marchenko_pastur_test([1.0, np.nan], 0.5)
    with pytest.raises(ValueError, match="infinity"):
        marchenko_pastur_test([1.0, np.inf], 0.5)


# --- margins -------------------------------------------------------------------------------------


def test_spd_margins_of_rank_deficient_and_identity():
    z = np.random.RandomState(0).standard_normal((64, 32))
    margins = spd_margins(z @ z.T)
    assert int(margins.rank) == 32
    assert abs(float(margins.min_eigenvalue)) < 1e-12 * float(margins.max_eigenvalue)
    assert margins.condition_number > 1e12
    identity = spd_margins(np.eye(5))
    assert float(identity.condition_number) == 1.0 and int(identity.rank) == 5
    assert np.ndim(identity.rank) == 0


def test_spd_margins_of_a_stack():
    stack = np.stack([np.diag([1.0, 4.0]), np.diag([2.0, 0.0]), np.diag([-1.0, 3.0])])
    margins = spd_margins(stack.astype(np.float32))
    np.testing.assert_array_equal(margins.rank, [2, 1, 2])
    np.testing.assert_array_equal(margins.min_eigenvalue, [1.0, 0.0, -1.0])
    np.testing.assert_array_equal(margins.max_eigenvalue, [4.0, 2.0, 3.0])
    np.testing.assert_array_equal(margins.condition_number, [4.0, np.inf, np.inf])


def test_spd_margins_still_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN or infinity"):
        spd_margins(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        spd_margins(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        spd_margins(np.ones((3, 2, 3)))
    with pytest.raises(ValueError, match=r"\(p, p\) or a stack"):
        spd_margins(np.ones(3))


# --- bad inputs -----------------------------------------------------------------------------------


def _not_pd():
    return np.array([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN or infinity"),
        (np.array([[np.inf, 0.0], [0.0, 1.0]]), "NaN or infinity"),
        (np.array([[2.0, 1.0], [0.0, 2.0]]), "symmetric"),
        (
            _not_pd(),
            r"not positive definite: rank \d of 2, 1 negative eigenvalue, smallest eigenvalue -1",
        ),
        (np.array([[1.0, 1.0], [1.0, 1.0]]), r"rank 1 of 2, smallest eigenvalue"),
        (np.ones((2, 3)), "square"),
        (np.ones(4), r"\(p, p\) or a stack"),
        (np.ones((1, 1, 2, 2)), r"\(p, p\) or a stack"),
        (np.zeros((0, 2, 2)), "empty stack"),
        (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
    ],
)
def test_bad_matrices_are_rejected(X, match):
    scale = np.eye(2)
    with pytest.raises(ValueError, match=match):
        wishart_logpdf(X, 3.0, scale)
    with pytest.raises(ValueError, match=match):
        wishart_fit(X)
    with pytest.raises(ValueError, match=match):
        wishart_gof(X, 3.0, scale)


def test_bad_scale_and_df_are_rejected():
    X = wishart_sample(5, 4.0, np.eye(3), random_state=0)
    with pytest.raises(ValueError, match="scale is 2x2 but X holds 3x3"):
        wishart_logpdf(X, 4.0, np.eye(2))
    with pytest.raises(ValueError, match="covariance is 2x2 but X holds 3x3"):
        wishart_gof(X, 4.0, np.eye(2))
    with pytest.raises(ValueError, match="single"):
        wishart_logpdf(X, 4.0, X)
    with pytest.raises(ValueError, match="single"):
        wishart_sample(2, 4.0, X)
    with pytest.raises(ValueError, match="scale is not positive definite: rank 2 of 3"):
        wishart_logpdf(X, 4.0, np.diag([1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="scale is not positive definite"):
        wishart_sample(2, 4.0, np.diag([1.0, 1.0, -1.0]))
    for df in (1.5, 2.0, 1.0):
        with pytest.raises(ValueError, match=r"df must be > p - 1 = 2.*no\s+density"):
            wishart_logpdf(X, df, np.eye(3))
    for df in (1.5, 0.5, 0.0, -1.0):
        with pytest.raises(ValueError, match=r"integer in \[1, 2\]"):
            wishart_sample(2, df, np.eye(3))
    for df in (np.nan, np.inf):
        with pytest.raises(ValueError, match="df must be a finite real number"):
            wishart_sample(2, df, np.eye(3))
    for df in ("4", True, None, [4.0]):
        with pytest.raises(ValueError, match="df must be a finite real number"):
            wishart_logpdf(X, df, np.eye(3))
    with pytest.raises(ValueError, match="df must be > p - 1"):
        wishart_gof(X, df=2.0)


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1, got 0"):
        wishart_sample(0, 4.0, np.eye(2))
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        wishart_sample(2.0, 4.0, np.eye(2))
    X = wishart_sample(5, 4.0, np.eye(2), random_state=0)
    with pytest.raises(ValueError, match="n_bootstrap must be an integer >= 1, got 0"):
        wishart_gof(X, n_bootstrap=0)
    with pytest.raises(ValueError, match="at least 2 matrices"):
        wishart_gof(X[:1])
    with pytest.raises(ValueError, match="are equal"):
        wishart_gof(np.stack([np.eye(2)] * 3))
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        wishart_fit(X, max_iter=0)
    with pytest.raises(ValueError, match="tol must be > 0"):
        wishart_fit(X, tol=0.0)
