"""The covariance family on the positive-definite cone: :class:`WishartCovarianceModel`.

- ``_estimator``: the public estimator; validates once and dispatches to one of two models.
- ``_observations``: the model of 2-D observations (Gaussian; shrinkage or latent structure).
- ``_matrices``: the model of a 3-D stack of SPD matrices (Wishart; tangent vectors).
- ``_evidence``: evidence-maximised inverse-Wishart shrinkage (used by both models).
- ``_latent``: factor analysis and probabilistic PCA (the latent structure of observations).
- ``_fitted``: what both models share (covariance factor, equality).
"""

from skqg.wishart._estimator import WishartCovarianceModel

__all__ = ["WishartCovarianceModel"]
