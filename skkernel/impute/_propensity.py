"""Propensities of observation from the observed pattern alone (Schnabel et al.)."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_array

from ..base import Interval, validate_parameter_constraints

_CONSTRAINTS = {"C": [Interval(Real, 0, None, closed="neither")]}


def observation_propensities(observed, row_features=None, column_features=None, *,
                             C=1.0):
    """Probability that each entry of a matrix is observed, by logistic regression.

    The propensity model of Schnabel et al. [1]_ (Section 5): an entry
    ``(u, i)`` is observed with probability
    ``sigmoid(w . x_ui + gamma_u + beta_i)``, where ``gamma_u`` and ``beta_i``
    are row and column offsets and ``x_ui`` holds the row's features, the
    column's features and all their pairwise products. It is fitted on which
    entries are observed, over all entries, so it needs no ratings and no
    sample of missing-at-random data.

    Inverse propensities reweight the observed entries towards all entries:
    with them, a cross-validated error on self-selected ratings estimates the
    error on entries drawn at random (the "IPS" estimator of [1]_). The Coat
    example and benchmark of :class:`RobustMatrixCompletion` choose the rank
    and ridge that way.

    Parameters
    ----------
    observed : array-like or sparse matrix of shape (n_rows, n_columns)
        Which entries are observed: a boolean mask, a matrix with NaN where
        missing (any other value counts as observed), or a sparse matrix whose
        stored entries are the observed ones.
    row_features : array-like of shape (n_rows, n_row_features), default=None
        Covariates of the rows (users); None: offsets only.
    column_features : array-like of shape (n_columns, n_column_features), \
default=None
        Covariates of the columns (items); None: offsets only.
    C : float, default=1.0
        Inverse l2 regularisation strength of the logistic regression.

    Returns
    -------
    propensities : ndarray of shape (n_rows, n_columns)
        Fitted probability that each entry is observed, in (0, 1).

    References
    ----------
    .. [1] T. Schnabel, A. Swaminathan, A. Singh, N. Chandak and T. Joachims,
       "Recommendations as treatments: debiasing learning and evaluation",
       ICML 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.impute import observation_propensities
    >>> rng = np.random.RandomState(0)
    >>> popular = np.r_[np.ones(5), np.zeros(15)]   # 5 of 20 items shown often
    >>> observed = rng.rand(200, 20) < np.where(popular, 0.6, 0.1)
    >>> p = observation_propensities(observed, column_features=popular[:, None])
    >>> p.shape, bool(p[:, :5].mean() > 3 * p[:, 5:].mean())
    ((200, 20), True)
    """
    validate_parameter_constraints(_CONSTRAINTS, {"C": C},
                                   "observation_propensities")
    mask = _observed_mask(observed)
    n_rows, n_cols = mask.shape
    if mask.all() or not mask.any():
        raise ValueError(
            "observed must contain both observed and missing entries to fit "
            f"propensities; got {int(mask.sum())} observed of {mask.size}."
        )
    rows = np.repeat(np.arange(n_rows), n_cols)
    cols = np.tile(np.arange(n_cols), n_rows)
    blocks = [_one_hot(rows, n_rows), _one_hot(cols, n_cols)]
    r = _features(row_features, n_rows, "row_features")
    c = _features(column_features, n_cols, "column_features")
    if r is not None:
        blocks.append(sp.csr_matrix(r[rows]))
    if c is not None:
        blocks.append(sp.csr_matrix(c[cols]))
    if r is not None and c is not None:
        cross = (r[rows][:, :, None] * c[cols][:, None, :]).reshape(rows.size, -1)
        blocks.append(sp.csr_matrix(cross))
    X = sp.hstack(blocks, format="csr")
    model = LogisticRegression(C=C, max_iter=5000).fit(X, mask.ravel())
    return model.predict_proba(X)[:, 1].reshape(n_rows, n_cols)


def _observed_mask(observed):
    if sp.issparse(observed):
        mask = np.zeros(observed.shape, dtype=bool)
        coo = observed.tocoo()
        mask[coo.row, coo.col] = True
        return mask
    arr = np.asarray(observed)
    if arr.dtype == bool:
        return check_array(arr, dtype=None, input_name="observed")
    arr = check_array(arr, dtype=np.float64, ensure_all_finite="allow-nan",
                      input_name="observed")
    return ~np.isnan(arr)


def _features(features, n, name):
    if features is None:
        return None
    features = check_array(features, dtype=np.float64, input_name=name)
    if features.shape[0] != n:
        raise ValueError(
            f"{name} must have one row per {name.split('_')[0]} of observed "
            f"({n}), got {features.shape[0]}."
        )
    return features


def _one_hot(index, n):
    return sp.csr_matrix((np.ones(index.size), (np.arange(index.size), index)),
                         shape=(index.size, n))
