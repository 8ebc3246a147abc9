"""skqg.rg: block spins, receptive fields, the RBM flow and the Ising thermometer.

Every value is checked against a reference computed another way: explicit loops over blocks
and bonds, closed forms, exhaustive enumeration (tests/ising_reference.py) or published exact
values of the finite lattice.
"""

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from ising_reference import brute_force_small, enumerate_lattice, onsager_energy
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from skqg._ising import _exact as _kaufman
from skqg.datasets import make_ising
from skqg.rg import (
    block_spin,
    exact_ising_energy,
    ising_energy,
    ising_temperature,
    rbm_flow,
    receptive_field_spread,
)

T_C = 2 / math.log1p(math.sqrt(2))


def _random_spins(n_samples, n_sites, seed=0):
    signs = np.array([-1, 1], dtype=np.int8)
    return np.random.RandomState(seed).choice(signs, (n_samples, n_sites))


# --- block_spin --------------------------------------------------------------------------------


def _block_spin_loops(x, rows, cols, b, rule):
    """One spin configuration, by explicit loops over blocks (spins only)."""
    grid = x.reshape(rows, cols)
    out = np.zeros((rows // b, cols // b))
    for r in range(rows // b):
        for c in range(cols // b):
            block = [grid[r * b + i, c * b + j] for i in range(b) for j in range(b)]
            if rule == "decimation":
                out[r, c] = block[0]
            elif rule == "mean":
                out[r, c] = sum(block) / len(block)
            else:
                total = sum(block)
                out[r, c] = block[0] if total == 0 else (1 if total > 0 else -1)
    return out.ravel()


@pytest.mark.parametrize("rule", ["majority", "decimation", "mean"])
@pytest.mark.parametrize(("rows", "cols", "b"), [(6, 6, 2), (6, 6, 3), (4, 8, 2), (8, 8, 4)])
def test_block_spin_matches_explicit_loops(rule, rows, cols, b):
    X = _random_spins(20, rows * cols, seed=rows + cols + b)
    coarse = block_spin(X, (rows, cols), b=b, rule=rule)
    assert coarse.shape == (20, (rows // b) * (cols // b))
    expected = np.array([_block_spin_loops(x, rows, cols, b, rule) for x in X])
    np.testing.assert_array_equal(coarse, expected)


def test_majority_ties_are_broken_by_the_top_left_spin():
    # Four 2 x 2 blocks, all with block sum 0, top-left spins -1, +1, +1, -1.
    grid = np.array(
        [
            [-1, 1, 1, -1],
            [1, -1, 1, -1],
            [1, 1, -1, -1],
            [-1, -1, 1, 1],
        ]
    )
    coarse = block_spin(grid.reshape(1, -1), (4, 4))
    np.testing.assert_array_equal(coarse.reshape(2, 2), [[-1, 1], [1, -1]])
    # The tie-break is a rule of the block, not of the input's order: flipping all spins flips it.
    np.testing.assert_array_equal(block_spin(-grid.reshape(1, -1), (4, 4)), -coarse)


@pytest.mark.parametrize("rule", ["majority", "decimation", "mean"])
def test_bits_are_coarse_grained_like_the_spins_they_encode(rule):
    X = _random_spins(30, 64, seed=1)
    bits = ((X + 1) // 2).astype(np.uint8)
    from_bits = block_spin(bits, (8, 8), rule=rule)
    from_spins = block_spin(X, (8, 8), rule=rule)
    np.testing.assert_allclose(from_bits, (from_spins + 1) / 2)
    if rule != "mean":
        assert set(np.unique(from_bits)) <= {0, 1}
        assert from_bits.dtype == np.uint8


def test_block_spin_dtypes_and_trivial_block():
    X = _random_spins(5, 16)
    assert block_spin(X, (4, 4)).dtype == np.int8
    assert block_spin(X, (4, 4), rule="mean").dtype == np.float64
    assert block_spin(X.astype(np.float32), (4, 4), rule="mean").dtype == np.float32
    for rule in ("majority", "decimation", "mean"):
        np.testing.assert_array_equal(block_spin(X, (4, 4), b=1, rule=rule), X)


def test_block_spin_keeps_the_ordered_states_and_the_magnetisation_under_mean():
    up = np.ones((1, 64))
    for rule in ("majority", "decimation", "mean"):
        np.testing.assert_array_equal(block_spin(up, (8, 8), b=4, rule=rule), np.ones((1, 4)))
        np.testing.assert_array_equal(block_spin(-up, (8, 8), b=4, rule=rule), -np.ones((1, 4)))
    X = _random_spins(10, 64, seed=3)
    np.testing.assert_allclose(
        block_spin(X, (8, 8), rule="mean").mean(axis=1), X.mean(axis=1), atol=1e-15
    )


def test_majority_rule_orders_a_low_temperature_sample_further():
    """Coarse-graining flows away from T_c: an ordered sample gets more ordered."""
    X, _ = make_ising(200, 16, 1.9, random_state=0)
    coarse = block_spin(X, (16, 16))
    assert np.abs(coarse.mean(axis=1)).mean() > np.abs(X.mean(axis=1)).mean()


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (np.ones((2, 16)), {"b": 3}, "must divide both sides"),
        (np.ones((2, 16)), {"b": 0}, "b must be an integer >= 1"),
        (np.ones((2, 16)), {"b": 2.0}, "b must be an integer"),
        (np.ones((2, 16)), {"rule": "median"}, "rule must be one of"),
        (np.ones((2, 16)), {"lattice_shape": (4, 5)}, "has 16 columns but lattice_shape"),
        (np.ones((2, 16)), {"lattice_shape": 16}, "must be a pair"),
        (np.ones((2, 16)), {"lattice_shape": (2, 2, 4)}, "must be a pair"),
        (np.ones((2, 16)), {"lattice_shape": (4.0, 4)}, "must hold integers"),
        (np.array([[-1, 0, 1, 1]]), {"lattice_shape": (2, 2)}, "both -1 and 0"),
        (np.full((1, 4), 0.5), {"lattice_shape": (2, 2)}, "outside both"),
        (np.array([[1, np.nan, 1, 1]]), {"lattice_shape": (2, 2)}, "NaN"),
        (np.ones(16), {}, "2D array"),
    ],
)
def test_block_spin_rejects_bad_input(X, kwargs, message):
    arguments = {"lattice_shape": (4, 4), **kwargs}
    with pytest.raises(ValueError, match=message):
        block_spin(X, **arguments)


def test_block_spin_rejects_sparse_input():
    with pytest.raises(TypeError, match="dense"):
        block_spin(sp.csr_matrix(np.ones((2, 16))), (4, 4))


# --- receptive_field_spread ------------------------------------------------------------------


def _spread_loops(row, rows, cols):
    """The definition written out site by site, with the minimum image found among copies."""
    weights = np.asarray(row, dtype=float) ** 2
    weights /= weights.sum()
    total = 0.0
    for axis, length in ((0, rows), (1, cols)):
        sine = cosine = 0.0
        for site, w in enumerate(weights):
            x = divmod(site, cols)[axis]
            sine += w * math.sin(2 * math.pi * x / length)
            cosine += w * math.cos(2 * math.pi * x / length)
        centre = (math.atan2(sine, cosine) * length / (2 * math.pi)) % length
        for site, w in enumerate(weights):
            x = divmod(site, cols)[axis]
            shortest = min(abs(x - centre + k * length) for k in (-1, 0, 1))
            total += w * shortest**2
    return math.sqrt(total)


def _field(rows, cols, sites, values=None):
    grid = np.zeros((rows, cols))
    for k, (r, c) in enumerate(sites):
        grid[r % rows, c % cols] = 1.0 if values is None else values[k]
    return grid.ravel()


def test_single_site_has_zero_spread_anywhere():
    rows = [_field(6, 6, [(r, c)], [(-1) ** (r + c) * (1 + r)]) for r in range(6) for c in range(6)]
    np.testing.assert_allclose(receptive_field_spread(rows, (6, 6)), 0.0, atol=1e-12)


@pytest.mark.parametrize("shape", [(8, 8), (5, 7), (6, 9), (16, 16)])
def test_uniform_field_has_the_spread_of_a_discrete_uniform_distribution(shape):
    rows, cols = shape
    expected = math.sqrt((rows**2 - 1) / 12 + (cols**2 - 1) / 12)
    row = np.full(rows * cols, -0.3)
    assert receptive_field_spread([row], shape)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("corner", [(0, 0), (3, 4), (7, 7), (7, 0), (0, 7)])
def test_two_by_two_block_spread_is_sqrt_half_even_across_the_boundary(corner):
    r, c = corner
    block = _field(8, 8, [(r, c), (r + 1, c), (r, c + 1), (r + 1, c + 1)])
    assert receptive_field_spread([block], (8, 8))[0] == pytest.approx(math.sqrt(0.5), rel=1e-12)


def test_line_of_three_sites_and_sign_and_scale_invariance():
    line = _field(8, 8, [(2, 7), (2, 0), (2, 1)])  # wraps around the right edge
    spread = receptive_field_spread([line, -3 * line], (8, 8))
    np.testing.assert_allclose(spread, math.sqrt(2 / 3), rtol=1e-12)


@pytest.mark.parametrize("centre", [(10.3, 20.7), (0.2, 31.5), (31.9, 0.0)])
def test_gaussian_bump_has_spread_equal_to_its_width(centre):
    """|W|^2 proportional to exp(-r^2 / s^2) has variance s^2 / 2 per axis: the spread is s."""
    width, length = 1.6, 32
    r, c = np.indices((length, length))
    dr = (r - centre[0] + length / 2) % length - length / 2
    dc = (c - centre[1] + length / 2) % length - length / 2
    row = np.exp(-(dr**2 + dc**2) / (2 * width**2))
    assert receptive_field_spread([row.ravel()], (length, length))[0] == pytest.approx(width)


def test_spread_matches_the_definition_computed_site_by_site():
    rng = np.random.RandomState(0)
    W = rng.normal(size=(4, 35)) * rng.uniform(size=(4, 35)) ** 4  # uneven weights
    expected = [_spread_loops(row, 5, 7) for row in W]
    np.testing.assert_allclose(receptive_field_spread(W, (5, 7)), expected, rtol=1e-10)


def test_random_weights_spread_over_the_whole_lattice():
    length = 16
    W = np.random.RandomState(1).normal(size=(100, length * length))
    spread = receptive_field_spread(W, (length, length))
    uniform = math.sqrt((length**2 - 1) / 6)  # about 0.41 L
    assert np.all((spread > 0.33 * length) & (spread < 1.05 * uniform))
    assert spread.mean() == pytest.approx(0.39 * length, rel=0.05)


@pytest.mark.parametrize("shift", [(1, 0), (3, 5), (-2, 7)])
def test_spread_is_invariant_under_lattice_translations(shift):
    rng = np.random.RandomState(2)
    local = rng.normal(size=(3, 6, 10)) * np.exp(-np.indices((6, 10)).sum(axis=0))[None]
    W = np.vstack([rng.normal(size=(3, 60)), local.reshape(3, 60)])
    grids = W.reshape(-1, 6, 10)
    shifted = np.roll(grids, shift, axis=(1, 2)).reshape(len(W), 60)
    np.testing.assert_allclose(
        receptive_field_spread(shifted, (6, 10)), receptive_field_spread(W, (6, 10)), rtol=1e-10
    )


def test_two_antipodal_peaks_are_centred_between_them():
    """The circular mean is undefined; the centre is the one that minimises the spread."""
    row = _field(8, 8, [(0, 0), (0, 4)])
    assert receptive_field_spread([row], (8, 8))[0] == pytest.approx(2.0)


def test_receptive_field_spread_rejects_bad_input():
    with pytest.raises(ValueError, match=r"row\(s\) \[1\] are all zero"):
        receptive_field_spread(np.vstack([np.ones(16), np.zeros(16)]), (4, 4))
    with pytest.raises(ValueError, match="has 16 columns but lattice_shape"):
        receptive_field_spread(np.ones((2, 16)), (4, 3))
    with pytest.raises(ValueError, match="infinity"):
        receptive_field_spread(np.full((1, 4), np.inf), (2, 2))


# --- rbm_flow --------------------------------------------------------------------------------


class LinearRBMDouble(BaseEstimator):
    """A stand-in for a fitted RBM: linear maps, and Gibbs steps that add seeded noise.

    ``transform(V) = V A``, ``inverse_transform(H) = H B``, ``gibbs(V) = V A B + noise``. It
    records the ``random_state`` each Gibbs step received.
    """

    def __init__(self, n_components=3):
        self.n_components = n_components

    def fit(self, X, y=None):
        rng = np.random.RandomState(0)
        n_features = np.shape(X)[1]
        self.A_ = rng.normal(size=(n_features, self.n_components)) / 2
        self.B_ = rng.normal(size=(self.n_components, n_features)) / 2
        self.components_ = self.A_.T
        self.received_ = []
        return self

    def transform(self, X):
        return X @ self.A_

    def inverse_transform(self, H):
        return H @ self.B_

    def gibbs(self, V, *, n_steps=1, random_state=None):
        self.received_.append(random_state)
        rng = check_random_state(random_state)
        return V @ self.A_ @ self.B_ + rng.normal(size=V.shape)


def test_flow_starts_at_x_and_has_one_slice_per_step():
    X = np.random.RandomState(0).normal(size=(5, 6))
    for mean_field in (False, True):
        flow = rbm_flow(LinearRBMDouble().fit(X), X, 4, mean_field=mean_field, random_state=0)
        assert flow.shape == (5, 5, 6)
        np.testing.assert_array_equal(flow[0], X)
    assert rbm_flow(LinearRBMDouble().fit(X), X, 0).shape == (1, 5, 6)


def test_mean_field_flow_composes_transform_and_inverse_transform():
    X = np.random.RandomState(1).normal(size=(4, 6))
    model = LinearRBMDouble().fit(X)
    flow = rbm_flow(model, X, 3, mean_field=True)
    step = model.A_ @ model.B_
    for t in range(4):
        np.testing.assert_allclose(flow[t], X @ np.linalg.matrix_power(step, t), atol=1e-12)
    assert model.received_ == []  # no Gibbs step was taken


def test_gibbs_flow_threads_one_random_state_through_all_steps():
    X = np.random.RandomState(2).normal(size=(3, 6))
    model = LinearRBMDouble().fit(X)
    flow = rbm_flow(model, X, 3, random_state=7)
    assert len(model.received_) == 3
    assert all(isinstance(r, np.random.RandomState) for r in model.received_)
    assert all(r is model.received_[0] for r in model.received_)

    # The same flow by hand: one generator seeded once, consumed step after step.
    rng = np.random.RandomState(7)
    reference = [X]
    for _ in range(3):
        reference.append(reference[-1] @ model.A_ @ model.B_ + rng.normal(size=X.shape))
    np.testing.assert_allclose(flow, np.stack(reference), atol=1e-12)

    np.testing.assert_array_equal(flow, rbm_flow(model, X, 3, random_state=7))
    assert not np.allclose(flow[1:], rbm_flow(model, X, 3, random_state=8)[1:])


def test_gibbs_flow_uses_a_given_random_state_instance():
    X = np.zeros((2, 6))
    model = LinearRBMDouble().fit(X)
    rng = np.random.RandomState(3)
    rbm_flow(model, X, 2, random_state=rng)
    assert all(r is rng for r in model.received_)


def test_rbm_flow_rejects_bad_input():
    X = np.zeros((2, 6))
    with pytest.raises(NotFittedError):
        rbm_flow(LinearRBMDouble(), X, 1)
    for n_steps in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n_steps must be an integer >= 0"):
            rbm_flow(LinearRBMDouble().fit(X), X, n_steps)
    with pytest.raises(ValueError, match="NaN"):
        rbm_flow(LinearRBMDouble().fit(X), np.full((2, 6), np.nan), 1)


# --- ising_energy ----------------------------------------------------------------------------


def _energy_loops(x, rows, cols, coupling):
    s = x.reshape(rows, cols)
    energy = 0.0
    for r in range(rows):
        for c in range(cols):
            energy -= coupling * s[r, c] * (s[r, (c + 1) % cols] + s[(r + 1) % rows, c])
    return energy / (rows * cols)


def test_ordered_states_have_the_textbook_energies():
    up = np.ones((1, 36))
    checkerboard = np.where(np.indices((6, 6)).sum(axis=0) % 2, 1, -1).reshape(1, 36)
    stripes = np.repeat([[1], [-1]] * 3, 6, axis=1).reshape(1, 36)  # rows alternate
    X = np.vstack([up, -up, checkerboard, stripes])
    np.testing.assert_allclose(ising_energy(X, (6, 6), coupling=0.7), [-1.4, -1.4, 1.4, 0.0])


@pytest.mark.parametrize(("rows", "cols"), [(3, 5), (4, 4), (2, 6)])
def test_ising_energy_matches_explicit_bond_loops(rows, cols):
    X = _random_spins(10, rows * cols, seed=rows * cols)
    expected = [_energy_loops(x, rows, cols, -1.3) for x in X]
    np.testing.assert_allclose(ising_energy(X, (rows, cols), coupling=-1.3), expected)
    # Real-valued magnetisations are a linear-in-each-spin extension of the same sum.
    m = np.random.RandomState(0).uniform(-1, 1, size=(4, rows * cols))
    expected = [_energy_loops(x, rows, cols, 1.0) for x in m]
    np.testing.assert_allclose(ising_energy(m, (rows, cols)), expected)


@pytest.mark.parametrize(("size", "temperature"), [(2, 1.7), (3, 2.5), (4, 2.269), (4, 3.3)])
def test_boltzmann_average_of_ising_energy_is_the_exact_mean_energy(size, temperature):
    """Same bond convention as the enumeration references (L = 2 counts both bonds)."""
    n = size * size
    states = 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) - 1
    energy = ising_energy(states, (size, size))
    log_w = -n * energy / temperature
    w = np.exp(log_w - log_w.max())
    mean = float(w @ energy / w.sum())
    assert mean == pytest.approx(enumerate_lattice(size, temperature)["energy"], abs=1e-12)
    if size <= 3:
        assert mean == pytest.approx(brute_force_small(size, temperature), abs=1e-12)


def test_ising_energy_of_sampled_rows_is_the_sampler_energy():
    X, _, energy = make_ising(40, 6, [1.8, 3.0], return_energy=True, random_state=0)
    np.testing.assert_allclose(ising_energy(X, (6, 6)), energy)
    bits, _, energy = make_ising(40, 6, 2.2, spins=False, return_energy=True, random_state=1)
    np.testing.assert_allclose(ising_energy(bits, (6, 6), binary=True), energy)


def test_ising_energy_rejects_bad_input():
    with pytest.raises(ValueError, match=r"spins in \[-1, 1\].*binary=True"):
        ising_energy(np.full((1, 16), 2.0), (4, 4))
    with pytest.raises(ValueError, match=r"bits in \[0, 1\]"):
        ising_energy(-np.ones((1, 16)), (4, 4), binary=True)
    with pytest.raises(ValueError, match="integers >= 2"):
        ising_energy(np.ones((1, 4)), (1, 4))
    with pytest.raises(ValueError, match="has 16 columns"):
        ising_energy(np.ones((1, 16)), (3, 3))
    with pytest.raises(ValueError, match="coupling must be a finite"):
        ising_energy(np.ones((1, 16)), (4, 4), coupling=np.nan)
    with pytest.raises(ValueError, match="NaN"):
        ising_energy(np.full((1, 16), np.nan), (4, 4))


# --- exact_ising_energy ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 4])
@pytest.mark.parametrize("temperature", [0.8, 1.9, 2.269, T_C, 2.6, 5.0, 40.0])
def test_exact_energy_matches_enumeration(size, temperature):
    expected = enumerate_lattice(size, temperature)["energy"]
    assert exact_ising_energy(temperature, size) == pytest.approx(expected, abs=1e-12)


def test_exact_energy_of_the_10x10_lattice():
    temperatures = [1.5, 2.0, 2.269, 2.5, 3.0, 3.5]
    published = [-1.95112, -1.74543, -1.47648, -1.18510, -0.82564, -0.66114]
    np.testing.assert_allclose(exact_ising_energy(temperatures, 10), published, atol=5e-6)


def test_exact_energy_is_vectorised_and_keeps_the_shape():
    temperatures = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    energy = exact_ising_energy(temperatures, 6, coupling=0.5)
    assert energy.shape == (2, 3)
    expected = [[exact_ising_energy(t, 6, coupling=0.5) for t in row] for row in temperatures]
    np.testing.assert_allclose(energy, expected, rtol=1e-14)
    assert isinstance(exact_ising_energy(2.0, 6), float)


def test_exact_energy_scales_with_the_coupling_and_covers_the_antiferromagnet():
    # E/N(T, J) = J e(T / J): the energy depends on J and T only through K = J / T.
    assert exact_ising_energy(3.0, 8, coupling=1.5) == pytest.approx(
        1.5 * exact_ising_energy(2.0, 8), rel=1e-13
    )
    expected = enumerate_lattice(4, 2.0, coupling=-1.0)["energy"]
    assert exact_ising_energy(2.0, 4, coupling=-1.0) == pytest.approx(expected, abs=1e-12)


def test_exact_energy_is_increasing_with_the_right_limits():
    temperatures = np.geomspace(0.01, 1000, 400)
    for size in (2, 5, 16, 128):
        energy = exact_ising_energy(temperatures, size)
        assert np.all(np.diff(energy) >= -1e-15)  # flat to rounding at the lowest T
        assert np.all(np.diff(energy[temperatures > 0.3]) > 0)
        assert energy[0] == -2.0
        # High temperature: E/N = -2 tanh(1/T) + O(T^-5) for L > 2; the square torus L = 2
        # has each bond twice, -4 K to first order.
        leading = -2.0 * np.tanh(1 / 1000) * (2 if size == 2 else 1)
        assert energy[-1] == pytest.approx(leading, rel=1e-5)


@pytest.mark.parametrize("temperature", [1.5, 2.0, 3.5])
def test_exact_energy_tends_to_onsager(temperature):
    assert exact_ising_energy(temperature, 512) == pytest.approx(
        onsager_energy(temperature), abs=1e-9
    )


def test_exact_energy_is_continuous_through_the_critical_point():
    """g_0 = 0 exactly at T_c, where one of Kaufman's four products vanishes."""
    eps = 1e-9
    for size in (4, 32):
        values = exact_ising_energy([T_C * (1 - eps), T_C, T_C * (1 + eps)], size)
        assert np.all(np.isfinite(values))
        assert values[1] == pytest.approx(values[0], abs=1e-7)
        assert values[1] == pytest.approx(values[2], abs=1e-7)


@pytest.mark.parametrize("size", [2, 3])
def test_log_partition_matches_enumeration_and_its_derivative_is_the_energy(size):
    n = size * size
    for temperature in (1.1, 2.4, 7.0):
        k = 1 / temperature
        total = sum(
            math.exp(-k * n * _energy_loops(np.array(s), size, size, 1.0))
            for s in itertools.product((-1, 1), repeat=n)
        )
        assert _kaufman.log_partition(size, k) == pytest.approx(math.log(total), abs=1e-12)
        h = 1e-5
        slope = (_kaufman.log_partition(size, k + h) - _kaufman.log_partition(size, k - h)) / (
            2 * h
        )
        assert exact_ising_energy(temperature, size) == pytest.approx(-slope / n, abs=1e-8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.0, 8), "temperature must be finite and > 0"),
        (([2.0, np.nan], 8), "temperature must be finite and > 0"),
        ((2.0, 1), "size must be an integer >= 2"),
        ((2.0, 8, 0.0), "coupling must be nonzero"),
        ((2.0, 5, -1.0), "frustrated"),
        (("hot", 8), "temperature must be real numbers"),
    ],
)
def test_exact_energy_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        exact_ising_energy(*args)


# --- ising_temperature -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [4, 10, 32])
def test_temperature_round_trip(size):
    temperatures = np.array([0.6, 1.5, 2.0, 2.269, T_C, 2.5, 3.0, 10.0, 40.0])
    energy = exact_ising_energy(temperatures, size)
    np.testing.assert_allclose(ising_temperature(energy, size), temperatures, rtol=1e-9)


def test_temperature_of_the_published_10x10_energies():
    published = [-1.95112, -1.74543, -1.47648, -1.18510, -0.82564, -0.66114]
    temperatures = ising_temperature(published, 10)
    # Five decimals of E fix T to within 5e-6 / (dE/dT), dE/dT >= 0.05 here.
    np.testing.assert_allclose(temperatures, [1.5, 2.0, 2.269, 2.5, 3.0, 3.5], atol=1e-4)


def test_temperature_keeps_the_input_shape_and_handles_the_antiferromagnet():
    assert isinstance(ising_temperature(-1.5, 8), float)
    energy = exact_ising_energy([[1.2, 2.2], [3.2, 4.2]], 8, coupling=-0.5)
    temperature = ising_temperature(energy, 8, coupling=-0.5)
    assert temperature.shape == (2, 2)
    np.testing.assert_allclose(temperature, [[1.2, 2.2], [3.2, 4.2]], rtol=1e-9)


def test_thermometer_reads_the_temperature_of_samples():
    """Mean sampled energy -> temperature, within the statistical error of the mean."""
    size, temperature = 8, 2.5
    X, _ = make_ising(2000, size, temperature, random_state=4)
    energy = ising_energy(X, (size, size))
    measured = ising_temperature(energy.mean(), size)
    slope = (
        exact_ising_energy(temperature + 1e-4, size) - exact_ising_energy(temperature - 1e-4, size)
    ) / 2e-4  # specific heat per site
    standard_error = energy.std(ddof=1) / math.sqrt(len(energy)) / slope
    assert abs(measured - temperature) < 4 * standard_error
    assert standard_error < 0.02


def test_ground_state_energy_reads_as_the_lowest_temperature_in_bounds():
    """-2 J is the energy at every T below about 0.1 J to double precision."""
    assert ising_temperature(-2.0, 8) == 0.05
    assert ising_temperature(-3.0, 8, coupling=1.5, bounds=(0.2, 5.0)) == 0.2


def test_energies_out_of_range_are_errors_not_clipped():
    with pytest.raises(ValueError, match=r"energy_per_site=0\.0 is outside"):
        ising_temperature([-1.0, 0.0], 8)
    with pytest.raises(ValueError, match=r"energy_per_site=-2\.1 is outside"):
        ising_temperature(-2.1, 8)
    high = exact_ising_energy(120.0, 8)
    with pytest.raises(ValueError, match="Widen bounds"):
        ising_temperature(high, 8)
    assert ising_temperature(high, 8, bounds=(0.05, 500.0)) == pytest.approx(120.0, rel=1e-9)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.nan, 8), {}, "must be finite"),
        ((-1.0, 8), {"bounds": (3.0, 1.0)}, "0 < T_low < T_high"),
        ((-1.0, 8), {"bounds": (0.0, 1.0)}, "0 < T_low < T_high"),
        ((-1.0, 8), {"bounds": 3.0}, "must be a pair"),
        ((-1.0, 7), {"coupling": -1.0}, "frustrated"),
        ((-1.0, 8), {"coupling": 0}, "nonzero"),
    ],
)
def test_ising_temperature_rejects_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ising_temperature(*args, **kwargs)
