"""Persistence: fitted estimators round-trip through pickle and joblib with identical outputs.

Fitted estimators hold plain arrays and numbers only (no Numba dispatchers, ctypes objects or
functions), so their pickles are small, load in a fresh interpreter and give the same numbers
there. The kernels' compilation cache goes where ``NUMBA_CACHE_DIR`` says, so a read-only
install works (``docs/install.rst``).
"""

import ctypes
import os
import pickle
import shutil
import stat
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import joblib
import numpy as np
import pytest
from _helpers import random_binary, random_gram_stack

import skqg


def _fitted(name):
    """A fitted estimator and the calls whose outputs must survive a round trip."""
    rng = np.random.RandomState(0)
    if name.startswith("transport"):
        X = rng.standard_normal((150, 2))
        Y = rng.standard_normal((20, 2))
        if name == "transport_normal":
            est = skqg.MongeAmpereTransport(reference="normal", n_reference=150, random_state=0)
        elif name == "transport_ball":
            est = skqg.MongeAmpereTransport(reference="ball", n_reference=150, random_state=0)
        elif name == "transport_array":
            est = skqg.MongeAmpereTransport(reference=rng.uniform(size=(120, 2)), random_state=0)
        else:  # the exact one-dimensional map
            X, Y = X[:, :1], Y[:, :1]
            est = skqg.MongeAmpereTransport(reference="normal", solver="exact", random_state=0)
        est.fit(X)
        image = est.transform(Y)
        calls = {
            "transform": ("transform", (Y,), {}),
            "inverse_transform": ("inverse_transform", (image,), {}),
            "potential": ("potential", (Y,), {}),
            "log_det_jacobian": ("log_det_jacobian", (Y,), {}),
            "sample": ("sample", (5,), {"random_state": 1}),
        }
        if name != "transport_array":  # an array reference has no density
            calls["score_samples"] = ("score_samples", (Y,), {})
            calls["score"] = ("score", (Y,), {})
        return est, calls
    if name.startswith("wishart_2d"):
        X, Y = rng.standard_normal((100, 5)), rng.standard_normal((20, 5))
        est = skqg.WishartCovarianceModel(n_components=2 if name.endswith("latent") else None)
        est.fit(X)
        return est, {
            "transform": ("transform", (Y,), {}),
            "inverse_transform": ("inverse_transform", (est.transform(Y),), {}),
            "score_samples": ("score_samples", (Y,), {}),
            "score": ("score", (Y,), {}),
            "mahalanobis": ("mahalanobis", (Y,), {}),
            "sample": ("sample", (5,), {"random_state": 1}),
        }
    if name == "wishart_3d":
        est = skqg.WishartCovarianceModel().fit(random_gram_stack(rng, 60))
        Y = random_gram_stack(rng, 10)
        return est, {
            "transform": ("transform", (Y,), {}),
            "inverse_transform": ("inverse_transform", (est.transform(Y),), {}),
            "score_samples": ("score_samples", (Y,), {}),
            "score": ("score", (Y,), {}),
            "sample": ("sample", (5,), {"random_state": 1}),
        }
    visible = name.split("_", 1)[1]
    X = random_binary(rng, (200, 10), p=0.3)
    if visible == "spin":
        X = 2 * X - 1
    est = skqg.RBMCoarseGrainer(6, visible=visible, n_iter=3, random_state=0).fit(X)
    Y = X[:20]
    return est, {
        "transform": ("transform", (Y,), {}),
        "inverse_transform": ("inverse_transform", (est.transform(Y),), {}),
        "free_energy": ("free_energy", (Y,), {}),
        "score_samples": ("score_samples", (Y,), {}),
        "score": ("score", (Y,), {}),
        "gibbs": ("gibbs", (Y,), {"n_steps": 2, "random_state": 1}),
        "sample": ("sample", (4,), {"n_steps": 5, "random_state": 1}),
        "log_partition_ais": ("log_partition", ("ais",), {"n_betas": 200, "random_state": 1}),
    }


NAMES = [
    "transport_normal",
    "transport_ball",
    "transport_array",
    "transport_1d_exact",
    "wishart_2d",
    "wishart_2d_latent",
    "wishart_3d",
    "rbm_spin",
    "rbm_bernoulli",
]


def _outputs(est, calls):
    return {key: getattr(est, method)(*args, **kw) for key, (method, args, kw) in calls.items()}


def _assert_identical(got, expected):
    assert got.keys() == expected.keys()
    for key in expected:
        a, b = np.asarray(got[key], dtype=object), np.asarray(expected[key], dtype=object)
        assert a.shape == b.shape, key
        assert np.array_equal(np.asarray(got[key]), np.asarray(expected[key])), key


COMPILED_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType)


def _compiled_objects(value, path="est", seen=None):
    """Paths to compiled or code objects (Numba dispatchers, ctypes, functions) inside value."""
    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, str | bytes | int | float | complex | np.generic):
        return []
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return [] if value.dtype != object else _compiled_objects(list(value.flat), path, seen)
    kind = type(value)
    names = {cls.__module__.split(".")[0] for cls in kind.__mro__}
    if (
        "numba" in names
        or "llvmlite" in names
        or isinstance(value, COMPILED_TYPES)
        or isinstance(value, ctypes._SimpleCData | ctypes._Pointer | ctypes.Structure)
        or kind.__name__ in {"CPUDispatcher", "CFunctionType"}
    ):
        return [f"{path}: {kind.__module__}.{kind.__qualname__}"]
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _compiled_objects(key, f"{path}[key {key!r}]", seen)
            found += _compiled_objects(item, f"{path}[{key!r}]", seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            found += _compiled_objects(item, f"{path}[{i}]", seen)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        if kind.__module__.startswith("numpy.random"):
            return []  # a RandomState: its state pickles as arrays
        found += _compiled_objects(vars(value), path, seen)
    return found


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    est, calls = _fitted(request.param)
    return request.param, est, calls, _outputs(est, calls)


def test_no_compiled_objects_on_instances(fitted):
    _, est, _, _ = fitted
    assert _compiled_objects(est) == []


def test_compiled_object_walker_finds_a_dispatcher():
    from skqg._kernels import spd_linalg as spd

    class Holder:
        pass

    holder = Holder()
    holder.kernels = {"cholesky": [spd.cholesky]}
    holder.function = len
    assert len(_compiled_objects(holder)) == 2


def test_pickle_round_trip(fitted):
    _, est, calls, expected = fitted
    loaded = pickle.loads(pickle.dumps(est))
    _assert_identical(_outputs(loaded, calls), expected)
    # Calling output methods does not change what the estimator pickles to.
    again = pickle.loads(pickle.dumps(loaded))
    _assert_identical(_outputs(again, calls), expected)


def test_joblib_round_trip(fitted, tmp_path):
    _, est, calls, expected = fitted
    for compress in (0, 3):
        path = tmp_path / f"model-{compress}.joblib"
        joblib.dump(est, path, compress=compress)
        _assert_identical(_outputs(joblib.load(path), calls), expected)


FRESH = textwrap.dedent(
    """
    import pickle, sys
    with open(sys.argv[1], "rb") as handle:
        models, calls = pickle.load(handle)
    out = {
        name: {key: getattr(model, m)(*args, **kw) for key, (m, args, kw) in calls[name].items()}
        for name, model in models.items()
    }
    with open(sys.argv[2], "wb") as handle:
        pickle.dump(out, handle)
    """
)


def test_pickle_loads_in_a_fresh_interpreter(tmp_path):
    """One subprocess for every configuration: load, evaluate, and send the outputs back."""
    cases = {name: _fitted(name) for name in NAMES}
    expected = {name: _outputs(est, calls) for name, (est, calls) in cases.items()}
    source, target = tmp_path / "models.pkl", tmp_path / "outputs.pkl"
    models = {name: est for name, (est, _) in cases.items()}
    calls = {name: calls for name, (_, calls) in cases.items()}
    source.write_bytes(pickle.dumps((models, calls)))
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(source), str(target)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = pickle.loads(target.read_bytes())
    for name in NAMES:
        _assert_identical(got[name], expected[name])


READ_ONLY_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import skqg
    assert skqg.__file__.startswith(__import__("sys").argv[1]), skqg.__file__
    rng = np.random.RandomState(0)
    A = rng.standard_normal((20, 3, 6))
    est = skqg.WishartCovarianceModel().fit(A @ A.transpose(0, 2, 1))
    print(est.score(A @ A.transpose(0, 2, 1)))
    """
)


def _copy_read_only(tmp_path):
    package = Path(skqg.__file__).parent
    copy = tmp_path / "site" / "skqg"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.nb[ic]"))
    for path in [*copy.rglob("*"), copy]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return copy


def _restore_writable(root):
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_read_only_install_caches_under_numba_cache_dir(tmp_path):
    """A copy of the package with no write permission, NUMBA_CACHE_DIR set: the kernels
    compile, run and cache under NUMBA_CACHE_DIR, and nothing is written into the package.

    As root (CI containers) file permissions do not stop writes, so this checks where the
    cache goes; the next test checks the failure without NUMBA_CACHE_DIR for other users.
    """
    copy = _copy_read_only(tmp_path)
    cache = tmp_path / "numba-cache"
    env = {
        **os.environ,
        "PYTHONPATH": str(copy.parent),
        "NUMBA_CACHE_DIR": str(cache),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    try:
        for _ in range(2):  # cold (compiles, writes the cache), then warm (loads it)
            done = subprocess.run(
                [sys.executable, "-c", READ_ONLY_SCRIPT, str(copy)],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=900,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            assert np.isfinite(float(done.stdout.split()[-1]))
        assert list(cache.rglob("*.nbi")), "no Numba cache index under NUMBA_CACHE_DIR"
        written = [p for p in copy.rglob("*") if p.suffix in (".nbi", ".nbc", ".pyc")]
        assert written == []
    finally:
        _restore_writable(copy.parent)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="running as root: chmod does not make the package read-only for this user",
)
def test_read_only_install_without_cache_dir_uses_the_user_cache(tmp_path):
    """Without NUMBA_CACHE_DIR, Numba falls back from the unwritable ``__pycache__`` to the
    user-wide cache directory (``$XDG_CACHE_HOME/numba``). With that one unwritable too the
    import fails ('no locator available'), which is why docs/install.rst says to set
    NUMBA_CACHE_DIR."""
    copy = _copy_read_only(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env |= {"PYTHONPATH": str(copy.parent), "HOME": str(home), "XDG_CACHE_HOME": str(home)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", READ_ONLY_SCRIPT, str(copy)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert list((home / "numba").rglob("*.nbi"))
    finally:
        _restore_writable(copy.parent)
