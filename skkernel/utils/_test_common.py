"""Instances and waivers for the common scikit-learn checks.

Each estimator's test instance is built from its class with small, fast
parameters; waivers map a check name to a reason a reviewer would accept.
Subpackages register here by adding one entry to each dictionary.
"""

# Parameters that make the common checks fast; every key is an estimator name.
TEST_PARAMS = {
    # Capped solver iterations: the round-trip check also fits solver="admm".
    "ILASDPClustering": {"max_iter": 3, "solver_max_iter": 200, "random_state": 0},
    "SDPKMeans": {"max_iter": 200, "random_state": 0},
    # The defaults (Legendre on the learned domain) run in the default-parameter
    # checks; the trigonometric basis on the learned domain runs here.
    "DPPWeightedLeastSquares": {"basis": "trigonometric", "random_state": 0},
    "FastRP": {"n_components": 8, "random_state": 0},
    "HeatGeodesicEmbedding": {"n_neighbors": 3, "t": 1.0, "random_state": 0},
    # break_ties: the kernel underfits make_blobs (poor_score), and SVC's
    # one-vs-one votes then disagree with argmax(decision_function) on ties.
    "QuantumKernelSVC": {"reps": 1, "break_ties": True, "random_state": 0},
    "LewisWeightRegression": {"random_state": 0},
    "SketchedLinearRegression": {"random_state": 0},
    "ExactKernelDensity": {},
    "PrivateDistanceSum": {"random_state": 0},
    "PrivateKernelClassifier": {"random_state": 0},
    "PrivateKernelDensity": {"random_state": 0},
    "RobustMatrixCompletion": {"max_iter": 20, "random_state": 0},
    "NeuralNetClassifier": {"max_epochs": 30, "random_state": 0},
    "NeuralNetRegressor": {"max_epochs": 30, "random_state": 0},
    "KernelBalancingWeights": {"n_centers": 4, "random_state": 0},
    "KernelBalancedRecommender": {"max_epochs": 2, "batch_size": 8,
                                  "n_sampled_ratio": 2, "random_state": 0},
}

_MINIBATCH = (
    "mini-batch training: repeating rows changes which rows share a batch and "
    "how many steps an epoch takes, so the fits differ (scikit-learn waives "
    "this for SGDClassifier and MLPClassifier); weights = repeated rows holds "
    "to 1e-6 full-batch in float64, tested in neural/tests"
)
_TRANSDUCTIVE = "transductive: embeds the graph it was fitted on, no transform"

WAIVERS = {
    "ILASDPClustering": {},
    "SDPKMeans": {},
    "DPPWeightedLeastSquares": {},
    "FastRP": {},
    "HeatGeodesicEmbedding": {},
    "QuantumKernelSVC": {
        "check_sample_weight_equivalence_on_dense_data": (
            "its 30 features are 30 qubits (16 GiB per statevector, refused "
            "by the memory budget); weights as repeated rows are tested on "
            "2 qubits in svm/tests (scikit-learn waives this check for SVC)"
        ),
    },
    "LewisWeightRegression": {
        "check_sample_weight_equivalence_on_dense_data": (
            "l_1 regression of 15 rows on 30 features has a continuum of exact "
            "interpolating optima; HiGHS returns different optimal vertices for "
            "the weighted and the repeated LP (weights = repeated rows is tested "
            "on overdetermined data in test_lewis.py)"
        ),
    },
    "SketchedLinearRegression": {},
    "ExactKernelDensity": {},
    "PrivateDistanceSum": {},
    "PrivateKernelClassifier": {},
    "PrivateKernelDensity": {},
    "RobustMatrixCompletion": {},
    "NeuralNetClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _MINIBATCH,
        "check_sample_weight_equivalence_on_sparse_data": _MINIBATCH,
    },
    "NeuralNetRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _MINIBATCH,
        "check_sample_weight_equivalence_on_sparse_data": _MINIBATCH,
    },
    "KernelBalancingWeights": {},
    "KernelBalancedRecommender": {},
}


def make_instances(estimators):
    """Yield one configured instance of each estimator class."""
    for name, cls in estimators:
        yield cls(**TEST_PARAMS.get(name, {}))


def expected_failed_checks(estimator):
    """Map an estimator instance to its waived checks and reasons."""
    return WAIVERS.get(type(estimator).__name__, {})
