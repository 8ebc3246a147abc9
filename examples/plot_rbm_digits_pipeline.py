r"""
================================================
RBM features for digit classification
================================================

A restricted Boltzmann machine (RBM) learns features without labels: :class:`skqg.RBMCoarseGrainer`
fits a joint model of visible units :math:`v` (here the 64 pixels of a digit, scaled to
:math:`[0, 1]`) and binary hidden units :math:`h`, and its ``transform`` returns
:math:`P(h_j = 1 \mid v) = \sigma(b_j + W_j v)`, one feature per hidden unit. A linear classifier
on those features is the pipeline of scikit-learn's example "Restricted Boltzmann Machine
features for digit classification".

This example puts :class:`skqg.RBMCoarseGrainer` and scikit-learn's
:class:`~sklearn.neural_network.BernoulliRBM` in the same pipeline,
``MinMaxScaler → RBM → LogisticRegression``, with the same number of hidden units, the same
number of epochs and the same mini-batch size, and compares both with logistic regression on the
raw pixels. It measures test accuracy and fit time, then shows the learned weights.
"""

# %%
# Set-up
# ------
# The documentation build sets ``SKQG_DOCS_QUICK=1``: then each RBM trains for 10 epochs with
# one seed. Run on its own, the script trains for 20 epochs and repeats the two RBM pipelines
# with three seeds, to show how much the accuracy varies from seed to seed.

import os
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skqg import RBMCoarseGrainer

QUICK = os.environ.get("SKQG_DOCS_QUICK", "").strip().lower() not in {"", "0", "false", "no"}
N_COMPONENTS = 100  # hidden units of both RBMs, as in scikit-learn's example
N_ITER = 10 if QUICK else 20  # epochs, the same for both RBMs
BATCH_SIZE = 10  # the default of both estimators
SEEDS = [0] if QUICK else [0, 1, 2]

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
print(f"train {X_train.shape}, test {X_test.shape}; pixel values {X.min():g} to {X.max():g}")

plain = MinMaxScaler().fit(X_train).transform(X_test)
print(
    f"plain MinMaxScaler fitted on the training set: {np.count_nonzero(plain > 1)} test "
    f"values above 1 (largest {plain.max():g}), in {np.count_nonzero((plain > 1).any(axis=1))} "
    "test digits"
)

# %%
# Three pipelines
# ---------------
# Each RBM is trained with the optimiser it was built with, so the learning rates differ:
#
# * :class:`~skqg.RBMCoarseGrainer` with its defaults: persistent contrastive divergence
#   (one Gibbs step, ``max(batch_size, 50)`` persistent chains), Adam with a learning rate of
#   0.03 decaying linearly over the epochs, and a small L2 weight decay;
# * :class:`~sklearn.neural_network.BernoulliRBM` with the learning rate of scikit-learn's
#   example, 0.06: persistent contrastive divergence with one chain per mini-batch row and plain
#   stochastic gradient steps.
#
# Both have ``n_components=100``, ``n_iter`` epochs and ``batch_size=10``. The classifier on the
# RBM features is the one of scikit-learn's example (``C=6000``); the raw-pixel baseline uses
# ``C=100``, also as there.
#
# The scaler is ``MinMaxScaler(clip=True)``. Fitted on the training set, a plain
# ``MinMaxScaler`` maps some test pixels above 1 (a pixel that is never fully inked in the
# training digits can be in a test digit). :class:`~skqg.RBMCoarseGrainer` with Bernoulli visible
# units refuses values outside :math:`[0, 1]` with an error at ``predict`` time, while
# :class:`~sklearn.neural_network.BernoulliRBM` takes them silently; clipping gives both RBMs
# the same valid input. (scikit-learn's example scales the whole data set before splitting it,
# which hides the issue.)


def make_models(seed):
    """The three pipelines, with ``seed`` as the RBMs' random_state."""
    skqg_rbm = RBMCoarseGrainer(
        n_components=N_COMPONENTS, n_iter=N_ITER, batch_size=BATCH_SIZE, random_state=seed
    )
    sklearn_rbm = BernoulliRBM(
        n_components=N_COMPONENTS,
        learning_rate=0.06,
        n_iter=N_ITER,
        batch_size=BATCH_SIZE,
        random_state=seed,
    )
    return {
        "RBMCoarseGrainer + LR": make_pipeline(
            MinMaxScaler(clip=True), skqg_rbm, LogisticRegression(C=6000, max_iter=5000)
        ),
        "BernoulliRBM + LR": make_pipeline(
            MinMaxScaler(clip=True), sklearn_rbm, LogisticRegression(C=6000, max_iter=5000)
        ),
        "raw-pixel LR": make_pipeline(
            MinMaxScaler(clip=True), LogisticRegression(C=100, max_iter=5000)
        ),
    }


# %%
# Fit and score
# -------------
# We time ``fit`` of each whole pipeline and, separately, of the RBM step inside it (the
# pipeline's remaining time is the scaler and the logistic regression). The raw-pixel baseline
# has no randomness, so it is fitted once.

results = {name: {"accuracy": [], "fit": [], "rbm": []} for name in make_models(0)}
fitted = {}
for seed in SEEDS:
    for name, model in make_models(seed).items():
        if name == "raw-pixel LR" and seed != SEEDS[0]:
            continue
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        results[name]["fit"].append(fit_seconds)
        results[name]["accuracy"].append(model.score(X_test, y_test))
        if len(model.steps) == 3:  # time the RBM alone on the scaled training set
            rbm = model.steps[1][1]
            scaled = model.steps[0][1].transform(X_train)
            start = time.perf_counter()
            rbm.fit(scaled)  # refit with the same random_state: the same model
            results[name]["rbm"].append(time.perf_counter() - start)
        if seed == SEEDS[0]:
            fitted[name] = model

print(
    f"{N_COMPONENTS} hidden units, {N_ITER} epochs, batch {BATCH_SIZE}; "
    f"seeds {SEEDS}; test set of {len(y_test)} digits"
)
print(f"{'model':<24} {'test accuracy':>22} {'pipeline fit (s)':>17} {'RBM fit (s)':>12}")
for name, result in results.items():
    accuracy = np.array(result["accuracy"])
    if accuracy.size > 1:
        accuracy_text = f"{accuracy.mean():.4f} [{accuracy.min():.4f}, {accuracy.max():.4f}]"
    else:
        accuracy_text = f"{accuracy[0]:.4f}"
    rbm_text = f"{np.mean(result['rbm']):.2f}" if result["rbm"] else "-"
    print(f"{name:<24} {accuracy_text:>22} {np.mean(result['fit']):17.2f} {rbm_text:>12}")

# %%
# The table gives the test accuracy (with several seeds: mean and [min, max] over the seeds)
# and the mean fit times in seconds. One test digit is worth ``1 / 360`` of accuracy; compare
# differences between rows with that and, in the full run, with the range over seeds.
#
# Compare the two RBM rows with each other first: same pipeline, same model size, same number of
# passes over the data and the same mini-batch size. Then compare them with the raw-pixel row.
# These digits are centred and size-normalised, which suits a linear model on the 64 raw pixels.
# scikit-learn's example also shifts every training digit by one pixel in each of four directions
# ("nudging"), a five times larger training set on which a linear model of the raw pixels has a
# harder time; this example does not, so its raw-pixel baseline is a stronger competitor.

print(f"one test digit = {1 / len(y_test):.4f} of accuracy")
best_rbm = max(
    ("RBMCoarseGrainer + LR", "BernoulliRBM + LR"),
    key=lambda name: np.mean(results[name]["accuracy"]),
)
gap = np.mean(results[best_rbm]["accuracy"]) - np.mean(results["raw-pixel LR"]["accuracy"])
print(
    f"best RBM pipeline: {best_rbm}; its mean accuracy minus the raw-pixel accuracy: "
    f"{gap:+.4f} ({gap * len(y_test):+.1f} test digits)"
)
difference = np.mean(results["RBMCoarseGrainer + LR"]["accuracy"]) - np.mean(
    results["BernoulliRBM + LR"]["accuracy"]
)
print(
    f"RBMCoarseGrainer minus BernoulliRBM: {difference:+.4f} "
    f"({difference * len(y_test):+.1f} test digits, mean over {len(SEEDS)} seed(s))"
)

# %%
# Learned weights
# ---------------
# Each hidden unit's weights :math:`W_j` (a row of ``components_``) form an 8 × 8 image: the
# pixel pattern that switches the unit on. We show the first 20 hidden units of each RBM (first
# seed; the order of the units carries no meaning). Each image has its own grey scale, symmetric
# about zero: dark is a positive weight, light a negative one.

fig, axes = plt.subplots(4, 10, figsize=(10, 4.6), layout="constrained")
for row, name in enumerate(("RBMCoarseGrainer + LR", "BernoulliRBM + LR")):
    components = fitted[name].steps[1][1].components_
    for ax, weights in zip(axes[2 * row : 2 * row + 2].ravel(), components[:20], strict=True):
        limit = np.abs(weights).max()
        ax.imshow(
            weights.reshape(8, 8),
            cmap="gray_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
        )
        ax.set_xticks([])
        ax.set_yticks([])
    axes[2 * row, 0].set_ylabel(name.split(" ")[0], fontsize=9)
fig.suptitle(
    f"Weights of the first 20 of {N_COMPONENTS} hidden units after {N_ITER} epochs "
    "(top: RBMCoarseGrainer, bottom: BernoulliRBM)"
)
plt.show()

# %%
# Read each image as a detector: ink on the dark pixels switches the unit on, ink on the light
# pixels switches it off. The hidden units of an RBM have no order and no one-to-one match
# between two trainings, so the two rows of panels are not unit-by-unit comparable; the accuracy
# table above is the measurement of how useful the two sets of features are to the classifier.
