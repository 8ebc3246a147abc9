"""Kaufman's exact solution of the Ising model on a finite periodic square lattice.

The partition function of the ``L x L`` torus (Kaufman 1949, in the form of Beale 1996) is

    Z = 1/2 (2 sinh 2K)^(L^2/2) (Z1 + Z2 + Z3 + Z4),
    Z1 = prod_{k odd} 2 cosh(L g_k / 2),    Z2 = prod_{k odd} 2 sinh(L g_k / 2),
    Z3 = prod_{k even} 2 cosh(L g_k / 2),   Z4 = prod_{k even} 2 sinh(L g_k / 2),

with ``k`` in ``0 .. 2L - 1``, ``K = J / T``, ``cosh g_k = cosh 2K coth 2K - cos(pi k / L)``
and the signed ``g_0 = 2K + ln tanh K`` (negative above T_c, which makes ``Z4`` negative).
Everything is evaluated in log space, and the energy is the analytic derivative
``E / N = -J d ln Z / dK / N`` (no finite differences), vectorised over ``K``.

Public access is through :func:`skqg.rg.exact_ising_energy` and :func:`skqg.rg.ising_temperature`.
"""

import numpy as np

from skqg._validation import check_positive_values

#: Above this K = J / T, exp(-4K) underflows and the energy is the ground state's to double
#: precision; K is capped there so that sinh 2K cannot overflow.
_LARGEST_COUPLING_K = 300.0


def _log_two_sinh(x):
    """log(2 sinh x) for x >= 0 (-inf at 0), without overflow."""
    x = np.asarray(x, dtype=np.float64)
    small = x < 20.0
    with np.errstate(divide="ignore"):
        return np.where(
            small,
            np.log(2.0 * np.sinh(np.where(small, x, 0.0))),
            x + np.log1p(-np.exp(-2.0 * x)),
        )


def _log_two_cosh(x):
    """log(2 cosh x), without overflow."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    return x + np.log1p(np.exp(-2.0 * x))


def _spectrum(size, coupling_k):
    """The angles ``g_k`` and their derivatives ``dg_k / dK``, shape (n_K, 2 * size)."""
    k = np.asarray(coupling_k, dtype=np.float64)[:, None]
    two_k = 2.0 * k
    sinh_2k = np.sinh(two_k)
    # cosh g_k - 1 = (sinh 2K - 1)^2 / sinh 2K + 2 sin^2(pi k / 2L), written without cancellation
    # so that the small g_k near T_c keep their precision.
    half_angles = np.pi * np.arange(2 * size) / (2 * size)
    excess = (sinh_2k - 2.0 + 1.0 / sinh_2k) + 2.0 * np.sin(half_angles) ** 2
    root = np.sqrt(excess) * np.sqrt(excess + 2.0)  # sinh g_k
    gamma = np.log1p(excess + root)
    # d(cosh g_k) / dK = 2 cosh 2K (1 - 1 / sinh^2 2K), divided by sinh g_k.
    with np.errstate(divide="ignore", invalid="ignore"):
        derivative = 2.0 * (sinh_2k - 1.0 / sinh_2k) / np.tanh(two_k) / root
    gamma[:, 0] = (two_k + np.log(np.tanh(k)))[:, 0]
    derivative[:, 0] = (2.0 + 2.0 / sinh_2k)[:, 0]
    return gamma, derivative


def _clipped_coupling(coupling_k):
    """``K`` checked (finite, > 0) and clipped where the spectrum no longer changes."""
    k = check_positive_values("K = J / T", coupling_k)
    return np.minimum(k, _LARGEST_COUPLING_K)


def log_partition(size, coupling_k):
    """ln Z of the periodic ``size x size`` lattice at ``K = J / T > 0`` (array-valued in K)."""
    k = _clipped_coupling(coupling_k)
    shape = k.shape
    gamma, _ = _spectrum(size, k.ravel())
    half = 0.5 * size * gamma
    odd, even = half[:, 1::2], half[:, 0::2]
    log_terms = np.stack(
        [
            _log_two_cosh(odd).sum(axis=1),
            _log_two_sinh(odd).sum(axis=1),
            _log_two_cosh(even).sum(axis=1),
            _log_two_sinh(np.abs(even)).sum(axis=1),
        ]
    )
    signs = np.ones_like(log_terms)
    signs[3] = np.sign(even[:, 0])
    top = log_terms.max(axis=0)
    total = np.sum(signs * np.exp(log_terms - top), axis=0)
    two_k = 2.0 * k.ravel()
    result = -np.log(2.0) + 0.5 * size * size * _log_two_sinh(two_k) + top + np.log(total)
    return result.reshape(shape)


def energy_per_site(size, coupling_k):
    """``-(1/N) d ln Z / dK`` of the periodic ``size x size`` lattice: E / (N J) at K = J / T."""
    k = _clipped_coupling(coupling_k)
    shape = k.shape
    gamma, d_gamma = _spectrum(size, k.ravel())
    half = 0.5 * size * gamma  # the arguments x_k = L g_k / 2
    d_half = 0.5 * size * d_gamma
    odd, even = slice(1, None, 2), slice(0, None, 2)
    rest = slice(2, None, 2)  # even k without k = 0, whose sinh factor vanishes at T_c

    with np.errstate(divide="ignore"):
        log_cosh_odd = _log_two_cosh(half[:, odd]).sum(axis=1)
        log_sinh_odd = _log_two_sinh(half[:, odd]).sum(axis=1)
        log_cosh_even = _log_two_cosh(half[:, even]).sum(axis=1)
        log_sinh_rest = _log_two_sinh(half[:, rest]).sum(axis=1)
        x0 = half[:, 0]
        log_sinh_x0 = _log_two_sinh(np.abs(x0))
        log_cosh_x0 = _log_two_cosh(x0)

    # d ln|Z_i| / dK for the products whose factors never vanish.
    slope_cosh_odd = np.sum(d_half[:, odd] * np.tanh(half[:, odd]), axis=1)
    slope_sinh_odd = np.sum(d_half[:, odd] / np.tanh(half[:, odd]), axis=1)
    slope_cosh_even = np.sum(d_half[:, even] * np.tanh(half[:, even]), axis=1)
    slope_sinh_rest = np.sum(d_half[:, rest] / np.tanh(half[:, rest]), axis=1)

    # Z4 = R * 2 sinh(x0) with R = prod over the rest; dZ4 = R (2 cosh(x0) x0' + 2 sinh(x0) R'/R).
    log_z4_bound = log_sinh_rest + log_cosh_x0  # >= ln|Z4|
    top = np.maximum.reduce([log_cosh_odd, log_sinh_odd, log_cosh_even, log_z4_bound])
    w1 = np.exp(log_cosh_odd - top)
    w2 = np.exp(log_sinh_odd - top)
    w3 = np.exp(log_cosh_even - top)
    w4 = np.sign(x0) * np.exp(log_sinh_rest + log_sinh_x0 - top)  # Z4, scaled
    w4_cosh = np.exp(log_z4_bound - top)  # R * 2 cosh(x0), scaled
    numerator = (
        w1 * slope_cosh_odd
        + w2 * slope_sinh_odd
        + w3 * slope_cosh_even
        + w4_cosh * d_half[:, 0]
        + w4 * slope_sinh_rest
    )
    denominator = w1 + w2 + w3 + w4
    two_k = 2.0 * k.ravel()
    d_log_z = size * size / np.tanh(two_k) + numerator / denominator
    return (-d_log_z / (size * size)).reshape(shape)
