"""RBMs as renormalisation-group coarse-grainers on the 2-D Ising model: two published results.

Goal 4, coarse-graining (Mehta & Schwab 2014, arXiv:1410.3831). Periodic 40 x 40 Ising at
T = 2.45 (just above T_c = 2.269; the paper's J = 0.408), 20 000 samples from ``make_ising``.
A stack 1600 -> 400 -> 100 -> 25 of ``RBMCoarseGrainer``: layer 1 has ``visible="spin"`` on
the +-1 spins, layers 2 and 3 ``visible="bernoulli"`` on the previous layer's P(h = 1 | v).
Each layer: CD-1 (as in the paper), Adam, batch 100, learning rate 0.01 (decaying linearly over
fit), 10 epochs, weight decay 1e-4 (the default), float32. The package defaults (PCD, batch 10,
lr 0.03) take about 36 s per epoch at 20 000 x 1600 -> 400 here (CD-1 at batch 100: about 6 s),
hence batch 100 and a lower rate.
L1 penalty: 0.01 on layer 1, 0.003 on layers 2 and 3 (chosen in exploratory runs with seed 0:
PCD, or l1 >= 0.01 on the deeper layers, leaves many units with near-zero weights; the full run
prints a small scan). The same stack is trained with l1 = 0, and compared with Gaussian random
weights of the same shapes (standard deviation = RMS of the learned layer, zero biases).

Receptive field of a layer-k unit on the lattice: row of |W_k| @ ... @ |W_1| (primary; the
signed product W_k @ ... @ W_1 is shown too), measured by ``skqg.rg.receptive_field_spread``
(RMS distance from the centre of the squared weights, lattice spacings). References: a uniform
b x b block has spread sqrt((b^2 - 1) / 6): 0.71 (b = 2), 1.58 (b = 4), 3.24 (b = 8); uniform
over the whole 40 x 40 lattice, 16.3. Block correlation: on 2 000 held-out samples, for each
hidden unit the max |Pearson r| between its P(h = 1 | v) and the majority block spins
``block_spin(X, (40, 40), b)`` with b = 2, 4, 8 for layers 1, 2, 3; median over units.

Goal 4 criteria, fixed before the full run (all must hold): at every layer the L1 stack's
median spread is (i) at most half of the random weights' and (ii) below the l1 = 0 stack's,
(iii) within 2x of the b x b block reference; (iv) it grows with depth; (v) the block
correlation beats random weights' at every layer.

Goal 5, RBM flow (Iso, Shiba & Yokoo 2018, arXiv:1801.07172). Periodic 10 x 10 Ising, 1 000
configurations at each of T = 0.25, 0.5, ..., 6.0; an RBM (``visible="spin"``) with 64 hidden
units, package defaults (PCD-1, Adam, lr 0.03, batch 10, 20 epochs), trained on all of them.
``rbm_flow`` (Gibbs steps, spins stay +-1) runs 100 steps from the T = 1.0 and the T = 4.0
configurations; the temperature at each step is the mean ``ising_energy`` inverted through
``ising_temperature(..., size=10)`` (Kaufman's exact 10 x 10 curve). Goal: both end in
[2.15, 2.45]. Contrast: 144 hidden units (more than the 100 visible), and a second training
setting (batch 50, lr 0.01). Reference points: the model's own equilibrium (``sample`` with
1 000 Gibbs sweeps), which is where a Gibbs flow ends for long times, and the temperature the
thermometer gives to the whole training set (a perfect model's equilibrium).

Run: ``python benchmarks/bench_rbm_rg.py`` (full, about 7 minutes on 2 cores; ``--quick``
for a smoke run under a minute; ``--goal 4`` or ``--goal 5`` for one goal; ``--seed``).
"""

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np
from _report import print_summary, record
from scipy.special import expit

import skqg
from skqg import RBMCoarseGrainer
from skqg._ising._sampler import CRITICAL_TEMPERATURE
from skqg.datasets import make_ising
from skqg.rg import (
    block_spin,
    exact_ising_energy,
    ising_energy,
    ising_temperature,
    rbm_flow,
    receptive_field_spread,
)

T_C = CRITICAL_TEMPERATURE

GOAL4_FULL = {
    "size": 40,
    "temperature": 2.45,
    "n_samples": 20_000,
    "n_test": 2_000,
    "epochs": 10,
    "l1": (0.01, 0.003, 0.003),
    "scan_first": (0.003, 0.03),
    "scan_deep": (0.001, 0.01),
}
GOAL4_QUICK = GOAL4_FULL | {
    "size": 16,
    "n_samples": 2_000,
    "n_test": 500,
    "epochs": 3,
    "scan_first": (),
    "scan_deep": (),
}
GOAL4_TRAINING = {
    "method": "cd",
    "k": 1,
    "batch_size": 100,
    "learning_rate": 0.01,
    "n_jobs": 2,
}
# Blocks of the classical coarse-graining matched with layers 1, 2, 3 (4x fewer units each).
BLOCKS = (2, 4, 8)
# A unit is "inactive" when its weight row's norm is below this fraction of the layer's median.
INACTIVE_FRACTION = 0.05

GOAL5_FULL = {
    "size": 10,
    "temperatures": 0.25 * np.arange(1, 25),
    "n_per_temperature": 1_000,
    "epochs": 20,
    "n_steps": 100,
    "report_steps": (0, 1, 2, 5, 10, 20, 30, 50, 75, 100),
    "equilibrium_sweeps": 1_000,
    "hidden": (64, 144),
}
GOAL5_QUICK = GOAL5_FULL | {
    "n_per_temperature": 100,
    "epochs": 3,
    "n_steps": 20,
    "report_steps": (0, 1, 2, 5, 10, 20),
    "equilibrium_sweeps": 100,
}
GOAL5_SETTINGS = (
    ("defaults", {}),
    ("batch 50, lr 0.01", {"batch_size": 50, "learning_rate": 0.01}),
)
GOAL5_STARTS = (1.0, 4.0)
GOAL5_WINDOW = (2.15, 2.45)


def elapsed(start):
    return time.perf_counter() - start


def git_revision():
    try:
        root = Path(__file__).resolve().parents[1]
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return head + (" (uncommitted changes in the tree)" if dirty else "")
    except OSError:
        return "unknown"


def quartiles(values):
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return q50, q25, q75


def fmt_quartiles(values, width=19):
    q50, q25, q75 = quartiles(values)
    return f"{q50:5.2f} [{q25:5.2f},{q75:5.2f}]".rjust(width)


def block_reference(size, b):
    """Spread of a uniform b x b block on the size x size lattice (via the metric itself)."""
    block = np.zeros((size, size))
    block[:b, :b] = 1.0
    return float(receptive_field_spread(block.reshape(1, -1), (size, size))[0])


def equivalent_block(spread):
    """Side b of the uniform b x b block with this spread: spread^2 = (b^2 - 1) / 6."""
    return float(np.sqrt(6.0 * spread**2 + 1.0))


def composed_fields(weights, signed=False):
    """Lattice fields of each layer: |W_k| @ ... @ |W_1| (or the signed product)."""
    fields, current = [], None
    for W in weights:
        W = np.asarray(W, dtype=np.float64)
        W = W if signed else np.abs(W)
        current = W if current is None else W @ current
        fields.append(current)
    return fields


def inactive_units(W):
    norms = np.linalg.norm(W, axis=1)
    return int(np.count_nonzero(norms < INACTIVE_FRACTION * np.median(norms)))


def median_max_correlation(H, B):
    """Median over hidden units of the max |Pearson r| between a unit and the block spins."""
    H = np.asarray(H, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    H = (H - H.mean(axis=0)) / np.maximum(H.std(axis=0), 1e-12)
    B = (B - B.mean(axis=0)) / np.maximum(B.std(axis=0), 1e-12)
    correlation = H.T @ B / H.shape[0]
    return float(np.median(np.abs(correlation).max(axis=1)))


def fit_layer(X, n_components, visible, l1, epochs, seed):
    rbm = RBMCoarseGrainer(
        n_components,
        visible=visible,
        l1=l1,
        n_iter=epochs,
        random_state=seed,
        **GOAL4_TRAINING,
    )
    return rbm.fit(X)


def fit_stack(X, sizes, l1s, epochs, seed, first=None):
    """Greedy layer-wise stack; ``first`` reuses an already fitted first layer."""
    rbms, seconds = [], []
    inputs = X
    for depth, (n_components, l1) in enumerate(zip(sizes, l1s, strict=True)):
        start = time.perf_counter()
        if depth == 0 and first is not None:
            rbm = first
        else:
            visible = "spin" if depth == 0 else "bernoulli"
            rbm = fit_layer(inputs, n_components, visible, l1, epochs, seed)
        seconds.append(elapsed(start))
        rbms.append(rbm)
        inputs = rbm.transform(inputs)
    return rbms, seconds


def stack_hidden(rbms, X):
    """P(h = 1 | input) of each layer, layer k fed the probabilities of layer k - 1."""
    outputs, inputs = [], X
    for rbm in rbms:
        inputs = rbm.transform(inputs)
        outputs.append(inputs)
    return outputs


def random_hidden(weights, X):
    """Hidden probabilities of a random-weight stack with zero biases."""
    outputs, inputs = [], np.asarray(X, dtype=np.float64)
    for W in weights:
        inputs = expit(inputs @ W.T)
        outputs.append(inputs)
    return outputs


def goal4(quick, seed):
    cfg = GOAL4_QUICK if quick else GOAL4_FULL
    size = cfg["size"]
    shape = (size, size)
    n_sites = size * size
    sizes = tuple(n_sites // 4**depth for depth in (1, 2, 3))
    print(
        f"== Goal 4: coarse-graining stack (Mehta & Schwab 2014) ==\n"
        f"{size}x{size} periodic Ising at T = {cfg['temperature']} (T_c = {T_C:.4f}); "
        f"{cfg['n_samples']} training + {cfg['n_test']} held-out samples; stack "
        f"{n_sites} -> {' -> '.join(map(str, sizes))}\n"
        f"training per layer: {GOAL4_TRAINING | {'n_iter': cfg['epochs']}}, float32; "
        f"L1 per layer {cfg['l1']}"
    )
    start = time.perf_counter()
    X, _ = make_ising(
        cfg["n_samples"],
        size,
        cfg["temperature"],
        dtype=np.float32,
        n_jobs=2,
        random_state=seed,
    )
    X_test, _ = make_ising(
        cfg["n_test"],
        size,
        cfg["temperature"],
        dtype=np.float32,
        n_jobs=2,
        random_state=seed + 1,
    )
    print(f"data: {elapsed(start):.1f} s (mean |M| per site {np.abs(X.mean(axis=1)).mean():.3f})")

    start = time.perf_counter()
    l1_stack, l1_seconds = fit_stack(X, sizes, cfg["l1"], cfg["epochs"], seed)
    free_stack, free_seconds = fit_stack(X, sizes, (0.0, 0.0, 0.0), cfg["epochs"], seed)
    print(
        f"training: L1 stack {' + '.join(f'{s:.1f}' for s in l1_seconds)} s, "
        f"l1=0 stack {' + '.join(f'{s:.1f}' for s in free_seconds)} s "
        f"(total {elapsed(start):.1f} s)"
    )

    rng = np.random.RandomState(seed)
    l1_weights = [rbm.components_ for rbm in l1_stack]
    random_weights = [
        rng.normal(0.0, np.sqrt(np.mean(np.asarray(W, dtype=np.float64) ** 2)), W.shape)
        for W in l1_weights
    ]
    spreads = {
        "L1": [receptive_field_spread(F, shape) for F in composed_fields(l1_weights)],
        "l1=0": [
            receptive_field_spread(F, shape)
            for F in composed_fields([rbm.components_ for rbm in free_stack])
        ],
        "random": [receptive_field_spread(F, shape) for F in composed_fields(random_weights)],
        "L1 signed": [
            receptive_field_spread(F, shape) for F in composed_fields(l1_weights, signed=True)
        ],
    }
    references = [block_reference(size, b) for b in BLOCKS]
    uniform = block_reference(size, size)

    print(
        f"\nReceptive-field spread on the {size}x{size} lattice, lattice spacings: median "
        f"[q25,q75] over units.\nLayer k's field is |W_k| @ ... @ |W_1| ('signed': W_k @ ... @ "
        f"W_1). Uniform over the lattice: {uniform:.2f}. 'b_eq': side of the uniform block with "
        "the L1 median."
    )
    header = (
        f"{'layer':>5} {'units':>5} {'b x b ref':>10} {'L1 stack':>19} {'b_eq':>5} "
        f"{'l1=0 stack':>19} {'random Gaussian':>19} {'L1 signed':>19} {'inactive':>8}"
    )
    print(header)
    for depth in range(3):
        b = BLOCKS[depth]
        print(
            f"{depth + 1:>5} {sizes[depth]:>5} {f'{b}x{b} {references[depth]:.2f}':>10} "
            f"{fmt_quartiles(spreads['L1'][depth])} "
            f"{equivalent_block(np.median(spreads['L1'][depth])):5.1f} "
            f"{fmt_quartiles(spreads['l1=0'][depth])} {fmt_quartiles(spreads['random'][depth])} "
            f"{fmt_quartiles(spreads['L1 signed'][depth])} "
            f"{inactive_units(l1_weights[depth]):>4}/{sizes[depth]:<3}"
        )
    print(
        f"(inactive: units whose weight row has norm < {INACTIVE_FRACTION} x the layer's median; "
        "they are included in the medians)"
    )

    start = time.perf_counter()
    blocks = [block_spin(X_test, shape, b=b) for b in BLOCKS]
    correlations = {
        "L1": stack_hidden(l1_stack, X_test),
        "l1=0": stack_hidden(free_stack, X_test),
        "random": random_hidden(random_weights, X_test),
    }
    correlations = {
        name: [median_max_correlation(H, B) for H, B in zip(hidden, blocks, strict=True)]
        for name, hidden in correlations.items()
    }
    print(
        f"\nBlock-spin correlation on {cfg['n_test']} held-out samples: per hidden unit the max "
        "|Pearson r| between P(h=1|v) and the majority block spins, median over units "
        f"({elapsed(start):.1f} s)"
    )
    print(f"{'layer':>5} {'blocks':>12} {'L1 stack':>9} {'l1=0 stack':>11} {'random':>7}")
    for depth, b in enumerate(BLOCKS):
        n_blocks = (size // b) ** 2
        print(
            f"{depth + 1:>5} {f'b={b} ({n_blocks})':>12} {correlations['L1'][depth]:9.3f} "
            f"{correlations['l1=0'][depth]:11.3f} {correlations['random'][depth]:7.3f}"
        )

    if cfg["scan_first"] or cfg["scan_deep"]:
        goal4_scan(cfg, X, X_test, blocks, sizes, l1_stack, shape, seed)

    medians = {name: [float(np.median(s)) for s in values] for name, values in spreads.items()}
    checks = [
        (
            "(i) L1 median <= 0.5 x random at every layer",
            all(a <= 0.5 * r for a, r in zip(medians["L1"], medians["random"], strict=True)),
            "ratios "
            + ", ".join(
                f"{a / r:.2f}" for a, r in zip(medians["L1"], medians["random"], strict=True)
            ),
        ),
        (
            "(ii) L1 median < l1=0 median at every layer",
            all(a < f for a, f in zip(medians["L1"], medians["l1=0"], strict=True)),
            "ratios "
            + ", ".join(
                f"{a / f:.2f}" for a, f in zip(medians["L1"], medians["l1=0"], strict=True)
            ),
        ),
        (
            "(iii) L1 median within 2x of the 2x2 / 4x4 / 8x8 block reference",
            all(a <= 2 * r for a, r in zip(medians["L1"], references, strict=True)),
            "ratios "
            + ", ".join(f"{a / r:.2f}" for a, r in zip(medians["L1"], references, strict=True)),
        ),
        (
            "(iv) L1 median grows with depth",
            all(np.diff(medians["L1"]) > 0),
            " -> ".join(f"{a:.2f}" for a in medians["L1"]),
        ),
        (
            "(v) block correlation: L1 > random at every layer",
            all(a > r for a, r in zip(correlations["L1"], correlations["random"], strict=True)),
            ", ".join(
                f"{a:.2f} vs {r:.2f}"
                for a, r in zip(correlations["L1"], correlations["random"], strict=True)
            ),
        ),
    ]
    print("\nGoal 4 checks:")
    for name, passed, detail in checks:
        print(f"  {'ok  ' if passed else 'FAIL'} {name}: {detail}")
    passed = all(ok for _, ok, _ in checks)
    n_ok = sum(ok for _, ok, _ in checks)
    record("4 coarse-graining checks passed", f"{n_ok}/{len(checks)}", "all", passed)
    print(
        f"Goal 4 {'PASS' if passed else 'MISS'}: L1 receptive-field spread (median) "
        + " -> ".join(
            f"{a:.2f} (~{equivalent_block(a):.1f}x{equivalent_block(a):.1f})" for a in medians["L1"]
        )
        + " vs block refs "
        + " -> ".join(f"{r:.2f}" for r in references)
        + "; l1=0 "
        + " -> ".join(f"{a:.2f}" for a in medians["l1=0"])
        + "; random "
        + " -> ".join(f"{a:.2f}" for a in medians["random"])
    )
    return passed


def goal4_scan(cfg, X, X_test, blocks, sizes, l1_stack, shape, seed):
    """Sensitivity to the L1 strength: layer 1 alone, then deeper layers on the main layer 1."""
    print(
        "\nL1 scan (same training; layer 1 varied alone; layers 2-3 varied together on top of "
        "the main layer 1)"
    )
    print(
        f"{'l1 (layer 1)':>12} {'layer-1 spread':>19} {'inactive':>8} {'corr b=2':>8} {'fit s':>6}"
    )
    main_first = l1_stack[0]
    rows = [(cfg["l1"][0], main_first, None)]
    for l1 in cfg["scan_first"]:
        start = time.perf_counter()
        rows.append((l1, fit_layer(X, sizes[0], "spin", l1, cfg["epochs"], seed), elapsed(start)))
    for l1, rbm, seconds in sorted(rows, key=lambda row: row[0]):
        spread = receptive_field_spread(rbm.components_, shape)
        corr = median_max_correlation(rbm.transform(X_test), blocks[0])
        note = "  (main)" if rbm is main_first else ""
        fit_seconds = "" if seconds is None else f"{seconds:6.1f}"
        print(
            f"{l1:>12g} {fmt_quartiles(spread)} {inactive_units(rbm.components_):>4}/"
            f"{sizes[0]:<3} {corr:8.3f} {fit_seconds:>6}{note}"
        )

    print(
        f"\n{'l1 (2 and 3)':>12} {'layer-2 spread':>19} {'inactive':>8} {'layer-3 spread':>19} "
        f"{'inactive':>8} {'corr b=4':>8} {'corr b=8':>8}"
    )
    deep = [(cfg["l1"][1], l1_stack)]
    for l1 in cfg["scan_deep"]:
        stack, _ = fit_stack(X, sizes, (cfg["l1"][0], l1, l1), cfg["epochs"], seed, main_first)
        deep.append((l1, stack))
    for l1, stack in sorted(deep, key=lambda row: row[0]):
        weights = [rbm.components_ for rbm in stack]
        fields = composed_fields(weights)
        hidden = stack_hidden(stack, X_test)
        note = "  (main)" if stack is l1_stack else ""
        print(
            f"{l1:>12g} {fmt_quartiles(receptive_field_spread(fields[1], shape))} "
            f"{inactive_units(weights[1]):>4}/{sizes[1]:<3} "
            f"{fmt_quartiles(receptive_field_spread(fields[2], shape))} "
            f"{inactive_units(weights[2]):>4}/{sizes[2]:<3} "
            f"{median_max_correlation(hidden[1], blocks[1]):8.3f} "
            f"{median_max_correlation(hidden[2], blocks[2]):8.3f}{note}"
        )


def thermometer(energies, size):
    """Temperature of the exact size x size curve at each mean energy (NaN if out of range)."""
    temperatures = []
    for energy in np.atleast_1d(energies):
        try:
            temperatures.append(ising_temperature(float(energy), size))
        except ValueError:
            temperatures.append(np.nan)
    return np.array(temperatures)


def flow_temperatures(rbm, X, n_steps, size, seed):
    flow = rbm_flow(rbm, X, n_steps, random_state=seed)
    energies = ising_energy(flow.reshape(-1, flow.shape[-1]), (size, size))
    return thermometer(energies.reshape(n_steps + 1, -1).mean(axis=1), size)


def goal5(quick, seed):
    cfg = GOAL5_QUICK if quick else GOAL5_FULL
    size = cfg["size"]
    temperatures = cfg["temperatures"]
    n_samples = cfg["n_per_temperature"] * len(temperatures)
    print(
        f"== Goal 5: RBM flow (Iso, Shiba & Yokoo 2018) ==\n"
        f"{size}x{size} periodic Ising, {cfg['n_per_temperature']} configurations at each of "
        f"T = {temperatures[0]:g}, {temperatures[1]:g}, ..., {temperatures[-1]:g} "
        f"({len(temperatures)} temperatures); RBMs visible='spin', {cfg['epochs']} epochs, "
        f"n_jobs=1, float32\nflow: rbm_flow(..., mean_field=False) {cfg['n_steps']} Gibbs "
        "steps; thermometer: mean ising_energy -> ising_temperature(size=10)"
    )
    start = time.perf_counter()
    X, y = make_ising(n_samples, size, temperatures, n_jobs=2, random_state=seed + 2)
    X = X.astype(np.float32)
    print(f"data: {elapsed(start):.1f} s")
    mixture = ising_temperature(float(np.mean(exact_ising_energy(temperatures, size))), size)
    training = ising_temperature(float(ising_energy(X, (size, size)).mean()), size)
    print(
        f"thermometer on the whole training set: T = {training:.3f} (exact mixture of the "
        f"{len(temperatures)} temperatures: {mixture:.3f}); a perfect model's Gibbs flow ends "
        "there"
    )

    steps = cfg["report_steps"]
    results = {}
    mean_field_error = None
    for setting, overrides in GOAL5_SETTINGS:
        for n_hidden in cfg["hidden"]:
            start = time.perf_counter()
            rbm = RBMCoarseGrainer(
                n_hidden,
                visible="spin",
                n_iter=cfg["epochs"],
                random_state=seed,
                n_jobs=1,
                **overrides,
            ).fit(X)
            fit_seconds = elapsed(start)
            start = time.perf_counter()
            trajectories = {
                t0: flow_temperatures(rbm, X[np.isclose(y, t0)], cfg["n_steps"], size, seed)
                for t0 in GOAL5_STARTS
            }
            flow_seconds = elapsed(start)
            start = time.perf_counter()
            equilibrium_samples = rbm.sample(
                cfg["n_per_temperature"], n_steps=cfg["equilibrium_sweeps"], random_state=seed
            )
            equilibrium = thermometer(ising_energy(equilibrium_samples, (size, size)).mean(), size)[
                0
            ]
            sample_seconds = elapsed(start)
            results[setting, n_hidden] = (trajectories, equilibrium)
            print(
                f"  {setting}, {n_hidden} hidden: fit {fit_seconds:.1f} s, flows "
                f"{flow_seconds:.1f} s, equilibrium sample {sample_seconds:.1f} s"
            )
            if mean_field_error is None:
                try:
                    rbm_flow(rbm, X[:10], 2, mean_field=True)
                    mean_field_error = ""
                except ValueError as error:
                    mean_field_error = f"{type(error).__name__}: {error}"

    print(
        f"\nTemperature along the Gibbs flow (T_c = {T_C:.3f}); 'equil.': the model's own "
        f"equilibrium (sample, {cfg['equilibrium_sweeps']} sweeps from the visible biases)"
    )
    header = f"{'training':<18} {'hidden':>6} {'start':>5} " + " ".join(
        f"{f't={s}':>6}" for s in steps
    )
    print(header + f" {'equil.':>6}")
    for (setting, n_hidden), (trajectories, equilibrium) in results.items():
        for t0, temps in trajectories.items():
            print(
                f"{setting:<18} {n_hidden:>6} {t0:>5.2f} "
                + " ".join(f"{temps[s]:6.3f}" for s in steps)
                + f" {equilibrium:6.3f}"
            )
    if mean_field_error:
        print(
            "\nmean-field flow: not measured. rbm_flow(rbm, X, 2, mean_field=True) on a "
            f"visible='spin' RBM raises at step 2:\n  {mean_field_error}"
        )
    elif mean_field_error == "":
        print("\nmean-field flow: rbm_flow(mean_field=True) runs (not measured here)")

    low, high = GOAL5_WINDOW
    primary = results[GOAL5_SETTINGS[0][0], cfg["hidden"][0]][0]
    finals = {t0: temps[-1] for t0, temps in primary.items()}
    passed = all(low <= t <= high for t in finals.values())
    ends = ", ".join(f"{t:.3f}" for t in finals.values())
    record("5 RBM flow final T", ends, f"in [{low}, {high}]", passed)
    print(
        f"\nGoal 5 {'PASS' if passed else 'MISS'}: {GOAL5_SETTINGS[0][0]}, "
        f"{cfg['hidden'][0]} hidden, after {cfg['n_steps']} Gibbs steps: "
        + ", ".join(f"T = {t0:g} -> {t:.3f}" for t0, t in finals.items())
        + f" (target [{low}, {high}])"
    )
    for (setting, n_hidden), (trajectories, equilibrium) in results.items():
        if (setting, n_hidden) == (GOAL5_SETTINGS[0][0], cfg["hidden"][0]):
            continue
        inside = all(low <= temps[-1] <= high for temps in trajectories.values())
        print(
            f"  {setting}, {n_hidden} hidden: "
            + ", ".join(f"T = {t0:g} -> {temps[-1]:.3f}" for t0, temps in trajectories.items())
            + f" (both in window: {'yes' if inside else 'no'}; equilibrium {equilibrium:.3f})"
        )
    return passed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run, < 1 min)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data, training, sampling")
    parser.add_argument("--goal", choices=("4", "5", "all"), default="all")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    print(
        f"bench_rbm_rg: mode {'quick' if args.quick else 'full'}, seed {args.seed}, skqg "
        f"{skqg.__version__}, git {git_revision()}, numpy {np.__version__}\n"
    )
    outcome = {}
    if args.goal in ("4", "all"):
        start = time.perf_counter()
        outcome["goal4"] = goal4(args.quick, args.seed)
        print(f"goal 4 time: {elapsed(start):.1f} s\n")
    if args.goal in ("5", "all"):
        start = time.perf_counter()
        outcome["goal5"] = goal5(args.quick, args.seed)
        print(f"goal 5 time: {elapsed(start):.1f} s\n")
    print_summary(14)
    print(f"\ntotal wall time: {elapsed(began):.1f} s")
    return outcome


if __name__ == "__main__":
    main()
