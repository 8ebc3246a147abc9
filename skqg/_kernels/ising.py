"""Numba kernels for Monte Carlo sampling of the two-dimensional Ising model.

Conventions shared by every kernel here:

* A lattice of ``N`` sites is a 1-D ``int8`` array of length ``N + 1``; the extra last entry is
  a *ghost* site whose spin is always 0. Missing neighbours (open boundaries) point at the ghost,
  so the inner loops never branch on the boundary.
* ``neighbors`` is an ``(N, 4)`` ``int64`` table: columns 0 and 1 are the right and down
  neighbours (each bond is counted once through them), columns 2 and 3 the left and up ones.
* Energies are ``E = -J * sum_i s_i (s_right(i) + s_down(i))``.
* One *sweep* is ``N`` single-spin Metropolis attempts in checkerboard order, or, for Wolff, a
  fixed number of cluster flips chosen by the caller (about ``N / <cluster size>``, the usual
  way to put both algorithms on one clock).
* Chains run in parallel across a ``prange`` over chains. Each chain reseeds Numba's generator
  from its own seed at the start of its iteration and then runs serially on one thread, so the
  result depends on the seeds only, never on the number of threads.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _energy(spins, neighbors, coupling):
    n_sites = neighbors.shape[0]
    total = 0
    for i in range(n_sites):
        total += spins[i] * (spins[neighbors[i, 0]] + spins[neighbors[i, 1]])
    return -coupling * total


@njit(cache=True, nogil=True)
def _abs_magnetization(spins, n_sites):
    total = 0
    for i in range(n_sites):
        total += spins[i]
    return abs(total)


@njit(cache=True, nogil=True)
def _metropolis_sweep(spins, neighbors, order, accept):
    # accept[s_i * h_i + 4] is min(1, exp(-2 beta J s_i h_i)) for the local field h_i in [-4, 4].
    flipped = 0
    for idx in range(order.shape[0]):
        i = order[idx]
        s = spins[i]
        field = (
            spins[neighbors[i, 0]]
            + spins[neighbors[i, 1]]
            + spins[neighbors[i, 2]]
            + spins[neighbors[i, 3]]
        )
        p = accept[s * field + 4]
        # Moves that lower the energy are always taken: no random number is drawn for them.
        if p >= 1.0 or np.random.random() < p:
            spins[i] = -s
            flipped += 1
    return flipped


@njit(cache=True, nogil=True)
def _wolff_sweep(spins, neighbors, p_add, bond_sign, n_clusters, stack):
    """Flip ``n_clusters`` Wolff clusters; return the number of spins flipped.

    The number of clusters is fixed in advance: stopping once some number of spins has been
    flipped would make the sweep length depend on the state and bias the samples.
    """
    n_sites = neighbors.shape[0]
    flipped = 0
    for _ in range(n_clusters):
        seed_site = np.random.randint(0, n_sites)
        # Spins are flipped as they join the cluster, so a flipped spin is never added twice.
        # Site j joins through bond (i, j) when the bond is satisfied, J s_i s_j > 0, which reads
        # spins[j] == -bond_sign * spins[i] once i has been flipped. The ghost spin 0 never joins.
        spins[seed_site] = -spins[seed_site]
        stack[0] = seed_site
        top = 1
        flipped += 1
        while top > 0:
            top -= 1
            i = stack[top]
            wanted = -bond_sign * spins[i]
            for k in range(4):
                j = neighbors[i, k]
                if spins[j] == wanted and np.random.random() < p_add:
                    spins[j] = -spins[j]
                    stack[top] = j
                    top += 1
                    flipped += 1
    return flipped


@njit(cache=True, nogil=True)
def _sweep(spins, neighbors, order, accept, p_add, bond_sign, n_clusters, stack):
    """One sweep: ``n_clusters`` Wolff clusters if ``n_clusters > 0``, else checkerboard
    Metropolis. Returns the number of spins flipped."""
    if n_clusters > 0:
        return _wolff_sweep(spins, neighbors, p_add, bond_sign, n_clusters, stack)
    return _metropolis_sweep(spins, neighbors, order, accept)


@njit(cache=True, parallel=True)
def trace_chains(
    spins, neighbors, order, accept, p_add, bond_sign, n_clusters, coupling, n_sweeps, seeds
):
    """Advance every chain by ``n_sweeps`` sweeps, recording energy and |magnetisation|.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, n_sites + 1)
        Chain states, updated in place. The last column is the ghost site and must be 0.
    neighbors : ndarray of int64, shape (n_sites, 4)
        Neighbour table (see the module docstring).
    order : ndarray of int64, shape (n_sites,)
        Site visiting order of a Metropolis sweep (checkerboard: one colour, then the other).
    accept : ndarray of float64, shape (9,)
        Metropolis acceptance probabilities indexed by ``s_i * h_i + 4``.
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
        One seed per chain for Numba's generator.

    Returns
    -------
    energies, abs_magnetizations, flips : ndarray of float64, shape (n_chains, n_sweeps)
        Total energy, absolute total magnetisation and number of spins flipped in each sweep.
    """
    n_chains = spins.shape[0]
    n_sites = neighbors.shape[0]
    energies = np.empty((n_chains, n_sweeps))
    abs_mags = np.empty((n_chains, n_sweeps))
    flips = np.empty((n_chains, n_sweeps))
    for c in prange(n_chains):
        np.random.seed(seeds[c])
        state = spins[c]
        stack = np.empty(n_sites, dtype=np.int64)
        for t in range(n_sweeps):
            flips[c, t] = _sweep(
                state, neighbors, order, accept, p_add, bond_sign, n_clusters, stack
            )
            energies[c, t] = _energy(state, neighbors, coupling)
            abs_mags[c, t] = _abs_magnetization(state, n_sites)
    return energies, abs_mags, flips


@njit(cache=True, parallel=True)
def sample_chains(
    spins,
    neighbors,
    order,
    accept,
    p_add,
    bond_sign,
    n_clusters,
    coupling,
    n_samples,
    thinning,
    seeds,
):
    """Record ``n_samples`` configurations per chain, ``thinning`` sweeps apart.

    Parameters are those of :func:`trace_chains`, with ``n_samples`` configurations per chain
    taken every ``thinning`` sweeps.

    Returns
    -------
    configurations : ndarray of int8, shape (n_chains, n_samples, n_sites)
        The recorded spins (ghost site dropped).
    energies : ndarray of float64, shape (n_chains, n_samples)
        Total energy of each recorded configuration.
    """
    n_chains = spins.shape[0]
    n_sites = neighbors.shape[0]
    configurations = np.empty((n_chains, n_samples, n_sites), dtype=np.int8)
    energies = np.empty((n_chains, n_samples))
    for c in prange(n_chains):
        np.random.seed(seeds[c])
        state = spins[c]
        stack = np.empty(n_sites, dtype=np.int64)
        for t in range(n_samples):
            for _ in range(thinning):
                _sweep(state, neighbors, order, accept, p_add, bond_sign, n_clusters, stack)
            configurations[c, t, :] = state[:n_sites]
            energies[c, t] = _energy(state, neighbors, coupling)
    return configurations, energies
