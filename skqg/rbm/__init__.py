"""The restricted Boltzmann machine family: :class:`RBMCoarseGrainer` and its private modules.

- ``_estimator``: the estimator (validation, parameters, fitted state).
- ``_layers``: conditional means, Gibbs sweeps and the free energy (the RBM's formulas).
- ``_training``: gradient statistics (CD, PCD, tempering, exact) and the optimiser.
- ``_partition``: the log partition function, exact by enumeration or by AIS.
"""

from skqg.rbm._estimator import RBMCoarseGrainer

__all__ = ["RBMCoarseGrainer"]
