"""The default entropic regularisation of :class:`MongeAmpereTransport`, and the covariances it
is computed from."""

import numpy as np
from scipy.special import gammaln

from skqg._validation import check_covariance_matrix, check_int


def auto_epsilon(cov_x, cov_y, n_samples, n_reference, n_features):
    """The default regularisation, in units of the data's and the reference's scales.

    ``epsilon = 2 s_x s_y max(k^(-2 / (d + 4)), 2 Gamma(1 + d/2)^(2/d) m^(-2/d))`` with
    ``s_x^2``, ``s_y^2`` the mean variances of the data and of the reference, ``m`` the number
    of reference points and ``k = min(n_samples, m)`` (the map cannot resolve more than its
    reference sample does). The first term is the kernel-bandwidth rate of
    density estimation (Silverman's ``h^2``); the second is the mean squared nearest-neighbour
    distance of ``m`` standard Gaussian points, below which the discrete entropic plan no
    longer resolves the continuous one (it dominates from about ``d = 5``). The product
    ``s_x s_y`` makes the map invariant to translating and scaling the data.

    Parameters
    ----------
    cov_x, cov_y : ndarray of shape (d, d)
        Covariances of the data and of the reference.
    n_samples, n_reference, n_features : int

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a covariance is not a finite, symmetric positive semi-definite real matrix of shape
        ``(n_features, n_features)`` with a positive trace, or a count is not a positive integer.

    Examples
    --------
    Standard Gaussian data and reference in two dimensions, 1000 points each: the
    bandwidth term ``1000 ** (-1/3) = 0.1`` dominates the spacing term, so ``epsilon = 0.2``.

    >>> import numpy as np
    >>> from skqg.transport import auto_epsilon
    >>> round(auto_epsilon(np.eye(2), np.eye(2), 1000, 1000, 2), 6)
    0.2
    """
    d = check_int("n_features", n_features, 1)
    n_samples = check_int("n_samples", n_samples, 1)
    n_reference = check_int("n_reference", n_reference, 1)
    cov_x = check_covariance_matrix(cov_x, "cov_x", d)
    cov_y = check_covariance_matrix(cov_y, "cov_y", d)
    scale = np.sqrt(np.trace(cov_x) / d * np.trace(cov_y) / d)
    # The map cannot resolve more than its reference sample does.
    bandwidth = min(n_samples, n_reference) ** (-2.0 / (d + 4.0))
    spacing = 2.0 * np.exp(2.0 / d * gammaln(1.0 + 0.5 * d)) * n_reference ** (-2.0 / d)
    return float(2.0 * scale * max(bandwidth, spacing))
