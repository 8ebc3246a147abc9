"""The covariance family on the positive-definite cone: :class:`WishartCovarianceModel`.

- ``_estimator``: the public estimator; validates once and dispatches to one of two models.
- ``_shrinkage``: evidence-maximised inverse-Wishart shrinkage and the latent structure.
"""

from skqg.wishart._estimator import WishartCovarianceModel

__all__ = ["WishartCovarianceModel"]
