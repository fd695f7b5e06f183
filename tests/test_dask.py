"""Running on Dask: joblib's dask backend and dask-ml's wrappers.

skkernel has no scheduler of its own. Model selection scales out through
``joblib.parallel_backend("dask")`` (each fit is a task on a worker), and
prediction or transformation of a large array through
``dask_ml.wrappers.ParallelPostFit`` (each chunk is a task). These tests run
a local in-process cluster and check that both give the same numbers as the
in-memory run.
"""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import make_blobs, make_regression
from sklearn.model_selection import GridSearchCV, KFold

from skkernel.datasets import make_ad_hoc
from skkernel.linear_model import SketchedLinearRegression
from skkernel.manifold import HeatGeodesicEmbedding
from skkernel.manifold._datasets import make_stretched_swiss_roll
from skkernel.svm import QuantumKernelSVC

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def client():
    # Threads in this process: no pickling of the test module, fast start.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def _grid_results(search):
    return (search.best_params_, search.cv_results_["mean_test_score"],
            search.cv_results_["std_test_score"])


@pytest.mark.parametrize(
    "estimator, grid, data",
    [
        (SketchedLinearRegression(random_state=0),
         {"solver": ["sap", "sketch_and_solve"], "alpha": [0.0, 1.0]},
         make_regression(600, 8, noise=5.0, random_state=0)),
        (QuantumKernelSVC(reps=1, random_state=0),
         {"C": [0.5, 2.0], "alpha": [0.5, 1.0]},
         make_blobs(60, n_features=2, centers=2, random_state=0)),
    ],
    ids=["SketchedLinearRegression", "QuantumKernelSVC"],
)
def test_grid_search_on_the_dask_joblib_backend_matches_local(client, estimator, grid,
                                                              data):
    X, y = data
    cv = KFold(3, shuffle=True, random_state=0)
    local = GridSearchCV(estimator, grid, cv=cv).fit(X, y)
    with parallel_backend("dask"):
        remote = GridSearchCV(estimator, grid, cv=cv, n_jobs=-1).fit(X, y)
    best_local, mean_local, std_local = _grid_results(local)
    best_remote, mean_remote, std_remote = _grid_results(remote)
    assert best_remote == best_local
    np.testing.assert_allclose(mean_remote, mean_local, rtol=1e-12)
    np.testing.assert_allclose(std_remote, std_local, rtol=1e-12, atol=1e-15)
    # The refit estimator predicts like the local one.
    np.testing.assert_allclose(remote.predict(X), local.predict(X), rtol=1e-12)


def test_neural_grid_search_on_the_dask_joblib_backend_matches_local(client):
    pytest.importorskip("torch")
    from skkernel.neural import NeuralNetClassifier

    X, y = make_blobs(90, n_features=3, centers=3, random_state=0)
    grid = {"lr": [1e-3, 1e-2], "module__hidden_layer_sizes": [(8,), (16,)]}
    estimator = NeuralNetClassifier(max_epochs=5, n_jobs=1, random_state=0)
    cv = KFold(3, shuffle=True, random_state=0)
    local = GridSearchCV(estimator, grid, cv=cv).fit(X, y)
    with parallel_backend("dask"):
        remote = GridSearchCV(estimator, grid, cv=cv, n_jobs=-1).fit(X, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def test_parallel_post_fit_predicts_chunk_by_chunk(client):
    X, y = make_regression(2000, 10, noise=1.0, random_state=1)
    model = SketchedLinearRegression(random_state=0).fit(X, y)
    wrapped = wrappers.ParallelPostFit(model)
    out = wrapped.predict(da.from_array(X, chunks=500))
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), model.predict(X), rtol=1e-12)


def test_parallel_post_fit_classifies_chunk_by_chunk(client):
    # The paper's ad hoc data: separable by the ZZ-feature-map kernel.
    X, y, X_test, y_test = make_ad_hoc(20, 100, random_state=0)
    model = QuantumKernelSVC(random_state=0).fit(X, y)
    wrapped = wrappers.ParallelPostFit(model)
    labels = wrapped.predict(da.from_array(X_test, chunks=50)).compute()
    np.testing.assert_array_equal(labels, model.predict(X_test))
    assert (labels == y_test).mean() >= 0.95


def test_parallel_post_fit_transforms_new_samples(client):
    X, _, _ = make_stretched_swiss_roll(900, noise=0.1, random_state=0)
    train, new = X[:600], X[600:]
    model = HeatGeodesicEmbedding(n_neighbors=8, n_landmarks=200,
                                  random_state=0).fit(train)
    wrapped = wrappers.ParallelPostFit(model)
    out = wrapped.transform(da.from_array(new, chunks=100)).compute()
    # Out-of-sample placement is per sample, so chunking changes nothing.
    np.testing.assert_allclose(out, model.transform(new), rtol=1e-10, atol=1e-10)


def test_incremental_streams_dask_blocks_through_partial_fit(client):
    # Streaming sketch-and-solve: the sketch of the blocks, summed, is the
    # sketch of the whole, so the blockwise fit equals the in-memory one.
    X, y = make_regression(3000, 6, noise=1.0, random_state=2)
    params = dict(solver="sketch_and_solve", sketch="countsketch", random_state=4)
    full = SketchedLinearRegression(**params).fit(X, y)
    inc = wrappers.Incremental(SketchedLinearRegression(**params), shuffle_blocks=False)
    inc.fit(da.from_array(X, chunks=700), da.from_array(y, chunks=700))
    np.testing.assert_allclose(inc.estimator_.coef_, full.coef_, rtol=1e-10)
    np.testing.assert_allclose(inc.estimator_.intercept_, full.intercept_, rtol=1e-10)


@pytest.mark.parametrize("name", ["FastRP", "HeatGeodesicEmbedding", "QuantumKernelSVC",
                                  "SketchedLinearRegression", "LewisWeightRegression",
                                  "DPPWeightedLeastSquares"])
def test_fitted_estimators_survive_cloudpickle(name):
    # distributed ships estimators with cloudpickle.
    cloudpickle = pytest.importorskip("cloudpickle")
    from skkernel.utils import all_estimators
    from skkernel.utils._test_common import TEST_PARAMS

    cls = dict(all_estimators())[name]
    rng = np.random.RandomState(0)
    if name == "FastRP":
        A = (rng.rand(30, 30) < 0.2).astype(float)
        X, y = A + A.T, None
    else:
        X = rng.uniform(-1.0, 1.0, size=(60, 2))
        y = (X[:, 0] > 0).astype(int) if name == "QuantumKernelSVC" else X @ [1.0, -2.0]
    est = cls(**TEST_PARAMS.get(name, {}))
    est.fit(X) if y is None else est.fit(X, y)
    copy = cloudpickle.loads(cloudpickle.dumps(est))
    if hasattr(est, "predict"):
        np.testing.assert_array_equal(copy.predict(X), est.predict(X))
    elif hasattr(est, "transform"):
        np.testing.assert_array_equal(copy.transform(X), est.transform(X))
    else:
        np.testing.assert_array_equal(copy.embedding_, est.embedding_)
