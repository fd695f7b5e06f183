"""SDP K-means and iLA-SDP: solvers against closed forms and cvxpy, the estimators."""

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.stats import multivariate_normal
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from skkernel.cluster import ILASDPClustering, SDPKMeans, _ila_sdp, _sdp
from skkernel.cluster._ila_sdp import blocks_from_labels


def misclustering(labels, truth):
    K = max(labels.max(), truth.max()) + 1
    counts = np.zeros((K, K))
    np.add.at(counts, (labels, truth), 1)
    rows, cols = linear_sum_assignment(-counts)
    return 1.0 - counts[rows, cols].sum() / labels.size


def heterogeneous(n, p, separation, seed, sds=(0.5, 1.0, 2.0)):
    rng = np.random.RandomState(seed)
    truth = np.repeat(np.arange(3), n // 3)
    centres = rng.normal(size=(3, p))
    centres *= separation / np.linalg.norm(centres, axis=1, keepdims=True)
    X = centres[truth] + rng.normal(size=(truth.size, p)) * np.asarray(sds)[truth][
        :, None]
    return X, truth


def isotropic(n, separation, seed, p=2):
    return heterogeneous(n, p, separation, seed, sds=(1.0, 1.0, 1.0))


# ------------------------------------------------------------ building blocks


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_row_simplex_projection_meets_its_optimality_conditions(backend):
    rng = np.random.RandomState(0)
    V = rng.normal(size=(40, 25)) * rng.uniform(0.1, 5, size=(40, 1))
    Y = _sdp.PROJECT_ROWS_TO_SIMPLEX(backend, V)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0, atol=1e-12)
    assert Y.min() >= 0
    # KKT: Y = max(V - theta, 0) with one theta a row, so on the support
    # V - Y is constant and off it V <= theta.
    for v, y in zip(V, Y):
        support = y > 0
        theta = (v - y)[support]
        np.testing.assert_allclose(theta, theta[0], atol=1e-12)
        assert np.all(v[~support] <= theta[0] + 1e-12)
    np.testing.assert_allclose(
        Y, _sdp.project_rows_to_simplex_reference(V), atol=1e-13)


def test_psd_trace_projection_matches_a_full_eigendecomposition():
    rng = np.random.RandomState(1)
    S = rng.normal(size=(80, 80))
    S = S + S.T
    B, rank = _sdp.project_psd_trace(S, 3.0, n_top=2)
    values, vectors = np.linalg.eigh(S)
    clipped = 3.0 * _sdp.project_rows_to_simplex_reference(values[None] / 3.0)[0]
    np.testing.assert_allclose(B, (vectors * clipped) @ vectors.T, atol=1e-12)
    assert rank == int((clipped > 0).sum())
    assert math.isclose(np.trace(B), 3.0, rel_tol=1e-12)


def test_cost_operators_match_their_dense_matrices():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(30, 4))
    U = rng.uniform(size=(30, 3))
    A = rng.normal(size=(4, 4))
    covariance = A @ A.T + np.eye(4)
    precision = np.linalg.inv(covariance)
    cost = _sdp.MahalanobisCost(X, precision, 0.7)
    diff = X[:, None, :] - X[None, :, :]
    D = np.einsum("ijp,pq,ijq->ij", diff, precision, diff)
    np.testing.assert_allclose(cost.dense(), D / 4 + 0.35, rtol=1e-12)
    np.testing.assert_allclose(cost.matmul(U), cost.dense() @ U, rtol=1e-10)
    gram = _sdp.GramCost(X)
    np.testing.assert_allclose(gram.matmul(U), -(X @ X.T) @ U, rtol=1e-12)


@pytest.mark.parametrize("parallel", [False, True])
def test_numba_bm_gradient_matches_the_reference(parallel, monkeypatch):
    rng = np.random.RandomState(3)
    n, p, r = 257, 4, 5
    X = rng.normal(size=(n, p))
    costs = []
    for offset in (0.3, -1.2, 2.0):
        A = rng.normal(size=(p, p))
        costs.append(_sdp.MahalanobisCost(X, np.linalg.inv(A @ A.T + np.eye(p)),
                                          offset))
    F = rng.uniform(size=(3, n, r))
    y = rng.normal(size=n)
    scale = max(c.scale for c in costs)
    # The parallel driver over several row chunks, or the serial one.
    monkeypatch.setattr(_sdp, "_BM_PARALLEL_MIN_ROWS", 1 if parallel else 10 ** 9)
    for group in (costs, [_sdp.GramCost(X - X.mean(axis=0))]):
        F_group = F[:len(group)]
        reference = _sdp.BM_GRADIENT("numpy", group, scale)(F_group, y, 10.0)
        compiled = _sdp.BM_GRADIENT("numba", group, scale)(F_group, y, 10.0)
        assert math.isclose(compiled[0], reference[0], rel_tol=1e-12)
        np.testing.assert_allclose(compiled[1], reference[1], rtol=1e-10,
                                   atol=1e-12 * np.abs(reference[1]).max())
    # Against a finite difference of the augmented Lagrangian itself.
    f = _sdp.BM_GRADIENT("numba", costs, scale)
    direction = rng.normal(size=F.shape)
    h = 1e-6
    slope = (f(F + h * direction, y, 10.0)[0] - f(F - h * direction, y, 10.0)[0]) / (
        2 * h)
    assert math.isclose(slope, float((f(F, y, 10.0)[1] * direction).sum()),
                        rel_tol=1e-6)


# ------------------------------------------------------------ solvers


def exact_membership(truth):
    K = truth.max() + 1
    return sum(np.outer(truth == k, truth == k) / (truth == k).sum() for k in range(K))


def test_admm_recovers_the_exact_partition_of_separated_clusters():
    X, truth = isotropic(60, 10.0, 0)
    X = X - X.mean(axis=0)
    result = _sdp.admm([-(X @ X.T)], [3.0], tol=1e-7)
    assert result.converged
    # The closed form Z* = sum_k 1_k 1_k^T / n_k, not a second solver.
    np.testing.assert_allclose(result.blocks[0], exact_membership(truth), atol=1e-4)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_admm_and_burer_monteiro_agree_on_peng_wei(backend):
    X, _ = isotropic(90, 4.0, 1)
    X = X - X.mean(axis=0)
    admm = _sdp.admm([-(X @ X.T)], [3.0], tol=1e-5, max_iter=20000, backend=backend)
    bm = _sdp.burer_monteiro([_sdp.GramCost(X)], [3.0], rank=9, tol=1e-6,
                             random_state=np.random.RandomState(0))
    assert admm.converged and bm.converged
    assert abs(bm.objective - admm.objective) <= 1e-4 * abs(admm.objective)


def test_la_sdp_with_equal_isotropic_covariances_is_peng_wei():
    # With Sigma_k = s^2 I, <W, Z> = (2 ||X||^2 - 2 <XX^T, Z>) / (4 s^2) + n h / 2
    # for every feasible Z, so the two optima are tied by that identity.
    X, _ = isotropic(45, 2.0, 2)
    X = X - X.mean(axis=0)
    s2 = 1.7
    offset = X.shape[1] * math.log(s2)
    cost = _sdp.MahalanobisCost(X, np.eye(2) / s2, offset)
    la = _sdp.admm([cost.dense()] * 3, [1.0] * 3, tol=1e-7, max_iter=20000)
    pw = _sdp.admm([-(X @ X.T)], [3.0], tol=1e-7, max_iter=20000)
    expected = (2 * (X * X).sum() + 2 * pw.objective) / (4 * s2) + 45 * offset / 2
    assert math.isclose(la.objective, expected, rel_tol=1e-4)


def test_admm_matches_cvxpy_on_peng_wei():
    cp = pytest.importorskip("cvxpy")
    X, _ = isotropic(40, 2.5, 3)
    X = X - X.mean(axis=0)
    n = X.shape[0]
    Z = cp.Variable((n, n), PSD=True)
    problem = cp.Problem(cp.Maximize(cp.trace(X @ X.T @ Z)),
                         [Z >= 0, cp.trace(Z) == 3, Z @ np.ones(n) == 1])
    problem.solve(solver="CLARABEL")
    result = _sdp.admm([-(X @ X.T)], [3.0], tol=1e-6)
    assert abs(-result.objective - problem.value) <= 1e-4 * abs(problem.value)


# ------------------------------------------------------------ estimators


def test_sdp_kmeans_attributes_and_predict():
    X, truth = isotropic(90, 8.0, 4)
    model = SDPKMeans(3, random_state=0).fit(X)
    assert model.solver_ == "bm" and model.converged_
    assert misclustering(model.labels_, truth) == 0.0
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    for k in range(3):
        np.testing.assert_allclose(model.cluster_centers_[k],
                                   X[model.labels_ == k].mean(axis=0))
    # At exact recovery <XX^T, Z> is the K-means objective sum_k n_k ||mean_k||^2.
    counts = np.bincount(model.labels_)
    kmeans_value = (counts * (model.cluster_centers_ ** 2).sum(axis=1)).sum()
    assert math.isclose(model.sdp_objective_, kmeans_value, rel_tol=1e-4)


def test_sdp_kmeans_solvers_agree():
    X, truth = isotropic(60, 6.0, 5)
    admm = SDPKMeans(3, solver="admm", random_state=0).fit(X)
    bm = SDPKMeans(3, solver="bm", random_state=0).fit(X)
    assert adjusted_rand_score(admm.labels_, bm.labels_) == 1.0
    assert math.isclose(admm.sdp_objective_, bm.sdp_objective_, rel_tol=1e-4)


@pytest.mark.parametrize("covariance_type", [
    "full",
    pytest.param("diag", marks=pytest.mark.slow),
    pytest.param("spherical", marks=pytest.mark.slow),
])
def test_ila_sdp_objective_never_increases(covariance_type):
    X, _ = heterogeneous(90, 3, 3.0, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ILASDPClustering(3, covariance_type=covariance_type, random_state=0,
                                 solver_tol=1e-6).fit(X)
    steps = np.diff(model.objective_)
    assert np.all(steps <= 1e-5 * np.abs(model.objective_[:-1])), model.objective_
    assert model.n_iter_ == len(model.objective_)


@pytest.mark.parametrize("c", [
    pytest.param(0.6, marks=pytest.mark.slow),
    1.0,
    pytest.param(1.4, marks=pytest.mark.slow),
])
def test_ila_sdp_equals_sdp_kmeans_on_isotropic_data(c):
    n, p, K = 150, 2, 3
    threshold = math.sqrt(4 * (1 + math.sqrt(1 + K * p / (n * math.log(n))))
                          * math.log(n))
    X, _ = isotropic(n, c * threshold, 7)
    sdp = SDPKMeans(K, random_state=0).fit(X)
    ila = ILASDPClustering(K, covariance_type="spherical", random_state=0).fit(X)
    assert adjusted_rand_score(sdp.labels_, ila.labels_) >= 0.95
    # The default chooses the shared covariance and returns SDP K-means' labels.
    ila = ILASDPClustering(K, random_state=0).fit(X)
    assert ila.covariance_type_ == "tied"
    np.testing.assert_array_equal(ila.labels_, sdp.labels_)


@pytest.mark.slow
def test_ila_sdp_beats_kmeans_on_heterogeneous_clusters():
    X, truth = heterogeneous(300, 2, 4.0, 8)
    kmeans = KMeans(3, n_init=10, random_state=0).fit_predict(X)
    ila = ILASDPClustering(3, random_state=0).fit(X)
    assert misclustering(ila.labels_, truth) < misclustering(kmeans, truth) - 0.03


def test_auto_keeps_the_start_on_equal_variances_and_not_on_unequal():
    # Equal spherical clusters: the shared-covariance start wins the BIC and
    # is returned unchanged; unequal variances: the spherical family wins.
    X, _ = isotropic(150, 4.0, 12)
    sdp = SDPKMeans(3, random_state=0).fit(X)
    model = ILASDPClustering(3, random_state=0).fit(X)
    assert model.covariance_type_ == "tied"
    assert set(model.bic_) == {"tied", "spherical", "diag", "full"}
    assert model.bic_["tied"] == min(model.bic_.values())
    np.testing.assert_array_equal(model.labels_, sdp.labels_)
    assert model.n_iter_ == 1 == len(model.objective_) and model.converged_
    pooled = model.covariances_[0, 0, 0]
    np.testing.assert_allclose(model.covariances_, pooled * np.broadcast_to(
        np.eye(2), (3, 2, 2)))
    X, truth = heterogeneous(150, 5, 5.0, 13)
    model = ILASDPClustering(3, random_state=0).fit(X)
    assert model.covariance_type_ == "spherical"
    assert misclustering(model.labels_, truth) <= 0.02
    # A refit with a fixed family reports that family only (no stale scores).
    model.set_params(covariance_type="diag").fit(X)
    assert model.covariance_type_ == "diag" and list(model.bic_) == ["diag"]


def test_mixture_bic_matches_gaussian_mixture():
    # The same parameters give GaussianMixture.bic's value.
    from sklearn.mixture import GaussianMixture

    from skkernel.cluster._ila_sdp import mixture_bic, mixture_parameters

    X, truth = heterogeneous(120, 3, 5.0, 14)
    for family in ("full", "diag", "spherical"):
        means, covariances, weights = mixture_parameters(X, truth, 3, family, 1e-6)
        gm = GaussianMixture(3, covariance_type=family)
        gm.means_, gm.weights_ = means, weights
        if family == "full":
            gm.covariances_ = covariances
        elif family == "diag":
            gm.covariances_ = np.array([np.diag(c) for c in covariances])
        else:
            gm.covariances_ = covariances[:, 0, 0]
        from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
        gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, family)
        assert math.isclose(mixture_bic(X, truth, 3, family, 1e-6), gm.bic(X),
                            rel_tol=1e-10)


def test_ila_sdp_mixture_matches_scipy():
    X, _ = heterogeneous(150, 2, 5.0, 9)
    model = ILASDPClustering(3, random_state=0).fit(X)
    density = sum(
        w * multivariate_normal(m, c).pdf(X)
        for w, m, c in zip(model.weights_, model.means_, model.covariances_)
    )
    np.testing.assert_allclose(model.score_samples(X), np.log(density), rtol=1e-10)
    assert math.isclose(model.score(X), np.log(density).mean(), rel_tol=1e-10)
    joint = np.column_stack([
        w * multivariate_normal(m, c).pdf(X)
        for w, m, c in zip(model.weights_, model.means_, model.covariances_)
    ])
    np.testing.assert_array_equal(model.predict(X), joint.argmax(axis=1))


def test_ila_sdp_membership_rounding_and_given_labels():
    X, truth = heterogeneous(150, 2, 6.0, 10)
    model = ILASDPClustering(3, rounding="membership", init=truth,
                             random_state=0).fit(X)
    assert misclustering(model.labels_, truth) <= 0.02
    blocks, _ = blocks_from_labels(truth, 3, "admm", 2, np, np.random.RandomState(0))
    np.testing.assert_allclose(sum(blocks), exact_membership(truth))


def test_errors_and_warnings():
    X, truth = heterogeneous(30, 2, 5.0, 11)
    with pytest.raises(ValueError, match=r"n_samples=30 should be >= n_clusters=31"):
        SDPKMeans(31).fit(X)
    with pytest.raises(ValueError, match=r"n_samples=30 should be >= n_clusters=31"):
        ILASDPClustering(31).fit(X)
    with pytest.raises(ValueError, match="init has 29 labels, but X has 30 samples"):
        ILASDPClustering(3, init=truth[:-1]).fit(X)
    with pytest.raises(ValueError, match="init must hold n_clusters=3 distinct labels"):
        ILASDPClustering(3, init=truth % 2).fit(X)
    with pytest.raises(ValueError, match="'covariance_type' parameter"):
        ILASDPClustering(3, covariance_type="tied").fit(X)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ILASDPClustering(3).fit(X_nan)
    # Ten points a cluster in 12 dimensions: singular covariances, regularised.
    rng = np.random.RandomState(0)
    X_wide = np.repeat(np.eye(3) * 20, 10, axis=0) @ rng.normal(size=(3, 12))
    X_wide += rng.normal(size=X_wide.shape)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ILASDPClustering(3, covariance_type="full", max_iter=2,
                         random_state=0).fit(X_wide)
    assert any("fewer than n_features=12" in str(w.message) for w in caught)
    # "auto" does not choose the singular full covariances here, and so
    # does not warn.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ILASDPClustering(3, max_iter=2, random_state=0).fit(X_wide)
    assert model.covariance_type_ != "full"
    assert not any("n_features=12" in str(w.message) for w in caught)


def test_ila_sdp_stops_when_the_partition_settles():
    # Spectral rounding names the clusters afresh every time; a renamed but
    # equal partition counts as unchanged (this fit took 6 iterations when it
    # did not, and 3 when the objective also had to settle). Two solves are
    # needed: the start's labels come from another program.
    from sklearn.datasets import make_blobs
    from sklearn.preprocessing import StandardScaler

    from skkernel.cluster._ila_sdp import _same_partition

    assert _same_partition(np.array([0, 0, 1, 2]), np.array([2, 2, 0, 1]))
    assert not _same_partition(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]))
    X, _ = make_blobs(n_samples=50, random_state=1)
    X = StandardScaler().fit_transform(X)
    model = ILASDPClustering(3, covariance_type="full", random_state=0).fit(X)
    assert model.converged_ and model.n_iter_ == 2


def test_one_cluster_converges_without_warning():
    X = np.random.RandomState(0).normal(size=(10, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SDPKMeans(1, random_state=0).fit(X)
    assert model.converged_ and np.all(model.labels_ == 0)


def test_burer_monteiro_warm_dual_reaches_the_same_optimum_sooner():
    X, truth = heterogeneous(150, 2, 5.0, 12)
    X = X - X.mean(axis=0)
    costs = []
    for k in range(3):
        covariance = np.cov(X[truth == k].T, bias=True)
        costs.append(_sdp.MahalanobisCost(
            X, *_ila_sdp._precision_and_offset(covariance, 0.0, np)))
    init = blocks_from_labels(truth, 3, "bm", 6, np, np.random.RandomState(0))[1]
    cold = _sdp.burer_monteiro(costs, [1.0] * 3, rank=6, init=init, tol=1e-6,
                               backend="numba")
    warm = _sdp.burer_monteiro(costs, [1.0] * 3, rank=6, init=cold.factors,
                               init_dual=cold.dual, tol=1e-6, backend="numba")
    assert cold.converged and warm.converged
    assert math.isclose(warm.objective, cold.objective, rel_tol=1e-5)
    assert warm.n_iter <= 0.6 * cold.n_iter  # 2,100 against 4,300 steps


def test_split_merge_move_undoes_a_split_and_a_merge():
    # The unbalanced benchmark's failure: the diffuse cluster cut in two, the
    # two tight ones merged. One move (merge the halves, split the merged
    # pair) restores the partition and lowers the lifted objective.
    rng = np.random.RandomState(0)
    truth = np.repeat([0, 1, 2], [60, 60, 240])
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 12.0]])
    X = centres[truth] + rng.normal(size=(truth.size, 2)) * np.array(
        [0.5, 0.5, 3.0])[truth][:, None]
    wrong = truth.copy()
    wrong[truth == 1] = 0
    wrong[(truth == 2) & (X[:, 0] > 2.0)] = 1
    model = ILASDPClustering(3)
    moved = model._split_merge(X, wrong, "full", np.random.RandomState(0))
    assert misclustering(moved, truth) == 0.0
    assert (model._partition_objective(X, moved, "full")
            < model._partition_objective(X, wrong, "full"))
    # At the true partition no move lowers the objective.
    assert model._split_merge(X, truth, "full", np.random.RandomState(0)) is None


def test_partition_objective_is_the_lifted_objective_at_exact_blocks():
    X, truth = heterogeneous(60, 2, 4.0, 13)
    model = ILASDPClustering(3, reg_covar=1e-3)
    Xc = X - X.mean(axis=0)
    blocks, _ = blocks_from_labels(truth, 3, "admm", 2, np, None)
    total = 0.0
    for k in range(3):
        scatter, mass = _ila_sdp._within_scatter(Xc, blocks, None, k)
        covariance = _ila_sdp.covariance_from_scatter(scatter, mass, "full", 1e-3)
        cost = _sdp.MahalanobisCost(Xc, *_ila_sdp._precision_and_offset(covariance,
                                                                        1e-3, np))
        total += float((cost.dense() * blocks[k]).sum())
    assert math.isclose(model._partition_objective(X, truth, "full"), total,
                        rel_tol=1e-10)


def test_more_starts_never_end_higher():
    X, _ = heterogeneous(90, 2, 3.0, 14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = ILASDPClustering(3, covariance_type="full", random_state=0).fit(X)
        three = ILASDPClustering(3, covariance_type="full", n_init=3,
                                 random_state=0).fit(X)
    assert (three._partition_objective(X, three.labels_, "full")
            <= one._partition_objective(X, one.labels_, "full") + 1e-9)
