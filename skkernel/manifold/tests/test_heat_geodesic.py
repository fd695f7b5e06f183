"""HeatGeodesicEmbedding: values against an expm oracle, options, errors."""

import numpy as np
import pytest
from scipy.linalg import expm
from sklearn.datasets import make_swiss_roll
from sklearn.metrics import pairwise_distances

from skkernel.manifold import HeatGeodesicEmbedding
from skkernel.manifold._datasets import (
    distance_correlations,
    make_dla_tree,
    make_stretched_swiss_roll,
    swiss_roll_geodesic_distances,
    tree_geodesic_distances,
)
from skkernel.manifold._graph import graph_laplacian


@pytest.fixture(scope="module")
def roll():
    X, _ = make_swiss_roll(150, random_state=0)
    return X


def euler_heat_kernel(L, t, steps):
    """Dense backward Euler ``(I + t L / K)^-K``: what the method computes."""
    step = np.linalg.inv(np.eye(L.shape[0]) + (t / steps) * L)
    return np.linalg.matrix_power(step, steps)


def oracle_distances(est, t, harnack=0.0, power=1.0, heat=None):
    """The paper's formula on scipy's expm (or ``heat``) of the fitted graph."""
    L = graph_laplacian(est.affinity_, est.laplacian).toarray()
    H = np.clip(expm(-t * L) if heat is None else heat(L), 0, None)
    diag = np.diag(H)
    sq = -4 * t * np.log(H + 1e-16) + harnack * 4 * t * np.log(
        0.5 * (diag[:, None] + diag[None, :]) + 1e-16)
    D = np.sqrt(np.clip(sq, 0, None)) ** power
    np.fill_diagonal(D, 0)
    return D


@pytest.mark.parametrize("laplacian", ["normalized", "combinatorial"])
@pytest.mark.parametrize("harnack", [0.0, 1.0])
def test_dissimilarity_matches_expm_oracle(roll, backend, laplacian, harnack):
    est = HeatGeodesicEmbedding(n_neighbors=8, t=5.0, laplacian=laplacian,
                                harnack=harnack, mds="classical", random_state=0,
                                backend=backend).fit(roll)
    np.testing.assert_allclose(est.dissimilarity_,
                               oracle_distances(est, 5.0, harnack), atol=1e-6)
    assert est.heat_error_bound_ <= 1e-20


@pytest.mark.parametrize("method", ["exact", "euler"])
def test_other_heat_methods(roll, method):
    # Each method against its own dense oracle: expm for "exact", the dense
    # backward-Euler power (I + t L / K)^-K for "euler" (an exact reference
    # for the method, unlike expm, which it only approximates to O(t^2 / K)).
    est = HeatGeodesicEmbedding(n_neighbors=8, t=2.0, heat_method=method,
                                harnack=0.0, mds="classical",
                                random_state=0).fit(roll)
    heat = None if method == "exact" else (lambda L: euler_heat_kernel(L, 2.0, 30))
    oracle = oracle_distances(est, 2.0, heat=heat)
    near = oracle < 0.5 * oracle.max()  # where H is well above round-off
    np.testing.assert_allclose(est.dissimilarity_[near], oracle[near], rtol=1e-9)
    np.testing.assert_allclose(est.dissimilarity_, oracle, atol=1e-6)
    assert est.order_ == (0 if method == "exact" else 30)


def test_numba_and_numpy_agree(roll, fast_backend):
    kw = dict(n_neighbors=8, t=4.0, random_state=0, denoise=0.5)
    ref = HeatGeodesicEmbedding(backend="numpy", **kw).fit(roll)
    fast = HeatGeodesicEmbedding(backend=fast_backend, **kw).fit(roll)
    np.testing.assert_allclose(fast.dissimilarity_, ref.dissimilarity_, atol=1e-9)
    assert ref.order_ == fast.order_


def test_reproducible_with_random_state(roll):
    a = HeatGeodesicEmbedding(random_state=3).fit_transform(roll)
    b = HeatGeodesicEmbedding(random_state=3).fit_transform(roll)
    np.testing.assert_array_equal(a, b)


def test_embedding_keeps_the_distance_scale(roll):
    est = HeatGeodesicEmbedding(n_neighbors=8, random_state=0).fit(roll)
    E = pairwise_distances(est.embedding_)
    ratio = np.median(E[E > 0]) / np.median(est.dissimilarity_[E > 0])
    assert 0.7 < ratio < 1.3


def test_presets_resolve_and_can_be_overridden(roll):
    phate = HeatGeodesicEmbedding(preset="phate", random_state=0).fit(roll)
    assert (phate.power_, phate.denoise_, phate.mds_weights_) == (2.0, 1.0, "uniform")
    sne = HeatGeodesicEmbedding(preset="sne", t=1.0, random_state=0).fit(roll)
    assert (sne.power_, sne.denoise_, sne.mds_weights_) == (2.0, 0.0, "heat")
    custom = HeatGeodesicEmbedding(preset="phate", denoise=0.25, random_state=0)
    assert custom.fit(roll).denoise_ == 0.25


def test_phate_preset_is_potential_distance(roll):
    # Denoising with rho=1 on squared Varadhan distances is PHATE's potential
    # distance: 4t || log H_i - log H_j ||.
    t = 3.0
    est = HeatGeodesicEmbedding(n_neighbors=8, t=t, preset="phate", harnack=0.0,
                                mds="classical", random_state=0).fit(roll)
    L = graph_laplacian(est.affinity_, "normalized").toarray()
    logH = np.log(np.clip(expm(-t * L), 0, None) + 1e-16)
    expected = 4 * t * pairwise_distances(logH)
    np.testing.assert_allclose(est.dissimilarity_, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mds", ["sgd", "smacof", "classical"])
def test_any_number_of_components(roll, mds):
    Y = HeatGeodesicEmbedding(n_components=3, mds=mds, random_state=0).fit_transform(
        roll)
    assert Y.shape == (150, 3) and np.all(np.isfinite(Y))


def test_knee_t_picks_a_grid_point(roll):
    X = roll[:100]
    est = HeatGeodesicEmbedding(t="knee", random_state=0, mds="classical").fit(X)
    assert np.isclose(est.t_, np.linspace(0.05, 200, 10)).any()
    comb = HeatGeodesicEmbedding(t="knee", laplacian="combinatorial",
                                 random_state=0, mds="classical").fit(X)
    assert comb.t_ < est.t_  # grid divided by the mean degree


def test_knee_t_is_the_same_in_small_column_blocks():
    # 1 MiB of working memory splits the 256 entropy columns into blocks of 14.
    from skkernel import config_context

    X, _, _ = make_stretched_swiss_roll(300, noise=0.1, random_state=1)
    est = HeatGeodesicEmbedding(t="knee", random_state=0, mds="classical")
    default = est.fit(X).t_
    with config_context(working_memory=1):
        assert est.fit(X).t_ == default


@pytest.mark.parametrize("n", [120, 700])  # dense and shift-invert Lanczos
@pytest.mark.parametrize("laplacian", ["normalized", "combinatorial"])
def test_auto_t_is_a_fixed_fraction_of_the_diffusion_time_scale(n, laplacian):
    from skkernel.manifold._heat_geodesic import _AUTO_T_GAP

    X, _, _ = make_stretched_swiss_roll(n, noise=0.3, random_state=2)
    est = HeatGeodesicEmbedding(n_neighbors=10, t="auto", laplacian=laplacian,
                                random_state=0, mds="classical").fit(X)
    W = est.affinity_.toarray()
    degree = W.sum(axis=1)
    if laplacian == "normalized":
        L = np.eye(n) - W / np.sqrt(np.outer(degree, degree))
    else:
        L = np.diag(degree) - W
    gap = np.linalg.eigvalsh(L)[1]  # the graph is connected
    assert est.n_connected_components_ == 1
    cap = 300.0 if laplacian == "normalized" else 300.0 / (W.sum() / n)
    np.testing.assert_allclose(est.t_, min(_AUTO_T_GAP / gap, cap), rtol=1e-6)


def test_auto_t_uses_the_gap_after_the_zero_eigenvalues_of_each_component():
    from skkernel.manifold._graph import graph_laplacian
    from skkernel.manifold._heat import spectral_gap

    rng = np.random.RandomState(0)
    # Two far-apart blobs: two zero eigenvalues, then the gap.
    X = np.vstack([rng.randn(300, 2), rng.randn(300, 2) + 100.0])
    est = HeatGeodesicEmbedding(n_neighbors=10, random_state=0, mds="classical")
    with pytest.warns(UserWarning, match="2 connected components"):
        est.fit(X)
    L = graph_laplacian(est.affinity_, "normalized").toarray()
    values = np.linalg.eigvalsh(L)
    assert values[1] < 1e-10 < values[2]
    gap = spectral_gap(graph_laplacian(est.affinity_, "normalized"), 2,
                       np.random.RandomState(0))
    np.testing.assert_allclose(gap, values[2], rtol=1e-6)
    np.testing.assert_allclose(est.t_, min(0.4 / values[2], 300.0), rtol=1e-6)


def test_landmarks_shapes_and_agreement_with_full(roll):
    # Without the Harnack term, whose diagonal the landmark fit estimates.
    kw = dict(n_neighbors=8, harnack=0.0, random_state=0)
    full = HeatGeodesicEmbedding(**kw).fit(roll)
    lm = HeatGeodesicEmbedding(n_landmarks=50, **kw).fit(roll)
    assert lm.dissimilarity_.shape == (150, 50)
    assert lm.n_landmarks_ == 50 and lm.embedding_.shape == (150, 2)
    # Same heat kernel, so the landmark columns are the full matrix's.
    np.testing.assert_allclose(lm.dissimilarity_,
                               full.dissimilarity_[:, lm.landmark_indices_], atol=1e-9)
    def fit_quality(embedding):
        return np.corrcoef(pairwise_distances(embedding).ravel(),
                           full.dissimilarity_.ravel())[0, 1]

    # A quarter of the samples as landmarks loses little of the full fit.
    assert fit_quality(lm.embedding_) > fit_quality(full.embedding_) - 0.08


def test_landmark_harnack_diagonal_estimate(roll):
    kw = dict(n_neighbors=8, t=5.0, harnack=1.0, random_state=0, mds="classical")
    full = HeatGeodesicEmbedding(**kw).fit(roll)
    lm = HeatGeodesicEmbedding(n_landmarks=60, **kw).fit(roll)
    exact = full.dissimilarity_[:, lm.landmark_indices_]
    # 128 random-sign probes: H_t(x, x) within ~15 %, a small shift in d.
    assert np.median(np.abs(lm.dissimilarity_ - exact)) < 0.05 * np.median(exact)


def test_transform_training_data_returns_embedding(roll):
    est = HeatGeodesicEmbedding(n_landmarks=60, random_state=0).fit(roll)
    np.testing.assert_array_equal(est.transform(roll), est.embedding_)


def test_transform_new_points_lands_near_neighbours():
    X_all, _, t = make_stretched_swiss_roll(420, noise=0.05, n_features=3,
                                            random_state=0)
    X, new = X_all[:400], X_all[400:]
    for n_landmarks in (None, 100):
        est = HeatGeodesicEmbedding(n_neighbors=10, n_landmarks=n_landmarks,
                                    random_state=0).fit(X)
        Y_new = est.transform(new)
        nearest = pairwise_distances(new, X).argmin(axis=1)
        gap = np.linalg.norm(Y_new - est.embedding_[nearest], axis=1)
        spread = np.linalg.norm(np.ptp(est.embedding_, axis=0))
        assert np.median(gap) < 0.05 * spread


def test_set_output_pandas(roll):
    pd = pytest.importorskip("pandas")
    est = HeatGeodesicEmbedding(random_state=0).set_output(transform="pandas")
    out = est.fit_transform(roll)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["heatgeodesicembedding0", "heatgeodesicembedding1"]


def test_quality_on_stretched_swiss_roll():
    X, unrolled, _ = make_stretched_swiss_roll(500, noise=0.1, random_state=42)
    est = HeatGeodesicEmbedding(n_neighbors=10, laplacian="combinatorial",
                                random_state=0).fit(X)
    pearson, spearman = distance_correlations(
        est.dissimilarity_, swiss_roll_geodesic_distances(unrolled))
    assert pearson > 0.9 and spearman > 0.95


def test_generators_shapes_and_ground_truth():
    X, unrolled, t = make_stretched_swiss_roll(100, noise=0.1, n_features=10)
    assert X.shape == (100, 10) and unrolled.shape == (100, 2) and t.shape == (100,)
    Xt, clean, labels = make_dla_tree(3, 40, n_features=5, noise=0.1)
    assert Xt.shape == clean.shape == (120, 5)
    np.testing.assert_array_equal(np.bincount(labels), [40, 40, 40])
    G = tree_geodesic_distances(clean)
    assert np.all(np.isfinite(G)) and np.allclose(G, G.T)
    # The clean tree's geodesics are at least its Euclidean distances.
    assert np.all(G >= pairwise_distances(clean) - 1e-9)


# ------------------------------------------------------------ bad input


def test_n_neighbors_too_large_uses_all_other_samples():
    X = np.random.RandomState(0).randn(10, 3)
    with pytest.warns(UserWarning, match=r"n_neighbors=10 >= n_samples=10: each "
                      r"sample has only 9 other samples, so n_neighbors=9"):
        est = HeatGeodesicEmbedding(n_neighbors=10, random_state=0).fit(X)
    assert est.n_neighbors_ == 9
    ref = HeatGeodesicEmbedding(n_neighbors=9, random_state=0).fit(X)
    np.testing.assert_array_equal(est.dissimilarity_, ref.dissimilarity_)
    new = X[:3] + 0.1
    np.testing.assert_array_equal(est.transform(new), ref.transform(new))
    with pytest.raises(ValueError, match="at least 2 samples, got n_samples=1"):
        HeatGeodesicEmbedding().fit(X[:1])


def test_nan_is_rejected():
    X = np.random.RandomState(0).randn(30, 3)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        HeatGeodesicEmbedding().fit(X)


def test_disconnected_graph_warns_and_stays_finite():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(40, 2), rng.randn(40, 2) + 100])
    with pytest.warns(UserWarning, match="2 connected components"):
        est = HeatGeodesicEmbedding(n_neighbors=5, harnack=0.0,
                                    random_state=0).fit(X)
    assert est.n_connected_components_ == 2
    assert np.all(np.isfinite(est.embedding_))
    ceiling = np.sqrt(-4 * est.t_ * np.log(1e-16))
    np.testing.assert_allclose(est.dissimilarity_[:40, 40:], ceiling, rtol=1e-6)


def test_too_many_landmarks_warns_and_uses_all(roll):
    with pytest.warns(UserWarning, match=r"n_landmarks=500 > n_samples=150"):
        est = HeatGeodesicEmbedding(n_landmarks=500, random_state=0).fit(roll)
    assert est.n_landmarks_ == 150 and est.dissimilarity_.shape == (150, 150)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"laplacian": "random_walk"},
         r"'laplacian' parameter of HeatGeodesicEmbedding must be one of"),
        ({"t": -1.0}, r"'t' parameter .* must be a finite float in the range "
                      r"\(0, inf\) or one of \['auto', 'knee'\]. Got -1.0"),
        ({"t": "elbow"}, r"'t' parameter .* or one of \['auto', 'knee'\]. Got 'elbow'"),
        ({"heat_method": "pade"}, r"'heat_method' parameter .* must be one of"),
        ({"order": "max"}, r"'order' parameter .* must be an int in the range "
                           r"\[1, inf\) or one of \['auto'\]"),
        ({"order": 0}, r"'order' parameter .* Got 0 instead"),
        ({"preset": "umap"}, r"'preset' parameter .* must be one of"),
        ({"denoise": 1.5}, r"'denoise' parameter .* must be a finite float in "
                           r"the range \[0, 1\] or one of \['auto'\]. Got 1.5"),
        ({"mds": "tsne"}, r"'mds' parameter .* must be one of"),
        ({"mds_weights": "gaussian"}, r"'mds_weights' parameter .* must be one of"),
        ({"n_landmarks": 2}, r"n_landmarks=2 must be at least n_components \+ 1 = 3"),
        ({"mds": "smacof", "preset": "sne"}, r"mds='smacof' minimises unweighted"),
        ({"decay": 0}, r"'decay' parameter .* must be a finite float in the range "
                       r"\(0, inf\) or None. Got 0 instead"),
        ({"harnack": -1}, r"'harnack' parameter .* in the range \[0, inf\). "
                          r"Got -1 instead"),
        ({"backend": "tpu"},
         r"'backend' parameter of HeatGeodesicEmbedding must be one of .*'tpu'"),
    ],
)
def test_bad_parameters(roll, params, match):
    est = HeatGeodesicEmbedding(**params)
    with pytest.raises(ValueError, match=match):
        est.fit(roll)
    assert not hasattr(est, "embedding_")


def test_transform_checks_features(roll):
    est = HeatGeodesicEmbedding(random_state=0).fit(roll)
    with pytest.raises(ValueError, match="3 features"):
        est.transform(np.zeros((2, 4)))


def test_transform_with_heat_weights_and_harnack(roll):
    est = HeatGeodesicEmbedding(preset="sne", t=1.0, harnack=0.5, n_landmarks=40,
                                random_state=0).fit(roll)
    new = est.transform(roll[:5] + 0.05)
    assert new.shape == (5, 2) and np.all(np.isfinite(new))
    np.testing.assert_array_equal(est.transform(roll[:5]), est.embedding_[:5])


def test_pca_reduction_and_plain_knn_graph():
    X = np.random.RandomState(0).randn(120, 60)
    est = HeatGeodesicEmbedding(n_pca=10, decay=None, random_state=0).fit(X)
    assert est._pca.n_components_ == 10
    assert set(np.unique(est.affinity_.data)) <= {0.5, 1.0}
    assert est.transform(X[:3] + 0.01).shape == (3, 2)


def test_verbose_and_n_jobs(roll, capsys):
    est = HeatGeodesicEmbedding(verbose=1, n_jobs=1, random_state=0).fit(roll)
    assert est.embedding_.shape == (150, 2)


@pytest.mark.parametrize("weights", ["inverse_square", "heat"])
def test_stress_weights_numba_matches_numpy(roll, weights):
    kw = dict(n_neighbors=8, mds_weights=weights, random_state=0, n_landmarks=30)
    a = HeatGeodesicEmbedding(backend="numpy", **kw).fit(roll)
    b = HeatGeodesicEmbedding(backend="numba", **kw).fit(roll)
    np.testing.assert_allclose(a.dissimilarity_, b.dissimilarity_, atol=1e-9)
    assert np.all(np.isfinite(b.embedding_))


@pytest.mark.gpu
def test_cupy_input_gives_cupy_output(roll):
    import cupy

    est = HeatGeodesicEmbedding(n_neighbors=8, random_state=0)
    Y = est.fit_transform(cupy.asarray(roll))
    assert isinstance(Y, cupy.ndarray) and est.backend_ == "cupy"
    ref = HeatGeodesicEmbedding(n_neighbors=8, random_state=0, backend="numpy")
    ref.fit(roll)
    np.testing.assert_allclose(est.dissimilarity_, ref.dissimilarity_, atol=1e-9)
    assert isinstance(est.transform(cupy.asarray(roll[:3])), cupy.ndarray)


# ------------------------------------------------ issue 9 regression tests


@pytest.mark.parametrize(
    "name, value",
    [("t", np.nan), ("t", np.inf), ("denoise", np.nan), ("harnack", np.nan),
     ("power", np.inf), ("tol", np.nan), ("decay", np.nan), ("n_jobs", 0)],
)
def test_non_finite_parameters_and_zero_n_jobs_are_refused(roll, name, value):
    # t=nan ended in an ArpackError, denoise=nan was treated as 0 and n_jobs=0
    # was accepted: each is now an error naming the parameter.
    est = HeatGeodesicEmbedding(**{name: value})
    with pytest.raises(
        ValueError, match=rf"The '{name}' parameter of HeatGeodesicEmbedding must be"
    ):
        est.fit(roll)
    assert not hasattr(est, "embedding_")


@pytest.mark.parametrize("n_landmarks", [None, 50])
@pytest.mark.parametrize("decay", [40, None])
def test_transform_is_continuous_at_the_training_samples(roll, n_landmarks, decay):
    # transform(X_train) returned embedding_ exactly while X_train + 1e-9
    # moved by 0.38 (median; embedding norm 4.8): the rule was discontinuous.
    est = HeatGeodesicEmbedding(n_landmarks=n_landmarks, decay=decay,
                                random_state=0).fit(roll)
    scale = np.linalg.norm(np.ptp(est.embedding_, axis=0))
    np.testing.assert_array_equal(est.transform(roll), est.embedding_)
    shift = np.linalg.norm(est.transform(roll + 1e-9) - est.embedding_, axis=1)
    assert shift.max() < 1e-9 * scale
    # Along a segment between two neighbouring samples the coordinates move
    # in small steps (a jump would be a sizeable part of the gap).
    i = 7
    j = np.argsort(pairwise_distances(roll[i:i + 1], roll)[0])[2]
    path = roll[i] + np.linspace(0, 1, 1001)[:, None] * (roll[j] - roll[i])
    Y = est.transform(path)
    np.testing.assert_array_equal(Y[[0, -1]], est.embedding_[[i, j]])
    steps = np.linalg.norm(np.diff(Y, axis=0), axis=1)
    assert steps.max() < 0.02 * np.linalg.norm(Y[-1] - Y[0])


def test_transform_warns_far_outside_the_training_data(roll):
    import warnings

    est = HeatGeodesicEmbedding(random_state=0).fit(roll)
    with pytest.warns(UserWarning, match=r"1 of 2 samples lie outside the "
                                         r"training data .* the farthest is \d+ "
                                         r"times the kernel radius"):
        est.transform(np.vstack([roll[:1] + 0.01, np.full((1, 3), 1e3)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.transform(roll[:20] + 0.01)  # inside: no warning


@pytest.mark.parametrize("n_landmarks", [None, 40])
def test_identical_samples_get_identical_coordinates(roll, n_landmarks):
    # 30 copies of one sample got 30 distinct coordinates.
    X = np.vstack([roll, np.repeat(roll[:1], 30, axis=0)])
    est = HeatGeodesicEmbedding(n_landmarks=n_landmarks, random_state=0).fit(X)
    copies = [0, *range(150, 180)]
    np.testing.assert_array_equal(est.embedding_[copies],
                                  np.repeat(est.embedding_[:1], 31, axis=0))
    if n_landmarks is not None:  # drawn among distinct samples only
        assert not np.isin(est.landmark_indices_, copies[1:]).any()
    # Zero distance between the copies, one shared row of distances.
    columns = np.flatnonzero(np.isin(est.landmark_indices_, copies))
    assert np.all(est.dissimilarity_[np.ix_(copies, columns)] == 0)
    np.testing.assert_array_equal(est.dissimilarity_[copies],
                                  np.repeat(est.dissimilarity_[:1], 31, axis=0))
    # Copies in a query: one coordinate, also for a new point.
    query = np.vstack([np.repeat(roll[5:6] + 0.3, 30, axis=0), X[copies]])
    Y = est.transform(query)
    np.testing.assert_array_equal(Y[:30], np.repeat(Y[:1], 30, axis=0))
    np.testing.assert_array_equal(Y[30:], est.embedding_[copies])


def test_array_api_input_gives_the_same_namespace_and_device_out(roll):
    # array_api_strict on a non-CPU device refuses implicit host conversion
    # the way cupy does.
    xps = pytest.importorskip("array_api_strict")
    device = xps.Device("device1")
    X = xps.asarray(roll, device=device)
    est = HeatGeodesicEmbedding(random_state=0)
    Y = est.fit_transform(X)
    assert type(Y).__module__.startswith("array_api_strict") and Y.device == device
    assert isinstance(est.embedding_, np.ndarray)
    new = est.transform(X[:4, :])
    assert new.device == device
    np.testing.assert_array_equal(np.from_dlpack(new), est.embedding_[:4])
