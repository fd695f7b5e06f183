"""Random sketches ``S`` (``sketch_size x n``) behind one internal interface.

Every sketch is a :class:`SketchOperator`: ``fit(A)`` does the data-dependent
set-up (only SRHT and leverage-score sampling have any), ``apply(A,
row_offset)`` returns ``S[:, row_offset:row_offset + len(A)] @ A``. For the
*streamable* sketches (Gaussian, CountSketch, sparse sign) the columns of
``S`` are functions of the global row index alone, drawn from the
counter-based generator of :mod:`skkernel.utils._hash_random`, so

* ``S A`` is a sum over row blocks and can be accumulated block by block
  (``partial_fit``), with the same ``S`` whatever the block boundaries;
* applying the operator to ``A`` and to ``b`` uses the same ``S`` without
  storing it;
* numpy, numba and cupy draw the same ``S`` for the same seed.

The numpy code below is the reference; it is written against ``xp`` (numpy
or cupy) and ``xsp`` (scipy.sparse or cupyx.scipy.sparse), so the GPU runs
the same lines. Each step with a kernel of its own has a :class:`Dispatch`
table: the numba kernels of :mod:`skkernel.sketch._sketch_kernels` (CPU
only) for the sparse and Gaussian sketches, cuFFT for the DCT on the GPU.
An operator stores its backend's name, never the modules, so it pickles.
"""

import math
from numbers import Integral

import numba
import numpy as np
import scipy.fft
from sklearn.utils import check_array

from ..backend import (
    Dispatch,
    get_array_module,
    is_cupy_array,
    like_input,
    resolve_backend,
    to_cpu,
    to_device,
)
from ..base import COMMON_CONSTRAINTS, Interval, Options, validate_parameter_constraints
from ..utils import draw_seed
from ..utils._hash_random import hash_uniform
from ..utils._linalg import exact_leverage_scores, range_basis_factor
from ._sketch_kernels import gaussian_block, sparse_sign_apply

SKETCHES = ("gaussian", "srht", "countsketch", "sparse_sign", "leverage")
STREAMABLE_SKETCHES = ("gaussian", "countsketch", "sparse_sign")
SRHT_TRANSFORMS = ("dct", "hadamard")

# Independent streams of one seed: XOR with fixed odd constants below 2**63.
_STREAM_POSITION = 0x1D8E4E27C47D124F
_STREAM_SIGN = 0x2545F4914F6CDD1D
_STREAM_RADIUS = 0x3C6EF372FE94F82B
_STREAM_ANGLE = 0x5851F42D4C957F2D
_STREAM_ROWS = 0x6A09E667F3BCC909
_STREAM_PROJECTION = 0x7F4A7C15

# Rows of A handled per Gaussian block: the block of S is (block, sketch_size).
_GAUSSIAN_BLOCK_ENTRIES = 2**22
# Rows per thread below which the numba sparse sign kernel uses fewer threads.
_ROWS_PER_CHUNK = 1024


def on_backend(a, backend):
    """``a`` where ``backend`` computes: the GPU for cupy, else the host.

    A cupy array stays on the GPU for ``"cupy"`` (no round trip).
    """
    return to_device(a, "cupy") if backend == "cupy" else to_cpu(a)


class SketchOperator:
    """A random linear map ``S`` of shape ``(sketch_size, n_rows)``.

    Parameters
    ----------
    sketch_size : int
        Number of rows ``m`` of ``S``.
    seed : int
        Key of the counter-based random stream.
    backend : {"numpy", "numba", "cupy"}
        Resolved backend.
    """

    kind = None
    streamable = True

    def __init__(self, sketch_size, seed, backend):
        self.sketch_size = int(sketch_size)
        self.seed = int(seed)
        self.backend = backend

    @property
    def xp(self):
        """The dense array module of the backend (numpy or cupy)."""
        return get_array_module(self.backend)[0]

    @property
    def xsp(self):
        """The sparse module of the backend (scipy.sparse or cupyx's)."""
        return get_array_module(self.backend)[1]

    def fit(self, A):
        """Do the data-dependent set-up; a no-op for oblivious sketches."""
        return self

    def apply(self, A, row_offset=0):
        """Return ``S[:, row_offset:row_offset + A.shape[0]] @ A``."""
        raise NotImplementedError


# ------------------------------------------------------------ sparse sign


def _sparse_sign_apply_reference(operator, A, row_offset):
    """``S_block @ A`` with the block of ``S`` as an ``xsp`` sparse matrix."""
    return operator.matrix(A.shape[0], row_offset) @ A


def _sparse_sign_apply_numba(operator, A, row_offset):
    """Parallel scatter of the rows of ``A`` (no ``S`` in memory)."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    n_chunks = max(1, min(numba.get_num_threads(), A.shape[0] // _ROWS_PER_CHUNK))
    return sparse_sign_apply(
        A, row_offset, operator.sketch_size, operator.nnz,
        operator.seed ^ _STREAM_POSITION, operator.seed ^ _STREAM_SIGN,
        operator.scale, n_chunks,
    )


SPARSE_SIGN_APPLY = Dispatch(
    "sparse sign sketch", numpy=_sparse_sign_apply_reference,
    numba=_sparse_sign_apply_numba,
)


class SparseSignSketch(SketchOperator):
    """Sparse sign embedding with ``nnz`` nonzeros ``+-1/sqrt(nnz)`` a column.

    Column ``i`` of ``S`` has one nonzero in each of ``nnz`` consecutive
    blocks of about ``m / nnz`` rows (the block construction of OSNAP), so
    its nonzeros sit in distinct rows without rejection sampling.
    """

    kind = "sparse_sign"

    def __init__(self, sketch_size, seed, backend, nnz=8):
        super().__init__(sketch_size, seed, backend)
        self.nnz = int(min(nnz, self.sketch_size))

    @property
    def scale(self):
        return 1.0 / math.sqrt(self.nnz)

    def positions(self, rows):
        """Sketch rows (n, nnz) and signs (n, nnz) of the columns ``rows``."""
        xp, m, nnz = self.xp, self.sketch_size, self.nnz
        k = xp.arange(nnz, dtype=xp.int64)
        counters = rows[:, None] * nnz + k[None, :]
        start = (k * m) // nnz
        size = ((k + 1) * m) // nnz - start
        u = hash_uniform(self.seed ^ _STREAM_POSITION, counters, xp=xp)
        pos = start + (u * size).astype(xp.int64)
        sign = xp.where(
            hash_uniform(self.seed ^ _STREAM_SIGN, counters, xp=xp) < 0.5, 1.0, -1.0
        )
        return pos, sign

    def matrix(self, n_rows, row_offset=0):
        """The block of ``S`` as a sparse ``(sketch_size, n_rows)`` matrix."""
        xp = self.xp
        rows = xp.arange(row_offset, row_offset + n_rows, dtype=xp.int64)
        pos, sign = self.positions(rows)
        cols = xp.repeat(xp.arange(n_rows, dtype=xp.int64), self.nnz)
        return self.xsp.coo_matrix(
            (self.scale * sign.ravel(), (pos.ravel(), cols)),
            shape=(self.sketch_size, n_rows),
        ).tocsr()

    def apply(self, A, row_offset=0):
        return SPARSE_SIGN_APPLY(self.backend, self, A, row_offset)


class CountSketch(SparseSignSketch):
    """CountSketch (Clarkson-Woodruff): one ``+-1`` a column of ``S``."""

    kind = "countsketch"

    def __init__(self, sketch_size, seed, backend):
        super().__init__(sketch_size, seed, backend, nnz=1)


# ------------------------------------------------------------ Gaussian


def _gaussian_block_reference(operator, n_rows, row_offset):
    """Box-Muller transform of two counter-based uniform streams, in ``xp``."""
    xp, m = operator.xp, operator.sketch_size
    counters = (
        xp.arange(row_offset, row_offset + n_rows, dtype=xp.int64)[:, None] * m
        + xp.arange(m, dtype=xp.int64)[None, :]
    )
    u = 1.0 - hash_uniform(operator.seed ^ _STREAM_RADIUS, counters, xp=xp)
    v = hash_uniform(operator.seed ^ _STREAM_ANGLE, counters, xp=xp)
    return xp.sqrt(-2.0 * xp.log(u)) * xp.cos(2.0 * np.pi * v) / math.sqrt(m)


def _gaussian_block_numba(operator, n_rows, row_offset):
    return gaussian_block(operator.seed ^ _STREAM_RADIUS,
                          operator.seed ^ _STREAM_ANGLE, row_offset, n_rows,
                          operator.sketch_size)


GAUSSIAN_BLOCK = Dispatch(
    "Gaussian sketch block", numpy=_gaussian_block_reference,
    numba=_gaussian_block_numba,
)


class GaussianSketch(SketchOperator):
    """Dense i.i.d. ``N(0, 1/m)`` entries, generated block by block."""

    kind = "gaussian"

    def block(self, n_rows, row_offset):
        """Entries ``S[:, rows].T`` as an ``(n_rows, sketch_size)`` array."""
        return GAUSSIAN_BLOCK(self.backend, self, n_rows, row_offset)

    def apply(self, A, row_offset=0):
        n = A.shape[0]
        step = max(1, _GAUSSIAN_BLOCK_ENTRIES // self.sketch_size)
        out = self.xp.zeros((self.sketch_size, A.shape[1]))
        for start in range(0, n, step):
            stop = min(n, start + step)
            out += self.block(stop - start, row_offset + start).T @ A[start:stop]
        return out


# ------------------------------------------------------------ SRHT


def _dct_scipy(A):
    """Orthonormal DCT-II along the rows (scipy.fft, all cores)."""
    return scipy.fft.dct(A, type=2, norm="ortho", axis=0, workers=-1)


def _dct_cupy(A):
    """Orthonormal DCT-II along the rows (cuFFT)."""
    import cupyx.scipy.fft

    return cupyx.scipy.fft.dct(A, type=2, norm="ortho", axis=0)


DCT = Dispatch("DCT-II", numpy=_dct_scipy, cupy=_dct_cupy)


def _next_power_of_two(n):
    return 1 << max(0, (n - 1).bit_length())


def _hadamard(A, n_padded, xp):
    """Orthonormal Walsh-Hadamard transform of the zero-padded rows of ``A``.

    Radix-2 butterflies on views: ``log2(N)`` passes of ``O(N d)`` work.
    """
    H = xp.zeros((n_padded, A.shape[1]))
    H[: A.shape[0]] = A
    h = 1
    while h < n_padded:
        pairs = H.reshape(n_padded // (2 * h), 2, h, A.shape[1])
        top = pairs[:, 0].copy()
        pairs[:, 0] += pairs[:, 1]
        pairs[:, 1] = top - pairs[:, 1]
        h *= 2
    return H / math.sqrt(n_padded)


class SRHTSketch(SketchOperator):
    """Subsampled randomized trigonometric/Hadamard transform.

    ``S = sqrt(N / m) P F D``: random signs ``D``, an orthonormal transform
    ``F`` (DCT-II on ``N = n`` rows, or Walsh-Hadamard on ``N = 2^k >= n``
    zero-padded rows) and ``m`` rows ``P`` sampled without replacement.
    """

    kind = "srht"
    streamable = False

    def __init__(self, sketch_size, seed, backend, transform="dct"):
        super().__init__(sketch_size, seed, backend)
        self.transform = transform

    def fit(self, A):
        n = A.shape[0]
        self.n_rows_ = n
        self.n_mixed_ = n if self.transform == "dct" else _next_power_of_two(n)
        if self.sketch_size > self.n_mixed_:
            raise ValueError(
                f"sketch_size={self.sketch_size} exceeds the {self.n_mixed_} rows "
                f"the SRHT can sample (n_samples={n}); use a smaller sketch_size "
                "or another sketch."
            )
        xp = self.xp
        keys = hash_uniform(self.seed ^ _STREAM_ROWS,
                            xp.arange(self.n_mixed_, dtype=xp.int64), xp=xp)
        self.rows_ = xp.argsort(keys)[: self.sketch_size]
        return self

    def apply(self, A, row_offset=0):
        xp = self.xp
        if row_offset != 0 or A.shape[0] != self.n_rows_:
            raise ValueError(
                "The SRHT mixes all rows at once: it cannot be applied to a block "
                "of rows (partial_fit needs sketch in "
                f"{list(STREAMABLE_SKETCHES)})."
            )
        signs = xp.where(
            hash_uniform(self.seed ^ _STREAM_SIGN,
                         xp.arange(A.shape[0], dtype=xp.int64), xp=xp) < 0.5,
            1.0, -1.0,
        )
        DA = signs[:, None] * A
        if self.transform == "dct":
            mixed = DCT(self.backend, DA)
        else:
            mixed = _hadamard(DA, self.n_mixed_, xp)
        return math.sqrt(self.n_mixed_ / self.sketch_size) * mixed[self.rows_]


# ------------------------------------------------------------ leverage sampling


def sketched_leverage_scores(A, seed, backend, n_projections=None):
    """Leverage scores by sketch-QR plus a Johnson-Lindenstrauss projection.

    ``S A = Q R`` for a sparse sign ``S`` with ``4 d`` rows makes ``A R^-1``
    well conditioned; its squared row norms, estimated through ``A R^-1 G``
    for a Gaussian ``G`` with ``n_projections`` columns, are the scores up to
    a factor ``1 +- O(1)`` (Drineas et al., 2012). Small problems get the
    exact scores.
    """
    xp = get_array_module(backend)[0]
    n, d = A.shape
    sketch_size = 4 * d
    if n <= 2 * sketch_size:
        return exact_leverage_scores(A, xp)
    SA = SparseSignSketch(sketch_size, seed, backend).apply(A)
    P = range_basis_factor(SA, xp)
    if n_projections is None:
        n_projections = max(32, math.ceil(4 * math.log(n)))
    if P.shape[1] <= n_projections:
        Z = A @ P
    else:
        jl = GaussianSketch(n_projections, seed ^ _STREAM_PROJECTION, backend)
        Z = A @ (P @ jl.block(P.shape[1], 0))
    return (Z * Z).sum(axis=1)


class LeverageScoreSketch(SketchOperator):
    """Sample ``m`` rows i.i.d. with probability ``p_i`` proportional to the
    (approximate) leverage score of row ``i`` and scale by ``1/sqrt(m p_i)``.
    """

    kind = "leverage"
    streamable = False

    def __init__(self, sketch_size, seed, backend, scores=None):
        super().__init__(sketch_size, seed, backend)
        self.scores = scores

    def fit(self, A):
        xp = self.xp
        scores = self.scores
        if scores is None:
            scores = sketched_leverage_scores(A, self.seed, self.backend)
        scores = xp.asarray(scores)
        total = float(scores.sum())
        if not total > 0:
            raise ValueError("All leverage scores are zero: A has no nonzero row.")
        probabilities = scores / total
        cdf = xp.cumsum(probabilities)
        u = hash_uniform(self.seed ^ _STREAM_ROWS,
                         xp.arange(self.sketch_size, dtype=xp.int64), xp=xp)
        rows = xp.searchsorted(cdf, u * cdf[-1], side="right")
        self.n_rows_ = A.shape[0]
        self.rows_ = xp.minimum(rows, A.shape[0] - 1)
        self.row_scale_ = 1.0 / xp.sqrt(self.sketch_size * probabilities[self.rows_])
        return self

    def apply(self, A, row_offset=0):
        if row_offset != 0 or A.shape[0] != self.n_rows_:
            raise ValueError(
                "Leverage-score sampling depends on all rows: it cannot be applied "
                "to a block of rows (partial_fit needs sketch in "
                f"{list(STREAMABLE_SKETCHES)})."
            )
        return self.row_scale_[:, None] * A[self.rows_]


def make_sketch(kind, sketch_size, seed, backend, *, nnz_per_col=8, transform="dct",
                scores=None):
    """Build the :class:`SketchOperator` named ``kind``.

    Parameters
    ----------
    kind : {"gaussian", "srht", "countsketch", "sparse_sign", "leverage"}
        The sketch.
    sketch_size : int
        Rows of ``S``.
    seed : int
        Key of the random stream.
    backend : {"numpy", "numba", "cupy"}
        Resolved backend.
    nnz_per_col : int, default=8
        Nonzeros per column of the sparse sign sketch.
    transform : {"dct", "hadamard"}, default="dct"
        Mixing transform of the SRHT.
    scores : array of shape (n,), default=None
        Leverage scores (or any importance scores) for ``"leverage"``;
        ``None`` estimates them from the data in ``fit``.

    Returns
    -------
    operator : SketchOperator
        Not yet fitted.
    """
    if kind == "sparse_sign":
        return SparseSignSketch(sketch_size, seed, backend, nnz=nnz_per_col)
    if kind == "countsketch":
        return CountSketch(sketch_size, seed, backend)
    if kind == "gaussian":
        return GaussianSketch(sketch_size, seed, backend)
    if kind == "srht":
        return SRHTSketch(sketch_size, seed, backend, transform=transform)
    return LeverageScoreSketch(sketch_size, seed, backend, scores=scores)


# ------------------------------------------------------------ public functions


def check_matrix(A, backend, name="A"):
    """Validate a dense matrix and put it where ``backend`` runs.

    A cupy array is checked on the GPU; other device arrays are read to the
    host explicitly. A vector becomes one column. Returns the 2-D array and
    whether the input was 1-D.
    """
    if is_cupy_array(A):
        xp = get_array_module("cupy")[0]
        if A.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D, got {A.ndim} dimensions.")
        A = A.astype(xp.float64, copy=False)
        if not bool(xp.isfinite(A).all()):
            raise ValueError(f"{name} contains NaN or infinity.")
    else:
        A = check_array(to_cpu(A), dtype=np.float64, ensure_2d=False, input_name=name)
        if A.ndim != 1 and A.ndim != 2:
            raise ValueError(f"{name} must be 1-D or 2-D, got {A.ndim} dimensions.")
    A = on_backend(A, backend)
    vector = A.ndim == 1
    return (A[:, None] if vector else A), vector


#: Constraints of the sketch parameters, shared with the estimators.
SKETCH_CONSTRAINTS = {
    "sketch_size": [Interval(Integral, 1, None)],
    "kind": [Options(*SKETCHES)],
    "nnz_per_col": [Interval(Integral, 1, None)],
    "transform": [Options(*SRHT_TRANSFORMS)],
    "random_state": COMMON_CONSTRAINTS["random_state"],
    "backend": COMMON_CONSTRAINTS["backend"],
}


def sketch(A, sketch_size, kind="sparse_sign", *, nnz_per_col=8, transform="dct",
           random_state=None, backend="auto"):
    """Apply a random sketch ``S`` to the rows of ``A``: return ``S @ A``.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_columns) or (n_samples,)
        Matrix (or vector) to sketch; numpy or cupy.
    sketch_size : int
        Number of rows ``m`` of the sketch.
    kind : {"gaussian", "srht", "countsketch", "sparse_sign", "leverage"}, \
            default="sparse_sign"
        Which sketch (see Notes).
    nnz_per_col : int, default=8
        Nonzeros per column of the sparse sign sketch.
    transform : {"dct", "hadamard"}, default="dct"
        Mixing transform of the SRHT.
    random_state : int, RandomState instance or None, default=None
        Seeds the sketch. An int gives the same ``S`` on every backend.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: the readable reference; ``"numba"``: parallel CPU kernels
        for the sparse and Gaussian sketches; ``"cupy"``: the same array code
        on the GPU (cupyx sparse, cuBLAS GEMM, cuFFT DCT).

    Returns
    -------
    SA : ndarray of shape (sketch_size, n_columns) or (sketch_size,)
        The sketch; a cupy array for cupy input.

    See Also
    --------
    gaussian_sketch : Dense Gaussian sketch.
    srht : Subsampled randomized trigonometric/Hadamard transform.
    countsketch : One nonzero per column.
    sparse_sign : A few nonzeros per column.
    leverage_score_sampling : Row sampling by leverage scores.

    Notes
    -----
    ================ ================== =====================================
    sketch           cost of ``S A``    rows for a subspace embedding
    ================ ================== =====================================
    ``gaussian``     ``O(m n d)`` GEMM  ``O(d)``
    ``srht``         ``O(n d log n)``   ``O(d log d)``
    ``countsketch``  ``O(nnz(A))``      ``O(d^2)``
    ``sparse_sign``  ``O(s nnz(A))``    ``O(d log d)`` (``s = 8`` in practice)
    ``leverage``     ``O(n d log n)``   ``O(d log d)``
    ================ ================== =====================================

    The Gaussian, CountSketch and sparse sign matrices are drawn from a
    counter-based generator keyed by the global row index, so ``S A`` can be
    computed as a sum over row blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import sketch
    >>> A = np.random.RandomState(0).randn(1000, 5)
    >>> sketch(A, 40, "sparse_sign", random_state=0).shape
    (40, 5)
    """
    validate_parameter_constraints(
        SKETCH_CONSTRAINTS,
        {"sketch_size": sketch_size, "kind": kind, "nnz_per_col": nnz_per_col,
         "transform": transform, "random_state": random_state, "backend": backend},
        "sketch",
    )
    backend = resolve_backend(backend, A)
    A2, vector = check_matrix(A, backend)
    operator = make_sketch(kind, sketch_size, draw_seed(random_state), backend,
                           nnz_per_col=nnz_per_col, transform=transform)
    SA = operator.fit(A2).apply(A2)
    return like_input(SA[:, 0] if vector else SA, A)


def gaussian_sketch(A, sketch_size, *, random_state=None, backend="auto"):
    """Gaussian sketch ``S @ A`` with i.i.d. ``N(0, 1/m)`` entries.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_columns) or (n_samples,)
        Matrix to sketch.
    sketch_size : int
        Rows ``m`` of ``S``.
    random_state : int, RandomState instance or None, default=None
        Seeds ``S``.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend.

    Returns
    -------
    SA : ndarray of shape (sketch_size, n_columns) or (sketch_size,)
        The sketch.

    See Also
    --------
    sketch : All sketches behind one function.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import gaussian_sketch
    >>> gaussian_sketch(np.eye(50), 10, random_state=0).shape
    (10, 50)
    """
    return sketch(A, sketch_size, "gaussian", random_state=random_state,
                  backend=backend)


def srht(A, sketch_size, *, transform="dct", random_state=None, backend="auto"):
    """Subsampled randomized trigonometric or Hadamard transform of ``A``.

    ``S A = sqrt(N/m) P F D A`` with random signs ``D``, an orthonormal DCT-II
    (``N = n``) or Walsh-Hadamard transform (``N`` the next power of two,
    rows zero-padded) ``F``, and ``m`` rows ``P`` sampled without
    replacement.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_columns) or (n_samples,)
        Matrix to sketch.
    sketch_size : int
        Rows ``m`` of ``S`` (at most ``N``).
    transform : {"dct", "hadamard"}, default="dct"
        The mixing transform.
    random_state : int, RandomState instance or None, default=None
        Seeds the signs and the rows.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend (numba runs the numpy code: the FFT is already fast).

    Returns
    -------
    SA : ndarray of shape (sketch_size, n_columns) or (sketch_size,)
        The sketch.

    See Also
    --------
    sketch : All sketches behind one function.

    References
    ----------
    .. [1] H. Avron, P. Maymounkov and S. Toledo, "Blendenpik: Supercharging
       LAPACK's least-squares solver", SIAM J. Sci. Comput. 32(3), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import srht
    >>> srht(np.ones((64, 3)), 8, transform="hadamard", random_state=0).shape
    (8, 3)
    """
    return sketch(A, sketch_size, "srht", transform=transform,
                  random_state=random_state, backend=backend)


def countsketch(A, sketch_size, *, random_state=None, backend="auto"):
    """CountSketch ``S @ A``: each row of ``A`` goes to one random bucket.

    Row ``i`` of ``A`` is added, with a random sign, to one random row of the
    sketch.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_columns) or (n_samples,)
        Matrix to sketch.
    sketch_size : int
        Rows ``m`` of ``S``.
    random_state : int, RandomState instance or None, default=None
        Seeds ``S``.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend.

    Returns
    -------
    SA : ndarray of shape (sketch_size, n_columns) or (sketch_size,)
        The sketch.

    See Also
    --------
    sparse_sign : Several nonzeros per column, a better embedding.

    References
    ----------
    .. [1] K. L. Clarkson and D. P. Woodruff, "Low-rank approximation and
       regression in input sparsity time", J. ACM 63(6), 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import countsketch
    >>> countsketch(np.ones((100, 2)), 10, random_state=0).shape
    (10, 2)
    """
    return sketch(A, sketch_size, "countsketch", random_state=random_state,
                  backend=backend)


def sparse_sign(A, sketch_size, *, nnz_per_col=8, random_state=None, backend="auto"):
    """Sparse sign embedding ``S @ A`` with ``nnz_per_col`` nonzeros a column.

    Each column of ``S`` holds ``nnz_per_col`` entries ``+-1/sqrt(nnz_per_col)``
    in distinct rows, one in each of ``nnz_per_col`` blocks of about
    ``m / nnz_per_col`` rows.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_columns) or (n_samples,)
        Matrix to sketch.
    sketch_size : int
        Rows ``m`` of ``S``.
    nnz_per_col : int, default=8
        Nonzeros per column (Epperly's and PARLA's default).
    random_state : int, RandomState instance or None, default=None
        Seeds ``S``.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend; ``"numba"`` scatters rows in parallel.

    Returns
    -------
    SA : ndarray of shape (sketch_size, n_columns) or (sketch_size,)
        The sketch.

    See Also
    --------
    countsketch : One nonzero per column.

    Notes
    -----
    The block placement is the OSNAP block construction of Kane and Nelson;
    other implementations draw the rows of a column without replacement from
    all ``m``. Both are oblivious subspace embeddings with the same sketch
    sizes.

    References
    ----------
    .. [1] Nelson, J. and Nguyen, H. L., "OSNAP: Faster numerical linear
       algebra algorithms via sparser subspace embeddings", FOCS 2013.
    .. [2] Kane, D. M. and Nelson, J., "Sparser Johnson-Lindenstrauss
       transforms", J. ACM 61(1), 2014.
    .. [3] Epperly, E. N., "Which sketch should I use?", 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import sparse_sign
    >>> sparse_sign(np.ones((100, 2)), 16, random_state=0).shape
    (16, 2)
    """
    return sketch(A, sketch_size, "sparse_sign", nnz_per_col=nnz_per_col,
                  random_state=random_state, backend=backend)


def leverage_score_sampling(A, sketch_size, *, random_state=None, backend="auto"):
    """Sample rows of ``A`` by their approximate leverage scores.

    Rows are drawn i.i.d. with probability ``p_i`` proportional to the
    leverage score estimated by :func:`approximate_leverage_scores` and
    scaled by ``1 / sqrt(m p_i)``, so that ``E[(SA)^T SA] = A^T A``.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_columns)
        Matrix to sample.
    sketch_size : int
        Number of sampled rows ``m`` (with replacement).
    random_state : int, RandomState instance or None, default=None
        Seeds the score estimate and the draws.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend.

    Returns
    -------
    SA : ndarray of shape (sketch_size, n_columns)
        The scaled sampled rows.

    See Also
    --------
    approximate_leverage_scores : The scores.

    References
    ----------
    .. [1] P. Drineas, M. Magdon-Ismail, M. W. Mahoney and D. P. Woodruff,
       "Fast approximation of matrix coherence and statistical leverage",
       JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import leverage_score_sampling
    >>> A = np.random.RandomState(0).randn(500, 4)
    >>> leverage_score_sampling(A, 50, random_state=0).shape
    (50, 4)
    """
    return sketch(A, sketch_size, "leverage", random_state=random_state,
                  backend=backend)
