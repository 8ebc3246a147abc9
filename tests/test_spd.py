"""The batched SPD kernels and validation shared by skqg.cone, skqg.stats and the Wishart model."""

import numpy as np
import pytest
from scipy import linalg

from skqg import _spd, _validation
from skqg._kernels import spd_linalg as kernels
from skqg._parallel import numba_threads


def _stack(n, p, seed=0, samples=None):
    rng = np.random.default_rng(seed)
    samples = 3 * p if samples is None else samples
    X = rng.normal(size=(n, samples, p)) @ rng.normal(size=(p, p))
    return np.ascontiguousarray(np.einsum("nti,ntj->nij", X, X) / samples)


def _twins(name):
    return getattr(kernels, f"_{name}_serial"), getattr(kernels, f"_{name}_parallel")


def test_cholesky_kernel_matches_lapack_and_flags_failures():
    S = _stack(50, 6)
    S[7] = np.diag([1.0, 2.0, -1.0, 1.0, 1.0, 1.0])
    factors, pivots, logdets = kernels.cholesky(S)
    good = np.ones(len(S), bool)
    good[7] = False
    np.testing.assert_allclose(factors[good], np.linalg.cholesky(S[good]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(logdets[good], np.linalg.slogdet(S[good])[1], rtol=1e-12)
    assert pivots[7] <= 0 and logdets[7] == -np.inf
    assert (pivots[good] > 0).all()


def test_spectral_functions_match_scipy():
    S = _stack(5, 5)
    for code, reference, exponent in [
        (kernels.LOG, linalg.logm, 1.0),
        (kernels.POWER, linalg.sqrtm, 0.5),
        (kernels.POWER, lambda a: np.linalg.inv(linalg.sqrtm(a)), -0.5),
    ]:
        out, eigenvalues = _spd.spectral(S, code, exponent)
        for matrix, result, values in zip(S, out, eigenvalues, strict=True):
            np.testing.assert_allclose(result, reference(matrix).real, rtol=1e-9, atol=1e-11)
            np.testing.assert_allclose(values, np.linalg.eigvalsh(matrix), rtol=1e-12)
    np.testing.assert_allclose(_spd.expm(_spd.logm(S)), S, rtol=1e-10)


@pytest.mark.parametrize("name", ["cholesky", "spectral", "log_vech", "symmetrise"])
def test_serial_and_parallel_twins_agree_bit_for_bit(name):
    # Each matrix is handled by one thread with the same operations, so thread count and
    # the serial/parallel choice cannot change a result.
    S = _stack(64, 7, seed=1)
    serial, parallel = _twins(name)
    n, p = S.shape[0], S.shape[1]
    m = p * (p + 1) // 2
    left = np.ascontiguousarray(np.linalg.inv(np.linalg.cholesky(S.mean(axis=0))))
    outputs = {
        "cholesky": lambda: (np.empty((n, p, p)), np.empty(n), np.empty(n)),
        "spectral": lambda: (np.empty((n, p, p)), np.empty((n, p))),
        "log_vech": lambda: (np.empty((n, m)), np.empty((n, p))),
        "symmetrise": lambda: (np.empty((n, p, p)), np.empty(n), np.empty(n)),
    }
    arguments = {
        "cholesky": (S,),
        "spectral": (S, kernels.LOG, 1.0),
        "log_vech": (S, left, _spd.SQRT2),
        "symmetrise": (S,),
    }
    results = []
    for kernel, threads in [(serial, 1), (parallel, 1), (parallel, 2)]:
        out = outputs[name]()
        with numba_threads(threads), _spd.one_blas_thread():
            kernel(*arguments[name], *out)
        results.append(out)
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            assert np.array_equal(a, b, equal_nan=True)


def test_whitened_log_vectors_round_trip_and_match_scipy():
    S = _stack(20, 4, seed=2)
    C = S.mean(axis=0)
    root = np.ascontiguousarray(linalg.sqrtm(C).real)
    left = np.ascontiguousarray(np.linalg.inv(root))
    with _spd.one_blas_thread():
        vectors, _ = kernels.whitened_log_vectors(S, left, _spd.SQRT2)
        back = kernels.colored_exp_matrices(vectors, root, _spd.SQRT2)
    np.testing.assert_allclose(back, S, rtol=1e-10, atol=1e-12)
    expected = _spd.vech(np.stack([linalg.logm(left @ s @ left).real for s in S]))
    np.testing.assert_allclose(vectors, expected, rtol=1e-9, atol=1e-11)


def test_vech_is_an_isometry_and_unvech_inverts_it():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(6, 5, 5))
    A = A + np.swapaxes(A, 1, 2)
    v = _spd.vech(A)
    assert v.shape == (6, 15)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), np.linalg.norm(A, axis=(1, 2)))
    np.testing.assert_allclose(_spd.unvech(v), A, rtol=1e-15, atol=1e-15)
    with pytest.raises(ValueError, match="p \\* \\(p \\+ 1\\) / 2"):
        _spd.unvech(np.ones(7))


def test_check_spd_reports_rank_negative_eigenvalues_and_symmetry():
    rank_deficient = _stack(3, 8, samples=4)
    with pytest.raises(ValueError, match=r"X\[0\] is not positive definite: rank 4 of 8"):
        _validation.check_spd(rank_deficient)
    indefinite = np.diag([1.0, -2.0, 3.0])
    message = "C is not positive definite: rank 3 of 3, 1 negative eigenvalue, smallest eigen"
    with pytest.raises(ValueError, match=message):
        _validation.check_spd(indefinite, "C")
    asymmetric = np.eye(3)
    asymmetric[0, 1] = 1e-3
    with pytest.raises(ValueError, match="symmetric"):
        _validation.check_spd(asymmetric)
    with pytest.raises(ValueError, match="NaN or infinity"):
        _validation.check_spd(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="real numbers"):
        _validation.check_spd(np.eye(2, dtype=complex))
    checked, single = _validation.check_spd(rank_deficient, allow_singular=True)
    assert checked.singular.all() and not single


def test_float32_rounding_decides_rank_for_float32_input():
    # A rank-4 covariance computed in float32 has rounding-level eigenvalues of ~1e-7 relative;
    # judged with float64 epsilon it would look full rank and indefinite.
    S = _stack(1, 8, samples=4, seed=4).astype(np.float32)
    checked, _ = _validation.check_spd(S, allow_singular=True)
    assert checked.singular.all()
    eigenvalues = np.linalg.eigvalsh(S.astype(np.float64))
    assert _spd.numerical_rank(eigenvalues, _spd.rounding_eps(np.float32))[0] == 4
