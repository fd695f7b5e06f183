"""numpydoc validation of the public API (estimators, their methods, functions)."""

import importlib
import inspect
import pkgutil

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import skkernel  # noqa: E402
from skkernel.utils import all_estimators  # noqa: E402

# Checks every public docstring must pass. Left out: ES01 (extended summary),
# SA01 for functions and methods (See Also is required of estimators below),
# EX01 for methods (the class example shows them), RT02 (numpydoc wants the
# return name omitted when there is one value; we name them, as sklearn does),
# GL08 for methods inherited from scikit-learn.
IGNORED = {"ES01", "SA01", "EX01", "RT02", "SS05", "PR04"}
REQUIRED_FOR_ESTIMATORS = {"SA01", "EX01"}


def _public_functions():
    seen = {}
    modules = [skkernel] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(skkernel.__path__, prefix="skkernel.")
        if not any(p.startswith("_") or p == "tests" for p in info.name.split(".")[1:])
        and info.name.split(".")[1] != "neural"
    ]
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                seen[f"{module.__name__}.{name}"] = obj
    return sorted(seen)


def _estimator_paths():
    paths = []
    for name, cls in all_estimators():
        public_module = next(
            m for m in (cls.__module__.rsplit(".", 1)[0], cls.__module__)
            if hasattr(importlib.import_module(m), name)
        )
        paths.append(f"{public_module}.{name}")
        for method_name, method in inspect.getmembers(cls, inspect.isfunction):
            if method_name.startswith("_") or not method.__module__.startswith(
                "skkernel"
            ):
                continue
            paths.append(f"{public_module}.{name}.{method_name}")
    return paths


def _errors(path, ignored):
    result = numpydoc_validate.validate(path)
    return [f"{code}: {msg}" for code, msg in result["errors"] if code not in ignored]


@pytest.mark.parametrize("path", _estimator_paths())
def test_estimator_docstrings(path):
    is_class = path.count(".") == 2 or path.split(".")[-1][0].isupper()
    ignored = IGNORED - REQUIRED_FOR_ESTIMATORS if is_class else IGNORED
    assert not _errors(path, ignored), "\n".join(_errors(path, ignored))


@pytest.mark.parametrize("path", _public_functions())
def test_function_docstrings(path):
    errors = _errors(path, IGNORED - {"EX01"})
    assert not errors, "\n".join(errors)
