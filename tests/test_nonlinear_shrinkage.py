"""Nonlinear shrinkage of WishartCovarianceModel (``"nonlinear"``, ``"qis"``, ``"auto"``).

References: eigenvalues of the estimates computed by the authors' code on fixed inputs, with
the symmetric eigensolver (Ledoit & Wolf's Python QIS from github.com/pald22/covShrinkage, which
calls ``np.linalg.eig``, switched to ``np.linalg.eigh``; their analytical shrinkage as
transcribed in the ``nonlinshrink`` package, 0.7, which uses ``eigh``). The Hilbert transform of
the Epanechnikov kernel is checked against scipy's principal-value quadrature.
"""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import ortho_group

from skqg import WishartCovarianceModel
from skqg.wishart._nonlinear import epanechnikov_hilbert, sphericity_statistic


def fixed_data(n, p, seed):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, p)) @ (np.eye(p) + 0.5 * rng.normal(size=(p, p)))


def null_then(value, count, rest):
    return np.concatenate([np.full(count, value), rest])


# (n, p, assume_centered, seed) -> eigenvalues of the authors' estimates, ascending.
REFERENCES = {
    (40, 10, False, 1): {
        "qis": [
            0.05449762403287055, 0.13678479371214425, 0.2677756032865831, 0.48404648500394326,
            0.9681558653286035, 3.6757880984658855, 4.116039514520778, 4.348473388202139,
            9.433469280609184, 14.961919901536422,
        ],
        "nonlinear": [
            0.060689005223478, 0.1515984319635396, 0.2917437907056811, 0.5234204002961215,
            1.0414042859443982, 3.7581602279935, 4.006773478669114, 4.636013500741948,
            9.960217609203816, 15.395523275385159,
        ],
    },
    # p > n: 16 null eigenvalues share one value.
    (15, 30, False, 2): {
        "qis": null_then(4.510563119510505, 16, [
            4.6929464724544525, 8.672346125351888, 8.736277417628992, 9.670456471987004,
            12.944179628460477, 13.48135814121956, 13.498272232559104, 13.751070390111963,
            14.72354152327389, 16.513780135654088, 17.065820527498136, 19.556900312210146,
            25.622797867118624, 26.91971365935306,
        ]),
        "nonlinear": null_then(3.4650842717601047, 16, [
            9.396120483955391, 10.421557429154467, 10.781135097677833, 12.201069017733552,
            12.950610387301298, 14.335933693337374, 14.433965921451724, 14.883348985876157,
            15.687976248533417, 16.158488243635865, 16.547051108504714, 16.59380824727676,
            20.844565970606382, 29.68633431840216,
        ]),
    },
    (20, 8, True, 3): {
        "qis": [
            0.05907752544780105, 0.11493686428853864, 0.4526527363140711, 2.2541711301397,
            4.999755789818737, 5.1734688310355175, 7.955960176865643, 8.754757826936531,
        ],
        "nonlinear": [
            0.0726519435027975, 0.1370039088342587, 0.5480468033448036, 2.8156971874067067,
            5.3532322491554485, 5.383524436415716, 8.50006035399978, 9.484839448115858,
        ],
    },
}  # fmt: skip


@pytest.mark.parametrize("rule", ["qis", "nonlinear"])
@pytest.mark.parametrize("case", list(REFERENCES))
def test_matches_the_authors_code(case, rule):
    n, p, assume_centered, seed = case
    X = fixed_data(n, p, seed)
    model = WishartCovarianceModel(shrinkage=rule, assume_centered=assume_centered).fit(X)
    expected = np.asarray(REFERENCES[case][rule])
    # The authors' analytical formula carries its closed form's round-off (see below), a few
    # 1e-9 relative here; QIS has no cancellation.
    rtol = 2e-8 if rule == "nonlinear" else 1e-10
    np.testing.assert_allclose(np.linalg.eigvalsh(model.covariance_), expected, rtol=rtol)
    # The sample eigenvectors are kept: the estimate commutes with the sample covariance.
    centred = X if assume_centered else X - X.mean(axis=0)
    sample = centred.T @ centred
    commutator = model.covariance_ @ sample - sample @ model.covariance_
    assert np.abs(commutator).max() <= 1e-9 * np.abs(sample).max() * expected.max()


@pytest.mark.parametrize("rule", ["qis", "nonlinear", "auto"])
def test_rotation_equivariant_with_more_features_than_samples(rule):
    """A general eigensolver returns non-orthogonal eigenvectors for the degenerate null
    eigenvalues when p > n (the trap in the authors' Python QIS); a symmetric one keeps the
    estimate equivariant: fitting X R gives R^T C R."""
    X = fixed_data(20, 45, 4)
    rotation = ortho_group.rvs(45, random_state=0)
    plain = WishartCovarianceModel(shrinkage=rule).fit(X).covariance_
    rotated = WishartCovarianceModel(shrinkage=rule).fit(X @ rotation).covariance_
    np.testing.assert_allclose(rotated, rotation.T @ plain @ rotation, atol=1e-10 * plain.max())


def test_qis_preserves_the_trace():
    X = fixed_data(30, 12, 5)
    model = WishartCovarianceModel(shrinkage="qis").fit(X)
    sample = np.cov(X, rowvar=False)
    assert np.trace(model.covariance_) == pytest.approx(np.trace(sample), rel=1e-12)


@pytest.mark.parametrize("rule", ["qis", "nonlinear"])
def test_many_samples_give_the_sample_covariance(rule):
    X = fixed_data(200_000, 4, 6)
    model = WishartCovarianceModel(shrinkage=rule).fit(X)
    np.testing.assert_allclose(model.covariance_, np.cov(X, rowvar=False), rtol=2e-3, atol=2e-3)


def test_epanechnikov_hilbert_transform_against_quadrature():
    root5 = np.sqrt(5.0)

    def kernel(t):
        return 3.0 / (4.0 * root5) * (1.0 - t * t / 5.0)

    points = np.array([-1e6, -1e4, -300.0, -10.5, -9.9, -3.0, -1.0, -0.3, 0.7, 2.1, 2.5, 9.99])
    points = np.concatenate([points, [10.01, 57.0, 1e3, 1e4, 1e6]])
    got = epanechnikov_hilbert(points)
    for x, value in zip(points, got, strict=True):
        if abs(x) < root5:  # principal value: the singularity is inside the support
            integral = quad(kernel, -root5, root5, weight="cauchy", wvar=x, epsrel=1e-13)[0]
        else:
            integral = quad(lambda t, x=x: kernel(t) / (t - x), -root5, root5, epsrel=1e-13)[0]
        assert value == pytest.approx(integral / np.pi, rel=1e-12)


def test_the_closed_form_loses_precision_where_the_series_is_used():
    """Why the series: the published closed form's relative error grows like x^3 (6e-9 at
    x = 1e3, 6e-6 at 1e4, 1e-3 at 1e5)."""
    x = 1e4
    root5 = np.sqrt(5.0)
    closed = -3 * x / (10 * np.pi) + 3 / (4 * root5 * np.pi) * (1 - x**2 / 5) * np.log(
        abs((root5 - x) / (root5 + x))
    )
    exact = epanechnikov_hilbert(np.array([x]))[0]
    assert abs(closed - exact) > 1e-6 * abs(exact)


def test_sphericity_statistic_is_standard_normal_under_sphericity():
    rng = np.random.RandomState(0)
    values = []
    for _ in range(400):
        X = rng.normal(size=(60, 40))
        eigenvalues = np.linalg.eigvalsh(np.cov(X, rowvar=False))
        values.append(sphericity_statistic(eigenvalues, 59))
    assert abs(np.mean(values)) < 0.2 and 0.8 < np.std(values) < 1.2


# ------------------------------------------------------------------ shrinkage="auto"
def test_auto_uses_the_evidence_rule_for_singular_or_spherical_samples():
    rng = np.random.RandomState(1)
    wide = WishartCovarianceModel().fit(rng.normal(size=(30, 40)))
    spherical = WishartCovarianceModel().fit(rng.normal(size=(400, 40)))
    for model in (wide, spherical):
        assert model.shrinkage_rule_ == "evidence"
        assert 0.0 <= model.shrinkage_ <= 1.0


def test_auto_shrinks_a_dispersed_spectrum_nonlinearly_and_monotonically():
    rng = np.random.RandomState(2)
    scales = np.linspace(1.0, 10.0, 40)
    X = rng.normal(size=(400, 40)) * np.sqrt(scales)
    model = WishartCovarianceModel().fit(X)
    assert model.shrinkage_rule_ == "nonlinear"
    assert not hasattr(model, "shrinkage_")
    centred = X - X.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    shrunk = np.einsum("ji,jk,ki->i", eigenvectors, model.covariance_, eigenvectors)
    assert np.all(np.diff(shrunk) >= -1e-12 * shrunk.max())


def test_default_beats_the_sample_covariance_on_an_ill_conditioned_population():
    """Issue 17: on C^T C with C standard normal (p = 50, n = 250) the evidence optimum had a
    prior without a mean (prior_df_ 49.9 < p + 1, shrinkage_ -0.005) and a ridge 900x the
    smallest sample eigenvalue: held-out NLL worse than the sample covariance's."""
    p, n = 50, 250
    rng = np.random.RandomState(0)
    coloring = rng.normal(size=(p, p))
    root = np.linalg.cholesky(coloring.T @ coloring)
    X, X_test = rng.normal(size=(n, p)) @ root.T, rng.normal(size=(5000, p)) @ root.T
    sample = WishartCovarianceModel(shrinkage=None).fit(X).score(X_test)
    assert WishartCovarianceModel().fit(X).score(X_test) > sample
    evidence = WishartCovarianceModel(shrinkage="evidence").fit(X)
    assert evidence.prior_df_ > p + 1 and 0.0 <= evidence.shrinkage_ <= 1.0


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("rule", ["qis", "nonlinear"])
@pytest.mark.parametrize("defect", ["constant column", "duplicated column"])
def test_rank_deficient_observations_are_refused(rule, defect):
    X = fixed_data(60, 8, 7)
    if defect == "constant column":
        X[:, 3] = 2.5
    else:
        X[:, 3] = X[:, 5]
    with pytest.raises(ValueError, match=r"rank is 7.*constant or linear combinations"):
        WishartCovarianceModel(shrinkage=rule).fit(X)


def test_constant_data_is_refused():
    with pytest.raises(ValueError, match="zero variance in every direction"):
        WishartCovarianceModel(shrinkage="qis").fit(np.ones((30, 4)))


def test_analytical_shrinkage_needs_twelve_effective_samples():
    X = fixed_data(12, 20, 8)  # 11 effective samples
    with pytest.raises(ValueError, match=r"at least 12 effective samples.*got 11"):
        WishartCovarianceModel(shrinkage="nonlinear").fit(X)
    WishartCovarianceModel(shrinkage="nonlinear", assume_centered=True).fit(X)
    WishartCovarianceModel(shrinkage="qis").fit(X)


@pytest.mark.parametrize("rule", ["qis", "nonlinear"])
def test_nonlinear_rules_are_refused_for_matrices(rule):
    S = np.stack([np.eye(3)] * 5)
    with pytest.raises(ValueError, match="needs the observations"):
        WishartCovarianceModel(shrinkage=rule).fit(S)


def test_a_failed_fit_leaves_the_fitted_model_as_it_was():
    X = fixed_data(60, 8, 9)
    model = WishartCovarianceModel(shrinkage="qis").fit(X)
    before = model.covariance_.copy()
    bad = X.copy()
    bad[:, 0] = 1.0
    with pytest.raises(ValueError):
        model.fit(bad)
    np.testing.assert_array_equal(model.covariance_, before)


@pytest.mark.parametrize("rule", ["qis", "nonlinear", "auto"])
@pytest.mark.parametrize(
    ("defect", "message"),
    [("nan", "NaN"), ("inf", "infinity"), ("1-D", "2D array|2-D|Expected 2D")],
)
def test_non_finite_and_misshapen_input_is_refused(rule, defect, message):
    X = fixed_data(60, 8, 10)
    if defect == "nan":
        X[4, 2] = np.nan
    elif defect == "inf":
        X[4, 2] = np.inf
    else:
        X = X[:, 0]
    with pytest.raises(ValueError, match=message):
        WishartCovarianceModel(shrinkage=rule).fit(X)
