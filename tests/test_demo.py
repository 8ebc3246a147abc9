"""``skqg demo``: the quick run end to end, and the exact references its table quotes."""

import re
import time

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.covariance import LedoitWolf

from skqg import MongeAmpereTransport, RBMCoarseGrainer, WishartCovarianceModel
from skqg.cli import _demo, _demo_figure, main

ESTIMATORS = (RBMCoarseGrainer, WishartCovarianceModel, MongeAmpereTransport)
FIT_DELAY = 0.25  # seconds added to each fit: the table's fit times must include it


def _number_after(label, text):
    return float(re.search(re.escape(label) + r" (-?\d+\.\d+(?:e[-+]\d+)?)", text).group(1))


def _record_fit_and_score(monkeypatch, cls, calls):
    """Make ``cls.fit`` FIT_DELAY slower; keep the fitted model, its data and its scores."""
    fit, score = cls.fit, cls.score

    def slow_fit(self, X, *args, **kwargs):
        time.sleep(FIT_DELAY)
        calls["model"], calls["X"] = self, X
        return fit(self, X, *args, **kwargs)

    def recorded_score(self, X, *args, **kwargs):
        calls["X_test"], calls["score"] = X, score(self, X, *args, **kwargs)
        return calls["score"]

    monkeypatch.setattr(cls, "fit", slow_fit)
    monkeypatch.setattr(cls, "score", recorded_score)


def test_quick_demo_writes_a_figure_and_a_table(tmp_path, capsys, monkeypatch):
    drawn = {}
    original = _demo_figure.draw_demo_figure

    def draw_and_keep(panels, path, image_format=None):
        drawn.update(panels)
        original(panels, path, image_format)

    monkeypatch.setattr(_demo_figure, "draw_demo_figure", draw_and_keep)
    calls = {cls.__name__: {} for cls in ESTIMATORS}
    for cls in ESTIMATORS:
        _record_fit_and_score(monkeypatch, cls, calls[cls.__name__])
    out = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--out", str(out), "--seed", "3"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    table = captured.out
    assert f"wrote the figure to {out}" in table
    assert "Monge-Ampere transport" in captured.err  # the progress bar's last step

    scores, fit_times = {}, []
    for name, call in calls.items():
        line = next(row for row in table.splitlines() if row.startswith(name))
        # The fit time, then the held-out log-likelihood.
        fit, score = re.search(r"(\d+\.\d)s\s+(-?\d+\.\d+)", line).groups()
        # The fit is what is timed (FIT_DELAY in it), and the score printed is the model's score
        # on data it was not fitted on.
        assert float(fit) >= FIT_DELAY - 0.05, line
        fit_times.append(float(fit))
        assert float(score) == pytest.approx(call["score"], abs=6e-4), line
        X_fit, X_test = call["X"], call["X_test"]
        rows = min(len(X_fit), len(X_test))
        assert X_test.shape[1] == X_fit.shape[1]
        assert not np.array_equal(X_test[:rows], X_fit[:rows])
        diagnostics = table.splitlines()[table.splitlines().index(line) + 1]
        scores[name] = (float(score), line + diagnostics)
    total = float(re.search(r"(\d+\.\d) s in all", table).group(1))
    assert sum(fit_times) <= total + 0.2  # each rounded to 0.1 s

    # The references on each line, recomputed from the data the demo used.
    rbm_data = calls["RBMCoarseGrainer"]
    up = np.clip(np.mean(rbm_data["X"] > 0, axis=0), 1e-3, 1 - 1e-3)
    independent = np.log(np.where(rbm_data["X_test"] > 0, up, 1 - up)).sum(axis=1).mean()
    assert _number_after("independent spins", scores["RBMCoarseGrainer"][1]) == pytest.approx(
        independent, abs=0.006
    )
    wishart_data = calls["WishartCovarianceModel"]
    rng = np.random.default_rng(3)  # the demo's draws: a spiked covariance, then the data
    p, n = _demo.QUICK.wishart_features, _demo.QUICK.wishart_samples
    loadings = rng.standard_normal((p, 3)) * np.array([3.0, 2.0, 1.5])
    truth = loadings @ loadings.T + np.eye(p)
    np.testing.assert_array_equal(
        wishart_data["X"], rng.standard_normal((n, p)) @ np.linalg.cholesky(truth).T
    )
    X, X_test, line = wishart_data["X"], wishart_data["X_test"], scores["WishartCovarianceModel"][1]
    exact = stats.multivariate_normal(np.zeros(p), truth).logpdf(X_test).mean()
    assert _number_after("true covariance", line) == pytest.approx(exact, abs=0.006)
    peer = LedoitWolf().fit(X).score(X_test)
    assert _number_after("LedoitWolf", line) == pytest.approx(peer, abs=0.006)
    model = wishart_data["model"]
    assert f"{model.shrinkage_rule_} shrinkage" in line
    if hasattr(model, "shrinkage_"):  # the linear (evidence) rule reports its weight
        assert 0 < model.shrinkage_ < 1
        assert _number_after("shrinkage", line) == pytest.approx(model.shrinkage_, abs=6e-4)
    transport_data = calls["MongeAmpereTransport"]
    x1, x2 = transport_data["X_test"].T
    banana = stats.norm.logpdf(x1) + stats.norm.logpdf(x2 - 0.5 * (x1**2 - 1.0))
    line = scores["MongeAmpereTransport"][1]
    assert _number_after("true density", line) == pytest.approx(banana.mean(), abs=0.006)
    model = transport_data["model"]
    round_trip = model.inverse_transform(model.transform(transport_data["X_test"]))
    error = np.max(np.abs(round_trip - transport_data["X_test"]))
    assert _number_after("round trip", line) == pytest.approx(error, rel=0.06, abs=1e-15)
    assert error < 1e-8
    assert _number_after("epsilon_", line) == pytest.approx(model.epsilon_, rel=6e-3)

    # Each estimator against the references on its line.
    rbm, line = scores["RBMCoarseGrainer"]
    assert rbm > _number_after("independent spins", line)  # it learned the couplings
    wishart, line = scores["WishartCovarianceModel"]
    assert wishart < _number_after("true covariance", line) + 0.5  # truth is (nearly) best
    assert wishart > _number_after("LedoitWolf", line)  # ahead of the peer it is shown with
    transport, line = scores["MongeAmpereTransport"]
    assert abs(transport - _number_after("true density", line)) < 0.15
    assert "Marchenko-Pastur" in table and "round trip" in table

    # The figure's data: temperatures read off equilibrium energies, one field per panel.
    for temperatures in drawn["ising"]["flows"].values():
        assert len(temperatures) == _demo.QUICK.flow_steps + 1
        assert np.all(np.isfinite(temperatures)) and np.all(temperatures > 0)
    assert drawn["ising"]["fields"].shape == (8, _demo.QUICK.lattice**2)
    assert len(drawn["wishart"]["eigenvalues"]) == _demo.QUICK.wishart_features
    assert np.all(np.isfinite(drawn["transport"]["log_density"]))


def test_banana_log_density_is_normalised_and_matches_the_sampler():
    total, _ = integrate.dblquad(
        lambda x2, x1: np.exp(_demo.banana_log_density(np.array([[x1, x2]])))[0],
        -8,
        8,
        -10,
        40,
    )
    assert total == pytest.approx(1.0, abs=1e-6)
    # Undo the curve: z2 = x2 - (x1^2 - 1) / 2 must be N(0, 1), independent of x1.
    X = _demo.banana(np.random.default_rng(0), 20000)
    z2 = X[:, 1] - 0.5 * (X[:, 0] ** 2 - 1.0)
    assert stats.kstest(z2, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(X[:, 0], z2)[0, 1]) < 0.03


def test_gaussian_log_likelihood_matches_scipy():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 4))
    covariance = A @ A.T + np.eye(4)
    X = rng.standard_normal((50, 4))
    expected = stats.multivariate_normal(np.zeros(4), covariance).logpdf(X).mean()
    assert _demo._gaussian_log_likelihood(X, covariance) == pytest.approx(expected, rel=1e-12)


def test_independent_spins_log_likelihood_matches_enumeration():
    X = np.array([[1, 1, -1], [1, -1, -1], [-1, 1, -1], [1, 1, -1]])
    up = (X.mean(axis=0) + 1) / 2  # 0.75, 0.75, 0 -> clipped to 1e-3
    up = np.clip(up, 1e-3, 1 - 1e-3)
    X_test = np.array([[1, -1, -1], [-1, -1, 1]])
    expected = np.mean([np.sum(np.log(np.where(row > 0, up, 1 - up))) for row in X_test])
    assert _demo._independent_spins_log_likelihood(X, X_test) == pytest.approx(expected)


def test_format_table_lists_every_row():
    rows = [
        _demo.Row("A", "data a", 1.25, -3.5, "ref a", "diag a"),
        _demo.Row("B", "data b", 0.5, -1.0, "ref b", "diag b"),
    ]
    text = _demo.format_table(rows)
    assert "A" in text and "-3.500" in text and "(ref a)" in text and "diag b" in text
    assert len(text.splitlines()) == 1 + 2 * len(rows)
