"""When a kernel runs its parallel twin: one threshold and one rule for every kernel.

Each public kernel entry point has a serial and a parallel compiled twin (their results are
identical, row by row) and asks :func:`parallel_pays` which to run, passing its work in
*operations*, roughly one multiply-add or one elementwise update each:

- softmax moments and log-sum-exps of the entropic map: ``m * d`` per row;
- Cholesky, eigen- and spectral functions of ``p x p`` matrices: ``p**3 / 4`` per matrix;
- symmetrising a stack (a memory pass): ``p**2 / 16`` per matrix;
- conditional means, samples and log-normalisers of RBM units: 1 per unit, called between the
  BLAS products of training; 2 per unit for the log-normalisers of exact enumeration.

Below :data:`PARALLEL_MIN_WORK` operations, starting the thread pool costs more than it saves.
Kernels called *between* multi-threaded BLAS products pay more: after a parallel region the
OpenMP workers spin-wait, and the next BLAS call ran 30x slower here (1 ms -> 30 ms for a
100 x 1024 x 256 product), so they need :data:`BETWEEN_BLAS_FACTOR` times more work.
"""

PARALLEL_MIN_WORK = 1 << 16
BETWEEN_BLAS_FACTOR = 16


def parallel_pays(n_items, work_per_item, *, between_blas=False):
    """Whether ``n_items`` independent items of ``work_per_item`` operations are worth threads.

    Parameters
    ----------
    n_items : int
        Items the parallel loop splits (rows, matrices, units).
    work_per_item : float
        Operations per item.
    between_blas : bool, default=False
        Whether the kernel runs between multi-threaded BLAS calls.

    Returns
    -------
    bool
    """
    threshold = PARALLEL_MIN_WORK * (BETWEEN_BLAS_FACTOR if between_blas else 1)
    return n_items > 1 and n_items * work_per_item >= threshold
