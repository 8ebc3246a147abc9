"""``skqg demo``: the quick run end to end, and the exact references its table quotes."""

import re

import numpy as np
import pytest
from scipy import integrate, stats

from skqg.cli import _demo, _demo_figure, main


def _number_after(label, text):
    return float(re.search(re.escape(label) + r" (-?\d+\.\d+)", text).group(1))


def test_quick_demo_writes_a_figure_and_a_table(tmp_path, capsys, monkeypatch):
    drawn = {}
    original = _demo_figure.draw_demo_figure

    def draw_and_keep(panels, path):
        drawn.update(panels)
        original(panels, path)

    monkeypatch.setattr(_demo_figure, "draw_demo_figure", draw_and_keep)
    out = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--out", str(out), "--seed", "3"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    table = captured.out
    assert f"wrote the figure to {out}" in table
    assert "Monge-Ampere transport" in captured.err  # the progress bar's last step

    scores = {}
    for name in ("RBMCoarseGrainer", "WishartCovarianceModel", "MongeAmpereTransport"):
        line = next(row for row in table.splitlines() if row.startswith(name))
        # The fit time, then the held-out log-likelihood.
        fit, score = re.search(r"(\d+\.\d)s\s+(-?\d+\.\d+)", line).groups()
        assert float(fit) >= 0.0
        scores[name] = (float(score), line)
    # Each estimator against the references on its line.
    rbm, line = scores["RBMCoarseGrainer"]
    assert rbm > _number_after("independent spins", line)  # it learned the couplings
    wishart, line = scores["WishartCovarianceModel"]
    assert wishart < _number_after("true covariance", line) + 0.5  # truth is (nearly) best
    assert abs(wishart - _number_after("LedoitWolf", line)) < 1.0
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
