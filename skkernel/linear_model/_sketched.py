"""Sketched least squares: sketch-and-solve, sketch-and-precondition,
iterative sketching and FOSSILS behind one regressor."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from sklearn.base import RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..backend import (
    Dispatch,
    get_array_module,
    like_input,
    to_cpu,
)
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..sketch._sketches import (
    SKETCH_CONSTRAINTS,
    STREAMABLE_SKETCHES,
    make_sketch,
    on_backend,
)
from ..utils import draw_seed, progress_bar
from ..utils._linalg import rank_cutoff
from ._sketched_solvers import (
    fossils,
    gram_cholesky_system,
    iterative_sketching,
    lsqr,
    normal_residual,
    sketch_and_solve,
)

SOLVERS = ("auto", "cholesky_lsqr", "sap", "sketch_and_solve",
           "iterative_sketching", "fossils", "lstsq")
_ITERATIVE = ("auto", "cholesky_lsqr", "sap", "iterative_sketching", "fossils")
_DEFAULT_MAX_ITER = 500


def _auto_sketch_factor(solver, sketch):
    """Rows of the sketch per feature when ``sketch_size="auto"``."""
    if solver == "sketch_and_solve" or sketch == "gaussian":
        return 4
    # The other sketches cost the same for any m; a larger m makes A P better
    # conditioned. LSQR: 21 iterations at 12 d, 17 at 20 d (cond 1e6, 1e5 x 200);
    # the heavy-ball parameters of the papers are set for 12 d.
    return 20 if solver == "sap" else 12


def _lstsq_gelsd(A, b, cutoff):
    """LAPACK's SVD-based ``gelsd`` (scipy); returns ``(coef, rank)``."""
    coef, _, rank, _ = scipy.linalg.lstsq(A, b, cond=cutoff, lapack_driver="gelsd",
                                          check_finite=False)
    return coef, int(rank)


def _lstsq_xp(A, b, cutoff):
    """``xp.linalg.lstsq`` (cuSOLVER on the GPU); returns ``(coef, rank)``."""
    xp = get_array_module("cupy")[0]
    coef, _, rank, _ = xp.linalg.lstsq(A, b, rcond=cutoff)
    return coef, int(rank)


LSTSQ = Dispatch("least squares", numpy=_lstsq_gelsd, cupy=_lstsq_xp)


def _check_finite_data(xp, *arrays):
    """Refuse centred data that overflowed (LAPACK would print and fail)."""
    if not all(bool(xp.isfinite(a).all()) for a in arrays):
        raise ValueError(
            "The centred, weighted X and y are not finite: the data's magnitude "
            "overflows float64 arithmetic. Rescale X and y (for example with "
            "StandardScaler) and fit again."
        )


class _RunningSketch:
    """``S [sqrt(w) X, sqrt(w), sqrt(w) y]`` summed over row blocks.

    With the weighted sums of ``w``, ``w X`` and ``w y`` it is all that
    sketch-and-solve needs: the centring is applied to the sketch at solve
    time, exactly. Picklable (the operator stores its backend's name).
    """

    def __init__(self, operator, n_features):
        xp = operator.xp
        self.operator = operator
        self.sketch = xp.zeros((operator.sketch_size, n_features + 2))
        self.n_rows = 0
        self.weight = 0.0
        self.weighted_x = xp.zeros(n_features)
        self.weighted_y = 0.0

    def add(self, X, y, w, weighted):
        """Sketch one block of rows; ``weighted=False`` means ``w`` is all ones."""
        operator = self.operator
        xp = operator.xp
        X, y = on_backend(X, operator.backend), on_backend(y, operator.backend)
        w = xp.asarray(w)
        root = xp.sqrt(w)
        # S depends on the row index only, so the columns of
        # [sqrt(w) X, sqrt(w), sqrt(w) y] can be sketched separately (no copy
        # of X without weights).
        d = X.shape[1]
        offset = self.n_rows
        # An overflow is reported below as one clear error, not numpy warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            self.sketch[:, :d] += operator.apply(
                root[:, None] * X if weighted else X, row_offset=offset)
            self.sketch[:, d:] += operator.apply(xp.stack([root, root * y], axis=1),
                                                 row_offset=offset)
            self.weighted_x += w @ X
            self.weighted_y += float(w @ y)
        self.n_rows += X.shape[0]
        self.weight += float(w.sum())
        if not (bool(xp.isfinite(self.sketch).all())
                and bool(xp.isfinite(self.weighted_x).all())
                and math.isfinite(self.weighted_y)):
            raise ValueError(
                "The running sketch overflowed: the data's magnitude is too large "
                "for float64 arithmetic (values near 1e308). This block was not "
                "added; rescale X and y (for example with StandardScaler)."
            )

    def solve(self, alpha, fit_intercept):
        """Sketch-and-solve on the centred sketch; returns the system and means."""
        xp = self.operator.xp
        d = self.weighted_x.shape[0]
        M = self.sketch
        if fit_intercept:
            x_mean = self.weighted_x / self.weight
            y_mean = self.weighted_y / self.weight
        else:
            x_mean, y_mean = xp.zeros(d), 0.0
        # S W^1/2 (X - 1 mean^T) = S W^1/2 X - (S W^1/2 1) mean^T, exactly.
        SA = M[:, :d] - M[:, d:d + 1] * x_mean[None, :]
        Sb = M[:, d + 1] - M[:, d] * y_mean
        return sketch_and_solve(SA, Sb, alpha, xp), x_mean, y_mean


class SketchedLinearRegression(RegressorMixin, SkkernelEstimator):
    """Least squares (and ridge) by sketching and preconditioned iterations.

    Minimises ``sum_i w_i (y_i - x_i^T coef - intercept)^2 + alpha ||coef||^2``
    with a random sketch ``S`` of ``m << n`` rows, or, by default when ``X``
    is well enough conditioned, with LSQR preconditioned by the Cholesky
    factor of the Gram matrix (``"auto"``, below), the faster route on the
    first call for dense data:

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
    * ``"cholesky_lsqr"``: LSQR preconditioned by the Cholesky factor ``R``
      of the Gram matrix ``A^T A + alpha I`` (one level-3 pass over ``X``)
      instead of a sketch: rounding makes ``A R^-1`` orthogonal only to
      about ``cond(A)^2 eps``, so it is used while ``cond(A) <= 1e7`` (then
      LSQR needs 2-4 iterations instead of sketch-and-precondition's ~17),
      and ``"sap"`` runs in its place otherwise (``solver_`` says which ran).
      LSQR on the original ``A`` makes it as accurate as ``"sap"``; the
      normal equations alone would lose ``cond(A)^2 eps`` (Björck's corrected
      semi-normal equations [5]_, with LSQR as the correction).
    * ``"auto"`` (default): ``"cholesky_lsqr"`` (so ``"sap"`` when ``X`` is
      too ill-conditioned), or ``"lstsq"`` when ``n_samples < n_features``.
      The Gram route is the faster one on the first call for dense data;
      see the user guide for the measured comparison.

    Read more in the :ref:`User Guide <sketched_regression>`.

    Parameters
    ----------
    solver : {"auto", "cholesky_lsqr", "sap", "sketch_and_solve", \
            "iterative_sketching", "fossils", "lstsq"}, default="auto"
        The algorithm (see above). The sketch parameters below apply to the
        sketching solvers, and to ``"auto"`` and ``"cholesky_lsqr"`` when they
        fall back to ``"sap"``.
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
    the R factor of the sketch, with ``k`` the numerical rank (singular values
    above ``s_max * max(shape) * eps * 10``), so a rank-deficient ``X`` gives
    the minimum-norm solution on the row space and a warning; ``"lstsq"``
    uses the same cut-off and warns the same way. The iterative solvers need
    ``n_samples >= n_features``; with fewer samples they fall back to
    ``"lstsq"`` with a warning.

    Data whose sums overflow float64 (values near ``1e308``) raise a
    ``ValueError`` asking to rescale, instead of a NaN model.

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
    .. [5] Å. Björck, "Stability analysis of the method of seminormal
       equations for linear least squares problems", Linear Algebra Appl.
       88/89, 1987.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.linear_model import SketchedLinearRegression
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(2000, 10)
    >>> y = X @ np.arange(10.0) + 3.0
    >>> reg = SketchedLinearRegression(random_state=0).fit(X, y)
    >>> np.round(reg.coef_[:3], 6) + 0.0, round(reg.intercept_, 6)
    (array([0., 1., 2.]), 3.0)
    """

    _parameter_constraints = {
        "solver": [Options(*SOLVERS)],
        "sketch": SKETCH_CONSTRAINTS["kind"],
        "sketch_size": [Options("auto"), Interval(Integral, 1, None)],
        "nnz_per_col": SKETCH_CONSTRAINTS["nnz_per_col"],
        "srht_transform": SKETCH_CONSTRAINTS["transform"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "max_iter": [Interval(Integral, 1, None), None],
        **COMMON_CONSTRAINTS,
    }
    _data_kwargs = {"dtype": np.float64, "order": "C"}
    _supports_device_input = True
    _streaming_state = ("_stream",)
    # residual_norm_ too: an overflow inside LSQR or the heavy-ball
    # iterations shows there (as inf), while coef_ may stay finite and wrong.
    _finite_fitted_attributes = ("coef_", "intercept_", "residual_norm_")
    # What the running sketch was built with; alpha and fit_intercept enter
    # only the solve and may change between partial_fit calls.
    _partial_fit_fixed_params = ("solver", "sketch", "sketch_size", "nnz_per_col",
                                 "random_state", "backend")

    def __init__(
        self,
        *,
        solver="auto",
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

    def _new_stream(self, n_features, backend, seed):
        sketch_size = self._resolve_sketch_size(None, n_features, "sketch_and_solve",
                                                cap=False)
        operator = make_sketch(self.sketch, sketch_size, seed, backend,
                               nnz_per_col=self.nnz_per_col)
        return _RunningSketch(operator, n_features)

    # ------------------------------------------------------------ fitting

    def fit(self, X, y, sample_weight=None):
        """Fit the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (numpy or cupy).
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Non-negative weights; a weight of 2 counts like a repeated row.

        Returns
        -------
        self : SketchedLinearRegression
            The fitted estimator.
        """
        with self._fit_context(X, y, sample_weight=sample_weight) as ctx:
            n, d = ctx.X.shape
            solver = self.solver
            if solver == "auto" and n < d:
                solver = "lstsq"
            elif solver in _ITERATIVE and n < d:
                warnings.warn(
                    f"solver={solver!r} needs n_samples >= n_features, got "
                    f"n_samples={n} < n_features={d}; falling back to "
                    "solver='lstsq'.",
                    UserWarning,
                    stacklevel=2,
                )
                solver = "lstsq"
            self.__dict__.pop("_stream", None)
            seed = draw_seed(ctx.random_state)
            weighted = sample_weight is not None
            if solver == "sketch_and_solve" and self.sketch in STREAMABLE_SKETCHES:
                # The same computation as partial_fit, so the two agree.
                # Kept, so a later partial_fit continues this sketch.
                self._stream = self._new_stream(d, ctx.backend, seed)
                self._stream.add(ctx.X, ctx.y, ctx.sample_weight, weighted)
                self._set_stream_solution(self._stream)
            else:
                solver = self._fit_full(
                    ctx.X, ctx.y, ctx.sample_weight, weighted, solver, ctx.backend,
                    seed, warn_rank=solver in (self.solver, "auto"))
            self.solver_ = solver
        return self

    def _fit_full(self, X, y, w, weighted, solver, backend, seed, warn_rank):
        xp = get_array_module(backend)[0]
        X, y = on_backend(X, backend), on_backend(y, backend)
        n, d = X.shape
        w = xp.asarray(w)
        if self.fit_intercept:
            x_mean = (w @ X) / w.sum()
            y_mean = float((w @ y) / w.sum())
            A, b = X - x_mean, y - y_mean
        else:
            x_mean, y_mean = xp.zeros(d), 0.0
            A, b = X, y
        if weighted:
            root = xp.sqrt(w)
            A, b = root[:, None] * A, root * b
        alpha = float(self.alpha)
        system = None
        if solver in ("auto", "cholesky_lsqr"):
            # Validates sketch_size now: the sketch is the fallback.
            self._resolve_sketch_size(n, d, "sap", cap=True)
            # A centring that overflowed shows in the Gram matrix (checked
            # there) at no extra pass over A; y is checked here.
            _check_finite_data(xp, b)
            system = gram_cholesky_system(A, alpha, xp)
            solver = "cholesky_lsqr" if system is not None else "sap"
            if system is None:
                _check_finite_data(xp, A, b)
        if solver == "lstsq":
            _check_finite_data(xp, A, b)
            coef, rank = self._lstsq(A, b, alpha, backend)
            n_iter, sketch_size, converged = 0, None, True
            residual = math.sqrt(normal_residual(A, b, coef, alpha, xp)[1])
        else:
            sketch_size = None
            if system is None:
                system, sketch_size = self._sketch_system(A, b, alpha, solver,
                                                          backend, seed)
            rank = system.rank
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

                    if solver in ("sap", "cholesky_lsqr"):
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
        if warn_rank:
            self._warn_rank(rank, d)
        if not converged:
            warnings.warn(
                f"solver={solver!r} did not reach tol={self.tol} in "
                f"max_iter={n_iter} iterations; increase max_iter or sketch_size.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._set_solution(coef, x_mean, y_mean)
        self.n_iter_ = int(n_iter)
        self.sketch_size_ = sketch_size
        self.residual_norm_ = float(residual)
        self.rank_ = int(rank)
        return solver

    def _sketch_system(self, A, b, alpha, solver, backend, seed):
        """Sketch ``[A, b]`` and return the sketched system (and its size)."""
        xp = get_array_module(backend)[0]
        n, d = A.shape
        sketch_size = self._resolve_sketch_size(n, d, solver, cap=True)
        if sketch_size == n or (self.sketch_size == "auto" and sketch_size > n):
            # A sketch with at least as many rows as X cannot compress it,
            # and a random one may lose rank (a square sparse sign matrix is
            # singular with positive probability): X is its own best sketch.
            SA, Sb = A, b
        else:
            operator = make_sketch(
                self.sketch, sketch_size, seed, backend,
                nnz_per_col=self.nnz_per_col, transform=self.srht_transform,
            ).fit(A)
            SA = operator.apply(A)
            Sb = operator.apply(b[:, None])[:, 0]
        return sketch_and_solve(SA, Sb, alpha, xp), sketch_size

    @staticmethod
    def _lstsq(A, b, alpha, backend):
        xp = get_array_module(backend)[0]
        d = A.shape[1]
        if alpha > 0:
            A = xp.concatenate([A, math.sqrt(alpha) * xp.eye(d)])
            b = xp.concatenate([b, xp.zeros(d)])
        # The rank cut-off of the sketched solvers, so all agree on the rank.
        return LSTSQ(backend, A, b, rank_cutoff(A.shape))

    @staticmethod
    def _warn_rank(rank, n_features):
        if rank < n_features:
            warnings.warn(
                f"The centred X (or its sketch) has numerical rank {rank} < "
                f"n_features={n_features}: X is rank deficient or nearly so "
                "(singular values below max(n_samples, n_features) * eps * 10 "
                "relative to the largest count as zero). coef_ is the "
                "minimum-norm solution on the numerical row space.",
                UserWarning,
                stacklevel=4,
            )

    def _set_solution(self, coef, x_mean, y_mean):
        self.coef_ = np.asarray(to_cpu(coef), dtype=np.float64)
        self.intercept_ = (
            float(y_mean - to_cpu(x_mean) @ self.coef_) if self.fit_intercept else 0.0
        )

    def _set_stream_solution(self, stream):
        system, x_mean, y_mean = stream.solve(float(self.alpha), self.fit_intercept)
        self._warn_rank(system.rank, x_mean.shape[0])
        self._set_solution(system.x0, x_mean, y_mean)
        self.n_iter_ = 0
        self.sketch_size_ = stream.operator.sketch_size
        self.residual_norm_ = float(system.sketch_residual)
        self.rank_ = int(system.rank)

    # ------------------------------------------------------------ streaming

    @available_if(lambda self: self.solver == "sketch_and_solve")
    def partial_fit(self, X, y, sample_weight=None):
        """Add a block of rows to the sketch and re-solve (sketch-and-solve).

        ``S [sqrt(w) X, sqrt(w), sqrt(w) y]`` is a sum over row blocks, so the
        blocks can come one at a time; columns of ``S`` are keyed by the
        global row index, and the coefficients after the last block equal
        those of :meth:`fit` on the concatenated data with the same
        ``random_state`` (up to rounding). Memory is ``O(sketch_size *
        n_features)`` whatever the number of rows. Available only with
        ``solver="sketch_and_solve"``.

        The first call starts a new sketch; after :meth:`fit` (with this
        solver) calls continue the fitted sketch, as scikit-learn's
        ``partial_fit`` continues a fit.
        The parameters the sketch is built with (``sketch``, ``sketch_size``,
        ``nnz_per_col``, ``random_state``, ``backend``) must not change
        between calls; ``alpha`` and ``fit_intercept`` may, as they enter
        only the solve. A call that fails leaves the sketch as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A block of rows.
        y : array-like of shape (n_samples,)
            Their targets.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Their weights.

        Returns
        -------
        self : SketchedLinearRegression
            The updated estimator.
        """
        with self._fit_context(X, y, sample_weight=sample_weight, partial=True) as ctx:
            if self.sketch not in STREAMABLE_SKETCHES:
                raise ValueError(
                    "partial_fit needs solver='sketch_and_solve' and sketch in "
                    f"{list(STREAMABLE_SKETCHES)} (a sum over row blocks), got "
                    f"solver={self.solver!r}, sketch={self.sketch!r}."
                )
            if ctx.first_call:
                self._stream = self._new_stream(ctx.X.shape[1], ctx.backend,
                                                draw_seed(ctx.random_state))
            self._stream.add(ctx.X, ctx.y, ctx.sample_weight,
                             sample_weight is not None)
            self._set_stream_solution(self._stream)
            self.solver_ = "sketch_and_solve"
        return self

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
        X_valid = self._validate_predict_data(X)
        y_pred = X_valid @ like_input(self.coef_, X_valid) + self.intercept_
        return like_input(y_pred, X)
