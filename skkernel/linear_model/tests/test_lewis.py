"""Tests of LewisWeightRegression: exactness when every row is kept, the
objective of the sampled solve, weights as repeated rows, p != 1, errors."""

import copy
import pickle

import joblib
import numpy as np
import pytest
import scipy.optimize
from sklearn.linear_model import LinearRegression, QuantileRegressor
from sklearn.metrics import mean_absolute_error

from skkernel.linear_model import LewisWeightRegression
from skkernel.linear_model._lewis import (
    SAMPLINGS,
    importance_scores,
    solve_lp_regression,
)


@pytest.fixture(scope="module")
def heavy_tailed():
    rng = np.random.RandomState(0)
    X = rng.randn(3000, 5)
    X[:20] *= 25  # high-leverage rows that uniform sampling misses
    y = X @ np.arange(1.0, 6.0) + 2.0 + rng.standard_t(df=1.5, size=3000)
    return X, y


@pytest.fixture(scope="module")
def l1_optimum(heavy_tailed):
    X, y = heavy_tailed
    ref = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    return l1_objective(ref, X, y)


def l1_objective(model, X, y):
    return np.abs(y - model.predict(X)).sum()


def lp_reference(A, b, p):
    """``argmin_x sum |A x - b|^p`` (p > 1) by BFGS with the exact gradient."""

    def objective(x):
        r = A @ x - b
        return np.sum(np.abs(r) ** p), A.T @ (p * np.abs(r) ** (p - 1) * np.sign(r))

    start = np.linalg.lstsq(A, b, rcond=None)[0]
    result = scipy.optimize.minimize(objective, start, jac=True, method="BFGS",
                                     options={"gtol": 1e-10, "maxiter": 10_000})
    return result.x, result.fun


def test_all_rows_kept_is_exact_l1():
    rng = np.random.RandomState(1)
    X = rng.randn(200, 3)
    y = X @ [1.0, -2.0, 0.5] + rng.laplace(size=200)
    model = LewisWeightRegression(p=1, sample_size=200, random_state=0).fit(X, y)
    assert model.sample_indices_.size == 200  # sample_size >= n: keep all
    np.testing.assert_array_equal(model.sample_scale_, 1.0)
    ref = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    np.testing.assert_allclose(model.objective_, l1_objective(ref, X, y), rtol=1e-9)


@pytest.mark.parametrize("sampling", ["lewis", "sensitivity", "leverage"])
def test_sampled_l1_objective_close_to_optimum(sampling, heavy_tailed, l1_optimum):
    X, y = heavy_tailed
    optimum = l1_optimum
    model = LewisWeightRegression(p=1, sampling=sampling, sample_size=600,
                                  random_state=0).fit(X, y)
    assert model.sample_indices_.size < 1000
    # objective_ is the full-data objective: bounded below by the LP optimum.
    assert optimum <= model.objective_ < 1.1 * optimum
    np.testing.assert_allclose(model.objective_,
                               len(y) * mean_absolute_error(y, model.predict(X)))
    # The high-leverage rows are kept (probability 1) and carry weight 1.
    assert set(range(20)) <= set(model.sample_indices_.tolist())


def test_p2_is_least_squares_on_kept_rows():
    rng = np.random.RandomState(0)
    X, y = rng.randn(300, 4), rng.randn(300)
    model = LewisWeightRegression(p=2, sample_size=300, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, LinearRegression().fit(X, y).coef_,
                               rtol=1e-10)


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_irls_reaches_the_lp_optimum(p):
    rng = np.random.RandomState(0)
    A = np.hstack([rng.randn(150, 3), np.ones((150, 1))])
    b = rng.randn(150)
    x, _, converged = solve_lp_regression(A, b, np.ones(150), p, 200, 1e-12)
    assert converged
    x_ref, optimum = lp_reference(A, b, p)
    np.testing.assert_allclose(np.sum(np.abs(A @ x - b) ** p), optimum, rtol=1e-9)
    np.testing.assert_allclose(x, x_ref, atol=1e-5)


def test_weights_are_repeated_rows(heavy_tailed):
    X, y = heavy_tailed
    X, y = X[:400], y[:400]
    w = np.random.RandomState(2).randint(0, 3, size=400)
    for p in (1.0, 1.5):
        # sample_size above n keeps every row: the exact weighted solve.
        params = dict(p=p, sample_size=10_000, random_state=0)
        weighted = LewisWeightRegression(**params).fit(X, y, w)
        repeated = LewisWeightRegression(**params).fit(
            np.repeat(X, w, axis=0), np.repeat(y, w)
        )
        # The optimum objective is the same (the l_1 argmin need not be unique).
        np.testing.assert_allclose(weighted.objective_, repeated.objective_,
                                   rtol=1e-7)


def test_importance_scores_sum():
    A = np.random.RandomState(0).randn(500, 6)
    for sampling in SAMPLINGS:
        scores = importance_scores(A, 1.0, sampling, np)
        assert scores.shape == (500,) and (scores >= 0).all()
    np.testing.assert_allclose(importance_scores(A, 1.0, "lewis", np).sum(), 6,
                               rtol=1e-3)


def test_reproducible_and_attributes(heavy_tailed):
    X, y = heavy_tailed
    a = LewisWeightRegression(sample_size=300, random_state=3).fit(X, y)
    b = LewisWeightRegression(sample_size=300, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.sample_indices_, b.sample_indices_)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.lewis_weights_.shape == (3000,)
    assert a.sample_scale_.shape == a.sample_indices_.shape
    assert (a.sample_scale_ >= 1).all()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"p": 0.5}, r"The 'p' parameter of LewisWeightRegression must be a finite "
                     r"float in the range \[1, inf\). Got 0.5 instead."),
        ({"p": np.nan}, r"The 'p' parameter .* Got nan instead."),
        ({"p": np.inf}, r"The 'p' parameter .* Got inf instead."),
        ({"p": 4.0}, "sampling='lewis' needs p < 4"),
        ({"sampling": "magic"}, r"'sampling' parameter .* must be one of \['lewis'"),
        ({"sample_size": 0}, r"'sample_size' parameter .* Got 0 instead"),
        ({"sample_size": "many"}, r"'sample_size' parameter .* must be one of "
                                  r"\['auto'\] or an int in the range \[1, inf\)"),
        ({"lewis_iter": 0}, r"'lewis_iter' parameter .* Got 0 instead"),
        ({"max_iter": 1.5}, r"'max_iter' parameter .* must be an int"),
        ({"tol": np.nan}, r"'tol' parameter .* Got nan instead"),
        ({"fit_intercept": "yes"}, r"'fit_intercept' parameter .* must be a bool"),
        ({"backend": "tpu"}, r"'backend' parameter .* must be one of .*'tpu'"),
    ],
)
def test_parameter_errors(params, match):
    # Defect 5: p=nan reached LAPACK (LinAlgError); now the parameter is named.
    X, y = np.random.RandomState(0).randn(30, 2), np.arange(30.0)
    model = LewisWeightRegression(**params)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_input_errors():
    X, y = np.random.RandomState(0).randn(30, 2), np.arange(30.0)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        LewisWeightRegression().fit(X, y)


def test_p4_with_sensitivity_sampling_reaches_the_optimum():
    rng = np.random.RandomState(0)
    X, y = rng.randn(400, 2), rng.randn(400)
    x_ref, optimum = lp_reference(np.hstack([X, np.ones((400, 1))]), y, 4.0)
    # Every row kept: the exact l_4 regression.
    exact = LewisWeightRegression(p=4.0, sampling="sensitivity", sample_size=10_000,
                                  random_state=0).fit(X, y)
    np.testing.assert_allclose(exact.objective_, optimum, rtol=1e-9)
    np.testing.assert_allclose(np.r_[exact.coef_, exact.intercept_], x_ref,
                               atol=1e-6)
    # Half the rows: a full-data objective at or above the optimum, and close.
    sampled = LewisWeightRegression(p=4.0, sampling="sensitivity", sample_size=200,
                                    random_state=0).fit(X, y)
    assert optimum <= sampled.objective_ < 1.5 * optimum
    assert sampled.sample_indices_.size < 300


def test_verbose_reports_the_lewis_iterations(capsys):
    rng = np.random.RandomState(0)
    X = rng.randn(3000, 4)
    y = X @ [1.0, -1.0, 2.0, 0.5] + rng.laplace(size=3000)
    quiet = LewisWeightRegression(random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""
    loud = LewisWeightRegression(random_state=0, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "Lewis weights" in err and "change" in err
    np.testing.assert_array_equal(loud.coef_, quiet.coef_)
    with pytest.raises(ValueError, match=r"The 'verbose' parameter of "
                       r"LewisWeightRegression must be an int in the range "
                       r"\[0, inf\) or a bool. Got -1 instead."):
        LewisWeightRegression(verbose=-1).fit(X, y)


@pytest.mark.parametrize(
    "weight, match",
    [(0, "sample_weight is all zero"), (0.0, "sample_weight is all zero"),
     (-1, "sample_weight must be non-negative"),
     (np.nan, "sample_weight must be finite")],
)
def test_scalar_sample_weight_is_checked(weight, match):
    # Defect 4: a scalar weight skipped the checks (0 gave an all-zero model).
    X, y = np.random.RandomState(0).randn(200, 2), np.arange(200.0)
    model = LewisWeightRegression(random_state=0)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=weight)
    assert not hasattr(model, "coef_")


def test_positive_scalar_sample_weight_is_a_constant_weight(heavy_tailed):
    X, y = heavy_tailed
    plain = LewisWeightRegression(sample_size=300, random_state=0).fit(X, y)
    weighted = LewisWeightRegression(sample_size=300, random_state=0).fit(
        X, y, sample_weight=2.0)
    np.testing.assert_array_equal(weighted.sample_indices_, plain.sample_indices_)
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-6)
    np.testing.assert_allclose(weighted.objective_, 2 * plain.objective_, rtol=1e-6)


@pytest.mark.parametrize(
    "p, where, match",
    [(1.5, "y", "non-finite objective_"), (3.0, "y", "non-finite objective_"),
     (3.0, "X", "weighted least-squares system overflowed")],
)
def test_overflowing_data_raises_a_clear_error(p, where, match, capfd):
    # Values near 1e308 overflow the objective (a silent inf) or the IRLS
    # system (LAPACK printed to stderr and failed): both are refused.
    rng = np.random.RandomState(0)
    X = rng.randn(500, 5)
    y = X @ np.arange(5.0) + rng.randn(500)
    if where == "y":
        y[3] = 1e308
    else:
        X[3, 1], X[4, 1] = 1e308, -1e308
    model = LewisWeightRegression(p=p, random_state=0)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
        ValueError, match=f"{match}.*[Rr]escale X and y"
    ):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
    assert capfd.readouterr().err == ""


def test_fitted_model_pickles_deep_copies_and_dumps(heavy_tailed, tmp_path):
    X, y = heavy_tailed
    model = LewisWeightRegression(sample_size=300, random_state=0).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model),
                 joblib.load(tmp_path / "model.joblib")):
        np.testing.assert_array_equal(twin.predict(X), model.predict(X))
