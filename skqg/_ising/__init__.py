"""The 2-D Ising model in one place: the Monte Carlo sampler and the exact finite-lattice solution.

Consumed through the public :func:`skqg.datasets.make_ising` and the :mod:`skqg.rg` functions
(and the ``skqg ising`` command); the Numba sweeps live in :mod:`skqg._kernels.ising_monte_carlo`.

- ``_sampler``: lattices, burn-in, autocorrelation times and thinning around the kernels.
- ``_dataset``: :class:`IsingOptions` (the settings of ``make_ising``, checked once) and
  :func:`sample_dataset`, shared by ``make_ising`` and the command line.
- ``_exact``: Kaufman's exact partition function and energy of the finite periodic lattice.
"""

from skqg._ising._dataset import IsingDataset, IsingOptions, sample_dataset
from skqg._ising._exact import energy_per_site, log_partition
from skqg._ising._sampler import CRITICAL_TEMPERATURE, critical_temperature

__all__ = [
    "CRITICAL_TEMPERATURE",
    "IsingDataset",
    "IsingOptions",
    "critical_temperature",
    "energy_per_site",
    "log_partition",
    "sample_dataset",
]
