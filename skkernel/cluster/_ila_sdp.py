"""iLA-SDP: iterative likelihood-adjusted SDP clustering (Zhuang, Chen, Yang 2023)."""

import math
import warnings
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..backend import get_array_module, like_input, to_cpu, to_device
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..utils import progress_bar
from ..utils._linalg import small_factorization
from ._sdp import MahalanobisCost
from ._sdp_kmeans import (
    SOLVER_CONSTRAINTS,
    SDPKMeans,
    check_n_clusters,
    cluster_means,
    resolve_solver,
    solve_membership_sdp,
    spectral_round,
)


def _same_partition(a, b):
    """Equal partitions up to the names of the clusters (rounding permutes them)."""
    _, first_a, inverse_a = np.unique(a, return_index=True, return_inverse=True)
    _, first_b, inverse_b = np.unique(b, return_index=True, return_inverse=True)
    rank_a = np.argsort(np.argsort(first_a))[inverse_a]
    rank_b = np.argsort(np.argsort(first_b))[inverse_b]
    return np.array_equal(rank_a, rank_b)


def _within_scatter(X, blocks, factors, k):
    """``S_k = X^T (diag(B_k 1) - B_k) X`` and ``n_k = 1^T B_k 1``."""
    if factors is not None:
        U = factors[k]
        mass = U @ U.sum(axis=0)
        XU = X.T @ U
        return (X.T * mass) @ X - XU @ XU.T, float(mass.sum())
    B = blocks[k]
    mass = B.sum(axis=1)
    return (X.T * mass) @ X - X.T @ (B @ X), float(mass.sum())


def covariance_from_scatter(scatter, mass, covariance_type, reg_covar, xp=np):
    """The covariance minimising the lifted objective for a block.

    ``Sigma = S / n_k + reg_covar I`` (full), its diagonal (diag), or
    ``tr(S) / (n_k p) + reg_covar`` times the identity (spherical): each the
    exact minimiser of ``tr(Sigma^-1 (S + n_k reg_covar I)) / 2 +
    n_k log det(Sigma) / 2`` over its family.
    """
    p = scatter.shape[0]
    mass = max(mass, 1e-12)
    if covariance_type == "full":
        return scatter / mass + reg_covar * xp.eye(p)
    if covariance_type == "diag":
        return xp.diag(xp.diag(scatter) / mass + reg_covar)
    return (float(xp.trace(scatter)) / (mass * p) + reg_covar) * xp.eye(p)


def _precision_and_offset(covariance, reg_covar, xp):
    """``Sigma^-1`` and ``log det Sigma + reg_covar tr Sigma^-1``."""
    cholesky = xp.linalg.cholesky(covariance)
    inverse_cholesky = xp.linalg.inv(cholesky)
    precision = inverse_cholesky.T @ inverse_cholesky
    logdet = 2.0 * float(xp.log(xp.diag(cholesky)).sum())
    return precision, logdet + reg_covar * float(xp.trace(precision))


# The families `covariance_type="auto"` fits, simplest first: each later one
# starts from the partition (the start or an earlier family's) that its own
# objective ranks lowest.
AUTO_FAMILIES = ("spherical", "diag", "full")


def mixture_parameters(X, labels, n_clusters, covariance_type, reg_covar):
    """Means, covariances (full matrices) and weights fitted to ``labels``.

    ``covariance_type="tied"`` is one spherical covariance shared by the
    clusters, ``(within sum of squares / (n p) + reg_covar) I``: the model
    K-means and SDP K-means fit.
    """
    K, (n, p) = n_clusters, X.shape
    means, counts = cluster_means(X, labels, K)
    scatters = []
    for k in range(K):
        centred = X[labels == k] - means[k]
        scatters.append(centred.T @ centred)
    covariances = np.empty((K, p, p))
    if covariance_type == "tied":
        pooled = sum(float(np.trace(S)) for S in scatters) / (n * p) + reg_covar
        covariances[:] = pooled * np.eye(p)
    else:
        for k in range(K):
            covariances[k] = covariance_from_scatter(
                scatters[k], counts[k], covariance_type, reg_covar)
    return means, covariances, counts / counts.sum()


def log_joint(X, means, covariances, weights):
    """``log w_k + log N(x; mean_k, Sigma_k)`` for every sample and cluster."""
    n, p = X.shape
    out = np.empty((n, len(weights)))
    for k in range(len(weights)):
        cholesky = np.linalg.cholesky(covariances[k])
        solved = np.linalg.solve(cholesky, (X - means[k]).T)
        logdet = 2.0 * np.log(np.diag(cholesky)).sum()
        with np.errstate(divide="ignore"):
            log_weight = np.log(weights[k])
        out[:, k] = log_weight - 0.5 * (
            (solved * solved).sum(axis=0) + logdet + p * math.log(2 * math.pi))
    return out


def mixture_bic(X, labels, n_clusters, covariance_type, reg_covar):
    """BIC of the Gaussian mixture fitted to ``labels`` (lower is better).

    ``-2 log L + m log n`` with the observed-data (mixture) log-likelihood at
    the parameters fitted to the partition, and ``m`` free parameters: means
    ``K p``, weights ``K - 1``, covariances ``K p (p + 1) / 2`` (full),
    ``K p`` (diag), ``K`` (spherical) or 1 (tied), as
    ``GaussianMixture.bic`` counts them.
    """
    K, (n, p) = n_clusters, X.shape
    params = mixture_parameters(X, labels, K, covariance_type, reg_covar)
    log_likelihood = float(logsumexp(log_joint(X, *params), axis=1).sum())
    per_cluster = {"full": p * (p + 1) / 2, "diag": p, "spherical": 1}
    n_cov = 1 if covariance_type == "tied" else K * per_cluster[covariance_type]
    n_parameters = K * p + K - 1 + n_cov
    return -2.0 * log_likelihood + n_parameters * math.log(n)


def blocks_from_labels(labels, n_clusters, solver, rank, xp, rng):
    """Exact membership matrices ``1_k 1_k^T / n_k`` (or their factors)."""
    n = labels.shape[0]
    blocks, factors = None, None
    indicators = [(labels == k).astype(np.float64) for k in range(n_clusters)]
    sizes = [max(ind.sum(), 1.0) for ind in indicators]
    if solver == "admm":
        blocks = [xp.asarray(np.outer(ind, ind) / size)
                  for ind, size in zip(indicators, sizes)]
    else:
        factors = []
        for ind, size in zip(indicators, sizes):
            U = 1e-3 * rng.uniform(size=(n, rank)) / math.sqrt(n)
            U[:, 0] += ind / math.sqrt(size)
            factors.append(xp.asarray(U))
    return blocks, factors


class ILASDPClustering(ClusterMixin, SkkernelEstimator):
    """Iterative likelihood-adjusted SDP clustering of heterogeneous Gaussian data.

    The labels of a Gaussian mixture with cluster-specific covariances are
    treated as parameters; profiling out the means writes the negative
    log-likelihood as ``sum_k <W_k, B_k>`` over group-specific membership
    matrices ``B_k = 1_k 1_k^T / n_k``, with
    ``W_k = D^(k)/4 + (log det Sigma_k) 11^T / 2`` and ``D^(k)_ij`` the
    squared Mahalanobis distance of ``x_i - x_j`` under ``Sigma_k``: no
    centroid appears. Relaxing the rank gives the convex LA-SDP::

        minimise sum_k <W_k, B_k>   over  B_k PSD, B_k >= 0, tr B_k = 1,
                                          sum_k B_k 1 = 1.

    iLA-SDP alternates: covariances from the current membership matrices
    (``Sigma_k = X^T (diag(B_k 1) - B_k) X / (1^T B_k 1)``, the exact
    minimiser of the lifted objective), then the LA-SDP for those
    covariances. Both steps minimise one objective, so ``objective_`` never
    increases (up to the solver's tolerance). On isotropic data with equal
    covariances LA-SDP is the Peng-Wei SDP (:class:`SDPKMeans`).

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters ``K``.
    covariance_type : {"auto", "full", "diag", "spherical"}, default="auto"
        Family of the cluster covariances. ``"auto"`` fits ``"spherical"``,
        ``"diag"`` and ``"full"`` in turn (each from the partition, the start
        or a simpler family's result, that its objective ranks lowest, with
        the solver state that found it) and keeps the lowest BIC among them
        and the start itself, scored as one shared spherical covariance
        (``"tied"``, the model SDP K-means fits; only with ``init="sdp"`` or
        ``"k-means++"``), as mclust chooses a covariance model by BIC. It
        costs about twice one family's fit (22 s against 10.5 s at
        n = 10,000, p = 10 on 2 cores). On the
        benchmark's equal-variance data it keeps the SDP K-means partition on
        10 seeds of 10, on its heterogeneous rows the spherical family (the
        model that generated them), on iris the full one. The choice is in
        `covariance_type_`.
    reg_covar : float, default=1e-6
        Ridge added to each covariance's diagonal; the tracked objective
        includes its term ``reg_covar n_k tr(Sigma_k^-1) / 2``, so both steps
        stay exact minimisers. Needed whenever a cluster has fewer than
        ``n_features`` points.
    init : {"sdp", "k-means++"} or array-like of shape (n_samples,), \
            default="sdp"
        Starting labels: SDP K-means, k-means++ (10 initialisations), or
        given labels (``n_clusters`` distinct values).
    n_init : int, default=1
        Runs of the alternation: the first from ``init``, each other from one
        k-means++ run seeded by ``random_state`` (as
        :class:`~sklearn.mixture.GaussianMixture` draws its starts). The run
        whose partition has the lowest lifted objective (below) is kept.
    split_merge : bool, default=True
        After each run, try the best move that merges two clusters and splits
        a third by 2-means (the SMEM moves of Ueda et al. [2]_), ranked by
        the lifted objective of the partitions; restart the alternation from
        it and keep the result if its objective is lower, up to
        ``n_clusters`` moves. The alternation only moves points, so it cannot
        undo a start that cut one cluster and merged two others: on the
        benchmark's unbalanced data (sizes 50 / 100 / 250, p = 10) one seed
        in five stayed at error 0.41 without the move and reached 0.01 with
        it; on the other rows no move lowered the objective. A split must
        leave both halves more than ``n_features`` points (``"full"``), so
        ridge-regularised singular covariances never win a move.
    solver : {"auto", "admm", "bm"}, default="auto"
        LA-SDP solver, as in :class:`SDPKMeans`. ``"auto"`` is
        Burer-Monteiro: ADMM certifies the optimum of each LA-SDP but needs
        500-1500 steps of ``n_clusters`` eigendecompositions a solve (a whole
        fit at n = 150 took 154 s against 1.9 s at load 1 on 2 cores);
        Burer-Monteiro is nonconvex: it reached the same labels on the tests'
        data, but on one 150 x 10 case it ended 2.8% above ADMM's objective
        (error 0.020 against 0.013). Each solve after the first starts from
        the previous factors and multiplier.
    rank : int, default=None
        Columns of each Burer-Monteiro factor; ``None`` is ``2 * n_clusters``
        (from random starts on 45 points, ranks 2-4 stopped up to 35% above
        the optimum, rank 6 within 2e-4; the fit starts from labels, which
        helps further).
    rounding : {"spectral", "membership"}, default="spectral"
        ``"spectral"``: k-means on the top eigenvectors of ``sum_k B_k`` (the
        paper's Fig. 1); ``"membership"``: ``argmax_k (B_k 1)_i``.
    max_iter : int, default=20
        Outer iterations (covariance step + LA-SDP) of each run.
    tol : float, default=1e-4
        Stop when two successive solves round to the same partition, or when
        the objective changed by less than ``tol`` relative (waiting for
        both cost one to three extra solves after the labels had settled).
    solver_max_iter : int, default=None
        Iteration cap of each SDP solve (``None``: the solver's default).
    solver_tol : float, default=1e-5
        Tolerance of each SDP solve.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the Burer-Monteiro start and the rounding.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        As in :class:`SDPKMeans` (``"numba"`` compiles the Burer-Monteiro
        gradient).
    n_jobs : int, default=None
        Numba threads during the fit.
    verbose : int, default=0
        ``> 0`` shows a progress bar over the outer iterations (and ``> 1``
        over each solve).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training point: the rounded partition of the last
        LA-SDP solve (the paper's answer, also what ``fit_predict`` returns).
        ``predict`` on the training points applies the fitted mixture's
        Bayes rule instead and can differ on a few boundary points (0-4 of
        300-600 on the benchmark's data).
    means_ : ndarray of shape (n_clusters, n_features)
        Cluster means (from the labels).
    covariances_ : ndarray of shape (n_clusters, n_features, n_features)
        Cluster covariances of the family `covariance_type_` fitted to the
        labels (with ``reg_covar``), as full matrices.
    weights_ : ndarray of shape (n_clusters,)
        Cluster proportions.
    covariance_type_ : str
        The covariance family of the result: ``covariance_type``, or with
        ``"auto"`` the one chosen (``"tied"`` when the start was kept).
    bic_ : dict
        The BIC of the fitted family, or with ``covariance_type="auto"`` of
        each candidate
        (``-2 log L + m log n``, the mixture log-likelihood at the parameters
        fitted to its partition, ``m`` free parameters counted as
        ``GaussianMixture.bic`` does); ``inf`` for a family whose fit left a
        cluster too small for its covariance (at most ``n_features`` points
        for ``"full"``, one point otherwise), whose likelihood is unbounded.
    objective_ : list of float
        The relaxed lifted negative log-likelihood after each LA-SDP solve of
        the kept run (for a kept ``"tied"`` start, its lifted objective).
    n_iter_ : int
        Outer iterations of the kept run (1 for a kept ``"tied"`` start: its
        SDP K-means solve is the LA-SDP with one shared covariance).
    converged_ : bool
        Whether the kept run's labels or objective settled before
        ``max_iter``.
    solver_ : str
        The SDP solver that ran.
    backend_ : str
        The backend that ran the fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only for DataFrames.

    See Also
    --------
    SDPKMeans : The Peng-Wei relaxation it starts from.
    sklearn.mixture.GaussianMixture : EM for the same model.

    Notes
    -----
    Faithful to the abstract and the derivation in the method notes; the
    paper's algorithm box was not available, so these choices are ours: the
    constraint set (``tr B_k = 1`` per block), the ridge term in the
    objective, SDP K-means as the default start, the stopping rule (labels
    unchanged over two solves, or relative objective change below ``tol``),
    the split-and-merge moves and the extra starts, the BIC choice of the
    covariance family (``"auto"``; the paper fixes one family), and the
    parameters of the mixture used by :meth:`predict` and
    :meth:`score_samples`, which are the maximum-likelihood estimates given
    ``labels_``. The solvers are those of :class:`SDPKMeans`; for
    Burer-Monteiro each block is ``U_k U_k^T`` with ``||U_k||_F = 1`` and
    ``W_k U_k`` is computed from ``X`` in ``O(n p r)`` without forming
    ``n x n`` matrices. Runs and moves are compared by the lifted objective
    at the exact membership matrices of their partitions, with covariances
    fitted to the labels: ``sum_k n_k (log det Sigma_k + p) / 2``.

    References
    ----------
    .. [1] Y. Zhuang, X. Chen and Y. Yang, "Likelihood adjusted semidefinite
       programs for clustering heterogeneous data", ICML 2023.
    .. [2] N. Ueda, R. Nakano, Z. Ghahramani and G. E. Hinton, "SMEM
       algorithm for mixture models", Neural Computation 12(9), 2000.
    .. [3] C. Fraley and A. E. Raftery, "Model-based clustering, discriminant
       analysis, and density estimation", JASA 97(458), 2002 (mclust's
       choice of covariance model by BIC).

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.cluster import ILASDPClustering
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (40, 2)), rng.normal(4, 1.5, (40, 2))])
    >>> model = ILASDPClustering(n_clusters=2, random_state=0).fit(X)
    >>> int(np.bincount(model.labels_).min())
    40
    >>> model.predict([[0.0, 0.0]]) == model.labels_[0]
    array([ True])
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None)],
        "covariance_type": [Options("auto", "full", "diag", "spherical")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "init": [Options("sdp", "k-means++"), "array-like"],
        "rounding": [Options("spectral", "membership")],
        "solver_max_iter": [Interval(Integral, 1, None), None],
        "solver_tol": [Interval(Real, 0, 1, closed="neither")],
        **SOLVER_CONSTRAINTS,
        "max_iter": [Interval(Integral, 1, None)],
        "n_init": [Interval(Integral, 1, None)],
        "split_merge": ["boolean"],
        **COMMON_CONSTRAINTS,
    }
    _finite_fitted_attributes = ("means_", "covariances_", "weights_")

    def __init__(self, n_clusters=2, *, covariance_type="auto", reg_covar=1e-6,
                 init="sdp", n_init=1, split_merge=True, solver="auto", rank=None,
                 rounding="spectral", max_iter=20, tol=1e-4, solver_max_iter=None,
                 solver_tol=1e-5, random_state=None, backend="auto", n_jobs=None,
                 verbose=0):
        self.n_clusters = n_clusters
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.init = init
        self.n_init = n_init
        self.split_merge = split_merge
        self.solver = solver
        self.rank = rank
        self.rounding = rounding
        self.max_iter = max_iter
        self.tol = tol
        self.solver_max_iter = solver_max_iter
        self.solver_tol = solver_tol
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------ fit

    def _initial_labels(self, X, random_state, backend):
        K = self.n_clusters
        if isinstance(self.init, str) and self.init == "sdp":
            return SDPKMeans(
                K, solver=self.solver, max_iter=self.solver_max_iter,
                tol=self.solver_tol, random_state=random_state, backend=backend,
                verbose=max(0, self.verbose - 1),
            ).fit(X).labels_
        if isinstance(self.init, str):
            return KMeans(K, n_init=10, random_state=random_state).fit_predict(X)
        labels = column_or_1d(np.asarray(to_cpu(self.init)))
        if labels.shape[0] != X.shape[0]:
            raise ValueError(
                f"init has {labels.shape[0]} labels, but X has {X.shape[0]} samples."
            )
        values, labels = np.unique(labels, return_inverse=True)
        if values.size != K:
            raise ValueError(
                f"init must hold n_clusters={K} distinct labels, got {values.size}."
            )
        return labels

    def fit(self, X, y=None):
        """Cluster ``X`` by alternating covariances and LA-SDP solves.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (numpy or cupy).
        y : None
            Ignored.

        Returns
        -------
        self : ILASDPClustering
            The fitted estimator.
        """
        with self._fit_context(X) as ctx:
            X = ctx.X
            n, p = X.shape
            K = self.n_clusters
            check_n_clusters(K, n)
            solver = resolve_solver(self.solver)
            rank = 2 * K if self.rank is None else self.rank
            xp = get_array_module(ctx.backend)[0]
            rng = ctx.random_state
            X_dev = to_device(X - X.mean(axis=0), ctx.backend)
            auto = self.covariance_type == "auto"
            families = AUTO_FAMILIES if auto else (self.covariance_type,)
            start_labels = self._initial_labels(X, rng, ctx.backend)
            runs = {}
            # (labels, final solver state of the run that found them)
            partitions = [(start_labels, None)]
            for family in families:
                # Start from the partition this family's objective ranks
                # lowest: the start, or a simpler family's result, with that
                # run's factors and multiplier (with a cold multiplier, the
                # first solve at a near-exact partition took 7,000 gradient
                # steps instead of 200).
                first, state = min(partitions,
                                   key=lambda item: self._partition_objective(
                                       X, item[0], family))
                runs[family] = self._fit_family(
                    X, X_dev, first, state, family, solver, rank, xp, rng,
                    ctx.backend)
                partitions.append((runs[family]["labels"], runs[family]["state"]))
            if auto and isinstance(self.init, str):
                # The start fits one shared spherical covariance.
                runs["tied"] = {
                    "labels": start_labels, "converged": True,
                    "objectives": [self._partition_objective(X, start_labels,
                                                             "tied")],
                }
            # A covariance fitted to too few points is singular: its
            # ridge-regularised likelihood is unbounded, so that family is
            # not a candidate (as mclust reports no BIC for it).
            self.bic_ = {
                family: mixture_bic(X, run["labels"], K, family, self.reg_covar)
                if np.bincount(run["labels"], minlength=K).min()
                > (p if family == "full" else 1) else math.inf
                for family, run in runs.items()
            }
            chosen = min(self.bic_, key=self.bic_.get) if auto else self.covariance_type
            best = runs[chosen]
            if not best["converged"]:
                warnings.warn(
                    f"ILASDPClustering did not converge in max_iter={self.max_iter} "
                    "outer iterations (labels still changing and the objective "
                    f"still moving by more than tol={self.tol}); increase max_iter.",
                    ConvergenceWarning, stacklevel=2,
                )
            self.means_, self.covariances_, self.weights_ = mixture_parameters(
                X, best["labels"], K, chosen, self.reg_covar)
            self.labels_ = best["labels"]
            self.covariance_type_ = chosen
            self.objective_ = best["objectives"]
            self.n_iter_ = len(best["objectives"])
            self.converged_ = best["converged"]
            self.solver_ = solver
        return self

    def _fit_family(self, X, X_dev, labels, state, family, solver, rank, xp, rng,
                    backend):
        """The ``n_init`` runs and split-merge moves for one covariance family."""
        K = self.n_clusters
        warned = []  # the small-cluster warning, once a fit
        best = None
        for start in range(self.n_init):
            if start > 0:
                # The extra starts: one k-means++ run each, as
                # GaussianMixture(n_init=...) draws its starts.
                labels = KMeans(K, n_init=1, random_state=rng).fit_predict(X)
            run = self._alternate(X_dev, labels, family, solver, rank, xp, rng,
                                  backend, start, warned,
                                  state=state if start == 0 else None)
            run["score"] = self._partition_objective(X, run["labels"], family)
            for _ in range(K if self.split_merge else 0):
                moved = self._split_merge(X, run["labels"], family, rng)
                if moved is None:
                    break
                candidate = self._alternate(X_dev, moved, family, solver, rank, xp,
                                            rng, backend, start, warned)
                candidate["score"] = self._partition_objective(
                    X, candidate["labels"], family)
                if candidate["score"] >= run["score"]:
                    break
                candidate["n_moves"] = run.get("n_moves", 0) + 1
                run = candidate
            if best is None or run["score"] < best["score"]:
                best = run
        return best

    def _alternate(self, X_dev, labels, family, solver, rank, xp, rng, backend, start,
                   warned, state=None):
        """One run of the alternation from ``labels``, or from the solver
        ``state`` (blocks, factors, multiplier) that rounded to them."""
        K = self.n_clusters
        if state is None:
            blocks, factors = blocks_from_labels(labels, K, solver, rank, xp, rng)
            dual = None
        else:
            blocks, factors, dual = state
        objectives = []
        converged = False
        name = "ILASDPClustering" + (f" (start {start + 1})" if self.n_init > 1 else "")
        with progress_bar(self.max_iter, name, self.verbose) as bar:
            for _ in range(self.max_iter):
                # p x p factorisations: one BLAS thread (threads only contend).
                with small_factorization() if xp is np else nullcontext():
                    costs = self._costs(X_dev, blocks, factors, family, xp, warned)
                # The multiplier of the previous solve warm-starts this one: the
                # costs change little from one outer iteration to the next.
                result = solve_membership_sdp(
                    costs, [1.0] * K, solver=solver, rank=rank,
                    init_blocks=blocks, init_factors=factors, init_dual=dual,
                    max_iter=self.solver_max_iter, tol=self.solver_tol,
                    backend=backend, xp=xp, random_state=rng,
                    verbose=max(0, self.verbose - 1), name="ILASDPClustering",
                )
                blocks, factors, dual = result.blocks, result.factors, result.dual
                new_labels = self._round(result, rng, xp)
                objectives.append(result.objective)
                bar.set_postfix_str(f"objective {result.objective:.6g}")
                bar.update()
                # Stop when two successive solves round to one partition (the
                # start's labels do not count: they come from another
                # program), or when the objective has settled.
                settled = len(objectives) > 1 and abs(
                    objectives[-1] - objectives[-2]
                ) <= self.tol * max(abs(objectives[-2]), 1e-300)
                unchanged = len(objectives) > 1 and _same_partition(new_labels, labels)
                labels = new_labels
                if unchanged or settled:
                    converged = True
                    break
        return {"labels": labels, "objectives": objectives, "converged": converged,
                "state": (blocks, factors, dual)}

    def _costs(self, X_dev, blocks, factors, family, xp, warned):
        """The covariance step: ``W_k`` for the current membership matrices."""
        p = X_dev.shape[1]
        costs = []
        for k in range(self.n_clusters):
            scatter, mass = _within_scatter(X_dev, blocks, factors, k)
            # With covariance_type="auto" the fit warns after choosing.
            if mass <= p and not warned and self.covariance_type == "full":
                warned.append(k)
                warnings.warn(
                    f"cluster {k} holds about {mass:.1f} points, fewer "
                    f"than n_features={p}: its covariance is singular "
                    f"and regularised by reg_covar={self.reg_covar}; "
                    "consider covariance_type='diag' or 'spherical'.",
                    UserWarning, stacklevel=4,
                )
            covariance = covariance_from_scatter(
                scatter, mass, family, self.reg_covar, xp)
            costs.append(MahalanobisCost(
                X_dev, *_precision_and_offset(covariance, self.reg_covar, xp)))
        return costs

    def _cluster_objective(self, points, family):
        """``n_C (log det Sigma_C + p) / 2`` of one cluster, its covariance fitted.

        The lifted objective at an exact membership matrix, with the
        covariance step done, is the sum of these over the clusters (the
        profile negative log-likelihood up to a constant), for every
        covariance family.
        """
        count, p = points.shape
        if count == 0:
            return 0.0
        centred = points - points.mean(axis=0)
        covariance = covariance_from_scatter(
            centred.T @ centred, count, family, self.reg_covar)
        return 0.5 * count * (np.linalg.slogdet(covariance)[1] + p)

    def _partition_objective(self, X, labels, family):
        if family == "tied":
            # n p (log sigma^2 + 1) / 2 with sigma^2 the pooled variance.
            n, p = X.shape
            _, covariances, _ = mixture_parameters(
                X, labels, self.n_clusters, "tied", self.reg_covar)
            return 0.5 * n * p * (math.log(covariances[0, 0, 0]) + 1.0)
        return sum(self._cluster_objective(X[labels == k], family)
                   for k in range(self.n_clusters))

    def _split_merge(self, X, labels, family, rng):
        """The best move merging two clusters and splitting a third, or None.

        The lifted objective is a sum over clusters, so a move's change is the
        merge's change plus the split's; each cluster is split by 2-means.
        A split must leave both halves more than ``n_features`` points
        (``covariance_type="full"``), else the ridge-regularised singular
        covariances would make any split look good.
        """
        K, p = self.n_clusters, X.shape[1]
        if K < 3:
            return None
        minimum = p + 1 if family == "full" else 2
        own = [self._cluster_objective(X[labels == k], family) for k in range(K)]
        splits = {}
        for k in range(K):
            members = np.flatnonzero(labels == k)
            if members.size < 2 * minimum:
                continue
            halves = KMeans(2, n_init=3, random_state=rng).fit_predict(
                X[members])
            if min(np.bincount(halves, minlength=2)) < minimum:
                continue
            change = (self._cluster_objective(X[members[halves == 0]], family)
                      + self._cluster_objective(X[members[halves == 1]], family)
                      - own[k])
            splits[k] = (change, members[halves == 1])
        best = None
        for i in range(K):
            for j in range(i + 1, K):
                merged = self._cluster_objective(X[(labels == i) | (labels == j)],
                                                 family)
                merge_change = merged - own[i] - own[j]
                for k, (split_change, half) in splits.items():
                    change = merge_change + split_change
                    if k not in (i, j) and (best is None or change < best[0]):
                        best = (change, i, j, half)
        if best is None or best[0] >= 0:
            return None
        _, i, j, half = best
        moved = labels.copy()
        moved[labels == j] = i
        moved[half] = j
        return moved

    def _round(self, result, rng, xp):
        if self.rounding == "spectral":
            return spectral_round(result, self.n_clusters, rng, xp)
        if result.factors is not None:
            masses = [U @ U.sum(axis=0) for U in result.factors]
        else:
            masses = [B.sum(axis=1) for B in result.blocks]
        return np.argmax(np.asarray(to_cpu(xp.stack(masses, axis=1))), axis=1)

    # ------------------------------------------------------------ predict

    def _log_joint(self, X):
        return log_joint(X, self.means_, self.covariances_, self.weights_)

    def predict(self, X):
        """Most probable cluster under the fitted Gaussian mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            ``argmax_k w_k N(x; means_[k], covariances_[k])``. On the
            training points this is a Bayes-rule reassignment of `labels_`,
            which it can differ from near the cluster boundaries.
        """
        check_is_fitted(self)
        Xv = self._validate_predict_data(X)
        return like_input(np.argmax(self._log_joint(Xv), axis=1), X)

    def score_samples(self, X):
        """Log-density of each sample under the fitted Gaussian mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``log sum_k w_k N(x; means_[k], covariances_[k])``.
        """
        check_is_fitted(self)
        Xv = self._validate_predict_data(X)
        return like_input(logsumexp(self._log_joint(Xv), axis=1), X)

    def score(self, X, y=None):
        """Mean log-density of ``X`` under the fitted mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`, as in ``GaussianMixture.score``.
        """
        return float(np.mean(to_cpu(self.score_samples(X))))
