"""Reliability probes (issue 18): state after failed calls and after ``set_params``, and races.

Each test is named after what it checks; all were failures found by probing from outside.
"""

import re
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.base import clone

from skqg import (
    MongeAmpereTransport,
    RBMCoarseGrainer,
    TransportPlanDensity,
    WishartCovarianceModel,
)
from skqg.cli import main


def binary(n_rows, n_columns, seed=0):
    return (np.random.RandomState(seed).uniform(size=(n_rows, n_columns)) < 0.4).astype(float)


def fitted_state(estimator):
    """Every attribute, arrays copied, for an exact before/after comparison."""
    return {
        key: value.copy() if isinstance(value, np.ndarray) else value
        for key, value in vars(estimator).items()
        if key != "_partition_cache"
    }


def assert_same_state(estimator, before):
    after = fitted_state(estimator)
    assert after.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        elif key not in ("random_state_", "_optimizer_state"):
            assert after[key] == value, key


# ------------------------------------------------------------------ 1. failed RBM fit
def test_failed_rbm_fit_leaves_the_fitted_model_unchanged():
    X6, X10 = binary(40, 6), binary(40, 10, seed=1)
    X10[0, 0] = 2.0  # outside the Bernoulli domain
    rbm = RBMCoarseGrainer(3, n_iter=3, random_state=0).fit(X6)
    expected = rbm.transform(X6)
    before = fitted_state(rbm)
    with pytest.raises(ValueError, match="visible"):
        rbm.fit(X10)
    assert rbm.n_features_in_ == 6
    np.testing.assert_array_equal(rbm.transform(X6), expected)
    assert_same_state(rbm, before)


def test_failed_partial_fit_leaves_the_weights_unchanged():
    X = binary(40, 6)
    rbm = RBMCoarseGrainer(3, random_state=0).partial_fit(X)
    before = fitted_state(rbm)
    bad = X.copy()
    bad[3, 2] = -1.0
    with pytest.raises(ValueError):
        rbm.partial_fit(bad)
    assert_same_state(rbm, before)


def test_fit_interrupted_mid_training_leaves_the_previous_model_unchanged(monkeypatch):
    X = binary(40, 6)
    rbm = RBMCoarseGrainer(3, n_iter=3, random_state=0).fit(X)
    before = fitted_state(rbm)
    run_epoch = RBMCoarseGrainer._run_epoch
    calls = []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 2:  # after one epoch of the new fit has updated the weights
            raise KeyboardInterrupt
        return run_epoch(self, *args)

    monkeypatch.setattr(RBMCoarseGrainer, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rbm.fit(binary(40, 6, seed=3))
    assert_same_state(rbm, before)


# ------------------------------------------------------------------ 2. set_params after fit
def test_rbm_keeps_its_fitted_visible_kind_after_set_params():
    X = binary(50, 6)
    rbm = RBMCoarseGrainer(3, n_iter=3, random_state=0).fit(X)
    scores, hidden = rbm.score_samples(X), rbm.transform(X)
    rbm.set_params(visible="gaussian")
    np.testing.assert_array_equal(rbm.score_samples(X), scores)
    np.testing.assert_array_equal(rbm.transform(X), hidden)
    # A new fit follows the parameters again.
    assert not np.array_equal(rbm.fit(X).score_samples(X), scores)


def test_rbm_log_partition_keeps_its_fitted_seed_after_set_params():
    X = binary(50, 8)
    rbm = RBMCoarseGrainer(4, n_iter=2, random_state=0).fit(X)
    estimate = rbm.log_partition("ais", n_runs=5, n_betas=50)
    rbm.set_params(random_state=7)
    rbm._partition_cache.clear()  # recompute rather than read the cache
    assert rbm.log_partition("ais", n_runs=5, n_betas=50) == estimate


# ------------------------------------------------------------------ 11. partition cache race
def test_concurrent_scoring_computes_the_log_partition_once():
    X = binary(50, 12)
    rbm = RBMCoarseGrainer(6, n_iter=2, random_state=None).fit(X)
    results, start = [], threading.Barrier(8)

    def score():
        start.wait()
        results.append(rbm.log_partition("ais", n_runs=20, n_betas=300).log_z)

    threads = [threading.Thread(target=score) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1


# ------------------------------------------------------------------ 3-6. scales and degeneracy
def normal_data(n_rows=200, n_columns=2, seed=0):
    return np.random.RandomState(seed).normal(size=(n_rows, n_columns))


def test_transport_refuses_points_whose_squares_overflow_instead_of_returning_nan():
    model = MongeAmpereTransport(random_state=0).fit(normal_data())
    far = np.array([[1e155, 1e155]])
    for method in (model.transform, model.score_samples, model.log_det_jacobian):
        with pytest.raises(ValueError, match=r"away from the training data's centre.*Rescale"):
            method(far)
    assert np.isfinite(model.score_samples([[1e150, 1e150]])).all()  # still in range


def test_gaussian_rbm_refuses_data_whose_squares_overflow():
    with pytest.raises(
        ValueError, match=r"magnitude up to 2.77e\+300.*overflow float64.*StandardScaler"
    ):
        RBMCoarseGrainer(2, visible="gaussian", n_iter=1).fit(normal_data() * 1e300)


@pytest.mark.parametrize(
    "estimator",
    [
        WishartCovarianceModel(),
        WishartCovarianceModel(shrinkage="ledoit-wolf"),
        WishartCovarianceModel(n_components=1),
        MongeAmpereTransport(random_state=0),
    ],
    ids=["wishart", "wishart-ledoit-wolf", "wishart-factors", "transport"],
)
@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_extreme_scales_get_a_clear_error_that_suggests_rescaling(estimator, scale):
    """Not LinAlgError, not "Input contains NaN" (there is none), never an internal name."""
    with pytest.raises(ValueError, match=r"magnitude .*Rescale X") as error:
        clone(estimator).fit(normal_data(n_columns=3) * scale)
    assert "cov_x" not in str(error.value) and "NaN" not in str(error.value)


@pytest.mark.parametrize("solver", ["sinkhorn", "exact"])
@pytest.mark.parametrize("scale", [1e-150, 1e-20, 1e20, 1e150])
def test_transport_round_trips_and_draws_at_any_scale(scale, solver):
    """Found by the probe suite: the inverse's stopping rules were in absolute units, and the
    solvers mixed the data's units with the reference's (Sinkhorn's start and the simplex's
    costs; at 1e50 Sinkhorn stopped after one iteration on an overflowed error), so
    inverse_transform and sample failed beyond 1e6 and below 1e-6."""
    X = normal_data(60, 2)
    X[:, 1] = X[:, 1] ** 2
    model = MongeAmpereTransport(solver=solver, random_state=0).fit(X * scale)
    back = model.inverse_transform(model.transform(X * scale))
    np.testing.assert_allclose(back / scale, X, rtol=0, atol=1e-12)
    assert np.isfinite(model.sample(200, random_state=0)).all()
    if solver == "sinkhorn":  # the simplex's dual is not unique: any vertex may come back
        unit = MongeAmpereTransport(random_state=0).fit(X)
        np.testing.assert_allclose(model.transform(X * scale), unit.transform(X), atol=5e-3)


def test_transport_map_is_the_same_to_rounding_for_data_scaled_by_a_power_of_two():
    """The Sinkhorn solve is exactly equivariant then (the data are rescaled by a power of two
    to the reference's spread); the moments and their square roots add only rounding."""
    X = normal_data(60, 2)
    Z = MongeAmpereTransport(random_state=0).fit(X).transform(X)
    for power in (-400, -30, 30, 400):
        scaled = np.ldexp(X, power)
        model = MongeAmpereTransport(random_state=0).fit(scaled)
        np.testing.assert_allclose(model.transform(scaled), Z, rtol=0, atol=1e-12)


def test_plan_density_refuses_inputs_whose_scores_would_overflow():
    """The same defect as item 3 in TransportPlanDensity: NaN scores beyond about 1e153."""
    model = TransportPlanDensity(random_state=0).fit(normal_data(60, 2))
    assert np.isfinite(model.score_samples(np.full((1, 2), 1e150))).all()
    with pytest.raises(ValueError, match=r"overflow float64 beyond .*Rescale it"):
        model.score_samples(np.full((1, 2), 1e155))
    with pytest.raises(ValueError, match=r"magnitude up to .*Rescale X"):
        TransportPlanDensity(random_state=0).fit(normal_data(60, 2) * 1e300)


def test_transport_refuses_rows_that_are_all_equal():
    with pytest.raises(ValueError, match="zero variance in every direction"):
        MongeAmpereTransport(random_state=0).fit(np.array([[1.0, 2.0], [1.0, 2.0]]))


@pytest.mark.parametrize("defect", ["constant", "collinear"])
def test_transport_warns_when_a_direction_without_spread_floors_its_density(defect):
    """The documented finite answer is not a silent one: the warning names the directions and
    the remedy, and points at the user's call."""
    X = normal_data(200, 3)
    X[:, 1] = 2.0 if defect == "constant" else X[:, 0] - 3.0 * X[:, 2]
    with pytest.warns(
        UserWarning, match=r"almost no spread in 1 of its 3 directions.*VarianceThreshold"
    ) as caught:
        model = MongeAmpereTransport(random_state=0).fit(X)
    assert caught[0].filename == __file__
    assert np.isfinite(model.score_samples(X)).all() and np.isfinite(model.transform(X)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # full-rank data: no warning
        MongeAmpereTransport(random_state=0).fit(normal_data(200, 3))


# ------------------------------------------------------------------ 12. numerically singular
def test_numerically_singular_matrices_are_regularised_even_when_cholesky_succeeds():
    """Rank-15 sample covariances of size 16: for some, Cholesky succeeds with eigenvalues of
    1e-16 relative, and their tangent vectors were all NaN."""
    rng = np.random.RandomState(0)
    stack = []
    for _ in range(400):
        Z = rng.normal(size=(16, 16)) @ rng.normal(size=(16, 16))
        Z -= Z.mean(axis=0)
        stack.append(Z.T @ Z / 15)
    stack = np.array(stack)
    train, test = stack[:300], stack[300:]
    model = WishartCovarianceModel().fit(train)
    assert model.n_regularised_ == len(train)  # every one has rank 15
    for part in (train, test):
        assert np.isfinite(model.transform(part)).all()
        assert np.isfinite(model.score_samples(part)).all()


# ------------------------------------------------------------------ 7. wide factor analysis
def test_wide_factor_analysis_profile_equals_the_dense_one():
    from skqg.wishart import _latent

    rng = np.random.RandomState(0)
    X = rng.normal(size=(6, 15)) @ rng.normal(size=(15, 15))
    factor = (X - X.mean(axis=0)) / np.sqrt(6)
    empirical = factor.T @ factor
    log_noise = np.log(0.5 * np.diag(empirical)) + 0.3 * rng.normal(size=15)
    for n_components in (2, 7):  # 7 exceeds the rank (5): padded with zero pairs
        dense = _latent._dense_profile(log_noise, empirical, n_components)
        wide = _latent._wide_profile(log_noise, factor, n_components)
        assert wide[0] == pytest.approx(dense[0], rel=1e-13)
        np.testing.assert_allclose(wide[1], dense[1], atol=1e-13)
        np.testing.assert_allclose(np.abs(wide[2]), np.abs(dense[2]), atol=1e-12)


def test_woodbury_densities_equal_the_dense_ones():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 30)) + rng.normal(size=(300, 30))
    model = WishartCovarianceModel(n_components=3).fit(X)
    assert len(model._model.low_rank.heywood) == 0  # no Heywood case here
    X_test = rng.normal(size=(20, 30))
    expected = multivariate_normal(model.location_, model.covariance_).logpdf(X_test)
    np.testing.assert_allclose(model.score_samples(X_test), expected, rtol=1e-10)
    np.testing.assert_allclose(model.precision_ @ model.covariance_, np.eye(30), atol=1e-10)


@pytest.mark.parametrize("noise", ["diagonal", "isotropic"])
def test_factor_analysis_of_wide_data_works_in_the_row_space(noise):
    """5 x 2000: every iteration used to eigendecompose a 2000 x 2000 matrix (> 300 s)."""
    X = normal_data(5, 2000)
    began = time.perf_counter()
    model = WishartCovarianceModel(n_components=2, noise=noise).fit(X)
    assert time.perf_counter() - began < 20.0  # about 0.05 s here; a loose bound for CI
    assert np.isfinite(model.score(X)) and model.components_.shape == (2, 2000)


# ------------------------------------------------------------------ 8-10. the command line
def test_cli_refuses_an_output_path_it_cannot_write_before_the_work(tmp_path, capsys):
    began = time.perf_counter()
    missing = tmp_path / "missing" / "x.npz"
    assert main(["ising", "--size", "64", "--out", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["ising", "--size", "64", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["demo", "--quick", "--out", str(tmp_path / "figure.xyz")]) == 2
    assert "cannot write '.xyz' figures" in capsys.readouterr().err
    assert time.perf_counter() - began < 5.0  # refused up front, not after sampling


@pytest.mark.parametrize("name", ["configurations", "configurations.data"])
def test_cli_writes_exactly_the_file_name_given(tmp_path, name):
    out = tmp_path / name
    assert main(["ising", "--size", "4", "--n-samples", "6", "--quiet", "--out", str(out)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]  # nothing appended
    with np.load(out) as data:
        assert data["X"].shape == (6, 16)


def test_cli_prints_the_demo_results_before_writing_the_figure(monkeypatch, capsys, tmp_path):
    from skqg.cli import _demo, _demo_figure

    monkeypatch.setattr(_demo, "run_demo", lambda **kwargs: ([], {}))
    monkeypatch.setattr(_demo, "format_table", lambda rows: "THE RESULTS TABLE")

    def read_only(*args):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(_demo_figure, "draw_demo_figure", read_only)
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo.png")]) == 1
    captured = capsys.readouterr()
    assert "THE RESULTS TABLE" in captured.out
    assert "Read-only file system" in captured.err and "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []  # no partial file


def test_cli_refuses_a_run_larger_than_the_memory_with_the_numbers(tmp_path, capsys):
    began = time.perf_counter()
    assert main(["ising", "--size", "1000000000", "--out", str(tmp_path / "x.npz")]) == 2
    error = capsys.readouterr().err
    assert "GiB of memory" in error and "is available" in error
    assert time.perf_counter() - began < 5.0


def test_ctrl_c_exits_with_130_and_one_line(tmp_path):
    out = tmp_path / "x.npz"
    # 20 chunks of 3000 configurations: Ctrl-C is answered between compiled chunks, each a
    # few seconds at most, while the whole run takes far longer.
    command = [sys.executable, "-m", "skqg", "ising", "--size", "96", "--n-samples", "60000"]
    process = subprocess.Popen(
        [*command, "--temperature", "3.5", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once sampling has started (its progress bar is on standard error), not while
    # the interpreter is still importing, whatever the machine's load.
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")))
    reader.start()
    deadline = time.monotonic() + 120
    while not any("Ising 96x96" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    reader.join(timeout=10)
    error = "".join(lines)
    assert process.returncode == 130
    assert "Traceback" not in error
    assert error.strip().splitlines()[-1].split("\r")[-1] == "skqg ising: interrupted"
    assert not out.exists() and not list(tmp_path.iterdir())


def test_ctrl_c_while_the_command_loads_its_libraries_is_one_line_and_130(
    monkeypatch, tmp_path, capsys
):
    """numpy, scikit-learn and Numba take seconds to load: that happens inside main's Ctrl-C
    handling, because ``import skqg`` and ``import skqg.cli`` load none of them."""

    class InterruptImport:
        def find_spec(self, name, path=None, target=None):
            if name == "skqg.cli._demo":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "skqg.cli._demo", raising=False)
    monkeypatch.setattr(sys, "meta_path", [InterruptImport(), *sys.meta_path])
    assert main(["demo", "--quick", "--out", str(tmp_path / "figure.png")]) == 130
    assert capsys.readouterr().err.strip() == "skqg demo: interrupted"


def test_long_ising_runs_are_cut_into_bounded_compiled_calls(monkeypatch):
    """Ctrl-C acts between compiled calls: each production call is capped in site updates
    (about a second), not a twentieth of the run, and the cut depends on the sizes only."""
    from skqg._ising import _sampler
    from skqg.datasets import make_ising

    calls = {"sample_chains": [], "trace_chains": []}
    kernels = _sampler.ising_monte_carlo

    def recorded(name, sweeps_per_row):
        kernel = getattr(kernels, name)

        def run(spins, *args):
            n_sweeps = args[-3] * args[-2] if sweeps_per_row else args[-2]
            calls[name].append(spins.shape[0] * n_sweeps * (spins.shape[1] - 2) ** 2)
            return kernel(spins, *args)

        return run

    monkeypatch.setattr(kernels, "sample_chains", recorded("sample_chains", True))
    monkeypatch.setattr(kernels, "trace_chains", recorded("trace_chains", False))
    monkeypatch.setattr(_sampler, "_CHUNK_SITE_UPDATES", 50_000)
    kwargs = {"n_samples": 4000, "size": 8, "temperature": 3.5, "thinning": 10, "burn_in": 200}
    X, _ = make_ising(**kwargs, random_state=0)
    production, burn_in = calls["sample_chains"], calls["trace_chains"]
    assert len(production) > 20 and max(production) <= 50_000  # a 20th of the run: 133 120
    assert len(burn_in) > 1 and max(burn_in) <= 50_000  # in one call: 204 800
    np.testing.assert_array_equal(make_ising(**kwargs, random_state=0)[0], X)


def test_importing_skqg_and_its_command_loads_no_heavy_library():
    code = (
        "import sys, skqg, skqg.cli; "
        "print(sorted({'numpy', 'sklearn', 'numba', 'scipy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # What was reachable after a plain ``import skqg`` still is, loaded on first use.
    code = (
        "import skqg; print(skqg.RBMCoarseGrainer.__name__, skqg.stats.wishart_logpdf.__name__, "
        "skqg.cone.__name__, skqg.rg.__name__, skqg.datasets.make_ising.__name__, "
        "'WishartCovarianceModel' in dir(skqg))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "RBMCoarseGrainer", "wishart_logpdf", "skqg.cone", "skqg.rg", "make_ising", "True"
    ]  # fmt: skip


# ------------------------------------------------------------------ fork after OpenMP
def _fit_in_child():
    try:
        WishartCovarianceModel().fit(np.stack([np.eye(3) * (1 + k) for k in range(20)]))
    except RuntimeError as error:
        return str(error)
    return "fitted"


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_fork_after_openmp_started_gets_a_clear_error_instead_of_a_hang():
    import multiprocessing

    import numba

    WishartCovarianceModel().fit(np.stack([np.eye(3) * (1 + k) for k in range(20)]))
    if numba.threading_layer() != "omp":
        pytest.skip("the hazard is GNU OpenMP's; this threading layer is fork-safe")
    with multiprocessing.get_context("fork").Pool(1) as pool:
        outcome = pool.apply_async(_fit_in_child).get(timeout=120)
    assert "forked" in outcome and "spawn" in outcome


# ------------------------------------------------------------------ the probe matrix
def _probe_estimators():
    rng = np.random.RandomState(2)
    observations = rng.normal(size=(60, 4))
    binary_rows = (rng.uniform(size=(60, 4)) < 0.4).astype(float)
    matrices = np.stack([np.cov(rng.normal(size=(12, 3)), rowvar=False) for _ in range(30)])
    return {
        "rbm-bernoulli": (RBMCoarseGrainer(2, n_iter=2, random_state=0), binary_rows),
        "rbm-gaussian": (
            RBMCoarseGrainer(2, visible="gaussian", n_iter=2, random_state=0),
            observations,
        ),
        "wishart-observations": (WishartCovarianceModel(), observations),
        "wishart-factors": (WishartCovarianceModel(n_components=1), observations),
        "wishart-matrices": (WishartCovarianceModel(), matrices),
        "transport": (MongeAmpereTransport(random_state=0), observations[:, :2]),
        "plan-density": (TransportPlanDensity(random_state=0), observations[:, :2]),
    }


PROBES = list(_probe_estimators())


def _clear_or_finite(estimator, X):
    """Fit and use ``X``: either a ValueError that names no internal variable and no NaN, or
    finite scores, transforms, round trips and draws."""
    try:
        estimator.fit(X)
    except ValueError as error:
        message = str(error)
        assert not re.search(r"\bnan\b", message, re.IGNORECASE)
        assert "cov_x" not in message and "Traceback" not in message
        return "refused"
    assert np.isfinite(estimator.score_samples(X)).all()
    assert np.isfinite(estimator.sample(3, random_state=0)).all()
    if hasattr(estimator, "transform"):
        Z = estimator.transform(X)
        assert np.isfinite(Z).all()
        assert np.isfinite(estimator.inverse_transform(Z)).all()
    return "finite"


@pytest.mark.parametrize("name", PROBES)
@pytest.mark.parametrize("scale", [1e300, 1e150, 1e-150, 1e-300])
def test_every_estimator_is_clear_or_finite_at_extreme_scales(name, scale):
    estimator, X = _probe_estimators()[name]
    X = X * scale  # Bernoulli RBM: outside {0, 1}, refused by its domain check
    with np.errstate(over="raise", invalid="raise"):  # no silent overflow on the way either
        _clear_or_finite(estimator, X)


@pytest.mark.parametrize("name", PROBES)
@pytest.mark.parametrize("defect", ["all rows equal", "duplicate rows", "a constant column"])
def test_every_estimator_is_clear_or_finite_on_degenerate_data(name, defect):
    estimator, X = _probe_estimators()[name]
    X = X.copy()
    if defect == "all rows equal":
        X[:] = X[0]
    elif defect == "duplicate rows":
        X = np.concatenate([X, X])
    elif name == "wishart-matrices":
        X[:, 0, :] = X[:, :, 0] = 0.0  # a channel without variance
    else:
        X[:, 0] = X[0, 0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _clear_or_finite(estimator, X)
    # A finite answer on data without spread in some direction is a documented one, and said.
    if outcome == "finite" and name == "transport" and defect == "a constant column":
        assert any("almost no spread" in str(w.message) for w in caught)


WIDE = {
    "rbm-bernoulli": (RBMCoarseGrainer(4, n_iter=2, random_state=0), 2000),
    "rbm-gaussian": (RBMCoarseGrainer(4, visible="gaussian", n_iter=2, random_state=0), 2000),
    "wishart-evidence": (WishartCovarianceModel(), 2000),
    "wishart-ledoit-wolf": (WishartCovarianceModel(shrinkage="ledoit-wolf"), 2000),
    "wishart-factors": (WishartCovarianceModel(n_components=2), 2000),
    "wishart-ppca": (WishartCovarianceModel(n_components=2, noise="isotropic"), 2000),
    "transport": (MongeAmpereTransport(random_state=0), 1000),
    "plan-density": (TransportPlanDensity(random_state=0), 2000),
}


@pytest.mark.parametrize("name", list(WIDE))
def test_every_estimator_fits_and_scores_wide_data_in_bounded_time(name):
    """12 rows, 1000-2000 columns. Each takes 0.01-1 s here; the bound catches a return of
    per-iteration p x p factorisations (factor analysis took > 300 s at 5 x 2000, and
    ``benchmarks/bench_wide.py`` measured the plan density at 210 s before its fix)."""
    estimator, n_features = WIDE[name]
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, n_features))
    if name.startswith("rbm-bernoulli"):
        X = (X > 0.3).astype(float)
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the transport says p > n floors it
        estimator.fit(X)
    assert np.isfinite(estimator.score_samples(X)).all()
    assert time.perf_counter() - began < 30.0


# Every public method that reads data, and the ones that do not (with fixed seeds); a method
# that refuses one form of input (e.g. mahalanobis of 3-D input) records its message instead.
DATA_METHODS = (
    "score_samples",
    "score",
    "transform",
    "free_energy",
    "log_det_jacobian",
    "potential",
    "mahalanobis",
    "spectrum",
    "input_margins",
)


def _every_output(estimator, X):
    """Name to output (arrays flattened to a tuple of arrays) of every public method."""
    calls = {name: (lambda name=name: getattr(estimator, name)(X)) for name in DATA_METHODS}
    calls["sample"] = lambda: estimator.sample(4, random_state=0)
    if hasattr(estimator, "transform"):
        calls["inverse_transform"] = lambda: estimator.inverse_transform(estimator.transform(X))
    if hasattr(estimator, "gibbs"):
        calls["gibbs"] = lambda: estimator.gibbs(X, n_steps=2, random_state=0)
        calls["log_partition"] = lambda: estimator.log_partition(random_state=0).log_z
    if hasattr(estimator, "goodness_of_fit"):
        calls["goodness_of_fit"] = lambda: estimator.goodness_of_fit(
            X, n_bootstrap=9, random_state=0
        )
    out = {}
    for name, call in calls.items():
        if not hasattr(estimator, name.split(".")[0]):
            continue
        try:
            value = call()
        except ValueError as error:
            out[name] = ("refused", str(error))
            continue
        out[name] = _arrays(value)
    return out


def _arrays(value):
    """A method's output as a tuple of arrays (named tuples and results field by field)."""
    if isinstance(value, tuple):
        return tuple(a for item in value for a in _arrays(item))
    if hasattr(value, "_asdict"):
        return _arrays(tuple(value._asdict().values()))
    if hasattr(value, "__dict__") and not isinstance(value, np.ndarray):
        return _arrays(tuple(vars(value).values()))
    return (np.asarray(value),)


SETTINGS_CHANGED = {
    "rbm": {"visible": "spin", "n_components": 3, "random_state": 9},
    "wishart": {"noise": "isotropic", "shrinkage": 0.5, "n_components": 2},
    "transport": {"epsilon": 0.5, "random_state": 9},
    "plan": {"random_state": 9},
}


@pytest.mark.parametrize("name", PROBES)
def test_every_method_follows_the_fit_after_set_params_and_failed_calls(name):
    """Every public method gives the same output after ``set_params`` and after a failed call
    of every method that reads data (NaN input), bit for bit."""
    estimator, X = _probe_estimators()[name]
    estimator.fit(X)
    reference = _every_output(estimator, X)
    assert sum(not isinstance(v[0], str) for v in reference.values()) >= 3  # it probes something

    estimator.set_params(**SETTINGS_CHANGED[name.split("-")[0]])
    bad = X.copy()
    bad.flat[0] = np.nan
    failing = [estimator.fit] + [
        getattr(estimator, m) for m in DATA_METHODS if hasattr(estimator, m)
    ]
    for method in ("partial_fit", "gibbs", "goodness_of_fit"):
        if hasattr(estimator, method):
            failing.append(getattr(estimator, method))
    for method in failing:
        with pytest.raises(ValueError):
            method(bad)
    after = _every_output(estimator, X)
    assert after.keys() == reference.keys()
    for key, value in reference.items():
        assert len(after[key]) == len(value), key
        for got, expected in zip(after[key], value, strict=True):
            if isinstance(expected, str):
                assert got == expected, key
            else:
                np.testing.assert_array_equal(got, expected, err_msg=key)
