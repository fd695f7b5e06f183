"""DPPWeightedLeastSquares: accuracy, weights, sklearn integration, errors."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skkernel.dpp import LegendreBasis
from skkernel.linear_model import DPPWeightedLeastSquares


def runge(X):
    return 1.0 / (1.0 + 25.0 * X[:, 0] ** 2)


def _l2_error_ratio(model, func=runge, degree=19):
    """||f - f_hat||^2 / ||f - P_m f||^2 in L2(uniform[-1, 1]) by quadrature."""
    x, w = np.polynomial.legendre.leggauss(400)
    w = w / 2
    X = x[:, None]
    Phi = LegendreBasis(degree=degree).evaluate(X)
    f = func(X)
    best = np.sum(w * (f - Phi @ (Phi.T @ (w * f))) ** 2)
    return np.sum(w * (f - model.predict(X)) ** 2) / best


def test_fit_function_is_quasi_optimal_on_runge():
    model = DPPWeightedLeastSquares(degree=19, n_samples=80, random_state=0)
    model.fit_function(runge)
    assert model.n_samples_ == 80 and model.n_basis_ == 20
    assert model.gram_deviation_ <= 0.5
    assert _l2_error_ratio(model) < 2.0
    assert model.design_points_.shape == (80, 1)
    np.testing.assert_allclose(model.weights_,
                               20 / model.basis_.christoffel(model.design_points_))


@pytest.mark.parametrize("sampling", ["iid_christoffel", "projection_dpp",
                                      "volume_rescaled", "generalized_volume"])
def test_every_sampling_fits_a_polynomial_exactly(sampling):
    # A polynomial inside the space is recovered by any design of rank m.
    def poly(X):
        return 1 - 2 * X[:, 0] + 0.5 * X[:, 0] ** 5

    model = DPPWeightedLeastSquares(degree=6, sampling=sampling,
                                    stability_threshold=None, random_state=1)
    model.fit_function(poly)
    X = np.linspace(-1, 1, 11)[:, None]
    np.testing.assert_allclose(model.predict(X), poly(X), atol=1e-8)


def test_auto_sizes():
    m = 10
    dpp = DPPWeightedLeastSquares(random_state=0).fit_function(runge)
    assert dpp.n_samples_ == 3 * m
    proj = DPPWeightedLeastSquares(sampling="projection_dpp",
                                   stability_threshold=None, random_state=0)
    assert proj.fit_function(runge).n_samples_ == m
    iid = DPPWeightedLeastSquares(sampling="iid_christoffel", random_state=0)
    points, weights = iid.sample_design()
    # Matrix Chernoff size at delta = 1/2, epsilon = 0.1 (Nouy's toolbox).
    assert points.shape[0] == 490 and weights.shape == (490,)


def test_fit_equals_explicit_weighted_least_squares():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (40, 1))
    y = np.cos(3 * X[:, 0])
    model = DPPWeightedLeastSquares(degree=5, domain=(-1, 1)).fit(X, y)
    Phi = LegendreBasis(degree=5).evaluate(X)
    w = 6 / np.sum(Phi**2, axis=1)
    coef = np.linalg.solve(Phi.T @ (w[:, None] * Phi), Phi.T @ (w * y))
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-10)
    G = Phi.T @ (w[:, None] * Phi) / 40
    np.testing.assert_allclose(model.gram_, G, rtol=1e-12)
    assert model.n_resamples_ == 0


def test_sample_weight_two_equals_a_repeated_row():
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, (25, 2))
    y = np.exp(X[:, 0]) * X[:, 1]
    sw = rng.randint(0, 4, size=25)
    est = DPPWeightedLeastSquares(degree=3)
    weighted = est.fit(X, y, sample_weight=sw)
    coef_weighted, gram_weighted = weighted.coef_.copy(), weighted.gram_.copy()
    repeated = DPPWeightedLeastSquares(degree=3).fit(np.repeat(X, sw, axis=0),
                                                    np.repeat(y, sw))
    np.testing.assert_allclose(coef_weighted, repeated.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gram_weighted, repeated.gram_, rtol=1e-9, atol=1e-12)


def test_two_dimensional_total_degree_and_trigonometric():
    def smooth(X):
        return np.exp(X[:, 0] * X[:, 1])

    # In 2-D, k_m peaks in the corners: about 10 m points for P(stable) ~ 3/4.
    model = DPPWeightedLeastSquares(degree=6, dim=2, n_samples=10 * 28,
                                    random_state=0).fit_function(smooth)
    assert model.n_basis_ == 28 and model.gram_deviation_ <= 0.5
    X = np.random.RandomState(2).uniform(-1, 1, (200, 2))
    assert np.max(np.abs(model.predict(X) - smooth(X))) < 5e-3

    def periodic(X):
        return np.sin(np.pi * X[:, 0]) + 0.5 * np.cos(3 * np.pi * X[:, 0])

    trig = DPPWeightedLeastSquares(basis="trig", degree=3, random_state=0)
    trig.fit_function(periodic)
    np.testing.assert_allclose(trig.weights_, 1.0)
    np.testing.assert_allclose(trig.predict(X[:, :1]), periodic(X[:, :1]), atol=1e-9)


def test_hermite_basis_on_gaussian_inputs():
    model = DPPWeightedLeastSquares(basis="hermite", degree=6, n_samples=28,
                                    random_state=0)
    model.fit_function(lambda X: np.sin(X[:, 0]))
    X = np.linspace(-2, 2, 9)[:, None]
    assert np.max(np.abs(model.predict(X) - np.sin(X[:, 0]))) < 0.05


def test_reproducible_and_backend_independent(backend):
    kwargs = {"degree": 11, "random_state": 7}
    ref = DPPWeightedLeastSquares(backend="numpy", **kwargs).fit_function(runge)
    other = DPPWeightedLeastSquares(backend=backend, **kwargs).fit_function(runge)
    np.testing.assert_allclose(other.design_points_, ref.design_points_,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(other.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    assert other.backend_ == backend


def test_sample_design_does_not_fit():
    est = DPPWeightedLeastSquares(degree=4, random_state=0)
    points, weights = est.sample_design(12)
    assert points.shape == (12, 1) and weights.shape == (12,)
    assert not hasattr(est, "coef_")
    again, _ = est.sample_design(12)
    np.testing.assert_array_equal(points, again)


def test_select_rows_of_a_pool():
    rng = np.random.RandomState(0)
    pool = rng.uniform(-1, 1, (2000, 1))
    y_pool = runge(pool)
    # One domain for select and fit: the weights select returns are for it.
    est = DPPWeightedLeastSquares(degree=11, domain=(-1, 1), random_state=0)
    idx, sw = est.select(pool, 48)
    assert idx.shape == (48,) and idx.min() >= 0 and idx.max() < 2000
    est.fit(pool[idx], y_pool[idx], sample_weight=sw)
    # Net weights are m / k_pool(x): the weighted LS of the pool's measure.
    X_test = rng.uniform(-1, 1, (500, 1))
    err = np.mean((est.predict(X_test) - runge(X_test)) ** 2)
    full = DPPWeightedLeastSquares(degree=11, domain=(-1, 1)).fit(pool, y_pool)
    best = np.mean((full.predict(X_test) - runge(X_test)) ** 2)
    assert err < 3 * best


def test_callable_basis_on_candidates():
    candidates = np.linspace(0, 1, 500)[:, None]

    def features(X):
        return np.hstack([X**0, X, np.abs(X - 0.5), np.abs(X - 0.25),
                          np.abs(X - 0.75)])

    est = DPPWeightedLeastSquares(basis=features, candidates=candidates,
                                  n_samples=20, random_state=0)
    est.fit_function(lambda X: np.abs(X[:, 0] - 0.5))
    np.testing.assert_allclose(est.predict(candidates),
                               np.abs(candidates[:, 0] - 0.5), atol=1e-8)
    assert np.isin(est.design_points_, candidates).all()
    idx, sw = est.select(candidates, 10)
    np.testing.assert_allclose(sw, 1.0)  # the pool is the candidate set
    hats = DPPWeightedLeastSquares(
        basis=lambda X: np.maximum(0, 1 - 4 * np.abs(X - [0.25, 0.5, 0.75])),
        candidates=candidates)
    with pytest.raises(ValueError, match="Every basis function vanishes"):
        hats.fit(np.array([[0.0], [0.3], [0.5], [0.7]]), np.zeros(4))


def test_pipeline_and_grid_search():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 4, (150, 1))
    y = np.sin(X[:, 0]) + 0.01 * rng.standard_normal(150)
    pipe = make_pipeline(FunctionTransformer(lambda X: X / 2 - 1),
                         DPPWeightedLeastSquares())
    search = GridSearchCV(pipe, {"dppweightedleastsquares__degree": [1, 3, 7]},
                          cv=3).fit(X, y)
    assert search.best_params_["dppweightedleastsquares__degree"] == 7
    assert search.best_score_ > 0.99


def test_pickle_roundtrip():
    model = DPPWeightedLeastSquares(degree=5, random_state=0).fit_function(runge)
    restored = pickle.loads(pickle.dumps(model))
    X = np.linspace(-1, 1, 5)[:, None]
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"basis": "chebyshev"}, r"'basis' parameter of DPPWeightedLeastSquares "
                                 r"must be one of .* Got 'chebyshev'"),
        ({"sampling": "sobol"}, r"'sampling' parameter .* Got 'sobol'"),
        ({"n_samples": 5}, r"n_samples=5 is smaller than the number of basis "
                           r"functions m=10"),
        ({"n_samples": "many"}, r"'n_samples' parameter .* Got 'many'"),
        ({"stability_threshold": 0.0}, r"'stability_threshold' parameter .* range "
                                       r"\(0, inf\) or None. Got 0.0"),
        ({"stability_threshold": np.nan}, r"'stability_threshold' .* Got nan"),
        ({"stability_threshold": np.inf}, r"'stability_threshold' .* finite .* Got "
                                          "inf"),
        ({"max_resample": -1}, r"'max_resample' parameter .* \[0, inf\). Got -1"),
        ({"degree": -2}, r"'degree' parameter .* Got -2"),
        ({"extrapolation": "clip"}, r"'extrapolation' parameter .* Got 'clip'"),
        ({"domain": (2, 1)}, r"domain must be a pair"),
        ({"domain": (0, np.inf)}, r"domain must be a pair .*finite"),
        ({"domain": (np.nan, 1)}, r"domain must be a pair .*finite"),
        ({"domain": [[0, 1, 2]]}, r"domain must be a pair"),
        ({"basis": "hermite", "domain": (0, 1)}, r"domain must be None"),
        ({"basis": lambda X: X}, r"pass candidates"),
        ({"basis": lambda X: np.hstack([X**0, X, X**2]),
          "candidates": np.zeros((2, 1))}, r"m=3 basis functions but there are "
                                           r"only 2 candidates"),
    ],
)
def test_fit_function_errors(params, match):
    est = DPPWeightedLeastSquares(**params)
    with pytest.raises(ValueError, match=match):
        est.fit_function(runge)
    assert not hasattr(est, "coef_")


def test_fit_and_predict_errors():
    X = np.linspace(-1, 1, 30)[:, None]
    y = runge(X)
    est = DPPWeightedLeastSquares(degree=9, domain=(-1, 1), extrapolation="error")
    with pytest.raises(ValueError, match=r"outside the domain \[-1, 1\] of feature "
                                         r"0 .*found values in \[-2, 2\]"):
        est.fit(X * 2, y)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(np.where(X > 0.5, np.nan, X), y)
    with pytest.raises(ValueError, match=r"X has 8 distinct point\(s\) \(n_samples=8 "
                                         r"with positive weight\), fewer than the "
                                         r"m=10 basis functions"):
        est.fit(X[:8], y[:8])
    with pytest.raises(ValueError, match=r"sample_weight is all zero"):
        est.fit(X, y, sample_weight=np.zeros(30))
    with pytest.raises(ValueError, match=r"X has 2 features, but dim=1"):
        DPPWeightedLeastSquares(dim=1).fit(np.zeros((30, 2)), y)
    with pytest.raises(ValueError, match="func must return one value per point"):
        est.fit_function(lambda X: X[:3, 0])
    with pytest.raises(ValueError, match="func returned NaN"):
        est.fit_function(lambda X: np.where(X[:, 0] > 0, np.nan, 0.0))
    with pytest.raises(ValueError, match="func must be callable"):
        est.fit_function(3.0)
    est.fit(X, y)
    with pytest.raises(ValueError, match=r"outside the domain"):
        est.predict(np.array([[1.5]]))
    with pytest.raises(ValueError, match=r"X_pool has 4 rows but the basis has "
                                         r"m=10 functions"):
        est.select(X[:4])


def test_conditioning_failure_warns_and_keeps_best():
    est = DPPWeightedLeastSquares(degree=9, n_samples=10, stability_threshold=0.01,
                                  max_resample=2, random_state=0)
    with pytest.warns(UserWarning, match="keeping the best one"):
        est.fit_function(runge)
    assert est.n_resamples_ == 2


def test_failed_fit_keeps_the_previous_fit():
    X = np.linspace(-1, 1, 30)[:, None]
    est = DPPWeightedLeastSquares(degree=5, domain=(-1, 1)).fit(X, runge(X))
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="outside the domain"):
        est.fit(3 * X, runge(X))
    np.testing.assert_array_equal(est.coef_, coef)
    assert est.n_features_in_ == 1


def test_sample_design_follows_the_fitted_dimension():
    X = np.random.RandomState(0).uniform(-1, 1, (40, 2))
    est = DPPWeightedLeastSquares(degree=2, random_state=0).fit(X, X[:, 0] * X[:, 1])
    points, weights = est.sample_design(12)
    assert points.shape == (12, 2)
    np.testing.assert_allclose(weights, 6 / est.basis_.christoffel(points))
    # fit_function starts afresh in dim (1 by default) and forgets names.
    est.fit_function(runge)
    assert est.n_features_in_ == 1 and est.design_points_.shape[1] == 1


def test_design_size_not_a_multiple_of_m_and_iid_selection():
    est = DPPWeightedLeastSquares(degree=4, n_samples=23, stability_threshold=None,
                                  random_state=0).fit_function(runge)
    assert est.n_samples_ == 23 and est.weights_.shape == (23,)
    pool = np.linspace(-1, 1, 300)[:, None]
    iid = DPPWeightedLeastSquares(degree=4, sampling="iid_christoffel",
                                  random_state=0)
    rows, sw = iid.select(pool, 40)
    assert rows.shape == (40,) and np.all(sw > 0)


def test_cupy_without_gpu_is_a_clear_error(monkeypatch):
    from skkernel.backend import _backend

    monkeypatch.setattr(_backend, "_cupy_usable", lambda: False)
    est = DPPWeightedLeastSquares(backend="cupy")
    with pytest.raises(RuntimeError, match=r"backend='cupy' needs cupy"):
        est.fit_function(runge)
    assert not hasattr(est, "coef_")


# ---------------------------------------------------------------- issue 9


def test_default_domain_is_learned_from_the_training_data():
    # Regression: the default Legendre basis refused data outside [-1, 1], so
    # check_estimator with default parameters failed 37 of its checks.
    rng = np.random.RandomState(0)
    X = rng.uniform(0.0, 3.0, (60, 1))
    y = np.sin(X[:, 0])
    learned = DPPWeightedLeastSquares(degree=7).fit(X, y)
    np.testing.assert_array_equal(learned.domain_, [[X.min(), X.max()]])
    given = DPPWeightedLeastSquares(degree=7, domain=(X.min(), X.max())).fit(X, y)
    np.testing.assert_allclose(learned.coef_, given.coef_, rtol=1e-12)
    # One interval per feature, each from its own column.
    X2 = np.column_stack([X[:, 0], 100 + 10 * rng.standard_normal(60)])
    two = DPPWeightedLeastSquares(degree=2).fit(X2, X2 @ [1.0, 0.1])
    np.testing.assert_array_equal(two.domain_, np.column_stack([X2.min(0),
                                                                X2.max(0)]))
    np.testing.assert_allclose(two.predict(X2), X2 @ [1.0, 0.1], atol=1e-9)


def test_follows_standard_scaler_in_a_pipeline():
    from sklearn.model_selection import cross_val_score
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(0)
    X = rng.uniform(0, 4, (150, 1))
    y = np.sin(X[:, 0]) + 0.01 * rng.standard_normal(150)
    pipe = make_pipeline(StandardScaler(), DPPWeightedLeastSquares())
    # Test folds reach outside the training folds' range: "constant" rule.
    scores = cross_val_score(pipe, X, y, cv=5)
    assert scores.min() > 0.99


def test_points_outside_the_domain_follow_extrapolation():
    X = np.linspace(0.0, 2.0, 30)[:, None]
    y = 1.0 - X[:, 0] + X[:, 0] ** 3  # inside the degree-3 space
    outside = np.array([[-1.0], [3.0]])
    constant = DPPWeightedLeastSquares(degree=3).fit(X, y)
    np.testing.assert_allclose(constant.predict(outside),
                               constant.predict(np.array([[0.0], [2.0]])))
    cont = DPPWeightedLeastSquares(degree=3, extrapolation="continue").fit(X, y)
    np.testing.assert_allclose(cont.predict(outside),
                               1.0 - outside[:, 0] + outside[:, 0] ** 3, rtol=1e-9)
    side = np.linspace(0.0, 2.0, 6)
    grid = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
    strict = DPPWeightedLeastSquares(degree=3, extrapolation="error").fit(
        grid, grid[:, 0] - grid[:, 1] ** 2)
    with pytest.raises(ValueError, match=r"outside the domain \[0, 2\] of feature 1"
                                         r" .*found values in \[1, 3\]"):
        strict.predict(np.array([[1.0, 1.0], [1.0, 3.0]]))
    np.testing.assert_allclose(strict.predict(np.array([[1.0, 1.5]])), [-1.25],
                               atol=1e-9)


def test_domain_error_prints_the_offending_value_exactly():
    # Regression: the message printed "[1, 1]" for x = 1 + 1e-10.
    est = DPPWeightedLeastSquares(degree=2, domain=(-1, 1), extrapolation="error")
    est.fit(np.linspace(-1, 1, 10)[:, None], np.zeros(10))
    with pytest.raises(ValueError, match=r"domain \[-1, 1\] of feature 0 .*found "
                                         r"values in \[1.0000000001, 1.0000000001\]"):
        est.predict(np.array([[1 + 1e-10]]))


def test_identical_points_are_a_clear_error_or_a_constant():
    # Regression: 60 identical points gave a wrong degree-9 model, silently.
    X = np.full((60, 1), 0.3)
    y = np.random.RandomState(0).normal(2.0, 0.1, 60)
    with pytest.raises(ValueError, match=r"X has 1 distinct point\(s\) \(n_samples=60 "
                                         r"with positive weight\), fewer than the "
                                         r"m=10 basis functions"):
        DPPWeightedLeastSquares(degree=9).fit(X, y)
    # degree="auto" counts distinct points: one point determines a constant.
    model = DPPWeightedLeastSquares().fit(X, y)
    assert model.degree_ == 0 and model.n_basis_ == 1
    np.testing.assert_allclose(model.predict(np.array([[0.3], [5.0]])), y.mean())


def test_rank_deficient_design_is_an_error_naming_constant_features():
    rng = np.random.RandomState(0)
    t = rng.uniform(-1, 1, 40)
    on_a_line = np.column_stack([t, 2 * t])
    with pytest.raises(ValueError, match=r"numerical rank 3, below the m=6 basis"):
        DPPWeightedLeastSquares(degree=2).fit(on_a_line, t)
    constant = np.column_stack([t, np.full(40, 5.0)])
    with pytest.raises(ValueError, match=r"feature\(s\) \[1\] take a single value"):
        DPPWeightedLeastSquares(degree=2).fit(constant, t)
    # The learned domain of the constant feature is [c - c, c + c] for c = 5.
    model = DPPWeightedLeastSquares(degree=0).fit(constant, t)
    np.testing.assert_array_equal(model.domain_[1], [0.0, 10.0])


def test_auto_degree_from_distinct_points():
    rng = np.random.RandomState(0)
    # 30 points in 3-D: degree 2 has m = 10 = 30 / 3 functions, degree 3 has 20.
    X = rng.uniform(-1, 1, (30, 3))
    assert DPPWeightedLeastSquares().fit(X, X[:, 0]).degree_ == 2
    # Capped at 9; fit_function (no data) uses 9.
    X1 = rng.uniform(-1, 1, (500, 1))
    assert DPPWeightedLeastSquares().fit(X1, X1[:, 0]).degree_ == 9
    assert DPPWeightedLeastSquares(random_state=0).fit_function(runge).degree_ == 9
    # Rows of weight zero do not count, repeated rows count once.
    sw = np.repeat([1.0, 0.0], 15)
    weighted = DPPWeightedLeastSquares().fit(X, X[:, 0], sample_weight=sw)
    repeated = DPPWeightedLeastSquares().fit(np.repeat(X[:15], 3, axis=0),
                                             np.repeat(X[:15, 0], 3))
    assert weighted.degree_ == repeated.degree_ == 1


def test_feature_map_basis_resolves_auto_before_copying_to_the_host(monkeypatch):
    # Regression: the backend was resolved after to_cpu, so "auto" never
    # chose cupy for a GPU pool. A stand-in array typed as cupy's shows it.
    import scipy.sparse

    from skkernel.backend import _backend
    from skkernel.dpp import FeatureMapBasis, _bases

    class DevicePool:
        __module__ = "cupy"  # what is_cupy_array reads

        def __init__(self, host):
            self.host = host

        def get(self):
            return self.host

    seen = []

    def array_module(backend):
        seen.append(backend)
        return np, scipy.sparse

    monkeypatch.setattr(_backend, "_cupy_usable", lambda: True)
    monkeypatch.setattr(_bases, "get_array_module", array_module)
    monkeypatch.setattr(_bases, "to_device", lambda a, backend: a)
    pool = np.linspace(0, 1, 50)[:, None]
    basis = FeatureMapBasis(lambda X: np.hstack([X**0, X]), DevicePool(pool))
    assert seen == ["cupy"]
    np.testing.assert_allclose(basis.leverage.sum(), 100.0)


@pytest.mark.gpu
def test_cupy_input_weights_and_output():
    import cupy

    rng = np.random.RandomState(0)
    X = rng.uniform(0, 2, (80, 1))
    y = np.cos(2 * X[:, 0])
    sw = rng.uniform(0.5, 1.5, 80)
    host = DPPWeightedLeastSquares(backend="numpy").fit(X, y, sample_weight=sw)
    gpu = DPPWeightedLeastSquares().fit(cupy.asarray(X), cupy.asarray(y),
                                        sample_weight=cupy.asarray(sw))
    assert gpu.backend_ == "cupy" and isinstance(gpu.coef_, np.ndarray)
    out = gpu.predict(cupy.asarray(X))
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_allclose(out.get(), host.predict(X), rtol=1e-10, atol=1e-12)
