"""Heat-geodesic embedding (Huguet et al., NeurIPS 2023)."""

import numbers
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data

from .._config import get_config
from ..backend import is_cupy_array, numba_threads, resolve_backend, to_cpu, to_device
from ..utils import draw_seed, progress_bar
from ..utils._validation import check_options, fit_transaction
from ._distances import heat_geodesic_numba, heat_geodesic_reference, triplet_denoise
from ._graph import affinity_graph, count_components, extension_weights, graph_laplacian
from ._heat import (
    HeatOperator,
    chebyshev_error_bound,
    chebyshev_order,
    entropy_knee,
    heat_entropy,
    identity_columns,
    largest_eigenvalue,
)
from ._mds import classical_mds, place_points, sgd_mds, smacof

# preset -> (power, denoise, mds_weights); see the class docstring.
_PRESETS = {
    "geodesic": (1.0, 0.0, "uniform"),
    "phate": (2.0, 1.0, "uniform"),
    "sne": (2.0, 0.0, "heat"),
}
# HeatGeo's t="auto" grid: linspace(0.05, 200, 10) (for the normalized L).
_AUTO_T_GRID = np.linspace(0.05, 200.0, 10)
_AUTO_T_COLUMNS = 256
_DIAGONAL_PROBES = 128
_EULER_STEPS = 30
_PLACEMENT_ITERATIONS = 30


def _block_size(total, bytes_per_item, n_buffers):
    """Items per block such that ``n_buffers`` blocks fit the working memory."""
    budget = get_config()["working_memory"] * 2**20
    return int(max(1, min(total, budget // (n_buffers * bytes_per_item))))


class HeatGeodesicEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                            BaseEstimator):
    """Heat-geodesic embedding: MDS of distances read from graph heat diffusion.

    Builds a PHATE-style alpha-decay kNN graph, computes the heat kernel
    ``H_t = exp(-t L)`` of its Laplacian, turns it into distances with
    Varadhan's formula ``d_t(x, y)^2 = -4t log H_t(x, y)`` (optionally with
    the Harnack volume correction, a power and triplet denoising), and
    embeds the distances by metric MDS (classical start, then stress
    minimised by SGD or SMACOF). With ``n_landmarks`` only the heat kernel
    to the landmarks is computed, so memory is ``O(n * n_landmarks)``;
    :meth:`transform` places new samples by the same extension.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the embedding (any value; SGD and SMACOF are not
        limited to 2).
    n_neighbors : int, default=5
        ``k`` of the kNN graph; the alpha-decay bandwidth of a sample is the
        distance to its ``k``-th neighbour. Must be smaller than n_samples.
    decay : float or None, default=40
        Alpha-decay exponent ``a`` of ``exp(-(d / e_k)^a)``; ``None`` gives
        the plain (binary, symmetrised) kNN graph.
    n_pca : int or None, default=40
        Reduce to this many principal components before the neighbour
        search when the data has more features (as HeatGeo/graphtools do).
    laplacian : {"normalized", "combinatorial"}, default="normalized"
        ``I - D^-1/2 W D^-1/2`` or ``D - W``.
    t : float or "auto", default=10.0
        Diffusion time. ``"auto"`` picks the knee of the heat kernel's
        entropy over HeatGeo's grid ``linspace(0.05, 200, 10)`` (divided by
        the mean degree for the combinatorial Laplacian), estimated on 256
        sampled columns.
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
    harnack : float, default=0.0
        Weight ``sigma`` of the Harnack volume term (0 is Varadhan's formula,
        1 the full correction; large values collapse the points).
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
        (default on CPU); ``"cupy"``: the Chebyshev recursion on the GPU.
    n_jobs : int, default=None
        Numba threads during fit and transform (``-1``: all).
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
        Diffusion time used (the knee when ``t="auto"``).
    order_ : int
        Chebyshev order or Euler steps used (0 for ``"exact"``).
    heat_error_bound_ : float
        Chebyshev bound on ``max |H - exp(-tL)|`` (NaN for other methods).
    lambda_max_ : float
        Upper bound on the Laplacian's spectrum used by Chebyshev.
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
    * Out of sample, the distances of a new sample to the landmarks are the
      affinity-weighted average of its graph neighbours' rows; the sample
      is then placed by minimising its own stress against the landmarks
      (a landmark-MDS start and Guttman iterations). Non-landmark training
      samples are placed the same way during fit. A new sample identical to
      a training sample gets that sample's coordinates.

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

    def __init__(
        self,
        n_components=2,
        *,
        n_neighbors=5,
        decay=40,
        n_pca=40,
        laplacian="normalized",
        t=10.0,
        heat_method="chebyshev",
        order="auto",
        tol=1e-24,
        preset="geodesic",
        harnack=0.0,
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
            ``embedding_``.
        """
        return self._fit(X)

    @fit_transaction
    def _fit(self, X):
        on_gpu = is_cupy_array(X)
        backend = resolve_backend(self.backend, X)
        X = validate_data(self, to_cpu(X), dtype=np.float64, ensure_min_samples=1)
        self._check_params(X.shape[0])
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        with numba_threads(self.n_jobs):
            X_graph = self._reduce(X, rng)
            nn = NearestNeighbors().fit(X_graph)
            W, bandwidth = affinity_graph(nn, X_graph, self.n_neighbors, self.decay,
                                          backend)
            n_comp = count_components(W)
            if n_comp > 1:
                warnings.warn(
                    f"The {self.n_neighbors}-nearest-neighbour graph has {n_comp} "
                    "connected components: heat does not flow between them, so "
                    "their distances saturate at the ceiling sqrt(147 t). Increase "
                    "n_neighbors to connect the graph.",
                    UserWarning,
                    stacklevel=4,
                )
            L = graph_laplacian(W, self.laplacian)
            lambda_max = largest_eigenvalue(L, self.laplacian, rng)
            phi = lambda_max / 2.0
            landmarks = self._choose_landmarks(n, rng)
            t = self._resolve_t(L, W, phi, backend, rng)
            order = self._resolve_order(t, phi)
            heat = HeatOperator(L, self.heat_method, backend, phi, order)
            H = self._heat_columns(heat, landmarks, t)
            diag_rows, diag_cols = self._heat_diagonal(heat, H, landmarks, t, rng)
            power, rho, weighting = self._resolve_preset()
            if backend == "numba":
                D = heat_geodesic_numba(H, diag_rows, diag_cols, float(t),
                                        float(self.harnack), float(power))
            else:
                D = heat_geodesic_reference(H, diag_rows, diag_cols, t,
                                            self.harnack, power)
            del H
            if rho > 0:
                D = triplet_denoise(D, D[landmarks], rho,
                                    np.sqrt(n / landmarks.size))
            D[landmarks, np.arange(landmarks.size)] = 0.0
            self.t_ = float(t)
            self.power_, self.denoise_, self.mds_weights_ = power, rho, weighting
            embedding = self._embed(D, landmarks, backend, rng)
        self.embedding_ = embedding
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
        self.backend_ = backend
        self._nn = nn
        return to_device(embedding, "cupy") if on_gpu else embedding

    def _check_params(self, n_samples):
        check_scalar(self.n_components, "n_components", numbers.Integral, min_val=1)
        check_scalar(self.n_neighbors, "n_neighbors", numbers.Integral, min_val=1)
        if self.n_neighbors >= n_samples:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} must be smaller than "
                f"n_samples={n_samples}: the graph needs that many neighbours "
                "besides each sample itself."
            )
        if self.decay is not None:
            check_scalar(self.decay, "decay", numbers.Real, min_val=0.0,
                         include_boundaries="neither")
        if self.n_pca is not None:
            check_scalar(self.n_pca, "n_pca", numbers.Integral, min_val=1)
        check_options(self.laplacian, "laplacian", ("normalized", "combinatorial"))
        if not (isinstance(self.t, str) and self.t == "auto"):
            if isinstance(self.t, str):
                raise ValueError(
                    f"t must be a positive float or 'auto', got {self.t!r}."
                )
            check_scalar(self.t, "t", numbers.Real, min_val=0.0,
                         include_boundaries="neither")
        check_options(self.heat_method, "heat_method", ("chebyshev", "euler", "exact"))
        if not (isinstance(self.order, str) and self.order == "auto"):
            if isinstance(self.order, str):
                raise ValueError(
                    f"order must be a positive int or 'auto', got {self.order!r}."
                )
            check_scalar(self.order, "order", numbers.Integral, min_val=1)
        check_scalar(self.tol, "tol", numbers.Real, min_val=0.0,
                     include_boundaries="neither")
        check_options(self.preset, "preset", tuple(_PRESETS))
        check_scalar(self.harnack, "harnack", numbers.Real, min_val=0.0)
        if self.power != "auto":
            check_scalar(self.power, "power", numbers.Real, min_val=0.0,
                         include_boundaries="neither")
        if self.denoise != "auto":
            check_scalar(self.denoise, "denoise", numbers.Real, min_val=0.0,
                         max_val=1.0)
        check_options(self.mds_weights, "mds_weights",
                      ("auto", "uniform", "inverse_square", "heat"))
        check_options(self.mds, "mds", ("sgd", "smacof", "classical"))
        if self.n_landmarks is not None:
            check_scalar(self.n_landmarks, "n_landmarks", numbers.Integral,
                         min_val=self.n_components + 1)
        check_scalar(self.verbose, "verbose", numbers.Integral, min_val=0)
        if self.n_jobs is not None:
            check_scalar(self.n_jobs, "n_jobs", numbers.Integral)
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

    def _choose_landmarks(self, n, rng):
        if self.n_landmarks is None:
            return np.arange(n)
        if self.n_landmarks >= n:
            if self.n_landmarks > n:
                warnings.warn(
                    f"n_landmarks={self.n_landmarks} > n_samples={n}; every sample "
                    "is used as a landmark.",
                    UserWarning,
                    stacklevel=5,
                )
            return np.arange(n)
        return np.sort(rng.choice(n, size=self.n_landmarks, replace=False))

    def _resolve_order(self, t, phi):
        if self.heat_method == "exact":
            return 0
        if self.order != "auto":
            return int(self.order)
        if self.heat_method == "euler":
            return _EULER_STEPS
        return chebyshev_order(t, phi, self.tol)

    def _resolve_t(self, L, W, phi, backend, rng):
        if not (isinstance(self.t, str) and self.t == "auto"):
            return float(self.t)
        n = L.shape[0]
        grid = _AUTO_T_GRID
        if self.laplacian == "combinatorial":
            grid = grid / max(float(W.sum()) / n, 1e-12)
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

    def _embed(self, D, landmarks, backend, rng):
        full = landmarks.size == D.shape[0]
        # H_t is symmetric, so D is up to round-off; copy only the landmarks.
        D_ref = D if full else D[landmarks]
        Y = classical_mds(D_ref, self.n_components, rng)
        seed = draw_seed(rng)
        if self.mds == "sgd":
            Y = sgd_mds(D_ref, Y, self._stress_weights(D_ref), seed, backend)
        elif self.mds == "smacof":
            Y = smacof(D_ref, Y)
        if full:
            return Y
        embedding = np.empty((D.shape[0], self.n_components))
        embedding[landmarks] = Y
        others = np.setdiff1d(np.arange(D.shape[0]), landmarks)
        # Row blocks (64 MiB at the default working memory): the gathered rows
        # and their stress weights never add a second (n, n_landmarks) array.
        step = _block_size(others.size, 8 * D.shape[1], 16)
        for start in range(0, others.size, step):
            rows = others[start:start + step]
            embedding[rows] = self._place(D[rows], Y, backend)
        return embedding

    def _place(self, D_rows, Y_ref, backend):
        n_iter = 0 if self.mds == "classical" else _PLACEMENT_ITERATIONS
        return place_points(D_rows, self._stress_weights(D_rows), Y_ref, backend,
                            n_iter=n_iter)

    # ------------------------------------------------------------ transform

    def transform(self, X):
        """Embed new samples through the landmark extension.

        Parameters
        ----------
        X : array-like of shape (n_samples_new, n_features)
            New data.

        Returns
        -------
        embedding : ndarray of shape (n_samples_new, n_components)
            Coordinates of the new samples; a sample identical to a training
            sample gets its ``embedding_`` row.
        """
        check_is_fitted(self)
        on_gpu = is_cupy_array(X)
        X = validate_data(self, to_cpu(X), dtype=np.float64, reset=False)
        X_graph = self._pca.transform(X) if self._pca is not None else X
        weights, exact = extension_weights(self._nn, X_graph, self.bandwidth_,
                                           self.n_neighbors, self.decay)
        D_rows = np.asarray(weights @ self.dissimilarity_)
        with numba_threads(self.n_jobs):
            out = self._place(D_rows, self.embedding_[self.landmark_indices_],
                              self.backend_ if self.backend_ != "cupy" else "numba")
        hit = exact >= 0
        out[hit] = self.embedding_[exact[hit]]
        return to_device(out, "cupy") if on_gpu else out
