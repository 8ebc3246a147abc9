"""make_ising against exact results: enumeration, Kaufman's finite lattice, Onsager."""

import dataclasses
import inspect
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ising_reference import enumerate_lattice, kaufman_energy, onsager_energy

from skqg._ising import IsingOptions, sample_dataset
from skqg._ising import _sampler as _ising
from skqg._ising._sampler import CRITICAL_TEMPERATURE, integrated_autocorr_time
from skqg._kernels import ising_monte_carlo
from skqg._parallel import chunk_seeds
from skqg.datasets import make_ising


def _mean_and_se(values):
    values = np.asarray(values, dtype=np.float64)
    return values.mean(), values.std(ddof=1) / math.sqrt(values.size)


def _energy_per_site(X, size, coupling, boundary):
    s = X.reshape(-1, size, size).astype(np.int64)
    if boundary == "periodic":
        bonds = (s * np.roll(s, -1, axis=2) + s * np.roll(s, -1, axis=1)).sum(axis=(1, 2))
    else:
        bonds = (s[:, :, :-1] * s[:, :, 1:]).sum(axis=(1, 2)) + (s[:, :-1] * s[:, 1:]).sum(
            axis=(1, 2)
        )
    return -coupling * bonds / size**2


# --- exact enumeration of the 4 x 4 periodic lattice (65 536 states) -------------------------


@pytest.mark.parametrize("temperature", [2.0, 2.5, 3.2])
@pytest.mark.parametrize("algorithm", ["auto", "wolff", "metropolis"])
def test_4x4_matches_exact_enumeration(temperature, algorithm):
    exact = enumerate_lattice(4, temperature)
    X, _, energy = make_ising(
        20000, 4, temperature, algorithm=algorithm, return_energy=True, random_state=0
    )
    abs_mag = np.abs(X.mean(axis=1))
    for name, values in (("energy", energy), ("abs_mag", abs_mag)):
        mean, se = _mean_and_se(values)
        assert abs(mean - exact[name]) < 3 * se, (name, mean, exact[name], se)
    # Second moments too: a sampler with the right mean but wrong spread is still wrong.
    mean2, se2 = _mean_and_se(energy**2)
    assert abs(mean2 - exact["energy2"]) < 3 * se2


@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
@pytest.mark.parametrize("coupling", [1.0, -1.0, 0.5])
def test_open_boundary_and_other_couplings_match_enumeration(algorithm, coupling):
    temperature = 2.3
    exact = enumerate_lattice(4, temperature, coupling=coupling, boundary="open")
    X, _, energy = make_ising(
        20000,
        4,
        temperature,
        coupling=coupling,
        boundary="open",
        algorithm=algorithm,
        return_energy=True,
        random_state=1,
    )
    mean, se = _mean_and_se(energy)
    assert abs(mean - exact["energy"]) < 3 * se
    if coupling > 0:
        mean, se = _mean_and_se(np.abs(X.mean(axis=1)))
        assert abs(mean - exact["abs_mag"]) < 3 * se


@pytest.mark.parametrize("size", [3, 4])  # 3 x 3 periodic is a frustrated antiferromagnet
@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
def test_periodic_antiferromagnet_matches_enumeration(size, algorithm):
    temperature = 1.0
    exact = enumerate_lattice(size, temperature, coupling=-1.0)
    _, _, energy = make_ising(
        20000,
        size,
        temperature,
        coupling=-1.0,
        algorithm=algorithm,
        return_energy=True,
        random_state=5,
    )
    mean, se = _mean_and_se(energy)
    assert abs(mean - exact["energy"]) < 3 * se


@pytest.mark.parametrize("size, boundary", [(2, "periodic"), (2, "open"), (3, "periodic")])
@pytest.mark.parametrize("temperature", [1.0, 3.0, 10.0])
@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
def test_tiny_lattices_match_enumeration(size, boundary, temperature, algorithm):
    """Fixed-order Metropolis sweeps with free moves always taken are reducible on these
    lattices (a 2 x 2 lattice at T = 3 was 15 standard errors off); they must not be."""
    exact = enumerate_lattice(size, temperature, boundary=boundary)
    _, _, energy = make_ising(
        20000,
        size,
        temperature,
        boundary=boundary,
        algorithm=algorithm,
        return_energy=True,
        random_state=0,
    )
    mean, se = _mean_and_se(energy)
    assert abs(mean - exact["energy"]) < 3 * se


def test_zero_coupling_gives_independent_fair_spins():
    X, _ = make_ising(4000, 4, 1.0, coupling=0.0, algorithm="metropolis", random_state=0)
    assert abs(X.mean()) < 4 / np.sqrt(X.size)
    correlation = np.corrcoef(X[:, 0], X[:, 1])[0, 1]
    assert abs(correlation) < 4 / np.sqrt(X.shape[0])


# --- Onsager's infinite lattice, Kaufman's finite one ------------------------------------------


@pytest.mark.parametrize("temperature", [1.5, 3.5])
def test_32x32_energy_matches_onsager(temperature):
    _, _, energy = make_ising(4000, 32, temperature, return_energy=True, random_state=2)
    mean, se = _mean_and_se(energy)
    # Finite-size tolerance: the exact 32 x 32 value (Kaufman) differs from Onsager's by < 1e-6
    # at these temperatures; the bound is computed, not assumed.
    finite_size = abs(kaufman_energy(32, temperature) - onsager_energy(temperature))
    assert finite_size < 1e-6
    assert abs(mean - onsager_energy(temperature)) < 3 * se + finite_size


@pytest.mark.parametrize("size", [16, 32])
def test_energy_at_critical_temperature_matches_kaufman(size):
    """At T_c, where finite-size effects are largest, compare with the exact finite lattice."""
    _, _, energy = make_ising(6000, size, CRITICAL_TEMPERATURE, return_energy=True, random_state=3)
    mean, se = _mean_and_se(energy)
    exact = kaufman_energy(size, CRITICAL_TEMPERATURE)
    assert abs(mean - exact) < 3 * se
    # The infinite-lattice value sqrt(2) is far off at this size: the test can tell them apart.
    assert abs(-math.sqrt(2) - exact) > 10 * se


def test_reported_energy_is_the_energy_of_the_row():
    X, _, energy = make_ising(50, 6, [1.8, 3.0], return_energy=True, random_state=0)
    np.testing.assert_allclose(energy, _energy_per_site(X, 6, 1.0, "periodic"))


# --- decorrelation -----------------------------------------------------------------------------


def _lag_one_correlation(values):
    centred = values - values.mean()
    return float(centred[:-1] @ centred[1:] / (centred @ centred))


@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
def test_consecutive_rows_are_decorrelated_at_tc(algorithm):
    # One chain, rows in chain order: the lag-1 correlation of |M| and E measures the thinning.
    X, _, energy = make_ising(
        1500,
        8,
        CRITICAL_TEMPERATURE,
        algorithm=algorithm,
        n_chains=1,
        shuffle=False,
        return_energy=True,
        random_state=4,
    )
    for values in (energy, np.abs(X.mean(axis=1))):
        assert abs(_lag_one_correlation(values)) < 0.15


def test_unthinned_metropolis_rows_are_correlated():
    """Control for the test above: with thinning=1 the same check fails."""
    X, _ = make_ising(
        1500,
        8,
        CRITICAL_TEMPERATURE,
        algorithm="metropolis",
        thinning=1,
        n_chains=1,
        shuffle=False,
        random_state=4,
    )
    assert _lag_one_correlation(np.abs(X.mean(axis=1))) > 0.5


def _spin_lag_one(X):
    X = X.astype(np.float64)
    return float(np.mean(X[:-1] * X[1:]) - np.mean(X[:-1]) * np.mean(X[1:]))


@pytest.mark.parametrize("temperature", [8.0, 50.0])
def test_high_temperature_metropolis_rows_are_decorrelated_spin_by_spin(temperature):
    """Metropolis flips most spins every sweep at high T: E and |M| look uncorrelated while
    each spin anticorrelates with itself at odd lags; the thinning must see it."""
    X, _ = make_ising(
        1000, 8, temperature, algorithm="metropolis", n_chains=1, shuffle=False, random_state=0
    )
    assert abs(_spin_lag_one(X)) < 0.1
    X, _ = make_ising(
        1000,
        8,
        temperature,
        algorithm="metropolis",
        thinning=1,
        n_chains=1,
        shuffle=False,
        random_state=0,
    )
    assert _spin_lag_one(X) < -0.2  # the failure the check prevents


def test_integrated_autocorr_time_of_an_ar1_process():
    rng = np.random.RandomState(0)
    phi = 0.8
    exact_tau = 0.5 * (1 + phi) / (1 - phi)  # 4.5
    noise = rng.standard_normal((8, 20000))
    traces = np.empty_like(noise)
    traces[:, 0] = noise[:, 0] / math.sqrt(1 - phi**2)
    for t in range(1, noise.shape[1]):
        traces[:, t] = phi * traces[:, t - 1] + noise[:, t]
    assert integrated_autocorr_time(traces) == pytest.approx(exact_tau, rel=0.1)
    assert integrated_autocorr_time(rng.standard_normal((4, 5000))) == pytest.approx(0.5, abs=0.1)
    assert integrated_autocorr_time(np.ones((2, 100))) == 0.5


def test_unresolved_autocorrelation_warns(monkeypatch):
    monkeypatch.setattr(_ising, "_MAX_PILOT_SWEEPS", 64)
    with pytest.warns(RuntimeWarning, match="autocorrelation time") as record:
        make_ising(20, 24, CRITICAL_TEMPERATURE, algorithm="metropolis", random_state=0)
    assert record[0].filename == __file__  # the warning points at the caller


def test_correlated_spins_warn_when_thinning_is_capped(monkeypatch):
    monkeypatch.setattr(_ising, "_MAX_THINNING", 2)
    with pytest.warns(RuntimeWarning, match="Single spins stay correlated") as record:
        make_ising(20, 8, 50.0, algorithm="metropolis", random_state=0)
    assert record[0].filename == __file__


# --- API: shapes, options, reproducibility ------------------------------------------------------


def test_shapes_values_and_temperatures():
    X, y = make_ising(10, 5, [1.0, 2.0, 3.0], shuffle=False, random_state=0)
    assert X.shape == (10, 25) and X.dtype == np.float64
    assert set(np.unique(X)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(y, [1.0] * 4 + [2.0] * 3 + [3.0] * 3)


def test_unsigned_dtype_is_fine_for_binary_values():
    X, _ = make_ising(5, 4, 2.0, spins=False, dtype=np.uint8, random_state=0)
    assert X.dtype == np.uint8 and set(np.unique(X)) <= {0, 1}
    spins, _ = make_ising(5, 4, 2.0, random_state=0)
    np.testing.assert_array_equal(X, (spins + 1) / 2)


def test_binary_values_and_dtype():
    X_spins, y_spins = make_ising(30, 4, 2.5, random_state=0)
    X_bits, y_bits = make_ising(30, 4, 2.5, spins=False, dtype=np.int8, random_state=0)
    assert X_bits.dtype == np.int8
    np.testing.assert_array_equal(X_bits, (X_spins + 1) / 2)
    np.testing.assert_array_equal(y_bits, y_spins)


def test_shuffle_permutes_rows_without_changing_the_sample():
    X_grouped, y_grouped = make_ising(40, 4, [1.5, 3.5], shuffle=False, random_state=0)
    X_shuffled, y_shuffled = make_ising(40, 4, [1.5, 3.5], random_state=0)
    assert not np.array_equal(y_grouped, y_shuffled)
    key = lambda X, y: sorted(map(tuple, np.column_stack([y, X])))  # noqa: E731
    assert key(X_grouped, y_grouped) == key(X_shuffled, y_shuffled)


def test_reproducible_with_random_state():
    a = make_ising(64, 8, [1.5, 2.3, 3.5], random_state=7)
    b = make_ising(64, 8, [1.5, 2.3, 3.5], random_state=np.random.RandomState(7))
    c = make_ising(64, 8, [1.5, 2.3, 3.5], random_state=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("algorithm", ["wolff", "metropolis"])
def test_independent_of_the_number_of_threads(algorithm):
    one = make_ising(64, 8, [1.5, 2.3, 3.5], algorithm=algorithm, n_jobs=1, random_state=3)
    many = make_ising(64, 8, [1.5, 2.3, 3.5], algorithm=algorithm, n_jobs=-1, random_state=3)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])


def test_progress_bar_does_not_change_the_result(capsys):
    quiet = make_ising(40, 6, 2.2, random_state=5)
    loud = make_ising(40, 6, 2.2, verbose=True, random_state=5)
    np.testing.assert_array_equal(quiet[0], loud[0])
    assert "Ising 6x6" in capsys.readouterr().err


def test_auto_algorithm_choice():
    assert _ising.choose_algorithm("auto", 2.0, 1.0) == "wolff"
    assert _ising.choose_algorithm("auto", CRITICAL_TEMPERATURE, 1.0) == "wolff"
    assert _ising.choose_algorithm("auto", 3.5, 1.0) == "metropolis"
    assert _ising.choose_algorithm("auto", 3.5, 2.0) == "wolff"  # T_c scales with J
    assert _ising.choose_algorithm("metropolis", 1.0, 1.0) == "metropolis"


@pytest.mark.parametrize("burn_in, thinning", [(0, 3), (7, 2)])
def test_explicit_burn_in_and_thinning(burn_in, thinning):
    """Each row is its chain's start state after exactly burn_in + thinning sweeps.

    Ten samples, ten chains, one row each; Metropolis, so no Wolff calibration sweeps come
    first. The reference runs the same chains (same start, same seeds) through the kernel.
    """
    n, size, temperature = 10, 4, 3.0
    X, _, energy = make_ising(
        n,
        size,
        temperature,
        algorithm="metropolis",
        burn_in=burn_in,
        thinning=thinning,
        shuffle=False,
        return_energy=True,
        random_state=0,
    )
    rng = np.random.RandomState(0)
    lattice = _ising.Lattice(size, "periodic")
    spins = _ising._initial_spins(lattice, n, temperature, 1.0, rng)
    args = _ising._kernel_arguments(lattice, temperature, 1.0, 0)
    if burn_in:
        ising_monte_carlo.trace_chains(spins, *args, burn_in, chunk_seeds(rng, n))
    energies, _, _ = ising_monte_carlo.trace_chains(spins, *args, thinning, chunk_seeds(rng, n))
    np.testing.assert_array_equal(X, spins[:, 1:-1, 1:-1].reshape(n, size * size))
    np.testing.assert_array_equal(energy, energies[:, -1] / size**2)


def test_explicit_burn_in_with_automatic_thinning():
    """thinning='auto' is ceil(3 tau) (or more), tau measured on the explicit burn-in."""
    run = sample_dataset(10, 4, 2.0, IsingOptions(burn_in=200, random_state=0)).runs[0]
    assert run.burn_in == 200
    assert np.isfinite(run.tau) and run.tau > 0
    assert run.thinning >= math.ceil(3 * run.tau)


@pytest.mark.parametrize("burn_in", [0, 1, 3])
def test_auto_thinning_needs_a_measurable_burn_in(burn_in):
    with pytest.raises(ValueError, match="too short"):
        make_ising(10, 4, 2.0, burn_in=burn_in, random_state=0)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 1}, "size must be an integer >= 2"),
        ({"size": 4.0}, "size must be an integer"),
        ({"n_samples": 0}, "n_samples must be an integer >= 1"),
        ({"n_samples": -3}, "n_samples must be an integer >= 1"),
        ({"temperature": 0.0}, "temperature must be finite and > 0"),
        ({"temperature": -1.0}, "temperature must be finite and > 0"),
        ({"temperature": np.nan}, "temperature must be finite and > 0"),
        ({"temperature": np.inf}, "temperature must be finite and > 0"),
        ({"temperature": [2.0, np.nan]}, "temperature must be finite and > 0"),
        ({"temperature": []}, "non-empty 1-D"),
        ({"temperature": [[2.0]]}, "non-empty 1-D"),
        ({"temperature": "hot"}, "temperature must be real numbers"),
        ({"temperature": 2.0 + 1j}, "temperature must be real numbers"),
        ({"temperature": [1.0, 2.0, 3.0], "n_samples": 2}, "at least one sample per temperature"),
        ({"algorithm": "swendsen"}, "algorithm must be one of"),
        ({"boundary": "helical"}, "boundary must be one of"),
        ({"coupling": np.inf}, "coupling must be a finite real number"),
        ({"coupling": "1"}, "coupling must be a finite real number"),
        ({"n_chains": 0}, "n_chains must be an integer >= 1"),
        ({"thinning": 0}, "thinning must be an integer >= 1"),
        ({"burn_in": -1}, "burn_in must be an integer >= 0"),
        ({"dtype": "spin"}, "dtype must be a NumPy numeric dtype"),
        ({"dtype": np.uint8}, "dtype must be a signed integer or floating dtype"),
        ({"dtype": object}, "dtype must be a signed integer or floating dtype"),
        ({"dtype": bool, "spins": False}, "dtype must be an integer or floating dtype"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kwargs, message):
    arguments = {"n_samples": 10, "size": 4, "temperature": 2.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_ising(
            arguments.pop("n_samples"),
            arguments.pop("size"),
            arguments.pop("temperature"),
            **arguments,
        )


@pytest.mark.parametrize("temperature", [1.5, CRITICAL_TEMPERATURE, 2.8])
def test_wolff_sweep_flips_about_one_lattice_of_spins(temperature):
    """A Wolff sweep is calibrated to ~N flipped spins in equilibrium, even from a random start."""
    lattice = _ising.Lattice(32, "periodic")
    rng = np.random.RandomState(0)
    spins = _ising._initial_spins(lattice, 4, temperature, 1.0, rng)
    n_clusters = _ising._clusters_per_sweep(spins, lattice, temperature, 1.0, rng)
    args = _ising._kernel_arguments(lattice, temperature, 1.0, n_clusters)
    _, _, flips = _ising.ising_monte_carlo.trace_chains(
        spins, *args, 200, _ising.chunk_seeds(rng, 4)
    )
    assert 0.5 < flips[:, 100:].mean() / lattice.n_sites < 2.0


# --- properties over random settings (hypothesis) ----------------------------------------------


# Random low-temperature Metropolis settings may not mix; the sampler then warns (tested above).
@pytest.mark.filterwarnings("ignore:The autocorrelation time:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Single spins stay correlated:RuntimeWarning")
@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(1, 40),
    size=st.integers(2, 7),
    temperatures=st.lists(st.floats(1.5, 8.0), min_size=1, max_size=3),
    coupling=st.sampled_from([1.0, -1.0, 0.7, 0.0]),
    boundary=st.sampled_from(["periodic", "open"]),
    algorithm=st.sampled_from(["auto", "wolff", "metropolis"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_output_is_consistent_for_any_settings(
    n_samples, size, temperatures, coupling, boundary, algorithm, seed
):
    assume(n_samples >= len(temperatures))
    X, y, energy = make_ising(
        n_samples,
        size,
        temperatures,
        coupling=coupling,
        boundary=boundary,
        algorithm=algorithm,
        return_energy=True,
        random_state=seed,
    )
    assert X.shape == (n_samples, size * size)
    assert set(np.unique(X)) <= {-1.0, 1.0}
    assert set(np.unique(y)) <= set(temperatures)
    np.testing.assert_allclose(energy, _energy_per_site(X, size, coupling, boundary), atol=1e-12)


def test_sampler_options_keep_the_public_defaults():
    """make_ising and the options behind it (also used by the CLI) must not drift apart."""

    public = inspect.signature(make_ising).parameters
    options = {field.name: field.default for field in dataclasses.fields(IsingOptions)}
    for name, default in options.items():
        assert public[name].default == default, name
    assert set(public) - set(options) == {"n_samples", "size", "temperature", "return_energy"}
