"""l_p regression by Lewis-weight (or sensitivity) sampling of rows."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ..backend import get_array_module, like_input, to_cpu, to_device
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..sketch._leverage import lewis_weights_xp
from ..utils import draw_seed, progress_bar
from ..utils._hash_random import hash_uniform
from ..utils._linalg import (
    exact_leverage_scores,
    range_basis_factor,
    small_factorization,
)

SAMPLINGS = ("lewis", "sensitivity", "leverage", "uniform")


def importance_scores(A, p, sampling, xp, lewis_iter=20, progress=None):
    """Row scores whose normalisation gives the sampling probabilities.

    ``"lewis"``: l_p Lewis weights (Cohen and Peng); ``"leverage"``: leverage
    scores (the ``p = 2`` Lewis weights); ``"sensitivity"``: the upper bounds
    ``||u_i||_p^p`` on the l_p sensitivities from the rows of the
    well-conditioned basis ``U = A R^-1`` (Dasgupta et al., 2009);
    ``"uniform"``: ones.
    """
    if sampling == "lewis":
        return lewis_weights_xp(A, p, xp, max_iter=lewis_iter, tol=1e-3,
                                progress=progress)[0]
    if sampling == "leverage":
        return exact_leverage_scores(A, xp)
    if sampling == "sensitivity":
        U = A @ range_basis_factor(A, xp)
        return (xp.abs(U) ** p).sum(axis=1)
    return xp.ones(A.shape[0])


def solve_lp_regression(A, b, weights, p, max_iter, tol):
    """``argmin_x sum_i weights_i |a_i^T x - b_i|^p`` on a small problem.

    ``p = 1``: the linear program ``min sum w (u + v)``, ``A x + u - v = b``,
    ``u, v >= 0``, by HiGHS; ``p = 2``: weighted least squares; otherwise
    iteratively reweighted least squares from the least-squares start,
    damped by ``1 / (p - 1)`` for ``p > 2`` (Adil, Peng and Sachdeva). Returns
    the solution, the iterations and whether it converged.
    """
    with small_factorization():
        return _solve_small(A, b, weights, p, max_iter, tol)


_RESCALE_HINT = ("the data's magnitude is too large for float64 arithmetic; "
                 "rescale X and y (for example with StandardScaler) and fit again.")


def _weighted_lstsq(omega, A, b):
    """``argmin_x ||omega (A x - b)||``; an overflowed system is refused.

    LAPACK would print to stderr and fail on the inf.
    """
    M, v = omega[:, None] * A, omega * b
    if not (np.isfinite(M).all() and np.isfinite(v).all()):
        raise ValueError(f"The weighted least-squares system overflowed: "
                         f"{_RESCALE_HINT}")
    return np.linalg.lstsq(M, v, rcond=None)[0]


def _solve_small(A, b, weights, p, max_iter, tol):
    s, d = A.shape
    x = _weighted_lstsq(np.sqrt(weights), A, b)
    if p == 2:
        return x, 1, True
    if p == 1:
        identity = sp.identity(s, format="csr")
        constraints = sp.hstack([sp.csr_matrix(A), identity, -identity], format="csr")
        cost = np.concatenate([np.zeros(d), weights, weights])
        bounds = [(None, None)] * d + [(0, None)] * (2 * s)
        result = scipy.optimize.linprog(cost, A_eq=constraints, b_eq=b, bounds=bounds,
                                        method="highs")
        if result.status != 0:
            raise RuntimeError(
                f"HiGHS failed on the sampled l_1 problem: {result.message} If X "
                f"or y hold values of very large magnitude, {_RESCALE_HINT}"
            )
        return result.x[:d], int(result.nit), True
    damping = 1.0 if p < 2 else 1.0 / (p - 1.0)
    objective = float(weights @ np.abs(A @ x - b) ** p)
    for iteration in range(1, max_iter + 1):
        r = np.abs(A @ x - b)
        floor = max(float(r.max()) * 1e-10, np.finfo(np.float64).tiny)
        omega = np.sqrt(weights * np.maximum(r, floor) ** (p - 2.0))
        step = _weighted_lstsq(omega, A, b)
        x = x + damping * (step - x)
        new = float(weights @ np.abs(A @ x - b) ** p)
        if abs(objective - new) <= tol * max(objective, np.finfo(np.float64).tiny):
            return x, iteration, True
        objective = new
    return x, max_iter, False


class LewisWeightRegression(RegressorMixin, SkkernelEstimator):
    """Regression in the l_p norm on a few rows sampled by Lewis weights.

    Minimises ``sum_i w_i |y_i - x_i^T coef - intercept|^p`` (``p >= 1``;
    ``p = 1`` is least absolute deviations, the median regression) by
    keeping row ``i`` with probability ``pi_i = min(1, s q_i / sum(q))`` for
    importance scores ``q`` (the l_p Lewis weights by default), weighting the
    kept rows by ``1 / pi_i`` and solving the small problem exactly (HiGHS
    linear programming for ``p = 1``, IRLS otherwise). About ``s = O(d log d)``
    kept rows give an objective within ``1 + eps`` of the optimum for
    ``p < 2`` (Cohen and Peng [1]_; Woodruff and Yasuda [2]_ for the
    sensitivity bounds).

    Read more in the :ref:`User Guide <sketched_regression>`.

    Parameters
    ----------
    p : float, default=1.0
        The norm, ``p >= 1``.
    sampling : {"lewis", "sensitivity", "leverage", "uniform"}, default="lewis"
        Importance scores: l_p Lewis weights (``p < 4``), l_p sensitivity
        upper bounds from an l_2 well-conditioned basis, leverage scores, or
        uniform sampling (a baseline).
    sample_size : "auto" or int, default="auto"
        Expected number of kept rows ``s``. ``"auto"`` is
        ``ceil(10 * d * log(d + 1))`` with ``d`` the number of columns
        (``n_features + 1`` with an intercept). When ``s >= n_samples``
        every row is kept and the fit is exact.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept column.
    lewis_iter : int, default=20
        Cap on the fixed-point iterations for the Lewis weights (each is one
        QR of the ``n x d`` design).
    max_iter : int, default=100
        Cap on the IRLS iterations of the small solve (``p`` not 1 or 2).
    tol : float, default=1e-8
        Relative objective change that stops IRLS.
    random_state : int, RandomState instance or None, default=None
        Seeds the row sampling.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Backend of the weight computation (QR); ``"numba"`` runs the numpy
        code (there is no kernel to write: the work is QR and an LP). The
        small solve always runs on the CPU.
    verbose : int, default=0
        ``> 0`` shows a progress bar over the Lewis-weight iterations (each
        one QR of the full data), with the largest relative change.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients.
    intercept_ : float
        Intercept (0.0 when ``fit_intercept=False``).
    lewis_weights_ : ndarray of shape (n_samples,)
        The importance scores ``q`` (Lewis weights for ``sampling="lewis"``).
    sample_indices_ : ndarray of shape (n_kept,)
        Rows kept for the small solve.
    sample_scale_ : ndarray of shape (n_kept,)
        Their weights ``1 / pi_i``.
    objective_ : float
        ``sum_i w_i |y_i - x_i^T coef_ - intercept_|^p`` on the full data.
    n_iter_ : int
        Iterations of the small solver (HiGHS or IRLS).
    backend_ : str
        The backend that ran the fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only for DataFrames.

    See Also
    --------
    sklearn.linear_model.QuantileRegressor : Exact l_1 (``quantile=0.5``).
    SketchedLinearRegression : The ``p = 2`` case, by sketching.
    skkernel.sketch.lewis_weights : The weights alone.

    Notes
    -----
    * Rows are kept by independent Bernoulli draws (Cohen and Peng's
      sampling), not ``s`` draws with replacement, so no row appears twice.
    * The Lewis-weight fixed point is iterated only to a relative accuracy
      of ``1e-3``: sampling needs the weights within a constant factor.
    * The fixed-point iteration contracts only for ``p < 4``; for ``p >= 4``
      use ``sampling="sensitivity"``, whose row count grows like
      ``d^(p/2)`` in theory.
    * ``sampling="sensitivity"`` uses the classical upper bounds
      ``||u_i||_p^p`` (Dasgupta et al., 2009) rather than exact sensitivities,
      which cost as much as the regression itself.
    * Sample weights multiply rows by ``w^(1/p)``, which makes a weight of 2
      the same objective as a duplicated row.

    References
    ----------
    .. [1] M. B. Cohen and R. Peng, "l_p row sampling by Lewis weights",
       STOC 2015.
    .. [2] D. P. Woodruff and T. Yasuda, "Sharper bounds for l_p sensitivity
       sampling", ICML 2023.
    .. [3] A. Dasgupta, P. Drineas, B. Harb, R. Kumar and M. W. Mahoney,
       "Sampling algorithms and coresets for l_p regression", SIAM J. Comput.
       38(5), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.linear_model import LewisWeightRegression
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(5000, 3)
    >>> y = X @ [1.0, 2.0, 3.0] + rng.laplace(size=5000)
    >>> reg = LewisWeightRegression(p=1, sample_size=1000, random_state=0)
    >>> np.round(reg.fit(X, y).coef_, 1)
    array([1., 2., 3.])
    """

    _parameter_constraints = {
        "p": [Interval(Real, 1, None, closed="left")],
        "sampling": [Options(*SAMPLINGS)],
        "sample_size": [Options("auto"), Interval(Integral, 1, None)],
        "fit_intercept": ["boolean"],
        "lewis_iter": [Interval(Integral, 1, None)],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="left")],
        **{name: COMMON_CONSTRAINTS[name]
           for name in ("random_state", "backend", "verbose")},
    }
    # objective_ too: it overflows (to inf) before coef_ does.
    _finite_fitted_attributes = ("coef_", "intercept_", "objective_")

    def __init__(
        self,
        *,
        p=1.0,
        sampling="lewis",
        sample_size="auto",
        fit_intercept=True,
        lewis_iter=20,
        max_iter=100,
        tol=1e-8,
        random_state=None,
        backend="auto",
        verbose=0,
    ):
        self.p = p
        self.sampling = sampling
        self.sample_size = sample_size
        self.fit_intercept = fit_intercept
        self.lewis_iter = lewis_iter
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.verbose = verbose

    def _check_params(self):
        if self.sampling == "lewis" and self.p >= 4:
            raise ValueError(
                f"sampling='lewis' needs p < 4 (the Lewis-weight fixed point "
                f"only contracts there), got p={self.p}; use "
                "sampling='sensitivity'."
            )

    def fit(self, X, y, sample_weight=None):
        """Fit the l_p regression on sampled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Non-negative weights; a weight of 2 counts like a repeated row.

        Returns
        -------
        self : LewisWeightRegression
            The fitted estimator.
        """
        with self._fit_context(X, y, sample_weight=sample_weight) as ctx:
            X, y, w = ctx.X, ctx.y, ctx.sample_weight
            n = X.shape[0]
            p = float(self.p)
            design = np.hstack([X, np.ones((n, 1))]) if self.fit_intercept else X
            row_scale = w ** (1.0 / p)
            A, b = row_scale[:, None] * design, row_scale * y
            d = A.shape[1]
            xp = get_array_module(ctx.backend)[0]
            with progress_bar(self.lewis_iter, "Lewis weights", self.verbose) as bar:

                def progress(change):
                    bar.set_postfix_str(f"change {change:.2e}")
                    bar.update()

                scores = np.asarray(to_cpu(importance_scores(
                    to_device(A, ctx.backend), p, self.sampling, xp, self.lewis_iter,
                    progress=progress,
                )))
            if self.sample_size == "auto":
                size = math.ceil(10 * d * math.log(d + 1))
            else:
                size = int(self.sample_size)
            if size >= n or not scores.sum() > 0:
                keep_prob = np.ones(n)
            else:
                keep_prob = np.minimum(1.0, size * scores / scores.sum())
            u = hash_uniform(draw_seed(ctx.random_state), np.arange(n))
            kept = np.flatnonzero((u < keep_prob) & (w > 0))
            scale = 1.0 / keep_prob[kept]
            solution, n_iter, converged = solve_lp_regression(
                A[kept], b[kept], scale, p, self.max_iter, self.tol
            )
            if not converged:
                warnings.warn(
                    f"IRLS did not reach tol={self.tol} in max_iter={self.max_iter} "
                    "iterations; increase max_iter.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            if self.fit_intercept:
                self.coef_, self.intercept_ = solution[:-1].copy(), float(solution[-1])
            else:
                self.coef_, self.intercept_ = solution.copy(), 0.0
            self.lewis_weights_ = scores
            self.sample_indices_ = kept
            self.sample_scale_ = scale
            self.objective_ = float(
                w @ np.abs(y - X @ self.coef_ - self.intercept_) ** p
            )
            self.n_iter_ = n_iter
        return self

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``X @ coef_ + intercept_``.
        """
        check_is_fitted(self)
        X_valid = self._validate_predict_data(X)
        return like_input(X_valid @ self.coef_ + self.intercept_, X)
