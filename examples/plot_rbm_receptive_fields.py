r"""
=======================================================
Learned receptive fields of an RBM on critical Ising
=======================================================

Kadanoff's block-spin transformation coarse-grains a lattice of spins :math:`s_i = \pm 1` by
cutting it into :math:`b \times b` blocks and replacing each block by one spin, for instance the
sign of its sum (majority rule). Mehta and Schwab (2014, "An exact mapping between the
variational renormalization group and deep learning") pointed out that a restricted Boltzmann
machine does a variational version of the same thing: its hidden units :math:`h_j` are
coarse-grained variables, coupled to the spins by the weights :math:`W_{ji}`, and the energy

.. math::

   E(v, h) = -a^\top v - b^\top h - h^\top W v

defines the coarse-graining :math:`P(h \mid v)`. They trained RBMs on two-dimensional Ising
configurations near the critical temperature with an L1 penalty on the weights, and found that
the hidden units' weights, seen as images on the lattice (their *receptive fields*), were local
blobs, like the blocks of a block-spin rule.

This example trains :class:`skqg.RBMCoarseGrainer` on configurations from
:func:`skqg.datasets.make_ising` at Onsager's :math:`T_c = 2 / \ln(1 + \sqrt 2) \approx 2.269`,
with as many hidden units as there are :math:`2 \times 2` blocks, and measures how local its
receptive fields are with :func:`skqg.rg.receptive_field_spread`: the root-mean-square distance,
in lattice spacings, of a unit's squared weights from their centre on the periodic lattice. The
references are the :math:`2 \times 2` block-spin rule of :func:`skqg.rg.block_spin`, the same
RBM trained without the L1 penalty, and random weights.
"""

# %%
# Set-up
# ------
# The documentation build sets ``SKQG_DOCS_QUICK=1`` to run this script on a 16 × 16 lattice
# with 3 000 training configurations; run on its own, it uses a 24 × 24 lattice and 6 000.

import math
import os

import matplotlib.pyplot as plt
import numpy as np

from skqg import RBMCoarseGrainer
from skqg.datasets import make_ising
from skqg.rg import block_spin, receptive_field_spread

QUICK = os.environ.get("SKQG_DOCS_QUICK", "").strip().lower() not in {"", "0", "false", "no"}
SIZE = 16 if QUICK else 24  # linear lattice size L
N_TRAIN = 3_000 if QUICK else 6_000
T_C = 2.0 / math.log1p(math.sqrt(2.0))  # Onsager's critical temperature for J = 1
SHAPE = (SIZE, SIZE)
N_SITES = SIZE * SIZE
N_HIDDEN = N_SITES // 4  # one hidden unit per 2 x 2 block

X, _ = make_ising(N_TRAIN, SIZE, T_C, dtype=np.float32, random_state=0)
print(
    f"{SIZE}x{SIZE} periodic lattice at T = {T_C:.4f}: {N_TRAIN} configurations; "
    f"|M| per site: mean {np.abs(X.mean(axis=1)).mean():.3f}, "
    f"median {np.median(np.abs(X.mean(axis=1))):.3f}"
)

# %%
# The block-spin rule
# -------------------
# :func:`~skqg.rg.block_spin` with the majority rule turns each configuration into one on a
# lattice :math:`b` times smaller in each direction. We show it on a typical configuration, the
# one whose :math:`|M|` is the median of the sample.

abs_m = np.abs(X.mean(axis=1))
typical = X[[np.argmin(np.abs(abs_m - np.median(abs_m)))]]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
panels = [
    (typical.reshape(SHAPE), f"configuration, {SIZE}×{SIZE}"),
    (block_spin(typical, SHAPE, b=2).reshape(SIZE // 2, SIZE // 2), "majority rule, b = 2"),
    (block_spin(typical, SHAPE, b=4).reshape(SIZE // 4, SIZE // 4), "majority rule, b = 4"),
]
for ax, (spins, title) in zip(axes, panels, strict=True):
    ax.imshow(spins, cmap="coolwarm", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("A critical configuration and its block spins (red: +1, blue: −1)")
plt.show()

# %%
# The block *average* (``rule="mean"``) is linear in the spins, so it has weights we can compare
# with an RBM's: applying it to the identity matrix (each row one site set to 1, a valid
# configuration of bits) gives, column by column, the weights of each block. Each row of
# ``block_fields`` is 1/4 on the four sites of one block and 0 elsewhere.

block_fields = block_spin(np.eye(N_SITES), SHAPE, b=2, rule="mean").T
print(f"block-spin fields: {block_fields.shape}, values {np.unique(block_fields)}")

# %%
# Training the RBM
# ----------------
# As in Mehta and Schwab, the RBM is trained by contrastive divergence (``method="cd"``, one
# Gibbs step) with an L1 penalty on the weights, here ``l1=0.01``; ``visible="spin"`` takes the
# :math:`\pm 1` spins as they are. A second RBM, identical but with ``l1=0``, shows what the
# penalty does. Both have ``n_components`` equal to the number of :math:`2 \times 2` blocks.


def train(l1):
    rbm = RBMCoarseGrainer(
        n_components=N_HIDDEN,
        visible="spin",
        method="cd",
        batch_size=50,
        learning_rate=0.01,
        n_iter=20,
        l1=l1,
        random_state=0,
    )
    return rbm.fit(X)


rbm_l1 = train(l1=0.01)
rbm_free = train(l1=0.0)

# The random baseline: Gaussian weights with the RMS of the L1 RBM's weights.
rms = float(np.sqrt(np.mean(rbm_l1.components_.astype(np.float64) ** 2)))
random_fields = np.random.RandomState(0).normal(0.0, rms, (N_HIDDEN, N_SITES))

fields = {
    "block spin (b = 2)": block_fields,
    "RBM, l1 = 0.01": rbm_l1.components_,
    "RBM, l1 = 0": rbm_free.components_,
    "random weights": random_fields,
}

# %%
# Receptive fields on the lattice
# -------------------------------
# Each row of ``components_`` reshaped to the lattice is one hidden unit's receptive field. We
# show eight units of each, the same indices in every row (spaced evenly, so that the block-spin
# row shows blocks across the lattice; the order of an RBM's units carries no meaning), each on
# its own colour scale, symmetric about zero.

shown = np.linspace(0, N_HIDDEN - 1, 8).astype(int)
fig, axes = plt.subplots(len(fields), 8, figsize=(11, 6), layout="constrained")
for row, (name, weights) in zip(axes, fields.items(), strict=True):
    for ax, field in zip(row, weights[shown], strict=True):
        limit = np.abs(field).max()
        ax.imshow(
            field.reshape(SHAPE), cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
        )
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, fontsize=9)
fig.suptitle(f"Receptive fields on the {SIZE}×{SIZE} lattice (red: positive, blue: negative)")
plt.show()

# %%
# How local are they?
# -------------------
# :func:`~skqg.rg.receptive_field_spread` gives each field's spread in lattice spacings: about
# 0.71 for a :math:`2 \times 2` block and :math:`\sqrt{2 (L^2 - 1) / 12}` for weights spread
# evenly over the whole :math:`L \times L` lattice. A uniform :math:`b \times b` block has spread
# :math:`\sqrt{(b^2 - 1) / 6}`, so a spread :math:`\sigma` is that of a block of side
# :math:`b_\text{eq} = \sqrt{6 \sigma^2 + 1}`.
#
# Two more numbers per unit:
#
# * *sign coherence* :math:`|\sum_i W_{ji}| / \sum_i |W_{ji}|`: 1 when all the weights have one
#   sign, as in a block average, near 0 for weights of random signs (median over units; a unit
#   with all-negative weights is as block-like as one with all-positive weights, it just
#   switches on for a block of down spins);
# * whether the spread is below half the uniform value (counted as *local* in the table).
#
# A unit counts as *inactive* when its weight norm is below 5 % of the median norm of its layer
# (an L1 penalty can switch units off). Inactive units are included in the medians.

uniform = float(receptive_field_spread(np.ones((1, N_SITES)), SHAPE)[0])
spreads, summary = {}, {}
for name, weights in fields.items():
    weights = np.asarray(weights, dtype=np.float64)
    spreads[name] = receptive_field_spread(weights, SHAPE)
    norms = np.linalg.norm(weights, axis=1)
    summary[name] = {
        "spread": np.percentile(spreads[name], [50, 25, 75]),
        "coherence": np.median(np.abs(weights.sum(axis=1)) / np.abs(weights).sum(axis=1)),
        "local": int(np.count_nonzero(spreads[name] < uniform / 2)),
        "inactive": int(np.count_nonzero(norms < 0.05 * np.median(norms))),
    }

print(f"{SIZE}x{SIZE} lattice, {N_HIDDEN} units; uniform over the lattice: spread {uniform:.2f}")
print(
    f"{'fields':<19} {'spread: median [q25, q75]':>26} {'b_eq':>5} {'coherence':>9} "
    f"{'local':>7} {'inactive':>8}"
)
for name, row in summary.items():
    median, q25, q75 = row["spread"]
    print(
        f"{name:<19} {median:12.2f} [{q25:5.2f}, {q75:5.2f}] {math.sqrt(6 * median**2 + 1):5.1f} "
        f"{row['coherence']:9.2f} {row['local']:>3}/{N_HIDDEN} {row['inactive']:>4}/{N_HIDDEN}"
    )

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
bins = np.linspace(0, uniform * 1.1, 60)
for name in ("RBM, l1 = 0.01", "RBM, l1 = 0", "random weights"):
    ax.hist(spreads[name], bins=bins, alpha=0.6, label=name)
ax.axvline(spreads["block spin (b = 2)"][0], color="black", label="2×2 block")
ax.axvline(uniform, color="grey", linestyle=":", label="uniform over the lattice")
ax.set_xlabel("receptive-field spread (lattice spacings)")
ax.set_ylabel("hidden units")
ax.legend()
plt.show()

# %%
# What the numbers say
# --------------------
# The script compares the medians: the L1 RBM's spread against the random weights' (locality
# that is learned, not an accident of the measure), against the unpenalised RBM's (what the
# penalty contributes) and against the :math:`2 \times 2` block (how close it comes to the
# block-spin rule).

l1_spread = summary["RBM, l1 = 0.01"]["spread"][0]
free_spread = summary["RBM, l1 = 0"]["spread"][0]
random_spread = summary["random weights"]["spread"][0]
block_spread = summary["block spin (b = 2)"]["spread"][0]
print(
    f"median spread, L1 RBM / random weights: {l1_spread / random_spread:.2f}; "
    f"L1 RBM / l1=0 RBM: {l1_spread / free_spread:.2f}; "
    f"L1 RBM / 2x2 block: {l1_spread / block_spread:.2f}"
)

# %%
# A ratio to the random weights well below 1 means the L1 RBM's fields are local; a ratio to the
# :math:`2 \times 2` block above 1 means they are wider than the block they stand for, by the
# factor printed (:math:`b_\text{eq}` in the table converts a spread into the side of a uniform
# block). Whether the RBM without the penalty learns local fields too is read off the l1 = 0 row:
# a spread near the uniform value means it does not, and locality then comes from the penalty
# rather than from the Ising data alone; in between, the penalty sharpens fields that the data
# already make somewhat local. The coherence column says whether a field is a single-sign blob,
# like a block average, and the local column how many units are local at all: an L1 RBM can mix
# block-like units with a few broad ones.
#
# These are single-layer measurements on small lattices with one seed. Mehta and Schwab's picture
# also includes deeper layers whose receptive fields grow with depth; stacking
# :class:`~skqg.RBMCoarseGrainer` layers (``visible="bernoulli"`` on the previous layer's
# ``transform``) tests that, at a larger cost than fits in this example.
