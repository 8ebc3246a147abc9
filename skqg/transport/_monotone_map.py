"""The one-dimensional exact Brenier map: a monotone piecewise-linear quantile composition.

In one dimension the optimal map for any convex cost is the monotone rearrangement
``T = F_t^{-1} o F_s``. With the empirical laws interpolated linearly between order statistics
(the convention of :class:`~sklearn.preprocessing.QuantileTransformer`), ``T`` is piecewise
linear through the knots ``(x_(i), F_t^{-1}((i - 1/2) / n))``, extended affinely beyond the
extreme knots with the end slopes. It is the gradient of a convex piecewise-quadratic potential,
and its inverse is the same interpolation read the other way.
"""

from typing import NamedTuple

import numpy as np


class MonotoneMap(NamedTuple):
    """Knots of a strictly increasing piecewise-linear map (float64, shape (k,))."""

    x: np.ndarray
    y: np.ndarray


def fit_monotone(x, y):
    """Knots of the quantile composition of two one-dimensional samples.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Source sample.
    y : ndarray of shape (m,)
        Target sample.

    Returns
    -------
    MonotoneMap
        Knots at the order statistics of both samples; tied source values are merged, so the
        knots are strictly increasing in ``x``; ``y`` is non-decreasing.
    """
    xs, ys = np.sort(x), np.sort(y)
    source_levels = (np.arange(len(xs)) + 0.5) / len(xs)
    target_levels = (np.arange(len(ys)) + 0.5) / len(ys)
    # Breakpoints of both interpolations, so the composition is exactly piecewise linear
    # between consecutive knots.
    levels = np.union1d(source_levels, target_levels)
    # Only where both interpolations are defined (np.interp would clamp outside): beyond the
    # outermost common level the map continues affinely.
    low = max(source_levels[0], target_levels[0])
    high = min(source_levels[-1], target_levels[-1])
    levels = levels[(levels >= low) & (levels <= high)]
    knots_x = np.interp(levels, source_levels, xs)
    knots_y = np.interp(levels, target_levels, ys)
    knots_x, first = np.unique(knots_x, return_index=True)
    # Tied source values share one knot; keep the middle of their targets.
    last = np.append(first[1:] - 1, len(levels) - 1)
    return MonotoneMap(knots_x, 0.5 * (knots_y[first] + knots_y[last]))


def _slopes(mmap):
    return np.diff(mmap.y) / np.diff(mmap.x)


def evaluate(mmap, x, *, value=False, gradient=False, log_det=False):
    """Potential, map and log-derivative at the points ``x`` (shape (n,)).

    Returns a dict with the requested keys, as :func:`skqg.transport._brenier_map.evaluate` does.
    """
    kx, ky = mmap.x, mmap.y
    out = {}
    if len(kx) == 1:
        # A single distinct value: the map is a translation to the target's median.
        slopes = np.array([1.0])
        segment = np.zeros(len(x), dtype=np.intp)
        left_x, left_y, slope = kx[segment], ky[segment], slopes[segment]
    else:
        slopes = _slopes(mmap)
        segment = np.clip(np.searchsorted(kx, x, side="right") - 1, 0, len(slopes) - 1)
        left_x, left_y, slope = kx[segment], ky[segment], slopes[segment]
        # Beyond the extreme knots: affine, with the secant slope over the outer sqrt(k) knots
        # (the last piece alone rests on two order statistics and is erratic).
        span = max(1, int(np.sqrt(len(kx))))
        low_slope = (ky[span] - ky[0]) / (kx[span] - kx[0])
        high_slope = (ky[-1] - ky[-1 - span]) / (kx[-1] - kx[-1 - span])
        below, above = x < kx[0], x > kx[-1]
        left_x = np.where(below, kx[0], np.where(above, kx[-1], left_x))
        left_y = np.where(below, ky[0], np.where(above, ky[-1], left_y))
        slope = np.where(below, low_slope, np.where(above, high_slope, slope))
    if gradient:
        out["gradient"] = left_y + slope * (x - left_x)
    if log_det:
        with np.errstate(divide="ignore"):
            out["log_det"] = np.log(slope)
    if value:
        # phi(x_k) accumulates the trapezoids of T between the knots.
        cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (ky[1:] + ky[:-1]) * np.diff(kx))])
        step = x - left_x
        start = np.where(x > kx[-1], len(kx) - 1, segment)
        out["value"] = cumulative[start] + left_y * step + 0.5 * slope * step**2
    return out


def inverse(mmap, y):
    """The preimages of the points ``y`` under the map (the map read backwards)."""
    swapped = MonotoneMap(*_strictly_increasing(mmap.y, mmap.x))
    return evaluate(swapped, y, gradient=True)["gradient"]


def _strictly_increasing(a, b):
    """Drop flat pieces (equal consecutive ``a``) so that ``a`` can serve as knots."""
    keep = np.concatenate([[True], np.diff(a) > 0])
    return a[keep], b[keep]
