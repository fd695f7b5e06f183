"""Weighted least squares on DPP designs (Nouy and Michel, 2023)."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..backend import like_input, to_cpu
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ..dpp._bases import (
    EXTRAPOLATIONS,
    INDEX_SETS,
    FeatureMapBasis,
    count_basis_functions,
    make_basis,
)
from ..dpp._samplers import SAMPLINGS, gram_deviation, gram_matrix, sample_design

_FAMILY_NAMES = ("legendre", "hermite", "trigonometric", "trig")
# degree="auto": at most this degree, and at least this many distinct points
# per basis function (the size of the default repeated-DPP design, n = 3 m).
_MAX_AUTO_DEGREE = 9
_POINTS_PER_FUNCTION = 3


def _count_distinct(X, enough):
    """Number of distinct rows of ``X``, or a number ``>= enough`` once certain.

    One column with ``enough`` distinct values settles it (the usual case,
    sorted in milliseconds); only otherwise are whole rows compared.
    """
    for column in X.T:
        count = np.unique(column).size
        if count >= enough:
            return count
    return np.unique(X, axis=0).shape[0]


def _learned_domain(X):
    """Per-feature ``[min, max]``; a constant ``c`` gets ``c -+ max(1, |c|)``."""
    low, high = X.min(axis=0), X.max(axis=0)
    half = np.where(high > low, 0.0, np.maximum(1.0, np.abs(low)))
    return np.column_stack([low - half, high + half])


def _degenerate_design_error(X, m, rank):
    """Why the ``rank < m`` design ``X`` does not determine ``m`` coefficients."""
    n_distinct = _count_distinct(X, m)
    if n_distinct < m:
        return ValueError(
            f"X has {n_distinct} distinct point(s) (n_samples={X.shape[0]} with "
            f"positive weight), fewer than the m={m} basis functions: weighted "
            "least squares needs at least m distinct points. Lower degree or add "
            "points."
        )
    constant = np.flatnonzero(np.ptp(X, axis=0) == 0).tolist()
    reason = (f" (feature(s) {constant} take a single value)"
              if constant and X.shape[1] > 1 else "")
    return ValueError(
        f"The weighted design matrix has numerical rank {rank}, below the m={m} "
        f"basis functions: the points do not determine the coefficients{reason}. "
        "Lower degree, or add points that spread over every feature."
    )


class DPPWeightedLeastSquares(RegressorMixin, SkkernelEstimator):
    """Weighted least squares in an orthonormal basis, on optimal designs.

    Approximates a function ``f`` by ``f_hat = sum_j c_j phi_j`` in the span
    ``V_m`` of ``m`` functions orthonormal in ``L^2(mu)``, minimising
    ``sum_i w(x_i) (f(x_i) - f_hat(x_i))^2`` with weights ``w = m / k_m``,
    where ``k_m = sum_j phi_j^2`` is the inverse Christoffel function. The
    design is drawn by :meth:`fit_function` or :meth:`sample_design` from a
    repeated projection DPP (the default), i.i.d. from ``(k_m / m) mu``, or
    (generalised) volume-rescaled sampling, and redrawn while the weighted
    Gram matrix ``G`` is far from the identity. Repulsion between DPP points
    gives a stable Gram matrix with several times fewer evaluations of ``f``
    than i.i.d. sampling.

    Read more in the :ref:`User Guide <dpp_weighted_least_squares>`.

    Parameters
    ----------
    basis : {"legendre", "hermite", "trigonometric"} or callable, \
            default="legendre"
        Legendre polynomials (uniform measure on ``domain``), Hermite
        polynomials (standard Gaussian), a trigonometric basis (uniform
        measure on one period ``domain``), or a feature map
        ``phi(X) -> (n_points, m)`` orthonormalised on ``candidates``.
    degree : int or "auto", default="auto"
        Maximal degree (frequency for the trigonometric basis) ``p``.
        ``"auto"``: in :meth:`fit` (and :meth:`select`), the largest degree
        up to 9 whose basis has at most ``n / 3`` functions, ``n`` being the
        number of distinct points with positive weight (pool rows), and 0
        when even the degree-1 basis is too large; 9 in :meth:`fit_function`
        and :meth:`sample_design`, which draw their own points.
    dim : int or None, default=None
        Number of variables; ``None`` takes it from ``X`` in :meth:`fit`
        and uses 1 in :meth:`fit_function` and :meth:`sample_design`.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}, \
            default="total_degree"
        Multi-indices of the tensor basis when ``dim > 1``.
    domain : (float, float), array-like of shape (n_features, 2) or None, \
            default=None
        The box of the bounded bases: ``(a, b)`` for every feature, or one
        row ``(a_i, b_i)`` per feature. ``None``: learned from the data in
        :meth:`fit` (each feature's minimum and maximum; see Notes) and
        from ``X_pool`` in :meth:`select`; ``(-1, 1)`` in
        :meth:`fit_function` and :meth:`sample_design`. Training points
        outside a given domain are an error.
    extrapolation : {"constant", "error", "continue"}, default="constant"
        What :meth:`predict` does with points outside the domain:
        ``"constant"`` moves each feature to the nearest end of its interval
        (the prediction stays what it is on the boundary), ``"error"``
        raises a ``ValueError`` naming the feature, ``"continue"`` evaluates
        the basis there (polynomials grow fast away from the domain;
        trigonometric functions repeat with the period). Unused by the
        Hermite basis and feature maps, which have no domain.
    candidates : array-like of shape (n_candidates, n_features), default=None
        The finite pool for a callable ``basis``; designs are drawn from it.
    sampling : {"repeated_dpp", "iid_christoffel", "projection_dpp", \
            "volume_rescaled", "generalized_volume"}, default="repeated_dpp"
        Design sampler of :meth:`fit_function`, :meth:`sample_design` and
        :meth:`select`.
    n_samples : "auto" or int, default="auto"
        Design size ``n >= m``. ``"auto"``: ``3 m`` for the DPP-based
        samplers (``m`` for ``"projection_dpp"``) and the matrix-Chernoff
        size ``ceil(m log(2m / 0.1) / c)`` with
        ``c = (1 + delta) log(1 + delta) - delta`` for ``"iid_christoffel"``.
    stability_threshold : float or None, default=0.5
        Redraw the design while ``||G - I||_2`` exceeds it; ``None`` never
        redraws.
    max_resample : int, default=50
        Most redraws; then the most stable design seen is kept, with a
        warning.
    random_state : int, RandomState instance or None, default=None
        Seeds the designs. An int gives the same design on every backend.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: the readable reference samplers; ``"numba"``: compiled
        chain rule and rejection kernels (default on CPU), same designs;
        ``"cupy"``: pool orthonormalisation of a callable ``basis`` (and in
        :meth:`select`) on the GPU; the sequential samplers run the numpy
        reference on the host.

    Attributes
    ----------
    coef_ : ndarray of shape (`n_basis_`,)
        Coefficients in the orthonormal basis.
    basis_ : OrthonormalBasis
        The fitted basis (``basis_.evaluate(X) @ coef_`` predicts).
    n_basis_ : int
        Number of basis functions ``m``.
    degree_ : int or None
        The degree used (``None`` for a callable ``basis``).
    domain_ : ndarray of shape (`n_features_in_`, 2) or None
        The interval of each feature (given or learned); ``None`` for the
        Hermite basis and feature maps.
    design_points_ : ndarray of shape (`n_samples_`, `n_features_in_`)
        Points the fit used (the design, or the rows of ``X`` with positive
        weight).
    weights_ : ndarray of shape (`n_samples_`,)
        Least-squares weights used (``sample_weight * m / k_m`` in
        :meth:`fit`).
    gram_ : ndarray of shape (`n_basis_`, `n_basis_`)
        Weighted empirical Gram matrix of the design.
    gram_deviation_ : float
        ``||gram_ - I||_2``; at most 1/2 means a stable design.
    n_resamples_ : int
        Designs redrawn by conditioning (0 after :meth:`fit`).
    n_samples_ : int
        Number of design points.
    backend_ : str
        The backend that ran the fit.
    n_features_in_ : int
        Number of variables.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, set only when ``X`` in :meth:`fit` is a DataFrame.

    See Also
    --------
    skkernel.dpp.sample_design : The samplers behind :meth:`fit_function`.
    sklearn.linear_model.LinearRegression : Unweighted least squares.

    Notes
    -----
    Only the abstract of [1]_ could be read; choices made here:

    * The generalised volume-rescaled law is derived from the abstract
      with the Cauchy-Binet formula: ``m`` projection-DPP points at random
      positions, the others i.i.d. from ``(k_m / m) mu``.
    * A repeated DPP of ``n`` points that is not a multiple of ``m`` is
      completed with ``n mod m`` i.i.d. points from ``(k_m / m) mu``.
    * Conditioning redraws the whole design while ``||G - I||_2 > delta``
      (Nouy's ApproximationToolbox rule for i.i.d. designs, [2]_); it costs
      no evaluations of ``f``.
    * In :meth:`fit`, ``sample_weight`` multiplies ``m / k_m(x)``, so that a
      weight of 2 is the same as a repeated row.
    * Volume-rescaled sampling is fitted unweighted: that estimator is the
      unbiased one for this law [3]_.

    Domain. With ``domain=None``, :meth:`fit` takes each feature's interval
    from the training points (their minimum and maximum, as
    :class:`~sklearn.preprocessing.SplineTransformer` places its knots), so
    the estimator can follow ``StandardScaler`` in a pipeline; a feature
    that is constant at ``c`` gets ``[c - s, c + s]`` with
    ``s = max(1, |c|)``. A prediction at a point outside the domain follows
    ``extrapolation``: by default each feature outside its interval is
    moved to the nearest end (the model is not trusted beyond its data);
    ``"error"`` refuses the point, naming the feature. For the
    trigonometric basis the learned interval is one period, which makes the
    model take equal values at the smallest and the largest training value;
    pass the period as ``domain`` when it is known. :meth:`select`
    learns its domain from the pool: to fit on the chosen rows with the
    weights it returns, pass that domain to the fit (``domain``), since a
    fit with ``domain=None`` learns its own from the rows it is given.

    Degenerate designs. :meth:`fit` needs at least ``m`` distinct points
    with positive weight, and a weighted design matrix of rank ``m`` (a
    feature with a single value, or points on a lower-dimensional set,
    lower the rank); otherwise it raises a ``ValueError`` instead of
    returning coefficients the data do not determine.

    The projection DPP is sampled by the chain rule with rejection from
    ``(k_m / m) mu``, also on finite pools, where it replaces the
    ``O(N m^2)`` sweep of Gram-Schmidt samplers once the pool is
    orthonormalised (one ``O(N m^2)`` pass of level-3 BLAS).

    References
    ----------
    .. [1] A. Nouy and B. Michel, "Weighted least-squares approximation with
       determinantal point processes and generalized volume sampling",
       arXiv:2312.14057 (2023).
    .. [2] A. Cohen and G. Migliorati, "Optimal weighted least-squares
       methods", SMAI J. Comput. Math. 3 (2017) 181-203.
    .. [3] M. Derezinski, M. K. Warmuth and D. Hsu, "Unbiased estimators for
       random design regression", JMLR 23(167) (2022).

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.linear_model import DPPWeightedLeastSquares
    >>> model = DPPWeightedLeastSquares(degree=9, random_state=0)
    >>> model = model.fit_function(lambda X: np.exp(X[:, 0]))
    >>> model.n_samples_, model.gram_deviation_ <= 0.5
    (30, True)
    >>> bool(abs(model.predict(np.array([[0.3]]))[0] - np.exp(0.3)) < 1e-8)
    True

    On data, ``degree="auto"`` and ``domain=None`` adapt to the points:

    >>> X = np.linspace(0.0, 3.0, 40)[:, None]
    >>> model = DPPWeightedLeastSquares().fit(X, np.sin(X[:, 0]))
    >>> model.degree_, model.domain_.tolist()
    (9, [[0.0, 3.0]])
    """

    _parameter_constraints = {
        "basis": [Options(*_FAMILY_NAMES), "callable"],
        "degree": [Interval(Integral, 0, None), Options("auto")],
        "dim": [Interval(Integral, 1, None), None],
        "index_set": [Options(*INDEX_SETS)],
        # Shape, finiteness and a < b are checked in _check_params.
        "domain": [None, tuple, list, np.ndarray],
        "extrapolation": [Options(*EXTRAPOLATIONS)],
        # Validated with the pool by FeatureMapBasis (shape, finite values).
        "candidates": "no_validation",
        "sampling": [Options(*SAMPLINGS)],
        "n_samples": [Options("auto"), Interval(Integral, 1, None)],
        "stability_threshold": [Interval(Real, 0, None, closed="neither"), None],
        "max_resample": [Interval(Integral, 0, None)],
        "random_state": COMMON_CONSTRAINTS["random_state"],
        "backend": COMMON_CONSTRAINTS["backend"],
    }
    _finite_fitted_attributes = ("coef_",)

    def __init__(
        self,
        *,
        basis="legendre",
        degree="auto",
        dim=None,
        index_set="total_degree",
        domain=None,
        extrapolation="constant",
        candidates=None,
        sampling="repeated_dpp",
        n_samples="auto",
        stability_threshold=0.5,
        max_resample=50,
        random_state=None,
        backend="auto",
    ):
        self.basis = basis
        self.degree = degree
        self.dim = dim
        self.index_set = index_set
        self.domain = domain
        self.extrapolation = extrapolation
        self.candidates = candidates
        self.sampling = sampling
        self.n_samples = n_samples
        self.stability_threshold = stability_threshold
        self.max_resample = max_resample
        self.random_state = random_state
        self.backend = backend

    # ------------------------------------------------------------ validation

    def _check_params(self):
        if self.domain is None:
            return
        try:
            bounds = np.asarray(to_cpu(self.domain), dtype=np.float64)
        except (TypeError, ValueError):
            bounds = None
        if (bounds is None or bounds.ndim not in (1, 2) or bounds.shape[-1] != 2
                or not np.all(np.isfinite(bounds))
                or not np.all(bounds[..., 0] < bounds[..., 1])):
            raise ValueError(
                "domain must be a pair (a, b) of finite floats with a < b, or an "
                f"array of shape (n_features, 2) of such pairs, got {self.domain!r}."
            )
        if not callable(self.basis) and self.basis == "hermite":
            raise ValueError(
                "basis='hermite' is orthonormal for the standard Gaussian on the "
                f"whole real line: domain must be None, got {self.domain!r} "
                "(standardise X instead)."
            )

    def _validate_fit_data(self, X, y, reset):
        if X is None:  # fit_function draws its own points
            return None, None
        return validate_data(self, to_cpu(X), to_cpu(y), reset=reset,
                             dtype=np.float64, y_numeric=True)

    def _resolve_dim(self, n_features=None):
        if n_features is None:
            return 1 if self.dim is None else self.dim
        if self.dim is not None and self.dim != n_features:
            raise ValueError(
                f"X has {n_features} features, but dim={self.dim}; pass X with "
                f"{self.dim} columns or set dim=None."
            )
        return n_features

    def _family(self):
        return "trigonometric" if self.basis == "trig" else self.basis

    def _resolve_degree(self, dim, X=None):
        """The degree for the points ``X`` (``None``: no data)."""
        if callable(self.basis):
            return None
        if self.degree != "auto":
            return self.degree
        if X is None:
            return _MAX_AUTO_DEGREE
        needed = {}  # degree -> distinct points it needs, up to what X could have
        for candidate in range(1, _MAX_AUTO_DEGREE + 1):
            m = count_basis_functions(self._family(), candidate, dim, self.index_set)
            if _POINTS_PER_FUNCTION * m > X.shape[0]:
                break
            needed[candidate] = _POINTS_PER_FUNCTION * m
        if not needed:
            return 0
        n_distinct = _count_distinct(X, max(needed.values()))
        return max([0] + [p for p, n in needed.items() if n <= n_distinct])

    def _resolve_domain(self, X=None):
        """The given domain, or the one learned from ``X`` (``None``: default)."""
        if (self.domain is not None or X is None or callable(self.basis)
                or self._family() == "hermite"):
            return self.domain
        return _learned_domain(X)

    def _make_basis(self, dim, degree, domain, backend):
        return make_basis(
            self.basis, degree=degree, dim=dim, index_set=self.index_set,
            domain=domain, candidates=self.candidates, backend=backend,
        )

    def _resolve_n(self, basis, n_samples):
        m = basis.n_basis
        n = self.n_samples if n_samples is None else n_samples
        if isinstance(n, str) and n == "auto":
            if self.sampling == "projection_dpp":
                return m
            if self.sampling == "iid_christoffel":
                delta = 0.5 if self.stability_threshold is None else min(
                    self.stability_threshold, 0.99)
                c_delta = (1 + delta) * math.log1p(delta) - delta
                return max(m, math.ceil(m * math.log(2 * m / 0.1) / c_delta))
            return 3 * m
        if not isinstance(n, Integral) or isinstance(n, bool):
            raise ValueError(f"n_samples must be 'auto' or an integer, got {n!r}.")
        if n < m:
            raise ValueError(
                f"n_samples={n} is smaller than the number of basis functions "
                f"m={m}: weighted least squares needs n_samples >= m."
            )
        return int(n)

    def _design(self, basis, n_samples, backend, random_state):
        n = self._resolve_n(basis, n_samples)
        return sample_design(
            basis, n, sampling=self.sampling,
            stability_threshold=self.stability_threshold,
            max_resample=self.max_resample, random_state=random_state,
            backend=backend,
        )

    def _solve(self, basis, degree, X, y, Psi, weights, normaliser):
        m = basis.n_basis
        root = np.sqrt(weights)
        coef, _, rank, _ = np.linalg.lstsq(Psi * root[:, None], y * root, rcond=None)
        if rank < m:
            raise _degenerate_design_error(X, m, rank)
        gram = gram_matrix(Psi, weights) * (Psi.shape[0] / normaliser)
        self.coef_ = coef
        self.basis_ = basis
        self.n_basis_ = m
        self.degree_ = degree
        self.domain_ = None if getattr(basis, "bounds", None) is None else (
            basis.bounds.copy())
        self.design_points_ = X
        self.weights_ = weights
        self.gram_ = gram
        self.gram_deviation_ = gram_deviation(gram)
        self.n_samples_ = X.shape[0]

    # ------------------------------------------------------------ public API

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    def fit(self, X, y, sample_weight=None):
        """Weighted least squares on given points ``X`` and values ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points (for instance a design from :meth:`sample_design`, or pool
            rows chosen by :meth:`select`); inside ``domain`` when it is
            given.
        y : array-like of shape (n_samples,)
            Function values at ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplies the optimal weights ``m / k_m``; a weight of 2 is the
            same as a repeated row, a weight of 0 the same as no row.

        Returns
        -------
        self : DPPWeightedLeastSquares
            The fitted estimator.
        """
        with self._fit_context(X, y, sample_weight=sample_weight) as ctx:
            dim = self._resolve_dim(ctx.X.shape[1])
            rows = ctx.sample_weight > 0  # a zero weight is an absent row
            X, y, weight = ctx.X[rows], ctx.y[rows], ctx.sample_weight[rows]
            degree = self._resolve_degree(dim, X)
            basis = self._make_basis(dim, degree, self._resolve_domain(X),
                                     ctx.backend)
            X = basis.check_points(X)
            m = basis.n_basis
            Psi = basis.evaluate(X)
            christoffel = np.einsum("ij,ij->i", Psi, Psi)
            if np.any(christoffel <= 0):
                raise ValueError(
                    "Every basis function vanishes at some rows of X, so the "
                    "weights m / k_m(x) are undefined there; remove those rows."
                )
            self._solve(basis, degree, X, y, Psi, weight * m / christoffel,
                        weight.sum())
            self.n_resamples_ = 0
        return self

    def fit_function(self, func, n_samples=None):
        """Draw a design, evaluate ``func`` on it, fit.

        Parameters
        ----------
        func : callable
            ``func(X) -> array of shape (n_points,)`` for points ``X`` of
            shape ``(n_points, dim)``.
        n_samples : int, default=None
            Design size; ``None`` uses the ``n_samples`` parameter.

        Returns
        -------
        self : DPPWeightedLeastSquares
            The fitted estimator.
        """
        with self._fit_context(None) as ctx:
            if not callable(func):
                raise ValueError(f"func must be callable, got {type(func).__name__}.")
            dim = self._resolve_dim()
            degree = self._resolve_degree(dim)
            basis = self._make_basis(dim, degree, self.domain, ctx.backend)
            design = self._design(basis, n_samples, ctx.backend, ctx.random_state)
            points = design.points
            y = np.asarray(to_cpu(func(points.copy())), dtype=np.float64)
            if y.shape != (points.shape[0],) and y.size == points.shape[0]:
                y = y.reshape(-1)
            if y.shape != (points.shape[0],):
                raise ValueError(
                    f"func must return one value per point, shape "
                    f"({points.shape[0]},); got shape {y.shape}."
                )
            if not np.all(np.isfinite(y)):
                raise ValueError("func returned NaN or infinity on the design points.")
            Psi = basis.evaluate(points)
            self._solve(basis, degree, points, y, Psi, design.weights,
                        points.shape[0])
            self.n_resamples_ = design.n_resamples
            self.n_features_in_ = dim
            self.__dict__.pop("feature_names_in_", None)
        return self

    def sample_design(self, n=None):
        """Draw a design without evaluating anything.

        After a fit, ``dim=None``, ``degree="auto"`` and ``domain=None``
        take the fitted dimension, degree and domain.

        Parameters
        ----------
        n : int, default=None
            Number of points; ``None`` uses the ``n_samples`` parameter.

        Returns
        -------
        points : ndarray of shape (n, dim)
            The design.
        weights : ndarray of shape (n,)
            Its least-squares weights.
        """
        self._validate_params()
        backend = self._resolve_backend(None)
        fitted = hasattr(self, "coef_")
        dim = self._resolve_dim(self.n_features_in_ if fitted and self.dim is None
                                else None)
        degree = self._resolve_degree(dim)
        domain = self.domain
        if fitted and not callable(self.basis):
            if self.degree == "auto" and self.degree_ is not None:
                degree = self.degree_
            if domain is None and self.domain_ is not None and len(self.domain_) == dim:
                domain = self.domain_
        basis = self._make_basis(dim, degree, domain, backend)
        design = self._design(basis, n, backend, check_random_state(self.random_state))
        return design.points, design.weights

    def select(self, X_pool, n=None):
        """Choose rows of a pool to label (active learning, coresets).

        The basis is re-orthonormalised on the pool's empirical measure and
        the design is drawn among its rows with ``sampling``. With
        ``domain=None`` the domain is learned from the pool, and
        ``degree="auto"`` counts its distinct rows.

        Parameters
        ----------
        X_pool : array-like of shape (n_candidates, n_features)
            Candidate points.
        n : int, default=None
            Number of rows to choose; ``None`` uses ``n_samples``.

        Returns
        -------
        indices : ndarray of shape (n,)
            Chosen rows (a row may repeat in repeated or i.i.d. designs).
        sample_weight : ndarray of shape (n,)
            Pass to ``fit(X_pool[indices], y, sample_weight=sample_weight)``
            to weight the fit for the pool's measure; the weights are for
            the basis on this domain, so fit with the same ``domain`` (see
            Notes).
        """
        self._validate_params()
        backend = self._resolve_backend(X_pool)
        X_pool = check_array(to_cpu(X_pool), dtype=np.float64, input_name="X_pool")
        dim = self._resolve_dim(X_pool.shape[1])
        if callable(self.basis):
            space = FeatureMapBasis(
                self.basis, X_pool if self.candidates is None else self.candidates,
                backend=backend,
            )
        else:
            degree = self._resolve_degree(dim, X_pool)
            space = self._make_basis(dim, degree, self._resolve_domain(X_pool),
                                     backend)
        X_pool = space.check_points(X_pool, name="X_pool")
        if X_pool.shape[0] < space.n_basis:
            raise ValueError(
                f"X_pool has {X_pool.shape[0]} rows but the basis has "
                f"m={space.n_basis} functions; need at least m candidates."
            )
        pool = FeatureMapBasis(space.evaluate, X_pool, backend=backend)
        design = self._design(pool, n, backend, check_random_state(self.random_state))
        return design.indices, design.weights / space.optimal_weights(design.points)

    def predict(self, X):
        """Evaluate the fitted approximation.

        Parameters
        ----------
        X : array-like of shape (n_points, n_features)
            Points; those outside the domain follow ``extrapolation``.

        Returns
        -------
        y_pred : ndarray of shape (n_points,)
            ``sum_j coef_j phi_j(x)``; a cupy array for cupy input.
        """
        check_is_fitted(self)
        Psi = self.basis_.evaluate(self._validate_predict_data(X),
                                   extrapolation=self.extrapolation)
        return like_input(Psi @ self.coef_, X)
