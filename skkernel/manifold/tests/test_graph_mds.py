"""Graph construction and MDS solvers: numba against the numpy reference."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.neighbors import NearestNeighbors

from skkernel.backend import numba_threads
from skkernel.manifold import HeatGeodesicEmbedding
from skkernel.manifold._datasets import make_stretched_swiss_roll
from skkernel.manifold._graph import (
    affinity_graph,
    alpha_decay_values,
    alpha_decay_values_numba,
    extension_weights,
)
from skkernel.manifold._mds import (
    block_round_tiles,
    classical_mds,
    least_squares_start,
    place_points,
    sgd_layout,
    sgd_mds,
    sgd_schedule,
    smacof,
    stress,
    sub_round_pairs,
)


def test_alpha_decay_graph_matches_dense_formula():
    # graphtools' kernel: 1/2 [exp(-(d/e_i)^a) + exp(-(d/e_j)^a)], entries of
    # each half below 1e-4 dropped, diagonal removed.
    X = np.random.RandomState(0).randn(80, 3)
    k, a = 5, 10.0
    W, bw = affinity_graph(NearestNeighbors().fit(X), X, k, a, "numpy")
    D = cdist(X, X)
    eps = np.sort(D, axis=1)[:, k]
    K = np.exp(-((D / eps[:, None]) ** a))
    K[K < 1e-4] = 0
    expected = 0.5 * (K + K.T)
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(bw, eps)
    np.testing.assert_allclose(W.toarray(), expected, atol=1e-15)


def test_alpha_decay_numba_matches_numpy():
    rng = np.random.RandomState(1)
    dist = rng.rand(50) * 2
    indptr = np.array([0, 10, 30, 50])
    bw = np.array([0.5, 1.0, 1.5])
    np.testing.assert_allclose(
        alpha_decay_values_numba(dist, indptr, bw, 40.0, 1e-4),
        alpha_decay_values(dist, indptr, bw, 40.0), rtol=1e-12, atol=1e-15,
    )


def test_knn_graph_is_binary_and_symmetric():
    X = np.random.RandomState(0).randn(40, 2)
    W, _ = affinity_graph(NearestNeighbors().fit(X), X, 4, None, "numpy")
    A = W.toarray()
    np.testing.assert_array_equal(A, A.T)
    assert set(np.unique(A)) <= {0.0, 0.5, 1.0}
    assert np.all(np.diag(A) == 0)


def test_extension_weights_rows_sum_to_one_and_find_duplicates():
    X = np.random.RandomState(0).randn(60, 3)
    nn = NearestNeighbors().fit(X)
    _, bw = affinity_graph(nn, X, 5, 40.0, "numpy")
    new = np.vstack([X[:3], X[3:6] + 0.05, [[50.0, 50.0, 50.0]]])
    for decay in (40.0, None):
        weights, exact, reach = extension_weights(nn, X, new, bw, 5, decay)
        np.testing.assert_allclose(np.asarray(weights.sum(axis=1)).ravel(), 1.0)
        assert weights.min() >= 0
        np.testing.assert_array_equal(exact, [0, 1, 2, -1, -1, -1, -1])
        # Training samples take their own row exactly.
        np.testing.assert_array_equal(weights[:3].toarray(), np.eye(60)[:3])
        # Only the far sample is outside the training neighbourhoods.
        np.testing.assert_array_equal(reach > 1, [False] * 6 + [True])


def euclidean_config(n=40, dim=2, seed=0):
    P = np.random.RandomState(seed).randn(n, dim)
    return P, cdist(P, P)


def test_classical_mds_recovers_euclidean_distances():
    P, D = euclidean_config(30, 3)
    Y = classical_mds(D, 3, np.random.RandomState(0))
    np.testing.assert_allclose(cdist(Y, Y), D, atol=1e-8)


def test_classical_mds_lanczos_path_agrees_with_dense():
    P, D = euclidean_config(200, 2)
    Y = classical_mds(D, 2, np.random.RandomState(0))
    np.testing.assert_allclose(cdist(Y, Y), D, atol=1e-6)


@pytest.mark.parametrize("n, p", [(31, 2), (32, 2), (300, 2), (263, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_sgd_numba_matches_numpy_reference(n, p, weighted):
    # n=300 and 263 use the 16-block tile schedule (empty slots for 263),
    # p=3 the generic-dimension path.
    _, D = euclidean_config(n, 2)
    Y0 = np.random.RandomState(3).randn(n, p)
    W = 1.0 / (D**2 + np.eye(n)) if weighted else None
    a = sgd_mds(D, Y0, W, seed=5, backend="numpy")
    b = sgd_mds(D, Y0, W, seed=5, backend="numba")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_sgd_tile_schedule_visits_every_pair_once():
    for n in (5, 300, 263):
        labels, block_order, sub_order = sgd_schedule(0, n, 1)
        n_blocks, size = sgd_layout(n)
        assert labels.size == n_blocks * size >= n
        seen = []
        for block_round in block_order[0]:
            a, b = block_round_tiles(block_round, n_blocks)
            diagonal = block_round == n_blocks - 1
            for q in sub_order[0, block_round]:
                if diagonal and q == size - 1:
                    continue
                ki, kj = sub_round_pairs(q, size, diagonal)
                i = labels[(a[:, None] * size + ki[None, :]).ravel()]
                j = labels[(b[:, None] * size + kj[None, :]).ravel()]
                assert np.unique(np.concatenate([i, j])).size == 2 * i.size
                keep = (i < n) & (j < n)
                seen.append(np.sort(np.stack([i[keep], j[keep]]), axis=0))
        pairs = np.concatenate(seen, axis=1)
        assert pairs.shape[1] == n * (n - 1) // 2
        assert np.unique(pairs[0] * n + pairs[1]).size == n * (n - 1) // 2


def test_sgd_does_not_depend_on_thread_count():
    _, D = euclidean_config(300, 2)
    Y0 = np.random.RandomState(1).randn(300, 2)
    with numba_threads(1):
        one = sgd_mds(D, Y0, None, seed=2, backend="numba")
    with numba_threads(2):
        two = sgd_mds(D, Y0, None, seed=2, backend="numba")
    np.testing.assert_array_equal(one, two)


def test_sgd_tile_schedule_reaches_smacof_stress():
    # Heat-geodesic distances on a Swiss roll (capped far distances): running
    # each tile to the end before the next (SGD_CHUNK >= s) leaves the stress
    # 0.6-1 % above SMACOF's here; the interleaved schedule is within 0.05 %.
    X, _, _ = make_stretched_swiss_roll(1200, noise=0.05, n_features=3,
                                        random_state=42)
    D = HeatGeodesicEmbedding(n_neighbors=5, t=10.0, harnack=0.0, mds="classical",
                              random_state=0).fit(X).dissimilarity_
    Y0 = classical_mds(D, 2, np.random.RandomState(0))
    reference = stress(D, smacof(D, Y0))
    for seed in range(2):
        assert stress(D, sgd_mds(D, Y0, None, seed, "numba")) < 1.002 * reference


def test_sgd_lowers_stress_and_is_reproducible():
    _, D = euclidean_config(60, 3)
    Y0 = np.random.RandomState(0).randn(60, 2)
    Y = sgd_mds(D, Y0, None, seed=1, backend="numba")
    assert stress(D, Y) < 0.5 * stress(D, Y0)
    np.testing.assert_array_equal(Y, sgd_mds(D, Y0, None, seed=1, backend="numba"))


def test_sgd_recovers_a_planar_configuration():
    _, D = euclidean_config(50, 2)
    Y0 = classical_mds(D, 2, np.random.RandomState(0)) + 0.3
    Y = sgd_mds(D, Y0, None, seed=0, backend="numba")
    np.testing.assert_allclose(cdist(Y, Y), D, atol=1e-3)


def test_smacof_lowers_stress():
    _, D = euclidean_config(40, 3)
    Y0 = np.random.RandomState(0).randn(40, 2)
    assert stress(D, smacof(D, Y0)) < 0.5 * stress(D, Y0)


def test_least_squares_start_is_exact_for_euclidean_distances():
    P, _ = euclidean_config(20, 2)
    new = np.random.RandomState(9).randn(5, 2)
    np.testing.assert_allclose(least_squares_start(cdist(new, P), P), new, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_placement_numba_matches_numpy(weighted):
    P, _ = euclidean_config(25, 2)
    new = np.random.RandomState(2).randn(6, 2)
    D_rows = cdist(new, P) * 1.1 + 0.05  # not exactly Euclidean
    W = np.exp(-D_rows) if weighted else None
    a = place_points(D_rows, W, P, "numpy", n_iter=15)
    b = place_points(D_rows, W, P, "numba", n_iter=15)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    start = least_squares_start(D_rows, P)
    w = np.ones_like(D_rows) if W is None else W
    for i in range(6):
        assert (stress_row(D_rows[i], w[i], a[i], P)
                <= stress_row(D_rows[i], w[i], start[i], P))


def stress_row(d, w, x, P):
    return float((w * (np.sqrt(((P - x) ** 2).sum(1)) - d) ** 2).sum())


def test_least_squares_start_row_blocks_match_the_one_shot_formula():
    # 70,000 rows of 8 references: more than one 4 MiB row block.
    rng = np.random.RandomState(5)
    Y_ref = rng.randn(8, 2)
    D_rows = rng.rand(70_000, 8) * 3.0
    Yc = Y_ref - Y_ref.mean(axis=0)
    sq = (Y_ref * Y_ref).sum(axis=1)
    D2 = D_rows**2
    rhs = 0.5 * ((sq - sq.mean())[None, :] - (D2 - D2.mean(axis=1, keepdims=True)))
    expected = rhs @ np.linalg.pinv(Yc).T
    np.testing.assert_allclose(least_squares_start(D_rows, Y_ref), expected,
                               rtol=1e-12, atol=1e-12)
