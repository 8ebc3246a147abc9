r"""
==============================================
The RBM flow of the Ising temperature
==============================================

Iso, Shiba and Yokoo (2018, "Scale-invariant feature extraction of neural network and
renormalization group flow") trained a restricted Boltzmann machine on Ising configurations
drawn at many temperatures, from close to 0 up to 6, and then iterated it: a configuration
:math:`v_0` gives hidden units :math:`h_1 \sim P(h \mid v_0)`, which give a reconstruction
:math:`v_1 \sim P(v \mid h_1)`, and so on. Reading the temperature of :math:`v_0, v_1, v_2, \dots`
they saw it move toward the critical temperature :math:`T_c \approx 2.269` from both sides,
the opposite of the renormalisation-group flow of the Ising model, which runs away from
:math:`T_c`.

This example repeats the experiment with :class:`skqg.RBMCoarseGrainer` and
:func:`skqg.rg.rbm_flow` on a 10 × 10 periodic lattice. The thermometer is exact rather than a
trained classifier: the mean energy per site of the flowed configurations
(:func:`skqg.rg.ising_energy`) is converted into the temperature at which the 10 × 10 lattice
has that mean energy, from Kaufman's exact solution (:func:`skqg.rg.ising_temperature`).

One fact frames the measurement. Each step of the flow is a step of block Gibbs sampling of the
RBM, a Markov chain whose stationary distribution is the RBM's own model distribution. Long
flows therefore end at the *model's equilibrium*, whatever their start; the question is where
that equilibrium sits and how the flow gets there.
"""

# %%
# Set-up
# ------
# The documentation build sets ``SKQG_DOCS_QUICK=1``: then 100 training configurations per
# temperature and flows of 100 steps from 100 configurations per start; run on its own, the
# script uses 1 000 training configurations per temperature and flows of 500 steps from 300
# configurations per start.

import math
import os

import matplotlib.pyplot as plt
import numpy as np

from skqg import RBMCoarseGrainer
from skqg.datasets import make_ising
from skqg.rg import exact_ising_energy, ising_energy, ising_temperature, rbm_flow

QUICK = os.environ.get("SKQG_DOCS_QUICK", "").strip().lower() not in {"", "0", "false", "no"}
SIZE = 10  # linear lattice size L
SHAPE = (SIZE, SIZE)
N_PER_TEMPERATURE = 100 if QUICK else 1_000
N_STEPS = 100 if QUICK else 500
N_FLOW = 100 if QUICK else 300  # configurations per starting temperature
T_C = 2.0 / math.log1p(math.sqrt(2.0))  # Onsager's critical temperature for J = 1

temperatures = 0.25 * np.arange(1, 25)  # 0.25, 0.5, ..., 6.0
X, y = make_ising(N_PER_TEMPERATURE * temperatures.size, SIZE, temperatures, random_state=0)
print(
    f"{SIZE}x{SIZE} periodic lattice, {N_PER_TEMPERATURE} configurations at each of "
    f"{temperatures.size} temperatures from {temperatures[0]:g} to {temperatures[-1]:g}; "
    f"X {X.shape}"
)

# %%
# The thermometer
# ---------------
# :func:`~skqg.rg.exact_ising_energy` is the exact mean energy per site of the 10 × 10 torus,
# which increases with the temperature; :func:`~skqg.rg.ising_temperature` inverts it. Applied to
# the samples of each training temperature, it should return that temperature, up to the
# sampling error of a mean over the samples.


def thermometer(configurations):
    """Temperature whose exact mean energy equals the configurations' mean energy per site."""
    return ising_temperature(float(ising_energy(configurations, SHAPE).mean()), SIZE)


print("thermometer on the training samples:")
for temperature in (1.0, 2.25, 4.0):
    print(f"  T = {temperature:4.2f} -> {thermometer(X[np.isclose(y, temperature)]):.3f}")

# %%
# The thermometer also gives a temperature to the whole training set. A perfect model of the
# training data would have exactly that mean energy, so this is where the flow of a perfectly
# trained RBM would end. It is not :math:`T_c`: it is the temperature whose energy is the average
# of the energies of the training temperatures.

mixture = thermometer(X)
exact_mixture = ising_temperature(float(exact_ising_energy(temperatures, SIZE).mean()), SIZE)
print(
    f"whole training set: T = {mixture:.3f} (from the exact energies of the {temperatures.size} "
    f"temperatures: {exact_mixture:.3f}); T_c = {T_C:.3f}"
)

# %%
# Training the RBM
# ----------------
# As in Iso, Shiba and Yokoo, the RBM has fewer hidden units (64) than visible ones (100) and is
# trained on all temperatures at once, without their labels. ``visible="spin"`` takes the
# :math:`\pm 1` spins as they are; training uses persistent contrastive divergence (the default)
# with mini-batches of 50 and a learning rate of 0.01.

rbm = RBMCoarseGrainer(
    n_components=64,
    visible="spin",
    batch_size=50,
    learning_rate=0.01,
    n_iter=20,
    random_state=0,
).fit(X)

# The model's own equilibrium: independent Gibbs chains, each started from the visible biases.
n_chains, n_sweeps = (200, 500) if QUICK else (1_000, 1_000)
equilibrium = thermometer(rbm.sample(n_chains, n_steps=n_sweeps, random_state=0))
print(f"RBM equilibrium ({n_chains} chains, {n_sweeps} Gibbs sweeps): T = {equilibrium:.3f}")

# %%
# The flow
# --------
# :func:`~skqg.rg.rbm_flow` iterates ``v -> h -> v'`` by Gibbs sampling (the spins stay
# :math:`\pm 1`) and returns every step. We start it from training configurations of seven
# temperatures, all in one call, and read the temperature of each start's configurations along
# the flow.

starts = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]
rows = [np.flatnonzero(np.isclose(y, start))[:N_FLOW] for start in starts]
flow = rbm_flow(rbm, X[np.concatenate(rows)], N_STEPS, random_state=0)

# Read the thermometer at every step up to 10, then at about 15 steps spaced evenly on a log
# scale (each reading solves an equation, so we do not read all of them), and at the steps of
# the table below.
steps = [s for s in (0, 1, 2, 5, 10, 20, 50, 100, 200, 500) if s <= N_STEPS]
log_spaced = np.geomspace(10, N_STEPS, 15).round()
measured = np.unique(np.r_[np.arange(11), log_spaced, steps].astype(int))
energy = ising_energy(flow[measured].reshape(-1, SIZE * SIZE), SHAPE).reshape(measured.size, -1)
groups = np.split(np.arange(energy.shape[1]), np.cumsum([len(r) for r in rows])[:-1])
mean_energy = np.stack([energy[:, group].mean(axis=1) for group in groups])
flow_temperature = ising_temperature(mean_energy, SIZE)  # shape (n_starts, n_measured)

# The sampling error of the last step's temperature: the thermometer at the mean energy plus and
# minus one standard error.
last_sem = np.array([energy[-1, group].std(ddof=1) / np.sqrt(len(group)) for group in groups])
last_low = ising_temperature(mean_energy[:, -1] - last_sem, SIZE)
last_high = ising_temperature(mean_energy[:, -1] + last_sem, SIZE)

column = {step: int(np.searchsorted(measured, step)) for step in steps}
print(f"temperature along the flow ({N_FLOW} configurations per start)")
print(f"{'start':>6} " + " ".join(f"{f't={s}':>6}" for s in steps) + "   last step ±1 s.e.")
for start, temps, low, high in zip(starts, flow_temperature, last_low, last_high, strict=True):
    print(
        f"{start:6.2f} "
        + " ".join(f"{temps[column[s]]:6.3f}" for s in steps)
        + f"   [{low:.3f}, {high:.3f}]"
    )

fig, ax = plt.subplots(figsize=(9.5, 4.8), layout="constrained")
for start, temps in zip(starts, flow_temperature, strict=True):
    ax.plot(measured, temps, marker="o", markersize=2.5, label=f"start T = {start:g}")
ax.axhline(T_C, color="black", linestyle="--", label=f"$T_c$ = {T_C:.3f}")
ax.axhline(equilibrium, color="C7", linestyle="-.", label=f"RBM equilibrium, {equilibrium:.2f}")
ax.axhline(mixture, color="C8", linestyle=":", label=f"training set, {mixture:.2f}")
ax.set_xscale("symlog", linthresh=1)
ax.set_xlim(0, N_STEPS)
ax.set_xlabel("flow step t (v → h → v′ Gibbs steps)")
ax.set_ylabel("temperature from the mean energy")
ax.set_title(f"RBM flow on the {SIZE}×{SIZE} lattice")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %%
# Does the flow go toward :math:`T_c`?
# ------------------------------------
# Three numbers per step answer it: the range of the temperatures over the seven starts (a flow
# that forgets its start contracts it), their mean distance from :math:`T_c`, and their mean
# distance from the RBM's own equilibrium.

print(f"{'step':>5} {'range over starts':>18} {'mean |T - T_c|':>15} {'mean |T - T_eq|':>16}")
for s in steps:
    temps = flow_temperature[:, column[s]]
    print(
        f"{s:5d} {np.ptp(temps):18.3f} {np.mean(np.abs(temps - T_C)):15.3f} "
        f"{np.mean(np.abs(temps - equilibrium)):16.3f}"
    )
print("closest approach of each start to T_c (over the steps read):")
for start, temps in zip(starts, flow_temperature, strict=True):
    nearest = int(np.argmin(np.abs(temps - T_C)))
    print(
        f"  start {start:4.2f}: step {measured[nearest]:3d}, T = {temps[nearest]:.3f}, "
        f"|T - T_c| = {abs(temps[nearest] - T_C):.3f}"
    )
closest = int(np.argmin(np.mean(np.abs(flow_temperature - T_C), axis=0)))
print(
    f"closest approach to T_c (mean over starts, steps read): step {measured[closest]}, "
    f"mean |T - T_c| = {np.mean(np.abs(flow_temperature[:, closest] - T_C)):.3f}; "
    f"at the last step the starts "
    f"average T = {flow_temperature[:, -1].mean():.3f} (RBM equilibrium {equilibrium:.3f}, "
    f"T_c {T_C:.3f}, training set {mixture:.3f})"
)

# %%
# How to read the tables. If the range over starts shrinks along the flow, the RBM forgets the
# temperature it started from. Where the configurations go is the next question, and the two
# distance columns answer it: a mean distance from :math:`T_c` that falls and stays small means
# the flow goes to :math:`T_c`; one that falls and then rises again means the flow only passes
# near :math:`T_c`; a mean distance from the RBM's equilibrium that keeps falling means the flow
# heads for the model's equilibrium, as the Markov-chain argument of the introduction requires of
# a long enough flow. The per-start lines show the behaviour Iso, Shiba and Yokoo described if
# the starts come within a few hundredths of :math:`T_c` (for instance the ordered starts, after
# one or two steps) and stay close for a while; compare the table's later columns to see how long
# they stay.
#
# The end point of a long flow is thus a property of the trained model, not of the Ising model:
# it is near :math:`T_c` only if the RBM's equilibrium is. The training set's own temperature,
# the end point of a perfect model of these data, is printed beside it. Other numbers of hidden
# units, learning rates or epochs move the RBM's equilibrium and with it the end of the flow.
# An energy thermometer measures this directly; Veiga and Vicente (2020, "Restricted Boltzmann
# machine flows and the critical temperature of Ising models") argued that the neural-network
# thermometer of the original study is not a reliable way to tell whether the RBM has learned
# anything about the critical point.
