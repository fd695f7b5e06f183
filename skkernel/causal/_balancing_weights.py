"""Kernel balancing weights: entropy balancing of kernel functions (Li et al. 2024)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from ..backend import like_input, to_cpu, to_device
from ..base import COMMON_CONSTRAINTS, Interval, Options, SkkernelEstimator
from ._kernels import KERNEL_GRAM, KERNELS, TILTED_STATISTICS

# An infeasible hard-constrained program shows as an imbalance left above the
# slack; this much above it (relative to the kernel scale 1) is tolerated as
# the solver's accuracy.
_FEASIBILITY_TOL = 1e-6


def sample_rows(rng, weight, size):
    """Draw ``size`` distinct rows with probability proportional to ``weight``.

    Rows with equal features are pooled first (their weights summed, in
    sorted order by the caller), so repeating a row and doubling its weight
    give the same draw: sample weights behave like repeated rows.
    """
    positive = np.flatnonzero(weight > 0)
    size = min(size, positive.size)
    chosen = rng.choice(positive.size, size=size, replace=False,
                        p=weight[positive] / weight[positive].sum())
    return positive[np.sort(chosen)]


def pooled_candidates(X, sample_weight, rng, size):
    """Candidate centres: distinct rows of X drawn by their total weight."""
    unique, inverse = np.unique(X, axis=0, return_inverse=True)
    pooled = np.bincount(inverse.ravel(), weights=sample_weight,
                         minlength=unique.shape[0])
    return unique[sample_rows(rng, pooled, size)]


def solve_balancing_dual(features, target_mean, log_base, slack, bound, backend):
    """Solve the entropy-balancing dual with L-BFGS-B.

    Minimises ``log sum_i exp(log_base_i + (Phi_i - m) . lam) + slack ||lam||_1``
    over ``|lam_j| <= bound`` (``bound=inf``: hard constraints). The l1 term is
    made smooth by splitting ``lam = lam_plus - lam_minus`` with both parts
    non-negative.

    Returns
    -------
    lam : ndarray of shape (n_centers,)
    result : scipy.optimize.OptimizeResult
    """
    A = np.ascontiguousarray(features - target_mean)
    m = A.shape[1]

    def objective(z):
        lam = z[:m] - z[m:]
        value, gradient = TILTED_STATISTICS(backend, A, log_base, lam)
        return (value + slack * z.sum(),
                np.concatenate([gradient + slack, -gradient + slack]))

    upper = None if not np.isfinite(bound) else bound
    result = minimize(objective, np.zeros(2 * m), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, upper)] * (2 * m),
                      options={"maxiter": 15000, "maxfun": 30000, "ftol": 0.0,
                               "gtol": 1e-11, "maxcor": 20})
    return result.x[:m] - result.x[m:], result


class KernelBalancingWeights(ClassifierMixin, SkkernelEstimator):
    """Entropy-balancing weights that balance kernel functions (kernel balancing).

    Reweights the observed rows (``y == 1``) of a population so that the
    weighted observed mean of each balancing function ``k(., c_j)`` matches
    its mean over the whole population (all rows of ``X``), within a slack,
    while staying as close as possible to uniform (or to a prior ``q``) in
    Kullback-Leibler divergence: the weight program of kernel-based causal
    balancing [1]_. With ``w`` normalised to mean one over the observed rows,
    the program is

    .. math::

        \\min_w \\frac{1}{n_1}\\sum_{y_i=1} w_i \\log\\frac{w_i}{q_i}
        \\quad\\text{s.t.}\\quad \\frac{1}{n_1}\\sum_{y_i=1} w_i = 1,\\quad
        \\Big|\\frac{1}{n_1}\\sum_{y_i=1} w_i k(x_i, c_j)
        - \\frac{1}{n}\\sum_i k(x_i, c_j)\\Big| \\le C,

    or, with ``penalty=gamma_p``, the constraint replaced by the penalty
    ``gamma_p * sum_j max(0, |imbalance_j| - C)`` (always feasible). It is
    solved through its convex dual with L-BFGS-B: the weights are
    ``w(x) = q(x) exp(lam . k(x, c)) / Z``, so they extend to unseen rows
    (:meth:`compute_weights`), and ``1 / w`` gives an implied propensity
    (:meth:`predict_proba`).

    Parameters
    ----------
    kernel : {"rbf", "exponential"}, default="rbf"
        ``"rbf"``: ``exp(-gamma ||x - c||^2)``; ``"exponential"``:
        ``exp(-gamma ||x - c||)`` with the Euclidean norm.
    gamma : float, default=0.1
        Kernel bandwidth parameter (the authors' fixed value).
    n_centers : int, default=3
        Number of balancing functions ``J`` (the paper's experiments use 3).
    center_selection : {"random", "worst", "adaptive"}, default="random"
        How the ``J`` centres are chosen among ``n_candidates`` rows drawn
        from the population: at random (RKB); the kernel functions with the
        largest relative imbalance under the prior weights (WKB); or the
        functions with the largest coefficients when the ``residual`` passed
        to :meth:`fit` is projected on the candidate kernel functions by
        weighted kernel ridge regression (AKB).
    n_candidates : int, default=100
        Candidate centres for ``"worst"`` and ``"adaptive"``.
    slack : float, default=0.01
        The tolerated imbalance ``C`` of each balancing function.
    penalty : float or None, default=1.0
        A number ``gamma_p``: the hinge penalty above (the authors' value is
        1); in the dual it bounds each ``|lam_j|`` by ``gamma_p``, so the
        program is always feasible and the weights stay bounded. ``None``:
        hard constraints, the program as the paper states it (raises a
        ValueError when the observed rows cannot be balanced to the slack).
    adaptive_ridge : float, default=1e-3
        Ridge of the kernel regression that ranks centres for
        ``"adaptive"``, relative to the mean diagonal of its Gram matrix.
    random_state : int, RandomState instance or None, default=None
        Draws the candidate centres.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Backend of the kernel Gram matrices and the dual's statistics.
    n_jobs : int or None, default=None
        Threads of the numba kernels.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The labels; ``classes_[1]`` marks the observed rows.
    centers_ : ndarray of shape (n_centers, n_features)
        The balancing centres ``c_j``.
    dual_coef_ : ndarray of shape (n_centers,)
        The dual solution ``lam``.
    weights_ : ndarray of shape (n_observed,)
        Weights of the observed rows of the training data, in their order;
        their (sample-weighted) mean is one.
    imbalance_ : ndarray of shape (n_centers,)
        Weighted observed mean minus population mean of each balancing
        function; within ``slack`` for hard constraints.
    observed_fraction_ : float
        Weighted share of observed rows, ``n_1 / n``.
    n_iter_ : int
        L-BFGS-B iterations.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    backend_ : str
        The resolved backend.

    See Also
    --------
    KernelBalancedRecommender : Debiased matrix factorisation trained with
        kernel-balanced weights.

    Notes
    -----
    The authors' code does not solve this program: it trains a weight model
    by stochastic gradient on a mini-batch relaxation (one hinge on the sum
    of the imbalances, no normalisation constraint; see the user guide). This
    class solves the program as the paper states it, exactly, which the
    recommender's weight model approximates. ``"worst"`` ranks single kernel
    functions by ``|imbalance| / population mean`` instead of the code's
    gradient ascent over combinations of them; ``"adaptive"`` fits the
    projection in closed form instead of by Adam steps.

    References
    ----------
    .. [1] H. Li, C. Zheng, Y. Xiao, P. Wu, Z. Geng, X. Chen and P. Cui,
       "Debiased Collaborative Filtering with Kernel-Based Causal Balancing",
       ICLR 2024. arXiv:2404.19596.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.causal import KernelBalancingWeights
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = (rng.uniform(size=500) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    >>> kb = KernelBalancingWeights(n_centers=5, slack=1e-3, penalty=None,
    ...                             random_state=0)
    >>> kb = kb.fit(X, y)
    >>> bool(np.all(np.abs(kb.imbalance_) <= 1e-3 + 1e-6))
    True
    >>> round(float(kb.weights_.mean()), 6)
    1.0
    """

    _parameter_constraints = {
        "kernel": [Options(*KERNELS)],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "n_centers": [Interval(Integral, 1, None)],
        "center_selection": [Options("random", "worst", "adaptive")],
        "n_candidates": [Interval(Integral, 1, None)],
        "slack": [Interval(Real, 0, None, closed="left")],
        "penalty": [Interval(Real, 0, None, closed="neither"), None],
        "adaptive_ridge": [Interval(Real, 0, None, closed="neither")],
        "random_state": COMMON_CONSTRAINTS["random_state"],
        "backend": COMMON_CONSTRAINTS["backend"],
        "n_jobs": COMMON_CONSTRAINTS["n_jobs"],
    }
    _finite_fitted_attributes = ("dual_coef_", "weights_", "imbalance_")

    def __init__(self, kernel="rbf", gamma=0.1, n_centers=3, center_selection="random",
                 n_candidates=100, slack=0.01, penalty=1.0, adaptive_ridge=1e-3,
                 random_state=None, backend="auto", n_jobs=None):
        self.kernel = kernel
        self.gamma = gamma
        self.n_centers = n_centers
        self.center_selection = center_selection
        self.n_candidates = n_candidates
        self.slack = slack
        self.penalty = penalty
        self.adaptive_ridge = adaptive_ridge
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs

    def _check_params(self):
        if self.center_selection != "random" and self.n_candidates < self.n_centers:
            raise ValueError(
                f"n_candidates={self.n_candidates} is smaller than n_centers="
                f"{self.n_centers}: center_selection={self.center_selection!r} "
                "keeps n_centers of the candidates."
            )

    def _gram(self, X, centers, backend):
        return to_cpu(KERNEL_GRAM(backend, to_device(X, backend),
                                  to_device(centers, backend), self.kernel, self.gamma))

    def fit(self, X, y, sample_weight=None, *, base_weight=None, residual=None):
        """Solve for the balancing weights of the rows with ``y == classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The population: observed and unobserved rows (or a uniform sample
            of the population together with the observed rows).
        y : array-like of shape (n_samples,)
            Observation indicator with two classes; the larger one
            (``classes_[1]``) marks the observed rows to reweight.
        sample_weight : array-like of shape (n_samples,), default=None
            Row multiplicities (weights behave like repeated rows).
        base_weight : array-like of shape (n_samples,), default=None
            Prior weights ``q > 0`` of the observed rows (for example inverse
            propensities of a simple model); the entropy is taken relative to
            them. Values on unobserved rows are ignored. ``None``: ``q = 1``.
        residual : array-like of shape (n_samples,), default=None
            The loss (or loss difference) to balance, on the observed rows:
            required by ``center_selection="adaptive"``, ignored otherwise.

        Returns
        -------
        self : KernelBalancingWeights
            The fitted estimator.
        """
        with self._fit_context(X, y, sample_weight=sample_weight) as ctx:
            X = to_cpu(ctx.X)
            check_classification_targets(ctx.y)
            y_type = type_of_target(ctx.y, input_name="y", raise_unknown=True)
            if y_type != "binary" and np.unique(ctx.y).size > 2:
                raise ValueError("Only binary classification is supported. The type "
                                 f"of the target is {y_type}: y must be the "
                                 "observation indicator.")
            self.classes_, y_index = np.unique(ctx.y, return_inverse=True)
            if self.classes_.size != 2:
                raise ValueError(
                    "KernelBalancingWeights needs y with two classes, observed "
                    f"(classes_[1]) and unobserved rows; got {self.classes_.size} "
                    f"class(es): {self.classes_.tolist()}."
                )
            n = X.shape[0]
            s = np.ones(n) if ctx.sample_weight is None else ctx.sample_weight
            observed = (y_index == 1) & (s > 0)
            if not observed.any() or not (s[y_index == 0] > 0).any():
                raise ValueError("sample_weight is zero on every row of one class.")
            q = self._prior(base_weight, n, observed)
            t = self._residual(residual, n, observed)
            centers = self._select_centers(X, s, observed, q, t, ctx.random_state,
                                           ctx.backend)
            Phi = self._gram(X, centers, ctx.backend)
            target_mean = s @ Phi / s.sum()
            so = s[observed]
            log_base = np.log(so * q[observed] / so.sum())
            bound = np.inf if self.penalty is None else float(self.penalty)
            lam, result = solve_balancing_dual(Phi[observed], target_mean, log_base,
                                               float(self.slack), bound, ctx.backend)
            log_z = _log_mean_exp(np.log(q[observed]) + Phi[observed] @ lam, so)
            rows = y_index == 1  # zero-weight observed rows get weights too
            weights = np.exp(np.log(q[rows]) + Phi[rows] @ lam - log_z)
            imbalance = (s[rows] * weights) @ Phi[rows] / so.sum() - target_mean
            excess = np.max(np.abs(imbalance)) - self.slack
            if self.penalty is None and excess > _FEASIBILITY_TOL:
                raise ValueError(
                    "The balancing constraints are infeasible (or the solver "
                    f"stopped early: {result.message}): the largest imbalance "
                    f"{np.max(np.abs(imbalance)):.3g} exceeds slack={self.slack}. "
                    "The observed rows do not cover the population; raise slack, "
                    "widen the kernel (smaller gamma) or set a finite penalty."
                )
            violation = _kkt_violation(lam, imbalance, float(self.slack), bound)
            if violation > _FEASIBILITY_TOL:
                warnings.warn(
                    f"L-BFGS-B stopped {violation:.2g} from the optimality "
                    f"conditions after {result.nit} iterations: {result.message}",
                    ConvergenceWarning, stacklevel=2)
            self.centers_ = centers
            self.dual_coef_ = lam
            self.weights_ = weights
            self.imbalance_ = imbalance
            self.observed_fraction_ = float(so.sum() / s.sum())
            self._log_normalizer = float(log_z)
            self.n_iter_ = int(result.nit)
        return self

    @staticmethod
    def _prior(base_weight, n, observed):
        if base_weight is None:
            return np.ones(n)
        q = np.asarray(to_cpu(base_weight), dtype=np.float64).reshape(-1)
        if q.shape[0] != n:
            raise ValueError(f"base_weight has {q.shape[0]} entries; X has {n} rows.")
        if not (np.all(np.isfinite(q[observed])) and np.all(q[observed] > 0)):
            raise ValueError("base_weight must be finite and positive on the "
                             "observed rows.")
        return np.where(observed, q, 1.0)  # unobserved rows: never read

    def _residual(self, residual, n, observed):
        if self.center_selection != "adaptive":
            return None
        if residual is None:
            raise ValueError(
                "center_selection='adaptive' balances the kernel functions that "
                "explain a loss: pass it as fit(X, y, residual=...)."
            )
        t = np.asarray(to_cpu(residual), dtype=np.float64).reshape(-1)
        if t.shape[0] != n or not np.all(np.isfinite(t[observed])):
            raise ValueError(f"residual must hold {n} values, finite on the "
                             "observed rows.")
        return t

    def _select_centers(self, X, s, observed, q, t, rng, backend):
        if self.center_selection == "random":
            return pooled_candidates(X, s, rng, self.n_centers)
        candidates = pooled_candidates(X, s, rng, self.n_candidates)
        K = self._gram(X, candidates, backend)
        so = s[observed] * q[observed]
        if self.center_selection == "worst":
            target = s @ K / s.sum()
            prior_mean = so @ K[observed] / so.sum()
            score = np.abs(prior_mean - target) / target
        else:
            # Weighted kernel ridge regression of the residual on the
            # candidate kernel functions; the largest coefficients win.
            Ko = K[observed]
            gram = Ko.T @ (so[:, None] * Ko)
            ridge = self.adaptive_ridge * np.trace(gram) / gram.shape[0]
            alpha = np.linalg.solve(gram + ridge * np.eye(gram.shape[0]),
                                    Ko.T @ (so * t[observed]))
            score = np.abs(alpha)
        keep = np.argsort(-score, kind="stable")[:self.n_centers]
        return candidates[np.sort(keep)]

    def compute_weights(self, X, base_weight=None):
        """Balancing weights ``w(x) = q(x) exp(lam . k(x, c)) / Z`` of rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to weight (observed rows of the fit get ``weights_``).
        base_weight : array-like of shape (n_samples,), default=None
            Their prior weights ``q``; ``None``: 1.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Positive weights on the scale of ``weights_`` (mean one over the
            observed rows of the fit).
        """
        check_is_fitted(self)
        Xv = to_cpu(self._validate_predict_data(X))
        Phi = self._gram(Xv, self.centers_, self.backend_)
        logits = Phi @ self.dual_coef_ - self._log_normalizer
        if base_weight is not None:
            q = np.asarray(to_cpu(base_weight), dtype=np.float64).reshape(-1)
            if q.shape[0] != Xv.shape[0] or not np.all(q > 0):
                raise ValueError("base_weight must hold one positive value a row.")
            logits = logits + np.log(q)
        return like_input(np.exp(logits), X)

    def predict_proba(self, X):
        """Implied propensity ``p(observed | x) = (n_1 / n) / w(x)``, clipped to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns follow ``classes_``: not observed, observed.
        """
        w = to_cpu(self.compute_weights(X))
        p = np.minimum(1.0, self.observed_fraction_ / w)
        return like_input(np.column_stack([1.0 - p, p]), X)

    def predict(self, X):
        """Observed (``classes_[1]``) where the implied propensity exceeds 1/2.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        p = to_cpu(self.predict_proba(X))[:, 1]
        return like_input(self.classes_[(p > 0.5).astype(int)], X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        # A balancing model of who is observed, not a discriminative classifier:
        # with a few wide kernel functions it does not separate blobs.
        tags.classifier_tags.poor_score = True
        return tags


def _kkt_violation(lam, imbalance, slack, bound):
    """Distance of (lam, imbalance) from the dual's optimality conditions.

    The gradient of the smooth part is the imbalance; with the l1 term and
    the box ``|lam_j| <= bound``: ``imbalance_j = -slack sign(lam_j)`` inside
    the box, ``|imbalance_j| <= slack`` at zero, and pointing outwards at a
    bound.
    """
    at_upper = lam >= bound * (1 - 1e-12)
    at_lower = lam <= -bound * (1 - 1e-12)
    zero = lam == 0
    inside = ~(at_upper | at_lower | zero)
    violation = np.select(
        [at_upper, at_lower, zero, inside & (lam > 0)],
        [np.maximum(0, imbalance + slack), np.maximum(0, slack - imbalance),
         np.maximum(0, np.abs(imbalance) - slack), np.abs(imbalance + slack)],
        default=np.abs(imbalance - slack))
    return float(np.max(violation))


def _log_mean_exp(logits, weight):
    top = np.max(logits)
    return top + np.log(weight @ np.exp(logits - top) / weight.sum())
