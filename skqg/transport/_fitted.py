"""The fitted attributes of :class:`skqg.MongeAmpereTransport`, set together at the end of fit."""

import numpy as np

from skqg._validation import overflow_limit


def fitted_state(bmap, Y, name, cost, n_iter, moments, knots):
    """The fitted attributes, set together at the end of ``fit``; ``moments`` is
    ``(cov_x, cov_y, parts)`` with ``parts`` their ``GaussianParts``."""
    cov_x, cov_y, parts = moments
    return {
        "reference_samples_": Y,
        "dual_potential_": bmap.potential,
        "epsilon_": float(bmap.epsilon),
        "location_": bmap.x_centre,
        "reference_location_": bmap.y_centre,
        "linear_part_": bmap.linear,
        "transport_cost_": cost,
        "n_iter_": int(n_iter),
        # Fitted state read by the methods (set_params after fit must not leak in).
        "_fitted_reference": name,
        "_map_points": bmap.points,
        "_tail_root": bmap.tail_root,
        "_tail_radius": bmap.tail_radius,
        # Initial guess for inverse_transform: the inverse of the Gaussian (Bures) map; its
        # gain bounds the inputs whose images' squared norms stay finite.
        "_inverse_start": parts.bures_inverse,
        "_input_limit": overflow_limit(len(cov_x)) / max(parts.bures_gain, 1e-300),
        "_reference_spread": float(np.sqrt(np.trace(cov_y))),
        "_data_spread": float(np.sqrt(np.trace(cov_x))),
        "_knots": knots,
    }
