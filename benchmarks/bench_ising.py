"""Ising sampler speed: skqg's Numba kernels against a vectorised NumPy checkerboard Metropolis.

Measured side by side in one process (machines here are shared and noisy; read the ratios):

1. Spin-flip attempts per second of checkerboard Metropolis at T_c on a 32 x 32 lattice:
   NumPy on one lattice (how the sampler is usually written), NumPy vectorised over a batch of
   16 lattices (a stronger baseline), and skqg's kernel on one thread (one chain) and on all
   threads (16 chains in parallel).
2. Time to 1000 decorrelated 32 x 32 configurations at T_c: ``make_ising`` with its default
   (Wolff) and with Metropolis, against the NumPy sampler run with the same burn-in and thinning
   as skqg's Metropolis (same algorithm, so the same autocorrelation time in sweeps).

Run: ``python benchmarks/bench_ising.py`` (``--quick`` for a short smoke run).
"""

import argparse
import time

import numpy as np
from _report import print_summary, record

from skqg._ising import IsingOptions, sample_dataset
from skqg._ising import _sampler as _ising
from skqg._kernels import ising_monte_carlo as kernels
from skqg._parallel import chunk_seeds, numba_threads

SIZE = 32
T_C = _ising.CRITICAL_TEMPERATURE


class NumpyCheckerboardMetropolis:
    """Vectorised checkerboard Metropolis on a batch of periodic lattices, NumPy only.

    It uses skqg's acceptance table (Metropolis, 1/2 for a free move), so that both samplers
    run the same Markov chain and skqg's measured thinning applies to it.
    """

    def __init__(self, n_lattices, size, temperature, rng):
        self.rng = rng
        self.spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_lattices, size, size))
        rows, cols = np.indices((size, size))
        self.colours = [(rows + cols) % 2 == c for c in (0, 1)]
        lattice = _ising.Lattice(size, "periodic")
        self.accept = _ising._kernel_arguments(lattice, temperature, 1.0, 0).accept

    def sweep(self):
        s = self.spins
        for colour in self.colours:
            field = (
                np.roll(s, 1, axis=1)
                + np.roll(s, -1, axis=1)
                + np.roll(s, 1, axis=2)
                + np.roll(s, -1, axis=2)
            )
            p = self.accept[s * field + 4]
            flip = colour & (self.rng.random(s.shape) < p)
            s[flip] *= -1

    def energy_per_site(self):
        s = self.spins.astype(np.int64)
        bonds = s * np.roll(s, -1, axis=1) + s * np.roll(s, -1, axis=2)
        return -bonds.sum(axis=(1, 2)) / s[0].size


def numpy_flip_rate(n_lattices, seconds):
    sampler = NumpyCheckerboardMetropolis(n_lattices, SIZE, T_C, np.random.default_rng(0))
    sampler.sweep()
    sweeps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        sampler.sweep()
        sweeps += 1
    elapsed = time.perf_counter() - start
    return sweeps * n_lattices * SIZE * SIZE / elapsed


def skqg_flip_rate(n_chains, n_jobs, seconds):
    lattice = _ising.Lattice(SIZE, "periodic")
    args = _ising._kernel_arguments(lattice, T_C, 1.0, 0)
    rng = np.random.RandomState(0)
    spins = _ising._initial_spins(lattice, n_chains, T_C, 1.0, rng)
    with numba_threads(n_jobs):
        kernels.sample_chains(spins, *args, 1, 1, chunk_seeds(rng, n_chains))  # compile/warm
        sweeps, start = 0, time.perf_counter()
        per_call = 200
        while time.perf_counter() - start < seconds:
            kernels.sample_chains(spins, *args, 1, per_call, chunk_seeds(rng, n_chains))
            sweeps += per_call
        elapsed = time.perf_counter() - start
    return sweeps * n_chains * SIZE * SIZE / elapsed


def time_make_ising(n_samples, algorithm, size=SIZE):
    """Seconds for ``make_ising``'s defaults at T_c, and what the sampler did."""
    start = time.perf_counter()
    options = IsingOptions(algorithm=algorithm, shuffle=False, dtype=np.int8, random_state=0)
    runs = sample_dataset(n_samples, size, T_C, options).runs
    return time.perf_counter() - start, runs[0]


def time_numpy_sampler(n_samples, burn_in, thinning):
    """One NumPy lattice, the same burn-in and thinning as skqg's Metropolis chains."""
    sampler = NumpyCheckerboardMetropolis(1, SIZE, T_C, np.random.default_rng(1))
    start = time.perf_counter()
    for _ in range(burn_in):
        sampler.sweep()
    energies = []
    for _ in range(n_samples):
        for _ in range(thinning):
            sampler.sweep()
        energies.append(sampler.energy_per_site()[0])
    return time.perf_counter() - start, float(np.mean(energies))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    args = parser.parse_args(argv)
    seconds = 0.5 if args.quick else 3.0
    n_samples = 100 if args.quick else 1000

    # Load (or compile) the Numba kernels before any timing.
    time_make_ising(16, "metropolis", size=8)
    time_make_ising(16, "wolff", size=8)

    print(f"Checkerboard Metropolis at T_c, {SIZE}x{SIZE}: spin-flip attempts per second")
    numpy_one = numpy_flip_rate(1, seconds)
    numpy_batch = numpy_flip_rate(16, seconds)
    skqg_one = skqg_flip_rate(1, 1, seconds)
    skqg_all = skqg_flip_rate(16, -1, seconds)
    rows = [
        ("NumPy, one lattice", numpy_one),
        ("NumPy, 16 lattices batched", numpy_batch),
        ("skqg, 1 thread, 1 chain", skqg_one),
        ("skqg, all threads, 16 chains", skqg_all),
    ]
    for name, rate in rows:
        print(
            f"  {name:<30} {rate / 1e6:9.1f} M/s   {rate / numpy_one:7.1f}x NumPy one lattice"
            f"   {rate / numpy_batch:6.1f}x NumPy batched"
        )

    print(f"\nTime to {n_samples} decorrelated {SIZE}x{SIZE} configurations at T_c")
    wolff_time, wolff_run = time_make_ising(n_samples, "auto")
    metro_time, metro_run = time_make_ising(n_samples, "metropolis")
    numpy_time, numpy_energy = time_numpy_sampler(n_samples, metro_run.burn_in, metro_run.thinning)
    for name, elapsed, run in (
        ("make_ising (auto = Wolff)", wolff_time, wolff_run),
        ("make_ising (Metropolis)", metro_time, metro_run),
    ):
        print(
            f"  {name:<30} {elapsed:8.2f} s   tau {run.tau:7.1f} sweeps, thinning "
            f"{run.thinning}, burn-in {run.burn_in}   {numpy_time / elapsed:8.1f}x faster"
        )
    print(
        f"  {'NumPy Metropolis, one lattice':<30} {numpy_time:8.2f} s   same burn-in and "
        f"thinning as skqg's Metropolis (mean E/N {numpy_energy:.4f}, sanity check)"
    )
    goal = skqg_all / numpy_one
    print(
        f"\nGoal >= 20x NumPy's flip rate: measured {goal:.1f}x (all threads) and "
        f"{skqg_one / numpy_one:.1f}x (one thread) -> {'met' if goal >= 20 else 'MISSED'}"
    )
    record("flip rate vs NumPy (all threads)", f"{goal:.1f}x", ">= 20x", goal >= 20)
    print_summary(8)
    return {name: rate for name, rate in rows} | {
        "wolff_seconds": wolff_time,
        "metropolis_seconds": metro_time,
        "numpy_seconds": numpy_time,
    }


if __name__ == "__main__":
    main()
