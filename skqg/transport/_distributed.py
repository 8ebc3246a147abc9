"""Sinkhorn over a dask array whose row chunks live on dask.distributed workers.

Each chunk of rows becomes a :class:`skqg.transport._sinkhorn.SourceSide` held on a worker (a
future); per iteration the client sends the target potential (length ``m``) and receives, per
chunk, a partial column log-sum-exp (length ``m``) and a partial marginal error (a scalar). Only
the ``m`` reference points and the potentials travel. The client combines the partial
log-sum-exps with ``logaddexp`` and sums the errors in chunk order, so the result is
deterministic, and it runs the very iteration of the in-memory fit
(:func:`skqg.transport._sinkhorn.solve`, including the coarse-to-fine rungs, solved in memory on
the same strided rows), so the potentials equal the in-memory ones to rounding: about 1e-14 of
their scale with float64 exponentials, about 1e-9 with the float32 ones of ``tol >= 1e-5``
(a rounding difference can flip an exponent's float32 rounding, which moves that term by the
float32 exponential's error).

Dask is imported only when a dask array is used.
"""

import numpy as np

from skqg._validation import check_magnitude
from skqg.transport._gaussian_maps import (
    check_spread,
    floor_data_covariance,
    gaussian_parts,
    reference_side_moments,
)
from skqg.transport._references import BOUNDED_REFERENCES
from skqg.transport._sinkhorn import (
    RUNG_TOL,
    SourceSide,
    common_unit,
    in_data_units,
    ladder,
    single_precision,
    solve,
)


def is_dask_array(X):
    """Whether ``X`` is a dask array (without importing dask).

    Parameters
    ----------
    X : object

    Returns
    -------
    bool
    """
    return type(X).__module__.startswith("dask.array") and hasattr(X, "chunks")


def dask_moments(X):
    """Mean and (unfloored) covariance of the rows of a dask array, by dask reductions.

    Parameters
    ----------
    X : dask array of shape (n, d)

    Returns
    -------
    mean : ndarray of shape (d,)
    cov : ndarray of shape (d, d)
        ``(X - mean)^T (X - mean) / n``, as ``floored_covariance`` computes it before flooring.
    """
    import dask

    X = X.astype(np.float64)
    mean = X.mean(axis=0)
    centred = X - mean
    mean, gram = dask.compute(mean, centred.T @ centred)
    return np.asarray(mean), np.asarray(gram) / X.shape[0]


def dask_max_row_norm(X, matrix):
    """``max_i |x_i @ matrix|`` over the rows of a dask array (the map's tail radius).

    Parameters
    ----------
    X : dask array of shape (n, d)
    matrix : ndarray of shape (d, d)

    Returns
    -------
    float
    """
    from dask import array as da

    return float(da.linalg.norm(X @ matrix, axis=1).max().compute())


def dask_row_mean(X, func):
    """``mean_i func(X)_i`` for a row-wise ``func`` (block in, one value per row out).

    Evaluated block by block on the workers (e.g. the squared displacement of a fitted map,
    for ``transport_cost_``).

    Parameters
    ----------
    X : dask array of shape (n, d)
    func : callable
        ``func(block) -> ndarray of shape (len(block),)``.

    Returns
    -------
    float
    """
    values = X.map_blocks(func, drop_axis=1, dtype=np.float64)
    return float(values.mean().compute())


# ------------------------------------------------------------------ tasks run on the workers


def _side(block, Y, single):
    return SourceSide(np.ascontiguousarray(block, dtype=np.float64), Y, single)


def _squared_norm_sum(side):
    return side.squared_norm_sum()


def _copy(side):
    new = SourceSide(side.X, side.Y, side.single)
    new.f, new.eps, new._lse = side.f, side.eps, side._lse
    return new


def _with_epsilon(side, eps):
    new = _copy(side)
    new.set_epsilon(eps)
    return new


def _started(side, h):
    new = _copy(side)
    new.start(h)
    return new


def _column_lse(side, shift):
    return side.column_lse(shift)


def _updated(side, h, omega):
    """A new side with the updated ``f``; its error waits in ``last_error``."""
    new = _copy(side)
    new.last_error = new.update(h, omega)
    return new


def _last_error(side):
    return side.last_error


def _potential(side):
    return side.f


# ------------------------------------------------------------------ the client side


class DistributedSource:
    """The source side of :func:`skqg.transport._sinkhorn.solve` over distributed row chunks.

    Each chunk's :class:`SourceSide` stays on its worker as a future; every step replaces it
    by a new future (the tasks are pure functions of their inputs, so a lost worker's chunks
    can be recomputed).

    Parameters
    ----------
    client : dask.distributed.Client
    X : dask array of shape (n, d)
        Source points, chunked along rows only.
    Y : ndarray of shape (m, d)
        Target points (scattered to every worker once).
    single : bool
        Float32 exponentials (as :class:`SourceSide`).
    """

    def __init__(self, client, X, Y, single):
        self.client = client
        self._n_rows = int(X.shape[0])
        self.chunk_rows = [int(c) for c in X.chunks[0]]
        blocks = client.compute(list(X.to_delayed().ravel()))
        Y_future = client.scatter(Y, broadcast=True)
        self.sides = client.map(_side, blocks, Y=Y_future, single=single, pure=False)

    @property
    def n_rows(self):
        return self._n_rows

    def _map(self, func, **kwargs):
        return self.client.map(func, self.sides, pure=False, **kwargs)

    def squared_norm_sum(self):
        return float(sum(self.client.gather(self._map(_squared_norm_sum))))

    def set_epsilon(self, eps):
        self.sides = self._map(_with_epsilon, eps=eps)

    def start(self, h):
        self.sides = self._map(_started, h=h)

    def column_lse(self, shift=None):
        parts = self.client.gather(self._map(_column_lse, shift=shift))
        total = parts[0]
        for part in parts[1:]:
            total = np.logaddexp(total, part)
        return total

    def update(self, h, omega):
        self.sides = self._map(_updated, h=h, omega=omega)
        return float(sum(self.client.gather(self._map(_last_error))))

    def potential(self):
        """The source potential as a dask array, chunked as ``X`` (still on the workers)."""
        from dask import array as da

        parts = [
            da.from_delayed(future, shape=(rows,), dtype=np.float64)
            for future, rows in zip(self._map(_potential), self.chunk_rows, strict=True)
        ]
        return da.concatenate(parts)


def sinkhorn_potentials_dask(
    X, Y, epsilon, *, tol, max_iter, g_init=None, callback=None, client=None
):
    """:func:`skqg.transport._sinkhorn.sinkhorn_potentials` for a dask array of source points.

    Parameters
    ----------
    X : dask array of shape (n, d)
        Source points (centred by the caller), chunked along rows (columns are merged).
    Y : ndarray of shape (m, d), float64, C-contiguous
        Target points.
    epsilon, tol, max_iter, g_init, callback
        As in :func:`~skqg.transport._sinkhorn.sinkhorn_potentials`.
    client : dask.distributed.Client or None
        The client to run on (default: the current one, ``distributed.get_client()``).

    Returns
    -------
    f : dask array of shape (n,)
        Source potential in inner-product form, computed on the workers.
    h, n_iter, error
        As in :func:`~skqg.transport._sinkhorn.sinkhorn_potentials`.
    """
    if client is None:
        from distributed import get_client

        client = get_client()
    X = X.astype(np.float64).rechunk({1: -1})
    # In the reference's units, as in the in-memory solve (exact: a power of two).
    unit = common_unit(float((X**2).sum().compute()) / max(X.shape[0], 1), Y)
    if unit != 1.0:
        X = X / unit
        epsilon = epsilon / unit
        g_init = None if g_init is None else g_init / unit
        callback = in_data_units(callback, unit)
    g, omega = g_init, 1.0
    single = single_precision(tol)
    if g_init is None:
        # The coarse rungs are small: solved in memory on the rows the in-memory fit uses.
        for stride in ladder(X.shape[0], Y.shape[0]):
            rows = np.ascontiguousarray(X[::stride].compute())
            g, _, _, omega = solve(
                SourceSide(rows, Y, single),
                Y,
                epsilon,
                tol=max(tol, RUNG_TOL),
                max_iter=max_iter,
                g_init=g,
                omega=omega,
            )
    source = DistributedSource(client, X, Y, single)
    g, n_iter, error, _ = solve(
        source, Y, epsilon, tol=tol, max_iter=max_iter, g_init=g, omega=omega, callback=callback
    )
    return source.potential() * unit, (g + epsilon * -np.log(Y.shape[0])) * unit, n_iter, error


def fit_map_on_cluster(X, Y, name, epsilon_of, *, tol, max_iter, callback=None):
    """Everything the entropic map's fit computes from the data, for a dask array ``X``.

    The moments, the finiteness check, the Sinkhorn potentials and the tail radius are dask
    reductions and tasks on the workers; the data never come to the client.

    Parameters
    ----------
    X : dask array of shape (n, d)
        Training data, chunked along rows.
    Y : ndarray of shape (m, d)
        Reference points (uncentred).
    name : str or None
        The named reference, or None for an array reference.
    epsilon_of : callable
        ``epsilon_of(cov_x, cov_y, n_samples, n_reference, n_features) -> float``.
    tol, max_iter, callback
        As in :func:`sinkhorn_potentials_dask`.

    Returns
    -------
    dict
        ``x_centre``, ``cov_x``, ``y_centre``, ``cov_y``, ``gaussian_parts``, ``epsilon``, ``Yc``
        (the centred reference points), ``potential``, ``n_iter``, ``error``, ``linear``,
        ``tail_root`` and ``tail_radius``, as the in-memory fit computes them.
    """
    from dask import array as da

    X = X.astype(np.float64).rechunk({1: -1})
    n, d = X.shape
    if not bool(da.isfinite(X).all().compute()):
        raise ValueError(
            "MongeAmpereTransport does not accept NaN or infinity: X (a dask array) has "
            "non-finite entries; impute or drop them first."
        )
    # The in-memory fit's range and spread checks, from two reductions.
    largest = float(abs(X).max().compute())
    check_magnitude(np.array([largest]), "X", "MongeAmpereTransport", n * d, squares_needed=True)
    x_centre, cov_x = dask_moments(X)
    check_spread(float(np.sqrt(np.max(np.diag(cov_x)))), largest)
    cov_x = floor_data_covariance(cov_x)
    y_centre, cov_y = reference_side_moments(Y, name, d)
    epsilon = epsilon_of(cov_x, cov_y, n, max(len(Y), 2), d)
    Xc = X - x_centre
    Yc = np.ascontiguousarray(Y - y_centre)
    _, potential, n_iter, error = sinkhorn_potentials_dask(
        Xc, Yc, epsilon, tol=tol, max_iter=max_iter, callback=callback
    )
    linear, tail_root, tail_radius = np.zeros((d, d)), np.zeros((d, d)), 0.0
    parts = gaussian_parts(cov_x, cov_y, epsilon)
    if name not in BOUNDED_REFERENCES:
        linear, tail_root = parts.linear, parts.tail_root
        tail_radius = dask_max_row_norm(Xc, tail_root)
    return {
        "x_centre": x_centre, "cov_x": cov_x, "y_centre": y_centre, "cov_y": cov_y,
        "gaussian_parts": parts,
        "epsilon": epsilon, "Yc": Yc, "potential": potential, "n_iter": n_iter,
        "error": error, "linear": linear, "tail_root": tail_root, "tail_radius": tail_radius,
    }  # fmt: skip
