"""scikit-learn's common estimator checks on every public skkernel estimator."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skkernel.utils import all_estimators
from skkernel.utils._test_common import (
    TEST_PARAMS,
    WAIVERS,
    expected_failed_checks,
    make_instances,
)

ESTIMATORS = all_estimators()


def test_all_estimators_found():
    names = [name for name, _ in ESTIMATORS]
    assert "FastRP" in names
    assert names == sorted(names)


@parametrize_with_checks(
    list(make_instances(ESTIMATORS)), expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", [name for name, _ in ESTIMATORS])
def test_every_estimator_is_registered(name):
    # A new estimator must choose its fast test parameters and its waivers
    # explicitly, so nobody inherits slow defaults or silent xfails.
    assert name in TEST_PARAMS, f"add {name} to TEST_PARAMS in utils/_test_common.py"
    assert name in WAIVERS, f"add {name} to WAIVERS in utils/_test_common.py"
    for check, reason in WAIVERS[name].items():
        assert check.startswith("check_") and len(reason) > 20, (name, check)


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_backend_parameter_is_validated(name, cls):
    if "backend" not in cls().get_params():
        pytest.skip(f"{name} has no backend parameter")
    est = cls(**{**TEST_PARAMS.get(name, {}), "backend": "tpu"})
    assert est.backend == "tpu"  # __init__ stores, fit validates
    X = np.abs(np.random.RandomState(0).rand(12, 12))
    X = X + X.T
    with pytest.raises(ValueError, match=r"backend must be one of .*'tpu'"):
        if hasattr(est, "fit_transform"):
            est.fit_transform(X)
        else:
            est.fit(X, np.arange(12) % 2)
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(est)), (
        "a failed fit left fitted attributes behind"
    )


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_clone_and_pickle_unfitted(name, cls):
    est = cls(**TEST_PARAMS.get(name, {}))
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params()
