"""What the two fitted models of :class:`skqg.WishartCovarianceModel` share.

The Cholesky factor ``L`` of a fitted covariance ``C = L L^T`` with its log-determinant and
``C^{-1}``, and equality of fitted models by their arrays.
"""

import numpy as np
from scipy.linalg import cho_solve

from skqg import _validation

SINGULAR_COVARIANCE_HINT = (
    "With fewer samples than features use shrinkage='auto', 'evidence', 'qis', 'oas', "
    "'ledoit-wolf' or a float instead of None."
)


def covariance_factor(covariance, what):
    """Cholesky factor, log-determinant and inverse of a fitted covariance, or a ValueError."""
    checked, _ = _validation.check_spd(covariance, what, hint=SINGULAR_COVARIANCE_HINT)
    factor = checked.factors[0]
    precision = cho_solve((factor, True), np.eye(len(covariance)))
    return factor, float(checked.logdets[0]), precision


def _same(a, b):
    """Exact equality of fitted state: arrays by dtype and value, containers item by item."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


class FittedModel:
    """Base of the two models: equal when their fitted state is (so copies compare equal)."""

    __hash__ = None

    def __eq__(self, other):
        """Whether ``other`` is a model of the same kind with the same fitted arrays."""
        if type(other) is not type(self):
            return NotImplemented
        return _same(vars(self), vars(other))
