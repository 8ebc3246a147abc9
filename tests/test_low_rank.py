"""``Sigma = W W^T + Psi`` terms (skqg/wishart/_low_rank.py) against exact rational arithmetic.

The Heywood cases (noise variances 1e-11 of the variances) are where Woodbury's identity loses
six digits; the block elimination must stay at rounding level there as well.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from skqg import WishartCovarianceModel
from skqg.wishart._low_rank import LowRankPlusDiagonal


def exact_inverse_and_log_det(components, noise):
    """``Sigma^-1`` and ``log det Sigma`` by Gauss-Jordan elimination in rationals: every float
    is converted exactly, so the only rounding is the final conversion to float."""
    p, m = len(noise), len(components)
    loadings = [[Fraction(float(v)) for v in row] for row in components.T]
    matrix = [
        [
            sum((loadings[i][k] * loadings[j][k] for k in range(m)), Fraction(0))
            + (Fraction(float(noise[i])) if i == j else 0)
            for j in range(p)
        ]
        + [Fraction(int(i == j)) for j in range(p)]
        for i in range(p)
    ]
    determinant = Fraction(1)
    for column in range(p):
        pivot = matrix[column][column]  # positive definite: no pivoting needed
        determinant *= pivot
        matrix[column] = [value / pivot for value in matrix[column]]
        for row in range(p):
            factor = matrix[row][column]
            if row != column and factor:
                matrix[row] = [
                    a - factor * b for a, b in zip(matrix[row], matrix[column], strict=True)
                ]
    inverse = np.array([[float(value) for value in row[p:]] for row in matrix])
    log_det = math.log(determinant.numerator) - math.log(determinant.denominator)
    return inverse, log_det


@pytest.mark.parametrize("n_heywood", [0, 1, 2, 3, 5])
def test_low_rank_terms_equal_exact_arithmetic_with_and_without_heywood_features(n_heywood):
    rng = np.random.default_rng(n_heywood)
    p, m = 8, 3
    components = rng.normal(size=(m, p))
    variances = (components**2).sum(axis=0)
    noise = rng.uniform(0.2, 1.0, p) * variances
    noise[:n_heywood] = 1e-11 * variances[:n_heywood] * rng.uniform(1.0, 3.0, n_heywood)
    order = rng.permutation(p)  # the Heywood features anywhere, not first
    components, noise = components[:, order], noise[order]

    terms = LowRankPlusDiagonal(components, noise)
    inverse, log_det = exact_inverse_and_log_det(components, noise)

    assert len(terms.heywood) == n_heywood
    assert terms.log_det == pytest.approx(log_det, abs=1e-12)
    scale = np.abs(inverse).max()
    np.testing.assert_allclose(terms.precision(), inverse, rtol=0, atol=1e-13 * scale)
    X = rng.normal(size=(6, p)) * np.sqrt(variances[order])
    expected = np.einsum("ri,ij,rj->r", X, inverse, X)
    np.testing.assert_allclose(terms.mahalanobis(X), expected, rtol=1e-12)


def test_plain_woodbury_would_lose_digits_on_these_heywood_cases():
    """Guards the test above: the plain identity is six orders worse on the same matrices."""
    rng = np.random.default_rng(1)
    components = rng.normal(size=(3, 8))
    variances = (components**2).sum(axis=0)
    noise = rng.uniform(0.2, 1.0, 8) * variances
    noise[0] = 1e-11 * variances[0]
    inverse, _ = exact_inverse_and_log_det(components, noise)
    over_noise = components / noise
    inner = np.eye(3) + over_noise @ components.T
    woodbury = np.diag(1.0 / noise) - over_noise.T @ np.linalg.solve(inner, over_noise)
    assert np.abs(woodbury - inverse).max() > 1e-9 * np.abs(inverse).max()


def test_heywood_fit_of_wide_data_has_an_accurate_precision_and_density():
    """5 x 300: the fit drives some noise variances to their lower bound (a Heywood case)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5, 300))
    model = WishartCovarianceModel(n_components=2).fit(X)
    assert len(model._model.low_rank.heywood) > 0
    covariance = model.covariance_
    identity = model.precision_ @ covariance
    np.testing.assert_allclose(identity, np.eye(300), atol=1e-9)
    # The density against LAPACK's Cholesky factor of the formed covariance.
    factor = np.linalg.cholesky(covariance)
    solved = np.linalg.solve(factor, (X - model.location_).T)
    log_det = 2.0 * np.log(np.diag(factor)).sum()
    expected = -0.5 * (300 * np.log(2 * np.pi) + log_det + (solved**2).sum(axis=0))
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-8)
