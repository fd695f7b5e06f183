"""Support vector classification with the simulated ZZ quantum kernel."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..backend import is_cupy_array, resolve_backend, to_cpu, to_device
from ..kernels import ZZFeatureMapKernel
from ..utils import check_sample_weight
from ..utils._validation import check_options, fit_transaction

# Parameters handed to the kernel as they are (backend, random_state and
# n_jobs are resolved in fit).
_KERNEL_PARAMS = ("reps", "entanglement", "alpha", "data_map", "shots", "noise",
                  "enforce_psd")
_SVC_PARAMS = ("C", "shrinking", "tol", "cache_size", "class_weight", "max_iter",
               "decision_function_shape", "break_ties")


def _has_probability(estimator):
    if not estimator.probability:
        raise AttributeError(
            "predict_proba is available only when probability=True "
            f"(got probability={estimator.probability!r})."
        )
    return True


def _like_input(result, X):
    """Results follow the input's array type (cupy in, cupy out)."""
    return to_device(result, "cupy") if is_cupy_array(X) else result


def _check_fit_weights(sample_weight, n_samples):
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 1 and weights.size == n_samples and not np.any(weights):
        raise ValueError(
            "sample_weight is zero for every sample; at least one weight "
            "must be positive."
        )
    return check_sample_weight(weights, n_samples)


class QuantumKernelSVC(ClassifierMixin, BaseEstimator):
    """Support vector classifier on the simulated ZZ-feature-map quantum kernel.

    The quantum kernel estimator of Havlicek et al. (2019): the Gram matrix
    ``K(x, z) = |<Phi(x)|Phi(z)>|^2`` of the ZZ feature map is computed
    (exactly, or with the shot noise of a device that estimates each entry
    from ``shots`` measurements) and handed to scikit-learn's
    :class:`~sklearn.svm.SVC` as a precomputed kernel. Every parameter of
    the kernel and of ``SVC`` is a parameter of this estimator, so
    ``GridSearchCV`` can tune ``reps``, ``entanglement`` and ``C`` together.

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
        The kernel used in fit and predict (with the resolved backend and
        the shot-noise seed drawn from ``random_state``).
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
        Indices of the support vectors in the training data.
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
    the outputs of a cupy input are cupy arrays.

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

    @fit_transaction
    def fit(self, X, y, sample_weight=None):
        """Compute the training Gram matrix and fit the SVM on it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, one qubit per feature.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample multipliers of ``C``, as in ``SVC``.

        Returns
        -------
        self : QuantumKernelSVC
            The fitted classifier.
        """
        backend = resolve_backend(self.backend, X)
        # Cheap checks first: the kernel is the expensive part of the fit
        # (it validates its own parameters before computing anything).
        check_scalar(self.C, "C", numbers.Real, min_val=0.0,
                     include_boundaries="neither")
        check_scalar(self.tol, "tol", numbers.Real, min_val=0.0,
                     include_boundaries="neither")
        check_options(self.probability, "probability", (True, False))
        check_options(self.decision_function_shape, "decision_function_shape",
                      ("ovr", "ovo"))
        X, y = validate_data(self, to_cpu(X), to_cpu(y), dtype=np.float64,
                             reset=True)
        check_classification_targets(y)
        if np.unique(y).size < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got 1 class "
                "in y."
            )
        if sample_weight is not None:
            sample_weight = _check_fit_weights(sample_weight, X.shape[0])
        rng = check_random_state(self.random_state)
        kernel_seed, svc_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        kernel = ZZFeatureMapKernel(
            **{name: getattr(self, name) for name in _KERNEL_PARAMS},
            random_state=kernel_seed, backend=backend, n_jobs=self.n_jobs,
            verbose=self.verbose,
        )
        gram = kernel(X)
        svc = SVC(kernel="precomputed",
                  **{name: getattr(self, name) for name in _SVC_PARAMS})
        calibrator = None
        if self.probability:
            # SVC's own probability=True is deprecated from scikit-learn 1.9;
            # its replacement is Platt scaling through CalibratedClassifierCV.
            folds = StratifiedKFold(5, shuffle=True, random_state=svc_seed)
            calibrator = CalibratedClassifierCV(clone(svc), method="sigmoid",
                                                cv=folds, ensemble=False)
            calibrator.fit(gram, y, sample_weight=sample_weight)
        svc.fit(gram, y, sample_weight=sample_weight)
        self.calibrator_ = calibrator
        self.kernel_ = kernel
        self.svc_ = svc
        self.backend_ = backend
        self.classes_ = svc.classes_
        self.support_ = svc.support_
        self.support_vectors_ = X[svc.support_]
        self.n_support_ = svc.n_support_
        self.dual_coef_ = svc.dual_coef_
        self.intercept_ = svc.intercept_
        self.n_iter_ = svc.n_iter_
        return self

    def _test_gram(self, X):
        """Kernel of ``X`` against the training set, computed on the support only."""
        check_is_fitted(self)
        X = validate_data(self, to_cpu(X), dtype=np.float64, reset=False)
        gram = np.zeros((X.shape[0], self.svc_.shape_fit_[0]))
        if len(self.support_):
            gram[:, self.support_] = self.kernel_(X, self.support_vectors_)
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
            As ``SVC.decision_function``.
        """
        gram = self._test_gram(X)
        return _like_input(self.svc_.decision_function(gram), X)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input points.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        gram = self._test_gram(X)
        return _like_input(self.svc_.predict(gram), X)

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
        return _like_input(self.calibrator_.predict_proba(gram), X)

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
        proba = to_cpu(self.predict_proba(X))
        with np.errstate(divide="ignore"):
            return _like_input(np.log(proba), X)
