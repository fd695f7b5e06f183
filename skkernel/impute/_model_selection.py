"""Entry-wise cross-validation of matrix completion."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils import check_array, check_random_state

from ..base import COMMON_CONSTRAINTS, Interval, validate_parameter_constraints

_CONSTRAINTS = {
    "n_folds": [Interval(Integral, 2, None, closed="left")],
    "random_state": COMMON_CONSTRAINTS["random_state"],
    "clip": [None, tuple],
}


def cross_val_entry_errors(estimator, X, *, n_folds=5, random_state=None,
                           clip=None):
    """Squared error of each observed entry, predicted by a fit without it.

    Entry-wise ``n_folds``-fold cross-validation, the model selection of
    matrix completion: the observed entries are split at random into
    ``n_folds`` folds; for each fold a clone of ``estimator`` (with
    ``keep_observed=False``, so that it predicts every entry) is fitted with
    that fold's entries removed and predicts them. Rows and columns stay in
    every fit, unlike scikit-learn's row-wise splitters.

    The errors come back one per observed entry, so that any average can be
    taken: ``np.sqrt(errors.mean())`` is the cross-validated RMSE, and
    ``np.sqrt(np.average(errors, weights=1 / p))`` with propensities ``p``
    from :func:`observation_propensities` estimates the RMSE on entries drawn
    at random when the observed ones were not.

    Parameters
    ----------
    estimator : estimator instance
        A matrix-completion estimator with a ``keep_observed`` parameter and
        ``fit_transform``, such as :class:`RobustMatrixCompletion`.
    X : array-like of shape (n_samples, n_features) or sparse matrix
        The matrix, NaN where missing (a sparse matrix: its stored entries are
        the observed ones).
    n_folds : int, default=5
        Number of folds, at least 2.
    random_state : int, RandomState instance or None, default=None
        Assigns the entries to folds.
    clip : tuple of (float, float) or None, default=None
        Clip the predictions to this range before the errors (for ratings).

    Returns
    -------
    rows, cols : ndarray of shape (n_observed,)
        The observed entries, in ``np.nonzero`` order.
    squared_errors : ndarray of shape (n_observed,)
        ``(prediction - X[rows, cols]) ** 2``, each from the fit that did not
        see the entry.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.impute import RobustMatrixCompletion, cross_val_entry_errors
    >>> rng = np.random.RandomState(0)
    >>> M = rng.randn(60, 2) @ rng.randn(2, 40)
    >>> X = np.where(rng.rand(60, 40) < 0.5, M, np.nan)
    >>> rows, cols, errors = cross_val_entry_errors(
    ...     RobustMatrixCompletion(rank=2, random_state=0), X, random_state=0)
    >>> errors.shape, bool(np.sqrt(errors.mean()) < 1e-3)
    ((1193,), True)
    """
    validate_parameter_constraints(
        _CONSTRAINTS,
        {"n_folds": n_folds, "random_state": random_state, "clip": clip},
        "cross_val_entry_errors",
    )
    if "keep_observed" not in estimator.get_params():
        raise ValueError(
            "estimator must have a keep_observed parameter (a matrix-completion "
            f"estimator such as RobustMatrixCompletion), got {estimator!r}."
        )
    if sp.issparse(X):
        coo = X.tocoo()
        dense = np.full(X.shape, np.nan)
        dense[coo.row, coo.col] = coo.data
        X = dense
    X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan",
                    input_name="X")
    rows, cols = np.nonzero(~np.isnan(X))
    if rows.size < n_folds:
        raise ValueError(
            f"X has {rows.size} observed entries, fewer than n_folds={n_folds}."
        )
    folds = check_random_state(random_state).permutation(rows.size) % n_folds
    model = clone(estimator).set_params(keep_observed=False)
    errors = np.empty(rows.size)
    for fold in range(n_folds):
        held = folds == fold
        X_fold = X.copy()
        X_fold[rows[held], cols[held]] = np.nan
        predicted = clone(model).fit_transform(X_fold)[rows[held], cols[held]]
        if clip is not None:
            predicted = np.clip(predicted, *clip)
        errors[held] = (predicted - X[rows[held], cols[held]]) ** 2
    return rows, cols, errors
