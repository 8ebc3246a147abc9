"""The optimal-transport family: :class:`MongeAmpereTransport` and :func:`auto_epsilon`.

- ``_estimator``: the estimator (validation, parameters, fitted state).
- ``_epsilon``: the default entropic regularisation.
- ``_sinkhorn``: log-domain Sinkhorn potentials (dense and online).
- ``_brenier_map``: evaluation and inversion of a fitted entropic Brenier map.
- ``_monotone_map``: the exact 1-D map (monotone rearrangement).
- ``_gaussian_maps``: closed-form Gaussian maps (Bures and entropic).
- ``_references``: the named reference laws (samples, densities, moments).
"""

from skqg.transport._epsilon import auto_epsilon
from skqg.transport._estimator import MongeAmpereTransport

__all__ = ["MongeAmpereTransport", "auto_epsilon"]
