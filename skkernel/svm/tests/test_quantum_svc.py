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
    assert ours.backend_ == backend and ours.kernel_.backend == backend


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
    with pytest.raises(ValueError, match="sample_weight is zero for every sample"):
        QuantumKernelSVC().fit(X_train, y_train, sample_weight=np.zeros(40))
    for params, message in [
        ({"shots": 0}, "shots must be None .* positive integer, got 0"),
        ({"noise": 2.0}, r"noise .* must be in \[0, 1\], got 2.0"),
        ({"entanglement": "star"}, "entanglement must be one of .* got 'star'"),
        ({"C": 0.0}, "C == 0.0, must be > 0.0"),
        ({"tol": -1.0}, "tol == -1.0, must be > 0.0"),
        ({"probability": "yes"}, "probability must be one of"),
        ({"decision_function_shape": "ova"}, "decision_function_shape must be one"),
        ({"reps": 0}, "reps == 0, must be >= 1"),
        ({"backend": "gpu"}, "backend must be one of .* got 'gpu'"),
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
