"""Tests of LewisWeightRegression: exactness when every row is kept, the
objective of the sampled solve, weights as repeated rows, p != 1, errors."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, QuantileRegressor

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
    assert model.objective_ / optimum < 1.1
    np.testing.assert_allclose(model.objective_, l1_objective(model, X, y))
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
    objective = lambda z: np.sum(np.abs(A @ z - b) ** p)  # noqa: E731
    for direction in np.eye(4):
        for step in (1e-4, -1e-4):
            assert objective(x) <= objective(x + step * direction) + 1e-12


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
        ({"p": 0.5}, "p == 0.5, must be >= 1.0"),
        ({"p": 4.0}, "sampling='lewis' needs p < 4"),
        ({"sampling": "magic"}, r"sampling must be one of \['lewis'"),
        ({"sample_size": 0}, "sample_size == 0, must be >= 1"),
        ({"sample_size": "many"}, "sample_size must be 'auto' or a positive int"),
        ({"lewis_iter": 0}, "lewis_iter == 0, must be >= 1"),
        ({"backend": "tpu"}, "backend must be one of"),
    ],
)
def test_parameter_errors(params, match):
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


def test_p4_with_sensitivity_sampling_runs():
    rng = np.random.RandomState(0)
    X, y = rng.randn(400, 2), rng.randn(400)
    model = LewisWeightRegression(p=4.0, sampling="sensitivity", random_state=0)
    assert np.isfinite(model.fit(X, y).objective_)


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
    with pytest.raises(ValueError, match="verbose == -1, must be >= 0"):
        LewisWeightRegression(verbose=-1).fit(X, y)
