"""Exact optimal transport between the data and the reference sample (POT's network simplex)."""

import numpy as np
import ot

from skqg.transport._sinkhorn import common_unit


def exact_potential(Xc, Yc):
    """Exact OT by POT's network simplex: the target dual potential (inner-product form).

    The plan maximises ``sum P <x, y>``, so it is solved in units where the data have the
    reference's spread (a power of two, :func:`~skqg.transport._sinkhorn.common_unit`): the
    costs then do not lose the cross term to ``|x|^2`` at extreme scales, and the potential is
    scaled back.
    """
    n, m = len(Xc), len(Yc)
    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    unit = common_unit(float(np.einsum("ij,ij->", Xc, Xc)) / max(n, 1), Yc)
    cost = ot.dist(Xc / unit, Yc)
    plan, log = ot.emd(a, b, cost, numItermax=max(100_000, 50 * n * m), log=True)
    if log.get("result_code", 1) != 1:
        raise ValueError(
            f"The network simplex did not reach the optimum ({log.get('warning')}); "
            "use solver='sinkhorn'."
        )
    total = float(np.sum(plan * ot.dist(Xc, Yc)))
    v = np.asarray(log["v"], dtype=np.float64)
    return unit * (v - np.einsum("ij,ij->i", Yc, Yc)), total


def uncentred_cost(centred_cost, x_centre, y_centre, y_mean):
    """The exact cost of the uncentred clouds from that of the clouds centred at the means used.

    Shifting the clouds by ``c = x_centre - y_centre`` leaves the plan unchanged; with
    ``D = x - y`` and ``sum P D = mean_x - mean_y``,
    ``sum P |D - c|^2 = cost - 2 <mean_x - mean_y, c> + |c|^2``.
    """
    shift = x_centre - y_centre
    return centred_cost + float(2.0 * (x_centre - y_mean) @ shift - shift @ shift)
