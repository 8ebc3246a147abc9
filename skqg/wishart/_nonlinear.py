"""Nonlinear shrinkage of a sample covariance's eigenvalues (Ledoit & Wolf 2020 and 2022).

Both estimators keep the sample eigenvectors ``U`` and replace each sample eigenvalue
``lambda_i`` of ``S = A / n`` (``n`` the effective sample size) by an estimate of the oracle
``u_i^T Sigma u_i``, the best value for Frobenius, inverse-Stein, Gaussian-likelihood and
minimum-variance losses alike. With ``c = p / n``, ``m = min(p, n)`` and ``lambda`` the ``m``
largest eigenvalues (the others are zero when ``p > n``):

* ``analytical_shrinkage``, Ledoit & Wolf (2020), *Annals of Statistics* 48(5), eqs. (4.3),
  (5.2)-(5.4), (C.4)-(C.8): an Epanechnikov kernel estimate ``f`` of the limiting spectral
  density and its Hilbert transform ``Hf`` with locally adaptive bandwidths
  ``h lambda_j``, ``h = n^(-1/3)``; then
  ``d_i = lambda_i / ((pi c lambda_i f_i)^2 + (1 - c - pi c lambda_i Hf_i)^2)`` for ``p <= n``,
  ``d_i = 1 / (pi^2 lambda_i (f_i^2 + Hf_i^2))`` and one value ``d_0`` for the ``p - n`` null
  eigenvalues when ``p > n``.
* ``quadratic_inverse_shrinkage`` (QIS), Ledoit & Wolf (2022), *Bernoulli* 28(3): with
  ``x = 1 / lambda`` and ``h = min(c^2, c^-2)^0.35 / p^0.35``, the smoothed Stein shrinker
  ``theta_i = mean_j x_j (x_j - x_i) / ((x_j - x_i)^2 + h^2 x_j^2)`` and its conjugate
  ``H_i = mean_j h x_j^2 / ((x_j - x_i)^2 + h^2 x_j^2)``, ``A_i = theta_i^2 + H_i^2``;
  ``d_i = 1 / ((1 - c)^2 x_i + 2 c (1 - c) x_i theta_i + c^2 x_i A_i)`` for ``p <= n``,
  ``d_i = 1 / (x_i A_i)`` and ``d_0 = 1 / ((c - 1) mean(x))`` when ``p > n``; finally the
  ``d`` are rescaled to the trace of ``S``.

The eigendecomposition is the symmetric one (``numpy.linalg.eigh``): a general eigensolver, as in
the authors' published Python QIS, returns non-orthogonal eigenvectors when ``p > n`` (the null
eigenvalues are degenerate) and the estimate is then wrong. Work: one ``p x p`` eigendecomposition
and a few ``m x m`` arrays.
"""

import numpy as np
from sklearn.isotonic import isotonic_regression

# The analytical estimator's Hilbert transform at the null eigenvalue needs sqrt(5) h < 1,
# i.e. n > 11.2 (the authors' code asserts n >= 12).
MIN_ANALYTICAL_SAMPLES = 12
_SQRT5 = np.sqrt(5.0)
# epanechnikov_hilbert: the series beyond |x| = 10 (ratio u^2 <= 0.05, so 12 terms reach 1e-16).
_SERIES_FROM = 10.0
_SERIES_TERMS = 12


def nonnull_eigenvalues(eigenvalues, n, what):
    """The ``min(p, n)`` largest of ascending sample eigenvalues, or a ValueError on a rank deficit.

    Nonlinear shrinkage divides by every non-null eigenvalue; zeros beyond the ``p - n`` that
    ``p > n`` implies mean collinear or constant columns, which it cannot handle.
    """
    p = len(eigenvalues)
    m = min(p, n)
    kept = eigenvalues[p - m :]
    largest = eigenvalues[-1]
    if not largest > 0.0:
        raise ValueError(
            f"shrinkage={what!r}: the observations have zero variance in every direction; the "
            "covariance cannot be estimated. Check that X is not constant."
        )
    tiny = kept <= largest * p * np.finfo(np.float64).eps
    if tiny.any():
        rank = m - int(tiny.sum())
        raise ValueError(
            f"shrinkage={what!r} needs the sample covariance to have rank min(n_features, "
            f"effective samples) = {m}, but its rank is {rank}: some columns are constant or "
            "linear combinations of others. Remove them, or use shrinkage='evidence', which "
            "handles any rank."
        )
    return kept


def epanechnikov_hilbert(x):
    """The Hilbert transform ``(1/pi) PV int K(t) / (t - x) dt`` of the Epanechnikov kernel
    ``K(t) = 3 / (4 sqrt 5) (1 - t^2 / 5)`` on ``|t| <= sqrt 5``, elementwise.

    The closed form ``-3 x / (10 pi) + 3 / (4 sqrt5 pi) (1 - x^2/5) log|(sqrt5 - x)/(sqrt5 + x)|``
    (Ledoit & Wolf 2020, eq. 5.3) is a difference of two terms of size ``x`` whose sum is about
    ``-1 / (pi x)``: its relative error grows like ``x^3`` (6e-6 at ``x = 1e4``, 1e-3 at
    ``1e5``; an ill-conditioned spectrum reaches such ``x = (lambda_i - lambda_j) / (h
    lambda_j)``). Beyond ``|x| = 10`` the cancelled series is summed
    instead: ``-3 / (sqrt5 pi) sum_k u^(2k+1) / ((2k+1)(2k+3))``, ``u = sqrt5 / x``.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    far = np.abs(x) > _SERIES_FROM
    near = x[~far]
    # At |x| = sqrt(5), the kernel's edge, the log term's factor (1 - x^2/5) is zero.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = (1.0 - near**2 / 5.0) * np.log(np.abs((_SQRT5 - near) / (_SQRT5 + near)))
    log_term[np.abs(near) == _SQRT5] = 0.0
    out[~far] = -3.0 / (10.0 * np.pi) * near + 3.0 / (4.0 * _SQRT5 * np.pi) * log_term
    u = _SQRT5 / x[far]
    u2 = u * u
    series = np.full_like(u, 1.0 / ((2 * _SERIES_TERMS - 1) * (2 * _SERIES_TERMS + 1)))
    for k in range(_SERIES_TERMS - 2, -1, -1):  # Horner in u^2
        series *= u2
        series += 1.0 / ((2 * k + 1) * (2 * k + 3))
    out[far] = -3.0 / (_SQRT5 * np.pi) * u * series
    return out


def analytical_shrinkage(eigenvalues, n):
    """Ledoit-Wolf (2020) analytical nonlinear shrinkage of ascending sample eigenvalues.

    Parameters
    ----------
    eigenvalues : ndarray of shape (p,)
        Eigenvalues of the sample covariance ``A / n``, ascending.
    n : int
        Effective sample size (``n_samples - 1`` when the mean was estimated).

    Returns
    -------
    ndarray of shape (p,)
        The shrunk eigenvalues, in the same order.
    """
    p = len(eigenvalues)
    if n < MIN_ANALYTICAL_SAMPLES:
        raise ValueError(
            f"shrinkage='nonlinear' needs at least {MIN_ANALYTICAL_SAMPLES} effective samples "
            f"(n_samples - 1 when the mean is estimated); got {n}. Use shrinkage='qis' or "
            "'evidence' for smaller samples."
        )
    lam = nonnull_eigenvalues(eigenvalues, n, "nonlinear")
    c = p / n
    h = n ** (-1.0 / 3.0)
    # Row i, column j: the kernel of bandwidth h lambda_j centred at lambda_j, read at lambda_i.
    width = h * lam[np.newaxis, :]
    x = (lam[:, np.newaxis] - lam[np.newaxis, :]) / width
    density = np.mean(np.maximum(1.0 - x**2 / 5.0, 0.0) / width, axis=1) * 3.0 / (4.0 * _SQRT5)
    hilbert = np.mean(epanechnikov_hilbert(x) / width, axis=1)
    if p <= n:
        return lam / ((np.pi * c * lam * density) ** 2 + (1.0 - c - np.pi * c * lam * hilbert) ** 2)
    # The Hilbert transform of the density at zero (eq. C.8), for the null eigenvalues.
    edge = np.log((1.0 + _SQRT5 * h) / (1.0 - _SQRT5 * h))
    kernel_at_zero = 3.0 / (10.0 * h**2) + 3.0 / (4.0 * _SQRT5 * h) * (1.0 - 0.2 / h**2) * edge
    at_zero = kernel_at_zero * np.mean(1.0 / lam) / np.pi
    null = 1.0 / (np.pi * (p - n) / n * at_zero)
    nonnull = lam / (np.pi**2 * lam**2 * (density**2 + hilbert**2))
    return np.concatenate([np.full(p - n, null), nonnull])


def quadratic_inverse_shrinkage(eigenvalues, n):
    """Ledoit-Wolf (2022) quadratic-inverse shrinkage (QIS) of ascending sample eigenvalues.

    Parameters
    ----------
    eigenvalues : ndarray of shape (p,)
        Eigenvalues of the sample covariance ``A / n``, ascending.
    n : int
        Effective sample size (``n_samples - 1`` when the mean was estimated).

    Returns
    -------
    ndarray of shape (p,)
        The shrunk eigenvalues, in the same order; their sum is the sample covariance's trace.
    """
    p = len(eigenvalues)
    lam = nonnull_eigenvalues(eigenvalues, n, "qis")
    c = p / n
    h = min(c**2, 1.0 / c**2) ** 0.35 / p**0.35
    inverse = 1.0 / lam
    # Row i, column j.
    gap = inverse[np.newaxis, :] - inverse[:, np.newaxis]
    denominator = gap**2 + (h * inverse[np.newaxis, :]) ** 2
    theta = np.mean(inverse[np.newaxis, :] * gap / denominator, axis=1)
    conjugate = np.mean(h * inverse[np.newaxis, :] ** 2 / denominator, axis=1)
    amplitude = theta**2 + conjugate**2
    if p <= n:
        shrunk = 1.0 / (
            (1.0 - c) ** 2 * inverse
            + 2.0 * c * (1.0 - c) * inverse * theta
            + c**2 * inverse * amplitude
        )
    else:
        null = 1.0 / ((c - 1.0) * np.mean(inverse))
        shrunk = np.concatenate([np.full(p - n, null), 1.0 / (inverse * amplitude)])
    return shrunk * (np.sum(eigenvalues) / np.sum(shrunk))


SHRINKERS = {"nonlinear": analytical_shrinkage, "qis": quadratic_inverse_shrinkage}


def nonlinear_covariance(scatter, n, rule):
    """The covariance ``U diag(d) U^T`` of a scatter matrix under a nonlinear shrinkage ``rule``.

    Parameters
    ----------
    scatter : ndarray of shape (p, p)
        ``sum (x - m)(x - m)^T``.
    n : int
        Its effective sample size.
    rule : {"nonlinear", "qis"}

    Returns
    -------
    covariance : ndarray of shape (p, p)
    spectrum : tuple of ndarray
        ``(d, U)``: the shrunk eigenvalues (in the order of the ascending sample eigenvalues)
        and the sample eigenvectors.
    """
    eigenvalues, eigenvectors = symmetric_eigen(scatter / n)
    shrunk = SHRINKERS[rule](eigenvalues, n)
    return from_spectrum(shrunk, eigenvectors), (shrunk, eigenvectors)


def symmetric_eigen(matrix):
    """Eigenvalues (ascending, negatives from round-off set to zero) and orthonormal
    eigenvectors of a finite symmetric positive semi-definite matrix (LAPACK's symmetric divide
    and conquer through NumPy, never a general eigensolver)."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return np.maximum(eigenvalues, 0.0), eigenvectors


def from_spectrum(eigenvalues, eigenvectors):
    """``U diag(d) U^T`` for ``d >= 0``, as ``B B^T`` with ``B = U diag(sqrt d)``: NumPy runs a
    product with its own transpose as one symmetric rank-k update (half the multiply-adds of a
    general product, and an exactly symmetric result)."""
    root = eigenvectors * np.sqrt(eigenvalues)
    return root @ root.T


def sphericity_statistic(eigenvalues, n):
    """John's sphericity statistic, standardised: about N(0, 1) when ``Sigma`` is a multiple of
    the identity, for ``p`` and ``n`` large in any ratio (Ledoit & Wolf 2002, Annals of
    Statistics 30(4)).

    ``U = p tr(S^2) / tr(S)^2 - 1`` and ``(n U - p - 1) / 2``, from the sample eigenvalues.
    """
    p = len(eigenvalues)
    relative = eigenvalues / np.mean(eigenvalues)  # scale-free: no overflow of the squares
    dispersion = np.mean(relative**2) - 1.0
    return (n * dispersion - p - 1.0) / 2.0


def monotone_analytical_shrinkage(eigenvalues, n):
    """:func:`analytical_shrinkage` projected onto non-decreasing sequences (in log scale).

    The oracle ``u_i^T Sigma u_i`` it estimates increases with the sample eigenvalue in the
    large-dimensional limit; the kernel estimate's noise breaks that order, and restoring it by
    isotonic regression of ``log d`` removes part of the noise.
    """
    shrunk = analytical_shrinkage(eigenvalues, n)
    return np.exp(isotonic_regression(np.log(shrunk), increasing=True))
