"""skqg: scikit-learn estimators on the geometry of learning.

Restricted Boltzmann machines as renormalisation-group coarse-grainers, covariance models on the
Wishart (positive-definite) cone, and Monge-Ampere optimal-transport maps. Data generators live
in :mod:`skqg.datasets`, renormalisation-group tools in :mod:`skqg.rg`.
"""

from skqg.rbm import RBMCoarseGrainer
from skqg.transport import MongeAmpereTransport, TransportPlanDensity
from skqg.wishart import WishartCovarianceModel

__version__ = "0.1.0.dev0"

# Public estimators are listed here; tests/test_common.py checks that each one is registered
# for scikit-learn's estimator checks.
__all__ = [
    "MongeAmpereTransport",
    "RBMCoarseGrainer",
    "TransportPlanDensity",
    "WishartCovarianceModel",
    "__version__",
]
