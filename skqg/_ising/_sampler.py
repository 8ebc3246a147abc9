"""Driver for the Ising Monte Carlo kernels: lattices, burn-in, autocorrelation and thinning.

The public entry point is :func:`skqg.datasets.make_ising`; this module holds the machinery so
that the command line can also report the measured autocorrelation times.
"""

import math
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from skqg._kernels import ising_monte_carlo
from skqg._parallel import chunk_seeds, numba_threads

#: Critical temperature of the square-lattice Ising model for unit coupling (Onsager).
CRITICAL_TEMPERATURE = 2.0 / math.log1p(math.sqrt(2.0))

#: ``algorithm="auto"`` uses Wolff clusters up to this multiple of T_c, Metropolis above it.
_WOLFF_UP_TO = 1.25

#: Sokal's window constant and the pilot length required, both in units of tau.
_WINDOW_C = 5.0
_PILOT_TAUS = 50.0

#: Rows are spaced by this many integrated autocorrelation times (lag-correlation ~ e^-3).
_THINNING_TAUS = 3.0

_MIN_PILOT_SWEEPS = 64
#: Lattices' worth of spins each chain flips before the Wolff cluster size is measured.
_CALIBRATION_WARMUP = 20
#: Measurements (pooled over chains) that the second half of the burn-in must hold, so that tau
#: is estimated from enough data even with a single chain.
_MIN_PILOT_SAMPLES = 4096
_MAX_PILOT_SWEEPS = 2**17
#: Spin pairs measured, and the largest |correlation| of a spin between consecutive rows.
_SPIN_CHECK_PAIRS = 2**16
_MAX_SPIN_CORRELATION = math.exp(-_THINNING_TAUS)
_MAX_THINNING = 4096
_PRODUCTION_CHUNKS = 20
#: Site updates per compiled production call at most (0.3 to 2 s here): Ctrl-C and the
#: progress bar act between calls, so a long run answers within one of them.
_CHUNK_SITE_UPDATES = 2**26


@dataclass
class Lattice:
    """A ``size x size`` square lattice in the kernels' padded layout.

    ``wrap[0, k]`` and ``wrap[1, k]`` are the previous and next padded coordinates of ``k`` in
    ``1..size``: wrapped around for periodic boundaries, the zero ghost frame (0 or size + 1)
    for open ones.
    """

    size: int
    boundary: str
    wrap: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        size = self.size
        inner = np.arange(1, size + 1)
        wrap = np.zeros((2, size + 2), dtype=np.int64)
        if self.boundary == "periodic":
            wrap[0, 1:-1] = (inner - 2) % size + 1
            wrap[1, 1:-1] = inner % size + 1
        else:
            wrap[0, 1:-1] = inner - 1
            wrap[1, 1:-1] = inner + 1
        self.wrap = wrap

    @property
    def n_sites(self):
        return self.size * self.size


@dataclass
class TemperatureRun:
    """What the sampler did at one temperature."""

    temperature: float
    algorithm: str
    n_samples: int
    n_chains: int
    tau: float
    thinning: int
    burn_in: int
    clusters_per_sweep: int


def critical_temperature(coupling=1.0):
    """Return Onsager's critical temperature ``2 |J| / ln(1 + sqrt 2)`` for coupling ``J``.

    Parameters
    ----------
    coupling : float, default=1.0
        The nearest-neighbour coupling ``J``.

    Returns
    -------
    float
        The critical temperature (0 when ``J = 0``).
    """
    return abs(coupling) * CRITICAL_TEMPERATURE


def integrated_autocorr_time(traces, window_c=_WINDOW_C):
    """Integrated autocorrelation time of several chains of one observable.

    Uses the autocorrelation function averaged over chains (each centred on the pooled mean)
    and Sokal's automatic window: the smallest ``W`` with ``W >= window_c * tau(W)``.

    Parameters
    ----------
    traces : ndarray of shape (n_chains, n_steps)
        The observable along each chain.
    window_c : float, default=5.0
        Sokal's window constant.

    Returns
    -------
    float
        ``tau = 1/2 + sum_{t=1}^{W} rho(t)``, in steps; 0.5 for a constant trace.
    """
    traces = np.asarray(traces, dtype=np.float64)
    n_steps = traces.shape[1]
    centred = traces - traces.mean()
    variance = np.mean(centred**2)
    if not variance > 1e-12 * max(1.0, np.mean(traces**2)):
        return 0.5
    n_fft = 1 << (2 * n_steps - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=n_fft, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=n_fft, axis=1)[:, :n_steps]
    acov = acov.mean(axis=0) / np.arange(n_steps, 0, -1)
    rho = acov / acov[0]
    taus = 0.5 + np.cumsum(rho[1:])
    windows = np.arange(1, n_steps)
    accepted = np.flatnonzero(windows >= window_c * taus)
    tau = taus[accepted[0]] if accepted.size else taus[-1]
    return float(max(tau, 0.5))


def _staggered(size):
    """The checkerboard of signs (-1)^(r + c): the antiferromagnet's order pattern."""
    rows, cols = np.indices((size, size))
    return np.where((rows + cols) % 2 == 0, 1, -1).astype(np.int8)


def _initial_spins(lattice, n_chains, temperature, coupling, rng):
    """Start in the phase of the target temperature: ordered below T_c, random above."""
    size = lattice.size
    spins = np.zeros((n_chains, size + 2, size + 2), dtype=np.int8)
    signs = np.array([-1, 1], dtype=np.int8)
    if coupling != 0 and temperature < critical_temperature(coupling):
        # All up for the ferromagnet, the Neel state for the antiferromagnet.
        pattern = _staggered(size) if coupling < 0 else np.ones((size, size), dtype=np.int8)
        spins[:, 1:-1, 1:-1] = rng.choice(signs, size=(n_chains, 1, 1)) * pattern
    else:
        spins[:, 1:-1, 1:-1] = rng.choice(signs, size=(n_chains, size, size))
    return spins


class KernelArguments(NamedTuple):
    """The kernels' leading positional arguments (see :mod:`skqg._kernels.ising_monte_carlo`)."""

    wrap: np.ndarray
    accept: np.ndarray
    p_add: float
    bond_sign: int
    n_clusters: int
    coupling: float


def _kernel_arguments(lattice, temperature, coupling, n_clusters):
    """Metropolis table, Wolff bond probability and the rest: the kernels' ``*args``."""
    beta = 1.0 / temperature
    delta_energy = 2.0 * coupling * np.arange(-4, 5, dtype=np.float64)  # 2 J s_i h_i
    # Metropolis, except that a move costing no energy is taken with probability 1/2, not 1:
    # a cycle of always-accepted moves must cost no energy at every step, so this leaves no
    # deterministic cycle. With 1, fixed-order sweeps are reducible (4 x 4 periodic: 36
    # zero-energy states form their own cycles; 2 x 2: the sampled energy is wrong).
    accept = np.where(delta_energy == 0, 0.5, np.exp(-beta * np.maximum(delta_energy, 0.0)))
    return KernelArguments(
        wrap=lattice.wrap,
        accept=accept,
        p_add=-math.expm1(-2.0 * beta * abs(coupling)),
        bond_sign=int(np.sign(coupling)),
        n_clusters=n_clusters,
        coupling=coupling,
    )


def _clusters_per_sweep(spins, lattice, temperature, coupling, rng):
    """Wolff clusters per sweep, ``N / <cluster size>``, from single-cluster steps.

    Cluster sizes grow as a chain started at random equilibrates near T_c, so the steps first
    flip ``_CALIBRATION_WARMUP`` lattices' worth of spins per chain, and only then is the mean
    cluster size measured, over at least two lattices' worth. The steps double as the start of
    the burn-in; the count is fixed afterwards, because a sweep whose length depends on the
    visited states would bias the samples.
    """
    args = _kernel_arguments(lattice, temperature, coupling, 1)
    n_sites = lattice.n_sites
    n_steps, flipped_per_chain, warm = _MIN_PILOT_SWEEPS, 0.0, False
    while True:
        _, _, flips = ising_monte_carlo.trace_chains(
            spins, *args, n_steps, chunk_seeds(rng, spins.shape[0])
        )
        mean_cluster = flips.mean()
        if warm:
            return max(1, round(n_sites / mean_cluster))
        flipped_per_chain += flips.sum(axis=1).mean()
        warm = flipped_per_chain >= _CALIBRATION_WARMUP * n_sites
        # Next block: enough clusters to flip about two lattices' worth of spins.
        n_steps = max(_MIN_PILOT_SWEEPS, math.ceil(2 * n_sites / mean_cluster))


def choose_algorithm(algorithm, temperature, coupling):
    """Resolve ``algorithm="auto"``: Wolff near and below T_c, Metropolis well above it.

    With ``J = 0`` it is Wolff (single random flips).
    """
    if algorithm != "auto":
        return algorithm
    if coupling == 0 or temperature <= _WOLFF_UP_TO * critical_temperature(coupling):
        return "wolff"
    return "metropolis"


def _second_half_tau(energies, abs_mags):
    """tau of the energy and |M| traces, the larger of the two, on their second halves."""
    if energies.shape[1] < 4:
        return math.nan
    half = energies.shape[1] // 2
    return max(
        integrated_autocorr_time(energies[:, half:]),
        integrated_autocorr_time(abs_mags[:, half:]),
    )


def _burn_in(spins, args, burn_in, rng):
    """Run the burn-in; with ``burn_in="auto"`` grow it until tau is resolved.

    Returns the number of burn-in sweeps and the integrated autocorrelation time measured on
    the second half of the burn-in (NaN if a given burn-in is too short to measure it).
    """
    n_chains = spins.shape[0]
    if burn_in != "auto":
        if burn_in == 0:
            return 0, math.nan
        energies, abs_mags = _traced_sweeps(spins, args, burn_in, rng)
        return burn_in, _second_half_tau(energies, abs_mags)

    energy_parts, mag_parts = [], []
    total = 0
    step = _MIN_PILOT_SWEEPS
    while True:
        energies, abs_mags = _traced_sweeps(spins, args, step, rng)
        energy_parts.append(energies)
        mag_parts.append(abs_mags)
        total += step
        tau = _second_half_tau(
            np.concatenate(energy_parts, axis=1), np.concatenate(mag_parts, axis=1)
        )
        measured = total - total // 2
        if measured * n_chains >= _MIN_PILOT_SAMPLES and measured >= _PILOT_TAUS * tau:
            return total, tau
        if total >= _MAX_PILOT_SWEEPS:
            warnings.warn(
                f"The autocorrelation time (about {tau:.0f} sweeps) is not resolved after "
                f"{total} burn-in sweeps; samples may be correlated. Use algorithm='wolff' "
                "near T_c or pass thinning and burn_in explicitly.",
                RuntimeWarning,
                stacklevel=6,  # the caller of make_ising
            )
            return total, tau
        step = total  # double the pilot length


def _traced_sweeps(spins, args, n_sweeps, rng):
    """``n_sweeps`` sweeps of every chain, with the energy and ``|M|`` after each, in compiled
    calls of at most ``_CHUNK_SITE_UPDATES`` site updates (Ctrl-C acts between calls)."""
    n_chains, n_sites = spins.shape[0], (spins.shape[1] - 2) ** 2
    chunk = max(1, _CHUNK_SITE_UPDATES // (n_chains * n_sites))
    energy_parts, mag_parts = [], []
    for start in range(0, n_sweeps, chunk):
        energies, abs_mags, _ = ising_monte_carlo.trace_chains(
            spins, *args, min(chunk, n_sweeps - start), chunk_seeds(rng, n_chains)
        )
        energy_parts.append(energies)
        mag_parts.append(abs_mags)
    return np.concatenate(energy_parts, axis=1), np.concatenate(mag_parts, axis=1)


def spin_lag_correlation(configurations, pattern=None):
    """Connected correlation of each spin with itself one recorded row later, within chains.

    Parameters
    ----------
    configurations : ndarray of shape (n_chains, n_rows, n_sites)
        Consecutive recorded rows of each chain.
    pattern : ndarray of shape (n_sites,), optional
        Signs multiplying the spins before ``m(t)`` is taken: the checkerboard for an
        antiferromagnet, whose order parameter is the staggered magnetisation.

    Returns
    -------
    float
        ``<s_i(t) s_i(t + 1)> - <m(t) m(t + 1)>`` averaged over sites, rows and chains, with
        ``m(t)`` the row's mean spin: the local memory of the dynamics, without the global
        magnetisation (whose slow flips below T_c the tau of ``|M|`` covers).
    """
    values = configurations.astype(np.float64)
    if pattern is not None:
        values *= pattern
    site_products = np.mean(values[:, :-1] * values[:, 1:], axis=2)
    row_means = values.mean(axis=2)
    return float(np.mean(site_products - row_means[:, :-1] * row_means[:, 1:]))


def _decorrelating_thinning(spins, args, thinning, rng):
    """Raise ``thinning`` until single spins are decorrelated between recorded rows.

    tau of E and |M| misses one failure: at high temperature Metropolis flips most spins at
    every sweep, so a spin anticorrelates with itself at odd lags (-0.22 at T = 50 with
    thinning 15, measured) while E and |M| look uncorrelated. The check runs the chains (it is
    more burn-in) and takes the lag-one spin correlation over at least 2**16 spin pairs.
    """
    n_chains, size = spins.shape[0], spins.shape[1] - 2
    n_sites = size * size
    pattern = _staggered(size).ravel() if args.bond_sign < 0 else None
    n_rows = max(8, math.ceil(_SPIN_CHECK_PAIRS / (n_chains * n_sites)) + 1)
    while True:
        configurations, _ = ising_monte_carlo.sample_chains(
            spins, *args, n_rows, thinning, chunk_seeds(rng, n_chains)
        )
        correlation = spin_lag_correlation(configurations, pattern)
        if abs(correlation) <= _MAX_SPIN_CORRELATION:
            return thinning
        if thinning >= _MAX_THINNING:
            warnings.warn(
                f"Single spins stay correlated ({correlation:+.2f}) between rows "
                f"{thinning} sweeps apart; rows are not independent. Use algorithm='wolff'.",
                RuntimeWarning,
                stacklevel=6,  # the caller of make_ising
            )
            return thinning
        thinning = min(_MAX_THINNING, max(thinning + 1, math.ceil(1.25 * thinning)))


def sample_temperature(
    lattice,
    temperature,
    n_samples,
    *,
    coupling,
    algorithm,
    n_chains,
    thinning,
    burn_in,
    rng,
    progress=None,
):
    """Draw ``n_samples`` decorrelated configurations at one temperature.

    Returns
    -------
    configurations : ndarray of int8, shape (n_samples, n_sites)
    energies : ndarray of float64, shape (n_samples,)
        Total energies.
    run : TemperatureRun
    """
    algorithm = choose_algorithm(algorithm, temperature, coupling)
    n_chains = min(n_chains, n_samples)
    spins = _initial_spins(lattice, n_chains, temperature, coupling, rng)
    n_clusters = 0
    if algorithm == "wolff":
        n_clusters = _clusters_per_sweep(spins, lattice, temperature, coupling, rng)
    args = _kernel_arguments(lattice, temperature, coupling, n_clusters)
    n_burn, tau = _burn_in(spins, args, burn_in, rng)
    if thinning == "auto":
        if math.isnan(tau):
            raise ValueError(
                f"thinning='auto' measures the autocorrelation time during the burn-in, and "
                f"burn_in={burn_in} is too short for that: use burn_in='auto' (or >= 4), or "
                "give thinning explicitly."
            )
        thinning = min(_MAX_THINNING, max(1, math.ceil(_THINNING_TAUS * tau)))
        thinning = _decorrelating_thinning(spins, args, thinning, rng)

    per_chain = math.ceil(n_samples / n_chains)
    # The chunking depends on the sizes only, so progress reporting never changes the result.
    per_row = n_chains * int(thinning) * lattice.n_sites
    chunk = max(1, min(math.ceil(per_chain / _PRODUCTION_CHUNKS), _CHUNK_SITE_UPDATES // per_row))
    configurations, energies = [], []
    done = 0
    while done < per_chain:
        count = min(chunk, per_chain - done)
        conf, energy = ising_monte_carlo.sample_chains(
            spins, *args, count, int(thinning), chunk_seeds(rng, n_chains)
        )
        # Interleave chains so that dropping the surplus rows drops the latest ones.
        configurations.append(conf.transpose(1, 0, 2).reshape(-1, lattice.n_sites))
        energies.append(energy.T.ravel())
        done += count
        if progress is not None:
            progress(min(done * n_chains, n_samples) - min((done - count) * n_chains, n_samples))
    run = TemperatureRun(
        temperature=float(temperature),
        algorithm=algorithm,
        n_samples=n_samples,
        n_chains=n_chains,
        tau=tau,
        thinning=int(thinning),
        burn_in=n_burn,
        clusters_per_sweep=n_clusters,
    )
    return (
        np.concatenate(configurations)[:n_samples],
        np.concatenate(energies)[:n_samples],
        run,
    )


def sample_ising(
    n_samples_per_temperature,
    temperatures,
    size,
    *,
    coupling,
    boundary,
    algorithm,
    n_chains,
    thinning,
    burn_in,
    random_state,
    n_jobs,
    progress=None,
):
    """Sample every temperature in turn; inputs are assumed validated.

    Returns
    -------
    configurations : ndarray of int8, shape (n_samples, size * size)
    temperatures : ndarray of float64, shape (n_samples,)
    energies : ndarray of float64, shape (n_samples,)
        Total energies.
    runs : list of TemperatureRun
    """
    lattice = Lattice(size, boundary)
    parts, temps, energies, runs = [], [], [], []
    with numba_threads(n_jobs):
        for temperature, count in zip(temperatures, n_samples_per_temperature, strict=True):
            conf, energy, run = sample_temperature(
                lattice,
                temperature,
                int(count),
                coupling=coupling,
                algorithm=algorithm,
                n_chains=n_chains,
                thinning=thinning,
                burn_in=burn_in,
                rng=random_state,
                progress=progress,
            )
            parts.append(conf)
            energies.append(energy)
            temps.append(np.full(count, float(temperature)))
            runs.append(run)
    return np.concatenate(parts), np.concatenate(temps), np.concatenate(energies), runs
