"""Privacy audits: empirical privacy loss on neighbouring data sets.

The neighbours differ by one point moved to the far edge of the radius.
Events are fixed before the releases are drawn; Clopper-Pearson bounds turn
the event frequencies into a lower confidence bound on epsilon, which must
not exceed the claimed epsilon. The tree audit is nearly tight (its event
achieves the full privacy loss), and an under-noised release is caught.
"""

import warnings

import numpy as np
import pytest

from skkernel.density import (
    PrivateDistanceSum,
    PrivateKernelClassifier,
    PrivateKernelDensity,
    privacy_audit,
)

# One tree of two leaves: the moved point leaves the left leaf for the right.
X = np.array([[-1.0], [0.5], [0.5], [-0.5]])
X_MOVED = np.array([[1.0], [0.5], [0.5], [-0.5]])


def _left_up_right_down(fitted):
    # True counts on X: left 2, right 2; on X_MOVED: left 1, right 3.
    return fitted.tree_[0, 1] >= 2 and fitted.tree_[0, 2] <= 2


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
def test_tree_release_loses_at_most_epsilon_and_the_audit_is_tight():
    result = privacy_audit(PrivateDistanceSum(epsilon=1.0, n_levels=1), X, X_MOVED,
                           _left_up_right_down, n_trials=3000, random_state=0)
    assert result["epsilon_lower"] <= 1.0
    # The event's true loss is exactly epsilon = 1 (both counts move by one,
    # each costs epsilon / 2): the plug-in estimate lands near it.
    assert 0.8 < result["epsilon_estimate"] < 1.2


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
def test_audit_catches_a_release_with_too_little_noise():
    # Noise calibrated for epsilon = 4, audited against a claim of 1.
    result = privacy_audit(PrivateDistanceSum(epsilon=4.0, n_levels=1), X, X_MOVED,
                           _left_up_right_down, n_trials=3000, random_state=1)
    assert result["epsilon_lower"] > 1.0


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
def test_gaussian_mechanism_respects_epsilon_delta():
    delta = 1e-3
    result = privacy_audit(PrivateDistanceSum(epsilon=1.0, delta=delta, n_levels=1),
                           X, X_MOVED, _left_up_right_down, n_trials=3000,
                           delta=delta, random_state=2)
    assert result["epsilon_lower"] <= 1.0


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
@pytest.mark.parametrize("method", ["rff", "jl_rff"])
def test_kde_sketch_release_loses_at_most_epsilon(method):
    X2 = np.array([[-1.0, 0.0], [0.2, 0.1], [0.3, -0.2]])
    X2_moved = np.array([[1.0, 0.0], [0.2, 0.1], [0.3, -0.2]])
    estimator = PrivateKernelDensity(epsilon=1.0, n_random_features=1, method=method,
                                     n_components=1, data_radius=1.0,
                                     backend="numpy")

    def event(fitted):  # the released mean feature moved up
        return fitted.sketch_[0, 0] > 0.0

    result = privacy_audit(estimator, X2, X2_moved, event, n_trials=1500,
                           random_state=3)
    assert result["epsilon_lower"] <= 1.0


@pytest.mark.slow  # about 10 s
def test_private_median_bandwidth_loses_at_most_its_share():
    # Four points, two pairs; moving one point far changes one distance.
    X4 = np.array([[0.0], [1.0], [0.2], [1.3]])
    X4_moved = np.array([[50.0], [1.0], [0.2], [1.3]])
    y4 = np.array([0, 1, 0, 1])
    # With n // 2 = 2 pairs the median takes the largest share, 0.5 epsilon.
    estimator = PrivateKernelClassifier(epsilon=2.0, n_random_features=1,
                                        backend="numpy")

    def event(fitted):  # a bandwidth above the distances of X4
        return fitted.bandwidth_ > 2.0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # medians near 2**10
        result = privacy_audit(estimator, X4, X4_moved, event, y=y4, y_neighbour=y4,
                               n_trials=2000, random_state=4)
    assert result["epsilon_lower"] <= 1.0
    # The moved point makes large bandwidths far more likely: the event is
    # informative, so the bound is not vacuous.
    assert result["epsilon_estimate"] > 0.1
