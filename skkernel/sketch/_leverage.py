"""Leverage scores, Lewis weights and the l_inf sketch size."""

import math
import numbers
from contextlib import contextmanager

import numpy as np
from sklearn.utils import check_scalar
from threadpoolctl import threadpool_limits

from ..backend import get_array_module, resolve_backend, to_cpu, to_device
from ..utils import draw_seed

# Relative singular-value threshold below which a direction counts as null.
RANK_RTOL_FACTOR = 10.0


@contextmanager
def small_factorization():
    """One BLAS thread for QR/SVD of small or skinny matrices.

    Threaded LAPACK QR of an ``m x d`` sketch or a tall ``n x 20`` matrix is
    dominated by thread synchronisation: on 2 shared cores we measured it
    5-10x slower than one thread. The big level-2/3 work elsewhere keeps all
    threads.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def numerical_rank(singular_values, shape):
    """Rank by numpy's rule ``s > s_max * max(shape) * eps`` (times a margin)."""
    s = to_cpu(singular_values)
    if s.size == 0 or s[0] == 0:
        return 0
    tol = s[0] * max(shape) * np.finfo(np.float64).eps * RANK_RTOL_FACTOR
    return int(np.count_nonzero(s > tol))


def range_basis_factor(A, xp):
    """``P`` (d x k) with ``A P`` an orthonormal basis of ``range(A)``.

    From ``A = Q R`` and ``R = U S V^T``: ``P = V_k / S_k`` with ``k`` the
    numerical rank, so rank deficiency is handled.
    """
    with small_factorization():
        R = xp.linalg.qr(A, mode="r")
        _, s, Vt = xp.linalg.svd(R, full_matrices=False)
    k = numerical_rank(s, A.shape)
    return Vt[:k].T / s[:k]


def exact_leverage_scores_xp(A, xp):
    """Squared row norms of an orthonormal basis of ``range(A)``."""
    if A.shape[0] == 0:
        return xp.zeros(0)
    Z = A @ range_basis_factor(A, xp)
    return (Z * Z).sum(axis=1)


def approximate_leverage_scores_xp(A, seed, backend, n_projections=None):
    """Leverage scores by sketch-QR plus a Johnson-Lindenstrauss projection.

    ``S A = Q R`` for a sparse sign ``S`` with ``4 d`` rows makes ``A R^-1``
    well conditioned; its squared row norms, estimated through ``A R^-1 G``
    for a Gaussian ``G`` with ``n_projections`` columns, are the scores up to
    a factor ``1 +- O(1)`` (Drineas et al., 2012).
    """
    from ._sketches import GaussianSketch, SparseSignSketch

    xp, _ = get_array_module(backend)
    n, d = A.shape
    sketch_size = 4 * d
    if n <= 2 * sketch_size:
        return exact_leverage_scores_xp(A, xp)
    SA = SparseSignSketch(sketch_size, seed, backend).apply(A)
    P = range_basis_factor(SA, xp)
    if n_projections is None:
        n_projections = max(32, math.ceil(4 * math.log(n)))
    if P.shape[1] <= n_projections:
        Z = A @ P
    else:
        jl = GaussianSketch(n_projections, seed ^ 0x7F4A7C15, backend)
        G = jl.block(P.shape[1], 0)
        Z = A @ (P @ G)
    return (Z * Z).sum(axis=1)


def _prepare(A, backend):
    from ._sketches import check_matrix

    backend = resolve_backend(backend, A)
    A, _ = check_matrix(A)
    A = to_device(A, "cupy") if backend == "cupy" else to_cpu(A)
    return A, backend


def approximate_leverage_scores(A, *, exact=False, random_state=None, backend="auto"):
    """Leverage scores of the rows of ``A`` (exact or sketched).

    The leverage score of row ``i`` is ``||e_i^T U||^2`` for an orthonormal
    basis ``U`` of the column space of ``A``; the scores sum to the rank.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The matrix.
    exact : bool, default=False
        Compute them from a QR of ``A`` (``O(n d^2)``) instead of the sketch
        (``O(nnz(A) + n d log n)``).
    random_state : int, RandomState instance or None, default=None
        Seeds the sketch.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Non-negative scores (a cupy array for cupy input).

    See Also
    --------
    leverage_score_sampling : Sampling rows by these scores.
    lewis_weights : Their l_p generalisation.

    References
    ----------
    .. [1] P. Drineas, M. Magdon-Ismail, M. W. Mahoney and D. P. Woodruff,
       "Fast approximation of matrix coherence and statistical leverage",
       JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import approximate_leverage_scores
    >>> A = np.random.RandomState(0).randn(200, 3)
    >>> round(float(approximate_leverage_scores(A, exact=True).sum()), 6)
    3.0
    """
    A, backend = _prepare(A, backend)
    xp, _ = get_array_module(backend)
    if exact:
        return exact_leverage_scores_xp(A, xp)
    return approximate_leverage_scores_xp(A, draw_seed(random_state), backend)


def lewis_weights_xp(A, p, xp, max_iter=30, tol=1e-8, progress=None):
    """Fixed-point iteration of Cohen and Peng for the l_p Lewis weights.

    ``w_i <- (a_i^T (A^T W^(1-2/p) A)^+ a_i) ** (p/2)``, computed as
    ``(w_i^(2/p - 1) tau_i) ** (p/2)`` from the leverage scores ``tau`` of
    ``W^(1/2 - 1/p) A``; a contraction for ``p < 4``. Returns the weights and
    the iterations run. ``progress``, if given, is called after each
    iteration with the largest relative change of a weight.
    """
    n = A.shape[0]
    w = xp.ones(n)
    if p == 2:
        return exact_leverage_scores_xp(A, xp), 1
    exponent = 0.5 - 1.0 / p
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        positive = xp.where(w > 0, w, 1.0)
        scale = positive**exponent * (w > 0)
        tau = exact_leverage_scores_xp(scale[:, None] * A, xp)
        new = (xp.maximum(tau, 0.0) * positive ** (2.0 / p - 1.0)) ** (p / 2.0)
        change = float(xp.max(xp.abs(new - w) / xp.maximum(w, 1e-300)))
        w = new
        if progress is not None:
            progress(change)
        if change <= tol:
            break
    return w, iteration


def lewis_weights(A, p, *, max_iter=30, tol=1e-8, backend="auto"):
    """The l_p Lewis weights of the rows of ``A``.

    The Lewis weights are the unique ``w > 0`` with
    ``w_i = (a_i^T (A^T W^(1-2/p) A)^+ a_i)^(p/2)``; they sum to the rank of
    ``A``. For ``p = 2`` they are the leverage scores. Sampling rows with
    probabilities proportional to them gives an l_p subspace embedding with
    ``O(d log d)`` rows for ``p < 2`` (Cohen and Peng, 2015).

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The matrix.
    p : float
        The norm, ``0 < p < 4`` (the range where the fixed-point iteration
        contracts).
    max_iter : int, default=30
        Maximum number of fixed-point iterations (each one QR of ``A``).
    tol : float, default=1e-8
        Stop when no weight changes by more than this relative amount.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Compute backend.

    Returns
    -------
    weights : ndarray of shape (n_samples,)
        The Lewis weights.

    See Also
    --------
    approximate_leverage_scores : The ``p = 2`` case.
    skkernel.linear_model.LewisWeightRegression : Regression with them.

    References
    ----------
    .. [1] M. B. Cohen and R. Peng, "l_p row sampling by Lewis weights",
       STOC 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.sketch import lewis_weights
    >>> A = np.random.RandomState(0).randn(300, 4)
    >>> round(float(lewis_weights(A, p=1).sum()), 4)
    4.0
    """
    check_scalar(p, "p", numbers.Real, min_val=0.0, max_val=4.0,
                 include_boundaries="neither")
    check_scalar(max_iter, "max_iter", numbers.Integral, min_val=1)
    check_scalar(tol, "tol", numbers.Real, min_val=0.0)
    A, backend = _prepare(A, backend)
    xp, _ = get_array_module(backend)
    return lewis_weights_xp(A, float(p), xp, max_iter=max_iter, tol=tol)[0]


def linf_sketch_size(n_samples, n_features, eps=0.5, delta=0.01):
    """Sketch size of the l_inf guarantee of Song, Ye, Yin and Zhang (2023).

    ``m = eps^-2 d log^3(n / delta)`` rows of a dense sketch give, with
    probability ``1 - delta``,
    ``||x' - x*||_inf <= eps / sqrt(d) * ||A x* - b|| * ||A^+||`` for the
    sketch-and-solve solution ``x'``. The paper's constant is not given; this
    returns the formula with constant 1.

    Parameters
    ----------
    n_samples, n_features : int
        ``n`` and ``d``.
    eps : float, default=0.5
        Accuracy.
    delta : float, default=0.01
        Failure probability.

    Returns
    -------
    sketch_size : int
        The formula's ``m``; often larger than ``n`` in practice, which is
        why :class:`~skkernel.linear_model.SketchedLinearRegression` lets the
        user choose ``sketch_size``.

    See Also
    --------
    skkernel.linear_model.SketchedLinearRegression : Sketch-and-solve with it.

    References
    ----------
    .. [1] Z. Song, M. Ye, J. Yin and L. Zhang, "A nearly-optimal bound for
       fast regression with l_inf guarantee", ICML 2023.

    Examples
    --------
    >>> from skkernel.sketch import linf_sketch_size
    >>> linf_sketch_size(10**6, 100) > 10**6
    True
    """
    check_scalar(n_samples, "n_samples", numbers.Integral, min_val=1)
    check_scalar(n_features, "n_features", numbers.Integral, min_val=1)
    check_scalar(eps, "eps", numbers.Real, min_val=0.0, include_boundaries="neither")
    check_scalar(delta, "delta", numbers.Real, min_val=0.0, max_val=1.0,
                 include_boundaries="neither")
    return math.ceil(n_features * math.log(n_samples / delta) ** 3 / eps**2)
