"""Sketched least squares: sketch-and-solve, sketch-and-precondition,
iterative sketching and FOSSILS behind one regressor."""

import math
import numbers
import warnings

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_scalar
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ..backend import (
    get_array_module,
    is_cupy_array,
    numba_threads,
    resolve_backend,
    to_cpu,
    to_device,
)
from ..sketch._leverage import RANK_RTOL_FACTOR
from ..sketch._sketches import (
    SKETCHES,
    STREAMABLE_SKETCHES,
    check_matrix,
    make_sketch,
)
from ..utils import check_sample_weight, draw_seed, progress_bar
from ..utils._validation import check_options, fit_transaction
from ._sketched_solvers import (
    fossils,
    iterative_sketching,
    lsqr,
    normal_residual,
    sketch_and_solve,
)

SOLVERS = ("sap", "sketch_and_solve", "iterative_sketching", "fossils", "lstsq")
_ITERATIVE = ("sap", "iterative_sketching", "fossils")
_DEFAULT_MAX_ITER = 500


def _on_backend(a, backend):
    """The array on the backend's device (no round trip for cupy input)."""
    return to_device(a, "cupy") if backend == "cupy" else to_cpu(a)


def _auto_sketch_factor(solver, sketch):
    """Rows of the sketch per feature when ``sketch_size="auto"``."""
    if solver == "sketch_and_solve" or sketch == "gaussian":
        return 4
    # The other sketches cost the same for any m; a larger m makes A P better
    # conditioned. LSQR: 21 iterations at 12 d, 17 at 20 d (cond 1e6, 1e5 x 200);
    # the heavy-ball parameters of the papers are set for 12 d.
    return 20 if solver == "sap" else 12


class SketchedLinearRegression(RegressorMixin, BaseEstimator):
    """Least squares (and ridge) solved through a random sketch of the rows.

    Minimises ``sum_i w_i (y_i - x_i^T coef - intercept)^2 + alpha ||coef||^2``
    with a random sketch ``S`` of ``m << n`` rows:

    * ``"sketch_and_solve"`` solves the small problem ``min ||S(A x - b)||``:
      residual within ``1 + eps`` of optimal, forward error ``O(eps)``. With a
      dense sketch (``"gaussian"``, ``"srht"``) it is the l_inf mode of Song et
      al. [1]_: ``||x' - x*||_inf <= eps / sqrt(d) ||r*|| ||A^+||`` with ``m``
      set by the user (:func:`skkernel.sketch.linf_sketch_size` gives the
      paper's size). It supports :meth:`partial_fit`.
    * ``"sap"``: sketch-and-precondition (Rokhlin and Tygert; Blendenpik,
      LSRN): ``S A`` gives a preconditioner ``P``, then LSQR on ``A P``,
      warm-started at the sketch-and-solve answer.
    * ``"iterative_sketching"``: iterative sketching with momentum, forward
      stable [3]_; one pass over ``X`` per iteration.
    * ``"fossils"``: two refinement steps of the same iteration, backward
      stable [4]_.
    * ``"lstsq"``: LAPACK's ``gelsd`` on the full data, for reference.

    Parameters
    ----------
    solver : {"sap", "sketch_and_solve", "iterative_sketching", "fossils", \
            "lstsq"}, default="sap"
        The algorithm (see above).
    sketch : {"sparse_sign", "gaussian", "srht", "countsketch", "leverage"}, \
            default="sparse_sign"
        The random sketch; see :func:`skkernel.sketch.sketch`.
    sketch_size : "auto" or int, default="auto"
        Rows ``m`` of the sketch, at least ``n_features``. ``"auto"`` is
        ``4 * n_features`` for ``"sketch_and_solve"`` and for the Gaussian
        sketch (whose cost grows with ``m``); otherwise ``20 * n_features``
        for ``"sap"`` and ``12 * n_features`` for the heavy-ball solvers (the
        other sketches cost about the same for any ``m``, and a larger ``m``
        cuts the iterations). Capped at ``n_samples``, except for the
        streamable sketch-and-solve, whose ``m`` must not depend on ``n``.
        A sketch with ``m = n_samples`` rows cannot compress ``X``, so ``X``
        itself is used in its place (a square random sketch may be singular).
    nnz_per_col : int, default=8
        Nonzeros per column of the sparse sign sketch.
    srht_transform : {"dct", "hadamard"}, default="dct"
        Mixing transform of the SRHT.
    alpha : float, default=0.0
        Ridge penalty on ``coef`` (not on the intercept), as in
        :class:`~sklearn.linear_model.Ridge`.
    fit_intercept : bool, default=True
        Fit an intercept (by centring with the weighted means).
    tol : float, default=1e-12
        Stopping tolerance of the iterative solvers: LSQR's ``atol = btol``,
        the preconditioned normal residual ``||P^T A^T r|| <= tol ||r||`` of
        iterative sketching, the error reduction of each FOSSILS step.
    max_iter : int, default=None
        Iteration cap of the iterative solvers (``None``: 500).
    random_state : int, RandomState instance or None, default=None
        Seeds the sketch; an int gives the same sketch on every backend.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: readable reference; ``"numba"``: parallel sketch kernels;
        ``"cupy"``: sketch, QR and iterations on the GPU.
    n_jobs : int, default=None
        Numba threads during the fit (``-1``: all).
    verbose : int, default=0
        ``> 0`` shows a progress bar over the iterations of the iterative
        solvers, with the current residual norm (tqdm if installed, plain
        lines otherwise).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients.
    intercept_ : float
        Intercept (0.0 when ``fit_intercept=False``).
    n_iter_ : int
        Iterations of the iterative solver (0 for the direct solvers).
    sketch_size_ : int or None
        Rows of the sketch used (``None`` for ``"lstsq"``).
    residual_norm_ : float
        ``sqrt(sum_i w_i r_i^2 + alpha ||coef||^2)`` on the training data;
        for ``"sketch_and_solve"`` its sketched estimate ``||S r||``, which
        needs no extra pass over the data.
    rank_ : int
        Numerical rank of the (sketched) centred design.
    solver_ : str
        The solver that ran (``"lstsq"`` after a fallback).
    backend_ : str
        The backend that ran the fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit; only for DataFrames.

    See Also
    --------
    sklearn.linear_model.LinearRegression : Exact least squares.
    sklearn.linear_model.Ridge : Exact ridge regression.
    LewisWeightRegression : The l_p version, by row sampling.

    Notes
    -----
    Rank deficiency: the preconditioner is ``P = V_k / s_k`` from the SVD of
    the R factor of the sketch, with ``k`` the numerical rank, so a
    rank-deficient ``X`` gives the minimum-norm solution on the row space
    and a warning. The iterative solvers need ``n_samples >= n_features``;
    with fewer samples they fall back to ``"lstsq"`` with a warning.

    Deviations and choices, documented:

    * LSQR's stopping test takes ``||A P|| = 1`` (what the preconditioner
      makes it) instead of its growing Frobenius estimate.
    * Iterative sketching and FOSSILS use the heavy-ball step ``(1 - k/m)^2``
      and momentum ``k/m``, tuned for Gaussian-like sketches; the FOSSILS
      inner solves run a fixed number of steps set by ``tol`` and that rate.
    * The sparse sign sketch places its nonzeros by the OSNAP block
      construction (see :func:`skkernel.sketch.sparse_sign`).
    * Sample weights scale rows by ``sqrt(w)``: a weight of 2 gives the same
      least-squares problem as a duplicated row, so the exact and iterative
      solvers agree with duplication to solver tolerance; sketch-and-solve
      draws a different sketch for the duplicated data.
    * The l_inf bound of [1]_ holds for ``m ~ eps^-2 d log^3(n/delta)``, more
      rows than ``n`` in most practical cases, so ``m`` is the user's choice
      and the benchmark reports the measured ratio instead.

    References
    ----------
    .. [1] Z. Song, M. Ye, J. Yin and L. Zhang, "A nearly-optimal bound for
       fast regression with l_inf guarantee", ICML 2023.
    .. [2] H. Avron, P. Maymounkov and S. Toledo, "Blendenpik: Supercharging
       LAPACK's least-squares solver", SIAM J. Sci. Comput. 32(3), 2010.
    .. [3] E. N. Epperly, "Fast and forward stable randomized algorithms for
       linear least-squares problems", SIAM J. Matrix Anal. Appl., 2024.
    .. [4] E. N. Epperly, M. Meier and Y. Nakatsukasa, "Fast randomized
       least-squares solvers can be just as accurate and stable as classical
       direct solvers", arXiv:2406.03468, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.linear_model import SketchedLinearRegression
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(2000, 10)
    >>> y = X @ np.arange(10.0) + 3.0
    >>> reg = SketchedLinearRegression(random_state=0).fit(X, y)
    >>> np.round(reg.coef_[:3], 6), round(reg.intercept_, 6)
    (array([0., 1., 2.]), 3.0)
    """

    def __init__(
        self,
        *,
        solver="sap",
        sketch="sparse_sign",
        sketch_size="auto",
        nnz_per_col=8,
        srht_transform="dct",
        alpha=0.0,
        fit_intercept=True,
        tol=1e-12,
        max_iter=None,
        random_state=None,
        backend="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.solver = solver
        self.sketch = sketch
        self.sketch_size = sketch_size
        self.nnz_per_col = nnz_per_col
        self.srht_transform = srht_transform
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------ validation

    def _check_params(self):
        check_options(self.solver, "solver", SOLVERS)
        check_options(self.sketch, "sketch", SKETCHES)
        check_options(self.srht_transform, "srht_transform", ("dct", "hadamard"))
        check_options(self.fit_intercept, "fit_intercept", (True, False))
        if self.sketch_size != "auto":
            if isinstance(self.sketch_size, str):
                raise ValueError(
                    "sketch_size must be 'auto' or an int >= n_features, got "
                    f"{self.sketch_size!r}."
                )
            check_scalar(self.sketch_size, "sketch_size", numbers.Integral, min_val=1)
        check_scalar(self.nnz_per_col, "nnz_per_col", numbers.Integral, min_val=1)
        check_scalar(self.alpha, "alpha", numbers.Real, min_val=0.0)
        check_scalar(self.tol, "tol", numbers.Real, min_val=0.0, max_val=1.0,
                     include_boundaries="neither")
        if self.max_iter is not None:
            check_scalar(self.max_iter, "max_iter", numbers.Integral, min_val=1)
        if self.n_jobs is not None:
            check_scalar(self.n_jobs, "n_jobs", numbers.Integral)
        check_scalar(self.verbose, "verbose", numbers.Integral, min_val=0)

    def _validate(self, X, y, reset):
        if is_cupy_array(X):
            X, _ = check_matrix(X, "X")
            y, vector = check_matrix(y, "y")
            if not vector or X.shape[0] != y.shape[0]:
                raise ValueError(
                    f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}."
                )
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is "
                    f"expecting {self.n_features_in_} features as input."
                )
            return X, y[:, 0]
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64,
                             order="C", y_numeric=True)
        return X, y

    def _resolve_sketch_size(self, n_samples, n_features, solver, cap):
        if self.sketch_size == "auto":
            m = _auto_sketch_factor(solver, self.sketch) * n_features
            if cap:
                limit = n_samples
                if self.sketch == "srht" and self.srht_transform == "hadamard":
                    limit = 1 << max(0, (n_samples - 1).bit_length())
                m = max(min(m, limit), n_features)
            return m
        if self.sketch_size < n_features:
            raise ValueError(
                f"sketch_size={self.sketch_size} must be >= n_features="
                f"{n_features}: a smaller sketch cannot preserve the column "
                "space of X."
            )
        return int(self.sketch_size)

    # ------------------------------------------------------------ fitting

    @fit_transaction
    def fit(self, X, y, sample_weight=None):
        """Fit the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (numpy or cupy).
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; a weight of 2 counts like a repeated row.

        Returns
        -------
        self : SketchedLinearRegression
            The fitted estimator.
        """
        self._check_params()
        backend = resolve_backend(self.backend, X)
        X, y = self._validate(X, y, reset=True)
        n, d = X.shape
        solver = self.solver
        if solver in _ITERATIVE and n < d:
            warnings.warn(
                f"solver={solver!r} needs n_samples >= n_features, got "
                f"n_samples={n} < n_features={d}; falling back to solver='lstsq'.",
                UserWarning,
                stacklevel=3,
            )
            solver = "lstsq"
        self.__dict__.pop("_stream", None)
        with numba_threads(self.n_jobs):
            if solver == "sketch_and_solve" and self.sketch in STREAMABLE_SKETCHES:
                self._stream_start(d, backend)
                self._stream_add(X, y, sample_weight)
                self._stream_solve()
            else:
                self._fit_full(X, y, sample_weight, solver, backend)
        self.solver_ = solver
        self.backend_ = backend
        return self

    def _fit_full(self, X, y, sample_weight, solver, backend):
        xp, _ = get_array_module(backend)
        X, y = _on_backend(X, backend), _on_backend(y, backend)
        n, d = X.shape
        w = xp.asarray(check_sample_weight(sample_weight, n))
        if self.fit_intercept:
            x_mean = (w @ X) / w.sum()
            y_mean = float((w @ y) / w.sum())
            A, b = X - x_mean, y - y_mean
        else:
            x_mean, y_mean = xp.zeros(d), 0.0
            A, b = X, y
        if sample_weight is not None:
            root = xp.sqrt(w)
            A, b = root[:, None] * A, root * b
        alpha = float(self.alpha)
        if solver == "lstsq":
            coef, rank = self._lstsq(A, b, alpha, xp)
            n_iter, sketch_size, converged = 0, None, True
            residual = math.sqrt(normal_residual(A, b, coef, alpha, xp)[1])
        else:
            sketch_size = self._resolve_sketch_size(n, d, solver, cap=True)
            if sketch_size == n or (self.sketch_size == "auto" and sketch_size > n):
                # A sketch with at least as many rows as X cannot compress it,
                # and a random one may lose rank (a square sparse sign matrix is
                # singular with positive probability): X is its own best sketch.
                SA, Sb = A, b
            else:
                operator = make_sketch(
                    self.sketch, sketch_size, draw_seed(self.random_state), backend,
                    nnz_per_col=self.nnz_per_col, transform=self.srht_transform,
                ).fit(A)
                SA = operator.apply(A)
                Sb = operator.apply(b[:, None])[:, 0]
            system = sketch_and_solve(SA, Sb, alpha, xp)
            rank = system.rank
            self._warn_rank(rank, d)
            max_iter = _DEFAULT_MAX_ITER if self.max_iter is None else self.max_iter
            if solver == "sketch_and_solve":
                coef, n_iter, converged = system.x0, 0, True
                residual = system.sketch_residual
            else:
                with progress_bar(max_iter, solver, self.verbose) as bar:

                    def progress(residual):
                        if residual is not None:
                            bar.set_postfix_str(f"residual {residual:.3e}")
                        bar.update()

                    if solver == "sap":
                        result = lsqr(A, b, alpha, system, self.tol, max_iter, xp,
                                      progress=progress)
                    elif solver == "iterative_sketching":
                        result = iterative_sketching(A, b, alpha, system,
                                                     sketch_size, self.tol, max_iter,
                                                     xp, progress=progress)
                    else:
                        result = fossils(A, b, alpha, system, sketch_size, self.tol,
                                         max_iter, xp, progress=progress)
                coef, n_iter, converged = result.x, result.n_iter, result.converged
                residual = result.residual_norm
        if not converged:
            warnings.warn(
                f"solver={solver!r} did not reach tol={self.tol} in "
                f"max_iter={n_iter} iterations; increase max_iter or sketch_size.",
                ConvergenceWarning,
                stacklevel=4,
            )
        self.coef_ = np.asarray(to_cpu(coef), dtype=np.float64)
        self.intercept_ = (
            float(y_mean - to_cpu(x_mean) @ self.coef_) if self.fit_intercept else 0.0
        )
        self.n_iter_ = int(n_iter)
        self.sketch_size_ = sketch_size
        self.residual_norm_ = float(residual)
        self.rank_ = int(rank)

    @staticmethod
    def _lstsq(A, b, alpha, xp):
        d = A.shape[1]
        if alpha > 0:
            A = xp.concatenate([A, math.sqrt(alpha) * xp.eye(d)])
            b = xp.concatenate([b, xp.zeros(d)])
        # The rank cut-off of the sketched solvers, so all agree on the rank.
        cutoff = np.finfo(np.float64).eps * max(A.shape) * RANK_RTOL_FACTOR
        if xp is np:
            coef, _, rank, _ = scipy.linalg.lstsq(A, b, cond=cutoff,
                                                  lapack_driver="gelsd",
                                                  check_finite=False)
        else:
            coef, _, rank, _ = xp.linalg.lstsq(A, b, rcond=cutoff)
        return coef, int(rank)

    @staticmethod
    def _warn_rank(rank, n_features):
        if rank < n_features:
            warnings.warn(
                f"The sketch of the centred X has numerical rank {rank} < "
                f"n_features={n_features}: X is rank deficient (or nearly so). "
                "Using an SVD preconditioner on its row space; coef_ is the "
                "minimum-norm solution there.",
                UserWarning,
                stacklevel=5,
            )

    # ------------------------------------------------------------ streaming

    @available_if(lambda self: self.solver == "sketch_and_solve")
    @fit_transaction
    def partial_fit(self, X, y, sample_weight=None):
        """Add a block of rows to the sketch and re-solve (sketch-and-solve).

        ``S [sqrt(w) X, sqrt(w), sqrt(w) y]`` is a sum over row blocks, so the
        blocks can come one at a time; columns of ``S`` are keyed by the
        global row index, and the coefficients after the last block equal
        those of :meth:`fit` on the concatenated data with the same
        ``random_state`` (up to rounding). Memory is ``O(sketch_size *
        n_features)`` whatever the number of rows. Available only with
        ``solver="sketch_and_solve"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A block of rows.
        y : array-like of shape (n_samples,)
            Their targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Their weights.

        Returns
        -------
        self : SketchedLinearRegression
            The updated estimator.
        """
        self._check_params()
        if self.solver != "sketch_and_solve" or self.sketch not in STREAMABLE_SKETCHES:
            raise ValueError(
                "partial_fit needs solver='sketch_and_solve' and sketch in "
                f"{list(STREAMABLE_SKETCHES)} (a sum over row blocks), got "
                f"solver={self.solver!r}, sketch={self.sketch!r}."
            )
        first = not hasattr(self, "_stream")
        backend = resolve_backend(self.backend, X) if first else self.backend_
        X, y = self._validate(X, y, reset=first)
        with numba_threads(self.n_jobs):
            if first:
                self._stream_start(X.shape[1], backend)
            self._stream_add(X, y, sample_weight)
            self._stream_solve()
        self.solver_ = "sketch_and_solve"
        self.backend_ = backend
        return self

    def _stream_start(self, n_features, backend):
        xp, _ = get_array_module(backend)
        sketch_size = self._resolve_sketch_size(None, n_features, "sketch_and_solve",
                                                cap=False)
        self._stream = {
            "operator": make_sketch(self.sketch, sketch_size,
                                    draw_seed(self.random_state), backend,
                                    nnz_per_col=self.nnz_per_col),
            "sketch": xp.zeros((sketch_size, n_features + 2)),
            "n_rows": 0,
            "weight": 0.0,
            "weighted_x": xp.zeros(n_features),
            "weighted_y": 0.0,
        }

    def _stream_add(self, X, y, sample_weight):
        stream = self._stream
        operator = stream["operator"]
        xp = operator.xp
        X, y = _on_backend(X, operator.backend), _on_backend(y, operator.backend)
        w = xp.asarray(check_sample_weight(sample_weight, X.shape[0]))
        root = xp.sqrt(w)
        # S depends on the row index only, so the columns of
        # [sqrt(w) X, sqrt(w), sqrt(w) y] can be sketched separately (no copy
        # of X without weights).
        weighted = X if sample_weight is None else root[:, None] * X
        extra = xp.stack([root, root * y], axis=1)
        d = X.shape[1]
        offset = stream["n_rows"]
        stream["sketch"][:, :d] += operator.apply(weighted, row_offset=offset)
        stream["sketch"][:, d:] += operator.apply(extra, row_offset=offset)
        stream["n_rows"] += X.shape[0]
        stream["weight"] += float(w.sum())
        stream["weighted_x"] += w @ X
        stream["weighted_y"] += float(w @ y)

    def _stream_solve(self):
        stream = self._stream
        xp = stream["operator"].xp
        d = stream["weighted_x"].shape[0]
        M = stream["sketch"]
        if self.fit_intercept:
            x_mean = stream["weighted_x"] / stream["weight"]
            y_mean = stream["weighted_y"] / stream["weight"]
        else:
            x_mean, y_mean = xp.zeros(d), 0.0
        # S W^1/2 (X - 1 mean^T) = S W^1/2 X - (S W^1/2 1) mean^T, exactly.
        SA = M[:, :d] - M[:, d:d + 1] * x_mean[None, :]
        Sb = M[:, d + 1] - M[:, d] * y_mean
        system = sketch_and_solve(SA, Sb, float(self.alpha), xp)
        self._warn_rank(system.rank, d)
        self.coef_ = np.asarray(to_cpu(system.x0), dtype=np.float64)
        self.intercept_ = (
            float(y_mean - to_cpu(x_mean) @ self.coef_) if self.fit_intercept else 0.0
        )
        self.n_iter_ = 0
        self.sketch_size_ = M.shape[0]
        self.residual_norm_ = float(system.sketch_residual)
        self.rank_ = int(system.rank)

    # ------------------------------------------------------------ prediction

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (numpy or cupy).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``X @ coef_ + intercept_``; a cupy array for cupy input.
        """
        check_is_fitted(self)
        if is_cupy_array(X):
            X, _ = check_matrix(X, "X")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is "
                    f"expecting {self.n_features_in_} features as input."
                )
            return X @ to_device(self.coef_, "cupy") + self.intercept_
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_
