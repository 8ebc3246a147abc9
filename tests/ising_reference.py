"""Exact references for the 2-D Ising model: enumeration of small lattices and Onsager's solution.

The enumeration and Onsager's formula are kept independent of skqg's own code (the enumeration
builds bonds from lattice coordinates). Kaufman's finite-lattice solution is public in skqg
(:func:`skqg.rg.exact_ising_energy`); the wrappers below keep the tests' names, and
tests/test_ising_reference.py checks it against the enumeration.
"""

import itertools
import math

import numpy as np
from scipy.special import ellipk

from skqg._ising import _exact as _kaufman
from skqg.rg import exact_ising_energy


def enumerate_lattice(size, temperature, coupling=1.0, boundary="periodic"):
    """Exact <E>/N and <|M|>/N (and their second moments) by summing over all 2**N states."""
    n_sites = size * size
    states = ((np.arange(2**n_sites)[:, None] >> np.arange(n_sites)) & 1).astype(np.int8)
    spins = (2 * states - 1).reshape(-1, size, size).astype(np.int64)
    if boundary == "periodic":
        bonds = spins * np.roll(spins, -1, axis=2) + spins * np.roll(spins, -1, axis=1)
        bond_sum = bonds.sum(axis=(1, 2))
    else:
        bond_sum = (spins[:, :, :-1] * spins[:, :, 1:]).sum(axis=(1, 2)) + (
            spins[:, :-1, :] * spins[:, 1:, :]
        ).sum(axis=(1, 2))
    energy = -coupling * bond_sum
    abs_mag = np.abs(spins.sum(axis=(1, 2)))
    log_w = -energy / temperature
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    return {
        "energy": float(w @ energy) / n_sites,
        "energy2": float(w @ energy**2) / n_sites**2,
        "abs_mag": float(w @ abs_mag) / n_sites,
        "abs_mag2": float(w @ abs_mag**2) / n_sites**2,
    }


def onsager_energy(temperature, coupling=1.0):
    """Energy per site of the infinite square lattice (Onsager 1944)."""
    k = coupling / temperature
    kappa = 2.0 * math.sinh(2 * k) / math.cosh(2 * k) ** 2
    # kappa = 1 exactly at T_c, where K diverges logarithmically but its prefactor vanishes;
    # keep rounding from pushing the modulus past 1.
    m = min(kappa**2, 1.0 - 1e-16)
    prefactor = 2.0 / math.pi * (2.0 * math.tanh(2 * k) ** 2 - 1.0)
    return -coupling / math.tanh(2 * k) * (1.0 + prefactor * ellipk(m))


def brute_force_small(size, temperature):
    """Same as enumerate_lattice for tiny lattices, by explicit loops (cross-checks the above)."""
    n = size * size
    z = e_sum = 0.0
    for config in itertools.product((-1, 1), repeat=n):
        s = np.array(config).reshape(size, size)
        e = 0
        for r in range(size):
            for c in range(size):
                e -= s[r, c] * (s[r, (c + 1) % size] + s[(r + 1) % size, c])
        w = math.exp(-e / temperature)
        z += w
        e_sum += w * e
    return e_sum / z / n


def kaufman_log_partition(size, coupling_k):
    """log Z of the periodic size x size lattice at K = J / T (Kaufman 1949), from skqg."""
    return float(_kaufman.log_partition(size, coupling_k))


def kaufman_energy(size, temperature, coupling=1.0):
    """Exact energy per site of the finite periodic lattice (Kaufman 1949), from skqg."""
    return exact_ising_energy(temperature, size, coupling)
