"""Support vector classification with the simulated ZZ quantum kernel."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..backend import cupy_available, like_input, resolve_backend
from ..base import Interval, Options, SkkernelEstimator
from ..kernels import ZZFeatureMapKernel
from ..kernels._zz_feature_map import KERNEL_CONSTRAINTS, _check_pairs

# Parameters handed to the kernel as they are (random_state is drawn in fit,
# the backend resolved at each call).
_KERNEL_PARAMS = ("reps", "entanglement", "alpha", "data_map", "shots", "noise",
                  "enforce_psd", "n_jobs", "verbose")
_SVC_PARAMS = ("C", "shrinking", "tol", "cache_size", "class_weight", "max_iter",
               "decision_function_shape", "break_ties")


def _has_probability(estimator):
    if not estimator.probability:
        raise AttributeError(
            "predict_proba is available only when probability=True "
            f"(got probability={estimator.probability!r})."
        )
    return True


class QuantumKernelSVC(ClassifierMixin, SkkernelEstimator):
    """Support vector classifier on the simulated ZZ-feature-map quantum kernel.

    The quantum kernel estimator of Havlicek et al. (2019): the Gram matrix
    ``K(x, z) = |<Phi(x)|Phi(z)>|^2`` of the ZZ feature map is computed
    (exactly, or with the shot noise of a device that estimates each entry
    from ``shots`` measurements) and handed to scikit-learn's
    :class:`~sklearn.svm.SVC` as a precomputed kernel. Every parameter of
    the kernel and of ``SVC`` is a parameter of this estimator, so
    ``GridSearchCV`` can tune ``reps``, ``entanglement`` and ``C`` together.

    Read more in the :ref:`User Guide <quantum_kernel_svc>`.

    Parameters
    ----------
    C : float, default=1.0
        Regularisation parameter of the SVM (strictly positive).
    reps : int, default=2
        Layers of the feature map (the paper's map has 2).
    entanglement : str or sequence of (int, int), default="full"
        ZZ pairs, as in :class:`~skkernel.kernels.ZZFeatureMapKernel`.
    alpha : float, default=2.0
        Rotation factor (Qiskit's convention).
    data_map : callable or None, default=None
        Data map ``phi_S``; ``None`` is the paper's.
    shots : int or None, default=None
        Measurements per kernel entry; ``None`` is exact.
    noise : float, default=0.0
        Global depolarising strength ``p`` in ``[0, 1]``.
    enforce_psd : bool, default=True
        Project the sampled training Gram matrix onto the PSD cone.
    shrinking : bool, default=True
        As in ``SVC``.
    probability : bool, default=False
        Enable ``predict_proba``: Platt scaling fitted on 5-fold
        cross-validated decision values (``CalibratedClassifierCV`` with
        ``ensemble=False``, scikit-learn's replacement for
        ``SVC(probability=True)``); the fit costs five more SVM fits on the
        same Gram matrix.
    tol : float, default=1e-3
        Stopping tolerance of the solver.
    cache_size : float, default=200
        Kernel cache of libsvm in MB.
    class_weight : dict, "balanced" or None, default=None
        As in ``SVC``.
    max_iter : int, default=-1
        Solver iteration limit (``-1``: none).
    decision_function_shape : {"ovo", "ovr"}, default="ovr"
        As in ``SVC``.
    break_ties : bool, default=False
        As in ``SVC``.
    random_state : int, RandomState instance or None, default=None
        Seeds the shot noise and the probability calibration. An int makes
        fit and predictions reproducible.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Backend of the kernel computation.
    n_jobs : int, default=None
        Threads for the kernel computation (see ``ZZFeatureMapKernel``).
    verbose : int, default=0
        Progress bar over the kernel computation when positive.

    Attributes
    ----------
    kernel_ : ZZFeatureMapKernel
        The kernel used in fit and predict, with the shot-noise seed drawn
        from ``random_state``. Its backend is ``"auto"``: each call resolves
        the backend from ``backend`` and the input, so a model fitted on a GPU
        predicts on a machine without one.
    svc_ : sklearn.svm.SVC
        The fitted SVC on the precomputed Gram matrix.
    calibrator_ : sklearn.calibration.CalibratedClassifierCV or None
        The Platt scaling behind ``predict_proba`` (``None`` unless
        ``probability=True``).
    backend_ : str
        The backend that ran the fit.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    support_ : ndarray of shape (n_SV,)
        Indices of the support vectors in the training data (rows of the
        ``X`` given to :meth:`fit`, zero-weight rows included).
    support_vectors_ : ndarray of shape (n_SV, n_features)
        The support vectors (predictions evaluate the kernel on them only).
    n_support_ : ndarray of shape (n_classes,)
        Support vectors per class.
    dual_coef_ : ndarray of shape (n_classes - 1, n_SV)
        Dual coefficients, as in ``SVC``.
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Constants of the decision functions.
    n_iter_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Solver iterations of each one-vs-one problem.
    n_features_in_ : int
        Number of features (qubits).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, set only for DataFrame input.

    See Also
    --------
    skkernel.kernels.ZZFeatureMapKernel : The kernel, usable in ``SVC`` too.
    skkernel.datasets.make_ad_hoc : The paper's ad hoc data.
    sklearn.svm.SVC : The classical solver used underneath.

    Notes
    -----
    ``probability=True`` follows scikit-learn's replacement for the
    deprecated ``SVC(probability=True)``: sigmoid calibration of
    cross-validated decision values, one-vs-rest for several classes
    (libsvm couples pairwise probabilities instead), so probabilities
    differ slightly from older ``SVC`` releases; ``predict`` does not depend
    on them.

    The SVM itself runs in libsvm on the CPU; with ``backend="cupy"`` the
    kernel is computed on the GPU, fitted attributes are numpy arrays and
    the numeric outputs of a cupy input are cupy arrays (string labels stay
    numpy). A model fitted with ``backend="cupy"`` and loaded on a machine
    without a GPU predicts on the host.

    A sample weight of zero removes the row before the kernel is computed
    (it costs no kernel entries); ``support_`` indexes the rows of the
    training data as given.

    Predictions compute the kernel between the new points and the support
    vectors only (the other columns are never used by the SVM), so
    prediction costs ``O(n_test * n_SV * 2^n)``.

    With ``shots``, the training Gram matrix is sampled once (symmetric,
    unit diagonal, projected to PSD when ``enforce_psd``), and each
    prediction samples its test-versus-support entries independently, as
    a device would. The paper estimated each entry from about 50,000 shots
    and used readout and zero-noise error mitigation, which this
    simulation does not model; ``noise`` gives a global depolarising
    channel instead.

    References
    ----------
    .. [1] V. Havlicek, A. D. Corcoles, K. Temme, A. W. Harrow, A. Kandala,
       J. M. Chow and J. M. Gambetta, "Supervised learning with
       quantum-enhanced feature spaces", Nature 567, 209-212 (2019).
       https://arxiv.org/abs/1804.11326

    Examples
    --------
    >>> from skkernel.datasets import make_ad_hoc
    >>> from skkernel.svm import QuantumKernelSVC
    >>> X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, random_state=0)
    >>> clf = QuantumKernelSVC(random_state=0).fit(X_train, y_train)
    >>> float(clf.score(X_test, y_test))
    1.0
    """

    _parameter_constraints = {
        **KERNEL_CONSTRAINTS,  # reps ... enforce_psd, random_state, backend, ...
        "C": [Interval(Real, 0, None, closed="neither")],
        "shrinking": ["boolean"],
        "probability": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "cache_size": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, Options("balanced"), None],
        "max_iter": [Interval(Integral, -1, None)],
        "decision_function_shape": [Options("ovo", "ovr")],
        "break_ties": ["boolean"],
    }
    _finite_fitted_attributes = ("dual_coef_", "intercept_")

    def __init__(
        self,
        C=1.0,
        *,
        reps=2,
        entanglement="full",
        alpha=2.0,
        data_map=None,
        shots=None,
        noise=0.0,
        enforce_psd=True,
        shrinking=True,
        probability=False,
        tol=1e-3,
        cache_size=200,
        class_weight=None,
        max_iter=-1,
        decision_function_shape="ovr",
        break_ties=False,
        random_state=None,
        backend="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.C = C
        self.reps = reps
        self.entanglement = entanglement
        self.alpha = alpha
        self.data_map = data_map
        self.shots = shots
        self.noise = noise
        self.enforce_psd = enforce_psd
        self.shrinking = shrinking
        self.probability = probability
        self.tol = tol
        self.cache_size = cache_size
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        # The feature space of n features is the 4^n-dimensional space of
        # n-qubit density matrices, periodic in every feature: on generic
        # 2-feature data such as make_blobs the kernel has rank <= 16 and
        # underfits; it is built for data like make_ad_hoc.
        tags.classifier_tags.poor_score = True
        return tags

    def _check_params(self):
        if not isinstance(self.entanglement, str):
            _check_pairs(self.entanglement)

    def fit(self, X, y, sample_weight=None):
        """Compute the training Gram matrix and fit the SVM on it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, one qubit per feature.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample multipliers of ``C``, as in ``SVC``. Rows of weight
            zero are left out before the kernel is computed, as if they were
            absent; ``support_`` still indexes the rows of ``X``.

        Returns
        -------
        self : QuantumKernelSVC
            The fitted classifier.
        """
        with self._fit_context(X, y, sample_weight=sample_weight) as ctx:
            check_classification_targets(ctx.y)
            # libsvm drops zero-weight rows itself and renumbers the rest, so
            # its support_ would index the shortened data: drop them here.
            rows = np.flatnonzero(ctx.sample_weight > 0)
            X_fit, y_fit = ctx.X[rows], ctx.y[rows]
            weights = None if sample_weight is None else ctx.sample_weight[rows]
            if np.unique(y_fit).size < 2:
                raise ValueError(
                    "The number of classes has to be greater than one; got 1 "
                    "class in y (among the samples with positive weight)."
                )
            kernel_seed, svc_seed = (int(s) for s in
                                     ctx.random_state.randint(0, 2**31 - 1, size=2))
            # Stored with backend="auto": a model fitted on a GPU predicts on
            # a machine without one (the backend is resolved at each call).
            self.kernel_ = ZZFeatureMapKernel(
                **{name: getattr(self, name) for name in _KERNEL_PARAMS},
                random_state=kernel_seed, backend="auto",
            )
            gram = self._kernel(ctx.backend)(X_fit)
            svc = SVC(kernel="precomputed",
                      **{name: getattr(self, name) for name in _SVC_PARAMS})
            calibrator = None
            if self.probability:
                # SVC's own probability=True is deprecated from scikit-learn
                # 1.9; its replacement is Platt scaling by CalibratedClassifierCV.
                folds = StratifiedKFold(5, shuffle=True, random_state=svc_seed)
                calibrator = CalibratedClassifierCV(clone(svc), method="sigmoid",
                                                    cv=folds, ensemble=False)
                calibrator.fit(gram, y_fit, sample_weight=weights)
            svc.fit(gram, y_fit, sample_weight=weights)
            self.calibrator_ = calibrator
            self.svc_ = svc
            self.classes_ = svc.classes_
            self.support_ = rows[svc.support_]
            self.support_vectors_ = X_fit[svc.support_]
            self.n_support_ = svc.n_support_
            self.dual_coef_ = svc.dual_coef_
            self.intercept_ = svc.intercept_
            self.n_iter_ = svc.n_iter_
        return self

    def _kernel(self, backend):
        """The fitted kernel, computed with ``backend``."""
        return ZZFeatureMapKernel(**{**self.kernel_.get_params(), "backend": backend})

    def _predict_backend(self, X):
        if self.backend == "cupy" and not cupy_available():
            # Fitted on a GPU, loaded where there is none: predict on the host.
            return resolve_backend("auto", X)
        return self._resolve_backend(X)

    def _test_gram(self, X):
        """Kernel of ``X`` against the training set, computed on the support only."""
        check_is_fitted(self)
        backend = self._predict_backend(X)
        X = self._validate_predict_data(X)
        gram = np.zeros((X.shape[0], self.svc_.shape_fit_[0]))
        if len(self.support_):
            kernel = self._kernel(backend)
            gram[:, self.svc_.support_] = kernel(X, self.support_vectors_)
        return gram

    def decision_function(self, X):
        """Evaluate the decision function for the samples in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input points.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As ``SVC.decision_function``; a cupy array for cupy input.
        """
        gram = self._test_gram(X)
        return like_input(self.svc_.decision_function(gram), X)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input points.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels (numeric labels follow the input's array type;
            string labels stay numpy).
        """
        gram = self._test_gram(X)
        return like_input(self.svc_.predict(gram), X)

    @available_if(_has_probability)
    def predict_proba(self, X):
        """Class probabilities from Platt scaling (``probability=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input points.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        gram = self._test_gram(X)
        return like_input(self.calibrator_.predict_proba(gram), X)

    @available_if(_has_probability)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input points.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        gram = self._test_gram(X)
        proba = self.calibrator_.predict_proba(gram)
        with np.errstate(divide="ignore"):
            return like_input(np.log(proba), X)
