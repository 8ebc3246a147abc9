"""Reliability probes (issue 18): state after failed calls and after ``set_params``, and races.

Each test is named after what it checks; all were failures found by probing from outside.
"""

import threading

import numpy as np
import pytest

from skqg import RBMCoarseGrainer


def binary(n_rows, n_columns, seed=0):
    return (np.random.RandomState(seed).uniform(size=(n_rows, n_columns)) < 0.4).astype(float)


def fitted_state(estimator):
    """Every attribute, arrays copied, for an exact before/after comparison."""
    return {
        key: value.copy() if isinstance(value, np.ndarray) else value
        for key, value in vars(estimator).items()
        if key != "_partition_cache"
    }


def assert_same_state(estimator, before):
    after = fitted_state(estimator)
    assert after.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        elif key not in ("random_state_", "_optimizer_state"):
            assert after[key] == value, key


# ------------------------------------------------------------------ 1. failed RBM fit
def test_failed_rbm_fit_leaves_the_fitted_model_unchanged():
    X6, X10 = binary(40, 6), binary(40, 10, seed=1)
    X10[0, 0] = 2.0  # outside the Bernoulli domain
    rbm = RBMCoarseGrainer(3, n_iter=3, random_state=0).fit(X6)
    expected = rbm.transform(X6)
    before = fitted_state(rbm)
    with pytest.raises(ValueError, match="visible"):
        rbm.fit(X10)
    assert rbm.n_features_in_ == 6
    np.testing.assert_array_equal(rbm.transform(X6), expected)
    assert_same_state(rbm, before)


def test_failed_partial_fit_leaves_the_weights_unchanged():
    X = binary(40, 6)
    rbm = RBMCoarseGrainer(3, random_state=0).partial_fit(X)
    before = fitted_state(rbm)
    bad = X.copy()
    bad[3, 2] = -1.0
    with pytest.raises(ValueError):
        rbm.partial_fit(bad)
    assert_same_state(rbm, before)


def test_fit_interrupted_mid_training_leaves_the_previous_model_unchanged(monkeypatch):
    X = binary(40, 6)
    rbm = RBMCoarseGrainer(3, n_iter=3, random_state=0).fit(X)
    before = fitted_state(rbm)
    run_epoch = RBMCoarseGrainer._run_epoch
    calls = []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 2:  # after one epoch of the new fit has updated the weights
            raise KeyboardInterrupt
        return run_epoch(self, *args)

    monkeypatch.setattr(RBMCoarseGrainer, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rbm.fit(binary(40, 6, seed=3))
    assert_same_state(rbm, before)


# ------------------------------------------------------------------ 2. set_params after fit
def test_rbm_keeps_its_fitted_visible_kind_after_set_params():
    X = binary(50, 6)
    rbm = RBMCoarseGrainer(3, n_iter=3, random_state=0).fit(X)
    scores, hidden = rbm.score_samples(X), rbm.transform(X)
    rbm.set_params(visible="gaussian")
    np.testing.assert_array_equal(rbm.score_samples(X), scores)
    np.testing.assert_array_equal(rbm.transform(X), hidden)
    # A new fit follows the parameters again.
    assert not np.array_equal(rbm.fit(X).score_samples(X), scores)


def test_rbm_log_partition_keeps_its_fitted_seed_after_set_params():
    X = binary(50, 8)
    rbm = RBMCoarseGrainer(4, n_iter=2, random_state=0).fit(X)
    estimate = rbm.log_partition("ais", n_runs=5, n_betas=50)
    rbm.set_params(random_state=7)
    rbm._partition_cache.clear()  # recompute rather than read the cache
    assert rbm.log_partition("ais", n_runs=5, n_betas=50) == estimate


# ------------------------------------------------------------------ 11. partition cache race
def test_concurrent_scoring_computes_the_log_partition_once():
    X = binary(50, 12)
    rbm = RBMCoarseGrainer(6, n_iter=2, random_state=None).fit(X)
    results, start = [], threading.Barrier(8)

    def score():
        start.wait()
        results.append(rbm.log_partition("ais", n_runs=20, n_betas=300).log_z)

    threads = [threading.Thread(target=score) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
