"""The exact references used by the sampler's tests agree with one another."""

import math

import pytest
from ising_reference import brute_force_small, enumerate_lattice, kaufman_energy, onsager_energy


@pytest.mark.parametrize("size", [2, 3, 4])
@pytest.mark.parametrize("temperature", [1.2, 2.0, 2.269, 3.2, 6.0])
def test_kaufman_matches_enumeration(size, temperature):
    exact = enumerate_lattice(size, temperature)["energy"]
    assert kaufman_energy(size, temperature) == pytest.approx(exact, abs=1e-8)


def test_vectorised_enumeration_matches_explicit_loops():
    assert enumerate_lattice(3, 2.0)["energy"] == pytest.approx(brute_force_small(3, 2.0))


def test_onsager_energy_at_tc_is_minus_sqrt2():
    t_c = 2 / math.log1p(math.sqrt(2))
    assert onsager_energy(t_c * (1 + 1e-9)) == pytest.approx(-math.sqrt(2), abs=1e-6)


@pytest.mark.parametrize("temperature", [1.5, 2.0, 3.5])
def test_kaufman_tends_to_onsager(temperature):
    assert kaufman_energy(256, temperature) == pytest.approx(onsager_energy(temperature), abs=1e-7)
