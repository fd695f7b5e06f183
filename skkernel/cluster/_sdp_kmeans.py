"""SDP K-means (Peng-Wei relaxation) and the pieces iLA-SDP shares with it."""

import warnings
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ..backend import get_array_module, like_input, to_cpu, to_device
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..utils import progress_bar
from ..utils._linalg import small_factorization
from ._sdp import GramCost, admm, burer_monteiro

SOLVER_CONSTRAINTS = {
    "solver": [Options("auto", "admm", "bm")],
    "rank": [Interval(Integral, 1, None), None],
    "max_iter": [Interval(Integral, 1, None), None],
    "tol": [Interval(Real, 0, 1, closed="neither")],
}


def resolve_solver(solver):
    """``"auto"`` is Burer-Monteiro (see the ``solver`` parameter's notes)."""
    return "bm" if solver == "auto" else solver


def check_n_clusters(n_clusters, n_samples):
    if n_clusters > n_samples:
        raise ValueError(
            f"n_samples={n_samples} should be >= n_clusters={n_clusters}: "
            "each cluster needs at least one point."
        )


def solve_membership_sdp(costs, traces, *, solver, rank, init_blocks, init_factors,
                         max_iter, tol, backend, xp, random_state, verbose, name,
                         init_dual=None, warn=True):
    """Run the chosen solver with a progress bar; warn if it stopped early.

    ``init_dual`` warm-starts Burer-Monteiro's multiplier (the ``dual`` of a
    previous result on similar costs).
    """
    n = costs[0].X.shape[0]
    # Threaded LAPACK on n x n blocks this small, and BLAS on the skinny
    # products of Burer-Monteiro, lose to one thread: eigh at n = 600 took
    # 0.023 s on one thread and 3.3 s on two busy cores.
    one_thread = xp is np and (solver == "bm" or n <= 1000)
    with small_factorization() if one_thread else nullcontext():
        result = _run_solver(costs, traces, solver, rank, init_blocks, init_factors,
                             init_dual, max_iter, tol, backend, xp, random_state,
                             verbose, name)
    if warn and not result.converged:
        warnings.warn(
            f"{name}: solver={solver!r} stopped after {result.n_iter} iterations "
            f"with residual {result.primal_residual:.2e} > tol={tol}; increase "
            "max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


def _run_solver(costs, traces, solver, rank, init_blocks, init_factors, init_dual,
                max_iter, tol, backend, xp, random_state, verbose, name):
    if solver == "admm":
        cap = 5000 if max_iter is None else max_iter
        with progress_bar(cap, f"{name} ADMM", verbose) as bar:
            def progress(residual):
                bar.set_postfix_str(f"residual {residual:.2e}")
                bar.update()

            result = admm([c.dense() for c in costs], traces, init=init_blocks,
                          max_iter=cap, tol=tol, backend=backend, xp=xp,
                          progress=progress)
    else:
        cap = 300 if max_iter is None else max_iter
        with progress_bar(cap, f"{name} Burer-Monteiro", verbose) as bar:
            def progress(residual):
                bar.set_postfix_str(f"row-sum residual {residual:.2e}")
                bar.update()

            result = burer_monteiro(costs, traces, rank=rank, init=init_factors,
                                    init_dual=init_dual, random_state=random_state,
                                    max_iter=cap, tol=tol, backend=backend, xp=xp,
                                    progress=progress)
    return result


def spectral_round(result, n_clusters, random_state, xp):
    """Labels from the top-``n_clusters`` eigenvectors of ``Z = sum_k B_k``.

    The rows of ``V_K Lambda_K^(1/2)`` coincide within a cluster at an exact
    solution; k-means on them rounds any solution (the authors' rounding).
    """
    if result.factors is not None:
        factor = xp.concatenate(result.factors, axis=1)
        left, singular, _ = xp.linalg.svd(factor, full_matrices=False)
        embedding = left[:, :n_clusters] * singular[:n_clusters]
    else:
        Z = sum(result.blocks)
        values, vectors = xp.linalg.eigh(0.5 * (Z + Z.T))
        top = vectors[:, -n_clusters:] * xp.sqrt(xp.maximum(values[-n_clusters:], 0))
        embedding = top
    embedding = np.asarray(to_cpu(embedding))
    return KMeans(n_clusters, n_init=3, random_state=random_state).fit_predict(
        embedding)


def cluster_means(X, labels, n_clusters):
    counts = np.bincount(labels, minlength=n_clusters).astype(np.float64)
    sums = np.zeros((n_clusters, X.shape[1]))
    np.add.at(sums, labels, X)
    return sums / np.maximum(counts, 1)[:, None], counts


class SDPKMeans(ClusterMixin, SkkernelEstimator):
    """K-means through the Peng-Wei semidefinite relaxation.

    Maximises ``<X X^T, Z>`` over ``Z`` positive semidefinite, ``Z >= 0``
    entrywise, ``tr Z = n_clusters`` and ``Z 1 = 1``; the exact K-means
    partitions are the feasible ``Z = sum_k 1_k 1_k^T / n_k``, and the
    relaxation recovers them exactly when the clusters are separated beyond
    the threshold of Chen and Yang [2]_. Labels come from spectral rounding:
    k-means on the rows of the top ``n_clusters`` eigenvectors of ``Z``
    (scaled by the square roots of their eigenvalues).

    It is the initialiser and the baseline of :class:`ILASDPClustering`.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters ``K``.
    solver : {"auto", "admm", "bm"}, default="auto"
        ``"admm"``: two-block ADMM over ``n x n`` matrices (one
        eigendecomposition a step, n up to a few thousand); ``"bm"``:
        Burer-Monteiro with a nonnegative ``n x rank`` factor, never an
        ``n x n`` matrix (n up to 1e5 and more). ``"auto"`` is
        Burer-Monteiro: on scikit-learn's common-check data (100 unstructured
        points) ADMM took 40-80 s a fit against 0.2 s; ADMM certifies the
        optimum (about a second at n = 150 on clustered data).
    rank : int, default=None
        Columns of the Burer-Monteiro factor; ``None`` is ``3 * n_clusters``
        (with ``2 * n_clusters``, the authors' choice, one of two random starts
        stopped at a local optimum 5e-4 above the ADMM optimum on 90 points;
        with 3 K all twelve starts tried reached it within 5e-7).
    max_iter : int, default=None
        ADMM iterations (``None``: 5,000), or Burer-Monteiro multiplier
        updates (``None``: 300).
    tol : float, default=1e-5
        ADMM: relative primal and dual residuals; Burer-Monteiro: the row-sum
        residual and the relative change of the objective.
    random_state : int, RandomState instance or None, default=None
        Seeds the Burer-Monteiro start and the k-means of the rounding.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numba"`` compiles ADMM's projection of the rows onto the simplex
        and Burer-Monteiro's gradient (one pass over the rows instead of a
        dozen numpy calls: 2-5 times faster at n = 600-10,000); ``"cupy"``
        runs the solvers' products and eigendecompositions on the GPU;
        ``"numpy"`` is the reference.
    n_jobs : int, default=None
        Numba threads during the fit.
    verbose : int, default=0
        ``> 0`` shows a progress bar over the solver's iterations.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training point.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Mean of each cluster.
    sdp_objective_ : float
        ``<X X^T, Z>`` at the solution (an upper bound on the K-means
        objective ``sum_k n_k ||mean_k||^2``, equal at exact recovery).
    solver_ : str
        The solver that ran.
    n_iter_ : int
        Solver iterations (ADMM steps or gradient steps).
    converged_ : bool
        Whether the solver reached ``tol``.
    backend_ : str
        The backend that ran the fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only for DataFrames.

    See Also
    --------
    ILASDPClustering : The likelihood-adjusted SDP for clusters with
        different covariances.
    sklearn.cluster.KMeans : Lloyd's algorithm.

    Notes
    -----
    Deviations: the authors solve the program with SDPNAL+ (MATLAB) at
    tolerance 1e-6; here ADMM with residual balancing and over-relaxation, or
    the nonnegative low-rank factorisation of Zhuang et al. [3]_ solved by
    an augmented Lagrangian with spectral projected gradient steps (its
    normalisation ``||U||_F^2 = K`` imposes ``tr Z = K`` exactly). Burer-Monteiro
    is nonconvex; it reaches the ADMM optimum on the tests' data but carries
    no certificate.

    References
    ----------
    .. [1] J. Peng and Y. Wei, "Approximating K-means-type clustering via
       semidefinite programming", SIAM J. Optim. 18(1), 2007.
    .. [2] X. Chen and Y. Yang, "Cutoff for exact recovery of Gaussian mixture
       models", IEEE Trans. Inf. Theory 67(6), 2021.
    .. [3] Y. Zhuang, X. Chen, Y. Yang and R. Y. Zhang, "Statistically optimal
       K-means clustering via nonnegative low-rank semidefinite programming",
       ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.cluster import SDPKMeans
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1],
    ...               [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    >>> model = SDPKMeans(n_clusters=2, random_state=0).fit(X)
    >>> model.labels_[:3].tolist() == [model.labels_[0]] * 3
    True
    >>> bool(model.labels_[0] != model.labels_[3])
    True
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None)],
        **SOLVER_CONSTRAINTS,
        **COMMON_CONSTRAINTS,
    }
    _finite_fitted_attributes = ("cluster_centers_", "sdp_objective_")

    def __init__(self, n_clusters=2, *, solver="auto", rank=None, max_iter=None,
                 tol=1e-5, random_state=None, backend="auto", n_jobs=None, verbose=0):
        self.n_clusters = n_clusters
        self.solver = solver
        self.rank = rank
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X, y=None):
        """Solve the relaxation and round it to labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (numpy or cupy).
        y : None
            Ignored.

        Returns
        -------
        self : SDPKMeans
            The fitted estimator.
        """
        with self._fit_context(X) as ctx:
            X = ctx.X
            n = X.shape[0]
            check_n_clusters(self.n_clusters, n)
            solver = resolve_solver(self.solver)
            xp = get_array_module(ctx.backend)[0]
            X_dev = to_device(X, ctx.backend)
            centred = X_dev - X_dev.mean(axis=0)
            rank = 3 * self.n_clusters if self.rank is None else self.rank
            result = solve_membership_sdp(
                [GramCost(centred)], [float(self.n_clusters)], solver=solver,
                rank=rank, init_blocks=None, init_factors=None,
                max_iter=self.max_iter, tol=self.tol, backend=ctx.backend, xp=xp,
                random_state=ctx.random_state, verbose=self.verbose,
                name="SDPKMeans",
            )
            labels = spectral_round(result, self.n_clusters, ctx.random_state, xp)
            if result.factors is not None:
                projected = X_dev.T @ result.factors[0]
                sdp_objective = float((projected * projected).sum())
            else:
                sdp_objective = float(((X_dev.T @ result.blocks[0]) * X_dev.T).sum())
            self.labels_ = labels
            self.cluster_centers_ = cluster_means(X, labels, self.n_clusters)[0]
            self.sdp_objective_ = sdp_objective
            self.solver_ = solver
            self.n_iter_ = int(result.n_iter)
            self.converged_ = bool(result.converged)
        return self

    def predict(self, X):
        """Assign each sample to the nearest cluster centre.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the nearest ``cluster_centers_`` row.
        """
        check_is_fitted(self)
        Xv = self._validate_predict_data(X)
        centres = self.cluster_centers_
        # ||x - c||^2 up to ||x||^2, which does not change the argmin.
        distances = (centres * centres).sum(axis=1)[None, :] - 2.0 * (Xv @ centres.T)
        return like_input(np.argmin(distances, axis=1), X)
