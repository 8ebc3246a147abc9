"""The kernels' xoshiro256** generator against a pure-Python transcription of the reference."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from skqg._kernels.random_streams import next_uint64, randbelow, seed_state, seeded_states, uniform

MASK = (1 << 64) - 1


def _splitmix64_states(seed):
    z, out = seed & MASK, []
    for _ in range(4):
        z = (z + 0x9E3779B97F4A7C15) & MASK
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(x ^ (x >> 31))
    return out


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def _xoshiro_outputs(state, n):
    s = list(state)
    out = []
    for _ in range(n):
        out.append((_rotl((s[1] * 5) & MASK, 7) * 9) & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
    return out


@njit(cache=True)
def _draw_uint64(state, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = next_uint64(state)
    return out


@njit(cache=True)
def _draw_uniform(state, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(state)
    return out


@njit(cache=True)
def _draw_below(state, bound, n):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = randbelow(state, bound)
    return out


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 2])
def test_matches_the_reference_algorithm(seed):
    state = np.empty(4, dtype=np.uint64)
    seed_state(seed, state)
    assert [int(v) for v in state] == _splitmix64_states(seed)
    expected = _xoshiro_outputs(_splitmix64_states(seed), 1000)
    assert [int(v) for v in _draw_uint64(state, 1000)] == expected


def test_seeded_states_is_one_state_per_seed():
    seeds = np.array([3, 4, 3], dtype=np.int64)
    states = seeded_states(seeds)
    assert states.shape == (3, 4) and states.dtype == np.uint64
    np.testing.assert_array_equal(states[0], states[2])
    assert not np.array_equal(states[0], states[1])


def test_uniform_is_uniform_on_the_unit_interval():
    values = _draw_uniform(seeded_states(np.array([7]))[0], 200_000)
    assert values.min() >= 0.0 and values.max() < 1.0
    assert stats.kstest(values, "uniform").pvalue > 1e-3


def test_randbelow_covers_its_range_evenly():
    values = _draw_below(seeded_states(np.array([9]))[0], 7, 70_000)
    counts = np.bincount(values, minlength=7)
    assert counts.size == 7 and values.min() == 0
    assert stats.chisquare(counts).pvalue > 1e-3
