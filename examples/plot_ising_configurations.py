r"""
=====================================================
Ising configurations across the critical temperature
=====================================================

:func:`skqg.datasets.make_ising` draws equilibrium configurations of the two-dimensional Ising
model, spins :math:`s_i = \pm 1` on an :math:`L \times L` square lattice with energy
:math:`E(s) = -J \sum_{\langle ij \rangle} s_i s_j` over nearest neighbours, from the Boltzmann
distribution :math:`p(s) \propto e^{-E(s)/T}`. Each row of ``X`` is one configuration, flattened
in row-major order.

The model orders below Onsager's critical temperature
:math:`T_c = 2J / \ln(1 + \sqrt 2) \approx 2.269\,J`. This example looks at single
configurations on either side of :math:`T_c`, then measures the magnetisation and the energy per
site and compares them with Onsager's exact solution of the infinite lattice.
"""

# %%
# Set-up
# ------
# The documentation build sets ``SKQG_DOCS_QUICK=1`` to run this script on a smaller lattice;
# run on its own, it uses a 64 × 64 lattice.

import math
import os

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import ellipk

from skqg.datasets import make_ising

QUICK = os.environ.get("SKQG_DOCS_QUICK", "").strip().lower() not in {"", "0", "false", "no"}
SIZE = 32 if QUICK else 64  # linear lattice size L
T_C = 2.0 / math.log1p(math.sqrt(2.0))  # Onsager's critical temperature for J = 1

# %%
# One configuration per temperature
# ---------------------------------
# We draw one configuration of a periodic lattice at each of five temperatures. Passing a list of
# temperatures spreads the samples evenly over them, and ``y`` gives each row's temperature.

temperatures = [1.5, 2.0, 2.269, 2.6, 3.5]
X, y = make_ising(len(temperatures), SIZE, temperatures, boundary="periodic", random_state=0)
print(f"X: {X.shape}, entries {np.unique(X)}; y: {y}")

fig, axes = plt.subplots(1, len(temperatures), figsize=(12, 3.2), layout="constrained")
for ax, temperature in zip(axes, temperatures, strict=True):
    spins = X[y == temperature][0].reshape(SIZE, SIZE)
    ax.imshow(spins, cmap="coolwarm", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_title(f"T = {temperature:g}\nT/T$_c$ = {temperature / T_C:.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"Ising configurations on a {SIZE}×{SIZE} periodic lattice (red: +1, blue: −1)")
plt.show()

# %%
# Below :math:`T_c` almost every spin agrees with the majority, with small islands of the
# minority sign. Near :math:`T_c` clusters of many sizes appear, up to that of the lattice: the
# correlation length is as large as the lattice. Above :math:`T_c` the spins decorrelate over a
# few lattice spacings.
#
# Onsager's exact solution
# ------------------------
# For the infinite lattice with :math:`J = 1` and :math:`K = 1/T`, the spontaneous magnetisation
# per site is
#
# .. math::
#
#    m(T) = \left(1 - \sinh(2K)^{-4}\right)^{1/8} \quad (T < T_c), \qquad m(T) = 0
#    \quad (T \ge T_c),
#
# and the energy per site is
#
# .. math::
#
#    u(T) = -\coth(2K) \left[1 + \frac{2}{\pi} \left(2 \tanh^2(2K) - 1\right)
#    K_1(\kappa)\right], \qquad \kappa = \frac{2 \sinh(2K)}{\cosh^2(2K)},
#
# where :math:`K_1(\kappa) = \int_0^{\pi/2} (1 - \kappa^2 \sin^2\theta)^{-1/2}\, d\theta` is the
# complete elliptic integral of the first kind (:func:`scipy.special.ellipk` takes the parameter
# :math:`m = \kappa^2`). At :math:`T_c`, :math:`\kappa = 1` and :math:`K_1` diverges, but its
# prefactor vanishes and :math:`u(T_c) = -\sqrt 2`.


def onsager_magnetisation(temperature):
    """Spontaneous magnetisation per site of the infinite lattice (J = 1)."""
    temperature = np.asarray(temperature, dtype=float)
    ordered = temperature < T_C
    sinh = np.sinh(2.0 / np.where(ordered, temperature, T_C / 2))
    return np.where(ordered, (1.0 - sinh**-4) ** 0.125, 0.0)


def onsager_energy(temperature):
    """Energy per site of the infinite lattice (J = 1)."""
    k = 1.0 / np.asarray(temperature, dtype=float)
    kappa = 2.0 * np.sinh(2 * k) / np.cosh(2 * k) ** 2
    prefactor = 2.0 * np.tanh(2 * k) ** 2 - 1.0
    # The product prefactor * K_1 tends to 0 at T_c, where K_1 is infinite.
    elliptic = np.where(kappa < 1.0, prefactor * ellipk(np.minimum(kappa**2, 1 - 1e-16)), 0.0)
    return -1.0 / np.tanh(2 * k) * (1.0 + 2.0 / np.pi * elliptic)


print(f"T_c = {T_C:.4f}, u(T_c) = {float(onsager_energy(T_C)):.4f} (exact: -sqrt 2 = -1.4142)")

# %%
# Magnetisation and energy against temperature
# --------------------------------------------
# We now sample a few hundred configurations at each temperature of a grid that is denser near
# :math:`T_c` (and contains :math:`T_c` itself), and ask for the energy per site of each row with
# ``return_energy=True``. The sampler keeps recorded rows about three autocorrelation times
# apart, so the standard error of a mean is close to ``std / sqrt(n)``.
#
# Below :math:`T_c` the total magnetisation :math:`M = \sum_i s_i` of a finite periodic lattice
# still flips its sign from time to time, so the order parameter is measured as
# :math:`\langle |M| \rangle / N`.

grid = np.array([1.5, 1.75, 2.0, 2.15, T_C, 2.4, 2.6, 3.0, 3.5])
n_per_temperature = 300
X, y, energy = make_ising(
    n_per_temperature * grid.size, SIZE, grid, return_energy=True, random_state=0
)
abs_magnetisation = np.abs(X.mean(axis=1))

mean_m, sem_m, mean_e, sem_e = [], [], [], []
for temperature in grid:
    rows = y == temperature
    for values, means, sems in ((abs_magnetisation, mean_m, sem_m), (energy, mean_e, sem_e)):
        means.append(values[rows].mean())
        sems.append(values[rows].std(ddof=1) / np.sqrt(rows.sum()))

print(f"{SIZE}×{SIZE} lattice, {n_per_temperature} samples per temperature")
print(f"{'T':>6} {'T/T_c':>6} {'<|m|>':>8} {'Onsager m':>10} {'<E>/N':>8} {'Onsager E/N':>12}")
for temperature, m, e in zip(grid, mean_m, mean_e, strict=True):
    print(
        f"{temperature:6.3f} {temperature / T_C:6.3f} {m:8.4f} "
        f"{float(onsager_magnetisation(temperature)):10.4f} {e:8.4f} "
        f"{float(onsager_energy(temperature)):12.4f}"
    )

# %%
# The measured points follow the exact curves away from :math:`T_c`. Near :math:`T_c` the finite
# lattice rounds the transition: :math:`\langle |m| \rangle` falls smoothly instead of vanishing
# with the exponent :math:`1/8`. Above :math:`T_c`, where the infinite lattice has no
# magnetisation at all, it decreases only to the size of the random fluctuations of the sum of
# :math:`N = L^2` spins, about :math:`\sqrt{2/(\pi N)} \approx 0.8 / L` when they are independent.

fine = np.linspace(1.2, 3.8, 400)
fig, (ax_m, ax_e) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")

ax_m.plot(fine, onsager_magnetisation(fine), color="black", label="Onsager, infinite lattice")
ax_m.errorbar(grid, mean_m, yerr=sem_m, fmt="o", color="C0", label=f"make_ising, L = {SIZE}")
ax_m.set_ylabel(r"magnetisation per site $\langle |M| \rangle / N$")

ax_e.plot(fine, onsager_energy(fine), color="black", label="Onsager, infinite lattice")
ax_e.errorbar(grid, mean_e, yerr=sem_e, fmt="o", color="C1", label=f"make_ising, L = {SIZE}")
ax_e.set_ylabel(r"energy per site $\langle E \rangle / N$")

for ax in (ax_m, ax_e):
    ax.axvline(T_C, color="grey", linestyle=":", label=r"$T_c$")
    ax.set_xlabel("temperature T (units of J / k$_B$)")
    ax.legend()
plt.show()
