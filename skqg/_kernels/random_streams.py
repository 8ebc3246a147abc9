"""A small explicit-state random number generator for Numba kernels: xoshiro256**.

Why not ``np.random`` inside the kernels: Numba's Mersenne Twister costs about 18 ns a draw here
(2 ns for xoshiro256**), and its state is hidden and per thread, so reproducibility rests on
reseeding it in the right place. Here every chain or chunk owns a 4-word ``uint64`` state array,
seeded from a 64-bit integer through SplitMix64 (as the xoshiro authors recommend), and passes
it explicitly: results depend on the seeds only, never on threads or scheduling.

Reference: D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
ACM Trans. Math. Softw. 47 (2021); https://prng.di.unimi.it/.
"""

import numpy as np
from numba import njit, uint64

_GOLDEN = uint64(0x9E3779B97F4A7C15)
_MIX1 = uint64(0xBF58476D1CE4E5B9)
_MIX2 = uint64(0x94D049BB133111EB)
_TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (uint64(64) - k))


@njit(cache=True)
def seed_state(seed, state):
    """Fill ``state`` (4 ``uint64``) from an integer seed by SplitMix64.

    Parameters
    ----------
    seed : int
        Any 64-bit integer.
    state : ndarray of uint64, shape (4,)
        Filled in place.
    """
    z = uint64(seed)
    for i in range(4):
        z += _GOLDEN
        x = z
        x = (x ^ (x >> uint64(30))) * _MIX1
        x = (x ^ (x >> uint64(27))) * _MIX2
        state[i] = x ^ (x >> uint64(31))


@njit(cache=True, inline="always")
def next_uint64(state):
    """Advance ``state`` and return the next 64-bit output (xoshiro256**)."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _rotl(s1 * uint64(5), uint64(7)) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, uint64(45))
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@njit(cache=True, inline="always")
def uniform(state):
    """Return a float64 uniform on [0, 1) with 53 random bits."""
    return (next_uint64(state) >> uint64(11)) * _TWO_POW_MINUS_53


@njit(cache=True, inline="always")
def randbelow(state, n):
    """Return an integer uniform on ``{0, ..., n - 1}`` (bias below ``n / 2**53``)."""
    return int(uniform(state) * n)


@njit(cache=True)
def seeded_states(seeds):
    """One generator state per seed.

    Parameters
    ----------
    seeds : ndarray of int64, shape (n,)

    Returns
    -------
    ndarray of uint64, shape (n, 4)
    """
    states = np.empty((seeds.shape[0], 4), dtype=np.uint64)
    for i in range(seeds.shape[0]):
        seed_state(seeds[i], states[i])
    return states
