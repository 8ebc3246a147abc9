"""The compiled persistent-chain epoch (PCD and parallel tempering) against exact references.

* One epoch equals a plain NumPy transcription of the algorithm, draw for draw.
* With a zero learning rate the model is fixed, and the tempered chains at beta = 1 sample its
  exact hidden marginal (enumerated), for every visible kind: a wrong exchange rule would bias it.
* Tempered chains cross between two modes that single-temperature chains never leave.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp

from skqg._kernels import pcd_training
from skqg._kernels.gibbs_sampling import KIND_BERNOULLI, KIND_GAUSSIAN, KIND_SPIN, sample_layer
from skqg._kernels.random_streams import seed_state, uniform

KINDS = {"bernoulli": KIND_BERNOULLI, "spin": KIND_SPIN, "gaussian": KIND_GAUSSIAN}


def _moments(W, a, b):
    return tuple(np.zeros_like(p).reshape(-1, p.shape[-1]) for p in (W, W, a, a, b, b))


def run_epoch(
    X,
    order,
    W,
    a,
    b,
    chains,
    betas,
    seeds,
    *,
    rate,
    solver="sgd",
    momentum=0.5,
    decay=1e-4,
    batch_size=5,
    kind=KIND_BERNOULLI,
    state=None,
    parallel=False,
):
    """Call the kernel; returns (state, swaps)."""
    state = _moments(W, a, b) if state is None else state
    swaps = (np.zeros(len(betas) - 1, np.int64), np.zeros(len(betas) - 1, np.int64))
    if sp.issparse(X):
        data = (
            np.empty((0, X.shape[1])),
            X.data,
            X.indices.astype(np.int64),
            X.indptr.astype(np.int64),
            order,
            True,
        )
    else:
        empty = np.empty(0, np.int64)
        data = (X, empty.astype(X.dtype), empty, empty, order, False)
    hyper = (rate, momentum, 0.999, 1e-8, decay, 0.0, solver == "adam")
    pcd_training.persistent_epoch(
        data,
        (W, a, b, chains),
        state,
        hyper,
        kind,
        seeds,
        betas,
        swaps,
        batch_size,
        0,
        parallel=parallel,
    )
    return state, swaps


def reference_epoch(
    X, order, W, a, b, chains, betas, seeds, *, rate, momentum, decay, batch_size, kind
):
    """The same epoch in NumPy (classical momentum), with the kernels' own row samplers."""
    n_replicas = len(betas)
    k = (seeds.shape[1] - 1) // (2 * n_replicas)
    velocity = [np.zeros_like(W), np.zeros_like(a), np.zeros_like(b)]
    for batch, start in enumerate(range(0, len(order), batch_size)):
        V_data = X[order[start : start + batch_size]]
        H_data = expit(V_data @ W.T + b)
        energies, model = [], None
        for t, beta in enumerate(betas):
            for sweep in range(k):
                field = chains[t] @ W
                V_t = np.empty_like(field)
                sample_layer(
                    field,
                    a,
                    beta,
                    1 / np.sqrt(beta),
                    kind,
                    seeds[batch, 2 * (t * k + sweep)],
                    field,
                    V_t,
                )
                field_h = V_t @ W.T
                H_t = np.empty_like(field_h)
                sample_layer(
                    field_h,
                    b,
                    beta,
                    1.0,
                    KIND_BERNOULLI,
                    seeds[batch, 2 * (t * k + sweep) + 1],
                    H_t,
                    chains[t],
                )
            visible = -0.5 * ((V_t - a) ** 2).sum(1) if kind == KIND_GAUSSIAN else V_t @ a
            energies.append(-visible - (chains[t] * (field_h + b)).sum(1))
            if t == 0:
                model = (V_t, H_t)
        if n_replicas > 1:
            state = np.empty(4, np.uint64)
            seed_state(seeds[batch, -1], state)
            for t in range(1 if uniform(state) < 0.5 else 0, n_replicas - 1, 2):
                for i in range(chains.shape[1]):
                    log_ratio = (betas[t] - betas[t + 1]) * (energies[t][i] - energies[t + 1][i])
                    if np.log(1 - uniform(state)) < log_ratio:
                        chains[[t, t + 1], i] = chains[[t + 1, t], i]
        V_model, H_model = model
        grads = (
            H_data.T @ V_data / len(V_data) - H_model.T @ V_model / len(V_model),
            V_data.mean(0) - V_model.mean(0),
            H_data.mean(0) - H_model.mean(0),
        )
        for i, (param, grad) in enumerate(zip((W, a, b), grads, strict=True)):
            g = grad - decay * param if i == 0 else grad
            velocity[i] = momentum * velocity[i] + rate * g
            param += velocity[i]


def random_problem(kind, n_visible=7, n_hidden=4, n_rows=23, n_replicas=3, k=2, seed=0):
    rng = np.random.RandomState(seed)
    if kind == KIND_GAUSSIAN:
        X = rng.normal(size=(n_rows, n_visible))
    else:
        X = (rng.uniform(size=(n_rows, n_visible)) < 0.4).astype(float)
        X = 2 * X - 1 if kind == KIND_SPIN else X
    W = 0.3 * rng.normal(size=(n_hidden, n_visible))
    a, b = 0.1 * rng.normal(size=n_visible), 0.1 * rng.normal(size=n_hidden)
    chains = (rng.uniform(size=(n_replicas, 11, n_hidden)) < 0.5).astype(float)
    n_batches = pcd_training.n_batches(n_rows, 5)
    seeds = rng.randint(0, 2**62, size=(n_batches, pcd_training.n_seeds(n_replicas, k)))
    betas = np.linspace(1.0, 0.3, n_replicas)
    return X, rng.permutation(n_rows), W, a, b, chains, betas, seeds


@pytest.mark.parametrize("visible", sorted(KINDS))
@pytest.mark.parametrize("n_replicas", [1, 3])
def test_epoch_equals_a_numpy_transcription(visible, n_replicas):
    kind = KINDS[visible]
    X, order, W, a, b, chains, betas, seeds = random_problem(kind, n_replicas=n_replicas)
    expected = [p.copy() for p in (W, a, b, chains)]
    reference_epoch(
        X,
        order,
        *expected,
        betas,
        seeds,
        rate=0.05,
        momentum=0.5,
        decay=1e-3,
        batch_size=5,
        kind=kind,
    )
    for parallel, data in ((False, X), (True, X), (False, sp.csr_matrix(X))):
        params = [p.copy() for p in (W, a, b, chains)]
        run_epoch(
            data, order, *params, betas, seeds, rate=0.05, decay=1e-3, kind=kind, parallel=parallel
        )
        for got, want in zip(params, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32_epoch_follows_the_float64_epoch(solver):
    """The float32 path (float32 logistic and step arithmetic) tracks float64 to its precision."""
    X, order, W, a, b, chains, betas, seeds = random_problem(KIND_BERNOULLI, n_replicas=3)
    results = {}
    for dtype in (np.float64, np.float32):
        params = [p.astype(dtype) for p in (X, W, a, b, chains)]
        run_epoch(*params[:1], order, *params[1:], betas, seeds, rate=0.05, solver=solver)
        assert all(p.dtype == dtype for p in params)
        results[dtype] = params[1:]
    for got, want in zip(results[np.float32], results[np.float64], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_float32_bernoulli_means_are_the_logistic_to_float32_precision():
    field = np.linspace(-120.0, 120.0, 4001, dtype=np.float32).reshape(1, -1)
    field = np.concatenate([field, [[np.nan] + [0.0] * (field.shape[1] - 1)]]).astype(np.float32)
    bias = np.full(field.shape[1], 0.25, np.float32)
    mean, sample = np.empty_like(field), np.empty_like(field)
    sample_layer(field.copy(), bias, 0.5, 1.0, KIND_BERNOULLI, 3, mean, sample)
    want = expit(0.5 * (field.astype(np.float64) + 0.25))
    assert mean.dtype == np.float32 and np.isnan(mean[1, 0])
    np.testing.assert_allclose(mean[:, 1:], want[:, 1:], rtol=1e-6, atol=1e-37)
    assert set(np.unique(sample[:, 1:])) <= {0.0, 1.0}


def exact_hidden_marginal(W, a, b, kind):
    """p(h) of the RBM by enumerating the hidden states and integrating out v in closed form."""
    H = np.array(list(itertools.product((0.0, 1.0), repeat=W.shape[0])))
    field = H @ W + a
    if kind == KIND_BERNOULLI:
        visible = np.logaddexp(0, field).sum(1)
    elif kind == KIND_SPIN:
        visible = np.logaddexp(field, -field).sum(1)
    else:
        visible = 0.5 * (field**2).sum(1)
    log_p = H @ b + visible
    return H, np.exp(log_p - logsumexp(log_p))


def fixed_model_update(X, W, a, b, chains, betas, rng, kind):
    """One update with a zero step: a sweep of every replica and one exchange round; swaps."""
    seeds = rng.randint(0, 2**62, size=(1, pcd_training.n_seeds(len(betas), 1)))
    order = np.zeros(1, np.int64)
    _, swaps = run_epoch(X, order, W, a, b, chains, betas, seeds, rate=0.0, batch_size=1, kind=kind)
    return swaps


@pytest.mark.parametrize("visible", sorted(KINDS))
def test_tempered_chains_sample_the_exact_hidden_marginal(visible):
    kind = KINDS[visible]
    rng = np.random.RandomState(1)
    W = 1.2 * rng.normal(size=(3, 5))
    a, b = 0.5 * rng.normal(size=5), 0.5 * rng.normal(size=3)
    betas = np.array([1.0, 0.6, 0.35, 0.2])
    chains = np.zeros((4, 400, 3))
    X = np.zeros((1, 5)) if kind != KIND_SPIN else -np.ones((1, 5))
    counts, accepted = np.zeros(8), 0
    for call in range(150):
        swaps = fixed_model_update(X, W, a, b, chains, betas, rng, kind)
        accepted += swaps[1].sum()
        if call >= 30:
            codes = chains[0] @ np.array([4, 2, 1])
            counts += np.bincount(codes.astype(int), minlength=8)
    states, exact = exact_hidden_marginal(W, a, b, kind)
    assert np.array_equal(states @ np.array([4, 2, 1]), np.arange(8))
    empirical = counts / counts.sum()
    assert 0.5 * np.abs(empirical - exact).sum() < 0.02
    assert accepted > 0


def test_tempering_crosses_between_modes_that_single_chains_cannot():
    # Two hidden units favour all-up and all-down spins: the two modes carry e^16 each against
    # 2**12 ~ e^8.3 for the states in between, so single-temperature chains stay in the mode
    # they start in.
    n, J, c = 12, 2.0, 16.0
    W = np.vstack([J * np.ones(n), -J * np.ones(n)])
    a, b = np.zeros(n), np.array([c - J * n, c - J * n])
    rng = np.random.RandomState(0)
    X = np.ones((1, n))
    down = {}
    for betas in (np.ones(1), np.linspace(1.0, 0.1, 10)):
        chains = np.zeros((len(betas), 20, 2))
        chains[..., 0] = 1.0  # every chain starts in the all-up mode
        history = []
        for _ in range(200):
            fixed_model_update(X, W, a, b, chains, betas, rng, KIND_SPIN)
            history.append(chains[0, :, 1] > chains[0, :, 0])
        down[len(betas)] = np.mean(history[100:])
    assert down[1] < 0.05
    # The model is symmetric: tempered chains spend about half their time in each mode.
    assert 0.3 < down[10] < 0.7


# ---------------------------------------------------------------------- the estimator's ladder
def test_retune_ladder_moves_toward_equal_exchange_rates():
    from skqg.rbm._training import initial_ladder, retune_ladder

    betas = initial_ladder(5)
    assert betas[0] == 1.0 and betas[-1] == pytest.approx(0.1)
    attempts = np.full(4, 1000)
    same = retune_ladder(betas, attempts, np.full(4, 300))
    np.testing.assert_allclose(same, betas, rtol=1e-12)
    # The first pair swaps too rarely, the last too often: the first gap shrinks, the last
    # widens, and the end points stay.
    moved = retune_ladder(betas, attempts, np.array([50, 300, 300, 900]))
    gaps, new_gaps = -np.diff(np.log(betas)), -np.diff(np.log(moved))
    assert new_gaps[0] < gaps[0] and new_gaps[-1] > gaps[-1]
    assert moved[0] == 1.0 and moved[-1] == pytest.approx(0.1, rel=1e-12)
    assert np.all(np.diff(moved) < 0)
    two = initial_ladder(2)
    assert retune_ladder(two, np.array([10]), np.array([0])) is two


def test_default_tempering_reports_its_ladder_and_follows_it():
    from skqg import RBMCoarseGrainer

    X, _ = bars_and_stripes_draws(600)
    est = RBMCoarseGrainer(8, n_iter=3, random_state=0).fit(X)
    assert est.method == "pt" and est.h_samples_.shape == (4, 50, 8)
    assert est.betas_.shape == (4,) and np.all(np.diff(est.betas_) < 0)
    assert np.all((est.swap_rates_ >= 0) & (est.swap_rates_ <= 1))
    # "auto" is Adam's step 0.3 / max(n_components, 10): the same fit as the explicit value.
    explicit = RBMCoarseGrainer(8, n_iter=3, learning_rate=0.03, random_state=0).fit(X)
    np.testing.assert_array_equal(explicit.components_, est.components_)
    wide = RBMCoarseGrainer(40, n_iter=1, random_state=0).fit(X)
    wide_explicit = RBMCoarseGrainer(40, n_iter=1, learning_rate=0.3 / 40, random_state=0).fit(X)
    np.testing.assert_array_equal(wide.components_, wide_explicit.components_)


def bars_and_stripes_draws(n_samples, seed=0):
    rows = [
        np.repeat(np.array(bits)[:, None], 4, axis=1)
        for bits in itertools.product((0, 1), repeat=4)
    ]
    patterns = np.array(sorted({tuple(p.ravel()) for r in rows for p in (r, r.T)}), dtype=float)
    assert len(patterns) == 30
    return patterns[np.random.RandomState(seed).randint(30, size=n_samples)], patterns


def test_tempering_keeps_improving_where_single_chains_fall_back():
    from skqg import RBMCoarseGrainer

    X, patterns = bars_and_stripes_draws(1500)
    best = -np.log(30)  # the uniform law on the 30 patterns
    scores = {}
    for method in ("pt", "pcd"):
        for n_iter in (20, 60):
            est = RBMCoarseGrainer(16, method=method, n_iter=n_iter, random_state=0).fit(X)
            scores[method, n_iter] = est.score(patterns)
    assert scores["pt", 60] >= scores["pt", 20] - 0.02
    assert scores["pt", 60] > best - 0.3
    # Single-temperature chains stay in the modes they reached: more epochs make the model worse.
    assert scores["pcd", 60] < scores["pcd", 20] - 0.2
