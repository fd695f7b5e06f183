import numpy as np
import pytest
import scipy.sparse as sp

from skkernel.impute import observation_propensities


def _selected(seed=0, n_rows=300, n_cols=40):
    # Entries are observed more often where a row and a column feature agree,
    # and their values are higher there: a missing-not-at-random sample.
    rng = np.random.RandomState(seed)
    row_f = rng.randint(0, 2, (n_rows, 1)).astype(float)
    col_f = rng.randint(0, 2, (n_cols, 1)).astype(float)
    agree = row_f == col_f.T
    true_p = np.where(agree, 0.5, 0.05)
    observed = rng.rand(n_rows, n_cols) < true_p
    values = np.where(agree, 4.0, 2.0) + rng.randn(n_rows, n_cols) * 0.1
    return observed, values, row_f, col_f, true_p


def test_recovers_selection_on_the_features_and_debiases_a_mean():
    observed, values, row_f, col_f, true_p = _selected()
    p = observation_propensities(observed, row_f, col_f)
    assert p.shape == observed.shape
    assert np.all((p > 0) & (p < 1))
    # the interaction of the features carries the selection (the row and
    # column offsets add noise to single entries)
    agree = true_p > 0.1
    assert abs(p[agree].mean() - 0.5) < 0.03
    assert abs(p[~agree].mean() - 0.05) < 0.01
    assert np.abs(p - true_p).mean() < 0.06
    naive = values[observed].mean()
    w = 1.0 / p[observed]
    ips = np.sum(w * values[observed]) / np.sum(w)
    assert abs(naive - values.mean()) > 0.7  # 3.81 against 3.01
    assert abs(ips - values.mean()) < 0.1


def test_without_features_offsets_give_row_and_column_rates():
    observed, *_ = _selected(seed=1)
    p = observation_propensities(observed, C=1e4)
    expected = (observed.mean(axis=1, keepdims=True)
                * observed.mean(axis=0, keepdims=True) / observed.mean())
    np.testing.assert_allclose(p, expected, atol=0.03)


def test_mask_nan_matrix_and_sparse_input_agree():
    observed, values, row_f, col_f, _ = _selected(seed=2, n_rows=60, n_cols=20)
    p_mask = observation_propensities(observed, row_f, col_f)
    p_nan = observation_propensities(np.where(observed, values, np.nan), row_f,
                                     col_f)
    p_sparse = observation_propensities(sp.csr_matrix(np.where(observed, values,
                                                               0.0)), row_f, col_f)
    np.testing.assert_array_equal(p_mask, p_nan)
    np.testing.assert_array_equal(p_mask, p_sparse)


def test_bad_input():
    observed, _, row_f, col_f, _ = _selected(seed=3, n_rows=30, n_cols=10)
    with pytest.raises(ValueError, match="both observed and missing"):
        observation_propensities(np.ones((4, 3), dtype=bool))
    with pytest.raises(ValueError, match="both observed and missing"):
        observation_propensities(np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match=r"row_features must have one row per "
                                         r"row of observed \(30\), got 29"):
        observation_propensities(observed, row_f[:29], col_f)
    with pytest.raises(ValueError, match=r"column_features must have one row per "
                                         r"column of observed \(10\), got 9"):
        observation_propensities(observed, row_f, col_f[:9])
    with pytest.raises(ValueError, match="'C' parameter of "
                                         "observation_propensities must be"):
        observation_propensities(observed, C=0.0)
    with pytest.raises(ValueError, match="row_features"):
        observation_propensities(observed, np.full((30, 1), np.nan), col_f)
