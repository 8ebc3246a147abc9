"""skqg: scikit-learn estimators on the geometry of learning.

Restricted Boltzmann machines as renormalisation-group coarse-grainers, covariance models on the
Wishart (positive-definite) cone, and Monge-Ampere optimal-transport maps. Data generators live
in :mod:`skqg.datasets`, renormalisation-group tools in :mod:`skqg.rg`.
"""

import importlib

__version__ = "0.1.0.dev0"

# The estimators are imported on first use (PEP 562): ``import skqg`` stays light, so the
# ``skqg`` command can answer Ctrl-C with one line even while numpy, scikit-learn and Numba
# are still loading (its commands import them inside their error handling).
_ESTIMATOR_HOMES = {
    "MongeAmpereTransport": "skqg.transport",
    "RBMCoarseGrainer": "skqg.rbm",
    "TransportPlanDensity": "skqg.transport",
    "WishartCovarianceModel": "skqg.wishart",
}


# The public modules, also loaded on first use: ``import skqg; skqg.stats.wishart_logpdf``.
_PUBLIC_MODULES = ("cone", "datasets", "rg", "stats")


def __getattr__(name):
    if name in _ESTIMATOR_HOMES:
        value = getattr(importlib.import_module(_ESTIMATOR_HOMES[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _PUBLIC_MODULES:
        return importlib.import_module(f"skqg.{name}")  # which binds it in this namespace
    raise AttributeError(f"module 'skqg' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_ESTIMATOR_HOMES, *_PUBLIC_MODULES})


# Public estimators are listed here; tests/test_common.py checks that each one is registered
# for scikit-learn's estimator checks.
__all__ = [
    "MongeAmpereTransport",
    "RBMCoarseGrainer",
    "TransportPlanDensity",
    "WishartCovarianceModel",
    "__version__",
]
