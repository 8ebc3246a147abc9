"""The ``skqg demo`` workflow: the three estimators end to end on built-in data.

Each part fits one estimator, measures it on held-out data against an exact reference or a
scikit-learn peer, and returns what the figure (:mod:`skqg.cli._demo_figure`) and the results table
need. Everything is seeded, so a given ``seed`` reproduces the table.
"""

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DemoSize:
    """Problem sizes of one demo run."""

    lattice: int  # Ising lattice side L
    n_ising: int  # training configurations, spread over the temperatures
    n_hidden: int  # RBM hidden units (at most 20: the log-likelihood is then exact)
    rbm_epochs: int
    flow_steps: int
    wishart_features: int
    wishart_samples: int
    transport_samples: int


QUICK = DemoSize(
    lattice=8,
    n_ising=900,
    n_hidden=16,
    rbm_epochs=15,
    flow_steps=15,
    wishart_features=30,
    wishart_samples=120,
    transport_samples=800,
)
FULL = DemoSize(
    lattice=12,
    n_ising=4500,
    n_hidden=20,
    rbm_epochs=40,
    flow_steps=40,
    wishart_features=60,
    wishart_samples=240,
    transport_samples=3000,
)

# Iso, Shiba & Yokoo train on configurations over a range of temperatures around T_c.
TEMPERATURES = (1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5)
T_CRITICAL = 2.0 / np.log1p(np.sqrt(2.0))
# The flow starts from held-out configurations at these temperatures, on both sides of T_c.
FLOW_STARTS = (1.5, 2.0, 3.0, 3.5)


@dataclass
class Row:
    """One line of the results table."""

    estimator: str
    data: str
    fit_seconds: float
    log_likelihood: float  # held-out, nats per sample
    references: str  # the same number for the exact model and a peer
    diagnostics: str


def run_ising_part(size, seed, step):
    """RBMCoarseGrainer on Ising configurations: receptive fields and the temperature flow."""
    from skqg import RBMCoarseGrainer
    from skqg.datasets import make_ising
    from skqg.rg import ising_energy, ising_temperature, rbm_flow, receptive_field_spread

    L = size.lattice
    step("sampling Ising configurations")
    X, _ = make_ising(size.n_ising, L, list(TEMPERATURES), random_state=seed)
    X_test, t_test = make_ising(size.n_ising // 3, L, list(TEMPERATURES), random_state=seed + 1)

    step("training the RBM")
    start = time.perf_counter()
    rbm = RBMCoarseGrainer(
        n_components=size.n_hidden,
        visible="spin",
        n_iter=size.rbm_epochs,
        batch_size=20,
        learning_rate=0.01,
        random_state=seed,
    ).fit(X)
    fit_seconds = time.perf_counter() - start
    # Exact: the partition function sums over the 2**n_hidden hidden states.
    log_likelihood = rbm.score(X_test)
    independent = _independent_spins_log_likelihood(X, X_test)

    step("RBM flow of the temperature")
    spread = receptive_field_spread(rbm.components_, (L, L))
    flows = {}
    for start_t in FLOW_STARTS:
        trajectory = rbm_flow(rbm, X_test[t_test == start_t], size.flow_steps, random_state=seed)
        energies = [float(np.mean(ising_energy(V, (L, L)))) for V in trajectory]
        flows[start_t] = ising_temperature(energies, L)
    uniform_spread = np.sqrt(2.0 * (L * L - 1) / 12.0)
    row = Row(
        "RBMCoarseGrainer",
        f"Ising {L}x{L}, T in [{TEMPERATURES[0]}, {TEMPERATURES[-1]}]",
        fit_seconds,
        log_likelihood,
        f"independent spins {independent:.2f}",
        f"field spread {np.median(spread):.2f} sites (uniform {uniform_spread:.2f}); "
        f"RBM flow, {size.flow_steps} steps: T "
        + ", ".join(f"{t} -> {flows[t][-1]:.2f}" for t in FLOW_STARTS),
    )
    panels = {
        "lattice": L,
        "fields": rbm.components_[np.argsort(spread)[:8]],
        "flows": flows,
        "lattice_t_c": T_CRITICAL,
    }
    return row, panels


def _independent_spins_log_likelihood(X, X_test):
    """Held-out log-likelihood of independent spins with the training magnetisations."""
    up = np.clip((X.mean(axis=0) + 1.0) / 2.0, 1e-3, 1.0 - 1e-3)
    is_up = X_test > 0
    return float(np.mean(np.sum(np.where(is_up, np.log(up), np.log1p(-up)), axis=1)))


def run_wishart_part(size, seed, step):
    """WishartCovarianceModel on Gaussian data with p comparable to n, against LedoitWolf."""
    from sklearn.covariance import LedoitWolf

    from skqg import WishartCovarianceModel
    from skqg.stats import marchenko_pastur_test

    step("Wishart covariance model")
    rng = np.random.default_rng(seed)
    p, n = size.wishart_features, size.wishart_samples
    # A spiked covariance: a few strong directions over an isotropic bulk.
    loadings = rng.standard_normal((p, 3)) * np.array([3.0, 2.0, 1.5])
    truth = loadings @ loadings.T + np.eye(p)
    factor = np.linalg.cholesky(truth)
    X = rng.standard_normal((n, p)) @ factor.T
    X_test = rng.standard_normal((4 * n, p)) @ factor.T

    start = time.perf_counter()
    model = WishartCovarianceModel().fit(X)
    fit_seconds = time.perf_counter() - start
    ledoit_wolf = LedoitWolf().fit(X)
    exact = _gaussian_log_likelihood(X_test, truth)
    # Held-out data whitened by the fitted covariance follow Marchenko-Pastur if the model
    # is right (training data would not: the fit has adapted to their noise). Whitening by
    # the true covariance shows how close sampling noise alone lets the spectrum come.
    eigenvalues, comparison = model.spectrum(X_test)
    whitened = np.linalg.solve(factor, X_test.T)
    oracle = np.linalg.eigvalsh(whitened @ whitened.T / len(X_test))
    ratio = p / len(X_test)
    oracle_ks = marchenko_pastur_test(oracle, ratio).ks_distance
    row = Row(
        "WishartCovarianceModel",
        f"Gaussian, p = {p}, n = {n}",
        fit_seconds,
        model.score(X_test),
        f"true covariance {exact:.2f}, LedoitWolf {ledoit_wolf.score(X_test):.2f}",
        f"held-out whitened spectrum vs Marchenko-Pastur: KS {comparison.ks_distance:.3f} "
        f"(true covariance {oracle_ks:.3f}); {_shrinkage_summary(model)}",
    )
    panels = {
        "eigenvalues": eigenvalues,
        "oracle": oracle,
        "ratio": ratio,
        "ks": comparison.ks_distance,
        "oracle_ks": oracle_ks,
    }
    return row, panels


def _shrinkage_summary(model):
    """The rule the default applied, with its weight when it is linear."""
    if hasattr(model, "shrinkage_"):
        return f"{model.shrinkage_rule_} shrinkage {model.shrinkage_:.3f}"
    return f"{model.shrinkage_rule_} shrinkage"


def _gaussian_log_likelihood(X, covariance):
    _, logdet = np.linalg.slogdet(covariance)
    mahalanobis = np.einsum("ij,ij->i", X, np.linalg.solve(covariance, X.T).T)
    return float(np.mean(-0.5 * (mahalanobis + logdet + X.shape[1] * np.log(2.0 * np.pi))))


def banana(rng, n):
    """``x2 = z2 + (z1**2 - 1) / 2`` with ``z ~ N(0, I)``: a curved, non-Gaussian 2-D law."""
    z = rng.standard_normal((n, 2))
    return np.column_stack([z[:, 0], z[:, 1] + 0.5 * (z[:, 0] ** 2 - 1.0)])


def banana_log_density(X):
    """Exact log-density of :func:`banana` (the change of variables has unit Jacobian)."""
    z2 = X[:, 1] - 0.5 * (X[:, 0] ** 2 - 1.0)
    return -0.5 * (X[:, 0] ** 2 + z2**2) - np.log(2.0 * np.pi)


def run_transport_part(size, seed, step):
    """MongeAmpereTransport to N(0, I) on the banana: its density against the truth and a KDE."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    from skqg import MongeAmpereTransport

    step("Monge-Ampere transport")
    rng = np.random.default_rng(seed)
    X, X_test = banana(rng, size.transport_samples), banana(rng, 2000)
    start = time.perf_counter()
    model = MongeAmpereTransport(random_state=seed).fit(X)
    fit_seconds = time.perf_counter() - start
    kde = GridSearchCV(KernelDensity(), {"bandwidth": np.geomspace(0.1, 0.5, 9)}, cv=3).fit(X)
    round_trip = model.inverse_transform(model.transform(X_test))
    round_trip_error = float(np.max(np.abs(round_trip - X_test)))

    # Density on a grid, and the images of the reference's coordinate lines under T^-1.
    xs, ys = np.linspace(-3.2, 3.2, 121), np.linspace(-2.2, 5.0, 121)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    log_density = model.score_samples(grid).reshape(len(ys), len(xs))
    levels = np.linspace(-2.0, 2.0, 9)
    along = np.linspace(-2.5, 2.5, 101)
    lines = [
        model.inverse_transform(np.column_stack([np.full_like(along, c), along])) for c in levels
    ] + [model.inverse_transform(np.column_stack([along, np.full_like(along, c)])) for c in levels]
    row = Row(
        "MongeAmpereTransport",
        f"banana, n = {size.transport_samples}",
        fit_seconds,
        model.score(X_test),
        f"true density {np.mean(banana_log_density(X_test)):.2f}, "
        f"KernelDensity {kde.score(X_test) / len(X_test):.2f}",
        f"epsilon_ {model.epsilon_:.3g}; round trip {round_trip_error:.1e}; "
        f"W2^2 {model.transport_cost_:.3f}",
    )
    panels = {
        "X": X,
        "grid": (xs, ys),
        "log_density": log_density,
        "true_log_density": banana_log_density(grid).reshape(len(ys), len(xs)),
        "lines": lines,
    }
    return row, panels


def run_demo(quick=False, seed=0, progress=True):
    """Run the three parts; return the table rows and the figure's data.

    Parameters
    ----------
    quick : bool, default=False
        Smaller problems (:data:`QUICK`), for a run of a few seconds.
    seed : int, default=0
        Seeds every random draw.
    progress : bool, default=True
        Show a progress bar (on standard error).

    Returns
    -------
    rows : list of Row
    panels : dict
        The figure's data, one entry per part.
    """
    from tqdm.auto import tqdm

    size = QUICK if quick else FULL
    parts = (
        ("ising", run_ising_part, 3),
        ("wishart", run_wishart_part, 1),
        ("transport", run_transport_part, 1),
    )
    bar = tqdm(total=sum(n for *_, n in parts), disable=not progress, unit="step")

    started = []

    def step(description):
        # Each call closes the previous step and names the next one.
        if started:
            bar.update(1)
        started.append(description)
        bar.set_description_str(description)

    rows, panels = [], {}
    with bar:
        for name, part, _ in parts:
            row, panels[name] = part(size, seed, step)
            rows.append(row)
        bar.update(bar.total - bar.n)
    return rows, panels


def format_table(rows):
    """The results table as text: one block per estimator."""
    lines = [
        f"{'estimator':<24}{'data':<34}{'fit':>7}  held-out log-likelihood (nats/sample)",
    ]
    for row in rows:
        lines.append(
            f"{row.estimator:<24}{row.data:<34}{row.fit_seconds:>6.1f}s  "
            f"{row.log_likelihood:.3f}   ({row.references})"
        )
        lines.append(f"{'':<24}{row.diagnostics}")
    return "\n".join(lines)
