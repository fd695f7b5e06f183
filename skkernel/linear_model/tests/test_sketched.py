"""Tests of SketchedLinearRegression: every solver and sketch against the
exact answer, backends against numpy, partial_fit against fit, weights as
repeated rows, rank deficiency, errors, and use in Pipeline/GridSearchCV."""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from skkernel.linear_model import SketchedLinearRegression
from skkernel.linear_model import _sketched as sketched_module
from skkernel.linear_model._sketched import SOLVERS
from skkernel.linear_model._sketched_solvers import normal_residual
from skkernel.sketch._sketches import SKETCHES, STREAMABLE_SKETCHES

ITERATIVE = ("cholesky_lsqr", "sap", "iterative_sketching", "fossils")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(1500, 12) * np.logspace(0, 2, 12) + 3.0
    y = X @ rng.randn(12) + rng.randn(1500) + 5.0
    w = rng.rand(1500) * 2
    return X, y, w


@pytest.fixture(scope="module")
def ridge_ref(data):
    X, y, w = data
    return Ridge(alpha=2.0, solver="svd").fit(X, y, sample_weight=w)


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("solver", ITERATIVE + ("lstsq",))
def test_exact_solvers_match_ridge(solver, sketch, data, ridge_ref):
    X, y, w = data
    model = SketchedLinearRegression(solver=solver, sketch=sketch, alpha=2.0,
                                     random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, ridge_ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, ridge_ref.intercept_, rtol=1e-8)
    assert model.solver_ == solver
    assert model.rank_ == 12


@pytest.mark.parametrize("sketch", SKETCHES)
def test_sketch_and_solve_residual_is_near_optimal(sketch, data):
    X, y, _ = data
    exact = LinearRegression().fit(X, y)
    best = np.linalg.norm(y - exact.predict(X))
    model = SketchedLinearRegression(solver="sketch_and_solve", sketch=sketch,
                                     sketch_size=120, random_state=0).fit(X, y)
    ratio = np.linalg.norm(y - model.predict(X)) / best
    assert 1.0 <= ratio < 1.3, ratio
    assert model.n_iter_ == 0 and model.sketch_size_ == 120


@pytest.mark.parametrize("solver", ["sap", "sketch_and_solve", "iterative_sketching"])
def test_backends_agree(solver, data, backend):
    X, y, w = data
    params = dict(solver=solver, alpha=0.5, random_state=1)
    ref = SketchedLinearRegression(backend="numpy", **params).fit(X, y, w)
    out = SketchedLinearRegression(backend=backend, **params).fit(X, y, w)
    assert out.backend_ == backend
    np.testing.assert_allclose(out.coef_, ref.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sketch", STREAMABLE_SKETCHES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_partial_fit_equals_fit_on_concatenated_data(sketch, fit_intercept, data):
    X, y, w = data
    params = dict(solver="sketch_and_solve", sketch=sketch, alpha=0.3,
                  fit_intercept=fit_intercept, random_state=7)
    full = SketchedLinearRegression(**params).fit(X, y, sample_weight=w)
    stream = SketchedLinearRegression(**params)
    for start, stop in [(0, 1), (1, 400), (400, 1100), (1100, 1500)]:
        stream.partial_fit(X[start:stop], y[start:stop], sample_weight=w[start:stop])
    np.testing.assert_allclose(stream.coef_, full.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(stream.intercept_, full.intercept_, rtol=1e-10,
                               atol=1e-12)
    assert stream.sketch_size_ == full.sketch_size_ == 48


def test_partial_fit_availability_and_errors(data):
    X, y, _ = data
    assert not hasattr(SketchedLinearRegression(solver="sap"), "partial_fit")
    model = SketchedLinearRegression(solver="sketch_and_solve", sketch="srht")
    with pytest.raises(ValueError, match="partial_fit needs solver='sketch_and_solve'"
                                         " and sketch in"):
        model.partial_fit(X, y)
    model = SketchedLinearRegression(solver="sketch_and_solve").partial_fit(X, y)
    with pytest.raises(ValueError, match="X has 11 features"):
        model.partial_fit(X[:, :11], y)
    # A failed partial_fit leaves the previous state.
    before = model.coef_.copy()
    with pytest.raises(ValueError):
        model.partial_fit(X[:, :11], y)
    np.testing.assert_array_equal(model.coef_, before)


def test_fit_resets_the_stream(data):
    X, y, _ = data
    model = SketchedLinearRegression(solver="sketch_and_solve", random_state=0)
    model.partial_fit(X[:500], y[:500])
    model.fit(X, y)
    fresh = SketchedLinearRegression(solver="sketch_and_solve", random_state=0)
    np.testing.assert_allclose(model.coef_, fresh.fit(X, y).coef_)


@pytest.mark.parametrize("solver", ITERATIVE)
def test_weights_are_repeated_rows(solver, data):
    X, y, _ = data
    X, y = X[:300], y[:300]
    w = np.random.RandomState(3).randint(0, 4, size=300)
    weighted = SketchedLinearRegression(solver=solver, random_state=0).fit(X, y, w)
    repeated = SketchedLinearRegression(solver=solver, random_state=0).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8)


def test_random_state_reproducible(data):
    X, y, _ = data
    fit = lambda seed: SketchedLinearRegression(  # noqa: E731
        solver="sketch_and_solve", random_state=seed).fit(X, y).coef_
    np.testing.assert_array_equal(fit(4), fit(4))
    assert not np.allclose(fit(4), fit(5))
    rng = np.random.RandomState(9)
    np.testing.assert_array_equal(fit(np.random.RandomState(9)), fit(rng))


def test_ill_conditioned_forward_error():
    rng = np.random.RandomState(0)
    G = rng.randn(4000, 30)
    V, _ = np.linalg.qr(rng.randn(30, 30))
    A = (G * np.logspace(0, -6, 30)) @ V.T
    b = A @ rng.randn(30) + 1e-3 * rng.randn(4000)
    x_ref = scipy.linalg.lstsq(A, b)[0]
    for solver in ITERATIVE:
        model = SketchedLinearRegression(solver=solver, fit_intercept=False,
                                         random_state=0).fit(A, b)
        error = np.linalg.norm(model.coef_ - x_ref) / np.linalg.norm(x_ref)
        assert error < 1e-8, (solver, error)
        np.testing.assert_allclose(
            model.residual_norm_, np.linalg.norm(b - A @ x_ref), rtol=1e-6
        )


def test_rank_deficient_gives_minimum_norm_solution(data):
    X, y, _ = data
    X = np.hstack([X, X[:, :2] * 2.0])
    ref = LinearRegression().fit(X, y)
    for solver in ITERATIVE:
        with pytest.warns(UserWarning, match="numerical rank 12 < n_features=14"):
            model = SketchedLinearRegression(solver=solver, random_state=0).fit(X, y)
        assert model.rank_ == 12
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("solver", ITERATIVE)
def test_fewer_samples_than_features_falls_back_to_lstsq(solver):
    rng = np.random.RandomState(0)
    X, y = rng.randn(8, 20), rng.randn(8)
    with pytest.warns(UserWarning, match=f"solver='{solver}' needs n_samples >= "
                      "n_features, got n_samples=8 < n_features=20; falling back"):
        model = SketchedLinearRegression(solver=solver).fit(X, y)
    assert model.solver_ == "lstsq"
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)


@pytest.mark.parametrize("solver", ["auto", "sap"])
def test_max_iter_warns(solver):
    rng = np.random.RandomState(0)
    V, _ = np.linalg.qr(rng.randn(10, 10))
    X = (rng.randn(500, 10) * np.logspace(0, 6, 10)) @ V.T
    y = rng.randn(500)
    used = "cholesky_lsqr" if solver == "auto" else solver
    with pytest.warns(ConvergenceWarning, match=f"solver='{used}' did not reach tol"):
        SketchedLinearRegression(solver=solver, max_iter=1, random_state=0).fit(X, y)


def test_residual_norm_definitions(data):
    X, y, w = data
    model = SketchedLinearRegression(alpha=1.0, random_state=0).fit(X, y, w)
    root = np.sqrt(w)
    xc = X - np.average(X, axis=0, weights=w)
    yc = y - np.average(y, weights=w)
    _, rr = normal_residual(root[:, None] * xc, root * yc, model.coef_, 1.0, np)
    np.testing.assert_allclose(model.residual_norm_, np.sqrt(rr), rtol=1e-6)


def test_pipeline_and_grid_search(data):
    X, y, _ = data
    pipe = make_pipeline(StandardScaler(), SketchedLinearRegression(random_state=0))
    search = GridSearchCV(pipe, {"sketchedlinearregression__alpha": [0.0, 10.0],
                                 "sketchedlinearregression__solver":
                                 ["sap", "sketch_and_solve"]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.9
    assert search.best_params_["sketchedlinearregression__solver"] == "sap"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"solver": "qr"}, r"'solver' parameter of SketchedLinearRegression must be "
                           r"one of \['auto', 'cholesky_lsqr', 'sap'"),
        ({"sketch": "fjlt"}, r"'sketch' parameter of .* must be one of \['gaussian'"),
        ({"sketch_size": 5}, "sketch_size=5 must be >= n_features=12"),
        ({"sketch_size": "big"}, r"'sketch_size' parameter of .* must be one of "
                                 r"\['auto'\] or an int in the range \[1, inf\)"),
        ({"sketch_size": 0}, r"'sketch_size' parameter .* Got 0 instead"),
        ({"alpha": -1.0}, r"'alpha' parameter .* in the range \[0, inf\). Got -1.0"),
        ({"tol": 0.0}, r"'tol' parameter .* in the range \(0, 1\). Got 0.0"),
        ({"max_iter": 0}, r"'max_iter' parameter .* Got 0 instead"),
        ({"nnz_per_col": 0}, r"'nnz_per_col' parameter .* Got 0 instead"),
        ({"srht_transform": "fft"}, r"'srht_transform' parameter .* must be one of"),
        ({"fit_intercept": 1}, r"'fit_intercept' parameter .* must be a bool"),
        ({"backend": "tpu"}, r"'backend' parameter .* must be one of .*'tpu'"),
        ({"n_jobs": 0}, r"'n_jobs' parameter .* Got 0 instead"),
    ],
)
def test_parameter_errors(params, match, data):
    X, y, _ = data
    model = SketchedLinearRegression(**params)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("name", ["alpha", "tol"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_parameters_are_refused(name, value, data):
    # Defect 5: alpha=nan gave a NaN coef_ with a ConvergenceWarning only.
    X, y, _ = data
    model = SketchedLinearRegression(**{name: value})
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of "
                       r"SketchedLinearRegression must be a finite float in the "
                       rf"range .*\. Got {value} instead\."):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_input_errors(data):
    X, y, _ = data
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        SketchedLinearRegression().fit(bad, y)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        SketchedLinearRegression().fit(bad, y)
    y_bad = y.copy()
    y_bad[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        SketchedLinearRegression().fit(X, y_bad)
    with pytest.raises(ValueError, match="sample_weight is all zero"):
        SketchedLinearRegression().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        SketchedLinearRegression().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match=r"sketch_size=2000 exceeds the 1500 rows"):
        SketchedLinearRegression(solver="sap", sketch="srht",
                                 sketch_size=2000).fit(X, y)


def test_no_warning_on_well_posed_problem(data):
    X, y, w = data
    with warnings.catch_warnings():
        # Our rank and convergence warnings (ConvergenceWarning is a
        # UserWarning); numba's cache warnings are not ours to fail on.
        warnings.simplefilter("error", UserWarning)
        for solver in ITERATIVE:
            SketchedLinearRegression(solver=solver, random_state=0).fit(X, y, w)


@pytest.mark.gpu
@pytest.mark.parametrize("solver", ["sap", "sketch_and_solve", "fossils", "lstsq"])
def test_cupy_fit_matches_numpy(solver, data):
    import cupy

    X, y, w = data
    ref = SketchedLinearRegression(solver=solver, backend="numpy",
                                   random_state=0).fit(X, y, w)
    gpu = SketchedLinearRegression(solver=solver, random_state=0).fit(
        cupy.asarray(X), cupy.asarray(y), w
    )
    assert gpu.backend_ == "cupy" and isinstance(gpu.coef_, np.ndarray)
    np.testing.assert_allclose(gpu.coef_, ref.coef_, rtol=1e-6)
    assert isinstance(gpu.predict(cupy.asarray(X)), cupy.ndarray)


def test_auto_sketch_size(data):
    X, y, _ = data
    expected = {("sap", "sparse_sign"): 240, ("iterative_sketching", "srht"): 144,
                ("fossils", "countsketch"): 144, ("sketch_and_solve", "leverage"): 48,
                ("sap", "gaussian"): 48}
    for (solver, sketch), size in expected.items():
        model = SketchedLinearRegression(solver=solver, sketch=sketch,
                                         random_state=0).fit(X, y)
        assert model.sketch_size_ == size, (solver, sketch)
    # Capped at n_samples, but never below n_features.
    small = SketchedLinearRegression(solver="sap").fit(X[:100], y[:100])
    assert small.sketch_size_ == 100
    for seed in range(20):
        # 12 centred rows have rank 11; a sketch as tall as X is X itself, so
        # the rank (and the minimum-norm solution) never depends on the seed.
        with pytest.warns(UserWarning, match="rank 11 < n_features=12"):
            model = SketchedLinearRegression(random_state=seed).fit(X[:12], y[:12])
        assert model.sketch_size_ == 12
        Xc = X[:12] - X[:12].mean(axis=0)
        expected = np.linalg.lstsq(Xc, y[:12] - y[:12].mean(), rcond=None)[0]
        np.testing.assert_allclose(model.coef_, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", ["sap", "iterative_sketching", "fossils"])
def test_verbose_reports_the_iterations(solver, capsys, data):
    X, y, _ = data
    quiet = SketchedLinearRegression(solver=solver, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""
    loud = SketchedLinearRegression(solver=solver, random_state=0, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert solver in err
    assert "/500" in err  # the bar runs to max_iter and stops at convergence
    if solver != "fossils":
        assert "residual" in err
    np.testing.assert_array_equal(loud.coef_, quiet.coef_)
    with pytest.raises(ValueError, match=r"The 'verbose' parameter of "
                       r"SketchedLinearRegression must be an int in the range "
                       r"\[0, inf\) or a bool. Got -1 instead."):
        SketchedLinearRegression(verbose=-1).fit(X, y)


# ------------------------------------------------ regressions of issue 9


@pytest.mark.parametrize(
    "solver, sketch",
    [(solver, "sparse_sign") for solver in SOLVERS]
    + [("sketch_and_solve", sketch) for sketch in ("gaussian", "srht", "leverage")],
)
def test_fitted_model_pickles_deep_copies_and_dumps(solver, sketch, data, tmp_path):
    # Defect 1: the sketch operator kept by sketch_and_solve held the numpy
    # and scipy modules ("cannot pickle 'module' object").
    X, y, w = data
    model = SketchedLinearRegression(solver=solver, sketch=sketch,
                                     random_state=0).fit(X, y, w)
    expected = model.predict(X)
    joblib.dump(model, tmp_path / "model.joblib")
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model),
                 joblib.load(tmp_path / "model.joblib")):
        np.testing.assert_array_equal(twin.predict(X), expected)
        np.testing.assert_array_equal(twin.coef_, model.coef_)


def test_streaming_model_pickles_and_continues(data, tmp_path):
    X, y, w = data
    params = dict(solver="sketch_and_solve", random_state=0)
    model = SketchedLinearRegression(**params).partial_fit(X[:700], y[:700], w[:700])
    joblib.dump(model, tmp_path / "stream.joblib")
    full = SketchedLinearRegression(**params).fit(X, y, w)
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model),
                 joblib.load(tmp_path / "stream.joblib")):
        twin.partial_fit(X[700:], y[700:], w[700:])
        np.testing.assert_allclose(twin.coef_, full.coef_, rtol=1e-10, atol=1e-12)


def test_fitted_grid_search_pickles(data):
    X, y, _ = data
    search = GridSearchCV(SketchedLinearRegression(solver="sketch_and_solve",
                                                   random_state=0),
                          {"alpha": [0.0, 1.0]}, cv=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))


def test_partial_fit_that_fails_mid_way_leaves_the_sketch_as_it_was(data,
                                                                     monkeypatch):
    # Defect 3: the rows of a failed call stayed in the running sketch, so a
    # retry counted them twice.
    X, y, w = data
    params = dict(solver="sketch_and_solve", random_state=0)
    model = SketchedLinearRegression(**params).partial_fit(X[:700], y[:700], w[:700])
    before = model.coef_.copy()

    def interrupted_solve(*args, **kwargs):
        raise RuntimeError("interrupted after the block was sketched")

    monkeypatch.setattr(sketched_module, "sketch_and_solve", interrupted_solve)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.partial_fit(X[700:], y[700:], w[700:])
    monkeypatch.undo()
    np.testing.assert_array_equal(model.coef_, before)
    model.partial_fit(X[700:], y[700:], w[700:])
    full = SketchedLinearRegression(**params).fit(X, y, w)
    np.testing.assert_allclose(model.coef_, full.coef_, rtol=1e-10, atol=1e-12)


def test_overflowing_block_is_refused_and_later_calls_work(data):
    # Defect 3: one block of 1e308 turned the running sketch into inf/NaN and
    # broke every later call.
    X, y, _ = data
    params = dict(solver="sketch_and_solve", random_state=0)
    model = SketchedLinearRegression(**params).partial_fit(X[:700], y[:700])
    before = model.coef_.copy()
    with pytest.raises(ValueError, match="running sketch overflowed.*rescale X and y"):
        model.partial_fit(np.full((50, X.shape[1]), 1e308), y[:50])
    np.testing.assert_array_equal(model.coef_, before)
    model.partial_fit(X[700:], y[700:])
    full = SketchedLinearRegression(**params).fit(X, y)
    np.testing.assert_allclose(model.coef_, full.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ITERATIVE + ("lstsq",))
def test_overflowing_target_raises_instead_of_a_nan_model(solver, data):
    # Defect 3: a y of 1e308 gave a NaN (or silently zero) coef_.
    X, y, _ = data
    y = y.copy()
    y[3] = 1e308
    model = SketchedLinearRegression(solver=solver, random_state=0)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
        ValueError, match="computed a non-finite .* Rescale X and y"
    ):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("solver", ["sap", "sketch_and_solve", "lstsq"])
@pytest.mark.parametrize(
    "weight, match",
    [(0, "sample_weight is all zero"), (0.0, "sample_weight is all zero"),
     (-1, "sample_weight must be non-negative"),
     (np.nan, "sample_weight must be finite")],
)
def test_scalar_sample_weight_is_checked(solver, weight, match, data, capfd):
    # Defect 4: a scalar weight skipped the checks of an array and died in
    # LAPACK, with its complaints on stderr.
    X, y, _ = data
    model = SketchedLinearRegression(solver=solver, random_state=0)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=weight)
    if solver == "sketch_and_solve":
        with pytest.raises(ValueError, match=match):
            model.partial_fit(X, y, sample_weight=weight)
    assert not hasattr(model, "coef_")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("solver", ["sap", "sketch_and_solve", "lstsq"])
def test_positive_scalar_sample_weight_is_a_constant_weight(solver, data):
    X, y, _ = data
    params = dict(solver=solver, random_state=0)
    weighted = SketchedLinearRegression(**params).fit(X, y, sample_weight=3.0)
    plain = SketchedLinearRegression(**params).fit(X, y)
    np.testing.assert_allclose(weighted.coef_, plain.coef_, rtol=1e-9)


def test_lstsq_warns_on_a_numerically_rank_deficient_design():
    # Defect 6: gelsd dropped the direction of a cond-1e12 design without the
    # rank warning the docstring promises.
    rng = np.random.RandomState(0)
    U, _ = np.linalg.qr(rng.randn(1000, 6))
    V, _ = np.linalg.qr(rng.randn(6, 6))
    s = np.logspace(0, -12, 6)
    X = (U * s) @ V.T
    y = rng.randn(1000)
    with pytest.warns(UserWarning, match="numerical rank 5 < n_features=6"):
        model = SketchedLinearRegression(solver="lstsq", fit_intercept=False).fit(X, y)
    assert model.rank_ == 5
    # The minimum-norm solution on the 5 directions kept (truncated SVD).
    expected = V[:, :5] @ ((U[:, :5].T @ y) / s[:5])
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-5)


def test_partial_fit_refuses_a_changed_sketch_parameter(data):
    # Defect 9: set_params(sketch_size=...) between partial_fit calls was
    # silently ignored.
    X, y, _ = data
    model = SketchedLinearRegression(solver="sketch_and_solve", random_state=0)
    model.partial_fit(X[:700], y[:700])
    before = model.coef_.copy()
    model.set_params(sketch_size=40)
    with pytest.raises(ValueError, match="sketch_size changed from 'auto' to 40 "
                                         "since the first partial_fit"):
        model.partial_fit(X[700:], y[700:])
    np.testing.assert_array_equal(model.coef_, before)
    assert model.sketch_size_ == 48
    # fit starts over with the new value, and a stream after it too.
    assert model.fit(X, y).sketch_size_ == 40
    assert model.partial_fit(X[:700], y[:700]).sketch_size_ == 40


def test_partial_fit_alpha_may_change_between_calls(data):
    # alpha enters only the solve, so the running sketch stays valid.
    X, y, _ = data
    params = dict(solver="sketch_and_solve", random_state=0)
    model = SketchedLinearRegression(**params).partial_fit(X[:700], y[:700])
    model.set_params(alpha=5.0).partial_fit(X[700:], y[700:])
    full = SketchedLinearRegression(alpha=5.0, **params).fit(X, y)
    np.testing.assert_allclose(model.coef_, full.coef_, rtol=1e-10, atol=1e-12)


def test_array_api_input_follows_through(data):
    # array_api_strict refuses implicit host conversion as cupy does.
    xps = pytest.importorskip("array_api_strict")
    X, y, w = data
    ref = SketchedLinearRegression(random_state=0).fit(X, y, w)
    model = SketchedLinearRegression(random_state=0).fit(
        xps.asarray(X), xps.asarray(y), sample_weight=xps.asarray(w))
    np.testing.assert_array_equal(model.coef_, ref.coef_)
    out = model.predict(xps.asarray(X))
    assert type(out) is type(xps.asarray(X))
    np.testing.assert_allclose(np.from_dlpack(out), ref.predict(X), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:The centred X .* has numerical rank")
def test_common_checks_with_partial_fit():
    # The default solver has no partial_fit; sketch_and_solve runs its checks.
    check_estimator(
        SketchedLinearRegression(solver="sketch_and_solve", random_state=0),
        expected_failed_checks={
            "check_non_transformer_estimators_n_iter": (
                "a direct solver: n_iter_ is 0, as documented"),
        },
    )


def _rotated_ill_conditioned(cond, n=3000, d=25, seed=0):
    rng = np.random.RandomState(seed)
    V, _ = np.linalg.qr(rng.randn(d, d))
    A = (rng.randn(n, d) * np.logspace(0, -np.log10(cond), d)) @ V.T
    b = A @ rng.randn(d) + 1e-3 * rng.randn(n)
    return A, b


def test_auto_uses_the_gram_cholesky_preconditioner_when_well_conditioned():
    # cond 1e6: the computed Gram's Cholesky factor preconditions to about
    # cond^2 eps = 1e-4, so LSQR needs a few iterations, not the ~17 of sap.
    A, b = _rotated_ill_conditioned(1e6)
    x_ref = scipy.linalg.lstsq(A, b)[0]
    auto = SketchedLinearRegression(fit_intercept=False).fit(A, b)
    sap = SketchedLinearRegression(solver="sap", fit_intercept=False,
                                   random_state=0).fit(A, b)
    assert auto.solver_ == "cholesky_lsqr"
    assert auto.sketch_size_ is None and auto.rank_ == 25
    assert auto.n_iter_ <= 4 < sap.n_iter_
    error = np.linalg.norm(auto.coef_ - x_ref) / np.linalg.norm(x_ref)
    assert error < 1e-8


@pytest.mark.parametrize("solver", ["auto", "cholesky_lsqr"])
def test_gram_route_falls_back_to_sap_when_ill_conditioned(solver):
    # cond 1e9 > GRAM_MAX_CONDITION: the Gram squares it past 1/eps.
    A, b = _rotated_ill_conditioned(1e9)
    model = SketchedLinearRegression(solver=solver, fit_intercept=False,
                                     random_state=0).fit(A, b)
    assert model.solver_ == "sap"
    assert model.sketch_size_ == 20 * 25
    sap = SketchedLinearRegression(solver="sap", fit_intercept=False,
                                   random_state=0).fit(A, b)
    np.testing.assert_array_equal(model.coef_, sap.coef_)


def test_auto_with_fewer_samples_than_features_is_lstsq_without_warning():
    rng = np.random.RandomState(0)
    X, y = rng.randn(8, 20), rng.randn(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SketchedLinearRegression().fit(X, y)
    assert model.solver_ == "lstsq"
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)


@pytest.mark.parametrize("order", ["C", "F"])
def test_gram_over_row_blocks_equals_one_syrk(order, monkeypatch):
    # 2.4M entries: two row blocks on two BLAS threads, one under a limit.
    from threadpoolctl import threadpool_limits

    from skkernel.utils import _linalg
    from skkernel.utils._linalg import gram

    monkeypatch.setattr(_linalg, "_GRAM_BLOCK_MIN_FLOPS", 0)

    A = np.asarray(np.random.RandomState(0).randn(300_000, 8), order=order)
    expected = A.T @ A
    np.testing.assert_allclose(gram(A), expected, rtol=1e-12, atol=1e-9)
    with threadpool_limits(limits=1, user_api="blas"):
        np.testing.assert_allclose(gram(A), expected, rtol=1e-12, atol=1e-9)
    small = A[:100]
    np.testing.assert_array_equal(gram(small), small.T @ small)


def test_cholesky_lsqr_forward_error_with_the_blocked_gram(monkeypatch):
    # 80,000 x 30 (2.4M entries): the Gram is summed over row blocks.
    from skkernel.utils import _linalg

    monkeypatch.setattr(_linalg, "_GRAM_BLOCK_MIN_FLOPS", 0)
    rng = np.random.RandomState(1)
    V, _ = np.linalg.qr(rng.randn(30, 30))
    A = (rng.randn(80_000, 30) * np.logspace(0, -6, 30)) @ V.T
    b = A @ rng.randn(30) + 1e-3 * rng.randn(80_000)
    x_ref = scipy.linalg.lstsq(A, b)[0]
    model = SketchedLinearRegression(fit_intercept=False).fit(A, b)
    assert model.solver_ == "cholesky_lsqr"
    error = np.linalg.norm(model.coef_ - x_ref) / np.linalg.norm(x_ref)
    assert error < 1e-8
