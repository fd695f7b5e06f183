"""skkernel's own common checks, run on every registered estimator.

scikit-learn's ``parametrize_with_checks`` covers the estimator API; these
cover the house contracts of DESIGN sections 2 and 3:

* every ``__init__`` parameter is declared, and every value outside its
  declaration is refused with an error naming the parameter;
* the CPU backends agree with the numpy reference;
* the output follows the input's array type, for ``X``, ``y`` and
  ``sample_weight`` given as device arrays (``array_api_strict`` on a
  non-CPU device stands in for cupy: it refuses ``np.asarray`` as cupy does);
* fitted models round-trip through ``pickle`` and ``joblib`` for every
  solver, and load where numba and cupy are not importable;
* a fit or ``partial_fit`` that fails after writing attributes leaves the
  estimator exactly as it was.

Each check takes ``(name, estimator)``; tests/test_common.py runs them.
"""

import inspect
import io
import pickle

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor

from ..base import Interval, InvalidParameterError, Options, _make_constraint

# ---------------------------------------------------------------- data


def make_check_data(estimator, n_samples=40, seed=0, string_labels=False):
    """Small data an estimator of this kind can fit: ``(X, y)``.

    Graph estimators (``pairwise`` input tag) get a symmetric adjacency
    matrix; classifiers two well-separated blobs in two features (one qubit
    a feature for the quantum kernel); regressors a linear target with noise.
    """
    rng = np.random.RandomState(seed)
    tags = estimator.__sklearn_tags__()
    if tags.input_tags.pairwise:
        upper = sp.random(n_samples, n_samples, density=0.2, random_state=rng,
                          format="csr")
        A = upper + upper.T
        A = A + sp.diags(np.ones(n_samples - 1), 1) + sp.diags(np.ones(n_samples - 1),
                                                                 -1)
        return A.toarray(), None
    if is_classifier(estimator):
        y = np.arange(n_samples) % 2
        X = rng.normal(scale=0.3, size=(n_samples, 2)) + y[:, None] * 1.5
        labels = np.array(["neg", "pos"]) if string_labels else np.array([0, 1])
        return X, labels[y]
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    if is_regressor(estimator):
        y = 1.0 + X @ np.array([0.5, -1.0]) + 0.01 * rng.normal(size=n_samples)
        return X, y
    return X, None


def _fit(estimator, X, y, **fit_params):
    if y is None:
        return estimator.fit(X, **fit_params)
    return estimator.fit(X, y, **fit_params)


def _outputs(estimator, X):
    """The estimator's outputs on ``X`` as a dict of host arrays."""
    out = {}
    for method in ("predict", "decision_function", "predict_proba", "transform",
                   "score_samples"):
        if hasattr(estimator, method):
            out[method] = getattr(estimator, method)(X)
    if not out and hasattr(estimator, "embedding_"):
        out["embedding_"] = estimator.embedding_
    return out


def _fitted_outputs(estimator, X, y, **fit_params):
    if not hasattr(estimator, "transform") and hasattr(estimator, "fit_transform"):
        return {"fit_transform": estimator.fit_transform(X, **fit_params)}
    _fit(estimator, X, y, **fit_params)
    return _outputs(estimator, X)


# ---------------------------------------------------------------- parameters


def _invalid_values(constraints):
    """Values outside a parameter's declared constraints."""
    candidates = [np.nan, np.inf, -np.inf, "not-a-valid-option", object(), -1, 0,
                  2**40, -(2**40), 0.5, 1.5, -0.5, True]
    for constraint in constraints:
        if isinstance(constraint, Interval):
            for bound in (constraint.left, constraint.right):
                if bound is not None:
                    candidates += [bound - 1, bound + 1, bound - 0.5, bound + 0.5,
                                   bound]
    return candidates


def _satisfies(constraints, value):
    return any(_make_constraint(c).is_satisfied_by(value) for c in constraints)


def check_parameters_declared_and_validated(name, estimator):
    """Every parameter is declared; every undeclared value is refused by fit."""
    params = estimator.get_params(deep=False)
    constraints = type(estimator)._parameter_constraints
    assert set(constraints) == set(params), (
        f"{name}: _parameter_constraints must declare exactly the __init__ "
        f"parameters; missing {sorted(set(params) - set(constraints))}, extra "
        f"{sorted(set(constraints) - set(params))}"
    )
    X, y = make_check_data(estimator)
    for param, declared in constraints.items():
        if declared == "no_validation":
            continue
        for value in _invalid_values(declared):
            if _satisfies(declared, value):
                continue
            bad = clone(estimator).set_params(**{param: value})
            try:
                _fit(bad, X, y)
            except InvalidParameterError as error:
                assert f"The {param!r} parameter of {name}" in str(error), str(error)
            else:
                raise AssertionError(
                    f"{name}.fit accepted {param}={value!r}, outside its declared "
                    f"constraints {[str(c) for c in declared]}"
                )
            assert not any(k.endswith("_") and not k.startswith("_")
                           for k in vars(bad)), f"{name}: failed fit left attributes"


# ---------------------------------------------------------------- backends


def check_cpu_backends_agree(name, estimator, rtol=1e-7, atol=1e-9):
    """numba (and numpy) give the same outputs for the same random_state.

    An estimator whose numba path computes in lower precision states its
    tolerance as a class attribute ``_numba_tolerance = (rtol, atol)``.
    """
    if "backend" not in estimator.get_params():
        return
    rtol, atol = getattr(estimator, "_numba_tolerance", (rtol, atol))
    X, y = make_check_data(estimator)
    results = {}
    for backend in ("numpy", "numba"):
        est = clone(estimator).set_params(backend=backend)
        results[backend] = _fitted_outputs(est, X, y)
    for method, reference in results["numpy"].items():
        np.testing.assert_allclose(
            np.asarray(results["numba"][method], dtype=float),
            np.asarray(reference, dtype=float), rtol=rtol, atol=atol,
            err_msg=f"{name}.{method}: numba differs from the numpy reference",
        )


def _device_array(a, device):
    if device == "cupy":
        import cupy

        return cupy.asarray(np.asarray(a))
    import array_api_strict as xs

    return xs.asarray(np.asarray(a), device=xs.Device("device1"))


def check_output_follows_device_input(name, estimator, device="array_api_strict"):
    """Device arrays in (X, y, sample_weight) give device arrays out, same values.

    ``array_api_strict`` arrays on ``Device("device1")`` refuse ``np.asarray``
    the way cupy arrays do, so a host-only path that forgets ``to_cpu`` fails
    here, on a machine without a GPU; ``device="cupy"`` runs the same check on
    a GPU.
    """
    from ..backend import to_cpu

    takes_weight = "sample_weight" in _fit_signature(estimator)
    for string_labels in ((False, True) if is_classifier(estimator) else (False,)):
        X, y = make_check_data(estimator, string_labels=string_labels)
        fit_params = {"sample_weight": np.linspace(0.5, 1.5, X.shape[0])} \
            if takes_weight else {}
        host = _fitted_outputs(clone(estimator), X, y, **fit_params)
        device_fit_params = {k: _device_array(v, device)
                             for k, v in fit_params.items()}
        y_in = y if y is None or string_labels else _device_array(y, device)
        X_in = _device_array(X, device)
        outputs = _fitted_outputs(clone(estimator), X_in, y_in, **device_fit_params)
        for method, expected in host.items():
            got = outputs[method]
            numeric = np.asarray(expected).dtype.kind in "biufc"
            if numeric:
                assert type(got) is type(X_in), (
                    f"{name}.{method} returned {type(got).__name__} for a "
                    f"{type(X_in).__name__} input; the output must follow the "
                    "input's array type"
                )
                assert got.device == X_in.device, (name, method)
                got = to_cpu(got)
            np.testing.assert_allclose(np.asarray(got, dtype=float) if numeric else 0,
                                       np.asarray(expected, dtype=float)
                                       if numeric else 0, rtol=1e-10, atol=1e-12)
            if not numeric:
                np.testing.assert_array_equal(np.asarray(got), expected)


def _fit_signature(estimator):
    return inspect.signature(estimator.fit).parameters


# ---------------------------------------------------------------- persistence


class _NoAcceleratorUnpickler(pickle.Unpickler):
    """Refuses numba and cupy objects, as loading on a machine without them."""

    def find_class(self, module, name):
        if module.split(".")[0] in ("numba", "cupy", "cupyx"):
            raise pickle.UnpicklingError(
                f"the pickle needs {module}.{name}: it would not load without "
                f"{module.split('.')[0]}"
            )
        return super().find_class(module, name)


def solver_variants(estimator):
    """One parameter set per value of the ``solver`` (or ``method``) option."""
    constraints = type(estimator)._parameter_constraints
    variants = [{}]
    for param in ("solver", "method", "sampling"):
        for constraint in constraints.get(param, []):
            if isinstance(constraint, Options):
                variants = [{param: v} for v in constraint.values
                            if isinstance(v, str) and v != "auto"]
    return variants


def check_fitted_models_round_trip(name, estimator):
    """pickle, joblib and a numba/cupy-free unpickler, for every solver."""
    X, y = make_check_data(estimator)
    for params in solver_variants(estimator):
        est = clone(estimator).set_params(**params)
        try:
            expected = _fitted_outputs(est, X, y)
        except ValueError as error:  # a solver that does not fit this data shape
            if "solver" in str(error) or "method" in str(error):
                continue
            raise
        payload = pickle.dumps(est)
        buffer = io.BytesIO()
        joblib.dump(est, buffer)
        buffer.seek(0)
        for loaded in (pickle.loads(payload), joblib.load(buffer),
                       _NoAcceleratorUnpickler(io.BytesIO(payload)).load()):
            if "fit_transform" in expected:  # transductive: the fitted embedding
                got = {"fit_transform": loaded.embedding_}
            else:
                got = _outputs(loaded, X)
            for method, value in expected.items():
                np.testing.assert_array_equal(
                    np.asarray(got[method]), np.asarray(value),
                    err_msg=f"{name}({params}).{method} changed after loading",
                )


# ---------------------------------------------------------------- transactions


def _plain(value):
    """Torch modules and optimizers by their state's values (a deep copy of a
    module pickles to different bytes with the same weights)."""
    if callable(getattr(value, "state_dict", None)):
        return (type(value).__name__, _plain(value.state_dict()))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if type(value).__name__ == "Tensor":
        return value.detach().cpu().numpy()
    return value


def _snapshot(estimator):
    return pickle.dumps(
        {k: _plain(v) for k, v in vars(estimator).items() if k != "_metadata_request"}
    )


class _InjectedFailure(Exception):
    pass


def _failing_after_body(estimator):
    """Make the next fit fail after its body wrote every fitted attribute."""

    def fail(self):
        raise _InjectedFailure

    estimator._check_finite_fit = fail.__get__(estimator)


def check_failed_fit_leaves_estimator_unchanged(name, estimator):
    """A fit (and a partial_fit) failing after the body leaves no trace."""
    X, y = make_check_data(estimator)
    X2, y2 = make_check_data(estimator, seed=1)
    est = clone(estimator)
    _fit(est, X, y)
    before = _snapshot(est)
    _failing_after_body(est)
    try:
        _fit(est, X2, y2)
    except _InjectedFailure:
        pass
    else:
        raise AssertionError(f"{name}.fit does not run through the base's preamble")
    est.__dict__.pop("_check_finite_fit", None)
    assert _snapshot(est) == before, f"{name}: a failed fit changed the estimator"
    if not hasattr(estimator, "partial_fit"):
        return
    est = clone(estimator)
    try:
        est.partial_fit(X, y)
    except (ValueError, AttributeError):
        return  # partial_fit unavailable for these parameters
    before = _snapshot(est)
    _failing_after_body(est)
    try:
        est.partial_fit(X2, y2)
    except _InjectedFailure:
        pass
    est.__dict__.pop("_check_finite_fit", None)
    assert _snapshot(est) == before, f"{name}: a failed partial_fit changed state"
    # The retry counts the block once: same model as two clean calls.
    est.partial_fit(X2, y2)
    clean = clone(estimator)
    clean.partial_fit(X, y)
    clean.partial_fit(X2, y2)
    np.testing.assert_array_equal(est.predict(X), clean.predict(X))


CHECKS = (
    check_parameters_declared_and_validated,
    check_cpu_backends_agree,
    check_output_follows_device_input,
    check_fitted_models_round_trip,
    check_failed_fit_leaves_estimator_unchanged,
)

