"""The bad-input matrix: every estimator method and public function against every kind of bad input.

One table-driven test, :func:`test_bad_input`, runs each (callable, input case) pair. A callable
is a :class:`Target`: a method of a fitted estimator or a public function, the kind of array it
takes (observations, a stack of SPD matrices, spins on a lattice, ...), a valid example of that
input and the call itself. An input case turns the valid example into a bad one (NaN, infinity,
0 rows, 0 columns, one sample, wrong ndim, complex or object dtype, a read-only memmap, 1e150 or
1e-150 magnitudes, a non-symmetric or non-positive-definite matrix, values outside the domain).

Each pair has one expectation:

- ``OK``: the call works and every number it returns is finite (no silent NaN);
- ``SAME``: the call works and returns what it returns for the valid in-memory float64 input
  (object arrays of floats and read-only memmaps must not change the result);
- ``raises(pattern)``: a ValueError whose message matches ``pattern`` (names the problem).

Anything else (a crash, another exception type, a hang, NaN in the output) fails. When a call on a
fitted estimator raises, its ``__dict__`` must be exactly as before the call. The defaults per
case are in :data:`DEFAULTS`; each target lists its deviations, with the reason when a deviation is
a design choice.
"""

import copy
import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from _helpers import random_binary, random_spins

from skqg import (
    MongeAmpereTransport,
    RBMCoarseGrainer,
    WishartCovarianceModel,
    cone,
    datasets,
    rg,
    stats,
)
from skqg.datasets import make_ising
from skqg.transport import auto_epsilon

# ---------------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expect:
    outcome: str  # "ok", "same" or "raises"
    pattern: str = ""
    check: Callable | None = None  # extra assertion on the output of an "ok" call


OK = Expect("ok")
SAME = Expect("same")


def raises(pattern):
    return Expect("raises", pattern)


NAN = raises(r"(?i)\bnan\b")
INF = raises(r"(?i)inf")
EMPTY = raises(r"(?i)(empty|0 sample|0 feature|0 matri|at least|minimum|non-empty)")
NDIM = raises(r"(?i)(\d-?D|dimension|shape|ndim|scalar|array)")
COMPLEX = raises(r"(?i)(complex|real)")
NOT_SYMMETRIC = raises(r"(?i)symmetric")
NOT_PD = raises(r"(?i)(positive|definite|eigenvalue)")
# The functions of skqg.cone, skqg.stats and skqg.rg refuse object arrays instead of guessing
# (np.asarray(..., dtype=float) of an object array can hide strings or None until it fails);
# the estimators convert them as scikit-learn's check_array does. Both are deliberate.
OBJECT_REFUSED = raises(r"real numbers, got (dtype object|array\(.*dtype=object)")
TOO_FEW_MATRICES = raises(r"at least 2 matrices")
TWO_SAMPLES = raises(r"1 sample\(s\) .* minimum of 2")


def _margins_check(out):
    """spd_margins of a singular or indefinite matrix: finite margins, condition number inf."""
    _, low, high, condition = (np.asarray(v) for v in out)
    assert np.isfinite(low).all() and np.isfinite(high).all()
    assert not np.isnan(condition).any()
    assert np.all((low > 0) == np.isfinite(condition))


# Margins of rank-deficient or indefinite input are the point of these diagnostics: they report
# condition_number = inf (documented), not an error.
MARGINS = Expect("ok", check=_margins_check)


def _spd_check(out):
    out = np.asarray(out)
    assert np.allclose(out, np.swapaxes(out, -1, -2))
    assert np.linalg.eigvalsh(out).min() >= -1e-12


# Elementwise functions follow NumPy's ufunc conventions: any shape, scalars and empty arrays.
ELEMENTWISE = {"empty_rows": OK, "ndim_low": OK, "ndim_high": OK, "object": OBJECT_REFUSED}

CASES = (
    "nan",
    "inf",
    "empty_rows",
    "empty_cols",
    "one_sample",
    "ndim_low",
    "ndim_high",
    "complex",
    "object",
    "memmap",
    "huge",
    "tiny",
    "nonsym",
    "nonpd",
    "domain",
)

DEFAULTS = {
    "nan": NAN,
    "inf": INF,
    "empty_rows": EMPTY,
    "empty_cols": EMPTY,
    "one_sample": OK,
    "ndim_low": NDIM,
    "ndim_high": NDIM,
    "complex": COMPLEX,
    "object": SAME,
    "memmap": SAME,
    "huge": OK,
    "tiny": OK,
    "nonsym": NOT_SYMMETRIC,
    "nonpd": NOT_PD,
}

# --------------------------------------------------------------------------------- valid inputs

P = 3  # matrix size of the SPD inputs
L = 4  # lattice side


def _rng():
    return np.random.RandomState(0)


def _observations():
    return _rng().normal(size=(30, P)) @ np.array(
        [[1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.0, 0.3, 2.0]]
    )


def _transport_data():
    return _rng().normal(size=(40, 2)) @ np.array([[1.0, 0.0], [0.5, 0.7]])


def _binary():
    return random_binary(_rng(), (20, 6), p=0.4)


def _spins():
    return random_spins(_rng(), (20, 6), p=0.4)


def _lattice():
    return np.where(_rng().uniform(size=(6, L * L)) < 0.7, 1.0, -1.0)


def _hidden():
    return _rng().uniform(size=(5, 3))


def _stack():
    return stats.wishart_sample(10, 8.0, np.eye(P) / 8.0, random_state=0)


def _spd():
    return np.array([[2.0, 0.5, 0.1], [0.5, 1.5, 0.2], [0.1, 0.2, 1.0]])


def _symmetric():
    # A tangent vector: symmetric, indefinite.
    return np.array([[0.3, -0.2, 0.1], [-0.2, -0.4, 0.05], [0.1, 0.05, 0.2]])


def _tangent_rows():
    return 0.2 * _rng().normal(size=(5, P * (P + 1) // 2))


def _weights():
    return np.abs(_rng().normal(size=(3, L * L))) + 0.1


# Kinds of input: how each case is built from the valid example. "rows" are 2-D (n, d) arrays,
# "stack" accepts (n, p, p) or one (p, p) matrix, "vector" any 1-D array.
KINDS = {
    "obs": "rows",
    "binary": "rows",
    "spin": "rows",
    "hidden": "rows",
    "lattice": "rows",
    "tangent": "rows",
    "weights": "rows",
    "wstack": "stack3",  # a 3-D stack only (WishartCovarianceModel)
    "stack": "stack",
    "sym": "stack",
    "vector": "vector",
}

# ---------------------------------------------------------------------------- fitted estimators


@functools.cache
def fitted(name):
    """The fitted estimators the methods run on (built once; tests work on deep copies)."""
    if name == "rbm":
        return RBMCoarseGrainer(n_components=3, n_iter=3, random_state=0).fit(_binary())
    if name == "rbm_spin":
        return RBMCoarseGrainer(n_components=3, visible="spin", n_iter=3, random_state=0).fit(
            _spins()
        )
    if name == "rbm_gaussian":
        return RBMCoarseGrainer(n_components=3, visible="gaussian", n_iter=3, random_state=0).fit(
            _observations()
        )
    if name == "rbm_lattice":
        return RBMCoarseGrainer(n_components=4, visible="spin", n_iter=2, random_state=0).fit(
            _lattice()
        )
    if name == "transport":
        return MongeAmpereTransport(random_state=0).fit(_transport_data())
    if name == "wishart_obs":
        return WishartCovarianceModel().fit(_observations())
    if name == "wishart_stack":
        return WishartCovarianceModel().fit(_stack())
    raise KeyError(name)


# ---------------------------------------------------------------------------------- the targets


@dataclass
class Target:
    name: str
    kind: str
    base: Callable[[], np.ndarray]
    call: Callable[..., Any]  # call(data) or call(estimator, data)
    estimator: str | None = None
    expect: dict = field(default_factory=dict)
    domain: tuple | None = None  # (make_bad(valid) -> array, pattern)

    def __str__(self):
        return self.name


def _bernoulli_domain(X):
    X = X.copy()
    X[0, 0] = 2.0
    return X


BERNOULLI_DOMAIN = (_bernoulli_domain, r"visible='bernoulli' takes values in \[0, 1\]")
SPIN_DOMAIN = (lambda X: (X + 1.0) / 2.0, r"visible='spin' takes Ising spins")
HIDDEN_DOMAIN = (_bernoulli_domain, r"H must hold values in \[0, 1\]")

# RBMs: values outside {0, 1}/[0, 1] or {-1, +1} are the domain errors; 1e150 is outside both.
_RBM_BERNOULLI = {
    "huge": raises(r"takes values in \[0, 1\]"),
    "complex": COMPLEX,
}
_RBM_SPIN = {
    "huge": raises(r"takes Ising spins"),
    "tiny": raises(r"takes Ising spins"),
}


def _rbm_targets():
    method_calls = {
        "fit": lambda est, X: est.fit(X),
        "partial_fit": lambda est, X: est.partial_fit(X),
        "transform": lambda est, X: est.transform(X),
        "gibbs": lambda est, X: est.gibbs(X, random_state=0),
        "free_energy": lambda est, X: est.free_energy(X),
        "score_samples": lambda est, X: est.score_samples(X),
        "score": lambda est, X: est.score(X),
    }
    targets = []
    for method, call in method_calls.items():
        targets.append(
            Target(
                f"RBM.{method}",
                "binary",
                _binary,
                call,
                estimator="rbm",
                expect=dict(_RBM_BERNOULLI),
                domain=BERNOULLI_DOMAIN,
            )
        )
    targets.append(
        Target(
            "RBM.inverse_transform",
            "hidden",
            _hidden,
            lambda est, H: est.inverse_transform(H),
            estimator="rbm",
            expect={"huge": raises(r"H must hold values in \[0, 1\]")},
            domain=HIDDEN_DOMAIN,
        )
    )
    for method in ("fit", "transform", "score_samples"):
        targets.append(
            Target(
                f"RBM(spin).{method}",
                "spin",
                _spins,
                method_calls[method],
                estimator="rbm_spin",
                expect=dict(_RBM_SPIN),
                domain=SPIN_DOMAIN,
            )
        )
    for method in ("fit", "partial_fit", "transform", "score_samples"):
        targets.append(
            Target(
                f"RBM(gaussian).{method}",
                "obs",
                _observations,
                method_calls[method],
                estimator="rbm_gaussian",
            )
        )
    return targets


def _transport_targets():
    calls = {
        "fit": lambda est, X: est.fit(X),
        "transform": lambda est, X: est.transform(X),
        "inverse_transform": lambda est, X: est.inverse_transform(X),
        "potential": lambda est, X: est.potential(X),
        "log_det_jacobian": lambda est, X: est.log_det_jacobian(X),
        "score_samples": lambda est, X: est.score_samples(X),
        "score": lambda est, X: est.score(X),
    }
    # fit needs two points (a covariance and a scale for epsilon); one point is refused.
    targets = [
        Target(
            f"MongeAmpere.{method}",
            "obs",
            _transport_data,
            call,
            estimator="transport",
            expect={"one_sample": TWO_SAMPLES} if method == "fit" else {},
        )
        for method, call in calls.items()
    ]
    targets.append(
        Target(
            "MongeAmpere(reference=Y).fit",
            "obs",
            _transport_data,
            lambda Y: MongeAmpereTransport(reference=Y, random_state=0).fit(_transport_data()),
            expect={"one_sample": raises(r"1 sample\(s\) .* minimum of 2")},
        )
    )
    return targets


def _wishart_targets():
    calls = {
        "fit": lambda est, X: est.fit(X),
        "transform": lambda est, X: est.transform(X),
        "score_samples": lambda est, X: est.score_samples(X),
        "score": lambda est, X: est.score(X),
        "goodness_of_fit": lambda est, X: est.goodness_of_fit(X, n_bootstrap=9, random_state=0),
        "spectrum": lambda est, X: est.spectrum(X),
        "input_margins": lambda est, X: est.input_margins(X),
    }
    targets = []
    obs_calls = {**calls, "mahalanobis": lambda est, X: est.mahalanobis(X)}
    obs_calls["inverse_transform"] = lambda est, X: est.inverse_transform(X)
    obs_expect = {
        "fit": {"one_sample": TWO_SAMPLES},
        "goodness_of_fit": {
            "one_sample": raises(r"needs n_samples >= n_features"),
            # 1e-150 data all sit at the origin, so their scatter about location_ (which is
            # O(1)) has rank 1: the test of a positive-definite scatter cannot run.
            "tiny": raises(r"not positive definite: rank 1 of 3"),
        },
        "input_margins": {"one_sample": MARGINS, "tiny": MARGINS},
    }
    stack_expect = {
        "fit": {
            "one_sample": TWO_SAMPLES,
            # One (p, p) array is valid 2-D input (p observations of p features): fit cannot
            # tell it from observations, and fits a 2-D model.
            "ndim_low": OK,
        },
        "goodness_of_fit": {"one_sample": TOO_FEW_MATRICES},
        "input_margins": {"nonpd": MARGINS},
    }
    for method, call in obs_calls.items():
        targets.append(
            Target(
                f"Wishart(2-D).{method}",
                "obs",
                _observations,
                call,
                estimator="wishart_obs",
                expect=obs_expect.get(method, {}),
            )
        )
    for method, call in calls.items():
        targets.append(
            Target(
                f"Wishart(3-D).{method}",
                "wstack",
                _stack,
                call,
                estimator="wishart_stack",
                expect=stack_expect.get(method, {}),
            )
        )
    targets.append(
        Target(
            "Wishart(3-D).inverse_transform",
            "tangent",
            _tangent_rows,
            lambda est, X: est.inverse_transform(X),
            estimator="wishart_stack",
            # exp of a tangent vector of size 1e149 overflows float64: refused, not inf.
            expect={"huge": raises(r"too large to map back")},
        )
    )
    return targets


def _cone_targets():
    spd, sym = _spd(), _symmetric()
    refused = {"object": OBJECT_REFUSED}
    # exp of a tangent vector that is huge relative to the base point overflows float64: a
    # 1e-150 base point makes X^-1/2 V X^-1/2 of size 1e150. Refused, never inf or NaN.
    overflow = raises(r"not finite in float64")
    # Tangent vectors are symmetric, not positive definite; project accepts any square matrix
    # (making it SPD is its job).
    tangent = {**refused, "nonpd": OK}
    return [
        Target("cone.barrier", "stack", _stack, cone.barrier, expect=refused),
        Target("cone.barrier_gradient", "stack", _stack, cone.barrier_gradient, expect=refused),
        Target("cone.barrier_hessian", "stack", _stack, cone.barrier_hessian, expect=refused),
        Target("cone.distance", "stack", _stack, lambda X: cone.distance(X, spd), expect=refused),
        Target(
            "cone.exp_map[X]",
            "stack",
            _stack,
            lambda X: cone.exp_map(X, sym),
            expect={**refused, "tiny": overflow},
        ),
        Target(
            "cone.exp_map[V]",
            "sym",
            _symmetric,
            lambda V: cone.exp_map(spd, V),
            expect={**tangent, "huge": overflow},
        ),
        Target("cone.log_map[Y]", "stack", _stack, lambda Y: cone.log_map(spd, Y), expect=refused),
        Target(
            "cone.geodesic", "stack", _stack, lambda X: cone.geodesic(X, spd, 0.3), expect=refused
        ),
        Target("cone.mean", "stack", _stack, cone.mean, expect=refused),
        Target(
            "cone.metric[X]", "stack", _stack, lambda X: cone.metric(X, sym, sym), expect=refused
        ),
        Target(
            "cone.metric[A]", "sym", _symmetric, lambda A: cone.metric(spd, A, sym), expect=tangent
        ),
        Target(
            "cone.monge_ampere_residual",
            "stack",
            _stack,
            cone.monge_ampere_residual,
            expect=refused,
        ),
        Target(
            "cone.project",
            "stack",
            _stack,
            cone.project,
            expect={
                **refused,
                "nonsym": Expect("ok", check=_spd_check),
                "nonpd": Expect("ok", check=_spd_check),
            },
        ),
        Target("cone.vech", "sym", _symmetric, cone.vech, expect=tangent),
        Target(
            "cone.unvech",
            "tangent",
            _tangent_rows,
            cone.unvech,
            expect={
                "object": raises(r"real vector .* dtype object"),
                # An empty stack of vectors is an empty stack of matrices, shape (0, 3, 3).
                "empty_rows": Expect("ok", check=lambda out: out.shape == (0, P, P)),
                # The flattened (5, 6) rows are one vector of length 30: not p (p + 1) / 2.
                "ndim_low": raises(r"length must be p \* \(p \+ 1\) / 2"),
            },
        ),
    ]


def _set(X, index, value):
    X[index] = value
    return X


def _stats_targets():
    spd = _spd()

    def eigenvalues():
        return np.linspace(0.3, 2.0, 12)

    refused = {"object": OBJECT_REFUSED}
    # Points of a distribution function: +-inf are valid, with the limits (as scipy.stats).
    law = {**ELEMENTWISE, "inf": OK}
    few = {"one_sample": TOO_FEW_MATRICES, "ndim_low": TOO_FEW_MATRICES, **refused}
    return [
        Target(
            "stats.marchenko_pastur_pdf",
            "vector",
            eigenvalues,
            lambda x: stats.marchenko_pastur_pdf(x, 0.5),
            expect=law,
        ),
        Target(
            "stats.marchenko_pastur_cdf",
            "vector",
            eigenvalues,
            lambda x: stats.marchenko_pastur_cdf(x, 0.5),
            expect=law,
        ),
        Target(
            "stats.marchenko_pastur_test",
            "vector",
            eigenvalues,
            lambda x: stats.marchenko_pastur_test(x, 0.5),
            expect=refused,
            domain=(lambda x: _set(x, 0, -1.0), r"negative value"),
        ),
        Target(
            "stats.multivariate_digamma",
            "vector",
            lambda: np.linspace(2.0, 6.0, 5),
            lambda a: stats.multivariate_digamma(a, 3),
            expect={**ELEMENTWISE, "tiny": raises(r"defined for a > \(p - 1\) / 2")},
            domain=(lambda a: _set(a, 0, 0.5), r"defined for a > \(p - 1\) / 2"),
        ),
        Target(
            "stats.spd_margins",
            "stack",
            _stack,
            stats.spd_margins,
            expect={**refused, "nonpd": MARGINS},
        ),
        Target("stats.wishart_fit", "wstack", _stack, stats.wishart_fit, expect=few),
        Target(
            "stats.wishart_gof",
            "wstack",
            _stack,
            lambda X: stats.wishart_gof(X, n_bootstrap=9, random_state=0),
            expect=few,
        ),
        Target(
            "stats.wishart_logpdf[X]",
            "stack",
            _stack,
            lambda X: stats.wishart_logpdf(X, 8.0, spd / 8.0),
            expect=refused,
        ),
        Target(
            "stats.wishart_logpdf[scale]",
            "stack",
            _spd,
            lambda S: stats.wishart_logpdf(_stack(), 8.0, S),
            expect=refused,
        ),
        Target(
            "stats.wishart_sample[scale]",
            "stack",
            _spd,
            lambda S: stats.wishart_sample(3, 8.0, S, random_state=0),
            expect=refused,
        ),
    ]


def _rg_targets():
    shape = (L, L)
    alphabet = raises(r"one alphabet, spins \{-1, \+1\} or bits \{0, 1\}")
    spins = raises(r"must hold spins in \[-1, 1\]")
    temperatures = {**ELEMENTWISE}
    return [
        Target(
            "rg.block_spin",
            "lattice",
            _lattice,
            lambda X: rg.block_spin(X, shape),
            expect={"huge": alphabet, "tiny": alphabet},
            domain=(lambda X: _set(X, (0, 0), 0.5), alphabet.pattern),
        ),
        Target(
            "rg.ising_energy",
            "lattice",
            _lattice,
            lambda X: rg.ising_energy(X, shape),
            # 1e-150 spins are valid local magnetisations (values in [-1, 1]).
            expect={"huge": spins},
            domain=(lambda X: _set(X, (0, 0), 2.0), spins.pattern),
        ),
        Target(
            "rg.rbm_flow",
            "lattice",
            _lattice,
            lambda est, X: rg.rbm_flow(est, X, 2, random_state=0),
            estimator="rbm_lattice",
            expect={"huge": raises(r"takes Ising spins"), "tiny": raises(r"takes Ising spins")},
            domain=(lambda X: (X + 1.0) / 2.0, r"takes Ising spins"),
        ),
        Target(
            "rg.receptive_field_spread",
            "weights",
            _weights,
            lambda W: rg.receptive_field_spread(W, shape),
            domain=(lambda W: _set(W, 0, 0.0), r"all zero"),
        ),
        Target(
            "rg.exact_ising_energy",
            "vector",
            lambda: np.array([1.5, 2.27, 3.0]),
            lambda T: rg.exact_ising_energy(T, L),
            expect=temperatures,
            domain=(lambda T: _set(T, 0, -1.0), r"finite and > 0"),
        ),
        Target(
            "rg.ising_temperature",
            "vector",
            lambda: np.array([-1.8, -1.2, -0.6]),
            lambda E: rg.ising_temperature(E, L),
            # Energies per site lie in [-2, 0): 1e150 and 1e-150 times them are out of range.
            expect={**ELEMENTWISE, "huge": raises(r"is outside"), "tiny": raises(r"is outside")},
            domain=(lambda E: _set(E, 0, -3.0), r"is outside"),
        ),
        Target(
            "datasets.make_ising",
            "vector",
            lambda: np.array([2.0, 3.0]),
            lambda T: make_ising(2, L, T, n_chains=2, burn_in=5, random_state=0),
            # A scalar temperature is documented; an empty list or 2-D array is not.
            expect={"ndim_low": OK, "object": OBJECT_REFUSED},
            domain=(lambda T: _set(T, 0, -1.0), r"finite and > 0"),
        ),
        Target(
            "transport.auto_epsilon",
            "stack",
            _spd,
            lambda C: auto_epsilon(C, np.eye(P), 100, 100, P),
            expect={
                "empty_rows": raises(r"shape \(3, 3\)"),
                "empty_cols": raises(r"shape \(3, 3\)"),
                "ndim_high": raises(r"shape \(3, 3\)"),
                "object": OBJECT_REFUSED,
            },
        ),
    ]


TARGETS = [
    *_rbm_targets(),
    *_transport_targets(),
    *_wishart_targets(),
    *_cone_targets(),
    *_stats_targets(),
    *_rg_targets(),
]

# ---------------------------------------------------------------------------------- input cases


class Skip(Exception):
    """The case does not apply to this kind of input."""


def make_case(target, case, tmp_path=None):
    """The bad input of ``case`` built from ``target``'s valid example."""
    X = np.asarray(target.base(), dtype=np.float64)
    shape = KINDS[target.kind]
    if case == "nan":
        X = X.copy()
        X.flat[0] = np.nan
        return X
    if case == "inf":
        X = X.copy()
        X.flat[0] = np.inf
        return X
    if case == "empty_rows":
        return X[:0]
    if case == "empty_cols":
        if shape == "vector":
            raise Skip
        if shape in ("stack", "stack3"):
            return np.zeros((len(X) if X.ndim == 3 else 2, 0, 0))
        return X[:, :0]
    if case == "one_sample":
        if shape == "vector":
            return X[:1]
        if shape == "stack" and X.ndim == 2:
            raise Skip
        return X[:1]
    if case == "ndim_low":
        if shape == "rows":
            return X.ravel()
        if shape == "stack3":
            return X[0]
        if shape == "stack":
            return X[0, 0] if X.ndim == 3 else X[0]
        return X[0]
    if case == "ndim_high":
        if shape == "stack" and X.ndim == 2:
            return X[None, None]
        return X[None]
    if case == "complex":
        return X + 0.5j
    if case == "object":
        return X.astype(object)
    if case == "memmap":
        if tmp_path is _NO_FILE:
            return None
        path = _memmap_path(tmp_path)
        writer = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
        writer[:] = X
        writer.flush()
        del writer
        return np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    if case == "huge":
        return X * 1e150
    if case == "tiny":
        return X * 1e-150
    if case in ("nonsym", "nonpd"):
        if shape not in ("stack", "stack3"):
            raise Skip
        X = X.copy()
        if case == "nonsym":
            X[..., 0, 1] += 0.5
        else:
            X[..., 0, 0] = -1.0
        return X
    if case == "domain":
        if target.domain is None:
            raise Skip
        return target.domain[0](X.copy())
    raise KeyError(case)


_MEMMAP_COUNTER = [0]


def _memmap_path(tmp_path):
    import tempfile
    from pathlib import Path

    directory = Path(tmp_path) if tmp_path is not None else Path(tempfile.mkdtemp())
    _MEMMAP_COUNTER[0] += 1
    return directory / f"case{_MEMMAP_COUNTER[0]}.dat"


def expectation(target, case):
    if case == "domain":
        return raises(target.domain[1])
    return target.expect.get(case, DEFAULTS[case])


def _applies(target, case):
    try:
        make_case(target, case, tmp_path=None if case != "memmap" else _NO_FILE)
    except Skip:
        return False
    return True


_NO_FILE = object()  # make_case writes no memmap while the table is being built

PAIRS = [(t, c) for t in TARGETS for c in CASES if _applies(t, c)]

# -------------------------------------------------------------------------------- the checking


def all_finite(out):
    """Whether every number in ``out`` (arrays, tuples, estimators' fitted arrays) is finite."""
    if out is None or isinstance(out, (str, bool)):
        return True
    if hasattr(out, "get_params"):  # an estimator returned by fit
        return all(all_finite(v) for k, v in vars(out).items() if k.endswith("_"))
    if isinstance(out, dict):
        return all(all_finite(v) for v in out.values())
    if isinstance(out, (tuple, list)):
        return all(all_finite(v) for v in out)
    if isinstance(out, np.random.RandomState):
        return True
    array = np.asarray(out)
    if array.dtype.kind in "biu":
        return True
    if array.dtype.kind != "f":
        return False
    return bool(np.isfinite(array).all())


def assert_same(actual, expected):
    if hasattr(expected, "get_params"):
        for key, value in vars(expected).items():
            if key.endswith("_") and not isinstance(value, np.random.RandomState):
                assert_same(getattr(actual, key), value)
        return
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e)
        return
    if isinstance(expected, str) or expected is None:
        assert actual == expected
        return
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-12, atol=0)


def snapshot(estimator):
    return copy.deepcopy(vars(estimator))


def assert_state_equal(before, after, path="estimator"):
    if isinstance(before, dict):
        assert isinstance(after, dict) and set(before) == set(after), (
            f"{path}: attributes changed from {sorted(before)} to {sorted(after)}"
        )
        for key in before:
            assert_state_equal(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, np.random.RandomState):
        state_a, state_b = before.get_state(), after.get_state()
        assert state_a[2:] == state_b[2:] and np.array_equal(state_a[1], state_b[1]), path
    elif isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray) and before.dtype == after.dtype, path
        assert np.array_equal(before, after, equal_nan=True), f"{path} changed"
    elif isinstance(before, (tuple, list)):
        assert type(before) is type(after) and len(before) == len(after), path
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            assert_state_equal(a, b, f"{path}[{i}]")
    elif isinstance(before, float) and math.isnan(before):
        assert math.isnan(after), path
    else:
        assert before == after, f"{path} changed from {before!r} to {after!r}"


def run(target, data):
    if target.estimator is None:
        return target.call(data)
    return target.call(copy.deepcopy(fitted(target.estimator)), data)


def _pair_id(pair):
    return f"{pair[0].name}-{pair[1]}"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("target", "case"), PAIRS, ids=[_pair_id(p) for p in PAIRS])
def test_bad_input(target, case, tmp_path):
    data = make_case(target, case, tmp_path)
    expected = expectation(target, case)
    estimator = None
    if target.estimator is not None:
        estimator = copy.deepcopy(fitted(target.estimator))
        before = snapshot(estimator)
    call = target.call if estimator is None else functools.partial(target.call, estimator)
    if expected.outcome == "raises":
        with pytest.raises(ValueError, match=expected.pattern):
            call(data)
        if estimator is not None:
            assert_state_equal(before, snapshot(estimator))
        return
    out = call(data)
    if expected.check is not None:
        expected.check(out)
    else:
        assert all_finite(out), f"{target.name} returned non-finite values for {case} input"
    if expected.outcome == "same":
        reference = run(target, np.asarray(target.base(), dtype=np.float64))
        assert_same(out, reference)


# Public callables without an array argument (nothing for this table to feed them).
NO_ARRAY_INPUT = {
    "cone.self_duality_check": "takes a matrix size p and a probe count",
    "RBMCoarseGrainer.sample": "takes a count",
    "RBMCoarseGrainer.log_partition": "takes options only",
    "MongeAmpereTransport.sample": "takes a count",
    "WishartCovarianceModel.sample": "takes a count",
}
_ESTIMATOR_PREFIXES = {
    RBMCoarseGrainer: "RBM",
    MongeAmpereTransport: "MongeAmpere",
    WishartCovarianceModel: "Wishart(2-D)",
}


def test_table_covers_every_public_callable():
    """Every public function and every data-taking estimator method is in the table."""
    covered = {target.name.split("[")[0] for target in TARGETS}
    missing = []
    for module in (cone, stats, rg, datasets):
        for name in module.__all__:
            if inspect.isfunction(getattr(module, name)):
                qualified = f"{module.__name__.removeprefix('skqg.')}.{name}"
                if qualified not in covered and qualified not in NO_ARRAY_INPUT:
                    missing.append(qualified)
    assert "transport.auto_epsilon" in covered
    for estimator, prefix in _ESTIMATOR_PREFIXES.items():
        for name, method in inspect.getmembers(estimator, inspect.isfunction):
            parameters = list(inspect.signature(method).parameters)
            # get_params, set_output, ... and the generated set_*_request of metadata routing
            inherited = name not in vars(estimator) or name.endswith("_request")
            if inherited or name.startswith("_") or len(parameters) < 2:
                continue
            qualified = f"{estimator.__name__}.{name}"
            if f"{prefix}.{name}" not in covered and qualified not in NO_ARRAY_INPUT:
                missing.append(qualified)
    assert not missing, f"not in the bad-input table: {missing}"
