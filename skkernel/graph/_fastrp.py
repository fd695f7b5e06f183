"""FastRP graph embedding (Chen et al., CIKM 2019)."""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from .._config import get_config
from ..backend import (
    Dispatch,
    get_array_module,
    is_cupy_array,
    like_input,
    to_cpu,
    to_device,
)
from ..base import (
    COMMON_CONSTRAINTS,
    Interval,
    Options,
    RealVector,
    SkkernelEstimator,
)
from ..utils import draw_seed, progress_bar
from ._fastrp_kernels import (
    _first_weighted_of_last_two,
    fastrp_numba,
    fastrp_reference,
)


@dataclass
class FastRPSpec:
    """Parameters of one FastRP run, resolved against the graph.

    ``node_scale`` and ``inv_degree`` live where the graph lives (numpy, or
    cupy for the GPU path).
    """

    n_nodes: int
    n_components: int
    n_base: int
    n_property: int
    iteration_weights: tuple
    self_influence: float
    sparsity: float
    normalize_rows: bool
    standardize: bool
    variant: str
    seed: int
    feature_seed: int
    node_scale: object
    inv_degree: object
    node_features: np.ndarray | None
    dtype: type = np.float64


def _is_networkx_graph(X):
    return hasattr(X, "adj") and hasattr(X, "nodes") and hasattr(X, "is_directed")


def _check_adjacency(A, xp, xsp):
    """Square, finite, non-negative and with edges; returns canonical CSR.

    Written once against the dense and sparse array modules (numpy and
    scipy.sparse, or cupy and cupyx.scipy.sparse), so a device graph is
    checked on the device.
    """
    values = A.data if xsp.issparse(A) else A
    if not bool(xp.all(xp.isfinite(values))):
        raise ValueError(
            "Input X contains NaN or infinity: FastRP needs an adjacency "
            "matrix with finite, non-negative edge weights."
        )
    if A.shape[0] != A.shape[1]:
        raise ValueError(
            "FastRP expects a square adjacency matrix of shape "
            f"(n_nodes, n_nodes), got shape {tuple(A.shape)}."
        )
    A = xsp.csr_matrix(A)  # shares the arrays of a CSR input
    if not A.has_canonical_format or bool((A.data == 0).any()):
        # canonicalise a copy: the caller's matrix is left as it was given
        A = A.copy()
        A.sum_duplicates()
        A.eliminate_zeros()
    if A.nnz == 0:
        raise ValueError(
            "The graph has no edges: FastRP propagates along edges, so an "
            "edgeless adjacency matrix has no embedding."
        )
    smallest = float(A.data.min())
    if smallest < 0:
        raise ValueError(
            "Negative values in data passed to FastRP: adjacency weights "
            f"must be non-negative, found {smallest:g}."
        )
    return A


def _propagate_reference(A, spec, block_width, progress):
    """The numpy/scipy reference; on a cupyx graph it runs on the GPU."""
    xp, _ = get_array_module("cupy" if is_cupy_array(A) else "numpy")
    embedding = fastrp_reference(A, spec, xp)
    progress.update(len(spec.iteration_weights))
    return embedding, spec.n_components


def _propagate_numba(A, spec, block_width, progress):
    """The numba CPU kernels, in column blocks of ``block_width``."""
    return fastrp_numba(A, spec, block_width, progress=progress)


#: The propagation step. cupy runs the reference through ``xp`` on the
#: device graph; the numba kernels are CPU only.
PROPAGATE = Dispatch("FastRP propagation", numpy=_propagate_reference,
                     numba=_propagate_numba)


class FastRP(ClassNamePrefixFeaturesOutMixin, TransformerMixin, SkkernelEstimator):
    """Fast random projection node embeddings (FastRP).

    Embeds the nodes of a graph by propagating a very sparse random
    projection along the edges: ``N_1 = P L R``, ``N_i = P N_(i-1)`` and
    ``embedding = sum_i alpha_i N_i``, where ``P = D^-1 S`` is the transition
    matrix of the adjacency ``S``, ``L = diag(d^beta)`` re-weights nodes by
    degree and ``R`` is a Li-Hastie-Church very sparse random matrix. Cost is
    ``O(k * nnz * d)``; the ``n x n`` similarity matrix is never formed.

    FastRP is transductive: it embeds the graph it was fitted on, so it
    offers ``fit_transform`` and ``embedding_`` but no ``transform``.

    Read more in the :ref:`User Guide <fastrp>`.

    Parameters
    ----------
    n_components : int, default=128
        Embedding dimension ``d``.
    iteration_weights : sequence of float, default=(0.0, 1.0, 1.0)
        Weight ``alpha_i`` of the ``i``-hop term; its length is the number of
        hops ``k``. The authors' BlogCatalog setting is ``(0, 0, 1, 6.67)``.
    normalization_strength : float, default=0.0
        Degree exponent ``beta``: node ``j``'s random vector is scaled by
        ``d_j ** beta`` (``beta < 0`` down-weights hubs). Nodes of degree 0
        get scale 1.
    self_influence : float, default=0.0
        Weight of the 0-hop term (each node's own random vector).
    sparsity : "auto" or float, default="auto"
        The ``s`` of the random projection: entries are non-zero with
        probability ``1/s``. ``"auto"`` is ``sqrt(n_nodes)`` (the paper) for
        ``variant="paper"`` and ``3`` (Neo4j GDS) for ``variant="gds"``.
    normalize_rows : bool, default=True
        L2-normalise the rows of every hop's matrix before weighting (the
        authors' classification setting). Must be True for
        ``variant="gds"``, where normalisation is part of the propagation.
    standardize : "auto" or bool, default="auto"
        Scale each output column to zero mean and unit variance, as the
        authors' code always does. ``"auto"`` is True for ``"paper"`` and
        False for ``"gds"`` (GDS returns raw sums).
    variant : {"paper", "gds"}, default="paper"
        ``"paper"``: the algorithm of Chen et al. as in their code (rows are
        normalised for the weighted sum only). ``"gds"``: Neo4j Graph Data
        Science semantics: ``s = 3``, each hop is L2-normalised and fed
        forward, ``iteration_weights[0]`` weights the 1-hop term.
    property_ratio : float, default=0.0
        Fraction of the ``n_components`` columns given to node features
        passed to ``fit(..., node_features=F)`` (GDS ``propertyRatio``): the
        last ``floor(d * property_ratio)`` columns start as ``F W`` for a
        sparse random ``W`` and are propagated with the rest.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the propagated matrices and of ``embedding_``.
        ``"float32"`` (what Neo4j GDS computes in) halves the memory the
        sparse products gather, and lets a block hold twice the columns in
        the same memory; each sparse product still accumulates a row in
        float64 before rounding it. See the tests for the agreement with
        the float64 embedding.
    random_state : int, RandomState instance or None, default=None
        Seeds the random projection. An int gives the same embedding on
        every backend.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"`` is the readable scipy reference, ``"numba"`` the parallel
        CPU kernels (default for CPU input), ``"cupy"`` the GPU path.
    n_jobs : int, default=None
        Number of numba threads during the fit (``-1``: all). The previous
        count is restored afterwards.
    verbose : int, default=0
        Show a progress bar over the propagation steps when positive.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_nodes, n_components)
        The node embeddings (numpy, also after a GPU fit).
    backend_ : str
        The backend that ran the fit.
    sparsity_ : float
        The ``s`` used.
    block_width_ : int
        Number of columns propagated together (set by
        ``skkernel.config_context(working_memory=...)``).
    n_features_in_ : int
        Number of nodes of the fitted graph.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame adjacency; set only for DataFrames.

    See Also
    --------
    sklearn.random_projection.SparseRandomProjection : The projection alone.
    sklearn.manifold.SpectralEmbedding : Spectral node embeddings.

    Notes
    -----
    Deviations from the authors' code, all documented choices:

    * The degree weighting uses ``d_j ** beta`` as the code does; the paper's
      ``(d_j / 2m) ** beta`` differs by a global constant that row
      normalisation and standardisation remove.
    * Random entries are ``+-sqrt(s / d)`` rather than ``+-sqrt(s)``, again a
      global constant; they come from a counter-based generator so that all
      backends give the same matrix for the same ``random_state``.
    * Nodes without out-edges get zero transition rows instead of the
      code's division by zero.

    Memory is ``O(nnz + n * d)``: besides the graph and the output, the numba
    backend keeps two ``n x block_width`` buffers, ``block_width`` at most
    ``max(32, d / 4)`` columns and within the ``working_memory``
    configuration. When only the last two terms carry weight (the authors'
    settings), the embedding is built in one of the two buffers, so a single
    ``n x d`` array is temporary; all columns then go together whenever it
    fits in ``working_memory`` (graph plus two outputs is the peak), and with
    a very sparse projection the first two hops are computed on sparse
    arrays. When
    ``normalize_rows=True`` and the columns need more than one block, a
    first pass computes each hop's row norms and a second accumulates,
    trading more sparse products for the memory bound. ``variant="gds"``
    feeds normalised rows forward, which couples all columns, so it always
    works on full rows (two ``n x d`` buffers).

    References
    ----------
    .. [1] H. Chen, S. F. Sultan, Y. Tian, M. Chen and S. Skiena, "Fast and
       Accurate Network Embeddings via Very Sparse Random Projection",
       CIKM 2019. https://arxiv.org/abs/1908.11512
    .. [2] P. Li, T. J. Hastie and K. W. Church, "Very sparse random
       projections", KDD 2006.

    Examples
    --------
    >>> import networkx as nx
    >>> from skkernel.graph import FastRP
    >>> G = nx.karate_club_graph()
    >>> emb = FastRP(n_components=16, random_state=0).fit_transform(G)
    >>> emb.shape
    (34, 16)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "iteration_weights": [RealVector()],
        "normalization_strength": [Interval(Real, None, None, closed="neither")],
        "self_influence": [Interval(Real, None, None, closed="neither")],
        "sparsity": [Options("auto"), Interval(Real, 1, None, closed="left")],
        "normalize_rows": ["boolean"],
        "standardize": [Options("auto"), "boolean"],
        "variant": [Options("paper", "gds")],
        "property_ratio": [Interval(Real, 0, 1, closed="left")],
        "dtype": [Options("float64", "float32")],
        **COMMON_CONSTRAINTS,
    }
    _supports_device_input = True
    _finite_fitted_attributes = ("embedding_",)

    def __init__(
        self,
        n_components=128,
        *,
        iteration_weights=(0.0, 1.0, 1.0),
        normalization_strength=0.0,
        self_influence=0.0,
        sparsity="auto",
        normalize_rows=True,
        standardize="auto",
        variant="paper",
        property_ratio=0.0,
        dtype="float64",
        random_state=None,
        backend="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.iteration_weights = iteration_weights
        self.normalization_strength = normalization_strength
        self.self_influence = self_influence
        self.sparsity = sparsity
        self.normalize_rows = normalize_rows
        self.dtype = dtype
        self.standardize = standardize
        self.variant = variant
        self.property_ratio = property_ratio
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = True
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    @property
    def _n_features_out(self):
        return self.n_components

    def fit(self, X, y=None, node_features=None):
        """Compute the embedding of the graph ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_nodes, n_nodes) or \
                networkx graph
            Adjacency matrix with non-negative weights (row ``i`` lists the
            out-edges of node ``i``), or a networkx graph (edge attribute
            ``weight`` if present, rows in ``G.nodes`` order).
        y : None
            Ignored.
        node_features : array-like of shape (n_nodes, n_node_features), \
                default=None
            Node properties, used when ``property_ratio > 0``.

        Returns
        -------
        self : FastRP
            The fitted estimator.
        """
        self._fit(X, node_features)
        return self

    def fit_transform(self, X, y=None, node_features=None):
        """Compute and return the embedding of the graph ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_nodes, n_nodes) or \
                networkx graph
            Adjacency matrix with non-negative weights, or a networkx graph.
        y : None
            Ignored.
        node_features : array-like of shape (n_nodes, n_node_features), \
                default=None
            Node properties, used when ``property_ratio > 0``.

        Returns
        -------
        embedding : ndarray of shape (n_nodes, n_components)
            The embedding, in the array type of ``X`` (a cupy array for a
            cupy adjacency).
        """
        embedding = self._fit(X, node_features)
        if is_cupy_array(X) and is_cupy_array(embedding):
            return embedding  # already on the device: no round trip
        return like_input(self.embedding_, X)

    def _check_params(self):
        if self.variant == "gds" and not self.normalize_rows:
            raise ValueError(
                "variant='gds' normalises every hop; normalize_rows=False is "
                "only available with variant='paper'."
            )

    def _validate_fit_data(self, X, y, reset):
        if is_cupy_array(X):
            # Checked where it lives: a device graph never visits the host.
            xp, xsp = get_array_module("cupy")
            A = (X.astype(xp.float64) if xsp.issparse(X)
                 else xp.asarray(X, dtype=xp.float64))
            if A.ndim != 2:
                raise ValueError(
                    "FastRP expects a square adjacency matrix of shape "
                    f"(n_nodes, n_nodes), got shape {tuple(A.shape)}."
                )
            if A.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={tuple(A.shape)}) "
                    "while a minimum of 1 is required by FastRP."
                )
            if reset:
                self.n_features_in_ = int(A.shape[1])
            return _check_adjacency(A, xp, xsp), None
        if _is_networkx_graph(X):
            import networkx as nx

            X = nx.to_scipy_sparse_array(X, format="csr", dtype=np.float64)
        A = validate_data(self, to_cpu(X), accept_sparse="csr", dtype=np.float64,
                          ensure_all_finite=False, reset=reset)
        return _check_adjacency(A, np, sp), None

    def _fit(self, X, node_features):
        with self._fit_context(X) as ctx:
            # The graph moves only when the backend asks for the other side.
            A = to_device(ctx.X, "cupy") if ctx.backend == "cupy" else to_cpu(ctx.X)
            spec = self._build_spec(A, node_features, ctx.random_state)
            steps = len(spec.iteration_weights)
            with progress_bar(steps, "FastRP", self.verbose) as bar:
                embedding, block_width = PROPAGATE(
                    ctx.backend, A, spec,
                    _block_width(spec.n_nodes, spec.n_components, spec.dtype,
                                 (spec.self_influence, *spec.iteration_weights),
                                 spec.variant), bar,
                )
            self.embedding_ = np.asarray(to_cpu(embedding))
            self.sparsity_ = spec.sparsity
            self.block_width_ = int(block_width)
        return embedding

    def _build_spec(self, A, node_features, random_state):
        xp, _ = get_array_module("cupy" if is_cupy_array(A) else "numpy")
        n = A.shape[0]
        weights = tuple(float(w) for w in
                        np.asarray(to_cpu(self.iteration_weights), dtype=np.float64))
        degree = xp.asarray(A.sum(axis=1), dtype=xp.float64).ravel()
        has_edges = degree > 0
        inv_degree = xp.where(has_edges, 1.0 / xp.where(has_edges, degree, 1.0), 0.0)
        node_scale = xp.where(
            has_edges, xp.where(has_edges, degree, 1.0) ** self.normalization_strength,
            1.0,
        )
        n_property = int(np.floor(self.n_components * self.property_ratio))
        features = None
        if n_property > 0:
            if node_features is None:
                raise ValueError(
                    f"property_ratio={self.property_ratio} reserves {n_property} "
                    "columns for node features, but fit got node_features=None."
                )
            features = _check_node_features(node_features, n)
        elif node_features is not None:
            raise ValueError(
                "node_features were given but property_ratio="
                f"{self.property_ratio} leaves no columns for them; set "
                "property_ratio in (0, 1)."
            )
        if self.sparsity == "auto":
            sparsity = 3.0 if self.variant == "gds" else max(1.0, float(np.sqrt(n)))
        else:
            sparsity = float(self.sparsity)
        standardize = (self.variant == "paper") if self.standardize == "auto" else (
            self.standardize
        )
        rng_seed = draw_seed(random_state)
        return FastRPSpec(
            n_nodes=n,
            n_components=self.n_components,
            n_base=self.n_components - n_property,
            n_property=n_property,
            iteration_weights=weights,
            self_influence=float(self.self_influence),
            sparsity=sparsity,
            normalize_rows=bool(self.normalize_rows),
            standardize=bool(standardize),
            variant=self.variant,
            seed=rng_seed,
            feature_seed=rng_seed ^ 0x5DEECE66D,
            node_scale=node_scale,
            inv_degree=inv_degree,
            node_features=features,
            dtype=np.dtype(self.dtype).type,
        )


def _block_width(n_nodes, n_components, dtype=np.float64, weights=None,
                 variant="paper"):
    """Columns propagated together by the numba backend.

    Two ``n_nodes x width`` buffers live beside the output, except on the
    two-array path (only the last two terms of ``weights`` carry weight, not
    ``variant="gds"``), where the embedding is built in one of the two and a
    single full-width array is temporary. All columns go together when the
    temporary full-width arrays fit in the ``working_memory`` budget: with
    normalised rows, several blocks cost every sparse product twice (a pass
    for the row norms, then the accumulation), so one block is the fast path.
    Otherwise the buffers are kept under half the output's size (peak memory
    within 1.5x of graph plus output) and under the budget; blocks narrower
    than 32 columns lose more to re-reading the graph than they save.
    """
    itemsize = np.dtype(dtype).itemsize
    # columns of one n_nodes-row array that fit the budget
    columns = get_config()["working_memory"] * 2**20 // (itemsize * n_nodes)
    two_array = weights is not None and variant != "gds" and (
        _first_weighted_of_last_two(tuple(weights)) is not None)
    if columns // (1 if two_array else 2) >= n_components:
        return int(n_components)
    budget = columns // 2
    # half the output's bytes: a quarter of its columns in float64, half of
    # them in float32 (buffers and output share the dtype)
    half_output = max(32, -(-n_components * 8 // (4 * itemsize)))
    return int(max(1, min(n_components, half_output, budget)))


def _check_node_features(node_features, n_nodes):
    from sklearn.utils import check_array

    features = check_array(to_cpu(node_features), dtype=np.float64,
                           input_name="node_features")
    if features.shape[0] != n_nodes:
        raise ValueError(
            f"node_features must have one row per node ({n_nodes}), got "
            f"{features.shape[0]} rows."
        )
    return features
