"""Ising data sets: the options of :func:`skqg.datasets.make_ising`, checked once, and the sampler
run that turns them into rows.

:class:`IsingOptions` is the one home of the sampler's settings, their defaults and their checks;
``make_ising`` and the ``skqg ising`` command both build one and call :func:`sample_dataset`, so
the command line can report what the sampler measured (autocorrelation times, thinning) without
a second signature to keep in step.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from skqg._ising._sampler import sample_ising
from skqg._validation import (
    check_auto_or_int,
    check_int,
    check_option,
    check_real,
    check_spin_dtype,
    check_temperatures,
)

_ALGORITHMS = ("auto", "wolff", "metropolis")
_BOUNDARIES = ("periodic", "open")


@dataclass(frozen=True)
class IsingOptions:
    """The sampler settings of :func:`skqg.datasets.make_ising` (same names and defaults)."""

    coupling: float = 1.0
    boundary: str = "periodic"
    algorithm: str = "auto"
    spins: bool = True
    n_chains: int = 16
    thinning: Any = "auto"
    burn_in: Any = "auto"
    shuffle: bool = True
    dtype: Any = np.float64
    verbose: bool = False
    n_jobs: Any = None
    random_state: Any = None

    def checked(self):
        """A copy with every setting validated and normalised, or a ValueError naming it."""
        return IsingOptions(
            coupling=check_real("coupling", self.coupling),
            boundary=check_option("boundary", self.boundary, _BOUNDARIES),
            algorithm=check_option("algorithm", self.algorithm, _ALGORITHMS),
            spins=self.spins,
            n_chains=check_int("n_chains", self.n_chains, 1),
            thinning=check_auto_or_int("thinning", self.thinning, 1),
            burn_in=check_auto_or_int("burn_in", self.burn_in, 0),
            shuffle=self.shuffle,
            dtype=check_spin_dtype(self.dtype, self.spins),
            verbose=self.verbose,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        )


class IsingDataset(NamedTuple):
    """Rows sampled by :func:`sample_dataset` and what the sampler did at each temperature."""

    X: np.ndarray
    y: np.ndarray
    energy: np.ndarray  # energy per site of each row
    runs: list  # one skqg._ising._sampler.TemperatureRun per temperature


def _split_counts(n_samples, n_temperatures):
    if n_samples < n_temperatures:
        raise ValueError(
            f"n_samples={n_samples} is smaller than the number of temperatures "
            f"({n_temperatures}); ask for at least one sample per temperature."
        )
    counts = np.full(n_temperatures, n_samples // n_temperatures)
    counts[: n_samples % n_temperatures] += 1
    return counts


def sample_dataset(n_samples, size, temperature, options):
    """Sample Ising configurations as :func:`skqg.datasets.make_ising` describes.

    Parameters
    ----------
    n_samples, size, temperature
        As in :func:`skqg.datasets.make_ising`.
    options : IsingOptions
        The sampler settings.

    Returns
    -------
    IsingDataset
    """
    n_samples = check_int("n_samples", n_samples, 1)
    size = check_int("size", size, 2)
    temperatures = check_temperatures(temperature)
    options = options.checked()
    counts = _split_counts(n_samples, temperatures.size)
    rng = check_random_state(options.random_state)
    progress_bar = None
    if options.verbose:
        from tqdm.auto import tqdm

        progress_bar = tqdm(total=n_samples, unit="sample", desc=f"Ising {size}x{size}")
    try:
        configurations, y, energies, runs = sample_ising(
            counts,
            temperatures,
            size,
            coupling=options.coupling,
            boundary=options.boundary,
            algorithm=options.algorithm,
            n_chains=options.n_chains,
            thinning=options.thinning,
            burn_in=options.burn_in,
            random_state=rng,
            n_jobs=options.n_jobs,
            progress=None if progress_bar is None else progress_bar.update,
        )
    finally:
        if progress_bar is not None:
            progress_bar.close()
    X = configurations if options.spins else (configurations + 1) // 2
    X = X.astype(options.dtype, copy=False)
    energies = energies / (size * size)
    if options.shuffle:
        permutation = rng.permutation(n_samples)
        X, y, energies = X[permutation], y[permutation], energies[permutation]
    return IsingDataset(X, y, energies, runs)
