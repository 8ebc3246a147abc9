"""Row batching, shared by every estimator's row-wise methods.

Every row-wise method whose float64 temporaries outgrow its output (densities, Mahalanobis
distances, free energies, whitening of float32 input, the transport map and its Jacobians) loops
over :func:`row_batches`, which reads :data:`BATCH_ROWS` at call time, so one setting (and one
test that shrinks it) covers them all. Methods whose only large array is their output (the
RBM's conditional means) need no batches.
"""

import numpy as np

# Rows per batch in the estimators' row-wise methods: bounds their temporaries (hidden fields,
# Jacobian stacks) whatever the number of rows, at a size where BLAS still runs at full speed.
BATCH_ROWS = 4096


def row_batches(n_rows, batch_rows=None):
    """Slices that cover ``range(n_rows)`` in batches of ``batch_rows`` to ``2 * batch_rows`` rows.

    ``batch_rows`` defaults to ``BATCH_ROWS``. One batch when ``n_rows < 2 * batch_rows``; no
    batch is smaller than ``batch_rows`` (unless it is the only one), so no tail batch of a few
    rows falls to a slower BLAS path. Batched and
    unbatched results agree to rounding: BLAS results for a row already depend (by an ulp or so)
    on its position among the rows of one call.
    """
    # Read at call time, so tests can shrink the batches.
    batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
    bounds = np.linspace(0, n_rows, max(1, n_rows // batch_rows) + 1).astype(np.intp).tolist()
    return [slice(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
