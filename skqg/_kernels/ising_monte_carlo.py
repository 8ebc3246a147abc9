"""Numba kernels for Monte Carlo sampling of the two-dimensional Ising model.

Conventions shared by every kernel here:

* A chain's lattice is an ``(L + 2, L + 2)`` ``int8`` array whose interior ``[1:L+1, 1:L+1]``
  holds the spins and whose border is a frame of *ghost* spins fixed at 0. ``wrap`` maps a padded
  coordinate ``k`` to its two neighbours, ``wrap[0, k]`` (previous) and ``wrap[1, k]`` (next):
  into the interior for periodic boundaries, onto the zero frame for open ones. The inner loops
  therefore never branch on the boundary, and a ghost never joins a Wolff cluster.
* Energies are ``E = -J * sum_i s_i (s_right(i) + s_down(i))``.
* One *sweep* is ``L * L`` single-spin Metropolis attempts in checkerboard order, or, for
  Wolff, a fixed number of cluster flips chosen by the caller (about ``N / <cluster size>``,
  the usual way to put both algorithms on one clock).
* Chains run in parallel across a ``prange`` over chains. Each chain owns an explicit
  xoshiro256** generator seeded from its own seed (see :mod:`skqg._kernels.random_streams`) and runs
  serially on one thread, so the result depends on the seeds only, never on the threads.
"""

import numpy as np
from numba import njit, prange

from skqg._kernels.random_streams import randbelow, seed_state, uniform


@njit(cache=True, nogil=True)
def _energy(spins, wrap, coupling):
    size = spins.shape[0] - 2
    total = 0
    for r in range(1, size + 1):
        down = wrap[1, r]
        for c in range(1, size + 1):
            total += spins[r, c] * (spins[r, wrap[1, c]] + spins[down, c])
    return -coupling * total


@njit(cache=True, nogil=True)
def _abs_order_parameter(spins, bond_sign):
    """|M| for a ferromagnet; the staggered |sum_i (-1)^(r+c) s_i| for an antiferromagnet."""
    size = spins.shape[0] - 2
    total = 0
    for r in range(1, size + 1):
        for c in range(1, size + 1):
            if bond_sign < 0 and (r + c) % 2 == 1:
                total -= spins[r, c]
            else:
                total += spins[r, c]
    return abs(total)


@njit(cache=True, nogil=True)
def _metropolis_sweep(spins, wrap, accept, rng):
    """Checkerboard sweep; ``accept[s_i * h_i + 4]`` is the probability of flipping spin i."""
    size = spins.shape[0] - 2
    flipped = 0
    for colour in range(2):
        for r in range(1, size + 1):
            up, down = wrap[0, r], wrap[1, r]
            for c in range(1 + (r + colour) % 2, size + 1, 2):
                s = spins[r, c]
                field = spins[up, c] + spins[down, c] + spins[r, wrap[0, c]] + spins[r, wrap[1, c]]
                # Branch-free: a random number is drawn for every attempt (accept = 1 always
                # passes), which is cheaper than mispredicting the accept/reject branch.
                flip = uniform(rng) < accept[s * field + 4]
                spins[r, c] = -s if flip else s
                flipped += flip
    return flipped


@njit(cache=True, nogil=True)
def _wolff_sweep(spins, wrap, p_add, bond_sign, n_clusters, stack, stamp, rng):
    """Flip ``n_clusters`` Wolff clusters; return the number of spins flipped.

    The number of clusters is fixed in advance: stopping once some number of spins has been
    flipped would make the sweep length depend on the state and bias the samples.
    ``stamp`` (same shape as ``spins``) marks cluster members with a cluster number that only
    grows, so it never needs clearing.
    """
    size = spins.shape[0] - 2
    flipped = 0
    for _ in range(n_clusters):
        label = stamp[0, 0] + 1  # the corner ghost keeps the last label used
        stamp[0, 0] = label
        r0 = 1 + randbelow(rng, size)
        c0 = 1 + randbelow(rng, size)
        # Spins flip as they join, and site j joins through bond (i, j) when the bond was
        # satisfied before the flip, J s_i s_j > 0, which reads spins[j] == -bond_sign *
        # spins[i] once i has flipped. The stamp keeps members from joining twice (with J < 0
        # two flipped members can look satisfied again). Ghost spins (0) never join.
        spins[r0, c0] = -spins[r0, c0]
        stamp[r0, c0] = label
        stack[0, 0], stack[0, 1] = r0, c0
        top = 1
        flipped += 1
        while top > 0:
            top -= 1
            r, c = stack[top, 0], stack[top, 1]
            wanted = -bond_sign * spins[r, c]
            for k in range(4):
                if k == 0:
                    rn, cn = wrap[0, r], c
                elif k == 1:
                    rn, cn = wrap[1, r], c
                elif k == 2:
                    rn, cn = r, wrap[0, c]
                else:
                    rn, cn = r, wrap[1, c]
                if stamp[rn, cn] != label and spins[rn, cn] == wanted and uniform(rng) < p_add:
                    spins[rn, cn] = -spins[rn, cn]
                    stamp[rn, cn] = label
                    stack[top, 0], stack[top, 1] = rn, cn
                    top += 1
                    flipped += 1
    return flipped


@njit(cache=True, nogil=True)
def _sweep(spins, wrap, accept, p_add, bond_sign, n_clusters, stack, stamp, rng):
    """One sweep: ``n_clusters`` Wolff clusters if ``n_clusters > 0``, else checkerboard
    Metropolis. Returns the number of spins flipped."""
    if n_clusters > 0:
        return _wolff_sweep(spins, wrap, p_add, bond_sign, n_clusters, stack, stamp, rng)
    return _metropolis_sweep(spins, wrap, accept, rng)


@njit(cache=True, parallel=True)
def trace_chains(spins, wrap, accept, p_add, bond_sign, n_clusters, coupling, n_sweeps, seeds):
    """Advance every chain by ``n_sweeps`` sweeps, recording energy and order parameter.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, L + 2, L + 2)
        Chain states, updated in place; the border frame must be 0.
    wrap : ndarray of int64, shape (2, L + 2)
        Previous and next neighbour of each padded coordinate (see the module docstring).
    accept : ndarray of float64, shape (9,)
        Flip probabilities indexed by ``s_i * h_i + 4`` (Metropolis, 1/2 for a free move).
    p_add : float
        Wolff bond probability ``1 - exp(-2 beta |J|)``.
    bond_sign : int
        Sign of the coupling ``J``.
    n_clusters : int
        Wolff clusters per sweep; 0 selects checkerboard Metropolis sweeps.
    coupling : float
        The coupling ``J`` (energies are reported in the same units).
    n_sweeps : int
        Number of sweeps per chain.
    seeds : ndarray of int64, shape (n_chains,)
        One generator seed per chain.

    Returns
    -------
    energies, abs_magnetizations, flips : ndarray of float64, shape (n_chains, n_sweeps)
        Total energy, absolute total magnetisation (staggered if ``J < 0``) and number of spins
        flipped in each sweep.
    """
    n_chains = spins.shape[0]
    n_sites = (spins.shape[1] - 2) ** 2
    energies = np.empty((n_chains, n_sweeps))
    abs_mags = np.empty((n_chains, n_sweeps))
    flips = np.empty((n_chains, n_sweeps))
    for chain in prange(n_chains):
        rng = np.empty(4, dtype=np.uint64)
        seed_state(seeds[chain], rng)
        state = spins[chain]
        stack = np.empty((n_sites, 2), dtype=np.int64)
        stamp = np.zeros(state.shape, dtype=np.int64)
        for t in range(n_sweeps):
            flips[chain, t] = _sweep(
                state, wrap, accept, p_add, bond_sign, n_clusters, stack, stamp, rng
            )
            energies[chain, t] = _energy(state, wrap, coupling)
            abs_mags[chain, t] = _abs_order_parameter(state, bond_sign)
    return energies, abs_mags, flips


@njit(cache=True, parallel=True)
def sample_chains(
    spins, wrap, accept, p_add, bond_sign, n_clusters, coupling, n_samples, thinning, seeds
):
    """Record ``n_samples`` configurations per chain, ``thinning`` sweeps apart.

    Parameters are those of :func:`trace_chains`, with ``n_samples`` configurations per chain
    taken every ``thinning`` sweeps.

    Returns
    -------
    configurations : ndarray of int8, shape (n_chains, n_samples, L * L)
        The recorded spins in row-major order (ghost frame dropped).
    energies : ndarray of float64, shape (n_chains, n_samples)
        Total energy of each recorded configuration.
    """
    n_chains = spins.shape[0]
    size = spins.shape[1] - 2
    configurations = np.empty((n_chains, n_samples, size * size), dtype=np.int8)
    energies = np.empty((n_chains, n_samples))
    for chain in prange(n_chains):
        rng = np.empty(4, dtype=np.uint64)
        seed_state(seeds[chain], rng)
        state = spins[chain]
        stack = np.empty((size * size, 2), dtype=np.int64)
        stamp = np.zeros(state.shape, dtype=np.int64)
        for t in range(n_samples):
            for _ in range(thinning):
                _sweep(state, wrap, accept, p_add, bond_sign, n_clusters, stack, stamp, rng)
            for r in range(size):
                for c in range(size):
                    configurations[chain, t, r * size + c] = state[r + 1, c + 1]
            energies[chain, t] = _energy(state, wrap, coupling)
    return configurations, energies
