"""scikit-learn's common estimator checks on every public skkernel estimator."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import skkernel
from skkernel.utils import all_estimators
from skkernel.utils._estimator_checks import CHECKS
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
    match = r"'backend' parameter of .* must be one of .*'tpu'"
    with pytest.raises(ValueError, match=match):
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
    # assert_equal: NaN parameters (missing_values=np.nan) equal themselves
    np.testing.assert_equal(twin.get_params(), est.get_params())
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_equal(restored.get_params(), est.get_params())


# ------------------------------------------------------------ as users run it


@parametrize_with_checks(
    [cls() for _, cls in ESTIMATORS], expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_with_default_parameters(estimator, check):
    # Users call check_estimator(Est()) with defaults, not with TEST_PARAMS.
    check(estimator)


# ------------------------------------------------------------ house contracts


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "estimator", list(make_instances(ESTIMATORS)), ids=lambda e: type(e).__name__
)
def test_house_contract(estimator, check):
    check(type(estimator).__name__, estimator)


def test_config_context_reaches_joblib_workers():
    # Regression (issue 9, defect 7): cross_validate(n_jobs=2) ran numba in
    # its workers although the caller had config_context(backend="numpy").
    from sklearn.datasets import make_regression
    from sklearn.model_selection import cross_validate

    from skkernel.linear_model import SketchedLinearRegression

    X, y = make_regression(200, 5, random_state=0)
    for backend in ("loky", "threading"):
        with skkernel.config_context(backend="numpy"), \
                joblib.parallel_backend(backend, n_jobs=2):
            result = cross_validate(SketchedLinearRegression(random_state=0), X, y,
                                    cv=2, n_jobs=2, return_estimator=True)
        assert [e.backend_ for e in result["estimator"]] == ["numpy", "numpy"]
    # Outside the block the default rule applies again, to clones too.
    assert clone(SketchedLinearRegression()).fit(X, y).backend_ == "numba"
    # An explicit backend parameter wins over the context.
    with skkernel.config_context(backend="numpy"):
        twin = clone(SketchedLinearRegression(backend="numba"))
    assert twin.fit(X, y).backend_ == "numba"


@pytest.mark.gpu
@pytest.mark.parametrize(
    "estimator", list(make_instances(ESTIMATORS)), ids=lambda e: type(e).__name__
)
def test_output_follows_cupy_input(estimator):
    from skkernel.utils._estimator_checks import check_output_follows_device_input

    check_output_follows_device_input(type(estimator).__name__, estimator,
                                      device="cupy")
