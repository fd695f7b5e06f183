"""Tests of RobustMatrixCompletion: the per-row solvers against a direct
oracle, exact recovery, robustness to gross outliers, backends against the
numpy reference, transform of new rows, sparse input, and errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skkernel.datasets import load_coat
from skkernel.impute import RobustMatrixCompletion
from skkernel.impute._completion_solvers import (
    RESIDUALS,
    SOLVE_ROWS,
    observed_entries,
)

SOLVERS = ("exact", "cg", "sketch")


def low_rank_problem(m=120, n=90, k=3, p=0.4, seed=0):
    rng = np.random.RandomState(seed)
    M = rng.randn(m, k) @ rng.randn(k, n)
    mask = rng.rand(m, n) < p
    return M, mask, np.where(mask, M, np.nan)


def relative_error(estimate, truth, where):
    return np.linalg.norm((estimate - truth)[where]) / np.linalg.norm(truth[where])


# ------------------------------------------------------------ per-row solves


@pytest.fixture(scope="module")
def row_problem():
    rng = np.random.RandomState(1)
    m, n, k = 30, 50, 4
    mask = rng.rand(m, n) < 0.4
    rows, cols = np.nonzero(mask)
    values = rng.randn(rows.size)
    weights = rng.uniform(0.2, 1.0, rows.size)
    F = rng.randn(n, k)
    return observed_entries(rows, cols, values, (m, n)), weights, F, (rows, cols)


def direct_oracle(entries, weights, F, coords, alpha):
    """Each row's weighted ridge regression, solved one at a time."""
    rows, cols = coords
    m, k = entries.shape[0], F.shape[1]
    values = entries.values
    U = np.zeros((m, k))
    for i in range(m):
        sel = rows == i
        A, b, w = F[cols[sel]], values[sel], weights[sel]
        U[i] = np.linalg.solve(A.T @ (w[:, None] * A) + alpha * np.eye(k),
                               A.T @ (w * b))
    return U


@pytest.mark.parametrize("solver", SOLVERS)
def test_row_solves_match_direct_oracle(backend, solver, row_problem):
    entries, weights, F, coords = row_problem
    alpha = 0.1
    expected = direct_oracle(entries, weights, F, coords, alpha)
    start = np.zeros((entries.shape[0], F.shape[1]))
    got = SOLVE_ROWS(backend, entries.indptr, entries.indices, entries.values,
                     weights, F, start, alpha, solver, 1e-12, 7)
    # CG on a k x k system is exact after k steps (up to rounding).
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("solver", ("cg", "sketch"))
def test_approximate_solve_reaches_its_accuracy(solver, row_problem):
    entries, weights, F, coords = row_problem
    alpha = 0.1
    expected = direct_oracle(entries, weights, F, coords, alpha)
    start = expected + 0.1 * np.random.RandomState(0).randn(*expected.shape)
    got = SOLVE_ROWS("numpy", entries.indptr, entries.indices, entries.values,
                     weights, F, start, alpha, solver, 1e-2, 7)
    # A one-step-of-CG answer is closer than the warm start, not exact.
    before = np.linalg.norm(start - expected)
    after = np.linalg.norm(got - expected)
    assert after < 0.5 * before
    assert after > 1e-12


def test_sketch_solves_short_rows_exactly_and_sketches_long_ones(backend):
    # k = 4: the CountSketch has 16 rows. A row with 12 entries is not
    # sketched (its own Gram preconditions exactly, one PCG step); a row with
    # 40 entries is, so a loose solver_tol leaves it inexact.
    rng = np.random.RandomState(3)
    n, k = 60, 4
    cols = [np.sort(rng.choice(n, 12, replace=False)),  # CSR order
            np.sort(rng.choice(n, 40, replace=False))]
    rows = np.repeat([0, 1], [12, 40])
    cols = np.concatenate(cols)
    values = rng.randn(rows.size)
    weights = rng.uniform(0.2, 1.0, rows.size)
    F = rng.randn(n, k)
    entries = observed_entries(rows, cols, values, (2, n))
    expected = direct_oracle(entries, weights, F, (rows, cols), 0.1)
    got = SOLVE_ROWS(backend, entries.indptr, entries.indices, entries.values,
                     weights, F, np.zeros((2, k)), 0.1, "sketch", 0.5, 7)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-10)
    assert np.linalg.norm(got[1] - expected[1]) > 1e-6 * np.linalg.norm(expected[1])


def test_residuals_match_dense_product(backend, row_problem):
    entries, _, F, (rows, cols) = row_problem
    U = np.random.RandomState(2).randn(entries.shape[0], F.shape[1])
    got = RESIDUALS(backend, entries.indptr, entries.indices, entries.values, U, F)
    np.testing.assert_allclose(got, entries.values - (U @ F.T)[rows, cols],
                               rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------ recovery


@pytest.mark.parametrize("solver", SOLVERS)
def test_exact_recovery_of_low_rank_matrix(backend, solver):
    M, mask, X = low_rank_problem()
    model = RobustMatrixCompletion(rank=3, solver=solver, tol=1e-12, alpha=1e-10,
                                   random_state=0, backend=backend)
    completed = model.fit_transform(X)
    assert relative_error(completed, M, ~mask) < 1e-6
    assert model.reconstruction_err_[-1] < 1e-8
    assert model.components_.shape == (3, 90)
    assert model.row_factors_.shape == (120, 3)
    assert model.n_iter_ == model.reconstruction_err_.shape[0]


def test_approximate_solves_converge_geometrically_to_the_exact_answer():
    M, mask, X = low_rank_problem(seed=3)
    exact = RobustMatrixCompletion(rank=3, solver="exact", tol=0, max_iter=25,
                                   alpha=1e-10, random_state=0).fit_transform(X)
    for solver_tol in (1e-1, 1e-3, 1e-6):
        model = RobustMatrixCompletion(rank=3, solver="cg", solver_tol=solver_tol,
                                       tol=0, max_iter=25, alpha=1e-10,
                                       random_state=0)
        completed = model.fit_transform(X)
        errors = model.reconstruction_err_
        # Geometric: each 5 sweeps cut the error at least tenfold until the floor.
        assert errors[5] < 0.1 * errors[0]
        assert errors[10] < 0.1 * errors[5]
        np.testing.assert_allclose(completed, exact, atol=1e-6)


@pytest.mark.parametrize("loss", ("huber", pytest.param("l1", marks=pytest.mark.slow)))
def test_robust_loss_recovers_through_gross_outliers(loss):
    M, mask, X = low_rank_problem(m=150, n=150, k=3, p=0.35, seed=4)
    rng = np.random.RandomState(5)
    rows, cols = np.nonzero(mask)
    hit = rng.rand(rows.size) < 0.1
    X[rows[hit], cols[hit]] = 10 * np.abs(M).max() * rng.choice([-1, 1], hit.sum())
    robust = RobustMatrixCompletion(rank=3, loss=loss, tol=1e-10, max_iter=300,
                                    random_state=0).fit(X)
    plain = RobustMatrixCompletion(rank=3, random_state=0).fit(X)
    fill = ~mask
    robust_err = relative_error(robust.row_factors_ @ robust.components_, M, fill)
    plain_err = relative_error(plain.row_factors_ @ plain.components_, M, fill)
    assert robust_err < 1e-3
    assert plain_err > 0.5


def test_noisy_completion_is_close_to_the_oracle():
    rng = np.random.RandomState(6)
    m, n, k = 200, 150, 3
    M = rng.randn(m, k) @ rng.randn(k, n)
    mask = rng.rand(m, n) < 0.5
    noisy = M + 0.1 * rng.randn(m, n)
    X = np.where(mask, noisy, np.nan)
    model = RobustMatrixCompletion(rank=k, random_state=0).fit(X)
    error = relative_error(model.row_factors_ @ model.components_, M, ~mask)
    # Oracle: each row regressed on the true column space, from its observed
    # noisy entries (what a method that knew V exactly would reach).
    _, _, Vt = np.linalg.svd(M)
    V = Vt[:k].T
    oracle = np.vstack([V @ np.linalg.lstsq(V[mask[i]], noisy[i, mask[i]],
                                            rcond=None)[0] for i in range(m)])
    oracle_error = relative_error(oracle, M, ~mask)
    assert oracle_error < error < 2.0 * oracle_error


# ------------------------------------------------------------ fit_intercept


def biased_problem(m=150, n=120, k=0, p=0.5, seed=16):
    """``3 + b_i + c_j (+ a rank-k part)`` with known biases of sd 0.5."""
    rng = np.random.RandomState(seed)
    row_bias, col_bias = 0.5 * rng.randn(m), 0.5 * rng.randn(n)
    T = 3.0 + row_bias[:, None] + col_bias[None, :]
    if k:
        T = T + rng.randn(m, k) @ rng.randn(k, n)
    mask = rng.rand(m, n) < p
    return T, mask, np.where(mask, T, np.nan), row_bias, col_bias


def test_fit_intercept_recovers_known_biases():
    T, mask, X, row_bias, col_bias = biased_problem()
    model = RobustMatrixCompletion(rank=1, alpha=1.0, fit_intercept=True,
                                   tol=1e-10, random_state=0).fit(X)
    # The intercept is the mean of the observed entries; the biases are the
    # true ones up to a shift shared by the rows, the columns and the
    # intercept (mu + b_i + c_j is what is identified) and a ridge shrinkage
    # of alpha / (|Omega_i| + alpha) ~ 2 %.
    assert model.intercept_ == pytest.approx(X[mask].mean(), rel=1e-12)
    shift = np.mean(model.row_biases_ - row_bias)
    np.testing.assert_allclose(model.row_biases_ - shift, row_bias, atol=0.03)
    np.testing.assert_allclose(
        model.column_biases_ + shift + model.intercept_ - 3.0, col_bias, atol=0.03)
    assert np.corrcoef(model.row_biases_, row_bias)[0, 1] > 0.998
    assert np.corrcoef(model.column_biases_, col_bias)[0, 1] > 0.998
    # Nothing is left for the low-rank part.
    assert np.abs(model.row_factors_ @ model.components_).max() < 1e-3
    completed = model.fit_transform(X)
    assert np.abs(completed - T)[~mask].max() < 0.05
    assert model.row_biases_.shape == (150,)
    assert model.column_biases_.shape == (120,)


@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_intercept_completes_biases_plus_low_rank_exactly(solver):
    T, mask, X, _, _ = biased_problem(k=2, seed=17)
    with_biases = RobustMatrixCompletion(rank=2, fit_intercept=True, tol=1e-12,
                                         alpha=1e-8, solver=solver, random_state=0)
    assert relative_error(with_biases.fit_transform(X), T, ~mask) < 1e-6
    # Without the biases, rank 2 cannot hold this rank-4 matrix (2 + 2 bias
    # directions, the intercept included in them).
    plain = RobustMatrixCompletion(rank=2, tol=1e-12, alpha=1e-8, random_state=0)
    assert relative_error(plain.fit_transform(X), T, ~mask) > 1e-2


def test_fit_intercept_folds_in_new_rows_with_their_biases():
    T, mask, X, row_bias, _ = biased_problem(m=200, k=2, seed=18)
    model = RobustMatrixCompletion(rank=2, fit_intercept=True, tol=1e-12,
                                   alpha=1e-8, random_state=0).fit(X[:150])
    completed = model.transform(X[150:])
    assert relative_error(completed, T[150:], ~mask[150:]) < 1e-6
    np.testing.assert_array_equal(completed[mask[150:]], X[150:][mask[150:]])


def test_fit_intercept_with_huber_ignores_gross_outliers():
    T, mask, X, _, _ = biased_problem(k=2, seed=19)
    rows, cols = np.nonzero(mask)
    hit = np.random.RandomState(20).rand(rows.size) < 0.05
    X[rows[hit], cols[hit]] = 100.0
    model = RobustMatrixCompletion(rank=2, loss="huber", fit_intercept=True,
                                   tol=1e-10, max_iter=300, random_state=0)
    assert relative_error(model.fit_transform(X), T, ~mask) < 1e-3
    # The intercept of a robust loss is the median of the observed values.
    assert model.intercept_ == pytest.approx(np.median(X[mask]))


def test_without_intercept_the_biases_are_zero():
    _, _, X = low_rank_problem(seed=21)
    model = RobustMatrixCompletion(rank=3, random_state=0).fit(X)
    assert model.intercept_ == 0.0
    np.testing.assert_array_equal(model.row_biases_, np.zeros(120))
    np.testing.assert_array_equal(model.column_biases_, np.zeros(90))


@pytest.mark.parametrize("loss", ("l2", "huber"))
@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_intercept_numba_matches_numpy(solver, loss):
    _, _, X, _, _ = biased_problem(m=60, n=50, k=2, seed=22)
    results = {
        backend: RobustMatrixCompletion(
            rank=2, solver=solver, loss=loss, fit_intercept=True, max_iter=15,
            random_state=0, backend=backend).fit(X)
        for backend in ("numpy", "numba")}
    np.testing.assert_allclose(results["numba"].reconstruction_err_,
                               results["numpy"].reconstruction_err_, rtol=1e-6)
    for name in ("row_biases_", "column_biases_"):
        np.testing.assert_allclose(getattr(results["numba"], name),
                                   getattr(results["numpy"], name),
                                   rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------ backends


@pytest.mark.parametrize("loss", ("l2", "huber", "l1"))
@pytest.mark.parametrize("solver", SOLVERS)
def test_numba_matches_numpy(solver, loss):
    M, mask, X = low_rank_problem(m=60, n=50, seed=7)
    X[0, :] = np.where(mask[0], M[0] + 5.0, np.nan)  # a few outliers
    results = {}
    for backend in ("numpy", "numba"):
        model = RobustMatrixCompletion(rank=3, solver=solver, loss=loss,
                                       max_iter=15, random_state=0,
                                       backend=backend).fit(X)
        results[backend] = model
    np.testing.assert_allclose(results["numba"].reconstruction_err_,
                               results["numpy"].reconstruction_err_, rtol=1e-6)
    np.testing.assert_allclose(
        results["numba"].row_factors_ @ results["numba"].components_,
        results["numpy"].row_factors_ @ results["numpy"].components_,
        rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------ transform


def test_transform_folds_in_new_rows():
    M, mask, X = low_rank_problem(m=200, seed=8)
    model = RobustMatrixCompletion(rank=3, tol=1e-12, alpha=1e-10,
                                   random_state=0).fit(X[:150])
    completed = model.transform(X[150:])
    assert relative_error(completed, M[150:], ~mask[150:]) < 1e-6
    observed = mask[150:]
    np.testing.assert_array_equal(completed[observed], X[150:][observed])


def test_transform_of_training_rows_matches_fit_transform():
    _, _, X = low_rank_problem(seed=9)
    model = RobustMatrixCompletion(rank=3, random_state=0)
    first = model.fit_transform(X)
    np.testing.assert_allclose(model.transform(X), first, rtol=1e-6, atol=1e-8)


def test_keep_observed_false_returns_the_reconstruction():
    rng = np.random.RandomState(10)
    X = rng.randn(40, 30)
    X[rng.rand(40, 30) < 0.3] = np.nan
    model = RobustMatrixCompletion(rank=2, keep_observed=False, random_state=0)
    out = model.fit_transform(X)
    np.testing.assert_allclose(out, model.row_factors_ @ model.components_)
    assert not np.allclose(out[np.isfinite(X)], X[np.isfinite(X)])


def test_sparse_stored_entries_equal_dense_with_nan():
    M, mask, X = low_rank_problem(seed=11)
    rows, cols = np.nonzero(mask)
    S = sp.csr_matrix((M[rows, cols], (rows, cols)), shape=M.shape)
    dense = RobustMatrixCompletion(rank=3, random_state=0).fit_transform(X)
    sparse = RobustMatrixCompletion(rank=3, observed="stored",
                                    random_state=0).fit_transform(S)
    np.testing.assert_allclose(sparse, dense, rtol=1e-10, atol=1e-10)


def test_missing_values_placeholder():
    M, mask, X = low_rank_problem(seed=12)
    Z = np.where(mask, M, -1e6)
    a = RobustMatrixCompletion(rank=3, random_state=0).fit_transform(X)
    b = RobustMatrixCompletion(rank=3, missing_values=-1e6,
                               random_state=0).fit_transform(Z)
    np.testing.assert_allclose(a, b)


def test_works_in_a_pipeline_before_a_regressor():
    rng = np.random.RandomState(13)
    X = rng.randn(80, 3) @ rng.randn(3, 12)
    y = X[:, 0] - X[:, 1]
    X_missing = X.copy()
    X_missing[rng.rand(*X.shape) < 0.2] = np.nan
    pipe = make_pipeline(RobustMatrixCompletion(rank=3, random_state=0),
                         Ridge(alpha=1e-6)).fit(X_missing, y)
    assert pipe.score(X_missing, y) > 0.99


def test_verbose_shows_progress(capfd):
    _, _, X = low_rank_problem(seed=14)
    RobustMatrixCompletion(rank=3, max_iter=3, tol=0, verbose=1,
                           random_state=0).fit(X)
    assert "RobustMatrixCompletion" in capfd.readouterr().err


def test_coat_ratings_beat_the_global_mean():
    coat = load_coat()
    model = RobustMatrixCompletion(rank=3, alpha=3.0, random_state=0).fit(coat.train)
    test = np.isfinite(coat.test)
    predicted = np.clip(model.row_factors_ @ model.components_, 1, 5)[test]
    rmse = np.sqrt(np.mean((predicted - coat.test[test]) ** 2))
    baseline = np.sqrt(np.mean((np.nanmean(coat.train) - coat.test[test]) ** 2))
    assert rmse < 1.1 < baseline


@pytest.mark.slow
def test_coat_propensity_weighted_cv_chooses_a_setting_under_1_08():
    # Model selection on the self-selected training ratings only: plain CV
    # prefers settings that shrink towards chosen coats; weighting held-out
    # ratings by inverse observation propensities (user and coat attributes)
    # picks one that scores <= 1.08 on the random test ratings.
    from skkernel.impute import cross_val_entry_errors, observation_propensities

    coat = load_coat()
    train, test = coat.train, np.isfinite(coat.test)
    rows, cols = np.nonzero(np.isfinite(train))
    weights = 1.0 / observation_propensities(train, coat.user_features,
                                             coat.item_features)[rows, cols]
    grid = [(intercept, k, a) for intercept in (False, True) for k in (1, 2, 5)
            for a in (1.0, 3.0, 5.0)]

    def make(setting):
        intercept, k, a = setting
        return RobustMatrixCompletion(rank=k, alpha=a, fit_intercept=intercept,
                                      random_state=0)

    plain, weighted = {}, {}
    for setting in grid:
        sq = cross_val_entry_errors(make(setting), train, random_state=0,
                                    clip=(1, 5))[2]
        plain[setting] = sq.mean()
        weighted[setting] = np.average(sq, weights=weights)

    def test_rmse(setting):
        predicted = make(setting).set_params(keep_observed=False).fit_transform(train)
        return np.sqrt(np.mean((np.clip(predicted, 1, 5)[test]
                                - coat.test[test]) ** 2))

    assert test_rmse(min(weighted, key=weighted.get)) <= 1.08
    assert test_rmse(min(plain, key=plain.get)) > 1.10


def test_load_coat_sparse_matches_dense():
    dense, sparse = load_coat(), load_coat(as_sparse=True)
    assert sparse.train.nnz == 6960 and sparse.test.nnz == 4640
    np.testing.assert_array_equal(sparse.train.toarray()[np.isfinite(dense.train)],
                                  dense.train[np.isfinite(dense.train)])
    assert "Schnabel" in dense.DESCR


# ------------------------------------------------------------ errors


def test_rank_above_the_shape_is_refused():
    X = np.random.RandomState(0).randn(10, 4)
    with pytest.raises(ValueError, match=r"rank=5 must be <= min\(n_samples, "
                                         r"n_features\)=4"):
        RobustMatrixCompletion(rank=5).fit(X)


def test_no_observed_entry_is_refused():
    with pytest.raises(ValueError, match="no observed entries"):
        RobustMatrixCompletion(rank=1).fit(np.full((5, 4), np.nan))


def test_infinity_is_refused():
    X = np.random.RandomState(0).randn(10, 4)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        RobustMatrixCompletion(rank=1).fit(X)


def test_nan_is_refused_when_another_placeholder_marks_gaps():
    X = np.random.RandomState(0).randn(10, 4)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RobustMatrixCompletion(rank=1, missing_values=0.0).fit(X)


def test_transform_with_other_columns_is_refused():
    X = np.random.RandomState(0).randn(10, 4)
    model = RobustMatrixCompletion(rank=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but "
                                         "RobustMatrixCompletion is expecting 4"):
        model.transform(X[:, :3])


def test_stored_needs_sparse_input():
    with pytest.raises(ValueError, match="observed='stored' needs scipy sparse"):
        RobustMatrixCompletion(rank=1, observed="stored").fit(np.eye(3))


def test_empty_row_and_column_warn_and_get_zero_factors():
    M, mask, X = low_rank_problem(seed=15)
    X[4, :] = np.nan
    X[:, 7] = np.nan
    with pytest.warns(UserWarning, match=r"1 row\(s\) and 1 column\(s\) of X have "
                                         "no observed entry"):
        model = RobustMatrixCompletion(rank=3, random_state=0).fit(X)
    np.testing.assert_allclose(model.row_factors_[4], 0.0, atol=1e-12)
    np.testing.assert_allclose(model.components_[:, 7], 0.0, atol=1e-12)


def test_invalid_loss_names_the_parameter():
    with pytest.raises(ValueError, match="'loss' parameter of RobustMatrixCompletion"):
        RobustMatrixCompletion(loss="l3").fit(np.eye(3))


def test_warns_when_the_fill_extrapolates_far_outside_the_observed_range():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(load_breast_cancer(return_X_y=True)[0])
    gaps = np.random.default_rng(0).random(X.shape) < 0.3
    X_missing = np.where(gaps, np.nan, X)
    # Rank 10 with the tiny default ridge: rows of about 21 observed values
    # against 10 unknowns, and some fills land tens of ranges away.
    with pytest.warns(UserWarning, match="filled entries lie more than 10 times"):
        filled = RobustMatrixCompletion(random_state=0).fit_transform(X_missing)
    assert np.abs(filled[gaps] - X[gaps]).max() > 10
    # A lower rank and a ridge fill within the data (no warning), and so does
    # transform on the same rows.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = RobustMatrixCompletion(rank=5, alpha=1.0, random_state=0)
        good = model.fit_transform(X_missing)
        model.transform(X_missing[:50])
    assert np.sqrt(np.mean((good[gaps] - X[gaps]) ** 2)) < 0.7


@pytest.mark.parametrize("rank, expected", [(1, "exact"), (80, "exact"), (81, "cg")])
def test_auto_solver_is_exact_up_to_rank_80(rank, expected):
    # The crossover measured on whole fits (see _AUTO_EXACT_MAX_RANK).
    X = np.random.default_rng(0).standard_normal((90, 90))
    model = RobustMatrixCompletion(rank=rank, max_iter=1, random_state=0).fit(X)
    assert model.solver_ == expected
