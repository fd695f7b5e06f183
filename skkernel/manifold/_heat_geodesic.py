"""Heat-geodesic embedding (Huguet et al., NeurIPS 2023)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from .._config import get_config
from ..backend import like_input
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..utils import draw_seed, progress_bar
from ._distances import HEAT_GEODESIC, triplet_denoise
from ._graph import affinity_graph, count_components, extension_weights, graph_laplacian
from ._heat import (
    HeatOperator,
    chebyshev_error_bound,
    chebyshev_order,
    entropy_knee,
    heat_entropy,
    identity_columns,
    largest_eigenvalue,
    spectral_gap,
)
from ._mds import classical_mds, place_points, sgd_mds, smacof

# preset -> (power, denoise, mds_weights); see the class docstring.
_PRESETS = {
    "geodesic": (1.0, 0.0, "uniform"),
    "phate": (2.0, 1.0, "uniform"),
    "sne": (2.0, 0.0, "heat"),
}
# t="auto": t = _AUTO_T_GAP / lambda_2, chosen by the distance-preservation
# protocol of benchmarks/bench_heat_geodesic.py (selection seeds 42-46; see
# the user guide's table), capped so the Chebyshev order stays bounded.
_AUTO_T_GAP = 0.4
_AUTO_T_MAX = 300.0
_FALLBACK_T = 10.0
# t="knee": HeatGeo's grid linspace(0.05, 200, 10) (for the normalized L).
_AUTO_T_GRID = np.linspace(0.05, 200.0, 10)
_AUTO_T_COLUMNS = 256
_DIAGONAL_PROBES = 128
_EULER_STEPS = 30
_PLACEMENT_ITERATIONS = 30
# transform warns for samples farther from their nearest training sample
# than this many times that sample's kernel radius. Held-out samples of the
# training distribution stay below 3 (at most 2.8 over 10,000 draws of
# Gaussian, uniform and blob data in 2 to 20 dimensions with k = 3 or 5),
# while in high dimensions a third of them exceed 1.
_OUTSIDE_REACH = 3.0


def _block_size(total, bytes_per_item, n_buffers):
    """Items per block such that ``n_buffers`` blocks fit the working memory."""
    budget = get_config()["working_memory"] * 2**20
    return int(max(1, min(total, budget // (n_buffers * bytes_per_item))))


def _row_hashes(X):
    """A 64-bit hash of each row's values (``-0.0`` reads as ``0.0``).

    Integer arithmetic on the bit patterns, so identical rows hash alike
    whatever block they are in; far cheaper than sorting the rows.
    """
    n, d = X.shape
    multipliers = (np.arange(1, 2 * d + 1, 2, dtype=np.uint64)
                   * np.uint64(0x9E3779B97F4A7C15))
    hashes = np.empty(n, dtype=np.uint64)
    step = max(1, 2**20 // max(1, d))
    for start in range(0, n, step):
        bits = np.ascontiguousarray(X[start:start + step] + 0.0).view(np.uint64)
        bits ^= bits >> np.uint64(29)
        bits *= np.uint64(0xBF58476D1CE4E5B9)
        hashes[start:start + step] = (bits * multipliers).sum(axis=1,
                                                              dtype=np.uint64)
    return hashes


def _duplicate_groups(X):
    """Identical rows of ``X`` as ``(representatives, group)``, or None.

    ``representatives`` lists the first sample of each group (increasing)
    and ``group[i]`` is the group of sample ``i``; None when every row is
    distinct. Rows are compared exactly; a hash only picks the candidates.
    """
    n = X.shape[0]
    _, label, counts = np.unique(_row_hashes(X), return_inverse=True,
                                 return_counts=True)
    shared = np.flatnonzero(counts[label] > 1)
    if shared.size == 0:
        return None
    _, exact = np.unique(X[shared], axis=0, return_inverse=True)
    label = label.astype(np.int64)
    label[shared] = n + np.reshape(exact, -1)
    _, first, group = np.unique(label, return_index=True, return_inverse=True)
    if first.size == n:
        return None
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[np.reshape(group, -1)]


def _zero_self_distances(D, landmarks, groups):
    """Distance zero from each sample to itself and to identical samples.

    Identical samples are one point: their heat-kernel rows agree (up to
    round-off, or up to the random-probe estimate of the Harnack diagonal),
    so they get their representative's row (and column, without
    landmarks), and zero between them, as the diagonal gets.
    """
    m = landmarks.size
    D[landmarks, np.arange(m)] = 0.0
    if groups is None:
        return D
    representatives, group = groups
    n = D.shape[0]
    copies = np.flatnonzero(representatives[group] != np.arange(n))
    D[copies] = D[representatives[group[copies]]]
    if m == n:  # without landmarks the columns are samples too
        D[:, copies] = D[:, representatives[group[copies]]]
    # Pairs (row i, landmark column c) of one group.
    column_group = group[landmarks]
    in_group = np.bincount(group) > 1
    rows = np.flatnonzero(in_group[group])
    cols = np.flatnonzero(in_group[column_group])
    cols = cols[np.argsort(column_group[cols], kind="stable")]
    lo = np.searchsorted(column_group[cols], group[rows], side="left")
    hi = np.searchsorted(column_group[cols], group[rows], side="right")
    counts = hi - lo
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    D[np.repeat(rows, counts), cols[np.repeat(lo, counts) + offsets]] = 0.0
    return D


class HeatGeodesicEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                            SkkernelEstimator):
    """Heat-geodesic embedding: MDS of distances read from graph heat diffusion.

    Builds a PHATE-style alpha-decay kNN graph, computes the heat kernel
    ``H_t = exp(-t L)`` of its Laplacian, turns it into distances with
    Varadhan's formula ``d_t(x, y)^2 = -4t log H_t(x, y)`` (optionally with
    the Harnack volume correction, a power and triplet denoising), and
    embeds the distances by metric MDS (classical start, then stress
    minimised by SGD or SMACOF). With ``n_landmarks`` only the heat kernel
    to the landmarks is computed, so memory is ``O(n * n_landmarks)``.
    :meth:`transform` interpolates the training embedding continuously
    (see Notes).

    Read more in the :ref:`User Guide <heat_geodesic>`.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the embedding (any value; SGD and SMACOF are not
        limited to 2).
    n_neighbors : int, default=10
        ``k`` of the kNN graph; the alpha-decay bandwidth of a sample is the
        distance to its ``k``-th neighbour. Above ``n_samples - 1``, that is
        used instead, with a warning.
    decay : float or None, default=40
        Alpha-decay exponent ``a`` of ``exp(-(d / e_k)^a)``; ``None`` gives
        the plain (binary, symmetrised) kNN graph.
    n_pca : int or None, default=40
        Reduce to this many principal components before the neighbour
        search when the data has more features (as HeatGeo/graphtools do).
    laplacian : {"normalized", "combinatorial"}, default="normalized"
        ``I - D^-1/2 W D^-1/2`` or ``D - W``.
    t : float, "auto" or "knee", default="auto"
        Diffusion time. ``"auto"``: ``0.4 / lambda_2``, with ``lambda_2``
        the Laplacian's smallest nonzero eigenvalue (the spectral gap: heat
        needs a time of about ``1 / lambda_2`` to spread over the whole
        graph, after which its distances saturate), capped at 300 (divided
        by the mean degree for the combinatorial Laplacian). The
        constant was chosen by the distance-preservation protocol of the
        benchmark (user guide): shorter times follow the kNN graph's
        shortcuts through noise, longer ones saturate. ``"knee"``:
        HeatGeo's rule, the knee of the heat kernel's entropy over the grid
        ``linspace(0.05, 200, 10)`` (divided by the mean degree for the
        combinatorial Laplacian), estimated on 256 sampled columns.
    heat_method : {"chebyshev", "euler", "exact"}, default="chebyshev"
        Chebyshev expansion (order from an error bound), backward Euler
        (the paper's sweep setting) or dense eigendecomposition (small n).
    order : int or "auto", default="auto"
        Chebyshev order, or backward-Euler steps. ``"auto"``: the smallest
        Chebyshev order whose error bound is below ``tol``; 30 Euler steps.
    tol : float, default=1e-24
        Bound on ``max |H - exp(-tL)|`` used by ``order="auto"``. Far below
        round-off on purpose: beyond the order's reach (``K`` graph hops) the
        expansion is exactly zero and those distances tie at the ceiling,
        while the tiny far-field values still order far pairs (Spearman at
        n=1000: 0.864 with ``tol=1e-12``, 0.909 with ``1e-24``). The order
        grows slowly with ``log(1 / tol)``.
    preset : {"geodesic", "phate", "sne"}, default="geodesic"
        Sets the defaults of ``power``, ``denoise`` and ``mds_weights``:
        ``"geodesic"`` (1, 0, "uniform"), ``"phate"`` (2, 1, "uniform"),
        which is Heat-PHATE, and ``"sne"`` (2, 0, "heat"), the paper's
        SNE-like setting (use a small ``t``, 0.01 to 1).
    harnack : float, default=1.0
        Weight ``sigma`` of the Harnack volume term (0 is Varadhan's formula,
        HeatGeo's default; 1 the full correction; large values collapse the
        points). With the long diffusion times of ``t="auto"`` the term
        subtracts the offset ``-4t log H_t(x, x)`` that otherwise swamps
        nearby pairs: on the protocol's clean Swiss roll it triples the
        precision of the 10 nearest neighbours (0.16 -> 0.47) at the same
        global Spearman (user guide).
    power : float or "auto", default="auto"
        Distances are raised to this power; ``"auto"`` takes the preset's.
    denoise : float or "auto", default="auto"
        Triplet-denoising weight ``rho`` in ``[0, 1]``:
        ``D <- (1 - rho) D + rho ||D_i. - D_j.||``.
    mds_weights : {"uniform", "inverse_square", "heat"} or "auto", \
            default="auto"
        Stress weights: 1 (HeatGeo's default), ``d^-2`` (local emphasis), or
        ``exp(-d_t^2 / 4t) + 1e-5`` (the heat kernel when ``harnack=0``).
    mds : {"sgd", "smacof", "classical"}, default="sgd"
        Stress solver after the classical start (``"classical"``: none).
    n_landmarks : int or None, default=None
        Number of landmarks drawn at random. ``None`` uses every sample
        (``O(n^2)`` memory); a value above n_samples warns and uses all.
    random_state : int, RandomState instance or None, default=None
        Seeds PCA, landmarks, the entropy columns and the SGD order.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: scipy reference; ``"numba"``: fused CPU kernels
        (default on CPU); ``"cupy"``: the heat kernel on the GPU (the steps
        without a GPU kernel, such as the SGD stress solver, run the numpy
        reference).
    n_jobs : int, default=None
        Numba threads during fit (``-1``: all).
    verbose : int, default=0
        Progress bar over the heat-kernel column blocks when positive.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components)
        Coordinates of the training samples (their scale is the distances').
    dissimilarity_ : ndarray of shape (n_samples, `n_landmarks_`)
        Heat-geodesic distances from every sample to the landmarks; without
        landmarks this is the full pre-MDS matrix the paper's metrics use
        (zero diagonal).
    landmark_indices_ : ndarray of shape (`n_landmarks_`,)
        Training samples used as landmarks (all of them without landmarks).
    n_landmarks_ : int
        Number of landmarks used.
    t_ : float
        Diffusion time used (resolved when ``t`` is ``"auto"`` or ``"knee"``).
    order_ : int
        Chebyshev order or Euler steps used (0 for ``"exact"``).
    heat_error_bound_ : float
        Chebyshev bound on ``max |H - exp(-tL)|`` (NaN for other methods).
    lambda_max_ : float
        Upper bound on the Laplacian's spectrum used by Chebyshev.
    n_neighbors_ : int
        Neighbours used: ``n_neighbors``, or ``n_samples - 1`` (with a
        warning) when the data has fewer samples.
    n_connected_components_ : int
        Components of the affinity graph (a warning is raised above 1).
    affinity_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        Symmetric affinity graph (zero diagonal).
    bandwidth_ : ndarray of shape (n_samples,)
        Alpha-decay bandwidth of each sample (distance to its ``k``-th
        neighbour), reused by :meth:`transform`.
    power_, denoise_, mds_weights_ : float, float, str
        Resolved from ``preset``.
    backend_ : str
        Backend that ran the fit.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has string feature names.

    See Also
    --------
    sklearn.manifold.Isomap : Shortest-path geodesics with kernel PCA.
    sklearn.manifold.SpectralEmbedding : Laplacian eigenmaps.
    sklearn.manifold.MDS : Metric MDS by SMACOF on Euclidean distances.

    Notes
    -----
    Differences from the reference package ``heatgeo`` 0.0.1:

    * The Chebyshev order is chosen from the coefficient tail bound
      (HeatGeo fixes 32, which is wrong by 7e-5 at ``t=10`` and 6e-3 at
      ``t=50`` for the combinatorial Laplacian); ``lambda_max`` carries a 1 %
      margin because the series diverges above it.
    * Backward Euler works (HeatGeo's calls ``scipy.sparse.linalg.cholesky``,
      which does not exist); ``"exact"`` accepts a scalar ``t``.
    * The embedding keeps the distances' scale: HeatGeo's final Procrustes
      step normalises it away. The classical start uses ``V sqrt(lambda)``
      (HeatGeo scales by ``lambda``).
    * The diagonal of ``dissimilarity_`` is zero, as in the paper's
      evaluation (Varadhan's formula gives ``sqrt(-4t log H_t(x, x)) > 0``).
    * SGD visits pairs in a tile schedule (16 random blocks of points, block
      pairs matched by the circle method, each tile's pairs in rounds of
      disjoint pairs) instead of a global shuffle: it needs no pair list,
      runs tiles in parallel with a result independent of the thread count,
      makes the numpy and numba solvers identical, and reaches the stress
      of the unblocked schedule; its step schedule is s_gd2's.
    * With landmarks, the Harnack term needs ``H_t(x, x)`` for every sample;
      it is estimated as ``|H_(t/2) z|^2`` averaged over 128 random sign
      probes ``z`` (``H_t = H_(t/2)^2``), about 12 % relative error.
      Denoising uses the landmark columns, scaled by
      ``sqrt(n / n_landmarks)``.
    * With landmarks, every other training sample is placed by minimising
      its own stress against the landmarks (a landmark-MDS start and
      Guttman iterations).
    * Identical training samples are one point: they share one row of
      distances, are at distance zero from each other and get the same
      coordinates (the MDS runs on the distinct samples; landmarks are
      drawn among them).

    Out of sample. Heat-geodesic distances exist only on the training
    graph, so the distances of a new sample, and hence its coordinates, can
    only be inferred from its neighbours in the training data.
    :meth:`transform` therefore interpolates the training embedding:
    ``y(x) = sum_j w_j(x) y_j / sum_j w_j(x)`` over the distinct training
    samples, with ``w_j(x) = k_x(d_j) (e_x / d_j)^2``. Here ``d_j`` is the
    distance from ``x`` to ``x_j`` (after the PCA of fit), ``e_x`` the
    distance from ``x`` to its ``k``-th nearest training sample, and
    ``k_x(d) = max(0, exp(-(d / e_x)^a) - 1e-4)`` the new sample's own
    alpha-decay kernel (the extension graphtools uses for PHATE), lowered
    by the graph's threshold so that it falls to zero continuously; with
    ``decay=None`` it is the tapered kNN kernel ``max(0, 1 - d / d_(k+1))``.
    The inverse-square factor makes the rule interpolate. So the map is
    continuous, returns ``embedding_[i]`` at the training sample ``x_i``
    and moves by ``O((d / e_x)^2)`` at distance ``d`` from it, gives
    identical samples identical coordinates, and is cheap (no stress
    solve). Placing a new sample by minimising its stress against distances
    averaged from its neighbours, the earlier rule, is neither continuous
    nor consistent: the training coordinates are a joint optimum, not each
    sample's own, so on a 300-sample Swiss roll ``transform(X_train +
    1e-9)`` moved the samples by 0.55 (median; the embedding spans 53)
    while ``transform(X_train)`` returned ``embedding_``. A sample farther
    from its nearest training sample than three times that sample's kernel
    radius (the distance at which its kernel falls to the threshold; its
    bandwidth for ``decay=None``) lies outside the training data, and
    :meth:`transform` warns: it is interpolated from its nearest training
    samples, inside the training embedding, however far out it is.
    Held-out samples of the training distribution stay below that factor
    (in high dimensions many exceed one radius).

    References
    ----------
    .. [1] G. Huguet, A. Tong, E. De Brouwer, Y. Zhang, G. Wolf, I. Adelstein
       and S. Krishnaswamy, "A Heat Diffusion Perspective on Geodesic
       Preserving Dimensionality Reduction", NeurIPS 2023.
       https://arxiv.org/abs/2305.19043
    .. [2] K. R. Moon et al., "Visualizing structure and transitions in
       high-dimensional biological data", Nature Biotechnology 2019 (PHATE).
    .. [3] J. X. Zheng, S. Pawar and D. F. M. Goodman, "Graph Drawing by
       Stochastic Gradient Descent", IEEE TVCG 2019.
    .. [4] V. de Silva and J. B. Tenenbaum, "Sparse multidimensional scaling
       using landmark points", Tech. report, Stanford, 2004.

    Examples
    --------
    >>> from sklearn.datasets import make_swiss_roll
    >>> from skkernel.manifold import HeatGeodesicEmbedding
    >>> X, _ = make_swiss_roll(300, random_state=0)
    >>> emb = HeatGeodesicEmbedding(n_neighbors=10, random_state=0)
    >>> emb.fit_transform(X).shape
    (300, 2)
    >>> emb.transform(X[:5] + 0.01).shape
    (5, 2)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "decay": [Interval(Real, 0, None, closed="neither"), None],
        "n_pca": [Interval(Integral, 1, None, closed="left"), None],
        "laplacian": [Options("normalized", "combinatorial")],
        "t": [Interval(Real, 0, None, closed="neither"), Options("auto", "knee")],
        "heat_method": [Options("chebyshev", "euler", "exact")],
        "order": [Interval(Integral, 1, None, closed="left"), Options("auto")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "preset": [Options(*_PRESETS)],
        "harnack": [Interval(Real, 0, None, closed="left")],
        "power": [Interval(Real, 0, None, closed="neither"), Options("auto")],
        "denoise": [Interval(Real, 0, 1, closed="both"), Options("auto")],
        "mds_weights": [Options("auto", "uniform", "inverse_square", "heat")],
        "mds": [Options("sgd", "smacof", "classical")],
        "n_landmarks": [Interval(Integral, 1, None, closed="left"), None],
        **COMMON_CONSTRAINTS,
    }
    _finite_fitted_attributes = ("embedding_", "bandwidth_")

    def __init__(
        self,
        n_components=2,
        *,
        n_neighbors=10,
        decay=40,
        n_pca=40,
        laplacian="normalized",
        t="auto",
        heat_method="chebyshev",
        order="auto",
        tol=1e-24,
        preset="geodesic",
        harnack=1.0,
        power="auto",
        denoise="auto",
        mds_weights="auto",
        mds="sgd",
        n_landmarks=None,
        random_state=None,
        backend="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.decay = decay
        self.n_pca = n_pca
        self.laplacian = laplacian
        self.t = t
        self.heat_method = heat_method
        self.order = order
        self.tol = tol
        self.preset = preset
        self.harnack = harnack
        self.power = power
        self.denoise = denoise
        self.mds_weights = mds_weights
        self.mds = mds
        self.n_landmarks = n_landmarks
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    @property
    def _n_features_out(self):
        return self.n_components

    # ------------------------------------------------------------------ fit

    def fit(self, X, y=None):
        """Build the graph, the heat-geodesic distances and the embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : HeatGeodesicEmbedding
            The fitted estimator.
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit and return the embedding of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
            ``embedding_``, in the array type of ``X`` (a cupy array for
            cupy input).
        """
        self._fit(X)
        return like_input(self.embedding_, X)

    def _fit(self, X):
        with self._fit_context(X) as ctx:
            X, backend, rng = ctx.X, ctx.backend, ctx.random_state
            n = X.shape[0]
            k = self.n_neighbors
            if k >= n:
                if n < 2:
                    raise ValueError(
                        f"HeatGeodesicEmbedding needs at least 2 samples, got "
                        f"n_samples={n}: a graph needs neighbours."
                    )
                k = n - 1
                warnings.warn(
                    f"n_neighbors={self.n_neighbors} >= n_samples={n}: each "
                    f"sample has only {k} other samples, so n_neighbors={k} is "
                    "used (n_neighbors_).",
                    UserWarning,
                    stacklevel=4,
                )
            groups = _duplicate_groups(X)
            X_graph = self._reduce(X, rng)
            nn = NearestNeighbors().fit(X_graph)
            W, bandwidth = affinity_graph(nn, X_graph, k, self.decay, backend)
            n_comp = count_components(W)
            if n_comp > 1:
                warnings.warn(
                    f"The {k}-nearest-neighbour graph has {n_comp} "
                    "connected components: heat does not flow between them, so "
                    "their distances saturate at the ceiling sqrt(147 t). Increase "
                    "n_neighbors to connect the graph.",
                    UserWarning,
                    stacklevel=3,
                )
            L = graph_laplacian(W, self.laplacian)
            lambda_max = largest_eigenvalue(L, self.laplacian, rng)
            phi = lambda_max / 2.0
            landmarks = self._choose_landmarks(n, groups, rng)
            t = self._resolve_t(L, W, phi, backend, rng, n_comp)
            order = self._resolve_order(t, phi)
            heat = HeatOperator(L, self.heat_method, backend, phi, order)
            H = self._heat_columns(heat, landmarks, t)
            diag_rows, diag_cols = self._heat_diagonal(heat, H, landmarks, t, rng)
            power, rho, weighting = self._resolve_preset()
            D = HEAT_GEODESIC(backend, H, diag_rows, diag_cols, t, self.harnack,
                              power)
            del H
            if rho > 0:
                D = triplet_denoise(D, D[landmarks], rho,
                                    np.sqrt(n / landmarks.size))
            D = _zero_self_distances(D, landmarks, groups)
            self.t_ = float(t)
            self.n_neighbors_ = int(k)
            self.power_, self.denoise_, self.mds_weights_ = power, rho, weighting
            self.embedding_ = self._embed(D, landmarks, groups, backend, rng)
            self.dissimilarity_ = D
            self.landmark_indices_ = landmarks
            self.n_landmarks_ = int(landmarks.size)
            self.order_ = int(order)
            self.heat_error_bound_ = (
                chebyshev_error_bound(t, phi, order)
                if self.heat_method == "chebyshev" else float("nan")
            )
            self.lambda_max_ = float(lambda_max)
            self.n_connected_components_ = int(n_comp)
            self.affinity_ = W
            self.bandwidth_ = bandwidth
            # transform interpolates between distinct training samples.
            if groups is None:
                self._interpolation_index = (nn, X_graph, None)
            else:
                distinct = X_graph[groups[0]]
                self._interpolation_index = (NearestNeighbors().fit(distinct),
                                             distinct, groups[0])
        return self

    def _check_params(self):
        if self.n_landmarks is not None and self.n_landmarks <= self.n_components:
            raise ValueError(
                f"n_landmarks={self.n_landmarks} must be at least "
                f"n_components + 1 = {self.n_components + 1}: the landmark MDS "
                "needs more landmarks than dimensions."
            )
        if self.mds == "smacof" and self._resolve_preset()[2] != "uniform":
            raise ValueError(
                "mds='smacof' minimises unweighted stress; use mds='sgd' for "
                f"mds_weights={self._resolve_preset()[2]!r}."
            )

    def _resolve_preset(self):
        power, rho, weights = _PRESETS[self.preset]
        if self.power != "auto":
            power = float(self.power)
        if self.denoise != "auto":
            rho = float(self.denoise)
        if self.mds_weights != "auto":
            weights = self.mds_weights
        return power, rho, weights

    def _reduce(self, X, rng):
        n, d = X.shape
        if self.n_pca is not None and d > self.n_pca and n > self.n_pca:
            self._pca = PCA(n_components=self.n_pca, svd_solver="randomized",
                            random_state=draw_seed(rng) % 2**32).fit(X)
            return self._pca.transform(X)
        self._pca = None
        return X

    def _choose_landmarks(self, n, groups, rng):
        """Landmark indices; identical samples are never two landmarks."""
        if self.n_landmarks is None or self.n_landmarks >= n:
            if self.n_landmarks is not None and self.n_landmarks > n:
                warnings.warn(
                    f"n_landmarks={self.n_landmarks} > n_samples={n}; every sample "
                    "is used as a landmark.",
                    UserWarning,
                    stacklevel=4,
                )
            return np.arange(n)
        candidates = np.arange(n) if groups is None else groups[0]
        if self.n_landmarks >= candidates.size:
            return candidates
        return np.sort(candidates[rng.choice(candidates.size, size=self.n_landmarks,
                                             replace=False)])

    def _resolve_order(self, t, phi):
        if self.heat_method == "exact":
            return 0
        if self.order != "auto":
            return int(self.order)
        if self.heat_method == "euler":
            return _EULER_STEPS
        return chebyshev_order(t, phi, self.tol)

    def _resolve_t(self, L, W, phi, backend, rng, n_components):
        if not isinstance(self.t, str):
            return float(self.t)
        n = L.shape[0]
        # Fixed times (the cap, the knee's grid) are for the normalized L; the
        # combinatorial L's spectrum is about the mean degree times larger.
        unit = 1.0
        if self.laplacian == "combinatorial":
            unit = 1.0 / max(float(W.sum()) / n, 1e-12)
        if self.t == "auto":
            gap = spectral_gap(L, n_components, rng)
            if not gap > 0:  # too few samples for a gap: the old default
                return _FALLBACK_T
            return min(_AUTO_T_GAP / gap, _AUTO_T_MAX * unit)
        grid = _AUTO_T_GRID * unit
        columns = np.sort(rng.choice(n, size=min(n, _AUTO_T_COLUMNS), replace=False))
        order = (chebyshev_order(grid[-1], phi, self.tol)
                 if self.order == "auto" else int(self.order))
        method = "exact" if self.heat_method == "exact" else "chebyshev"
        heat = HeatOperator(L, method, backend, phi, order)
        # The entropy is a sum over entries: accumulate it over column blocks
        # so that the len(grid) outputs never exceed the working memory.
        width = _block_size(columns.size, 8 * n, 3 * grid.size)
        entropies = np.zeros(grid.size)
        for start in range(0, columns.size, width):
            blocks = heat.apply(identity_columns(n, columns[start:start + width]),
                                list(grid))
            entropies += [heat_entropy(H) for H in blocks]
        return entropy_knee(grid, entropies)

    def _heat_columns(self, heat, landmarks, t):
        n, m = heat.L.shape[0], landmarks.size
        # About six (n, width) buffers live during one block's recursion
        # (the numba path needs only three (n, 32) buffers per thread).
        width = _block_size(m, 8 * n, 6)
        starts = range(0, m, width)
        H = np.empty((n, m))
        with progress_bar(len(starts), "heat kernel", self.verbose) as bar:
            for start in starts:
                heat.columns(landmarks[start:start + width], t, H, start)
                bar.update()
        return H

    def _heat_diagonal(self, heat, H, landmarks, t, rng):
        """``H_t(x, x)`` for rows and landmark columns (only for Harnack)."""
        m = landmarks.size
        diag_cols = H[landmarks, np.arange(m)].copy()
        if self.harnack == 0:
            return np.zeros(H.shape[0]), np.zeros(m)
        if m == H.shape[0]:
            return diag_cols, diag_cols
        Z = rng.choice([-1.0, 1.0], size=(H.shape[0], _DIAGONAL_PROBES))
        G = heat.apply(Z, [t / 2.0])[0]
        diag_rows = (G * G).mean(axis=1)
        diag_rows[landmarks] = diag_cols
        return diag_rows, diag_cols

    def _stress_weights(self, D):
        if self.mds_weights_ == "uniform":
            return None
        if self.mds_weights_ == "inverse_square":
            with np.errstate(divide="ignore"):
                return np.minimum(1.0 / D**2, 1e12)
        geodesic_sq = D ** (2.0 / self.power_)
        return np.exp(-geodesic_sq / (4.0 * self.t_)) + 1e-5

    def _embed(self, D, landmarks, groups, backend, rng):
        """MDS of the distinct samples; identical samples share coordinates."""
        n = D.shape[0]
        distinct = np.arange(n) if groups is None else groups[0]
        full = landmarks.size == n
        if full:
            # H_t is symmetric, so D is up to round-off.
            D_ref = D if groups is None else D[np.ix_(distinct, distinct)]
        else:
            D_ref = D[landmarks]  # landmarks are distinct samples
        Y = classical_mds(D_ref, self.n_components, rng)
        seed = draw_seed(rng)
        if self.mds == "sgd":
            Y = sgd_mds(D_ref, Y, self._stress_weights(D_ref), seed, backend)
        elif self.mds == "smacof":
            Y = smacof(D_ref, Y)
        embedding = np.empty((n, self.n_components))
        if full:
            embedding[distinct] = Y
        else:
            embedding[landmarks] = Y
            others = np.setdiff1d(distinct, landmarks)
            # Row blocks (64 MiB at the default working memory): the gathered
            # rows and their stress weights never add a second (n, m) array.
            step = _block_size(others.size, 8 * D.shape[1], 16)
            for start in range(0, others.size, step):
                rows = others[start:start + step]
                embedding[rows] = self._place(D[rows], Y, backend)
        if groups is not None:
            representatives, group = groups
            embedding = embedding[representatives[group]]
        return embedding

    def _place(self, D_rows, Y_ref, backend):
        n_iter = 0 if self.mds == "classical" else _PLACEMENT_ITERATIONS
        return place_points(D_rows, self._stress_weights(D_rows), Y_ref, backend,
                            n_iter=n_iter)

    # ------------------------------------------------------------ transform

    def transform(self, X):
        """Embed new samples by continuous interpolation of the training embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples_new, n_features)
            New data.

        Returns
        -------
        embedding : ndarray of shape (n_samples_new, n_components)
            Coordinates of the new samples, in the array type of ``X``. A
            sample identical to a training sample gets its ``embedding_``
            row, a sample near one lands near it, and identical samples get
            identical coordinates.

        Warns
        -----
        UserWarning
            When samples lie outside the training graph's neighbourhoods
            (see Notes): their coordinates are interpolated from their
            nearest training samples and do not show how far out they are.
        """
        check_is_fitted(self)
        X_in = X
        X = self._validate_predict_data(X)
        # Identical query rows are embedded once, so they get identical
        # coordinates whatever the neighbour search does with ties.
        X, inverse = np.unique(X, axis=0, return_inverse=True)
        X_graph = self._pca.transform(X) if self._pca is not None else X
        nn, X_fit, samples = self._interpolation_index
        Y_fit = self.embedding_ if samples is None else self.embedding_[samples]
        bandwidth = self.bandwidth_ if samples is None else self.bandwidth_[samples]
        weights, exact, reach = extension_weights(
            nn, X_fit, X_graph, bandwidth, self.n_neighbors_, self.decay)
        out = np.asarray(weights @ Y_fit)
        hit = exact >= 0
        out[hit] = Y_fit[exact[hit]]
        self._warn_outside(reach[np.reshape(inverse, -1)])
        return like_input(out[np.reshape(inverse, -1)], X_in)

    def _warn_outside(self, reach):
        outside = reach > _OUTSIDE_REACH
        if not np.any(outside):
            return
        warnings.warn(
            f"{int(outside.sum())} of {reach.size} samples lie outside the "
            "training data (farther from their nearest training sample than "
            f"{_OUTSIDE_REACH:g} times its kernel radius); the farthest is "
            f"{float(reach.max()):.3g} times the kernel radius of its nearest "
            "training sample away from it. Heat-geodesic distances exist only "
            "on the training graph, so these samples are placed by "
            "interpolating their nearest training samples' coordinates, inside "
            "the training embedding; their coordinates do not show how far "
            "out they are.",
            UserWarning,
            stacklevel=3,
        )
