"""Leverage scores, Lewis weights and the l_inf sketch size."""

import math
from numbers import Integral, Real

from ..backend import get_array_module, like_input, resolve_backend
from ..base import COMMON_CONSTRAINTS, Interval, validate_parameter_constraints
from ..utils import draw_seed
from ..utils._linalg import exact_leverage_scores
from ._sketches import check_matrix, sketched_leverage_scores


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
    validate_parameter_constraints(
        {"exact": ["boolean"], "random_state": COMMON_CONSTRAINTS["random_state"],
         "backend": COMMON_CONSTRAINTS["backend"]},
        {"exact": exact, "random_state": random_state, "backend": backend},
        "approximate_leverage_scores",
    )
    backend = resolve_backend(backend, A)
    A2, _ = check_matrix(A, backend)
    if exact:
        scores = exact_leverage_scores(A2, get_array_module(backend)[0])
    else:
        scores = sketched_leverage_scores(A2, draw_seed(random_state), backend)
    return like_input(scores, A)


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
        return exact_leverage_scores(A, xp), 1
    exponent = 0.5 - 1.0 / p
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        positive = xp.where(w > 0, w, 1.0)
        scale = positive**exponent * (w > 0)
        tau = exact_leverage_scores(scale[:, None] * A, xp)
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
    validate_parameter_constraints(
        {"p": [Interval(Real, 0, 4, closed="neither")],
         "max_iter": [Interval(Integral, 1, None)],
         "tol": [Interval(Real, 0, None, closed="left")],
         "backend": COMMON_CONSTRAINTS["backend"]},
        {"p": p, "max_iter": max_iter, "tol": tol, "backend": backend},
        "lewis_weights",
    )
    backend = resolve_backend(backend, A)
    A2, _ = check_matrix(A, backend)
    xp = get_array_module(backend)[0]
    return like_input(lewis_weights_xp(A2, float(p), xp, max_iter=max_iter, tol=tol)[0],
                      A)


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
    validate_parameter_constraints(
        {"n_samples": [Interval(Integral, 1, None)],
         "n_features": [Interval(Integral, 1, None)],
         "eps": [Interval(Real, 0, None, closed="neither")],
         "delta": [Interval(Real, 0, 1, closed="neither")]},
        {"n_samples": n_samples, "n_features": n_features, "eps": eps,
         "delta": delta},
        "linf_sketch_size",
    )
    return math.ceil(n_features * math.log(n_samples / delta) ** 3 / eps**2)
