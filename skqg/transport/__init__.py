"""The optimal-transport family: :class:`MongeAmpereTransport`, :class:`TransportPlanDensity`
and :func:`auto_epsilon`.

- ``_estimator``: the estimator (validation, parameters, fitted state).
- ``_epsilon``: the default entropic regularisation.
- ``_sinkhorn``: log-domain Sinkhorn potentials (dense and online).
- ``_brenier_map``: evaluation and inversion of a fitted entropic Brenier map.
- ``_monotone_map``: the exact 1-D map (monotone rearrangement).
- ``_gaussian_maps``: closed-form Gaussian maps (Bures and entropic).
- ``_references``: the named reference laws (samples, densities, moments).
- ``_plan_density``: :class:`TransportPlanDensity`, the density of an entropic plan.
- ``_plan_mixture``: the plan's Gaussian mixture and its choice by held-out likelihood.
"""

from skqg.transport._epsilon import auto_epsilon
from skqg.transport._estimator import MongeAmpereTransport
from skqg.transport._plan_density import TransportPlanDensity

__all__ = ["MongeAmpereTransport", "TransportPlanDensity", "auto_epsilon"]
