"""Instances and waivers for the common scikit-learn checks.

Each estimator's test instance is built from its class with small, fast
parameters; waivers map a check name to a reason a reviewer would accept.
Subpackages register here by adding one entry to each dictionary.
"""

# Parameters that make the common checks fast; every key is an estimator name.
TEST_PARAMS = {
    "FastRP": {"n_components": 8, "random_state": 0},
}

_TRANSDUCTIVE = "transductive: embeds the graph it was fitted on, no transform"

WAIVERS = {
    "FastRP": {},
}


def make_instances(estimators):
    """Yield one configured instance of each estimator class."""
    for name, cls in estimators:
        yield cls(**TEST_PARAMS.get(name, {}))


def expected_failed_checks(estimator):
    """Map an estimator instance to its waived checks and reasons."""
    return WAIVERS.get(type(estimator).__name__, {})
