"""Data generators: real samplers, in the style of :mod:`sklearn.datasets` ``make_*`` functions."""

import numpy as np

from skqg._ising import IsingOptions, sample_dataset

__all__ = ["make_ising"]


def make_ising(
    n_samples,
    size,
    temperature,
    *,
    coupling=1.0,
    boundary="periodic",
    algorithm="auto",
    spins=True,
    n_chains=16,
    thinning="auto",
    burn_in="auto",
    shuffle=True,
    dtype=np.float64,
    return_energy=False,
    verbose=False,
    n_jobs=None,
    random_state=None,
):
    r"""Sample equilibrium configurations of the 2-D Ising model.

    Draws configurations of ``size x size`` spins :math:`s_i = \pm 1` from the Boltzmann
    distribution :math:`p(s) \propto e^{-E(s)/T}`, :math:`E(s) = -J \sum_{\langle ij \rangle}
    s_i s_j` over nearest neighbours, by Markov chain Monte Carlo on Numba kernels: Wolff
    cluster updates near and below the critical temperature
    :math:`T_c = 2J / \ln(1 + \sqrt 2) \approx 2.269\,J` (where single-spin dynamics slow
    down), checkerboard Metropolis with a precomputed acceptance table above it (a move that
    costs no energy is accepted with probability 1/2, which keeps fixed-order sweeps ergodic).

    Each temperature runs ``n_chains`` independent chains in parallel. Chains start in the
    phase of the target temperature (ordered below :math:`T_c`, random above) and burn in until
    the integrated autocorrelation time :math:`\tau` of the energy and of :math:`|M|` is
    resolved: the burn-in lasts at least :math:`100\,\tau` sweeps, and :math:`\tau` is
    estimated on its second half. A configuration is then recorded every
    :math:`\lceil 3\tau \rceil` sweeps, so consecutive rows of a chain are correlated by
    about :math:`e^{-3}`; the spacing is raised further if single spins still remember their
    value (Metropolis at high temperature flips most spins at every sweep, which the energy and
    :math:`|M|` do not show). A sweep is :math:`N = L^2` spin-flip attempts (Metropolis) or a
    fixed number of Wolff clusters that flips about :math:`N` spins on average. For an
    antiferromagnet (``J < 0``) the order parameter is the staggered magnetisation.

    Parameters
    ----------
    n_samples : int
        Number of configurations (rows), at least 1 and at least one per temperature.
    size : int
        Linear size ``L >= 2`` of the square lattice; each row has ``L * L`` entries in
        row-major order.
    temperature : float or array-like of float
        Temperature ``T > 0`` in units of ``J / k_B``. With several temperatures the samples are
        spread over them as evenly as possible (the first ``n_samples % len(temperature)`` get
        one more).
    coupling : float, default=1.0
        Nearest-neighbour coupling ``J``: positive for a ferromagnet, negative for an
        antiferromagnet.
    boundary : {"periodic", "open"}, default="periodic"
        Periodic (torus) or open (free) boundary conditions.
    algorithm : {"auto", "wolff", "metropolis"}, default="auto"
        ``"auto"`` uses Wolff for ``T <= 1.25 T_c`` and Metropolis above. Both are exact MCMC
        samplers at every temperature; the choice only changes the speed.
    spins : bool, default=True
        If true, entries are -1 and +1; otherwise 0 and 1 (``(s + 1) / 2``).
    n_chains : int, default=16
        Independent chains per temperature (fewer if fewer samples are asked for). Kept fixed
        so that results do not depend on the number of threads.
    thinning : "auto" or int, default="auto"
        Sweeps between recorded configurations; ``"auto"`` is ``ceil(3 tau)``.
    burn_in : "auto" or int, default="auto"
        Sweeps discarded before recording; ``"auto"`` grows the burn-in until it is at least
        ``100 tau`` (capped at 131 072 sweeps, with a ``RuntimeWarning`` if ``tau`` is still
        not resolved).
    shuffle : bool, default=True
        Shuffle the rows (as scikit-learn's generators do). If false, rows are grouped by
        temperature in the order given.
    dtype : numpy dtype, default=np.float64
        Data type of ``X``; ``np.int8`` saves memory for large samples.
    return_energy : bool, default=False
        If true, also return the energy per site of each row.
    verbose : bool, default=False
        Show a progress bar (tqdm) on standard error.
    n_jobs : int or None, default=None
        Numba threads to use (``None``: the current setting; ``-1``: all). The result does not
        depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible samples.

    Returns
    -------
    X : ndarray of shape (n_samples, size * size)
        The configurations.
    y : ndarray of float64, shape (n_samples,)
        The temperature of each row.
    energy : ndarray of float64, shape (n_samples,)
        Energy per site ``E / L**2`` of each row, only if ``return_energy`` is true.

    Raises
    ------
    ValueError
        If ``size < 2``, ``n_samples < 1``, a temperature is not finite or not positive, or an
        option is not one of the allowed values.

    See Also
    --------
    sklearn.datasets.make_classification : The scikit-learn generator conventions followed here.

    Notes
    -----
    Below ``T_c`` the sign of the magnetisation is a slow mode that the thinning does not wait
    for: Wolff flips it every few sweeps, Metropolis almost never on a large lattice. Each chain
    starts with a random sign, so the sample holds both; use ``|M|`` for order-parameter
    statistics. Results are reproducible with ``random_state`` whatever the thread count.

    References
    ----------
    .. [1] U. Wolff, "Collective Monte Carlo updating for spin systems", Phys. Rev. Lett. 62,
       361 (1989).
    .. [2] A. D. Sokal, "Monte Carlo methods in statistical mechanics: foundations and new
       algorithms" (1996): the automatic windowing estimate of ``tau`` used here.

    Examples
    --------
    >>> import numpy as np
    >>> from skqg.datasets import make_ising
    >>> X, y = make_ising(200, 8, [1.5, 3.5], random_state=0)
    >>> X.shape
    (200, 64)
    >>> np.unique(y).tolist()
    [1.5, 3.5]
    >>> m = abs(X.mean(axis=1))
    >>> bool(m[y == 1.5].mean() > 0.9 > m[y == 3.5].mean())
    True
    """
    options = IsingOptions(
        coupling=coupling,
        boundary=boundary,
        algorithm=algorithm,
        spins=spins,
        n_chains=n_chains,
        thinning=thinning,
        burn_in=burn_in,
        shuffle=shuffle,
        dtype=dtype,
        verbose=verbose,
        n_jobs=n_jobs,
        random_state=random_state,
    )
    X, y, energies, _ = sample_dataset(n_samples, size, temperature, options)
    if return_energy:
        return X, y, energies
    return X, y
