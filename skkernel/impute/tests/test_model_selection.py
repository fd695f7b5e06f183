import numpy as np
import pytest
import scipy.sparse as sp

from skkernel.impute import RobustMatrixCompletion, cross_val_entry_errors


def _problem(seed=0, shape=(40, 30), p=0.5):
    rng = np.random.RandomState(seed)
    M = rng.randn(shape[0], 2) @ rng.randn(2, shape[1])
    return M, np.where(rng.rand(*shape) < p, M, np.nan)


def test_each_entry_is_predicted_by_the_fit_that_did_not_see_it():
    _, X = _problem()
    X = X + 0.1 * np.random.RandomState(1).randn(*X.shape)  # NaN stays NaN
    est = RobustMatrixCompletion(rank=2, random_state=0)
    rows, cols, errors = cross_val_entry_errors(est, X, n_folds=3, random_state=4)
    np.testing.assert_array_equal(rows, np.nonzero(~np.isnan(X))[0])
    np.testing.assert_array_equal(cols, np.nonzero(~np.isnan(X))[1])
    # by hand, with the same fold assignment
    folds = np.random.RandomState(4).permutation(rows.size) % 3
    expected = np.empty(rows.size)
    for f in range(3):
        held = folds == f
        X_fold = X.copy()
        X_fold[rows[held], cols[held]] = np.nan
        pred = RobustMatrixCompletion(rank=2, random_state=0,
                                      keep_observed=False).fit_transform(X_fold)
        expected[held] = (pred[rows[held], cols[held]] - X[rows[held], cols[held]]) ** 2
    np.testing.assert_allclose(errors, expected, rtol=1e-12)
    # held-out noise: the errors are of the order of the noise, not zero
    assert 0.005 < errors.mean() < 0.05
    # the estimator passed in is not fitted or changed
    assert not hasattr(est, "components_") and est.keep_observed


def test_noiseless_low_rank_entries_are_recovered_and_clip_applies():
    _, X = _problem(seed=2)
    est = RobustMatrixCompletion(rank=2, random_state=0)
    _, _, errors = cross_val_entry_errors(est, X, random_state=0)
    assert np.sqrt(errors.mean()) < 1e-4
    rows, cols, clipped = cross_val_entry_errors(est, X, random_state=0,
                                                 clip=(-0.5, 0.5))
    truth = X[rows, cols]
    outside = np.abs(truth) > 0.6
    assert outside.any()
    np.testing.assert_allclose(clipped[outside],
                               (np.clip(truth[outside], -0.5, 0.5)
                                - truth[outside]) ** 2, atol=1e-6)


def test_sparse_input_gives_the_dense_result():
    _, X = _problem(seed=3)
    observed = ~np.isnan(X)
    S = sp.csr_matrix(np.where(observed, X, 0.0))
    est = RobustMatrixCompletion(rank=2, random_state=0)
    dense = cross_val_entry_errors(est, X, random_state=1)
    sparse = cross_val_entry_errors(est, S, random_state=1)
    for a, b in zip(dense, sparse):
        np.testing.assert_array_equal(a, b)


def test_bad_input():
    from sklearn.linear_model import Ridge

    _, X = _problem(seed=5)
    est = RobustMatrixCompletion(rank=2)
    with pytest.raises(ValueError, match="'n_folds' parameter of "
                                         "cross_val_entry_errors must be"):
        cross_val_entry_errors(est, X, n_folds=1)
    with pytest.raises(ValueError, match="estimator must have a keep_observed"):
        cross_val_entry_errors(Ridge(), X)
    tiny = np.full((3, 3), np.nan)
    tiny[0, 0] = tiny[1, 1] = 1.0
    with pytest.raises(ValueError, match=r"X has 2 observed entries, fewer than "
                                         r"n_folds=5"):
        cross_val_entry_errors(est, tiny)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        cross_val_entry_errors(est, np.where(np.isnan(X), np.nan, np.inf))
