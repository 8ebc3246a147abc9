"""RBMCoarseGrainer against exact references: enumeration, closed forms and quadrature."""

import itertools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.integrate import quad
from scipy.special import expit, logsumexp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skqg import RBMCoarseGrainer
from skqg._kernels.gibbs_sampling import KIND_BERNOULLI, KIND_GAUSSIAN, KIND_SPIN, sample_layer
from skqg.rbm._partition import (
    ais_log_partition,
    default_betas,
    exact_log_partition,
    exact_model_moments,
)
from skqg.rg import rbm_flow

KINDS = {"bernoulli": KIND_BERNOULLI, "spin": KIND_SPIN, "gaussian": KIND_GAUSSIAN}
ALPHABETS = {"bernoulli": (0.0, 1.0), "spin": (-1.0, 1.0)}


def random_model(n_hidden, n_visible, scale=1.0, seed=0):
    rng = np.random.RandomState(seed)
    return (
        scale * rng.normal(size=(n_hidden, n_visible)),
        rng.normal(size=n_visible),
        rng.normal(size=n_hidden),
    )


def brute_force(W, a, b, visible):
    """log Z and the moments E[v], E[h], E[h v^T] by summing over every (v, h) pair."""
    n_hidden, n_visible = W.shape
    V = np.array(list(itertools.product(ALPHABETS[visible], repeat=n_visible)))
    H = np.array(list(itertools.product((0.0, 1.0), repeat=n_hidden)))
    log_w = (V @ a)[:, None] + (H @ b)[None, :] + V @ W.T @ H.T
    log_z = logsumexp(log_w)
    p = np.exp(log_w - log_z)
    return log_z, p.sum(axis=1) @ V, p.sum(axis=0) @ H, H.T @ p.T @ V, V, log_w


def fitted(W, a, b, visible="bernoulli", **params):
    """An estimator carrying the given parameters (as if fitted)."""
    est = RBMCoarseGrainer(W.shape[0], visible=visible, **params)
    alphabet = ALPHABETS.get(visible, (-1.0, 1.0))
    est.fit(np.array([alphabet[:1] * W.shape[1], alphabet[1:] * W.shape[1]]))
    est.components_, est.intercept_visible_, est.intercept_hidden_ = W.copy(), a.copy(), b.copy()
    return est


def binary_data(n_samples=300, n_features=12, seed=0, return_log_likelihood=False):
    """Noisy copies of two prototypes: strongly correlated pixels an RBM should capture.

    With ``return_log_likelihood``, also the rows' mean log-likelihood under the true mixture.
    """
    rng = np.random.RandomState(seed)
    prototypes = (rng.uniform(size=(2, n_features)) < 0.5).astype(float)
    X = prototypes[rng.randint(2, size=n_samples)]
    flip = rng.uniform(size=X.shape) < 0.05
    X = np.where(flip, 1.0 - X, X)
    if not return_log_likelihood:
        return X
    mismatches = np.abs(X[:, None, :] - prototypes[None]).sum(axis=2)
    log_p = mismatches * np.log(0.05) + (n_features - mismatches) * np.log(0.95)
    return X, float(np.mean(logsumexp(log_p, axis=1) - np.log(2)))


# ------------------------------------------------------------------ exact partition function
@pytest.mark.parametrize("visible", ["bernoulli", "spin"])
@pytest.mark.parametrize("shape", [(3, 5), (6, 4), (1, 1)])
def test_exact_log_partition_and_moments_match_brute_force(visible, shape):
    W, a, b = random_model(*shape)
    log_z, e_v, e_h, e_hv, *_ = brute_force(W, a, b, visible)
    kind = KINDS[visible]
    assert exact_log_partition(W, a, b, kind) == pytest.approx(log_z, abs=1e-12)
    got_v, got_h, got_hv = exact_model_moments(W, a, b, kind)
    np.testing.assert_allclose(got_v, e_v, atol=1e-12)
    np.testing.assert_allclose(got_h, e_h, atol=1e-12)
    np.testing.assert_allclose(got_hv, e_hv, atol=1e-12)


def test_gaussian_log_partition_matches_quadrature():
    W, a, b = random_model(2, 1, scale=0.7)

    def density(v):
        h_states = np.array(list(itertools.product((0.0, 1.0), repeat=2)))
        energy = 0.5 * (v - a[0]) ** 2 - h_states @ b - (h_states @ W[:, 0]) * v
        return np.exp(-energy).sum()

    z, _ = quad(density, -30, 30, limit=200)
    assert exact_log_partition(W, a, b, KIND_GAUSSIAN) == pytest.approx(np.log(z), abs=1e-9)


def test_exact_log_partition_large_layers_chunks_agree():
    # 14 hidden units: four enumeration chunks; the visible route (4 units) must agree.
    W, a, b = random_model(14, 4, scale=0.5)
    hidden_route = exact_log_partition(W, a, b, KIND_BERNOULLI)
    # Enumerate the hidden layer explicitly by transposing roles (visible has 4 units).
    H = np.array(list(itertools.product((0.0, 1.0), repeat=14)))
    direct = logsumexp(H @ b + np.logaddexp(0.0, H @ W + a).sum(axis=1))
    assert hidden_route == pytest.approx(direct, abs=1e-10)


def test_ais_agrees_with_exact_within_its_standard_error():
    W, a, b = random_model(10, 20, scale=0.4, seed=3)
    exact = exact_log_partition(W, a, b, KIND_BERNOULLI)
    log_z, std_err, _ = ais_log_partition(
        W, a, b, KIND_BERNOULLI, n_runs=200, betas=default_betas(2000), seeds=np.arange(200)
    )
    assert abs(log_z - exact) < 0.1
    assert abs(log_z - exact) < 4 * std_err + 1e-3
    assert 0 < std_err < 0.1


@pytest.mark.parametrize("visible", ["spin", "gaussian"])
def test_ais_other_visible_kinds(visible):
    W, a, b = random_model(6, 8, scale=0.3, seed=1)
    kind = KINDS[visible]
    exact = exact_log_partition(W, a, b, kind)
    log_z, std_err, _ = ais_log_partition(
        W, a, b, kind, n_runs=100, betas=default_betas(1000), seeds=np.arange(100)
    )
    assert abs(log_z - exact) < max(4 * std_err, 0.02)


# ------------------------------------------------------------------ the sampling kernel
@pytest.mark.parametrize("visible", ["bernoulli", "spin", "gaussian"])
def test_sample_layer_draws_the_conditional_law(visible):
    rng = np.random.RandomState(0)
    field = np.repeat(rng.normal(size=(1, 5)), 20000, axis=0)
    bias = rng.normal(size=5)
    mean = np.empty_like(field)
    sample = np.empty_like(field)
    sample_layer(field, bias, 1.0, 1.0, KINDS[visible], 7, mean, sample)
    x = field[0] + bias
    expected = {"bernoulli": expit(x), "spin": np.tanh(x), "gaussian": x}[visible]
    np.testing.assert_allclose(mean[0], expected, rtol=1e-12)
    std = sample.std(axis=0) / np.sqrt(len(sample))
    assert np.all(np.abs(sample.mean(axis=0) - expected) < 5 * std + 1e-12)
    if visible == "gaussian":
        np.testing.assert_allclose(sample.var(axis=0), 1.0, atol=0.05)
    else:
        assert set(np.unique(sample)) <= set(ALPHABETS[visible])


def test_kernels_do_not_depend_on_thread_count_or_the_serial_parallel_switch():
    import numba

    from skqg._kernels import gibbs_sampling as gibbs
    from skqg._kernels.annealed_importance import ais_log_weights

    field = np.random.RandomState(1).normal(size=(64, 32))
    bias = np.zeros(32)
    W, a, b = random_model(5, 8, scale=0.5)
    outputs, weights = [], []
    previous = numba.get_num_threads()
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            for kernel in (gibbs._sample_layer_serial, gibbs._sample_layer_parallel):
                sample = np.empty_like(field)
                kernel(field, bias, 1.0, 1.0, KIND_BERNOULLI, 11, field.copy(), sample)
                outputs.append(sample)
            weights.append(
                ais_log_weights(W, a, b, KIND_BERNOULLI, np.linspace(0, 1, 50), np.arange(16))
            )
    finally:
        numba.set_num_threads(previous)
    for other in outputs[1:]:
        np.testing.assert_array_equal(outputs[0], other)
    np.testing.assert_array_equal(weights[0], weights[1])


# ------------------------------------------------------------------ estimator: exact quantities
@pytest.mark.parametrize("visible", ["bernoulli", "spin"])
def test_score_samples_is_a_normalised_log_likelihood(visible):
    W, a, b = random_model(3, 6, scale=0.8)
    est = fitted(W, a, b, visible)
    log_z, *_, V, log_w = brute_force(W, a, b, visible)
    log_p = est.score_samples(V)
    np.testing.assert_allclose(log_p, logsumexp(log_w, axis=1) - log_z, atol=1e-10)
    assert logsumexp(log_p) == pytest.approx(0.0, abs=1e-10)
    assert est.score(V) == pytest.approx(log_p.mean())


def test_gaussian_score_samples_integrates_to_one():
    W, a, b = random_model(3, 1, scale=0.6)
    est = fitted(W, a, b, "gaussian")
    total, _ = quad(lambda v: np.exp(est.score_samples([[v]])[0]), -30, 30, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("visible", ["bernoulli", "spin", "gaussian"])
def test_transform_and_inverse_transform_are_conditional_means(visible):
    W, a, b = random_model(4, 5)
    est = fitted(W, a, b, visible)
    V = np.array(list(itertools.product(ALPHABETS.get(visible, (-1.0, 1.0)), repeat=5)))
    np.testing.assert_allclose(est.transform(V), expit(V @ W.T + b), rtol=1e-12)
    H = np.random.RandomState(0).uniform(size=(7, 4))
    x = H @ W + a
    expected = {"bernoulli": expit(x), "spin": np.tanh(x), "gaussian": x}[visible]
    np.testing.assert_allclose(est.inverse_transform(H), expected, rtol=1e-12)


def test_exact_gradient_matches_finite_differences_of_the_log_likelihood():
    X = binary_data(40, 5)
    W, a, b = random_model(3, 5, scale=0.5)
    e_v, e_h, e_hv = exact_model_moments(W, a, b, KIND_BERNOULLI)
    h_data = expit(X @ W.T + b)
    analytic = {
        "W": h_data.T @ X / len(X) - e_hv,
        "a": X.mean(axis=0) - e_v,
        "b": h_data.mean(axis=0) - e_h,
    }
    step = 1e-6
    for name, index in [("W", (0, 0)), ("W", (2, 4)), ("W", (1, 3)), ("a", 2), ("b", 1)]:
        shifted = []
        for sign in (1, -1):
            params = {"W": W.copy(), "a": a.copy(), "b": b.copy()}
            params[name][index] += sign * step
            shifted.append(fitted(params["W"], params["a"], params["b"]).score(X))
        numeric = (shifted[0] - shifted[1]) / (2 * step)
        assert analytic[name][index] == pytest.approx(numeric, abs=1e-6)


# ------------------------------------------------------------------ estimator: training
@pytest.mark.parametrize("method", ["cd", "pcd", "pt", "exact"])
def test_every_method_learns_correlations(method):
    X, truth = binary_data(return_log_likelihood=True)
    independent = X.mean(axis=0)
    baseline = np.mean(X @ np.log(independent) + (1 - X) @ np.log1p(-independent))
    est = RBMCoarseGrainer(4, method=method, n_iter=15, random_state=0).fit(X)
    assert est.log_partition().method == "exact"
    # Independent pixels miss the prototypes' correlations by ~1.9 nats; a trained RBM comes
    # within a few tenths of a nat of the generating mixture.
    assert truth - baseline > 1.5
    assert est.score(X) > truth - 0.3
    assert est.n_iter_ == 15


def test_spin_and_gaussian_visible_units_train():
    bits, truth = binary_data(return_log_likelihood=True)
    X = 2 * bits - 1
    spin = RBMCoarseGrainer(4, visible="spin", n_iter=10, random_state=0).fit(X)
    untrained = RBMCoarseGrainer(4, visible="spin", n_iter=0, random_state=0).fit(X)
    assert spin.score(X) > untrained.score(X) + 1.5
    assert spin.score(X) > truth - 0.3
    rng = np.random.RandomState(0)
    Z = X + 0.3 * rng.normal(size=X.shape)
    gauss = RBMCoarseGrainer(4, visible="gaussian", n_iter=10, random_state=0).fit(Z)
    flat = RBMCoarseGrainer(4, visible="gaussian", n_iter=0, random_state=0).fit(Z)
    assert gauss.score(Z) > flat.score(Z)


def test_fit_is_reproducible_and_independent_of_n_jobs():
    X = binary_data()
    fits = [
        RBMCoarseGrainer(4, n_iter=3, random_state=5, n_jobs=n_jobs).fit(X) for n_jobs in (1, 2, 1)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].components_, other.components_)
    different = RBMCoarseGrainer(4, n_iter=3, random_state=6).fit(X)
    assert not np.array_equal(fits[0].components_, different.components_)


def test_sparse_input_matches_dense():
    X = binary_data()
    dense = RBMCoarseGrainer(4, n_iter=3, random_state=0).fit(X)
    sparse = RBMCoarseGrainer(4, n_iter=3, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.components_, dense.components_, atol=1e-10)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), dense.transform(X), atol=1e-10)
    np.testing.assert_allclose(
        sparse.score_samples(sp.csr_matrix(X)), dense.score_samples(X), atol=1e-8
    )


def test_float32_is_preserved_and_close_to_float64():
    X = binary_data()
    est64 = RBMCoarseGrainer(4, n_iter=3, random_state=0).fit(X)
    est32 = RBMCoarseGrainer(4, n_iter=3, random_state=0).fit(X.astype(np.float32))
    assert est32.components_.dtype == np.float32
    assert est32.transform(X.astype(np.float32)).dtype == np.float32
    assert est32.inverse_transform(np.zeros((2, 4), np.float32)).dtype == np.float32
    assert est32.gibbs(X[:5].astype(np.float32), random_state=0).dtype == np.float32
    np.testing.assert_allclose(est32.components_, est64.components_, atol=1e-3)


def test_partial_fit_continues_training():
    X = binary_data()
    est = RBMCoarseGrainer(4, random_state=0)
    for chunk in np.array_split(X, 3):
        est.partial_fit(chunk)
    assert est.n_iter_ == 3
    before = est.score(X)
    for _ in range(10):
        est.partial_fit(X)
    assert est.n_iter_ == 13
    assert est.score(X) > before


def test_sample_and_gibbs_reach_the_model_law():
    W, a, b = random_model(3, 4, scale=1.0, seed=2)
    est = fitted(W, a, b)
    exact_v, *_ = exact_model_moments(W, a, b, KIND_BERNOULLI)
    samples = est.sample(4000, n_steps=50, random_state=0)
    assert samples.shape == (4000, 4)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert np.all(np.abs(samples.mean(axis=0) - exact_v) < 5 * np.sqrt(0.25 / 4000))
    moved = est.gibbs(samples, n_steps=3, random_state=1)
    assert np.all(np.abs(moved.mean(axis=0) - exact_v) < 5 * np.sqrt(0.25 / 4000))
    np.testing.assert_array_equal(est.sample(10, random_state=3), est.sample(10, random_state=3))


def test_log_partition_auto_exact_ais_and_cache():
    X = binary_data(n_features=12)
    est = RBMCoarseGrainer(8, n_iter=5, random_state=0).fit(X)
    exact = est.log_partition("exact")
    assert exact.method == "exact" and exact.std_err == 0.0
    assert est.log_partition() == exact
    ais = est.log_partition("ais", n_runs=50, n_betas=1000, random_state=0)
    assert ais.method == "ais" and ais.std_err > 0
    assert abs(ais.log_z - exact.log_z) < max(4 * ais.std_err, 0.02)
    assert est.log_partition("ais", n_runs=50, n_betas=1000, random_state=0) == ais
    est.partial_fit(X)  # the model changes: the cached value must not be reused
    assert est.log_partition("exact").log_z != exact.log_z
    with pytest.raises(ValueError, match="method"):
        est.log_partition("magic")
    with pytest.raises(ValueError, match="n_runs"):
        est.log_partition("ais", n_runs=1)


def test_exact_method_refuses_large_layers():
    X = (np.random.RandomState(0).uniform(size=(30, 25)) < 0.5).astype(float)
    with pytest.raises(ValueError, match=r"2\*\*21 states"):
        RBMCoarseGrainer(21, method="exact").fit(X)
    big = RBMCoarseGrainer(31, n_iter=0).fit(np.tile(X, (1, 2)))
    with pytest.raises(ValueError, match="method='ais'"):
        big.log_partition("exact")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("visible", "value", "message"),
    [
        ("bernoulli", 2.0, r"values in \[0, 1\]"),
        ("bernoulli", -0.5, r"values in \[0, 1\]"),
        ("spin", 0.0, r"\{-1, \+1\}"),
        ("spin", 0.5, r"\{-1, \+1\}"),
        ("bernoulli", np.nan, "NaN"),
        ("gaussian", np.inf, "infinity"),
    ],
)
def test_bad_values_raise_and_leave_the_model_unchanged(visible, value, message):
    X = binary_data()
    if visible == "spin":
        X = 2 * X - 1
    est = RBMCoarseGrainer(4, visible=visible, n_iter=2, random_state=0).fit(X)
    state = pickle.dumps(est)
    bad = X[:5].copy()
    bad[2, 3] = value
    methods = (est.partial_fit, est.transform, est.score_samples, est.free_energy, est.gibbs)
    for method in (*methods, est.fit):
        with pytest.raises(ValueError, match=message):
            method(bad)
    assert pickle.dumps(est) == state


def test_wrong_feature_count_and_hidden_domain():
    X = binary_data()
    est = RBMCoarseGrainer(4, n_iter=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:, :5])
    with pytest.raises(ValueError, match="hidden units"):
        est.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        est.inverse_transform(np.full((2, 4), 1.5))
    with pytest.raises(ValueError, match="NaN"):
        est.inverse_transform(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="2D array"):
        est.transform(X[0])
    with pytest.raises(ValueError, match="2D array"):
        est.fit(X[0])
    with pytest.raises(ValueError, match="n_runs"):
        est.log_partition("ais", n_runs=2.5)
    with pytest.raises(ValueError, match="implicit zeros"):
        RBMCoarseGrainer(4, visible="spin").fit(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="n_steps"):
        est.gibbs(X, n_steps=-1)
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


# ------------------------------------------------------------------ composition
def test_deep_belief_network_pipeline_and_grid_search():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X[:600] / 16 > 0.5).astype(float)
    y = y[:600]
    dbn = Pipeline(
        [
            ("rbm1", RBMCoarseGrainer(64, n_iter=20, random_state=0)),
            ("rbm2", RBMCoarseGrainer(32, n_iter=20, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    ).fit(X, y)
    # Chance is 0.1; the 32 features of the second layer keep most of the class information.
    assert dbn.score(X, y) > 0.7
    names = dbn[:-1].get_feature_names_out()
    assert len(names) == 32 and names[0] == "rbmcoarsegrainer0"
    search = GridSearchCV(
        RBMCoarseGrainer(n_iter=5, random_state=0), {"n_components": [2, 12]}, cv=3
    ).fit(X)
    assert search.best_params_ == {"n_components": 12}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_clone_pickle_and_rbm_flow():
    X = 2 * binary_data() - 1
    est = RBMCoarseGrainer(4, visible="spin", n_iter=3, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.score_samples(X), est.score_samples(X))
    assert not hasattr(clone(est), "components_")
    flow = rbm_flow(est, X[:20], 3, random_state=0)
    assert flow.shape == (4, 20, 12)
    assert set(np.unique(flow)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(flow, rbm_flow(est, X[:20], 3, random_state=0))


def test_verbose_reports_each_epoch(capsys):
    RBMCoarseGrainer(3, n_iter=2, verbose=1, random_state=0).fit(binary_data())
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("[RBMCoarseGrainer] Iteration 2, reconstruction error = ")


def test_persistent_chain_shapes_and_float32_log_partition():
    X = binary_data()
    pt = RBMCoarseGrainer(3, method="pt", n_chains=7, n_iter=1, random_state=0).fit(X)
    assert pt.h_samples_.shape == (4, 7, 3)
    assert pt.betas_[0] == 1.0 and pt.betas_[-1] == pytest.approx(0.1)
    assert np.all(np.diff(pt.betas_) < 0) and pt.swap_rates_.shape == (3,)
    pcd = RBMCoarseGrainer(3, method="pcd", n_iter=1, batch_size=80, random_state=0).fit(X)
    assert pcd.h_samples_.shape == (80, 3)
    est32 = RBMCoarseGrainer(5, n_iter=2, random_state=0).fit(X.astype(np.float32))
    W, a, b = (
        p.astype(np.float64)
        for p in (est32.components_, est32.intercept_visible_, est32.intercept_hidden_)
    )
    exact = exact_log_partition(W, a, b, KIND_BERNOULLI)
    assert est32.log_partition().log_z == pytest.approx(exact, abs=1e-9)
    ais = est32.log_partition("ais", n_runs=50, n_betas=500, random_state=0)
    assert abs(ais.log_z - exact) < max(4 * ais.std_err, 0.02)
    np.testing.assert_allclose(
        est32.score_samples(X.astype(np.float32)), fitted(W, a, b).score_samples(X), atol=1e-4
    )


def test_mean_field_flow_of_a_spin_rbm_stays_inside_the_domain():
    X = 2 * binary_data() - 1
    est = RBMCoarseGrainer(4, visible="spin", n_iter=3, random_state=0).fit(X)
    flow = rbm_flow(est, X[:20], 3, mean_field=True)
    W, a, b = est.components_, est.intercept_visible_, est.intercept_hidden_
    expected = X[:20]
    for step in range(1, 4):
        expected = np.tanh(expit(expected @ W.T + b) @ W + a)
        np.testing.assert_allclose(flow[step], expected, rtol=1e-10)
    assert np.all(np.abs(flow[1:]) < 1)
