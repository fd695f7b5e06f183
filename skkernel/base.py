"""The skkernel estimator base: declared parameters, one fit preamble, one transaction.

Every public estimator inherits :class:`SkkernelEstimator` (mixins to its
left, as in scikit-learn). An estimator declares its parameters once, in
``_parameter_constraints``, the way scikit-learn and imbalanced-learn do::

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [Options("sap", "lstsq")],
        "max_iter": [Interval(Integral, 1, None), None],
        **COMMON_CONSTRAINTS,          # random_state, backend, n_jobs, verbose
    }

and writes its fit as::

    def fit(self, X, y, sample_weight=None):
        with self._fit_context(X, y, sample_weight=sample_weight) as ctx:
            ...  # ctx.X, ctx.y, ctx.sample_weight, ctx.backend, ctx.random_state
        return self

The context runs the preamble in one fixed order: parameters (declared
constraints, then the ``_check_params`` hook for rules between parameters),
data, backend, threads, random state. If the body raises, every attribute is
restored to what it was before the call, including streaming state that a
``partial_fit`` updates in place (named in ``_streaming_state``), so a failed
call leaves nothing half-written. On success it checks that the fitted
numbers named in ``_finite_fitted_attributes`` are finite: an overflow is an
error, never a silent NaN model.

The validator is our own (scikit-learn's ``_param_validation`` is private and
moves between releases); its messages follow scikit-learn's wording, and its
intervals reject NaN and, unless ``finite=False``, infinity.
"""

import copy
import functools
import math
import numbers
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone, is_regressor
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from ._config import _VALID_BACKENDS, get_config
from .backend import is_cupy_array, numba_threads, resolve_backend, to_cpu
from .utils._validation import check_device_data, check_sample_weight

__all__ = [
    "COMMON_CONSTRAINTS",
    "Interval",
    "InvalidParameterError",
    "Options",
    "RealVector",
    "SkkernelEstimator",
    "validate_parameter_constraints",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter has the wrong type or value.

    Subclasses both ``ValueError`` and ``TypeError``, like scikit-learn's
    error of the same name, so ``except ValueError`` keeps working.
    """


# ---------------------------------------------------------------- constraints


class Interval:
    """Numbers of one type within bounds; NaN never, infinity only if allowed.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        ``Real`` accepts ints and floats, ``Integral`` only ints; ``bool`` is
        never a number here.
    left, right : float or None
        Bounds; ``None`` is unbounded.
    closed : {"left", "right", "both", "neither"}, default="both"
        Which bounds belong to the interval.
    finite : bool, default=True
        Reject ``inf`` and ``-inf`` (with ``False`` an unbounded side admits
        them).
    """

    def __init__(self, type, left, right, *, closed="both", finite=True):
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed
        self.finite = finite

    def is_satisfied_by(self, value):
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.type):
            return False
        value = float(value) if self.type is numbers.Real else value
        if self.type is numbers.Real and math.isnan(value):
            return False
        if self.finite and self.type is numbers.Real and math.isinf(value):
            return False
        if self.left is not None:
            if self.closed in ("left", "both") and value < self.left:
                return False
            if self.closed in ("right", "neither") and value <= self.left:
                return False
        if self.right is not None:
            if self.closed in ("right", "both") and value > self.right:
                return False
            if self.closed in ("left", "neither") and value >= self.right:
                return False
        return True

    def __str__(self):
        kind = "an int" if self.type is numbers.Integral else (
            "a finite float" if self.finite else "a float"
        )
        if self.left is None and self.right is None:
            return kind
        left = "-inf" if self.left is None else f"{self.left}"
        right = "inf" if self.right is None else f"{self.right}"
        closed_left = self.closed in ("left", "both") and self.left is not None
        closed_right = self.closed in ("right", "both") and self.right is not None
        return (f"{kind} in the range {'[' if closed_left else '('}{left}, "
                f"{right}{']' if closed_right else ')'}")


class Options:
    """One of a few exact values (``True`` does not match ``1``).

    Parameters
    ----------
    *values : object
        The allowed values.
    """

    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, value):
        return any(
            value is option or (type(value) is type(option) and value == option)
            for option in self.values
        )

    def __str__(self):
        if self.values == (None,):
            return "None"
        return f"one of {list(self.values)}"


class RealVector:
    """A one-dimensional sequence of finite real numbers.

    Parameters
    ----------
    min_length : int, default=1
        Fewest entries.
    """

    def __init__(self, min_length=1):
        self.min_length = min_length

    def is_satisfied_by(self, value):
        if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
            return False
        try:
            array = np.asarray(to_cpu(value), dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return (array.ndim == 1 and array.size >= self.min_length
                and bool(np.all(np.isfinite(array))))

    def __str__(self):
        return (f"a one-dimensional sequence of at least {self.min_length} "
                "finite real numbers")


class _InstanceOf:
    def __init__(self, type, description):
        self.type = type
        self.description = description

    def is_satisfied_by(self, value):
        return isinstance(value, self.type)

    def __str__(self):
        return self.description


class _Callable:
    def is_satisfied_by(self, value):
        return callable(value)

    def __str__(self):
        return "a callable"


class _RandomState:
    def is_satisfied_by(self, value):
        return (
            value is None
            or isinstance(value, np.random.RandomState)
            or Interval(numbers.Integral, 0, 2**32 - 1).is_satisfied_by(value)
        )

    def __str__(self):
        return "an int in the range [0, 2**32 - 1], a numpy RandomState or None"


class _ArrayLike:
    def is_satisfied_by(self, value):
        return hasattr(value, "__len__") and not isinstance(value, str | bytes) or (
            hasattr(value, "shape") and hasattr(value, "dtype"))

    def __str__(self):
        return "an array-like"


_SHORTHANDS = {
    "array-like": _ArrayLike(),
    None: Options(None),
    "boolean": _InstanceOf(bool | np.bool_, "a bool"),
    "random_state": _RandomState(),
    "callable": _Callable(),
}


def _make_constraint(constraint):
    if isinstance(constraint, str) or constraint is None:
        try:
            return _SHORTHANDS[constraint]
        except KeyError:
            raise ValueError(f"unknown constraint shorthand {constraint!r}") from None
    if isinstance(constraint, type):
        return _InstanceOf(constraint, f"an instance of {constraint.__name__}")
    return constraint


def _describe(constraints):
    parts = [str(c) for c in constraints]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def validate_parameter_constraints(constraints, params, caller_name):
    """Check every parameter against its declared constraints.

    Parameters
    ----------
    constraints : dict
        Parameter name to a list of constraints (:class:`Interval`,
        :class:`Options`, :class:`RealVector`, a type, ``None``, or one of the
        shorthands ``"boolean"``, ``"random_state"``, ``"callable"``,
        ``"array-like"``); the value must satisfy at least one. The bare string
        ``"no_validation"`` (not a list) skips a parameter.
    params : dict
        Parameter name to value.
    caller_name : str
        The estimator or function, named in the message.

    Raises
    ------
    InvalidParameterError
        Naming the parameter, what was expected and what was given.

    Examples
    --------
    >>> from numbers import Real
    >>> from skkernel.base import Interval, validate_parameter_constraints
    >>> validate_parameter_constraints(
    ...     {"alpha": [Interval(Real, 0, None)]}, {"alpha": 1.0}, "Ridge")
    """
    for name, value in params.items():
        if name not in constraints:
            raise ValueError(
                f"{caller_name} declares no constraint for its parameter "
                f"{name!r}; add it to _parameter_constraints."
            )
        declared = constraints[name]
        if declared == "no_validation":
            continue
        declared = [_make_constraint(c) for c in declared]
        if any(c.is_satisfied_by(value) for c in declared):
            continue
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller_name} must be "
            f"{_describe(declared)}. Got {value!r} instead."
        )


#: Constraints of the parameters most estimators share.
COMMON_CONSTRAINTS = {
    "random_state": ["random_state"],
    "backend": [Options(*_VALID_BACKENDS)],
    "n_jobs": [Interval(numbers.Integral, 1, None),
               Interval(numbers.Integral, None, -1), None],
    "verbose": [Interval(numbers.Integral, 0, None), "boolean"],
}


# ---------------------------------------------------------------- fit preamble


@dataclass
class FitContext:
    """What the fit preamble hands to the body of a fit.

    Attributes
    ----------
    X, y : arrays
        Validated data (``y`` is None for unsupervised estimators).
    sample_weight : ndarray or None
        Validated host weights, or None when the fit takes none.
    backend : str
        The resolved backend.
    random_state : RandomState or None
        From ``check_random_state(self.random_state)``.
    first_call : bool
        False for a ``partial_fit`` that continues an earlier one.
    """

    X: Any
    y: Any
    sample_weight: Any
    backend: str
    random_state: Any
    first_call: bool = True


_NOT_GIVEN = object()


def _same_value(a, b):
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)
    except (TypeError, ValueError):
        return False


@functools.cache
def _param_names(cls):
    return BaseEstimator._get_param_names.__func__(cls)


class SkkernelEstimator(BaseEstimator):
    """Base of every skkernel estimator: constraints, preamble, transaction.

    Class attributes an estimator sets:

    ``_parameter_constraints`` : dict
        Every ``__init__`` parameter with its constraints.
    ``_data_kwargs`` : dict
        Keyword arguments of ``validate_data`` for host data (``dtype``...).
    ``_supports_device_input`` : bool
        Whether cupy input may stay on the device; otherwise it is copied to
        the host before validation.
    ``_streaming_state`` : tuple of str
        Attributes a ``partial_fit`` updates in place; the transaction
        deep-copies them so a failed call can be undone.
    ``_finite_fitted_attributes`` : tuple of str
        Fitted attributes that must be finite after a fit.
    ``_partial_fit_fixed_params`` : tuple of str or None
        Parameters that must not change between ``partial_fit`` calls
        (``None``: all but ``verbose`` and ``n_jobs``).
    """

    _parameter_constraints: dict = {}
    _data_kwargs: dict = {"dtype": np.float64}
    _supports_device_input = False
    _streaming_state: tuple = ()
    _finite_fitted_attributes: tuple = ()
    _partial_fit_fixed_params = None

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature on every get_params; the
        # preamble calls it on every fit, so cache it per class.
        return _param_names(cls)

    # -------------------------------------------------------------- hooks

    def _check_params(self):
        """Rules between parameters (after each one passed its constraints)."""

    def _validate_fit_data(self, X, y, reset):
        """Validate data for fit; returns ``(X, y)``. Override for graphs etc.

        A target the tags require is validated even when None (scikit-learn's
        "requires y" error), and a regressor's is made numeric.
        """
        if is_cupy_array(X) and self._supports_device_input:
            return check_device_data(self, X, y, reset=reset)
        X, y = to_cpu(X), to_cpu(y)
        if y is None and not self.__sklearn_tags__().target_tags.required:
            return validate_data(self, X, reset=reset, **self._data_kwargs), None
        return validate_data(self, X, y, reset=reset, y_numeric=is_regressor(self),
                             **self._data_kwargs)

    def _validate_predict_data(self, X):
        """Validate data for predict/transform/score against the fit."""
        if is_cupy_array(X) and self._supports_device_input:
            return check_device_data(self, X, reset=False)[0]
        return validate_data(self, to_cpu(X), reset=False, **self._data_kwargs)

    # -------------------------------------------------------------- preamble

    def _validate_params(self):
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False),
            type(self).__name__,
        )
        self._check_params()

    def _resolve_backend(self, X):
        backend = getattr(self, "backend", "numpy")
        if backend == "auto" and get_config()["backend"] == "auto":
            # A clone made inside config_context carries its backend to
            # joblib workers, whose threads or processes do not share it.
            backend = getattr(self, "_config_backend", "auto")
        return resolve_backend(backend, X)

    def _check_partial_fit_params(self):
        snapshot = self.__dict__.get("_partial_fit_params")
        if snapshot is None:
            return
        fixed = self._partial_fit_fixed_params
        current = self.get_params(deep=False)
        for name, before in snapshot.items():
            if name not in (fixed if fixed is not None else
                            set(snapshot) - {"verbose", "n_jobs"}):
                continue
            if not _same_value(current[name], before):
                raise ValueError(
                    f"{name} changed from {before!r} to {current[name]!r} since "
                    "the first partial_fit; the running state was built with "
                    f"the old value. Call fit to start over, or set {name} back."
                )

    @contextmanager
    def _fit_context(self, X, y=None, *, sample_weight=_NOT_GIVEN, partial=False):
        """Run the fit preamble and the transaction around a fit's body.

        Parameters
        ----------
        X, y : array-like
            The call's data (``y=None`` for unsupervised fits).
        sample_weight : array-like, float or None, optional
            Passed only by fits that take weights.
        partial : bool, default=False
            A ``partial_fit``: the first call resets, later ones keep the
            backend and check that fixed parameters did not change.

        Yields
        ------
        ctx : FitContext
        """
        saved = dict(self.__dict__)
        # One deepcopy for all of the streaming state, so objects that share
        # parts (a torch optimizer and the module whose parameters it holds)
        # still share them after a rollback.
        saved.update(copy.deepcopy({name: saved[name] for name in self._streaming_state
                                    if name in saved}))
        try:
            first = not (partial and hasattr(self, "_partial_fit_params"))
            self._validate_params()
            if not first:
                self._check_partial_fit_params()
            original_X = X
            X, y = self._validate_fit_data(X, y, reset=first)
            if sample_weight is not _NOT_GIVEN:
                sample_weight = check_sample_weight(sample_weight, X.shape[0])
            else:
                sample_weight = None
            backend = self._resolve_backend(original_X) if first else self.backend_
            with numba_threads(getattr(self, "n_jobs", None)):
                ctx = FitContext(
                    X=X, y=y, sample_weight=sample_weight, backend=backend,
                    random_state=check_random_state(getattr(self, "random_state",
                                                            None)),
                    first_call=first,
                )
                yield ctx
            self.backend_ = backend
            self._check_finite_fit()
            # partial_fit continues from the first call, or from a fit that
            # left streaming state (scikit-learn's convention).
            streaming = bool(self._streaming_state) and all(
                hasattr(self, name) for name in self._streaming_state)
            if first and (partial or streaming):
                self._partial_fit_params = self.get_params(deep=False)
            elif not partial:
                self.__dict__.pop("_partial_fit_params", None)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _check_finite_fit(self):
        for name in self._finite_fitted_attributes:
            value = getattr(self, name, None)
            if value is None:
                continue
            value = np.asarray(value)
            if value.dtype.kind in "biu":
                continue  # integers are finite
            if value.dtype.kind not in "fc":
                value = value.astype(np.float64)
            # In the array's own precision: a float64 copy of a float32
            # embedding (3e5 x 128) cost 0.3 s of first-touch pages and 300 MB.
            if not np.isfinite(value).all():
                raise ValueError(
                    f"{type(self).__name__} computed a non-finite {name} "
                    "(overflow): the data's magnitude is too large for float64 "
                    "arithmetic. Rescale X and y (for example with "
                    "StandardScaler) and fit again."
                )

    # -------------------------------------------------------------- clone

    def __sklearn_clone__(self):
        params = self.get_params(deep=False)
        twin = type(self)(**{k: clone(v, safe=False) for k, v in params.items()})
        if hasattr(self, "_metadata_request"):
            twin._metadata_request = copy.deepcopy(self._metadata_request)
        backend = get_config()["backend"]
        if backend != "auto":
            twin._config_backend = backend
        elif "_config_backend" in self.__dict__:
            twin._config_backend = self._config_backend
        return twin

