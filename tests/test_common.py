"""scikit-learn's estimator checks over every public skqg estimator.

``ESTIMATORS`` is the single registry: each public estimator class appears once, with the
parameters used for the checks (small, fast settings). ``EXPECTED_FAILED_CHECKS`` may name a
check per estimator only with a written reason; it is empty.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

import skqg
from skqg import (
    MongeAmpereTransport,
    RBMCoarseGrainer,
    TransportPlanDensity,
    WishartCovarianceModel,
)

ESTIMATORS = [
    # Gaussian visible units: the checks feed arbitrary real data, which Bernoulli units
    # ({0, 1} / [0, 1]) and spins ({-1, +1}) rightly refuse with a ValueError. Those modes get
    # the same API tests on valid data in tests/test_rbm.py.
    RBMCoarseGrainer(n_components=3, visible="gaussian", n_iter=3, random_state=0),
    # Defaults: the checks feed 2-D observations (the 3-D form has its own API tests in
    # tests/test_wishart.py).
    WishartCovarianceModel(),
    # Defaults: standard-normal reference, entropic solver with the automatic epsilon.
    MongeAmpereTransport(random_state=0),
    # Defaults: epsilon and bandwidth chosen by 5-fold held-out likelihood.
    TransportPlanDensity(random_state=0),
]

EXPECTED_FAILED_CHECKS = {}


def _public_estimator_classes():
    classes = []
    for name in skqg.__all__:
        obj = getattr(skqg, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            classes.append(obj)
    return classes


def test_registry_matches_public_estimators():
    """Every estimator in ``skqg.__all__`` is registered once, and nothing else is."""
    registered = [type(est) for est in ESTIMATORS]
    assert len(registered) == len(set(registered)), "an estimator is registered twice"
    assert set(registered) == set(_public_estimator_classes())


def test_all_names_exist():
    for name in skqg.__all__:
        assert hasattr(skqg, name), f"skqg.__all__ lists {name!r}, which skqg does not define"


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: type(est).__name__)
def test_param_validation(estimator):
    # scikit-learn leaves check_param_validation out of parametrize_with_checks; run it here.
    check_param_validation(type(estimator).__name__, estimator)


def test_registry_check_catches_an_unregistered_estimator(monkeypatch):
    """The registry comparison is not vacuous: a new public estimator is noticed."""

    class NewEstimator(BaseEstimator):
        pass

    monkeypatch.setattr(skqg, "NewEstimator", NewEstimator, raising=False)
    monkeypatch.setattr(skqg, "__all__", [*skqg.__all__, "NewEstimator"])
    assert NewEstimator in _public_estimator_classes()
    with pytest.raises(AssertionError):
        test_registry_matches_public_estimators()
