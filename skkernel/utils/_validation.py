"""Validators shared by skkernel estimators."""

import numbers

import numpy as np
from sklearn.utils import check_random_state

from ..backend import get_namespace, to_cpu


def check_sample_weight(sample_weight, n_samples, dtype=np.float64):
    """Validate ``sample_weight`` against the number of samples.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        Weights; ``None`` means all ones, a scalar means constant weights.
        Device (cupy) arrays are copied to the host.
    n_samples : int
        Expected length.
    dtype : dtype, default=np.float64
        Output dtype.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
        Finite, non-negative weights, not all zero.

    Raises
    ------
    ValueError
        Naming ``sample_weight`` and what was wrong with it.

    Examples
    --------
    >>> from skkernel.utils import check_sample_weight
    >>> check_sample_weight(None, 2)
    array([1., 1.])
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Number):
        # A scalar gets the same checks as an array (0, -1 and NaN refused).
        sample_weight = np.full(n_samples, sample_weight, dtype=dtype)
    sample_weight = np.asarray(to_cpu(sample_weight), dtype=dtype)
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), "
            f"got {sample_weight.shape}."
        )
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight must be finite (no NaN or inf).")
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative.")
    if not np.any(sample_weight > 0):
        raise ValueError(
            "sample_weight is all zero: at least one weight must be positive."
        )
    return sample_weight


def check_device_data(estimator, X, y=None, *, reset=True):
    """Validate a device array (cupy) without copying it to the host.

    The device counterpart of ``validate_data`` for estimators that compute
    on the GPU: two dimensions, at least one sample, float64, finite values,
    ``n_features_in_`` set or checked, and ``y`` one-dimensional of matching
    length.

    Parameters
    ----------
    estimator : estimator instance
        Receives ``n_features_in_`` when ``reset``.
    X : device array of shape (n_samples, n_features)
        The data.
    y : device array of shape (n_samples,), default=None
        The targets.
    reset : bool, default=True
        Set ``n_features_in_`` (fit) or check against it (predict, partial_fit).

    Returns
    -------
    X, y : device arrays
        float64 (``y`` is None when not given).
    """
    xp = get_namespace(X)
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D array for X, got an array of shape {tuple(X.shape)}."
        )
    if X.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={tuple(X.shape)}).")
    X = _as_float64(X, xp)
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError("Input X contains NaN or infinity.")
    if reset:
        estimator.n_features_in_ = int(X.shape[1])
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {estimator.n_features_in_} features as input."
        )
    if y is not None:
        y = _as_float64(xp.asarray(y), xp)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}."
            )
        if not bool(xp.all(xp.isfinite(y))):
            raise ValueError("Input y contains NaN or infinity.")
    return X, y


def _as_float64(a, xp):
    # cupy arrays have .astype; array-API arrays only the namespace function.
    return a.astype(xp.float64) if hasattr(a, "astype") else xp.astype(a, xp.float64)


def draw_seed(random_state):
    """Draw one 63-bit integer seed for a kernel from ``random_state``.

    Numba and cupy keep random states apart from numpy's, so kernels take an
    explicit seed drawn here from the estimator's ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As in scikit-learn.

    Returns
    -------
    seed : int
        In ``[0, 2**63)``.

    Examples
    --------
    >>> from skkernel.utils import draw_seed
    >>> draw_seed(0) == draw_seed(0)
    True
    """
    rng = check_random_state(random_state)
    return int(rng.randint(0, 2**62, dtype=np.int64)) * 2 + int(rng.randint(0, 2))
