"""The torch wrapper: weights, seeding, callbacks, persistence, bad input."""

import io
import pickle
import sys

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch = pytest.importorskip("torch")

from skkernel.neural import (  # noqa: E402
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    History,
    LRScheduler,
    NeuralNetClassifier,
    NeuralNetRegressor,
)


def _params(est):
    state = est.module_.state_dict()
    return {k: v.detach().cpu().numpy().copy() for k, v in state.items()}


def _regression(n=60, p=4, seed=0):
    X, y = make_regression(n, p, noise=0.5, random_state=seed)
    return StandardScaler().fit_transform(X), y / y.std()


# ------------------------------------------------------------------ weights


@pytest.mark.parametrize("Est", [NeuralNetRegressor, NeuralNetClassifier])
def test_weight_two_equals_repeating_the_row(Est):
    X, y = _regression(40)
    if Est is NeuralNetClassifier:
        y = (y > 0).astype(int)
    w = np.ones(len(y))
    w[:7] = 2.0
    X_rep, y_rep = np.vstack([X, X[:7]]), np.concatenate([y, y[:7]])
    kw = dict(batch_size=None, dtype="float64", max_epochs=15, lr=1e-2, random_state=3)
    weighted = Est(**kw).fit(X, y, sample_weight=w)
    repeated = Est(**kw).fit(X_rep, y_rep)
    for name, value in _params(weighted).items():
        np.testing.assert_allclose(value, _params(repeated)[name], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(weighted.history_[:, "train_loss"],
                               repeated.history_[:, "train_loss"], rtol=1e-9)


def test_zero_weight_rows_are_left_out_and_weights_follow_their_rows():
    # Mini-batches and a validation split: the weights must travel with their
    # rows. Rows with weight 0 then change nothing but the batch layout, so
    # full-batch training equals training without them.
    X, y = _regression(50)
    w = np.ones(len(y))
    w[::5] = 0.0
    kw = dict(batch_size=None, dtype="float64", max_epochs=10, random_state=1)
    a = NeuralNetRegressor(**kw).fit(X, y, sample_weight=w)
    b = NeuralNetRegressor(**kw).fit(X[w > 0], y[w > 0])
    for name, value in _params(a).items():
        np.testing.assert_allclose(value, _params(b)[name], rtol=1e-6, atol=1e-9)
    # With a validation split, the validation loss is the weighted one: a
    # huge error on zero-weight rows must not show in it.
    y_bad = y.copy()
    y_bad[w == 0] = 1e6
    reg = NeuralNetRegressor(max_epochs=3, validation_fraction=0.3, random_state=0)
    reg.fit(X, y_bad, sample_weight=w)
    assert max(reg.history_[:, "valid_loss"]) < 100
    assert max(reg.history_[:, "train_loss"]) < 100


# ------------------------------------------------------------------ seeding


def test_same_seed_is_bit_identical_and_leaves_global_rng_alone():
    X, y = make_blobs(120, 5, centers=3, random_state=0)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    kw = dict(max_epochs=5, batch_size=16, module_kwargs={"dropout": 0.2},
              validation_fraction=0.2, random_state=7)
    a = NeuralNetClassifier(**kw).fit(X, y)
    b = NeuralNetClassifier(**kw).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    for name, value in _params(a).items():
        np.testing.assert_array_equal(value, _params(b)[name])
    assert a.history_[:, "valid_loss"] == b.history_[:, "valid_loss"]
    c = NeuralNetClassifier(**{**kw, "random_state": 8}).fit(X, y)
    w_a, w_c = _params(a)["layers.0.weight"], _params(c)["layers.0.weight"]
    assert not np.array_equal(w_a, w_c)


# ------------------------------------------------------------------ API


def test_string_labels_classes_and_proba():
    X, y = make_blobs(90, 3, centers=3, random_state=1)
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = NeuralNetClassifier(max_epochs=30, lr=1e-2, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    assert proba.dtype == np.float64
    assert clf.score(X, labels) > 0.95
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])


def test_multi_output_regression_and_input_types():
    X, y = _regression(80)
    Y = np.column_stack([y, -2 * y])
    reg = NeuralNetRegressor(max_epochs=40, lr=1e-2, dtype="float64",
                             random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (80, 2) and reg.n_outputs_ == 2
    assert reg.score(X, Y) > 0.8
    # sparse, torch and pandas inputs give the numpy answer
    kw = dict(max_epochs=3, dtype="float64", random_state=0)
    dense = NeuralNetRegressor(**kw).fit(X, y)
    for X_in in (sp.csr_matrix(X), torch.as_tensor(X)):
        other = NeuralNetRegressor(**kw).fit(X_in, y)
        np.testing.assert_allclose(other.predict(X_in), dense.predict(X), rtol=1e-10)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    fitted = NeuralNetRegressor(**kw).fit(frame, y)
    np.testing.assert_array_equal(fitted.feature_names_in_, frame.columns)
    np.testing.assert_allclose(fitted.predict(frame), dense.predict(X), rtol=1e-10)


def test_pipeline_and_grid_search_over_lr_and_module_kwargs():
    X, y = make_classification(150, 6, random_state=0)
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(max_epochs=20,
                                                              random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.85
    grid = {"lr": [1e-3, 1e-2],
            "module__hidden_layer_sizes": [(8,), (16, 16)]}
    search = GridSearchCV(NeuralNetClassifier(max_epochs=5, random_state=0),
                          grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best.module_kwargs == {"hidden_layer_sizes":
                                  search.best_params_["module__hidden_layer_sizes"]}
    hidden = search.best_params_["module__hidden_layer_sizes"]
    assert best.module_.layers[0].out_features == hidden[0]
    search2 = GridSearchCV(NeuralNetClassifier(max_epochs=5, random_state=0),
                           {"module_kwargs": [{"hidden_layer_sizes": (8,)}]}, cv=2)
    assert search2.fit(X, y).best_estimator_.module_.layers[0].out_features == 8


def test_set_params_routing_and_typos():
    net = NeuralNetClassifier(module_kwargs={"dropout": 0.1})
    before = net.module_kwargs
    net.set_params(module__hidden_layer_sizes=(4,), optimizer__weight_decay=1e-4)
    assert net.module_kwargs == {"dropout": 0.1, "hidden_layer_sizes": (4,)}
    assert before == {"dropout": 0.1}  # the old dict is not mutated
    assert net.optimizer_kwargs == {"weight_decay": 1e-4}
    with pytest.raises(ValueError, match="Did you mean 'module__hidden'"):
        net.set_params(modul__hidden=3)
    with pytest.raises(ValueError, match="Did you mean 'max_epochs'"):
        net.set_params(max_epoch=3)
    X, y = make_blobs(30, 2, random_state=0)
    with pytest.raises(ValueError, match="did you mean 'hidden_layer_sizes'"):
        NeuralNetClassifier(module_kwargs={"hiden_layer_sizes": (3,)}).fit(X, y)
    with pytest.raises(ValueError, match="did you mean 'momentum'"):
        NeuralNetClassifier(optimizer="sgd", optimizer_kwargs={"momentun": 0.9},
                            max_epochs=1).fit(X, y)


def test_parameters_are_never_mutated():
    X, y = make_blobs(40, 3, random_state=0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 3))
    weights = module[0].weight.detach().clone()
    stopper = EarlyStopping(patience=1)
    net = NeuralNetClassifier(module, callbacks=[stopper], max_epochs=5, lr=0.1,
                              random_state=0).fit(X, y)
    assert torch.equal(module[0].weight, weights)
    assert not hasattr(stopper, "_wait") and net.callbacks_[0] is not stopper


def test_partial_fit_and_warm_start_continue():
    X, y = make_blobs(60, 3, random_state=0)
    net = NeuralNetClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        net.partial_fit(X, y)
    assert not hasattr(net, "module_")
    net.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
    net.partial_fit(X[30:], y[30:])
    assert len(net.history_) == 2 and net.n_iter_ == 1
    with pytest.raises(ValueError, match="not in classes_"):
        net.partial_fit(X, y + 5)
    reg = NeuralNetRegressor(max_epochs=3, warm_start=True, random_state=0)
    X2, y2 = _regression(30)
    reg.fit(X2, y2)
    first = _params(reg)
    reg.fit(X2, y2)
    assert len(reg.history_) == 6 and reg.n_iter_ == 3
    assert not np.array_equal(first["layers.0.weight"], _params(reg)["layers.0.weight"])
    with pytest.raises(ValueError, match="features"):
        reg.fit(X2[:, :2], y2)


# ------------------------------------------------------------------ callbacks


def test_early_stopping_restores_best_weights():
    X, y = _regression(120)
    net = NeuralNetRegressor(max_epochs=200, lr=0.05, validation_fraction=0.25,
                             callbacks=[EarlyStopping(patience=3)], random_state=0)
    net.fit(X, y)
    stopper = net.callbacks_[0]
    assert net.n_iter_ < 200 and stopper.stopped_epoch_ == net.n_iter_
    losses = net.history_[:, "valid_loss"]
    assert stopper.best_epoch_ == int(np.argmin(losses)) + 1
    assert net.history_[stopper.best_epoch_ - 1, "valid_loss_best"]


def test_lr_schedule_checkpoint_and_scoring(tmp_path):
    X, y = make_blobs(80, 3, random_state=0)
    path = tmp_path / "best.pt"
    net = NeuralNetClassifier(
        max_epochs=6, validation_fraction=0.25, random_state=0,
        callbacks=[LRScheduler("step", step_size=2, gamma=0.5),
                   Checkpoint(path, monitor="valid_accuracy", load_best=True),
                   EpochScoring("accuracy")],
    )
    # callbacks run in order: the checkpoint monitors a score added later
    with pytest.raises(ValueError, match="valid_accuracy"):
        clone(net).fit(X, y)
    net.set_params(callbacks=net.callbacks[::-1])
    net.fit(X, y)
    np.testing.assert_allclose(net.history_[:, "lr"],
                               [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4])
    assert all(0 <= a <= 1 for a in net.history_[:, "valid_accuracy"])
    assert path.exists() and net.callbacks_[1].best_epoch_ is not None
    saved = torch.load(path)
    for k, v in net.module_.state_dict().items():
        assert torch.equal(saved[k], v)
    with pytest.raises(ValueError, match="holds none"):
        NeuralNetClassifier(max_epochs=1,
                            callbacks=[EpochScoring("accuracy")]).fit(X, y)


def test_history_slicing():
    h = History([{"epoch": 1, "a": 1.0}, {"epoch": 2, "a": 0.5, "b": 3}])
    assert h[:, "a"] == [1.0, 0.5] and h[:, "b"] == [3]
    assert h[-1, "epoch"] == 2 and isinstance(h[:1], History)


# ------------------------------------------------------------------ persistence


def test_pickle_joblib_and_cuda_trained_model_loads_on_cpu():
    X, y = make_blobs(50, 3, random_state=0)
    net = NeuralNetClassifier(max_epochs=3, random_state=0).fit(X, y)
    expected = net.predict_proba(X)
    buffer = io.BytesIO()
    joblib.dump(net, buffer)
    buffer.seek(0)
    for loaded in (pickle.loads(pickle.dumps(net)), joblib.load(buffer)):
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    # The state of a model trained on a GPU, as a CPU-only machine sees it.
    net.device_ = "cuda:0"
    payload = pickle.dumps(net)
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="loading it on the CPU"):
            loaded = pickle.loads(payload)
        assert loaded.device_ == "cpu"
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    # a continued partial_fit after loading works (optimizer and module share)
    loaded.partial_fit(X, y)
    assert len(loaded.history_) == 4


# ------------------------------------------------------------------ bad input


def test_bad_input_errors():
    X, y = make_blobs(30, 4, centers=3, random_state=0)
    with pytest.raises(ValueError, match=r"output has shape \(2, 5\).*3: \[0, 1, 2\]"):
        NeuralNetClassifier(torch.nn.Linear(4, 5)).fit(X, y)
    with pytest.raises(ValueError, match=r"input width match n_features_in_=4"):
        NeuralNetClassifier(torch.nn.Linear(3, 3)).fit(X, y)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        NeuralNetClassifier().fit(X_nan, y)
    y_nan = y.astype(float)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        NeuralNetRegressor().fit(X, y_nan)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        NeuralNetClassifier().fit(X, y_nan)
    with pytest.raises(ValueError, match=r"'cuda:3' does not exist: torch sees"):
        NeuralNetClassifier(device="cuda:3").fit(X, y)
    with pytest.raises(ValueError, match="'device' parameter of NeuralNetClassifier"):
        NeuralNetClassifier(device="tpu").fit(X, y)
    with pytest.raises(ValueError, match="remove 'reduction'"):
        NeuralNetClassifier(criterion_kwargs={"reduction": "sum"}).fit(X, y)
    with pytest.raises(ValueError, match="diverged"):
        NeuralNetRegressor(optimizer="sgd", lr=1e12, max_epochs=50).fit(X, y * 1e3)
    net = NeuralNetClassifier()
    with pytest.raises(ValueError, match="'lr' parameter"):
        net.set_params(lr=0).fit(X, y)
    assert not hasattr(net, "module_")


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    X, y = make_blobs(20, 2, random_state=0)
    with pytest.raises(ImportError, match=r"skkernel\[neural\]"):
        NeuralNetClassifier().fit(X, y)


def test_verbose_progress(capsys):
    X, y = make_blobs(20, 2, random_state=0)
    NeuralNetClassifier(max_epochs=2, verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "NeuralNetClassifier epochs" in err


@pytest.mark.gpu
def test_cupy_input_trains_on_the_gpu_without_a_host_copy():
    cupy = pytest.importorskip("cupy")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    X, y = _regression(64)
    kw = dict(max_epochs=5, dtype="float64", random_state=0)
    gpu = NeuralNetRegressor(device="cuda", **kw).fit(cupy.asarray(X), y)
    assert gpu.device_ == "cuda:0"
    out = gpu.predict(cupy.asarray(X))
    assert isinstance(out, cupy.ndarray)
    cpu = NeuralNetRegressor(**kw).fit(X, y)
    # same seed, different device kernels: equal to rounding, not bitwise
    np.testing.assert_allclose(cupy.asnumpy(out), cpu.predict(X), rtol=1e-6, atol=1e-8)
    loaded = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(loaded.predict(X), cpu.predict(X), rtol=1e-6, atol=1e-8)
