"""Branch-free exponentials that LLVM vectorises (Numba has no vector math library here).

``np.exp`` in a Numba loop is a scalar library call; these are straight-line code (the clamps
are selects), so a loop over them runs in SIMD lanes. Used by the entropic-map kernels and the
RBM samplers.
"""

import numpy as np
from numba import njit

# Fast-math for the arithmetic leaves only (fused multiply-adds): never nnan/ninf.
CONTRACT = {"contract"}
# fast_exp: log2(e), ln 2 split for Cody-Waite reduction (fdlibm's constants), input clamps.
LOG2E = 1.4426950408889634
LN2_HIGH = 6.93147180369123816490e-01
LN2_LOW = 1.90821492927058770002e-10
# fast_exp32: the same in float32 (Cody-Waite split of ln 2 with 16 high bits), the Taylor
# coefficients 1 / k!, k <= 7, and the window of trusted shifted sums.
LOG2E_32 = np.float32(LOG2E)
LN2_HIGH_32 = np.float32(0.693145751953125)
LN2_LOW_32 = np.float32(1.428606765330187e-06)
EXP32_POLY = tuple(np.float32(1.0 / np.prod(np.arange(1.0, k + 1.0))) for k in range(8))
EXP32_LOWEST = np.float32(-88.0)
EXP32_HIGHEST = np.float32(88.0)
# Coefficients of 1, r, ..., r^11 approximating e^r on |r| <= ln(2) / 2 (a near-minimax fit in
# relative error, 2.5e-17; the Taylor coefficients 1 / k! to about 1e-8 relative).
EXP_POLY = (
    1.0,
    1.0,
    0.5000000000000018,
    0.16666666666666174,
    0.04166666666649384,
    0.00833333333355883,
    0.0013888888950983592,
    0.00019841269431351055,
    2.4801486742091702e-05,
    2.755762487483973e-06,
    2.7632222525688095e-07,
    2.499332628863184e-08,
)
EXP_LOWEST = -746.0
EXP_HIGHEST = 710.0


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def fast_exp(x):
    """``exp(x)`` without a branch or a library call, so that loops over it vectorise.

    Cody-Waite reduction ``x = k ln 2 + r`` with ``|r| <= ln(2) / 2`` (``ln 2`` split in a
    high part exact in 32 bits and a low part), a degree-11 polynomial fit of ``e^r`` (relative
    approximation error 2.5e-17) by Horner's rule, and ``2^k`` built from its exponent bits.
    Relative error at most 1 ulp (2.2e-16) against ``np.exp`` on ``[-708.05, 709.78]``
    (tests/test_sinkhorn_speed.py). Below -708.05 the result is exactly 0 (the true values are
    under 3.2e-308: subnormals, whose arithmetic is slow, are flushed); above 709.78 it is
    ``inf``; a NaN stays NaN.
    """
    # Clamps written so that a NaN passes through them.
    if x < EXP_LOWEST:
        x = EXP_LOWEST
    if x > EXP_HIGHEST:
        x = EXP_HIGHEST
    k = np.rint(x * LOG2E)
    r = (x - k * LN2_HIGH) - k * LN2_LOW
    p = EXP_POLY[11]
    for c in EXP_POLY[10::-1]:
        p = p * r + c
    # An integer from NaN is undefined: take k = 0 there (p is NaN anyway).
    ki = np.int64(k if k == k else 0.0)
    # 2^k from its exponent bits, normal for k in [-1022, 1023]; for k = 1024 (the results
    # just below the overflow threshold) the scale is 2^(k - 1) and the product is doubled.
    top = ki > 1023
    scale = np.int64((ki - top + 1023) << 52).view(np.float64)
    y = p * scale
    y = y + y if top else y
    return y if ki >= -1021 else p * 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def fast_exp_array(x, out):
    """``out[i] = fast_exp(x[i])`` (a vectorised loop; for tests and benchmarks)."""
    for i in range(x.shape[0]):
        out[i] = fast_exp(x[i])


@njit(cache=True, nogil=True, error_model="numpy")
def fast_exp32_array(x, out):
    """``out[i] = fast_exp32(x[i])`` over float32 arrays (for tests and benchmarks)."""
    for i in range(x.shape[0]):
        out[i] = fast_exp32(x[i])


@njit(cache=True, inline="always", error_model="numpy", fastmath=CONTRACT)
def fast_exp32(x):
    """``exp(x)`` of a float32, as :func:`fast_exp` (degree-7 Taylor polynomial).

    Relative error below 1.2e-7 on ``[-86.9, 0]``; exactly 0 below -87.0 (no subnormals), and
    at most ``e^88`` (inputs are meant to be at most a few tens).
    """
    if x < EXP32_LOWEST:
        x = EXP32_LOWEST
    if x > EXP32_HIGHEST:
        x = EXP32_HIGHEST
    k = np.rint(x * LOG2E_32)
    r = (x - k * LN2_HIGH_32) - k * LN2_LOW_32
    p = EXP32_POLY[7]
    for c in EXP32_POLY[6::-1]:
        p = p * r + c
    ki = np.int32(k if k == k else np.float32(0.0))
    scale = np.int32((ki + 127) << 23).view(np.float32)
    return p * scale if ki >= -125 else p * np.float32(0.0)
