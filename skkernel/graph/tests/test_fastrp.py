import pickle

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import skkernel
from skkernel.backend import _backend
from skkernel.datasets import make_random_graph
from skkernel.graph import FastRP
from skkernel.utils._hash_random import sparse_sign_matrix


def _graph(n=60, m=240, directed=False, weighted=True, isolated=3, seed=0):
    A = make_random_graph(n, m, directed=directed, weighted=weighted,
                          random_state=seed).tolil()
    for node in range(isolated):  # cut the first nodes off the graph
        A[node, :] = 0
        A[:, node] = 0
    return A.tocsr()


CONFIGS = [
    dict(variant="paper"),
    dict(variant="paper", normalize_rows=False, standardize=False),
    dict(variant="paper", self_influence=0.7, normalization_strength=-0.5,
         iteration_weights=(0.0, 0.0, 1.0, 6.67)),
    dict(variant="gds", self_influence=0.3, iteration_weights=(1.0, 0.5)),
    dict(variant="gds", standardize=True, normalization_strength=0.3),
]


@pytest.mark.parametrize("params", CONFIGS)
@pytest.mark.parametrize("directed", [False, True])
def test_fast_backends_match_reference(fast_backend, params, directed):
    A = _graph(directed=directed)
    ref = FastRP(16, random_state=3, backend="numpy", **params).fit_transform(A)
    fast = FastRP(16, random_state=3, backend=fast_backend, **params)
    emb = fast.fit_transform(A)
    assert fast.backend_ == fast_backend
    tol = 1e-10 if fast_backend == "numba" else 1e-6
    assert_allclose(emb, ref, rtol=0, atol=tol)
    assert np.all(np.isfinite(emb))


@pytest.mark.parametrize("weights", [(0.2, 1.0, 3.0), (1.0, 2.0, 0.0)])
@pytest.mark.parametrize("normalize_rows", [True, False])
def test_column_blocks_match_one_block(normalize_rows, weights):
    # A tiny working-memory budget forces several column blocks (and the
    # two-pass row-norm computation when rows are normalised; the first pass
    # parks the last hop in the output unless its weight is 0).
    A = _graph(n=80, m=400)
    params = dict(n_components=24, random_state=0, normalize_rows=normalize_rows,
                  self_influence=0.5, iteration_weights=weights)
    ref = FastRP(backend="numpy", **params).fit_transform(A)
    with skkernel.config_context(working_memory=2 * 8 * 80 * 5 / 2**20):
        est = FastRP(backend="numba", **params)
        emb = est.fit_transform(A)
    assert est.block_width_ == 5
    assert_allclose(emb, ref, rtol=0, atol=1e-10)


def test_paper_formula_by_hand():
    # One hop, no normalisation: N_1 = D^-1 S L R, written out densely.
    A = _graph(n=30, m=90, isolated=0)
    beta = -0.5
    est = FastRP(8, iteration_weights=(1.0,), normalization_strength=beta,
                 normalize_rows=False, standardize=False, random_state=5,
                 backend="numba")
    emb = est.fit_transform(A)
    S = A.toarray()
    deg = S.sum(axis=1)
    seed = skkernel.utils.draw_seed(5)
    R = sparse_sign_matrix(seed, 30, 8, np.sqrt(30))
    expected = (S / deg[:, None]) @ (deg[:, None] ** beta * R)
    assert_allclose(emb, expected, rtol=1e-12, atol=1e-14)
    assert est.sparsity_ == pytest.approx(np.sqrt(30))


def test_projection_distribution():
    s, d = 9.0, 400
    R = sparse_sign_matrix(11, 500, d, s)
    values = np.unique(R)
    assert_allclose(values, [-np.sqrt(s / d), 0.0, np.sqrt(s / d)])
    nonzero = np.mean(R != 0)
    assert nonzero == pytest.approx(1 / s, rel=0.05)  # 200,000 draws
    assert np.mean(R > 0) == pytest.approx(np.mean(R < 0), rel=0.1)


def test_gds_rows_are_unit_norm_per_hop():
    A = _graph()
    emb = FastRP(16, variant="gds", iteration_weights=(1.0,), random_state=0,
                 backend="numba").fit_transform(A)
    norms = np.linalg.norm(emb, axis=1)
    connected = np.asarray(A.sum(axis=1)).ravel() > 0
    assert_allclose(norms[connected], 1.0, rtol=1e-12)
    assert_allclose(norms[~connected], 0.0)
    gds = FastRP(64, variant="gds").fit(A)
    assert gds.sparsity_ == 3.0
    assert gds.block_width_ == 64  # hop normalisation couples all columns


def test_isolated_nodes_are_finite_and_share_one_embedding():
    A = _graph(isolated=4)
    emb = FastRP(16, random_state=0).fit_transform(A)
    assert np.all(np.isfinite(emb))
    # Isolated nodes get nothing from neighbours: identical rows.
    assert_allclose(emb[:4], np.repeat(emb[:1], 4, axis=0))


def test_random_state_reproducible_and_seed_sensitive():
    A = _graph()
    a = FastRP(16, random_state=1).fit_transform(A)
    b = FastRP(16, random_state=1).fit_transform(A)
    c = FastRP(16, random_state=2).fit_transform(A)
    assert_allclose(a, b, rtol=0, atol=0)
    assert np.abs(a - c).max() > 0.1


def test_input_formats_agree():
    nx = pytest.importorskip("networkx")
    A = _graph(isolated=0)
    G = nx.from_scipy_sparse_array(A)
    ref = FastRP(16, random_state=0).fit_transform(A)
    assert_allclose(FastRP(16, random_state=0).fit_transform(A.toarray()), ref)
    assert_allclose(FastRP(16, random_state=0).fit_transform(G), ref)
    assert_allclose(FastRP(16, random_state=0).fit_transform(A.tocoo()), ref)


def test_node_features_take_the_last_columns():
    A = _graph(isolated=0)
    rng = np.random.RandomState(0)
    F = rng.rand(A.shape[0], 5)
    params = dict(n_components=20, property_ratio=0.25, random_state=0)
    with_f = FastRP(**params, backend="numba").fit_transform(A, node_features=F)
    ref = FastRP(**params, backend="numpy").fit_transform(A, node_features=F)
    assert_allclose(with_f, ref, rtol=0, atol=1e-10)
    without = FastRP(20, random_state=0).fit_transform(A)
    assert np.abs(with_f[:, 15:] - without[:, 15:]).max() > 0.1
    # Without row normalisation the blocks propagate independently, so other
    # features change only the property block.
    one = FastRP(**params, normalize_rows=False).fit_transform(A, node_features=F)
    other = FastRP(**params, normalize_rows=False).fit_transform(
        A, node_features=F[::-1]
    )
    assert_allclose(other[:, :15], one[:, :15])
    assert np.abs(other[:, 15:] - one[:, 15:]).max() > 0.1


def test_verbose_progress_counts_sparse_products(capsys, monkeypatch):
    import skkernel.utils._progress as progress

    monkeypatch.setattr(progress, "tqdm", None, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)
    with skkernel.config_context(working_memory=2 * 8 * 60 * 5 / 2**20):
        FastRP(10, iteration_weights=(1.0, 1.0), self_influence=0.5,
               random_state=0, verbose=1).fit(_graph())
    lines = capsys.readouterr().err.strip().splitlines()
    # Two blocks of 5 columns (the weighted start rules out the two-array
    # path), two hops, norms first; the first pass parks
    # the last hop in the output, so the second stops one hop early: 6.
    assert lines[-1].startswith("FastRP: 6/6")


def test_n_jobs_restores_numba_threads():
    before = numba.get_num_threads()
    FastRP(8, n_jobs=1, random_state=0, backend="numba").fit(_graph())
    assert numba.get_num_threads() == before


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    est = FastRP(4, random_state=0).set_output(transform="pandas")
    out = est.fit_transform(_graph())
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["fastrp0", "fastrp1", "fastrp2", "fastrp3"]


def test_pickle_roundtrip():
    est = FastRP(8, random_state=0).fit(_graph())
    restored = pickle.loads(pickle.dumps(est))
    assert_allclose(restored.embedding_, est.embedding_)
    assert restored.backend_ == "numba"


def test_config_context_sets_auto_backend():
    with skkernel.config_context(backend="numpy"):
        est = FastRP(8, random_state=0).fit(_graph())
    assert est.backend_ == "numpy"
    assert FastRP(8, random_state=0).fit(_graph()).backend_ == "numba"


@pytest.mark.parametrize(
    "X, params, match",
    [
        (np.ones((3, 4)), {}, r"square adjacency matrix .* got shape \(3, 4\)"),
        (np.array([[0, -1.0], [1, 0]]), {}, "Negative values in data passed to FastRP"),
        (np.array([[0, np.nan], [1, 0]]), {}, "Input X contains NaN or infinity"),
        (np.zeros((3, 3)), {}, "The graph has no edges"),
        (np.zeros((0, 0)), {}, "0 sample"),
        (np.eye(3)[::-1], {"n_components": 0},
         r"'n_components' parameter of FastRP must be an int in the range "
         r"\[1, inf\)\. Got 0"),
        (np.eye(3)[::-1], {"iteration_weights": []},
         r"'iteration_weights' parameter of FastRP must be a one-dimensional "
         r"sequence of at least 1 finite"),
        (np.eye(3)[::-1], {"iteration_weights": [1, np.inf]},
         r"'iteration_weights' .* finite real numbers. Got \[1, inf\]"),
        (np.eye(3)[::-1], {"backend": "gpu"},
         r"'backend' parameter of FastRP must be one of .*'gpu'"),
        (np.eye(3)[::-1], {"variant": "neo4j"},
         r"'variant' parameter of FastRP must be one of \['paper', 'gds'\]"),
        (np.eye(3)[::-1], {"sparsity": 0.5},
         r"'sparsity' parameter of FastRP must be one of \['auto'\] or a finite "
         r"float in the range \[1, inf\). Got 0.5"),
        (np.eye(3)[::-1], {"property_ratio": 0.5}, "got node_features=None"),
        (np.eye(3)[::-1], {"property_ratio": 1.0},
         r"'property_ratio' parameter of FastRP must be a finite float in the "
         r"range \[0, 1\)\. Got 1.0"),
        (np.eye(3)[::-1], {"variant": "gds", "normalize_rows": False},
         "variant='gds' normalises every hop"),
    ],
)
def test_bad_input_errors(X, params, match):
    est = FastRP(**{"n_components": 4, **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X)
    assert not hasattr(est, "embedding_")
    assert not hasattr(est, "n_features_in_")


def test_node_features_errors():
    A = np.eye(3)[::-1]
    with pytest.raises(ValueError, match="leaves no columns for them"):
        FastRP(4).fit(A, node_features=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"one row per node \(3\), got 2 rows"):
        FastRP(4, property_ratio=0.5).fit(A, node_features=np.ones((2, 2)))


def test_failed_refit_keeps_previous_fit():
    est = FastRP(4, random_state=0).fit(_graph())
    embedding = est.embedding_.copy()
    with pytest.raises(ValueError, match="square"):
        est.fit(np.ones((3, 4)))
    assert_allclose(est.embedding_, embedding)
    assert est.n_features_in_ == 60


def test_cupy_without_gpu_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_backend, "_cupy_usable", lambda: False)
    with pytest.raises(RuntimeError, match=r'pip install "skkernel\[cuda12\]"'):
        FastRP(4, backend="cupy").fit(_graph())


@pytest.mark.gpu
def test_cupy_input_gives_cupy_output():
    import cupy

    A = _graph()
    est = FastRP(8, random_state=0)
    out = est.fit_transform(cupy.asarray(A.toarray()))
    assert isinstance(out, cupy.ndarray)
    assert est.backend_ == "cupy"
    assert isinstance(est.embedding_, np.ndarray)
    ref = FastRP(8, random_state=0, backend="numpy").fit_transform(A)
    assert_allclose(out.get(), ref, atol=1e-6)


def test_sparse_int64_indices_accepted():
    A = _graph()
    B = sp.csr_matrix((A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)),
                      shape=A.shape)
    assert_allclose(FastRP(8, random_state=0).fit_transform(B),
                    FastRP(8, random_state=0).fit_transform(A))


def test_concurrent_fits_from_threads():
    # joblib's threading backend and Dask's threaded workers enter numba's
    # parallel kernels from several threads at once; that must not abort.
    from concurrent.futures import ThreadPoolExecutor

    A = _graph()
    expected = FastRP(8, random_state=0).fit_transform(A)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(
            lambda seed: FastRP(8, random_state=seed).fit_transform(A), [0] * 4
        ))
    for result in results:
        assert_allclose(result, expected, rtol=0, atol=0)



@pytest.mark.parametrize(
    "name, value",
    [
        ("normalization_strength", np.inf),
        ("normalization_strength", np.nan),
        ("self_influence", np.nan),
        ("self_influence", -np.inf),
        ("sparsity", np.inf),
        ("property_ratio", np.nan),
        ("n_jobs", 0),
    ],
)
def test_non_finite_strengths_and_zero_n_jobs_are_refused(name, value):
    # Regression (issue 9, defects 5 and 9): normalization_strength=inf and
    # self_influence=nan passed validation and gave a NaN embedding; n_jobs=0
    # was accepted silently.
    est = FastRP(4, random_state=0, **{name: value})
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of FastRP must be"):
        est.fit(_graph())
    assert not hasattr(est, "embedding_")


def test_array_api_input_gives_the_same_namespace_and_device_out():
    # array_api_strict on a non-CPU device refuses implicit host conversion
    # the way cupy does, so this exercises the device-input plumbing on CPU.
    xps = pytest.importorskip("array_api_strict")
    A = _graph()
    device = xps.Device("device1")
    est = FastRP(8, random_state=0)
    out = est.fit_transform(xps.asarray(A.toarray(), device=device))
    assert type(out).__module__.startswith("array_api_strict")
    assert out.device == device
    assert isinstance(est.embedding_, np.ndarray)
    assert_allclose(np.from_dlpack(out), FastRP(8, random_state=0).fit_transform(A))


@pytest.mark.gpu
def test_cupy_adjacency_stays_on_the_device(monkeypatch):
    # Regression (issue 9): the cupy path copied the adjacency device -> host
    # -> device. Now only the embedding comes back (embedding_ is numpy).
    import cupy
    import cupyx.scipy.sparse as csp

    from skkernel.graph import _fastrp

    moved = []
    real_to_cpu = _fastrp.to_cpu

    def spy(a):
        if _backend.is_cupy_array(a):
            moved.append(tuple(a.shape))
        return real_to_cpu(a)

    monkeypatch.setattr(_fastrp, "to_cpu", spy)
    A = _graph()
    est = FastRP(8, random_state=0)
    out = est.fit_transform(csp.csr_matrix(cupy.asarray(A.toarray())))
    assert isinstance(out, cupy.ndarray) and est.backend_ == "cupy"
    assert moved == [(60, 8)]
    ref = FastRP(8, random_state=0, backend="numpy").fit_transform(A)
    assert_allclose(out.get(), ref, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"train_fraction": np.nan}, {"C": np.inf},
                                    {"n_repeats": 0}, {"n_jobs": 0}])
def test_node_classification_score_refuses_bad_parameters(kwargs):
    from skkernel.graph import node_classification_score

    Y = np.eye(2, dtype=int)[np.arange(20) % 2]
    args = {"train_fraction": 0.5, **kwargs}
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of "
                                         "node_classification_score must be"):
        node_classification_score(Y + 0.1, Y, **args)


@pytest.mark.parametrize("variant", ["paper", "gds"])
def test_float32_matches_float64_and_widens_blocks(variant):
    from skkernel.datasets import make_random_graph
    from skkernel.graph._fastrp import _block_width

    A = make_random_graph(2000, 20000, random_state=3)
    ref = FastRP(48, variant=variant, backend="numpy", random_state=1).fit_transform(A)
    for backend in ("numpy", "numba"):
        est = FastRP(48, variant=variant, dtype="float32", backend=backend,
                     random_state=1)
        emb = est.fit_transform(A)
        assert emb.dtype == np.float32 and est.embedding_.dtype == np.float32
        np.testing.assert_allclose(emb, ref, rtol=0, atol=1e-5 * np.abs(ref).max())
    # the same bytes hold twice the columns
    assert _block_width(10**6, 512, np.float32) == 2 * _block_width(10**6, 512)
    with pytest.raises(ValueError, match="'dtype' parameter of FastRP"):
        FastRP(dtype="float16").fit(A)


@pytest.mark.parametrize("sparse_start", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("normalize_rows", [True, False])
@pytest.mark.parametrize("weights", [(0.0, 1.0, 1.0), (0.0, 0.0, 1.0, 6.67),
                                     (0.0, 0.0, 2.0), (1.0,)])
def test_two_buffer_path_is_identical_to_three_arrays(weights, normalize_rows,
                                                      dtype, sparse_start,
                                                      monkeypatch):
    # When only the last two terms carry weight the embedding is built in the
    # buffer the first of them was computed from: same operations, same order.
    # With sparse_start the first two hops also run on CSR arrays (the same
    # nonzero terms in the same order).
    from skkernel.graph import _fastrp_kernels

    A = _graph(n=80, m=400)
    params = dict(n_components=24, random_state=0, iteration_weights=weights,
                  normalize_rows=normalize_rows, dtype=dtype, backend="numba")
    assert _fastrp_kernels._first_weighted_of_last_two((0.0, *weights)) is not None
    calls = []
    real = _fastrp_kernels._sparse_first_hops

    def sparse_first_hops(S, spec, first):
        calls.append(real(S, spec, first) or sparse_start)
        return calls[-1] and first >= 2

    monkeypatch.setattr(_fastrp_kernels, "_sparse_first_hops", sparse_first_hops)
    two = FastRP(**params).fit_transform(A)
    assert calls == [sparse_start]
    monkeypatch.setattr(_fastrp_kernels, "_first_weighted_of_last_two",
                        lambda weights: None)
    three = FastRP(**params).fit_transform(A)
    np.testing.assert_array_equal(two, three)
    ref = FastRP(**{**params, "backend": "numpy"}).fit_transform(A)
    assert_allclose(two, ref, rtol=0, atol=1e-10 if dtype == "float64" else 1e-4)


def test_block_width_counts_one_temporary_array_on_the_two_array_path():
    # float64, 1e6 nodes, d = 128: one 977 MiB temporary fits the default
    # 1024 MiB budget, two do not
    from skkernel.graph._fastrp import _block_width

    assert _block_width(10**6, 128, np.float64, (0.0, 1.0, 1.0)) == 128
    assert _block_width(10**6, 128, np.float64, (0.0, 1.0, 1.0), "gds") == 32
    assert _block_width(10**6, 128, np.float64, (0.0, 1.0, 1.0, 1.0)) == 32
    assert _block_width(10**6, 128, np.float64) == 32
    assert _block_width(3 * 10**6, 128, np.float64, (0.0, 1.0, 1.0)) == 22
    with skkernel.config_context(working_memory=2000):
        assert _block_width(10**6, 128, np.float64) == 128


def test_two_buffer_plan_only_when_the_last_two_terms_carry_weight():
    from skkernel.graph._fastrp_kernels import _first_weighted_of_last_two as plan

    assert plan((0.0, 0.0, 1.0, 6.67)) == 2
    assert plan((0.0, 0.0, 0.0, 1.0)) == 3
    assert plan((0.0, 1.0)) == 1
    assert plan((0.0, 1.0, 0.0)) == 1
    assert plan((0.5, 1.0)) is None  # the starting block carries weight
    assert plan((0.0, 1.0, 1.0, 1.0)) is None
    assert plan((0.0, 0.0, 0.0)) is None


def test_finite_check_of_fitted_attributes_in_their_own_precision():
    # float32 embeddings are checked without a float64 copy; inf is caught.
    est = FastRP(8, random_state=0, dtype="float32").fit(_graph())
    est._check_finite_fit()
    est.embedding_ = est.embedding_.copy()
    est.embedding_[3, 2] = np.float32(np.inf)
    with pytest.raises(ValueError, match="computed a non-finite embedding_"):
        est._check_finite_fit()
    est.embedding_ = np.arange(6).reshape(3, 2)  # integers are finite
    est._check_finite_fit()


def test_sparse_first_hops_on_a_sparse_projection():
    # 3,000 nodes of mean degree 8, d = 64: sparsity sqrt(n) = 55 gives a
    # starting matrix of density 1.8 % and N_1 of about 15 %: not sparse
    # enough by default; sparsity 200 (density 0.5 %, N_1 4 %) is.
    from skkernel.graph import _fastrp_kernels

    A = make_random_graph(3000, 12000, random_state=1)
    used = []
    real = _fastrp_kernels._sparse_first_hops
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(_fastrp_kernels, "_sparse_first_hops",
                        lambda *a: used.append(real(*a)) or used[-1])
    try:
        params = dict(n_components=64, iteration_weights=(0.0, 1.0, 1.0),
                      random_state=2, backend="numba")
        FastRP(**params).fit(A)
        emb = FastRP(sparsity=200, **params).fit_transform(A)
    finally:
        monkeypatch.undo()
    assert used == [False, True]
    ref = FastRP(**{**params, "backend": "numpy", "sparsity": 200}).fit_transform(A)
    assert_allclose(emb, ref, rtol=0, atol=1e-10)


def test_fit_leaves_the_input_graph_unchanged():
    # explicit zeros and unsorted, duplicated entries are canonicalised on a
    # copy; the embedding is that of the canonical graph
    A = _graph(n=40, m=160)
    A.data[:3] = 0.0
    messy = sp.csr_matrix((np.r_[A.data, 0.5], np.r_[A.indices, A.indices[-1]],
                           np.r_[A.indptr[:-1], A.indptr[-1] + 1]), shape=A.shape)
    messy.has_sorted_indices = False
    for X in (A, messy):
        before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
        emb = FastRP(8, random_state=0).fit_transform(X)
        for got, want in zip((X.data, X.indices, X.indptr), before):
            np.testing.assert_array_equal(got, want)
        canonical = X.copy()
        canonical.sum_duplicates()
        canonical.eliminate_zeros()
        np.testing.assert_array_equal(
            emb, FastRP(8, random_state=0).fit_transform(canonical))
