"""Exact kernel density: chunked sums with log-sum-exp, and ExactKernelDensity."""

import math
from numbers import Real

import numba
import numpy as np
import scipy.integrate
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._config import get_config
from ..backend import Dispatch, get_array_module, get_namespace, like_input, to_cpu
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from . import _kernels_numba as kn

#: Kernels of scikit-learn's KernelDensity, plus the Cauchy kernel of the
#: private estimators (not integrable for d >= 2: sums only, no density).
KERNEL_CODES = {
    "gaussian": kn.GAUSSIAN,
    "exponential": kn.EXPONENTIAL,
    "tophat": kn.TOPHAT,
    "epanechnikov": kn.EPANECHNIKOV,
    "linear": kn.LINEAR,
    "cosine": kn.COSINE,
    "cauchy": kn.CAUCHY,
}
SKLEARN_KERNELS = ("gaussian", "tophat", "epanechnikov", "exponential", "linear",
                   "cosine")


def log_kernel(kernel, r2, bandwidth, xp=np):
    """``log k(r)`` from squared distances ``r2`` (``-inf`` outside a support)."""
    u2 = r2 / (bandwidth * bandwidth)
    if kernel == "gaussian":
        return -0.5 * u2
    if kernel == "exponential":
        return -xp.sqrt(u2)
    if kernel == "cauchy":
        return -xp.log1p(u2)
    u = xp.sqrt(u2)
    inside = u < 1.0
    if kernel == "tophat":
        value = xp.ones_like(u)
    elif kernel == "epanechnikov":
        value = 1.0 - u2
    elif kernel == "linear":
        value = 1.0 - u
    else:  # cosine
        value = xp.cos(0.5 * math.pi * xp.minimum(u, 1.0))
    with np.errstate(divide="ignore"):
        return xp.where(inside, xp.log(xp.where(inside, value, 1.0)), -xp.inf)


def log_kernel_norm(kernel, bandwidth, n_features):
    """``log`` of ``1 / integral k(||x|| / h) dx`` over ``R^d``.

    Raises for the Cauchy kernel, which is not integrable for ``d >= 2``.
    """
    d = n_features
    log_h = d * math.log(bandwidth)
    log_ball = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1)  # V_d
    log_sphere = math.log(d) + log_ball  # surface area of the unit sphere
    if kernel == "gaussian":
        return -0.5 * d * math.log(2 * math.pi) - log_h
    if kernel == "exponential":
        return -(log_sphere + math.lgamma(d)) - log_h
    if kernel == "tophat":
        return -log_ball - log_h
    if kernel == "epanechnikov":
        return math.log((d + 2) / 2.0) - log_ball - log_h
    if kernel == "linear":
        return math.log(d + 1.0) - log_ball - log_h
    if kernel == "cosine":
        radial, _ = scipy.integrate.quad(
            lambda r: math.cos(0.5 * math.pi * r) * r ** (d - 1), 0.0, 1.0)
        return -(log_sphere + math.log(radial)) - log_h
    if d == 1:  # cauchy on the line: 1 / (pi h)
        return -math.log(math.pi) - log_h
    raise ValueError(
        "The Cauchy kernel 1 / (1 + ||x - y||^2 / h^2) is not integrable in "
        f"{d} dimensions; it has average similarities but no density."
    )


def _rows_per_chunk(n_points, n_features):
    budget = get_config()["working_memory"] * 2**20
    return max(1, int(budget // (8 * (2 * n_points + n_features))))


def kernel_log_sums_reference(X, Y, log_weight, kernel, bandwidth):
    """``log sum_i w_i k(x_i, y)`` for every row of ``Y``; readable reference.

    Squared distances ``|y|^2 + |x|^2 - 2 y.x`` come from one matrix product
    per block of queries (blocks sized by ``working_memory``); the sum is a
    log-sum-exp, so it stays exact where every term underflows. Works on
    numpy and cupy arrays alike.
    """
    xp = get_namespace(X)
    x_sq = xp.sum(X * X, axis=1)
    out = xp.empty(Y.shape[0])
    step = _rows_per_chunk(X.shape[0], X.shape[1])
    for start in range(0, Y.shape[0], step):
        block = Y[start:start + step]
        r2 = xp.sum(block * block, axis=1)[:, None] + x_sq[None, :] - 2.0 * (
            block @ X.T)
        terms = log_kernel(kernel, xp.maximum(r2, 0.0), bandwidth, xp) + log_weight
        top = xp.max(terms, axis=1, keepdims=True)
        finite_top = xp.where(xp.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            out[start:start + step] = (
                xp.log(xp.sum(xp.exp(terms - finite_top), axis=1))
                + finite_top[:, 0])
    return out


def _tile_size(n_queries):
    """Queries per thread task: 16, fewer when that leaves threads idle."""
    return int(max(1, min(16, -(-n_queries // (2 * numba.get_num_threads())))))


def _kernel_log_sums_numba(X, Y, log_weight, kernel, bandwidth):
    keep = np.isfinite(log_weight)  # zero weights add nothing; no -inf in fastmath
    X, log_weight = X[keep], log_weight[keep]
    # Distances do not change under a shift; centring keeps |x|^2 and |y|^2
    # (the product form's cancelling terms) small.
    centre = X.mean(axis=0)
    X = X - centre
    Y = np.asarray(Y, dtype=np.float64) - centre
    code = KERNEL_CODES[kernel]
    zeros = np.zeros(1)
    if kernel == "gaussian":
        scale = 1.0 / (bandwidth * bandwidth)
        bias = log_weight - 0.5 * scale * np.einsum("ij,ij->i", X, X)
        offset = -0.5 * scale * np.einsum("ij,ij->i", Y, Y)
        Y = Y * scale
    else:
        bias = offset = zeros
    top, total = kn.kernel_log_sums_numba(
        np.ascontiguousarray(Y), np.ascontiguousarray(X.T), bias, offset, log_weight,
        np.exp(log_weight), code, float(bandwidth), 256, _tile_size(Y.shape[0]))
    with np.errstate(divide="ignore"):
        return top + np.log(total)


KERNEL_LOG_SUMS = Dispatch("exact kernel sums", numpy=kernel_log_sums_reference,
                           numba=_kernel_log_sums_numba)


def exact_mean_similarity(X, Y, kernel, bandwidth, backend="numba"):
    """``(1/n) sum_i k(x_i, y)`` for every row ``y`` of ``Y``, exactly.

    The reference the private estimates are measured against.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data.
    Y : ndarray of shape (n_queries, n_features)
        The queries.
    kernel : {"gaussian", "exponential", "cauchy", "tophat", "epanechnikov", \
            "linear", "cosine"}
        ``exp(-r^2 / (2 h^2))``, ``exp(-r / h)``, ``1 / (1 + r^2 / h^2)``, or
        one of scikit-learn's compact kernels.
    bandwidth : float
        The bandwidth ``h``.
    backend : {"numpy", "numba", "cupy"}, default="numba"
        A resolved backend.

    Returns
    -------
    similarity : ndarray of shape (n_queries,)
        Average similarity of each query to the data.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.density import exact_mean_similarity
    >>> X = np.array([[0.0], [2.0]])
    >>> exact_mean_similarity(X, np.array([[1.0]]), "cauchy", 1.0)
    array([0.5])
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    log_weight = np.full(X.shape[0], -math.log(X.shape[0]))
    return np.exp(KERNEL_LOG_SUMS(backend, X, Y, log_weight, kernel, bandwidth))


class ExactKernelDensity(SkkernelEstimator):
    """Exact kernel density estimation: a drop-in for scikit-learn's KernelDensity.

    ``score_samples(Y)`` is ``log((1 / sum w) sum_i w_i K_h(y - x_i))`` with the
    normalised kernel ``K_h``, computed over *all* training points (no tree,
    no tolerance): blocks of queries against all points, under
    ``working_memory``, with a running log-sum-exp so that densities far below
    the smallest double stay finite. The numba backend fuses the distances,
    the exponentials and the sum in one parallel pass over cache-sized
    blocks (Gaussian kernel: the product form ``|x|^2 + |y|^2 - 2 x.y`` on
    centred data; the others: explicit differences); cupy runs the
    reference's matrix products on the GPU.

    Parameters
    ----------
    bandwidth : float or {"scott", "silverman"}, default=1.0
        Kernel bandwidth ``h``, or a rule of thumb as in scikit-learn:
        ``"scott"`` is ``n ** (-1 / (d + 4))``, ``"silverman"`` is
        ``(n (d + 2) / 4) ** (-1 / (d + 4))``.
    kernel : {"gaussian", "tophat", "epanechnikov", "exponential", "linear", \
            "cosine"}, default="gaussian"
        scikit-learn's kernels, with its conventions (``exp(-r^2 / (2 h^2))``,
        ``exp(-r / h)``, ...).
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: the readable reference (one matrix product per block);
        ``"numba"``: the fused parallel kernel; ``"cupy"``: the reference on
        the GPU.
    n_jobs : int, default=None
        Numba threads for the fit; queries use numba's current thread count.

    Attributes
    ----------
    bandwidth_ : float
        The bandwidth used.
    X_fit_ : ndarray of shape (n_samples, n_features)
        The training data (kept, as scikit-learn's tree keeps it).
    sample_weight_ : ndarray of shape (n_samples,)
        The sample weights (ones if none were given).
    backend_ : str
        The backend that queries run on.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only for DataFrames.

    See Also
    --------
    sklearn.neighbors.KernelDensity : Tree-based, with tolerances.
    PrivateKernelDensity : Differentially private average similarities.

    Notes
    -----
    The parameters of scikit-learn's estimator that tune its tree search
    (``algorithm``, ``atol``, ``rtol``, ``breadth_first``, ``leaf_size``) do
    not apply; the metric is Euclidean. scikit-learn's default ``atol=0,
    rtol=0`` is meant to be exact, but where every kernel value underflows
    (high dimension, small bandwidth) its answers go wrong: at ``d = 64``,
    ``h = 0.15`` it returned positive log-densities for 10 of 20 queries
    whose true log-density is below -1000 (the tests keep this case). Here
    a running log-sum-exp keeps every answer exact. The
    work is ``n_queries x n_samples x n_features`` whatever the bandwidth:
    the tree can be faster for a tiny bandwidth in low dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.density import ExactKernelDensity
    >>> X = np.array([[0.0], [1.0]])
    >>> kde = ExactKernelDensity(bandwidth=1.0).fit(X)
    >>> np.round(np.exp(kde.score_samples([[0.5]])), 4)
    array([0.3521])
    """

    _parameter_constraints = {
        "bandwidth": [Interval(Real, 0, None, closed="neither"),
                      Options("scott", "silverman")],
        "kernel": [Options(*SKLEARN_KERNELS)],
        "backend": COMMON_CONSTRAINTS["backend"],
        "n_jobs": COMMON_CONSTRAINTS["n_jobs"],
    }
    _supports_device_input = True

    def __init__(self, *, bandwidth=1.0, kernel="gaussian", backend="auto",
                 n_jobs=None):
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.backend = backend
        self.n_jobs = n_jobs

    def fit(self, X, y=None, sample_weight=None):
        """Store the data (and weights) the density is summed over.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts a point twice.

        Returns
        -------
        self : ExactKernelDensity
            The fitted estimator.
        """
        with self._fit_context(X, sample_weight=sample_weight) as ctx:
            n, d = ctx.X.shape
            if self.bandwidth == "scott":
                self.bandwidth_ = n ** (-1.0 / (d + 4))
            elif self.bandwidth == "silverman":
                self.bandwidth_ = (n * (d + 2) / 4.0) ** (-1.0 / (d + 4))
            else:
                self.bandwidth_ = float(self.bandwidth)
            self.X_fit_ = np.asarray(to_cpu(ctx.X), dtype=np.float64)
            self.sample_weight_ = ctx.sample_weight
        return self

    def score_samples(self, X):
        """Log-density of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query points.

        Returns
        -------
        log_density : ndarray of shape (n_queries,)
            ``log`` of the normalised density (``-inf`` only outside the
            support of a compact kernel).
        """
        check_is_fitted(self)
        Y = self._validate_predict_data(X)
        xp, _ = get_array_module(self.backend_)
        weight = self.sample_weight_
        with np.errstate(divide="ignore"):
            log_weight = np.log(weight) - math.log(weight.sum())
        train = xp.asarray(self.X_fit_)
        sums = KERNEL_LOG_SUMS(self.backend_, train, xp.asarray(Y),
                               xp.asarray(log_weight), self.kernel, self.bandwidth_)
        norm = log_kernel_norm(self.kernel, self.bandwidth_, self.n_features_in_)
        return like_input(np.asarray(to_cpu(sums)) + norm, X)

    def score(self, X, y=None):
        """Total log-likelihood of ``X`` under the model.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query points.
        y : None
            Ignored.

        Returns
        -------
        log_likelihood : float
            Sum of :meth:`score_samples`.
        """
        return float(np.sum(to_cpu(self.score_samples(X))))

    def sample(self, n_samples=1, random_state=None):
        """Draw points from the fitted density (Gaussian and tophat kernels).

        Parameters
        ----------
        n_samples : int, default=1
            Number of points.
        random_state : int, RandomState instance or None, default=None
            Seeds the draw.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            The points.
        """
        check_is_fitted(self)
        if self.kernel not in ("gaussian", "tophat"):
            raise NotImplementedError(
                f"sample() is implemented for the 'gaussian' and 'tophat' "
                f"kernels, not {self.kernel!r} (as in scikit-learn).")
        rng = check_random_state(random_state)
        cumulative = np.cumsum(self.sample_weight_)
        index = np.searchsorted(cumulative, rng.uniform(0, cumulative[-1], n_samples),
                                side="right")
        index = np.minimum(index, len(cumulative) - 1)
        centres = self.X_fit_[index]
        d = self.n_features_in_
        if self.kernel == "gaussian":
            return centres + rng.normal(scale=self.bandwidth_, size=centres.shape)
        # Uniform in the ball: a direction times radius u^(1/d).
        direction = rng.normal(size=centres.shape)
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        radius = self.bandwidth_ * rng.uniform(size=n_samples) ** (1.0 / d)
        return centres + direction * radius[:, None]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

