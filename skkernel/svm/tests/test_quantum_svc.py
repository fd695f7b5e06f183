"""QuantumKernelSVC: the paper's ad hoc result, SVC equivalence, tuning, errors."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from skkernel.datasets import make_ad_hoc
from skkernel.kernels import ZZFeatureMapKernel
from skkernel.svm import QuantumKernelSVC


@pytest.fixture(scope="module")
def ad_hoc():
    # The paper's setting: 2 qubits, gap 0.3, 20 training / 5 test per class.
    return make_ad_hoc(20, 5, n_qubits=2, gap=0.3, random_state=0)


def test_ad_hoc_exact_kernel_is_perfect(ad_hoc):
    X_train, y_train, X_test, y_test = ad_hoc
    clf = QuantumKernelSVC(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_ad_hoc_with_1024_shots(seed):
    X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, random_state=seed)
    clf = QuantumKernelSVC(shots=1024, random_state=seed).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95


def test_same_as_svc_with_the_kernel_object(ad_hoc, backend):
    X_train, y_train, X_test, _ = ad_hoc
    ours = QuantumKernelSVC(C=3.0, reps=3, entanglement="linear", backend=backend)
    ours.fit(X_train, y_train)
    kernel = ZZFeatureMapKernel(reps=3, entanglement="linear", backend="numpy")
    reference = SVC(C=3.0, kernel=kernel).fit(X_train, y_train)
    # Predictions use the support vectors only; the result is the same.
    np.testing.assert_allclose(ours.decision_function(X_test),
                               reference.decision_function(X_test), atol=1e-8)
    np.testing.assert_array_equal(ours.support_, reference.support_)
    np.testing.assert_array_equal(ours.support_vectors_, X_train[ours.support_])
    # The stored kernel resolves its backend at each call (loads anywhere).
    assert ours.backend_ == backend and ours.kernel_.backend == "auto"


def test_grid_search_tunes_kernel_and_svm_parameters(ad_hoc):
    X_train, y_train, X_test, y_test = ad_hoc
    search = GridSearchCV(
        QuantumKernelSVC(random_state=0),
        {"reps": [1, 2], "entanglement": ["full", "linear"], "C": [0.5, 5.0]},
        cv=3,
    ).fit(X_train, y_train)
    assert set(search.best_params_) == {"reps", "entanglement", "C"}
    assert search.best_params_["reps"] == 2  # the map that made the labels
    assert search.score(X_test, y_test) == 1.0


def test_predict_proba_only_with_probability(ad_hoc):
    X_train, y_train, X_test, y_test = ad_hoc
    clf = QuantumKernelSVC(random_state=0).fit(X_train, y_train)
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(AttributeError, match="no attribute 'predict_proba'") as info:
        clf.predict_proba(X_test)
    assert "only when probability=True" in str(info.value.__cause__)
    clf = QuantumKernelSVC(probability=True, random_state=0).fit(X_train, y_train)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (10, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(clf.classes_[proba.argmax(axis=1)] == y_test) >= 0.9
    np.testing.assert_allclose(clf.predict_log_proba(X_test), np.log(proba))
    again = QuantumKernelSVC(probability=True, random_state=0).fit(X_train, y_train)
    np.testing.assert_array_equal(again.predict_proba(X_test), proba)


def test_shots_are_reproducible_with_an_int_seed(ad_hoc):
    X_train, y_train, X_test, _ = ad_hoc
    a = QuantumKernelSVC(shots=256, random_state=3).fit(X_train, y_train)
    b = QuantumKernelSVC(shots=256, random_state=3).fit(X_train, y_train)
    np.testing.assert_array_equal(a.dual_coef_, b.dual_coef_)
    np.testing.assert_array_equal(a.decision_function(X_test),
                                  b.decision_function(X_test))


def test_multiclass_and_sample_weight():
    rng = np.random.RandomState(0)
    centres = rng.uniform(0, 2 * np.pi, size=(3, 2))
    X = np.concatenate([c + 0.05 * rng.randn(10, 2) for c in centres])
    y = np.repeat(["a", "b", "c"], 10)
    clf = QuantumKernelSVC(reps=1, C=10.0).fit(X, y)
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert clf.decision_function(X).shape == (30, 3)
    assert clf.score(X, y) == 1.0
    weighted = QuantumKernelSVC(reps=1, C=10.0).fit(X, y, sample_weight=np.ones(30))
    np.testing.assert_allclose(weighted.dual_coef_, clf.dual_coef_)


def test_bad_input_gets_clear_errors(ad_hoc):
    X_train, y_train, X_test, _ = ad_hoc
    clf = QuantumKernelSVC().fit(X_train, y_train)
    with pytest.raises(ValueError, match="X has 3 features, but QuantumKernelSVC is "
                       "expecting 2 features"):
        clf.predict(np.hstack([X_test, X_test[:, :1]]))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        QuantumKernelSVC().fit(np.where(X_train > 6, np.nan, X_train), y_train)
    with pytest.raises(ValueError, match="number of classes has to be greater"):
        QuantumKernelSVC().fit(X_train, np.zeros(40))
    with pytest.raises(ValueError, match="sample_weight is all zero"):
        QuantumKernelSVC().fit(X_train, y_train, sample_weight=np.zeros(40))
    with pytest.raises(ValueError, match="got 1 class in y .*positive weight"):
        QuantumKernelSVC().fit(X_train, y_train, sample_weight=y_train == 1)
    for params, message in [
        ({"shots": 0}, r"'shots' parameter of QuantumKernelSVC must be an int in "
                       r"the range \[1, inf\) or None. Got 0 instead"),
        ({"noise": 2.0}, r"'noise' parameter .* in the range \[0, 1\]. Got 2.0"),
        ({"entanglement": "star"}, "'entanglement' parameter .*'full'.* Got 'star'"),
        ({"entanglement": [(0, 0)]}, "entanglement must be one of .*pairs"),
        ({"C": 0.0}, r"'C' parameter .* range \(0, inf\). Got 0.0"),
        ({"tol": -1.0}, r"'tol' parameter .* range \(0, inf\). Got -1.0"),
        ({"probability": "yes"}, "'probability' parameter .* must be a bool"),
        ({"decision_function_shape": "ova"}, "'decision_function_shape' parameter"),
        ({"reps": 0}, r"'reps' parameter .* range \[1, inf\). Got 0"),
        ({"backend": "gpu"}, "'backend' parameter .* must be one of .* Got 'gpu'"),
        ({"n_jobs": 0}, "'n_jobs' parameter .* Got 0"),
    ]:
        est = QuantumKernelSVC(**params)
        with pytest.raises(ValueError, match=message):
            est.fit(X_train, y_train)
        assert not hasattr(est, "svc_")  # nothing half-written


def test_noise_lowers_kernel_contrast_but_still_classifies(ad_hoc):
    X_train, y_train, X_test, y_test = ad_hoc
    clf = QuantumKernelSVC(noise=0.2, shots=1024, random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.9


@pytest.mark.gpu
def test_cupy_input_gives_cupy_output(ad_hoc):
    import cupy

    X_train, y_train, X_test, y_test = ad_hoc
    clf = QuantumKernelSVC().fit(cupy.asarray(X_train), cupy.asarray(y_train))
    assert clf.backend_ == "cupy" and isinstance(clf.support_vectors_, np.ndarray)
    scores = clf.decision_function(cupy.asarray(X_test))
    assert isinstance(scores, cupy.ndarray)
    reference = QuantumKernelSVC(backend="numpy").fit(X_train, y_train)
    np.testing.assert_allclose(scores.get(), reference.decision_function(X_test),
                               atol=1e-8)


def test_integer_sample_weight_equals_repeated_rows():
    # The common check for this is waived (its data has 30 qubits); with a
    # tight tolerance libsvm's per-sample C matches repeating rows here.
    X, y, X_test, _ = make_ad_hoc(10, 5, random_state=0)
    weights = np.random.RandomState(0).randint(1, 4, size=len(y))
    weighted = QuantumKernelSVC(tol=1e-8).fit(X, y, sample_weight=weights)
    repeated = QuantumKernelSVC(tol=1e-8).fit(np.repeat(X, weights, axis=0),
                                              np.repeat(y, weights))
    np.testing.assert_allclose(weighted.decision_function(X_test),
                               repeated.decision_function(X_test), atol=1e-6)


def test_explicit_pairs_and_custom_data_map_survive_clone(ad_hoc):
    from sklearn.base import clone

    X_train, y_train, X_test, _ = ad_hoc

    def data_map(x):
        return x[0] if len(x) == 1 else np.cos(x[0] - x[1])

    clf = QuantumKernelSVC(entanglement=[(0, 1), (1, 0)], data_map=data_map)
    twin = clone(clf)
    assert twin.entanglement == [(0, 1), (1, 0)] and twin.data_map is data_map
    kernel = ZZFeatureMapKernel(entanglement=[(0, 1), (1, 0)], data_map=data_map)
    np.testing.assert_allclose(
        twin.fit(X_train, y_train).decision_function(X_test),
        SVC(kernel=kernel).fit(X_train, y_train).decision_function(X_test),
        atol=1e-8,
    )


@pytest.mark.parametrize("name", ["C", "alpha", "noise", "tol", "cache_size"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_float_parameters_are_rejected(ad_hoc, name, value):
    X_train, y_train, _, _ = ad_hoc
    est = QuantumKernelSVC(**{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter of QuantumKernelSVC "
                                         "must be a finite float"):
        est.fit(X_train, y_train)
    assert not hasattr(est, "svc_")


def test_zero_sample_weights_drop_rows_and_support_indexes_the_input(ad_hoc):
    # libsvm drops zero-weight rows itself and renumbers the rest; before the
    # fix support_ pointed at the wrong rows and test accuracy fell to 0.4.
    X_train, y_train, X_test, y_test = ad_hoc
    weights = np.ones(len(y_train))
    weights[::3] = 0.0
    clf = QuantumKernelSVC(random_state=0).fit(X_train, y_train,
                                               sample_weight=weights)
    kept = np.flatnonzero(weights > 0)
    reference = QuantumKernelSVC(random_state=0).fit(X_train[kept], y_train[kept])
    np.testing.assert_array_equal(clf.support_, kept[reference.support_])
    assert np.all(weights[clf.support_] > 0)
    np.testing.assert_array_equal(clf.support_vectors_, X_train[clf.support_])
    np.testing.assert_allclose(clf.decision_function(X_test),
                               reference.decision_function(X_test), atol=1e-10)
    assert clf.score(X_test, y_test) == 1.0


def test_fitted_on_cupy_predicts_where_there_is_no_gpu(ad_hoc, monkeypatch):
    # A model fitted with backend="cupy" and loaded on a machine without a
    # GPU must predict (it used to keep a kernel bound to "cupy"). The GPU is
    # simulated: cupy "available", the device arrays being numpy's.
    import pickle

    import scipy.sparse

    from skkernel.backend import _backend
    from skkernel.kernels import _zz_feature_map

    X_train, y_train, X_test, _ = ad_hoc
    expected = QuantumKernelSVC(backend="numpy").fit(X_train, y_train)
    with monkeypatch.context() as gpu:
        gpu.setattr(_backend, "_cupy_usable", lambda: True)
        gpu.setattr(_zz_feature_map, "to_device", lambda a, backend: a)
        gpu.setattr(_zz_feature_map, "get_array_module",
                    lambda backend: (np, scipy.sparse))
        clf = QuantumKernelSVC(backend="cupy").fit(X_train, y_train)
        assert clf.backend_ == "cupy"
        saved = pickle.dumps(clf)
    monkeypatch.setattr(_backend, "_cupy_usable", lambda: False)
    loaded = pickle.loads(saved)
    np.testing.assert_allclose(loaded.decision_function(X_test),
                               expected.decision_function(X_test), atol=1e-10)


def test_string_labels_stay_numpy_and_pickled_model_predicts(ad_hoc):
    import pickle

    X_train, y_train, X_test, _ = ad_hoc
    labels = np.array(["minus", "plus"])[y_train]
    clf = QuantumKernelSVC(random_state=0).fit(X_train, labels)
    restored = pickle.loads(pickle.dumps(clf))
    predicted = restored.predict(X_test)
    assert isinstance(predicted, np.ndarray) and predicted.dtype.kind == "U"
    np.testing.assert_array_equal(predicted, clf.predict(X_test))


@pytest.mark.gpu
def test_cupy_sample_weight_and_string_labels(ad_hoc):
    import cupy

    X_train, y_train, X_test, _ = ad_hoc
    labels = np.array(["minus", "plus"])[y_train]
    weights = np.ones(len(y_train))
    weights[::4] = 0.0
    clf = QuantumKernelSVC(random_state=0).fit(
        cupy.asarray(X_train), labels, sample_weight=cupy.asarray(weights))
    reference = QuantumKernelSVC(backend="numpy", random_state=0).fit(
        X_train, labels, sample_weight=weights)
    assert clf.backend_ == "cupy"
    predicted = clf.predict(cupy.asarray(X_test))
    assert isinstance(predicted, np.ndarray)  # strings have no device type
    np.testing.assert_array_equal(predicted, reference.predict(X_test))
    np.testing.assert_array_equal(clf.support_, reference.support_)
