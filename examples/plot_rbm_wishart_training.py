r"""
=======================================
How RBM training leaves the Wishart law
=======================================

A restricted Boltzmann machine with Gaussian visible units :math:`v \in \mathbb R^p` and
:math:`m` Bernoulli hidden units has the energy
:math:`E(v, h) = \tfrac12 \lVert v - a\rVert^2 - b^\top h - h^\top W^\top v`, where the
:math:`p \times m` matrix :math:`W` is ``components_.T`` in
:class:`~skqg.RBMCoarseGrainer` (column :math:`j` of :math:`W` is hidden unit :math:`j`'s
receptive field). Given the hidden layer the visible units are Gaussian,
:math:`v \mid h \sim \mathcal N(a + W h, I)`, so the model's covariance is
:math:`I + W \operatorname{Cov}(h) W^\top`: the weights act on the visible space through
:math:`\Sigma = W W^\top = \sum_j w_j w_j^\top`, a point of the cone of positive
semi-definite matrices.

At initialisation the columns :math:`w_j` are independent Gaussian vectors, so
:math:`\Sigma_0` follows a Wishart law, and for :math:`m \ge p` it lies inside the cone. This
example trains the machine epoch by epoch on Gaussian data with a few strong directions and
follows :math:`\Sigma_t` through training with three instruments of :mod:`skqg.stats` and
:mod:`skqg.cone`:

* the Bartlett goodness-of-fit statistic of :func:`~skqg.stats.wishart_gof` (is
  :math:`\Sigma_t` still a Wishart matrix?);
* the spectrum against the Marchenko–Pastur law of the initialisation
  (:func:`~skqg.stats.marchenko_pastur_test`);
* the distance to the boundary of the cone: the smallest eigenvalue of :math:`\Sigma_t` and the
  barrier :math:`\Phi = -\log\det` (:func:`~skqg.cone.barrier`) of the trace-normalised
  matrix, which is 0 for a multiple of the identity and grows without bound near the boundary.

This is the first experiment suggested by N. C. Combe's *Quantum Geometry insights in Deep
Learning* (arXiv:2503.02655): the covariances :math:`W W^\top` of latent Gaussian models live in
the self-dual cone of positive-definite matrices, which training moves them through.
"""

# %%
# Set-up
# ------
# The documentation build sets ``SKQG_DOCS_QUICK=1`` to run a smaller machine for fewer epochs;
# run on its own, the script trains a larger one for longer.

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone

from skqg import RBMCoarseGrainer, cone, stats

QUICK = os.environ.get("SKQG_DOCS_QUICK", "").strip().lower() not in {"", "0", "false", "no"}
N_VISIBLE, N_HIDDEN = (20, 40) if QUICK else (40, 80)  # p and m
N_EPOCHS = 40 if QUICK else 80
N_SAMPLES = 2000 if QUICK else 4000
SPIKES = np.array([6.0, 4.0, 2.0])  # excess variance along the data's principal directions
N_NULL = 199  # simulated Wishart matrices calibrating the statistics
ALPHA = 0.01  # level of the "leaves the Wishart law" verdicts
p, m, k = N_VISIBLE, N_HIDDEN, len(SPIKES)
rng = np.random.RandomState(0)

# %%
# Data with a non-trivial covariance
# ----------------------------------
# The observations are Gaussian with covariance :math:`C = I + \sum_{i=1}^{k} s_i u_i u_i^\top`
# for orthonormal directions :math:`u_i`. The noise variance 1 matches the unit variance of
# the Gaussian visible units, so the data need no standardisation; the model has to learn the
# :math:`k` spikes.

basis, _ = np.linalg.qr(rng.standard_normal((p, p)))
signal, complement = basis[:, :k], basis[:, k:]  # u_1..u_k and an orthonormal complement
C = np.eye(p) + (signal * SPIKES) @ signal.T
data_factor = np.linalg.cholesky(C)
X = rng.standard_normal((N_SAMPLES, p)) @ data_factor.T
print(f"X: {X.shape}; eigenvalues of C: {np.round(np.linalg.eigvalsh(C)[::-1][: k + 1], 2)} ...")

# %%
# The initial law
# ---------------
# :class:`~skqg.RBMCoarseGrainer` draws the initial weights as independent
# :math:`\mathcal N(0, \sigma_0^2)` entries with :math:`\sigma_0 = 0.01`; the scale is not a
# parameter of the estimator. So the columns of :math:`W` are independent
# :math:`\mathcal N(0, \sigma_0^2 I_p)` vectors and
#
# .. math::
#
#    \Sigma_0 = W W^\top \sim W_p(m, \sigma_0^2 I), \qquad
#    \operatorname{spec}(\Sigma_0 / m) \approx \text{Marchenko–Pastur}(\gamma = p/m,
#    \sigma_0^2).
#
# ``fit`` with ``n_iter=0`` initialises the machine without training it, and ``partial_fit``
# then runs one epoch (one pass of mini-batch updates over ``X``) per call from there, with a
# constant learning rate. We use plain stochastic gradient ascent with a small step
# (``solver="sgd"``, ``learning_rate=0.003``) so that the departure from the initial law is
# spread over several epochs; the default Adam solver is looked at below.

SIGMA0 = 0.01
rbm = RBMCoarseGrainer(
    m,
    visible="gaussian",
    solver="sgd",
    learning_rate=0.003,
    batch_size=50,
    n_iter=0,
    random_state=0,
)
rbm.fit(X)  # initialisation only: epoch 0


def covariance_of(model):
    """Sigma = W W^T in the visible space (W = components_.T)."""
    W = model.components_.T
    return W @ W.T


S0 = covariance_of(rbm)
entries = rbm.components_.ravel()
initial = stats.wishart_gof(S0, df=m, covariance=m * SIGMA0**2 * np.eye(p))
print(
    f"epoch 0: components_ {rbm.components_.shape}, entry mean {entries.mean():.2e}, "
    f"std {entries.std():.5f} (sigma_0 = {SIGMA0})"
)
print(
    f"epoch 0: Bartlett test of Sigma_0 ~ W_p(m, sigma_0^2 I): statistic "
    f"{initial.statistic:.4f}, exact p-value {initial.pvalue:.3f}"
)

# %%
# The statistics, and their null distributions
# --------------------------------------------
# With one matrix per epoch we use simple nulls, for which :func:`~skqg.stats.wishart_gof`
# gives exact p-values, or nulls whose distribution we simulate once with
# :func:`~skqg.stats.wishart_sample`:
#
# * **isotropic Wishart, any scale**: :math:`\Sigma_t \sim W_p(m, s^2 I)` with :math:`s^2`
#   matched to the trace, i.e. "the columns of :math:`W` are still i.i.d. isotropic
#   Gaussians". The Bartlett statistic does not depend on the scale under this null, so its
#   distribution is simulated once and gives the p-value;
# * **the complement keeps the initial law**: in the :math:`p - k` directions orthogonal to
#   the data's spikes, :math:`Q_\perp^\top \Sigma_t Q_\perp \sim W_{p-k}(m, \sigma_0^2 I)`
#   exactly at initialisation; an exact p-value;
# * **the spectrum**: the Kolmogorov–Smirnov distance of the eigenvalues of :math:`\Sigma_t/m`
#   to the initial Marchenko–Pastur law, and how many lie above its upper edge;
# * **the boundary**: :math:`\lambda_{\min}(\Sigma_t)` and
#   :math:`\Phi(p\,\Sigma_t / \operatorname{tr}\Sigma_t) = p \log(\bar\lambda / \lambda_{\rm
#   geo})`, the log ratio of the arithmetic to the geometric mean eigenvalue.


def isotropic_statistic(S):
    """Bartlett statistic against W_p(m, s^2 I) with s^2 matched to the trace."""
    size = S.shape[0]
    return stats.wishart_gof(S, df=m, covariance=np.trace(S) / size * np.eye(size)).statistic


null = stats.wishart_sample(N_NULL, m, np.eye(p) / m, random_state=1)
null_isotropic = np.array([isotropic_statistic(S) for S in null])
null_complement = np.array([isotropic_statistic(S[k:, k:]) for S in null])  # W_{p-k}(m, I/m)
null_spectral = np.array(
    [stats.marchenko_pastur_test(np.linalg.eigvalsh(S), p / m).ks_distance for S in null]
)
spectral_critical = np.quantile(null_spectral, 1 - ALPHA)
mp_edges = m * SIGMA0**2 * (1 + np.array([-1, 1]) * np.sqrt(p / m)) ** 2  # for Sigma itself
print(
    f"null isotropic statistic: median {np.median(null_isotropic):.4f}, "
    f"{1 - ALPHA:.0%} quantile {np.quantile(null_isotropic, 1 - ALPHA):.4f}"
)
print(
    f"null spectral KS distance: median {np.median(null_spectral):.4f}, "
    f"{1 - ALPHA:.0%} quantile {spectral_critical:.4f}"
)
print(f"initial Marchenko-Pastur edges of Sigma: [{mp_edges[0]:.2e}, {mp_edges[1]:.2e}]")


# The sampling noise of X in the complement: the top N_NOISE eigenvectors of its covariance
# there. The population covariance is the identity in these directions, so they are the
# particular sample's, not the distribution's.
N_NOISE = 5
sample_noise = np.linalg.eigh(complement.T @ np.cov(X.T) @ complement)[1][:, -N_NOISE:]


def measure(S):
    """All per-epoch statistics of Sigma."""
    eigenvalues, eigenvectors = np.linalg.eigh(S)
    isotropic = isotropic_statistic(S)
    inside = complement.T @ S @ complement
    initial_law = stats.wishart_gof(inside, df=m, covariance=m * SIGMA0**2 * np.eye(p - k))
    inside_isotropic = isotropic_statistic(inside)
    spectrum = stats.marchenko_pastur_test(eigenvalues / m, p / m, SIGMA0**2)
    top = eigenvectors[:, -k:]
    return {
        "isotropic": isotropic,
        "isotropic p": (1 + np.sum(null_isotropic >= isotropic)) / (N_NULL + 1),
        "complement": initial_law.statistic,
        "complement p": initial_law.pvalue,
        "compl. iso p": (1 + np.sum(null_complement >= inside_isotropic)) / (N_NULL + 1),
        "compl. scale": np.trace(inside) / ((p - k) * m * SIGMA0**2),
        "MP KS": spectrum.ks_distance,
        "above edge": int(np.sum(eigenvalues > mp_edges[1])),
        "below edge": int(np.sum(eigenvalues < mp_edges[0])),
        "min eig": eigenvalues[0],
        "max eig": eigenvalues[-1],
        "barrier": cone.barrier(p * S / np.trace(S)),
        "overlap": np.sum((signal.T @ top) ** 2) / k,  # 1: top-k eigenvectors span the spikes
        # overlap of the complement block's top eigenvectors with the sample's noise directions
        "noise overlap": np.sum((np.linalg.eigh(inside)[1][:, -N_NOISE:].T @ sample_noise) ** 2)
        / N_NOISE,
        "eigenvalues": eigenvalues,
    }


# %%
# Training, epoch by epoch
# ------------------------

history = [measure(S0)]
for _ in range(N_EPOCHS):
    rbm.partial_fit(X)
    history.append(measure(covariance_of(rbm)))

columns = {  # key: header
    "isotropic": "iso stat",
    "isotropic p": "iso p",
    "complement p": "init p_c",
    "compl. iso p": "iso p_c",
    "compl. scale": "scale_c",
    "MP KS": "MP KS",
    "above edge": "#above",
    "below edge": "#below",
    "min eig": "min eig",
    "max eig": "max eig",
    "barrier": "barrier",
    "overlap": "overlap",
}
print("iso: isotropic Wishart at any scale; _c: the complement of the spikes; init: the")
print("initial law W(m, sigma_0^2 I); scale_c: its trace over the initial one; #above/#below:")
print("eigenvalues outside the initial MP support; barrier: Phi(p Sigma / tr Sigma).")
shown = [e for e in range(N_EPOCHS + 1) if e <= 10 or e % 5 == 0 or N_EPOCHS <= 30]
print(f"{'epoch':>5s} " + " ".join(f"{header:>9s}" for header in columns.values()))
for epoch in shown:
    row = history[epoch]
    cells = [
        f"{row[key]:9d}" if isinstance(row[key], int) else f"{row[key]:9.3g}" for key in columns
    ]
    print(f"{epoch:5d} " + " ".join(cells))


def first_epoch(condition):
    """First epoch at which the condition holds, or None."""
    return next((epoch for epoch, row in enumerate(history) if condition(row)), None)


leaves_isotropic = first_epoch(lambda row: row["isotropic p"] < ALPHA)
first_spike = first_epoch(lambda row: row["above edge"] >= 1)
all_spikes = first_epoch(lambda row: row["above edge"] >= k)
spectrum_leaves = first_epoch(lambda row: row["MP KS"] > spectral_critical)
bulk_leaves = first_epoch(lambda row: row["complement p"] < ALPHA)
bulk_spikes = first_epoch(lambda row: row["above edge"] > k)
print(f"first epoch with p < {ALPHA} against an isotropic Wishart law: {leaves_isotropic}")
print(
    f"first epoch with an eigenvalue above the initial MP edge: {first_spike}; "
    f"with {k} (the number of data spikes): {all_spikes}; with more than {k}: {bulk_spikes}"
)
print(
    f"first epoch with the MP distance above its null {1 - ALPHA:.0%} quantile: {spectrum_leaves}"
)
print(
    f"first epoch with p < {ALPHA} for the initial law in the {p - k} complement "
    f"directions: {bulk_leaves}"
)
final = history[-1]
print(
    f"after {N_EPOCHS} epochs: top-{k} eigenvectors' overlap with the spikes "
    f"{final['overlap']:.3f}; largest eigenvalue {final['max eig']:.3g} "
    f"({final['max eig'] / history[0]['max eig']:.3g} x epoch 0); smallest "
    f"{final['min eig']:.3g} ({final['min eig'] / history[0]['min eig']:.3g} x epoch 0); "
    f"normalised barrier {history[0]['barrier']:.3g} -> {final['barrier']:.3g}"
)
if bulk_leaves is None:
    print(
        f"the {p - k} complement directions kept the initial law for all {N_EPOCHS} epochs "
        f"(final p = {final['complement p']:.3g})"
    )
else:
    print(
        f"the {p - k} complement directions left the initial law at epoch {bulk_leaves}; "
        f"at the end their trace is {final['compl. scale']:.3g} x the initial one, "
        f"{final['below edge']} eigenvalues are below the initial MP support and "
        f"{final['above edge'] - k} above it besides the {k} spikes, and the isotropic "
        f"test on them gives p = {final['compl. iso p']:.3g}"
    )

# %%
# The spectrum through training
# -----------------------------
# Each column of points is the spectrum of :math:`\Sigma_t`; the band is the support of the
# initial Marchenko–Pastur law.

epochs = np.arange(N_EPOCHS + 1)
fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
ax.axhspan(*mp_edges, color="C0", alpha=0.15, label="initial Marchenko–Pastur support")
for epoch, row in enumerate(history):
    values = row["eigenvalues"]
    ax.scatter(np.full(p - k, epoch), values[:-k], s=6, color="grey")
    ax.scatter(np.full(k, epoch), values[-k:], s=10, color="C3")
ax.scatter([], [], s=10, color="C3", label=f"largest {k} eigenvalues")
ax.scatter([], [], s=6, color="grey", label="the others")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("eigenvalues of Σ = WWᵀ")
ax.set_title(f"RBM with {p} Gaussian visible and {m} hidden units, data with {k} spikes")
ax.legend(loc="upper left")
plt.show()

# %%
# Statistics against epoch
# ------------------------

fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), layout="constrained", sharex=True)
ax = axes[0, 0]
series = {
    "isotropic p": ("o-", "isotropic Wishart, any scale"),
    "complement p": ("s-", "complement: initial law (exact)"),
    "compl. iso p": ("^-", "complement: isotropic, any scale"),
}
for key, (style, label) in series.items():
    ax.semilogy(epochs, [max(row[key], 1e-300) for row in history], style, ms=3, label=label)
ax.axhline(ALPHA, color="k", ls=":", label=f"level {ALPHA}")
smallest = min(max(row["complement p"], 1e-300) for row in history)
ax.set_ylim(min(smallest / 3, 1e-3), 1.5)
ax.set_ylabel("Bartlett goodness-of-fit p-value")
ax.legend(fontsize=8)

ax = axes[0, 1]
ax.plot(epochs, [row["MP KS"] for row in history], "o-", ms=3, label="KS distance")
ax.axhline(spectral_critical, color="k", ls=":", label=f"null {1 - ALPHA:.0%} quantile")
ax.set_ylabel("distance to the initial MP law")
twin = ax.twinx()
twin.step(
    epochs,
    [row["above edge"] for row in history],
    where="mid",
    color="C3",
    label="eigenvalues above the edge",
)
twin.set_ylabel("eigenvalues above the upper edge", color="C3")
ax.legend(fontsize=8, loc="center right")

ax = axes[1, 0]
ax.semilogy(
    epochs, [row["max eig"] for row in history], "o-", ms=3, color="C3", label=r"$\lambda_{\max}$"
)
ax.semilogy(
    epochs,
    [row["min eig"] for row in history],
    "o-",
    ms=3,
    color="C0",
    label=r"$\lambda_{\min}$ (distance to the boundary)",
)
for edge in mp_edges:
    ax.axhline(edge, color="grey", ls=":")
ax.set_xlabel("epoch")
ax.set_ylabel("eigenvalue of Σ")
ax.legend(fontsize=8)

ax = axes[1, 1]
ax.plot(
    epochs,
    [row["barrier"] for row in history],
    "o-",
    ms=3,
    label=r"$\Phi(p\,\Sigma / \mathrm{tr}\,\Sigma)$",
)
ax.set_xlabel("epoch")
ax.set_ylabel("normalised barrier")
twin = ax.twinx()
twin.plot(epochs, [row["overlap"] for row in history], color="C2")
twin.set_ylabel(f"overlap of the top {k} eigenvectors with the spikes", color="C2")
twin.set_ylim(0, 1.05)
ax.legend(fontsize=8, loc="center right")
plt.show()

# %%
# Reading the numbers
# -------------------
# At epoch 0 the exact test of the known initial law gives the p-value printed at the top,
# and the table counts the eigenvalues outside the Marchenko–Pastur support. Training then
# leaves the Wishart law in stages, which the printed "first epoch" lines date:
#
# * **Spikes.** The largest eigenvalues leave the Marchenko–Pastur support (the count above
#   the edge rises to :math:`k`), and the top eigenvectors turn towards the data's principal
#   directions (an overlap of 1 means they span them). From the epoch at which the isotropic
#   test rejects,
#   :math:`\Sigma_t` is no longer the Gram matrix of i.i.d. isotropic Gaussian columns at any
#   scale. (The bootstrap p-value cannot go below :math:`1/(199 + 1) = 0.005`; the statistic
#   shows how far it is.)
# * **The bulk.** The :math:`p - k` directions orthogonal to the spikes carry no signal. Their
#   block :math:`Q_\perp^\top \Sigma_t Q_\perp` keeps the exact initial law for as long as
#   its p-value stays above the level; the last printed line says whether and when it left,
#   and how: a change of scale alone would leave the isotropic test on the block (``iso p_c``)
#   unaffected, eigenvalues crossing both edges of the initial support mean the bulk spreads.
#   The next section asks why.
# * **The boundary.** The smallest eigenvalue is the Frobenius distance from :math:`\Sigma_t`
#   to the boundary of the cone; the printed factor says how much training moved it. The
#   normalised barrier measures the distance relative to the size of :math:`\Sigma_t`: it grows
#   as the spikes make :math:`\Sigma_t` ill-conditioned, close to a multiple of a
#   rank-:math:`k` matrix, whatever its smallest eigenvalue does.
#
# Is the bulk fitting the sample?
# -------------------------------
# In the complement of the spikes the data's covariance is the identity, but the covariance of
# a finite sample is not: its eigenvalues spread, Marchenko–Pastur again, with ratio
# :math:`p/n`, and its top eigenvectors are directions that only this sample favours. If the
# bulk of :math:`\Sigma_t` leaves its initial law because the machine fits them, it should
# (i) align with them and (ii) stay in its initial law when every epoch sees a fresh sample
# from the same distribution. We train a second machine, from the same initialisation, on a
# new sample of ``N_SAMPLES`` rows at each epoch, and compare. The "noise overlap" is the
# overlap of the top 5 eigenvectors of the complement block with those of the covariance of
# ``X`` in the same directions; unrelated directions give about 5/(p - k) on average.

fresh = clone(rbm).fit(X)  # same parameters and seed: the same epoch-0 weights
fresh_rng = np.random.RandomState(3)
history_fresh = [measure(covariance_of(fresh))]
for _ in range(N_EPOCHS):
    fresh.partial_fit(fresh_rng.standard_normal((N_SAMPLES, p)) @ data_factor.T)
    history_fresh.append(measure(covariance_of(fresh)))

runs = {"fixed sample": history, "fresh samples": history_fresh}
print(f"chance level of the noise overlap: {N_NOISE / (p - k):.3f}")
print(
    f"{'':14s} {'leaves init':>11s} {'final p_c':>10s} {'scale_c':>8s} {'#above':>7s} "
    f"{'#below':>7s} {'noise overlap':>14s} {'spike overlap':>14s}"
)
for name, run in runs.items():
    leaves = next((e for e, row in enumerate(run) if row["complement p"] < ALPHA), None)
    end = run[-1]
    print(
        f"{name:14s} {leaves!s:>11s} {end['complement p']:10.3g} {end['compl. scale']:8.3g} "
        f"{end['above edge']:7d} {end['below edge']:7d} {end['noise overlap']:14.3f} "
        f"{end['overlap']:14.3f}"
    )
fixed_leaves = bulk_leaves is not None
fresh_leaves = any(row["complement p"] < ALPHA for row in history_fresh)
if fixed_leaves and not fresh_leaves:
    print("the bulk leaves the initial law with the fixed sample only")
elif fixed_leaves and fresh_leaves:
    print("the bulk leaves the initial law with fresh samples too")
else:
    print(f"the bulk keeps the initial law with the fixed sample for all {N_EPOCHS} epochs")
print(
    "final noise overlap / chance level: "
    + ", ".join(
        f"{name} {run[-1]['noise overlap'] * (p - k) / N_NOISE:.2f}" for name, run in runs.items()
    )
)

fig, (ax_p, ax_noise) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for (name, run), color in zip(runs.items(), ("C1", "C2"), strict=True):
    ax_p.semilogy(
        epochs,
        [max(row["complement p"], 1e-300) for row in run],
        "o-",
        ms=3,
        color=color,
        label=name,
    )
    ax_noise.plot(
        epochs, [row["noise overlap"] for row in run], "o-", ms=3, color=color, label=name
    )
ax_p.axhline(ALPHA, color="k", ls=":", label=f"level {ALPHA}")
ax_p.set_ylabel("p-value, complement vs initial law")
ax_noise.axhline(N_NOISE / (p - k), color="k", ls=":", label="chance level")
ax_noise.set_ylabel("overlap with the sample's noise directions")
for ax in (ax_p, ax_noise):
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
plt.show()

# %%
# The last two lines read the two diagnostics together. When the fixed-sample machine's bulk
# leaves the initial law while the fresh-sample machine's does not, and the first one's noise
# overlap is clearly above chance, the slow second stage of the departure is overfitting: the
# spikes belong to the distribution, the drift of the bulk to the training sample. (The
# overlap of 5 directions among :math:`p - k` fluctuates a lot for small :math:`p`; the
# p-values are the firmer evidence.)
#
# The default solver
# ------------------
# Adam (the default solver, here at ``learning_rate=0.03``, the default step of a layer of at
# most 10 hidden units) scales every step to about the learning rate per weight, which is three
# times :math:`\sigma_0`. We follow its first epoch one mini-batch at a
# time: ``partial_fit`` on a batch of ``batch_size`` rows makes exactly one update.

adam = RBMCoarseGrainer(
    m, visible="gaussian", learning_rate=0.03, batch_size=50, n_iter=0, random_state=0
).fit(X)
order = np.random.RandomState(2).permutation(N_SAMPLES)
updates = []
for step, start in enumerate(range(0, N_SAMPLES, 50), start=1):
    adam.partial_fit(X[order[start : start + 50]])
    row = measure(covariance_of(adam))
    updates.append((step, row["isotropic p"], row["above edge"], row["overlap"]))
adam_leaves = next((step for step, pvalue, _, _ in updates if pvalue < ALPHA), None)
adam_spikes = next((step for step, _, above, _ in updates if above >= k), None)
print(f"Adam, first epoch ({len(updates)} updates of 50 rows):")
print(f"  first update with p < {ALPHA} against an isotropic Wishart law: {adam_leaves}")
print(f"  first update with {k} eigenvalues above the initial MP edge: {adam_spikes}")
step, pvalue, above, overlap = updates[-1]
print(
    f"  after the epoch: p = {pvalue:.3g}, {above} eigenvalues above the edge, "
    f"overlap {overlap:.3f}"
)

# %%
# The printed update numbers date the departure under Adam. When they fall early in the first
# epoch, an epoch is too coarse a clock for it: Adam's first steps, of a fixed size in every
# weight, are large against the initial scale :math:`\sigma_0`. The overlap and the count
# above the edge after that epoch compare its :math:`\Sigma` with the one the slow SGD run
# reaches.
