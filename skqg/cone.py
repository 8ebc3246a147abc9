r"""Geometry of the cone of symmetric positive-definite matrices.

The set :math:`\mathcal{S}^p_{++}` of ``p x p`` symmetric positive-definite (SPD) matrices is an
open convex cone in the space :math:`\mathcal{S}^p` of symmetric matrices, which has dimension
``m = p (p + 1) / 2`` and the trace inner product
:math:`\langle A, B\rangle = \operatorname{tr}(AB)`.
Covariance matrices live there, and so do Wishart draws; this module holds the geometry that
estimators on the cone (:class:`skqg.WishartCovarianceModel`) build on.

**The barrier.** :math:`\Phi(X) = -\log\det X` is a self-concordant barrier of the cone: it is
strictly convex and blows up at the boundary. Its gradient is :math:`-X^{-1}`, and its Hessian
:math:`D^2\Phi(X)[H, K] = \operatorname{tr}(X^{-1} H X^{-1} K)` is a Riemannian metric on the
cone (:func:`metric`). In ``vech`` coordinates (diagonal entries and the upper triangle, row by
row) the Hessian is an ``m x m`` matrix whose determinant obeys the Monge-Ampère identity

.. math:: \log\det D^2\Phi(X) = c_p + (p + 1)\,\Phi(X),

with :math:`c_p = \tfrac12 p (p - 1)\log 2` when the off-diagonal coordinates are the plain
entries :math:`\sigma_{ij}` and :math:`c_p = 0` when they are :math:`\sqrt2\,\sigma_{ij}` (the
coordinates in which :math:`\mathcal{S}^p` is isometric to Frobenius space). So the canonical
potential :math:`F = \tfrac12 (p + 1)\Phi` solves :math:`\det D^2 F = K_p\, e^{2F}` with
:math:`\log K_p = c_p + m \log\tfrac{p + 1}{2}`. :func:`monge_ampere_residual` measures the
identity numerically.

**Self-duality.** The dual cone :math:`\{Y : \langle X, Y\rangle \ge 0 \ \forall X \succ 0\}` is
the closed cone itself, :math:`-\nabla\Phi(X) = X^{-1}` maps the cone onto itself, and the
Legendre-Fenchel conjugate of the barrier is the barrier again up to a constant:
:math:`\Phi^*(-Y) = \Phi(Y) - p`. :func:`self_duality_check` verifies all three numerically.

**Metrics.** Three Riemannian structures are offered wherever a ``metric`` is chosen:

- ``"affine"``: the Hessian metric of the barrier, invariant under every congruence
  :math:`X \mapsto G X G^\top` and under inversion. Geodesically complete with non-positive
  curvature, so Fréchet means are unique. Distance
  :math:`\lVert\log(A^{-1/2} B A^{-1/2})\rVert_F`.
- ``"log-euclidean"``: the flat metric pulled back by the matrix logarithm; distance
  :math:`\lVert\log A - \log B\rVert_F`. Invariant under orthogonal congruence and inversion,
  cheap, and equal to the affine metric on commuting matrices.
- ``"bures-wasserstein"``: the 2-Wasserstein distance between the Gaussians
  :math:`\mathcal{N}(0, A)` and :math:`\mathcal{N}(0, B)`,
  :math:`\sqrt{\operatorname{tr}A + \operatorname{tr}B
  - 2\operatorname{tr}(A^{1/2}BA^{1/2})^{1/2}}`.

**Conventions.** Every function accepts a single matrix ``(p, p)`` and returns an unbatched
result, or a stack ``(n, p, p)`` (batch axis first) and returns one result per matrix. When a
function takes several matrix arguments, a single matrix is broadcast against a stack. SPD
arguments are validated by ``skqg._validation.check_spd`` (finite, square, symmetric up to
rounding, numerically positive definite), and errors name the argument. Symmetric tangent
arguments must be finite and symmetric. Work runs in float64; matrix-valued results come back
as float32 when every matrix argument was float32. Only :func:`project` accepts matrices outside
the cone: it is the explicit way in.
"""

import math
import warnings
from collections import namedtuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from skqg import _spd, _validation
from skqg._kernels import spd_linalg
from skqg._validation import check_int, check_real

__all__ = [
    "SelfDualityResiduals",
    "barrier",
    "barrier_gradient",
    "barrier_hessian",
    "distance",
    "exp_map",
    "geodesic",
    "log_map",
    "mean",
    "metric",
    "monge_ampere_residual",
    "project",
    "self_duality_check",
    "unvech",
    "vech",
]

_METRICS = ("affine", "log-euclidean", "bures-wasserstein")
_MEAN_METRICS = ("affine", "log-euclidean", "bures-wasserstein", "euclidean")

SQRT2 = _spd.SQRT2


# --- validation helpers --------------------------------------------------------------------


def _hint(name):
    return (
        f"If {name} should be a covariance matrix, move it into the cone first, e.g. with "
        f"skqg.cone.project({name}, min_eigenvalue=1e-6 * trace / p)."
    )


def _is_float32(X):
    return getattr(X, "dtype", None) == np.float32


def _out_dtype(*arrays):
    """float32 when every matrix argument is a float32 array, else float64."""
    return np.float32 if all(_is_float32(a) for a in arrays) else np.float64


def _check_spd(X, name):
    checked, single = _validation.check_spd(np.asarray(X), name, hint=_hint(name))
    return checked, single


def _check_metric(metric, choices=_METRICS):
    return _validation.check_option("metric", metric, choices)


def _common_size(named_stacks):
    """Check that the stacks hold matrices of one size and have broadcastable lengths.

    Parameters
    ----------
    named_stacks : list of (str, ndarray of shape (n_i, p_i, p_i))

    Returns
    -------
    n : int
        The broadcast number of matrices.
    """
    sizes = {stack.shape[1] for _, stack in named_stacks}
    if len(sizes) > 1:
        shapes = ", ".join(f"{name} is {s.shape[1]}x{s.shape[1]}" for name, s in named_stacks)
        raise ValueError(f"The matrices must have the same size: {shapes}.")
    lengths = {len(stack) for _, stack in named_stacks} - {1}
    if len(lengths) > 1:
        counts = ", ".join(f"{name} holds {len(s)}" for name, s in named_stacks)
        raise ValueError(
            "Stacks of matrices must have the same length, or one of them a single matrix, "
            f"to broadcast: {counts}."
        )
    return lengths.pop() if lengths else 1


def _expand(stack, n):
    """Broadcast a stack of one matrix to ``n`` matrices (C-contiguous, for the kernels)."""
    if len(stack) == n:
        return stack
    return np.ascontiguousarray(np.broadcast_to(stack, (n, *stack.shape[1:])))


def _finite(values):
    """Every public result passes here: an overflow is an error, never a silent inf or NaN."""
    if not np.isfinite(values).all():
        raise ValueError(
            "The result is not finite in float64 (an exponential or a product overflowed): the "
            "inputs are too large, too small or too far apart for this operation. Rescale the "
            "matrices or use smaller tangent vectors or geodesic times."
        )
    return values


def _matrix_result(stack, single, dtype):
    out = _finite(stack[0] if single else stack)
    return out.astype(dtype, copy=False)


def _scalar_result(values, single):
    values = _finite(values)
    return float(values[0]) if single else values


# --- batched linear algebra on validated stacks ---------------------------------------------


def _tr(stack):
    return np.swapaxes(stack, -1, -2)


def _inverse_factors(checked):
    """``W = L^{-1}`` for the Cholesky factors ``L`` of a validated stack."""
    with _spd.one_blas_thread():
        return np.linalg.inv(checked.factors)


def _congruence(left, stack):
    """``left @ S @ left.T`` for each matrix, exactly symmetric."""
    with _spd.one_blas_thread():
        return np.ascontiguousarray(_spd.sym(left @ stack @ _tr(left)))


def _inverse(checked):
    """``X^{-1} = L^{-T} L^{-1}`` from the Cholesky factors."""
    inverse_factors = _inverse_factors(checked)
    with _spd.one_blas_thread():
        return _spd.sym(_tr(inverse_factors) @ inverse_factors)


# --- barrier -------------------------------------------------------------------------------


def barrier(X):
    r"""Log-determinant barrier :math:`\Phi(X) = -\log\det X` of the SPD cone.

    It is the canonical self-concordant barrier of the cone (parameter ``p``): finite inside and
    tending to :math:`+\infty` at the boundary. Computed from the Cholesky factor.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        SPD matrix or stack of SPD matrices.

    Returns
    -------
    float or ndarray of shape (n,)
        :math:`-\log\det X` (float64).

    Raises
    ------
    ValueError
        If ``X`` is not a finite (stack of) symmetric positive-definite matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import barrier
    >>> round(barrier(np.diag([2.0, 0.5, 4.0])), 12)  # -log 4
    -1.38629436112
    >>> barrier(np.stack([np.eye(2), 2 * np.eye(2)])).round(6).tolist()
    [-0.0, -1.386294]
    """
    checked, single = _check_spd(X, "X")
    return _scalar_result(-checked.logdets, single)


def barrier_gradient(X):
    r"""Gradient of the barrier, :math:`\nabla\Phi(X) = -X^{-1}`.

    The gradient is taken with respect to the trace inner product, so
    :math:`D\Phi(X)[H] = \langle -X^{-1}, H\rangle`. Its negative, :math:`X^{-1}`, maps the cone
    onto itself (the duality map). Computed from the Cholesky factor.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        SPD matrix or stack of SPD matrices.

    Returns
    -------
    ndarray of shape (p, p) or (n, p, p)
        :math:`-X^{-1}`, symmetric.

    Raises
    ------
    ValueError
        If ``X`` is not a finite (stack of) symmetric positive-definite matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import barrier_gradient
    >>> barrier_gradient(np.array([[2.0, 1.0], [1.0, 1.0]])).round(6).tolist()
    [[-1.0, 1.0], [1.0, -2.0]]
    """
    checked, single = _check_spd(X, "X")
    return _matrix_result(-_inverse(checked), single, _out_dtype(X))


def _hessian_matrices(inverses, weighted):
    """Hessian of the barrier in vech coordinates from the inverses ``S = X^{-1}``."""
    p = inverses.shape[-1]
    rows, cols = np.triu_indices(p)
    # Coordinate a = (i, j) moves the matrix along E_a = c_a (e_i e_j^T + e_j e_i^T), with
    # c = 1/2 on the diagonal and 1/weight off it, so
    # tr(S E_a S E_b) = 2 c_a c_b (S_ik S_jl + S_il S_jk).
    weight = SQRT2 if weighted else 1.0
    diagonal = rows == cols
    c = np.where(diagonal, 0.5, 1.0 / weight)
    scale = 2.0 * c[:, None] * c[None, :]
    # Off-diagonal pairs: 2 / weight^2, exactly 1 when weighted (avoid sqrt(2)^2 rounding).
    scale[np.outer(~diagonal, ~diagonal)] = 1.0 if weighted else 2.0
    row_a, col_a = rows[:, None], cols[:, None]
    row_b, col_b = rows[None, :], cols[None, :]
    S = inverses
    hessian = S[:, row_a, row_b] * S[:, col_a, col_b] + S[:, row_a, col_b] * S[:, col_a, row_b]
    return scale * hessian


def barrier_hessian(X, weighted=False):
    r"""Hessian of the barrier as an ``m x m`` matrix in vech coordinates.

    :math:`D^2\Phi(X)[H, K] = \operatorname{tr}(X^{-1} H X^{-1} K)`, written in the coordinates
    of :func:`vech`: the upper triangle row by row (``numpy.triu_indices`` order), with the
    off-diagonal coordinates the plain entries :math:`\sigma_{ij}` (``weighted=False``) or
    :math:`\sqrt2\,\sigma_{ij}` (``weighted=True``, an isometry to Frobenius space, in which
    the Hessian is the matrix of :math:`H \mapsto X^{-1} H X^{-1}`).

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        SPD matrix or stack of SPD matrices.
    weighted : bool, default=False
        Use :math:`\sqrt2`-weighted off-diagonal coordinates.

    Returns
    -------
    ndarray of shape (m, m) or (n, m, m)
        The Hessian, ``m = p (p + 1) / 2``; symmetric positive definite.

    Raises
    ------
    ValueError
        If ``X`` is not a finite (stack of) symmetric positive-definite matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import barrier_hessian
    >>> barrier_hessian(np.eye(2)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]]
    >>> barrier_hessian(np.eye(2), weighted=True).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    checked, single = _check_spd(X, "X")
    hessian = _hessian_matrices(_inverse(checked), bool(weighted))
    return _matrix_result(hessian, single, _out_dtype(X))


def monge_ampere_residual(X, weighted=False):
    r"""Residual of the Monge-Ampère identity for the log-det barrier.

    Returns :math:`\log\det D^2\Phi(X) - \bigl(c_p + (p + 1)\Phi(X)\bigr)` with
    :math:`c_p = \tfrac12 p (p - 1)\log 2` in plain coordinates and :math:`c_p = 0` in
    :math:`\sqrt2`-weighted ones. The log-determinant of the ``m x m`` Hessian matrix is
    computed numerically (LU, :func:`numpy.linalg.slogdet`), so the result measures the
    identity rather than assuming it: it is at rounding level (about ``1e-12`` for
    well-conditioned ``X``) and grows with the condition number. The cost is
    :math:`O(p^6)` per matrix.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        SPD matrix or stack of SPD matrices.
    weighted : bool, default=False
        Use :math:`\sqrt2`-weighted off-diagonal coordinates (then :math:`c_p = 0`).

    Returns
    -------
    float or ndarray of shape (n,)
        The residual (float64).

    Raises
    ------
    ValueError
        If ``X`` is not a finite (stack of) symmetric positive-definite matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import monge_ampere_residual
    >>> X = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    >>> abs(monge_ampere_residual(X)) < 1e-12
    True
    >>> abs(monge_ampere_residual(X, weighted=True)) < 1e-12
    True
    """
    checked, single = _check_spd(X, "X")
    weighted = bool(weighted)
    p = checked.matrices.shape[1]
    hessian = _hessian_matrices(_inverse(checked), weighted)
    with _spd.one_blas_thread():
        sign, logdet = np.linalg.slogdet(hessian)
    logdet = np.where(sign > 0, logdet, np.nan)
    constant = 0.0 if weighted else 0.5 * p * (p - 1) * math.log(2.0)
    residual = logdet - (constant + (p + 1) * -checked.logdets)
    return _scalar_result(residual, single)


def metric(X, A, B):
    r"""Affine-invariant Riemannian metric :math:`g_X(A, B) = \operatorname{tr}(X^{-1}AX^{-1}B)`.

    It is the Hessian of the barrier, :math:`D^2\Phi(X)[A, B]`, and is invariant under
    congruence: :math:`g_{GXG^\top}(GAG^\top, GBG^\top) = g_X(A, B)`. Computed by whitening
    with the Cholesky factor :math:`X = LL^\top`.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        Base point(s), SPD.
    A, B : array-like of shape (p, p) or (n, p, p)
        Tangent vectors: symmetric matrices. A single matrix broadcasts against a stack.

    Returns
    -------
    float or ndarray of shape (n,)
        The inner products (float64).

    Raises
    ------
    ValueError
        If ``X`` is not SPD, ``A`` or ``B`` is not a finite symmetric matrix, or the sizes or
        stack lengths do not match.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import metric
    >>> round(metric(2 * np.eye(2), np.eye(2), np.eye(2)), 12)  # tr(I / 4)
    0.5
    """
    checked, single_x = _check_spd(X, "X")
    A_stack, single_a = _validation.check_symmetric_stack(A, "A")
    B_stack, single_b = _validation.check_symmetric_stack(B, "B")
    n = _common_size([("X", checked.matrices), ("A", A_stack), ("B", B_stack)])
    inverse_factors = _inverse_factors(checked)
    whitened_a = _congruence(inverse_factors, A_stack)
    whitened_b = _congruence(inverse_factors, B_stack)
    values = np.broadcast_to((whitened_a * whitened_b).sum(axis=(1, 2)), (n,)).copy()
    return _scalar_result(values, single_x and single_a and single_b)


# --- distances, geodesics, exponential and logarithm -----------------------------------------


def _pair(A, B):
    checked_a, single_a = _check_spd(A, "A")
    checked_b, single_b = _check_spd(B, "B")
    n = _common_size([("A", checked_a.matrices), ("B", checked_b.matrices)])
    return checked_a, checked_b, n, single_a and single_b


def _bures_factors(checked_a, B, n):
    """``L`` and ``T L`` with ``A = L L^T`` and ``T`` the Bures map from ``A`` to ``B`` (broadcast
    to ``n``), see :func:`skqg._spd.transported_factors`."""
    factors = _expand(checked_a.factors, n)
    transported, _ = _spd.transported_factors(factors, _expand(B, n))
    return factors, transported


def distance(A, B, metric="affine"):
    r"""Geodesic distance between SPD matrices.

    - ``"affine"``: :math:`\lVert\log(A^{-1/2}BA^{-1/2})\rVert_F`, from the eigenvalues of the
      Cholesky-whitened :math:`L^{-1}BL^{-\top}` (the same spectrum).
    - ``"log-euclidean"``: :math:`\lVert\log A - \log B\rVert_F`.
    - ``"bures-wasserstein"``: the 2-Wasserstein distance between :math:`\mathcal{N}(0, A)` and
      :math:`\mathcal{N}(0, B)`, :math:`\sqrt{\operatorname{tr}A + \operatorname{tr}B -
      2\operatorname{tr}(A^{1/2}BA^{1/2})^{1/2}}`. It is evaluated as the transport cost
      :math:`\lVert L - TL\rVert_F` of the optimal map ``T`` (a sum of squares), which stays
      accurate when ``A`` and ``B`` are close, where the trace formula cancels.

    Parameters
    ----------
    A, B : array-like of shape (p, p) or (n, p, p)
        SPD matrices; a single matrix broadcasts against a stack.
    metric : {"affine", "log-euclidean", "bures-wasserstein"}, default="affine"
        The Riemannian metric.

    Returns
    -------
    float or ndarray of shape (n,)
        The distances (float64).

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not SPD, their sizes or stack lengths differ, or ``metric`` is
        unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import distance
    >>> A, B = np.diag([1.0, 1.0]), np.diag([np.e, np.e**2])
    >>> round(distance(A, B), 12)  # sqrt(1 + 4)
    2.2360679775
    >>> round(distance(A, B, metric="log-euclidean"), 12)
    2.2360679775
    >>> round(distance(np.eye(2), 4 * np.eye(2), metric="bures-wasserstein"), 12)
    1.414213562373
    """
    metric = _check_metric(metric)
    checked_a, checked_b, n, single = _pair(A, B)
    if metric == "affine":
        whitening = _expand(_inverse_factors(checked_a), n)
        whitened = _congruence(whitening, _expand(checked_b.matrices, n))
        eigenvalues = _spd.spectral(whitened, spd_linalg.LOG)[1]
        values = np.sqrt((np.log(eigenvalues) ** 2).sum(axis=1))
    elif metric == "log-euclidean":
        difference = _spd.logm(checked_a.matrices) - _spd.logm(checked_b.matrices)
        values = np.broadcast_to(np.sqrt((difference**2).sum(axis=(1, 2))), (n,)).copy()
    else:
        factors, transported = _bures_factors(checked_a, checked_b.matrices, n)
        values = np.sqrt(((factors - transported) ** 2).sum(axis=(1, 2)))
    return _scalar_result(values, single)


def geodesic(A, B, t, metric="affine"):
    r"""Point at time ``t`` on the geodesic from ``A`` (``t = 0``) to ``B`` (``t = 1``).

    - ``"affine"``: :math:`A \#_t B = A^{1/2}(A^{-1/2}BA^{-1/2})^t A^{1/2}`, computed as
      :math:`L(L^{-1}BL^{-\top})^t L^\top` with :math:`A = LL^\top` (the same matrix: the
      formula does not depend on the square-root factor). Any real ``t`` extrapolates.
    - ``"log-euclidean"``: :math:`\exp((1 - t)\log A + t\log B)`; any real ``t``.
    - ``"bures-wasserstein"``: McCann's displacement interpolant
      :math:`((1-t)I + tT)\,A\,((1-t)I + tT)` with ``T`` the optimal map from
      :math:`\mathcal{N}(0, A)` to :math:`\mathcal{N}(0, B)`; ``t`` must lie in ``[0, 1]``.

    The speed is constant: ``distance(A, geodesic(A, B, t)) == t * distance(A, B)`` for the
    same metric and ``t`` in ``[0, 1]``.

    Parameters
    ----------
    A, B : array-like of shape (p, p) or (n, p, p)
        End points, SPD; a single matrix broadcasts against a stack.
    t : float
        Time along the geodesic.
    metric : {"affine", "log-euclidean", "bures-wasserstein"}, default="affine"
        The Riemannian metric.

    Returns
    -------
    ndarray of shape (p, p) or (n, p, p)
        The point(s), SPD.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not SPD, sizes or stack lengths differ, ``t`` is not a finite real
        number (or outside ``[0, 1]`` for Bures-Wasserstein), or ``metric`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import geodesic
    >>> A, B = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    >>> geodesic(A, B, 0.5).round(6).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    >>> geodesic(A, B, 0.5, metric="bures-wasserstein").round(6).tolist()
    [[2.25, 0.0], [0.0, 2.25]]
    """
    metric = _check_metric(metric)
    t = check_real("t", t)
    if metric == "bures-wasserstein" and not 0.0 <= t <= 1.0:
        raise ValueError(
            f"t must lie in [0, 1] for the Bures-Wasserstein geodesic (McCann's interpolant is "
            f"not a geodesic beyond its end points); got {t!r}."
        )
    checked_a, checked_b, n, single = _pair(A, B)
    dtype = _out_dtype(A, B)
    if metric == "affine":
        factors = _expand(checked_a.factors, n)
        whitening = _expand(_inverse_factors(checked_a), n)
        whitened = _congruence(whitening, _expand(checked_b.matrices, n))
        out = _congruence(factors, _spd.powm(whitened, t))
    elif metric == "log-euclidean":
        logs = (1.0 - t) * _spd.logm(checked_a.matrices) + t * _spd.logm(checked_b.matrices)
        out = _spd.expm(np.ascontiguousarray(_expand(logs, n)))
    else:
        factors, transported = _bures_factors(checked_a, checked_b.matrices, n)
        moved = (1.0 - t) * factors + t * transported
        with _spd.one_blas_thread():
            out = _spd.sym(moved @ _tr(moved))
    return _matrix_result(out, single, dtype)


def _base_and_tangent(X, V, name):
    checked, single_x = _check_spd(X, "X")
    if name == "V":
        other, single_v = _validation.check_symmetric_stack(V, "V")
    else:
        checked_y, single_v = _check_spd(V, name)
        other = checked_y.matrices
    n = _common_size([("X", checked.matrices), (name, other)])
    factors = _expand(checked.factors, n)
    inverse_factors = _expand(_inverse_factors(checked), n)
    return factors, inverse_factors, _expand(other, n), single_x and single_v


def exp_map(X, V):
    r"""Riemannian exponential of the affine-invariant metric.

    :math:`\operatorname{Exp}_X(V) = X^{1/2}\exp(X^{-1/2}VX^{-1/2})X^{1/2}`, the point reached at
    time 1 by the geodesic leaving ``X`` with velocity ``V``; computed as
    :math:`L\exp(L^{-1}VL^{-\top})L^\top` with :math:`X = LL^\top`. It is defined for every
    symmetric ``V`` (the cone is geodesically complete) and is the inverse of :func:`log_map`.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        Base point(s), SPD.
    V : array-like of shape (p, p) or (n, p, p)
        Tangent vector(s): symmetric matrices. A single matrix broadcasts against a stack.

    Returns
    -------
    ndarray of shape (p, p) or (n, p, p)
        SPD matrices.

    Raises
    ------
    ValueError
        If ``X`` is not SPD, ``V`` is not a finite symmetric matrix, or sizes or stack lengths
        differ.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import exp_map
    >>> exp_map(np.diag([2.0, 1.0]), np.diag([2.0, 0.0])).round(6).tolist()
    [[5.436564, 0.0], [0.0, 1.0]]
    """
    factors, inverse_factors, V_stack, single = _base_and_tangent(X, V, "V")
    out = _congruence(factors, _spd.expm(_congruence(inverse_factors, V_stack)))
    return _matrix_result(out, single, _out_dtype(X, V))


def log_map(X, Y):
    r"""Riemannian logarithm of the affine-invariant metric, the inverse of :func:`exp_map`.

    :math:`\operatorname{Log}_X(Y) = X^{1/2}\log(X^{-1/2}YX^{-1/2})X^{1/2}`: the initial velocity
    of the geodesic from ``X`` reaching ``Y`` at time 1. Its length in the metric at ``X`` is
    ``distance(X, Y)``.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        Base point(s), SPD.
    Y : array-like of shape (p, p) or (n, p, p)
        Target point(s), SPD. A single matrix broadcasts against a stack.

    Returns
    -------
    ndarray of shape (p, p) or (n, p, p)
        Symmetric tangent vectors.

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not SPD, or sizes or stack lengths differ.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import log_map
    >>> log_map(np.diag([2.0, 1.0]), np.diag([2.0 * np.e, 1.0])).round(6).tolist()
    [[2.0, 0.0], [0.0, 0.0]]
    """
    factors, inverse_factors, Y_stack, single = _base_and_tangent(X, Y, "Y")
    out = _congruence(factors, _spd.logm(_congruence(inverse_factors, Y_stack)))
    return _matrix_result(out, single, _out_dtype(X, Y))


# --- means ---------------------------------------------------------------------------------


def _cholesky_one(matrix):
    return np.linalg.cholesky(_spd.sym(matrix))


def _affine_mean(stack, weights, start, tol, max_iter):
    """Riemannian gradient descent ``M <- Exp_M(step * sum_i w_i Log_M X_i)``.

    In whitened coordinates ``Log_M X_i`` is ``M^{1/2} log(M^{-1/2} X_i M^{-1/2}) M^{1/2}``; the
    weighted mean of the whitened logarithms is minus the Riemannian gradient of the Fréchet
    function ``f(M) = 1/2 sum_i w_i d(M, X_i)^2``, and its Frobenius norm (sqrt(2)-weighted
    vech coordinates) is the gradient's norm in the metric at ``M``.

    The Hessian of ``1/2 d(., X_i)^2`` has eigenvalues in ``[1, (r_i / 2) coth(r_i / 2)]`` with
    ``r_i`` the log condition number of the whitened ``X_i`` (Jacobi fields on the cone), so the
    step ``2 / (1 + Gamma)``, ``Gamma = sum_i w_i (r_i / 2) coth(r_i / 2)``, is the optimal fixed
    step for that spectrum (Bini & Iannazzo 2013 choose their Richardson step from bounds of
    this kind). It is 1, the plain Karcher step, for concentrated data, and keeps the iteration
    from oscillating on spread data, where the plain step converges slowly or not at all. A
    step that does not decrease ``f`` is halved and retried (a safeguard; the bound makes it
    rare).

    Returns
    -------
    mean, n_iter, gradient_norm
    """

    def evaluate(M):
        factor = np.ascontiguousarray(_cholesky_one(M))
        with _spd.one_blas_thread():
            whitening = np.ascontiguousarray(np.linalg.inv(factor))
            vectors, eigenvalues = spd_linalg.whitened_log_vectors(stack, whitening, SQRT2)
        gradient = weights @ vectors
        value = 0.5 * float(weights @ (vectors**2).sum(axis=1))
        spread = np.log(eigenvalues[:, -1] / eigenvalues[:, 0])
        half = np.maximum(0.5 * spread, 1e-8)
        curvature = float(weights @ np.where(spread > 2e-8, half / np.tanh(half), 1.0))
        return factor, gradient, value, 2.0 / (1.0 + curvature)

    M = start
    factor, gradient, value, step = evaluate(M)
    norm = float(np.linalg.norm(gradient))
    damping = 1.0
    for iteration in range(max_iter):
        if norm <= tol:
            return M, iteration, norm
        with _spd.one_blas_thread():
            candidate = spd_linalg.colored_exp_matrices(
                np.ascontiguousarray(damping * step * gradient[np.newaxis]), factor, SQRT2
            )[0]
        evaluated = evaluate(candidate)
        if not evaluated[2] <= value + 1e-12 * (1.0 + value):
            damping *= 0.5
            continue
        M = candidate
        factor, gradient, value, step = evaluated
        norm = float(np.linalg.norm(gradient))
        damping = min(1.0, 2.0 * damping)
    return M, max_iter, norm


def _bures_mean(stack, weights, start, tol, max_iter):
    """Fixed point ``S <- T S T`` with ``T = sum_i w_i T_i`` the mean of the optimal maps.

    Álvarez-Esteban, del Barrio, Cuesta-Albertos & Matrán (2016) prove convergence from any SPD
    start. The Wasserstein gradient of ``1/2 sum_i w_i W_2^2(S, X_i)`` is ``I - T``; its norm
    ``sqrt(tr((I - T) S (I - T)))``, relative to ``sqrt(tr S)``, is the stopping criterion.
    """
    S = start
    for iteration in range(max_iter + 1):
        factor = _cholesky_one(S)
        with _spd.one_blas_thread():
            inverse_factor = np.linalg.inv(factor)
            congruent = np.ascontiguousarray(_spd.sym(factor.T @ stack @ factor))
        roots = _spd.powm(congruent, 0.5)
        averaged = np.tensordot(weights, roots, axes=1)
        transported = inverse_factor.T @ averaged  # T @ factor
        criterion = float(np.linalg.norm(factor - transported) / math.sqrt(np.trace(S)))
        if criterion <= tol or iteration == max_iter:
            return S, iteration, criterion
        S = _spd.sym(transported @ transported.T)


def mean(X, metric="affine", weights=None, *, tol=1e-10, max_iter=100):
    r"""Fréchet (Karcher) mean of a stack of SPD matrices.

    The minimiser of :math:`\sum_k w_k\, d(M, X_k)^2` for the chosen metric:

    - ``"affine"``: unique (the cone has non-positive curvature), equivariant under congruence
      (``mean(G X G.T) = G mean(X) G.T``) and inversion, and its determinant is the weighted
      geometric mean of the determinants. Found by Riemannian gradient descent (the Karcher
      iteration) started at the log-Euclidean mean, with a step set from a curvature bound on
      the Hessian (1 for concentrated data, smaller for spread data, where the plain Karcher
      step oscillates) and halved if it does not decrease the Fréchet function; it stops when
      the norm of the Riemannian gradient :math:`\lVert\sum_k w_k \operatorname{Log}_M
      X_k\rVert_M` is at most ``tol``. Rounding bounds the attainable norm by about ``1e-16``
      times the condition number of the whitened matrices.
    - ``"log-euclidean"``: :math:`\exp(\sum_k w_k \log X_k)` (closed form).
    - ``"bures-wasserstein"``: the Wasserstein barycentre of the Gaussians
      :math:`\mathcal{N}(0, X_k)`, by the fixed-point iteration of Álvarez-Esteban et al. (2016)
      started at the arithmetic mean; it stops when the transport gradient's norm relative to
      :math:`\sqrt{\operatorname{tr} M}` is at most ``tol``.
    - ``"euclidean"``: the weighted arithmetic mean (closed form).

    Parameters
    ----------
    X : array-like of shape (n, p, p)
        Stack of SPD matrices.
    metric : {"affine", "log-euclidean", "bures-wasserstein", "euclidean"}, default="affine"
        The metric whose Fréchet mean is computed.
    weights : array-like of shape (n,), default=None
        Non-negative weights with a positive sum (normalised to sum to one); ``None`` means
        equal weights.
    tol : float, default=1e-10
        Stopping tolerance on the gradient norm (iterative metrics only).
    max_iter : int, default=100
        Maximum number of iterations (iterative metrics only).

    Returns
    -------
    ndarray of shape (p, p)
        The mean, SPD.

    Raises
    ------
    ValueError
        If ``X`` is not a stack of SPD matrices, ``weights`` are invalid, ``metric`` is
        unknown, ``tol`` is not positive or ``max_iter`` not a positive integer.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        If an iterative mean has not reached ``tol`` after ``max_iter`` iterations; the last
        iterate is returned.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import mean
    >>> X = np.stack([np.diag([1.0, 4.0]), np.diag([4.0, 1.0])])
    >>> mean(X).round(6).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    >>> mean(X, metric="euclidean").tolist()
    [[2.5, 0.0], [0.0, 2.5]]
    >>> mean(X, metric="bures-wasserstein").round(6).tolist()
    [[2.25, 0.0], [0.0, 2.25]]
    """
    metric = _check_metric(metric, _MEAN_METRICS)
    if np.ndim(X) != 3:
        raise ValueError(
            f"X must be a stack of SPD matrices of shape (n, p, p), got an array of shape "
            f"{np.shape(X)}. Wrap a single matrix as X[np.newaxis]."
        )
    tol = check_real("tol", tol)
    if tol <= 0:
        raise ValueError(f"tol must be positive, got {tol!r}.")
    max_iter = check_int("max_iter", max_iter, 1)
    checked, _ = _check_spd(X, "X")
    stack = checked.matrices
    w = _validation.check_weights(weights, len(stack))
    dtype = _out_dtype(X)
    if metric == "euclidean":
        return _spd.sym(np.tensordot(w, stack, axes=1)).astype(dtype, copy=False)
    log_euclidean = _spd.expm(np.tensordot(w, _spd.logm(stack), axes=1)[np.newaxis])[0]
    if metric == "log-euclidean":
        return log_euclidean.astype(dtype, copy=False)
    if metric == "affine":
        result, _, criterion = _affine_mean(stack, w, log_euclidean, tol, max_iter)
    else:
        start = _spd.sym(np.tensordot(w, stack, axes=1))
        result, _, criterion = _bures_mean(stack, w, start, tol, max_iter)
    if not criterion <= tol:
        warnings.warn(
            f"The {metric} mean did not reach tol={tol:g} in max_iter={max_iter} iterations "
            f"(gradient norm {criterion:.3g}); returning the last iterate. Increase max_iter or "
            "tol; rounding limits the attainable gradient norm to about 1e-16 times the "
            "condition number of the whitened matrices.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result.astype(dtype, copy=False)


# --- projection onto the cone ----------------------------------------------------------------


def project(X, min_eigenvalue=0.0):
    r"""Nearest symmetric matrix, in Frobenius norm, with eigenvalues at least ``min_eigenvalue``.

    The explicit way into the cone, and the only function here that accepts matrices outside
    it (any finite real square matrices). Following Higham (1988), ``X`` is replaced by its
    symmetric part :math:`B = (X + X^\top)/2` (the nearest symmetric matrix, orthogonal to the
    skew part), and the eigenvalues of ``B`` below ``min_eigenvalue`` are raised to it; the
    set :math:`\{S : S \succeq cI\}` is :math:`cI` plus the PSD cone, so this is the exact
    Frobenius projection. Matrices that need no change come back as their symmetric part,
    bit for bit. With ``min_eigenvalue=0`` the result is only positive *semi*-definite; pass a
    positive floor to obtain SPD matrices.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        Real square matrices (finite; need not be symmetric).
    min_eigenvalue : float, default=0.0
        The eigenvalue floor, finite and non-negative.

    Returns
    -------
    ndarray of shape (p, p) or (n, p, p)
        Symmetric matrices with eigenvalues at least ``min_eigenvalue`` up to rounding.

    Raises
    ------
    ValueError
        If ``X`` is not a finite real square matrix or stack, or ``min_eigenvalue`` is negative
        or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import project
    >>> project(np.array([[1.0, 2.0], [2.0, 1.0]])).round(6).tolist()
    [[1.5, 1.5], [1.5, 1.5]]
    >>> project(np.array([[0.0, 1.0], [0.0, 0.0]]), min_eigenvalue=1.0).round(6).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    floor = check_real("min_eigenvalue", min_eigenvalue)
    if floor < 0:
        raise ValueError(f"min_eigenvalue must be non-negative, got {min_eigenvalue!r}.")
    stack, single = _validation.as_float_stack(X, "X")
    symmetric = np.ascontiguousarray(_spd.sym(stack))
    with _spd.one_blas_thread():
        eigenvalues, vectors = np.linalg.eigh(symmetric)
        clipped = np.maximum(eigenvalues, floor)
        rebuilt = _spd.sym((vectors * clipped[:, np.newaxis, :]) @ _tr(vectors))
    unchanged = (eigenvalues >= floor).all(axis=1)
    out = np.where(unchanged[:, np.newaxis, np.newaxis], symmetric, rebuilt)
    return _matrix_result(out, single, _out_dtype(X))


# --- self-duality --------------------------------------------------------------------------

SelfDualityResiduals = namedtuple(
    "SelfDualityResiduals",
    [
        "min_cosine_inside",
        "max_cosine_separating",
        "conjugate_error",
        "maximiser_error",
        "min_fenchel_young_gap",
        "n_probes",
    ],
)
SelfDualityResiduals.__doc__ = """Measured residuals of the self-duality of the SPD cone.

Attributes
----------
min_cosine_inside : float
    Smallest cosine :math:`\\langle X, Y\\rangle / (\\lVert X\\rVert_F\\lVert Y\\rVert_F)` over
    random SPD pairs. Positive: the cone lies in its dual cone.
max_cosine_separating : float
    Largest cosine between a random symmetric, not positive semi-definite ``Y`` and the SPD
    matrix :math:`X = vv^\\top + \\delta I` built from its most negative eigenvector. Negative:
    every such ``Y`` is cut off, so nothing outside the cone is in the dual cone.
conjugate_error : float
    Largest relative error :math:`|\\Phi^*(-Y) - (\\Phi(Y) - p)| / \\max(1, |\\Phi(Y) - p|)`,
    where :math:`\\Phi^*(-Y) = \\sup_X \\langle -Y, X\\rangle - \\Phi(X)` is computed by a damped
    Newton maximisation. Rounding level (about ``1e-14``) when the identity holds.
maximiser_error : float
    Largest relative Frobenius distance between the numerical maximiser and :math:`Y^{-1}`.
    Rounding level when the supremum is attained at :math:`Y^{-1} = -\\nabla\\Phi(Y)`.
min_fenchel_young_gap : float
    Smallest :math:`\\Phi(X) + \\Phi^*(-Y) - \\langle -Y, X\\rangle = \\operatorname{tr}(XY) -
    \\log\\det(XY) - p` over random SPD pairs, with :math:`\\Phi^*(-Y) = \\Phi(Y) - p`.
    Non-negative (Fenchel-Young), zero only at :math:`X = Y^{-1}`.
n_probes : int
    Random matrices (or pairs) per check.

Examples
--------
>>> from skqg.cone import self_duality_check
>>> residuals = self_duality_check(3, n_probes=20, random_state=0)
>>> residuals.min_cosine_inside > 0, residuals.max_cosine_separating < 0
(True, True)
>>> residuals.conjugate_error < 1e-12, residuals.min_fenchel_young_gap >= 0
(True, True)
"""


def _random_spd(rng, n, p):
    """SPD matrices ``exp(S)`` with ``S`` symmetric Gaussian, eigenvalues roughly in [e^-3, e^3]."""
    G = rng.standard_normal((n, p, p))
    return _spd.expm(np.ascontiguousarray(_spd.sym(G) / math.sqrt(p)))


def _conjugate_maximiser(Y, max_iter=200):
    """Maximise ``-tr(Y X) + log det X`` over SPD ``X`` by damped Newton, one ``X`` per ``Y``.

    The objective is self-concordant; the Newton step is ``X - X Y X`` with decrement
    ``lambda^2 = tr((I - X Y)^2)``. Damping by ``1 / (1 + lambda)`` keeps every iterate inside
    the cone (Nesterov & Nemirovskii); full steps once ``lambda < 1/4``.
    """
    p = Y.shape[1]
    identity = np.eye(p)
    X = (p / np.trace(Y, axis1=1, axis2=2))[:, None, None] * identity
    with _spd.one_blas_thread():
        for _ in range(max_iter):
            XY = X @ Y
            residual = identity - XY
            decrement = np.sqrt(np.maximum(np.einsum("nij,nji->n", residual, residual), 0.0))
            if decrement.max() < 1e-15:
                break
            step = np.where(decrement < 0.25, 1.0, 1.0 / (1.0 + decrement))
            X = _spd.sym(X + step[:, None, None] * (X - XY @ X))
    return X


def self_duality_check(p, n_probes=100, random_state=None):
    r"""Verify numerically that the SPD cone and its log-det barrier are self-dual.

    Three facts are measured on random probes (see :class:`SelfDualityResiduals` for the
    meaning and the expected sign or size of each residual):

    1. :math:`\langle X, Y\rangle > 0` for SPD ``X`` and ``Y``: the cone lies in its dual.
    2. For a symmetric ``Y`` that is not positive semi-definite, with ``v`` a unit eigenvector of
       its most negative eigenvalue :math:`\lambda`, the SPD matrix
       :math:`X = vv^\top + \delta I` (with :math:`\delta = |\lambda| / (2(|\operatorname{tr}Y|
       + |\lambda|))`) has :math:`\langle X, Y\rangle < 0`: nothing outside the closed cone is
       in the dual cone.
    3. The Legendre-Fenchel conjugate of :math:`\Phi = -\log\det` satisfies
       :math:`\Phi^*(-Y) = \Phi(Y) - p`, with the supremum
       :math:`\sup_X \langle -Y, X\rangle - \Phi(X)` attained at :math:`X = Y^{-1}`; the
       supremum is computed by Newton's method, not assumed. The Fenchel-Young inequality
       :math:`\Phi(X) + \Phi^*(-Y) \ge \langle -Y, X\rangle` is checked on random pairs.

    Parameters
    ----------
    p : int
        Matrix size, at least 1.
    n_probes : int, default=100
        Number of random matrices (or pairs) per check, at least 1.
    random_state : int, RandomState instance or None, default=None
        Seed for the probes.

    Returns
    -------
    SelfDualityResiduals
        The measured residuals (Python floats), printable as a named tuple.

    Raises
    ------
    ValueError
        If ``p`` or ``n_probes`` is not a positive integer.

    Examples
    --------
    >>> from skqg.cone import self_duality_check
    >>> r = self_duality_check(4, n_probes=50, random_state=0)
    >>> r.min_cosine_inside > 0, r.max_cosine_separating < 0, r.min_fenchel_young_gap >= 0
    (True, True, True)
    >>> r.conjugate_error < 1e-10, r.maximiser_error < 1e-10
    (True, True)
    """
    p = check_int("p", p, 1)
    n_probes = check_int("n_probes", n_probes, 1)
    rng = check_random_state(random_state)

    # (i) the cone is inside its dual.
    X = _random_spd(rng, n_probes, p)
    Y = _random_spd(rng, n_probes, p)
    norms_x = np.sqrt((X**2).sum(axis=(1, 2)))
    norms_y = np.sqrt((Y**2).sum(axis=(1, 2)))
    min_cosine = float(((X * Y).sum(axis=(1, 2)) / (norms_x * norms_y)).min())

    # (ii) every symmetric matrix with a negative eigenvalue is separated by an SPD matrix.
    G = _spd.sym(rng.standard_normal((n_probes, p, p)))
    with _spd.one_blas_thread():
        values = np.linalg.eigvalsh(G)
    # A draw with no negative eigenvalue is replaced by its negative, which has one.
    flip = values[:, 0] >= 0
    G[flip] = -G[flip]
    with _spd.one_blas_thread():
        values, vectors = np.linalg.eigh(G)
    lowest, v = values[:, 0], vectors[:, :, 0]
    trace = np.trace(G, axis1=1, axis2=2)
    delta = np.abs(lowest) / (2.0 * (np.abs(trace) + np.abs(lowest)))
    separating = v[:, :, None] * v[:, None, :] + delta[:, None, None] * np.eye(p)
    cosines = (separating * G).sum(axis=(1, 2)) / (
        np.sqrt((separating**2).sum(axis=(1, 2))) * np.sqrt((G**2).sum(axis=(1, 2)))
    )
    max_cosine = float(cosines.max())

    # (iii) the conjugate barrier, by maximising <-Y, X> - Phi(X) numerically.
    maximiser = _conjugate_maximiser(Y)
    checked_y, _ = _check_spd(Y, "Y")
    checked_max, _ = _check_spd(maximiser, "maximiser")
    supremum = -(Y * maximiser).sum(axis=(1, 2)) + checked_max.logdets
    expected = -checked_y.logdets - p
    conjugate_error = float((np.abs(supremum - expected) / np.maximum(1.0, np.abs(expected))).max())
    inverse = _inverse(checked_y)
    maximiser_error = float(
        (
            np.sqrt(((maximiser - inverse) ** 2).sum(axis=(1, 2)))
            / np.sqrt((inverse**2).sum(axis=(1, 2)))
        ).max()
    )
    checked_x, _ = _check_spd(X, "X")
    gap = (X * Y).sum(axis=(1, 2)) - checked_x.logdets - checked_y.logdets - p
    return SelfDualityResiduals(
        min_cosine, max_cosine, conjugate_error, maximiser_error, float(gap.min()), n_probes
    )


# --- half-vectorisation --------------------------------------------------------------------


def vech(X, weight=SQRT2):
    r"""Half-vectorise symmetric matrices: the upper triangle row by row.

    Off-diagonal entries are multiplied by ``weight``; the default :math:`\sqrt2` makes the map
    an isometry from the trace inner product to the Euclidean one
    (``vech(A) @ vech(B) == trace(A @ B)``), the coordinates of tangent-space features.
    ``weight=1`` gives the plain entries. The order is ``numpy.triu_indices``.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n, p, p)
        Symmetric matrices (finite; need not be positive definite).
    weight : float, default=sqrt(2)
        Positive factor on the off-diagonal entries.

    Returns
    -------
    ndarray of shape (m,) or (n, m)
        ``m = p (p + 1) / 2`` coordinates per matrix.

    Raises
    ------
    ValueError
        If ``X`` is not a finite symmetric matrix or stack, or ``weight`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import vech
    >>> vech(np.array([[1.0, 2.0], [2.0, 3.0]]), weight=1.0).tolist()
    [1.0, 2.0, 3.0]
    """
    weight = check_real("weight", weight, positive=True)
    stack, single = _validation.check_symmetric_stack(X, "X")
    return _matrix_result(_spd.vech(stack, weight), single, _out_dtype(X))


def unvech(v, weight=SQRT2):
    r"""Inverse of :func:`vech`: symmetric matrices from their half-vectorisation.

    Parameters
    ----------
    v : array-like of shape (m,) or (n, m)
        Coordinates, ``m = p (p + 1) / 2`` per matrix.
    weight : float, default=sqrt(2)
        The off-diagonal factor used by :func:`vech`.

    Returns
    -------
    ndarray of shape (p, p) or (n, p, p)
        Symmetric matrices.

    Raises
    ------
    ValueError
        If ``v`` is not a finite 1-D or 2-D real array, its length is not ``p (p + 1) / 2``, or
        ``weight`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.cone import unvech
    >>> unvech(np.array([1.0, 2.0, 3.0]), weight=1.0).tolist()
    [[1.0, 2.0], [2.0, 3.0]]
    """
    weight = check_real("weight", weight, positive=True)
    array = np.asarray(v)
    if array.dtype.kind not in "biuf" or array.ndim not in (1, 2) or array.shape[-1] == 0:
        raise ValueError(
            "v must be a non-empty real vector (m,) or a stack of vectors (n, m), got an array "
            f"of shape {array.shape} and dtype {array.dtype}."
        )
    if not np.isfinite(array).all():
        raise ValueError("v contains NaN or infinity.")
    out = _spd.unvech(array.astype(np.float64), weight)
    return out.astype(_out_dtype(v), copy=False)
