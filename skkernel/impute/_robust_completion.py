"""Low-rank matrix completion by (robust) alternating minimization."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..backend import get_array_module, get_namespace, like_input, to_cpu
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..utils import draw_seed, progress_bar
from ..utils._linalg import small_factorization
from ._completion_solvers import (
    RESIDUALS,
    SOLVE_ROWS,
    observed_entries,
)

#: Rank used when ``rank=None`` (capped by the matrix's shape).
DEFAULT_RANK = 10
#: ``solver="auto"`` solves exactly up to this rank, by CG above it. Whole
#: fits, 2000 x 2000, 2 cores: exact was as fast or faster at k = 20..80
#: (10 % observed: 0.85 / 2.8 / 36 s against CG's 1.0 / 4.7 / 66 s; 50 %:
#: 1.58 / 2.34 / 7.22 s against 1.41 / 2.58 / 7.16 s), CG faster at k = 160
#: (50 %: 23.7 s against 35.1 s), where the k^2 Gram outgrows CG's steps.
_AUTO_EXACT_MAX_RANK = 80
#: Rows of the SVD start whose norm exceeds this multiple of sqrt(k / m) are
#: shrunk to it (the incoherence clipping step).
_CLIP_FACTOR = 2.0
#: Filled entries this many column ranges outside the observed range warn.
_EXTRAPOLATION_SPANS = 10
#: The IRLS smoothing of the l1 loss as a fraction of the robust scale.
_L1_SMOOTHING = 0.1
#: Alternating ridge sweeps of the biases before the SVD start (fit_intercept).
_BIAS_START_SWEEPS = 5
#: Consistency constant of the median absolute residual for Gaussian noise.
_MAD_TO_SD = 1.4826


def _robust_scale(residuals, floor, xp):
    """``1.4826 median |r|``, at least ``floor``."""
    if residuals.shape[0] == 0:
        return floor
    return max(_MAD_TO_SD * float(xp.median(xp.abs(residuals))), floor)


def irls_weights(residuals, loss, scale, epsilon, xp):
    """IRLS weights in ``(0, 1]``: ``rho'(r) / r`` rescaled to a maximum of 1.

    ``"huber"``: ``min(1, epsilon scale / |r|)``; ``"l1"``: ``min(1, delta /
    |r|)`` with ``delta = 0.1 scale``, the smoothed absolute value; the
    squared loss gives ones.
    """
    if loss == "l2":
        return xp.ones_like(residuals)
    threshold = epsilon * scale if loss == "huber" else _L1_SMOOTHING * scale
    magnitude = xp.abs(residuals)
    return threshold / xp.maximum(magnitude, threshold)


def loss_error(residuals, values, loss, xp):
    """Relative error on the observed entries: l2 norms for the squared loss,
    l1 norms for the robust ones."""
    if loss == "l2":
        num, den = float(xp.sqrt((residuals**2).sum())), float(
            xp.sqrt((values**2).sum()))
    else:
        num, den = float(xp.abs(residuals).sum()), float(xp.abs(values).sum())
    return num / den if den > 0 else num


class RobustMatrixCompletion(TransformerMixin, SkkernelEstimator):
    """Low-rank matrix completion by alternating minimization with fast solves.

    Fits ``X ~ U V^T`` of rank ``k`` on the observed entries ``Omega`` of
    ``X`` (rows are samples, ``missing_values`` marks the gaps), minimising::

        sum_{(i, j) in Omega} rho(X_ij - u_i^T v_j) + alpha (||U||_F^2 + ||V||_F^2)

    by alternating minimization (Jain, Netrapalli and Sanghavi [2]_): fix
    ``U`` and solve one small ridge regression per column for ``V``, then
    fix ``V`` and solve one per row for ``U``. Gu, Song, Yin and Zhang [1]_
    show that the regressions need only be solved *approximately*, by a
    sketch-preconditioned iterative solver, for the iterates to converge at
    the same rate, which brings a sweep from ``O(|Omega| k^2)`` to about
    ``O(|Omega| k)``; that is ``solver="sketch"`` (the paper's solver) and
    ``solver="cg"`` (CG with one preconditioner shared by all rows).

    With ``fit_intercept=True`` the model is ``X_ij ~ mu + b_i + c_j + u_i^T
    v_j``: a global intercept and ridge-penalised row and column biases,
    learned inside the same sweeps (beyond the paper, as in the biased
    matrix factorisations of recommender systems).

    Beyond the paper, ``loss="huber"`` or ``"l1"`` makes the fit robust to
    gross outliers among the observed entries: iteratively reweighted least
    squares (IRLS) puts a weight ``rho'(r) / r`` on each entry, inside the
    same per-row solver.

    ``transform`` folds new rows in against the learned ``components_`` (a
    regression per row with the same loss) and fills their gaps.

    Parameters
    ----------
    rank : int, default=None
        Rank ``k`` of the factorisation; ``None`` is ``min(10, n_samples,
        n_features)``. A rank above ``min(n_samples, n_features)`` is refused.
    loss : {"l2", "huber", "l1"}, default="l2"
        ``rho``: squared error, Huber's loss with threshold ``epsilon`` times
        a robust scale of the residuals (``1.4826`` times their median
        absolute value, re-estimated each sweep), or absolute error (IRLS
        smoothed below ``0.1`` times that scale).
    epsilon : float, default=1.35
        Huber threshold in units of the robust scale (as in
        :class:`~sklearn.linear_model.HuberRegressor`).
    alpha : float, default=1e-6
        Ridge penalty on both factors (> 0), and on the row and column biases
        when ``fit_intercept``. The default only keeps every regression well
        posed; noisy data need more (choose it, with the rank, by
        cross-validation).
    fit_intercept : bool, default=False
        Model ``X_ij ~ mu + b_i + c_j + u_i^T v_j``: a global intercept
        ``mu`` (the mean of the observed entries, their median for the
        robust losses; not penalised) and a bias per row and per column,
        learned inside the same alternating sweeps (the column step solves
        ``(v_j, c_j)`` against ``(u_i, 1)``, the row step ``(u_i, b_i)``
        against ``(v_j, 1)``) and ridge-penalised by ``alpha``. Without it
        the low-rank part also carries the mean, and the ridge shrinks
        predictions towards 0 rather than towards the biases.
    solver : {"auto", "exact", "cg", "sketch"}, default="auto"
        ``"exact"``: Cholesky of every ``k x k`` normal matrix,
        ``O(|Omega| k^2)`` a sweep; ``"cg"``: preconditioned conjugate
        gradients warm-started at the previous factor, with the shared
        preconditioner ``c_i F^T F + alpha I``; ``"sketch"``: CG
        preconditioned per row by the R factor of a CountSketch of the row's
        regression (``4 k`` rows), the solver of [1]_. ``"auto"`` is
        ``"exact"`` up to rank 80 and ``"cg"`` above (measured crossover).
    solver_tol : float, default=1e-3
        Accuracy of each approximate solve: CG stops on a row when its
        residual fell below ``solver_tol`` times that of the warm start (or
        after ``k`` steps). Unused by ``"exact"``.
    init : {"svd", "random"}, default="svd"
        ``"svd"``: top-``k`` left singular vectors of the zero-filled
        observed matrix rescaled by ``1 / p`` (``p`` the observed fraction),
        rows shrunk to norm ``2 sqrt(k / m)`` and re-orthonormalised (the
        incoherence clipping step); for the robust losses the observed values
        are first winsorised at 3 robust standard deviations. ``"random"``:
        an orthonormalised Gaussian matrix.
    max_iter : int, default=100
        Maximum number of sweeps (a sweep updates ``V`` then ``U``).
    tol : float, default=1e-5
        Stop when the relative error on the observed entries (see
        ``reconstruction_err_``) falls below ``tol``, or when it improved by
        less than ``tol`` times its value in one sweep.
    missing_values : float, default=np.nan
        The placeholder of a missing entry.
    observed : {"not_missing", "stored"}, default="not_missing"
        ``"not_missing"``: every entry that is not ``missing_values`` is
        observed (a sparse input is densified, its implicit zeros are
        observed zeros, as in scikit-learn's imputers); ``"stored"``: sparse
        input only, the stored entries are the observed ones (the format of
        ratings data), except stored ``missing_values``.
    keep_observed : bool, default=True
        ``transform`` returns the observed entries unchanged and fills only
        the gaps; ``False`` returns the low-rank reconstruction everywhere.
    random_state : int, RandomState instance or None, default=None
        Seeds the SVD's random start (or the random init) and the sketches.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: the reference (batched sparse products and solves);
        ``"numba"``: one row's regression per thread over CSR/CSC index
        arrays; ``"cupy"``: the reference on the GPU.
    n_jobs : int, default=None
        Numba threads during the fit.
    verbose : int, default=0
        ``> 0`` shows a progress bar over the sweeps with the current error.

    Attributes
    ----------
    components_ : ndarray of shape (rank, n_features)
        Column factors ``V^T``.
    row_factors_ : ndarray of shape (n_samples, rank)
        Row factors ``U`` of the training rows.
    intercept_ : float
        The global intercept ``mu``; 0.0 when ``fit_intercept=False``.
    row_biases_ : ndarray of shape (n_samples,)
        Biases ``b_i`` of the training rows; zeros when
        ``fit_intercept=False``. The completed training matrix is
        ``intercept_ + row_biases_[:, None] + column_biases_ + row_factors_
        @ components_``.
    column_biases_ : ndarray of shape (n_features,)
        Biases ``c_j`` of the columns; zeros when ``fit_intercept=False``.
    n_iter_ : int
        Number of sweeps run.
    reconstruction_err_ : ndarray of shape (`n_iter_`,)
        Relative error on the observed entries after each sweep:
        ``||r||_2 / ||x||_2`` for ``"l2"``, ``||r||_1 / ||x||_1`` for the
        robust losses.
    residual_scale_ : float
        Robust scale (``1.4826`` median absolute residual) at the end of the
        fit; sets the Huber threshold and l1 smoothing of ``transform``.
    rank_ : int
        The rank used.
    solver_ : str
        The solver that ran (``"auto"`` resolved).
    backend_ : str
        The backend that ran the fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only for DataFrames.

    See Also
    --------
    sklearn.impute.IterativeImputer : Feature-by-feature regression imputation.
    sklearn.impute.KNNImputer : Nearest-neighbour imputation.
    sklearn.decomposition.TruncatedSVD : Low-rank approximation of a complete
        matrix.

    Notes
    -----
    Deviations from the paper [1]_, documented:

    * The paper splits ``Omega`` into fresh samples for every half-step (for
      the proof); all of ``Omega`` is used at every step here.
    * The clipping threshold of the initialisation is not stated in the
      paper; rows of the SVD start with norm above ``2 sqrt(k / m)`` are
      shrunk to it, then re-orthonormalised (QR).
    * The sketch is a CountSketch with ``4 k`` rows per regression, and the
      preconditioner is the Cholesky factor of the sketched normal matrix
      (the R of the sketch's QR, up to signs); the paper's sketch family
      and size are not recovered. A regression with at most ``4 k``
      observed entries is not sketched (``S = I``: its own Gram costs no
      more, and PCG then takes one step), as sketch-and-precondition codes
      fall back to a direct solve on matrices that are not tall enough. CG
      stops at the accuracy ``solver_tol`` relative to its warm start, or
      after ``k`` steps.
    * A ridge penalty ``alpha`` keeps rows and columns with fewer than ``k``
      observed entries well posed; the paper has none.
    * The robust losses (IRLS, as suggested by Ma and Fattahi's l1 analysis
      [3]_) and the inductive ``transform`` are beyond the paper.

    A row or column without any observed entry gets a zero factor and bias
    (its entries are predicted as ``intercept_``, 0 without
    ``fit_intercept``) and a warning.

    ``fit_transform`` and ``transform`` warn when filled entries lie more
    than 10 times their column's observed range outside it: the sign of a
    rank too high or a ridge too weak for the data. The defaults (rank 10,
    ``alpha=1e-6``) are for exact and near-exact completion; on tabular data
    with 30 % gaps they extrapolate (scikit-learn's breast_cancer: RMSE 9.7
    in standardised units, where rank 5 with ``alpha=1`` gives 0.53), and
    the warning says so.

    References
    ----------
    .. [1] Y. Gu, Z. Song, J. Yin and L. Zhang, "Low rank matrix completion
       via robust alternating minimization in nearly linear time", ICLR 2024
       (arXiv:2302.11068).
    .. [2] P. Jain, P. Netrapalli and S. Sanghavi, "Low-rank matrix
       completion using alternating minimization", STOC 2013.
    .. [3] J. Ma and S. Fattahi, "Global convergence of sub-gradient method
       for robust matrix recovery: small initialization, noisy measurements,
       and over-parameterization", JMLR 24, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.impute import RobustMatrixCompletion
    >>> rng = np.random.RandomState(0)
    >>> M = rng.randn(60, 3) @ rng.randn(3, 40)
    >>> X = M.copy()
    >>> X[rng.rand(60, 40) < 0.5] = np.nan
    >>> model = RobustMatrixCompletion(rank=3, tol=1e-10, random_state=0)
    >>> completed = model.fit_transform(X)
    >>> bool(np.abs(completed - M).max() < 1e-6)
    True
    """

    _parameter_constraints = {
        "rank": [Interval(Integral, 1, None), None],
        "loss": [Options("l2", "huber", "l1")],
        "epsilon": [Interval(Real, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "solver": [Options("auto", "exact", "cg", "sketch")],
        "solver_tol": [Interval(Real, 0, 1, closed="neither")],
        "init": [Options("svd", "random")],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="left")],
        "missing_values": [Real],
        "observed": [Options("not_missing", "stored")],
        "keep_observed": ["boolean"],
        **COMMON_CONSTRAINTS,
    }
    _finite_fitted_attributes = ("components_", "row_factors_", "intercept_",
                                 "row_biases_", "column_biases_")

    def __init__(self, rank=None, *, loss="l2", epsilon=1.35, alpha=1e-6,
                 fit_intercept=False, solver="auto", solver_tol=1e-3, init="svd",
                 max_iter=100, tol=1e-5,
                 missing_values=np.nan, observed="not_missing", keep_observed=True,
                 random_state=None, backend="auto", n_jobs=None, verbose=0):
        self.rank = rank
        self.loss = loss
        self.epsilon = epsilon
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.solver_tol = solver_tol
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.missing_values = missing_values
        self.observed = observed
        self.keep_observed = keep_observed
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------ data

    def _validate_fit_data(self, X, y, reset):
        return self._validate_entries(X, reset=reset), None

    def _validate_entries(self, X, reset):
        """Validate ``X`` (host) and return it with its observed entries."""
        missing_is_nan = np.isnan(self.missing_values)
        X = validate_data(
            self, to_cpu(X), reset=reset, accept_sparse=("csr", "csc", "coo"),
            dtype=np.float64, ensure_all_finite="allow-nan" if missing_is_nan else True,
        )
        if sp.issparse(X) and self.observed == "stored":
            coo = X.tocoo()
            keep = self._not_missing(coo.data)
            rows, cols, values = coo.row[keep], coo.col[keep], coo.data[keep]
        else:
            if self.observed == "stored":
                raise ValueError(
                    "observed='stored' needs scipy sparse input (its stored "
                    f"entries are the observed ones); got a dense {type(X).__name__}."
                    " Use observed='not_missing' for dense input.")
            dense = X.toarray() if sp.issparse(X) else X
            rows, cols = np.nonzero(self._not_missing(dense))
            values = dense[rows, cols]
        return X, (rows, cols, values)

    def _not_missing(self, values):
        if np.isnan(self.missing_values):
            return ~np.isnan(values)
        return values != self.missing_values

    # ------------------------------------------------------------ fit

    def _check_rank(self, shape):
        if self.rank is None:
            return min(DEFAULT_RANK, *shape)
        if self.rank > min(shape):
            raise ValueError(
                f"rank={self.rank} must be <= min(n_samples, n_features)="
                f"{min(shape)} for X of shape {shape}.")
        return int(self.rank)

    def fit(self, X, y=None):
        """Learn the row and column factors from the observed entries of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with gaps marked by ``missing_values`` (or, with
            ``observed="stored"``, a sparse matrix whose stored entries are
            the observed ones).
        y : None
            Ignored.

        Returns
        -------
        self : RobustMatrixCompletion
            The fitted estimator.
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, then return the completed training matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with gaps.
        y : None
            Ignored.

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features)
            ``row_factors_ @ components_`` (plus the intercept and biases
            when ``fit_intercept``) with the observed entries kept (when
            ``keep_observed``).
        """
        entries = self._fit(X)
        completed = self._reconstruct(self.row_factors_, self.row_biases_)
        self._warn_extrapolation(completed, entries)
        return like_input(self._keep_observed(completed, entries), X)

    def _fit(self, X):
        with self._fit_context(X) as ctx:
            Xv, (rows, cols, values) = ctx.X
            shape = Xv.shape
            rank = self._check_rank(shape)
            if values.shape[0] == 0:
                raise ValueError(
                    "X has no observed entries (every entry is missing_values="
                    f"{self.missing_values!r}); nothing to complete.")
            self._warn_empty(rows, cols, shape)
            xp = get_array_module(ctx.backend)[0]
            entries = observed_entries(rows, cols, values, shape, xp=xp)
            solver = self.solver
            if solver == "auto":
                solver = "exact" if rank <= _AUTO_EXACT_MAX_RANK else "cg"
            seed = draw_seed(ctx.random_state)
            biases = self._initial_biases(entries, xp)
            with small_factorization():
                U, V = self._initial_factors(entries, biases, rank, ctx.random_state,
                                             xp)
            U, V, biases, history, scale = self._alternate(
                entries, U, V, biases, solver, seed, ctx.backend, xp)
            self.components_ = np.ascontiguousarray(to_cpu(V).T)
            self.row_factors_ = np.asarray(to_cpu(U))
            self.intercept_ = float(biases[0])
            self.row_biases_ = np.asarray(to_cpu(biases[1]))
            self.column_biases_ = np.asarray(to_cpu(biases[2]))
            self.reconstruction_err_ = np.asarray(history)
            self.n_iter_ = len(history)
            self.residual_scale_ = float(scale)
            self.rank_ = rank
            self.solver_ = solver
            self._column_range = _column_range(rows, cols, values, shape[1])
        return (rows, cols, values)

    @staticmethod
    def _warn_empty(rows, cols, shape):
        empty_rows = shape[0] - np.unique(rows).shape[0]
        empty_cols = shape[1] - np.unique(cols).shape[0]
        if empty_rows or empty_cols:
            warnings.warn(
                f"{empty_rows} row(s) and {empty_cols} column(s) of X have no "
                "observed entry; their factors and biases are zero, so their "
                "entries are predicted as the intercept (0 without "
                "fit_intercept).", UserWarning, stacklevel=4)

    def _start_values(self, entries, xp):
        """The observed values, winsorised at 3 robust SDs for the robust losses
        (gross outliers would otherwise dominate the start)."""
        values = entries.values
        if self.loss != "l2":
            centre = float(xp.median(values))
            spread = _MAD_TO_SD * float(xp.median(xp.abs(values - centre)))
            if spread > 0:
                values = xp.clip(values, centre - 3 * spread, centre + 3 * spread)
        return values

    def _initial_biases(self, entries, xp):
        """``(mu, b, c)``: zeros, or with ``fit_intercept`` the mean (median)
        and a few alternating ridge sweeps of the row and column biases."""
        m, n = entries.shape
        if not self.fit_intercept:
            return 0.0, xp.zeros(m), xp.zeros(n)
        values = self._start_values(entries, xp)
        mu = float(xp.mean(values)) if self.loss == "l2" else float(xp.median(values))
        rows, cols = entries.rows, entries.indices
        centred = values - mu
        row_counts = xp.bincount(rows, minlength=m) + self.alpha
        col_counts = xp.bincount(cols, minlength=n) + self.alpha
        b, c = xp.zeros(m), xp.zeros(n)
        for _ in range(_BIAS_START_SWEEPS):
            b = xp.bincount(rows, weights=centred - c[cols], minlength=m) / row_counts
            c = xp.bincount(cols, weights=centred - b[rows], minlength=n) / col_counts
        return mu, b, c

    def _initial_factors(self, entries, biases, rank, random_state, xp):
        """``U0``: clipped top-k singular vectors of ``P_Omega(X - biases) / p``,
        or random.

        ``V0 = (P_Omega(X - biases) / p)^T U0`` completes the start: it is the
        warm start of the first column step and gives the residuals from
        which the robust losses draw their first weights.
        """
        m, n = entries.shape
        mu, b, c = biases
        values = self._start_values(entries, xp)
        if self.fit_intercept:
            values = values - mu - b[entries.rows] - c[entries.indices]
        p = values.shape[0] / (m * n)
        xsp = get_array_module("cupy" if xp is not np else "numpy")[1]
        A = xsp.csr_matrix((values / p, entries.indices, entries.indptr), shape=(m, n))
        if self.init == "random":
            start = xp.asarray(random_state.standard_normal((m, rank)))
            U = xp.linalg.qr(start)[0]
        else:
            U = _top_left_singular_vectors(A, rank, random_state, xp)
            row_norms = xp.sqrt((U * U).sum(axis=1))
            limit = _CLIP_FACTOR * np.sqrt(rank / m)
            U = U * xp.minimum(1.0, limit / xp.maximum(row_norms, limit))[:, None]
            U = xp.linalg.qr(U)[0]
        return U, xp.asarray(A.T @ U)

    def _alternate(self, entries, U, V, biases, solver, seed, backend, xp):
        """Sweeps of V-step then U-step; returns factors, biases, errors and
        scale."""
        values = entries.values
        mu, b, c = biases
        rows, cols = entries.rows, entries.indices
        centred = values - mu
        col_centred = centred[entries.to_col_order]
        shift = self._shift

        def residuals_of(U, V, b, c):
            return RESIDUALS(backend, entries.indptr, cols,
                             shift(shift(centred, b, rows), c, cols), U, V)

        floor = 1e-12 * float(xp.sqrt((values**2).mean())) + 1e-300
        scale = floor
        weights = xp.ones_like(values)
        if self.loss != "l2":
            residuals = residuals_of(U, V, b, c)
            scale = _robust_scale(residuals, floor, xp)
            weights = irls_weights(residuals, self.loss, scale, self.epsilon, xp)
        history = []
        with progress_bar(self.max_iter, "RobustMatrixCompletion", self.verbose) as bar:
            for sweep in range(self.max_iter):
                sweep_seed = (seed + 2 * sweep * 0x9E3779B97F4A7C15) % 2**64
                V, c = self._solve_half_step(
                    backend, entries.col_indptr, entries.col_indices,
                    shift(col_centred, b, entries.col_indices),
                    weights[entries.to_col_order], U, V, c, solver, sweep_seed)
                U, b = self._solve_half_step(
                    backend, entries.indptr, cols, shift(centred, c, cols), weights,
                    V, U, b, solver, (sweep_seed + 0x9E3779B97F4A7C15) % 2**64)
                U, V = balance_factors(U, V, xp)
                residuals = residuals_of(U, V, b, c)
                error = loss_error(residuals, values, self.loss, xp)
                history.append(error)
                if self.loss != "l2":
                    scale = _robust_scale(residuals, floor, xp)
                weights = irls_weights(residuals, self.loss, scale, self.epsilon, xp)
                bar.set_postfix_str(f"error {error:.3e}")
                bar.update()
                if not np.isfinite(error):
                    break
                if error <= self.tol or (
                        len(history) > 1 and history[-2] - error <= self.tol
                        * history[-2]):
                    break
        return U, V, (mu, b, c), history, scale

    def _shift(self, values, bias, index):
        """``values - bias[index]`` with ``fit_intercept``, else ``values``."""
        return values - bias[index] if self.fit_intercept else values

    def _solve_half_step(self, backend, indptr, indices, targets, weights, F, X0,
                         bias, solver, seed):
        """The regressions of one half-step: ``(X, bias)``.

        With ``fit_intercept`` the fixed factor gains a column of ones and the
        unknowns a bias, penalised like the factor (one ``k + 1`` ridge
        regression per row); otherwise the bias stays zero.
        """
        if not self.fit_intercept:
            return SOLVE_ROWS(backend, indptr, indices, targets, weights, F, X0,
                              self.alpha, solver, self.solver_tol, seed), bias
        xp = get_namespace(F)
        solution = SOLVE_ROWS(
            backend, indptr, indices, targets, weights,
            xp.concatenate([F, xp.ones((F.shape[0], 1))], axis=1),
            xp.concatenate([X0, bias[:, None]], axis=1), self.alpha, solver,
            self.solver_tol, seed)
        return solution[:, :-1], solution[:, -1]

    # ------------------------------------------------------------ transform

    def transform(self, X):
        """Fold new rows in against ``components_`` and fill their gaps.

        Each row's factor solves the row regression of the fit (same loss,
        ridge and IRLS), exactly, against the learned column factors.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows with gaps marked as in ``fit``.

        Returns
        -------
        X_completed : ndarray of shape (n_samples, n_features)
            The completed rows (observed entries kept when
            ``keep_observed``).
        """
        check_is_fitted(self)
        Xv, (rows, cols, values) = self._validate_entries(X, reset=False)
        U, b = self._fold_in(rows, cols, values, Xv.shape)
        completed = self._reconstruct(U, b)
        self._warn_extrapolation(completed, (rows, cols, values))
        return like_input(self._keep_observed(completed, (rows, cols, values)), X)

    def _warn_extrapolation(self, completed, entries):
        """Warn when filled entries lie far outside their column's observed range.

        A rank or ridge too weak for the data (rows with few observed entries
        against ``rank`` unknowns) makes the row regressions extrapolate:
        filled values tens of column ranges away from anything observed.
        Flagged at more than ``_EXTRAPOLATION_SPANS`` ranges (the column's
        training range; all observed values' range for a constant column).
        """
        low, high = self._column_range
        span = high - low
        overall = float(high.max() - low.min())
        span = np.where(span > 0, span, overall if overall > 0 else 1.0)
        gaps = np.ones(completed.shape, dtype=bool)
        gaps[np.asarray(to_cpu(entries[0])), np.asarray(to_cpu(entries[1]))] = False
        excess = np.maximum(completed - high, low - completed) / span
        far = gaps & (excess > _EXTRAPOLATION_SPANS)
        if far.any():
            warnings.warn(
                f"{type(self).__name__}: {int(far.sum())} filled entries lie more "
                f"than {_EXTRAPOLATION_SPANS} times their column's observed range "
                f"outside it (up to {float(excess[far].max()):.3g} times): the "
                f"rank-{self.rank_} fit extrapolates. Lower rank or raise alpha "
                "(choose both by cross-validation).", UserWarning, stacklevel=3)

    def _reconstruct(self, U, row_biases):
        """``U components_`` plus the intercept, row and column biases."""
        return (U @ self.components_ + self.intercept_ + row_biases[:, None]
                + self.column_biases_[None, :])

    def _fold_in(self, rows, cols, values, shape):
        """Row factors and biases of new rows against the fitted columns."""
        entries = observed_entries(rows, cols, values, shape)
        V = self.components_.T
        backend = self.backend_ if self.backend_ != "cupy" else "numpy"
        U = np.zeros((shape[0], self.rank_))
        b = np.zeros(shape[0])
        targets = self._shift(entries.values - self.intercept_, self.column_biases_,
                              entries.indices)
        rows = entries.rows
        weights = np.ones_like(entries.values)
        rounds = 1 if self.loss == "l2" else self.max_iter
        previous = np.inf
        for _ in range(rounds):
            U, b = self._solve_half_step(backend, entries.indptr, entries.indices,
                                         targets, weights, V, U, b, "exact", 0)
            residuals = RESIDUALS(backend, entries.indptr, entries.indices,
                                  self._shift(targets, b, rows), U, V)
            error = loss_error(residuals, entries.values, self.loss, np)
            weights = irls_weights(residuals, self.loss, self.residual_scale_,
                                   self.epsilon, np)
            if error <= self.tol or previous - error <= self.tol * previous:
                break
            previous = error
        return U, b

    def _keep_observed(self, completed, entries):
        if self.keep_observed:
            rows, cols, values = entries
            completed[rows, cols] = values
        return completed


def _column_range(rows, cols, values, n_columns):
    """Per-column min and max of the observed values (host arrays).

    A column with no observed value gets the range of all observed values.
    """
    cols, values = np.asarray(to_cpu(cols)), np.asarray(to_cpu(values), dtype=float)
    low = np.full(n_columns, np.inf)
    high = np.full(n_columns, -np.inf)
    np.minimum.at(low, cols, values)
    np.maximum.at(high, cols, values)
    empty = ~np.isfinite(low)
    low[empty], high[empty] = values.min(), values.max()
    return low, high


def balance_factors(U, V, xp):
    """Split ``U V^T`` evenly: ``U = Q_U A S^(1/2)``, ``V = Q_V B S^(1/2)``.

    ``A S B^T`` is the SVD of ``R_U R_V^T``. The product is unchanged and the
    ridge term ``||U||^2 + ||V||^2`` is minimal for it; without this step
    ALS keeps the scale of its start (orthonormal ``U``, large ``V``), so the
    penalty shrinks ``V`` far more than at the balanced optimum and the
    sweeps take many more steps to reach it.
    """
    with small_factorization():
        Qu, Ru = xp.linalg.qr(U)
        Qv, Rv = xp.linalg.qr(V)
        A, s, Bt = xp.linalg.svd(Ru @ Rv.T)
    root = xp.sqrt(s)
    return Qu @ (A * root), Qv @ (Bt.T * root)


def _top_left_singular_vectors(A, rank, random_state, xp, n_oversamples=10,
                               n_power_iter=4):
    """Randomized subspace iteration (Halko et al.) on a sparse matrix."""
    m, n = A.shape
    width = min(rank + n_oversamples, m, n)
    Omega = xp.asarray(random_state.standard_normal((n, width)))
    Q = xp.linalg.qr(A @ Omega)[0]
    for _ in range(n_power_iter):
        Q = xp.linalg.qr(A.T @ Q)[0]
        Q = xp.linalg.qr(A @ Q)[0]
    B = (A.T @ Q).T
    left, _, _ = xp.linalg.svd(B, full_matrices=False)
    return get_namespace(Q).asarray(Q @ left[:, :rank])
