"""Private estimators: accuracy against the exact answer, noise scales, errors."""

import math
import pickle

import numpy as np
import pytest

from skkernel.base import InvalidParameterError
from skkernel.density import (
    PrivateDistanceSum,
    PrivateKernelClassifier,
    PrivateKernelDensity,
    exact_mean_similarity,
)
from skkernel.density._distance_sum import build_tree
from skkernel.density._features import feature_sums
from skkernel.density._mechanisms import (
    FEATURE_BITS,
    discrete_gaussian,
    discrete_laplace,
    noise_scale,
    noise_std,
    private_median_distance,
    zcdp_rho,
)

# ------------------------------------------------------------------ mechanisms


def test_discrete_laplace_and_gaussian_have_their_scale():
    rng = np.random.RandomState(0)
    z = discrete_laplace(7.5, 200_000, rng)
    assert z.dtype.kind == "i"
    np.testing.assert_allclose(z.std(), noise_std("laplace", 7.5), rtol=0.02)
    np.testing.assert_allclose(np.abs(z).mean(), 7.5, rtol=0.03)
    g = discrete_gaussian(4.2, (400, 500), rng)
    assert g.shape == (400, 500)
    np.testing.assert_allclose(g.std(), 4.2, rtol=0.02)
    assert abs(g.mean()) < 0.05


def test_gaussian_calibration_through_zcdp():
    rho = zcdp_rho(1.0, 1e-6)
    assert math.isclose(rho + 2 * math.sqrt(rho * math.log(1e6)), 1.0)
    mechanism, sigma = noise_scale(1.0, 1e-6, 10.0, 3.0)
    assert mechanism == "gaussian" and math.isclose(sigma, 3.0 / math.sqrt(2 * rho))
    assert noise_scale(2.0, 0.0, 10.0, 3.0) == ("laplace", 5.0)


# ------------------------------------------------------------------ kernel density


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
@pytest.mark.parametrize("kernel", ["gaussian", "exponential", "cauchy"])
def test_kde_error_within_the_bound(kernel):
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(20000, 3)), rng.normal(size=(200, 3))
    kde = PrivateKernelDensity(kernel=kernel, epsilon=1.0, random_state=1).fit(X)
    exact = exact_mean_similarity(X, Y, kernel, 1.0)
    m, n = kde.n_random_features_, 20000
    # Per query: sampling sd sqrt(1 / (2 m)), noise sd 4 sqrt(m) / (eps n);
    # five of their combined sd bounds every query here.
    bound = 5 * math.sqrt(0.5 / m + 16 * m / n**2)
    assert np.max(np.abs(kde.query(Y) - exact)) < bound
    assert np.sqrt(np.mean((kde.query(Y) - exact) ** 2)) < bound / 3


def test_sketch_noise_matches_epsilon():
    X = np.random.RandomState(0).normal(size=(500, 2))
    for epsilon in (0.5, 4.0):
        kde = PrivateKernelDensity(epsilon=epsilon, n_random_features=2000,
                                   random_state=3, backend="numpy").fit(X)
        exact = feature_sums(X, np.zeros(500, dtype=np.int64), 1, kde.feature_map_,
                             "numpy")[0]
        noise = kde.sketch_[0] * 500 * 2.0**FEATURE_BITS - exact
        scale = 2 * 2000 * 2.0**FEATURE_BITS / epsilon
        np.testing.assert_allclose(noise.std(), math.sqrt(2) * scale, rtol=0.06)


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
def test_jl_method_tracks_the_exact_answer_in_high_dimension():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(4000, 1024)) / 16.0
    Y = X[:50] + rng.normal(scale=0.01, size=(50, 1024))
    exact = exact_mean_similarity(X, Y, "gaussian", 1.0)
    for method in ("jl_rff", "rff"):
        kde = PrivateKernelDensity(method=method, epsilon=1e6, n_components=128,
                                   n_random_features=4096, random_state=0).fit(X)
        assert kde.method_ == method
        assert np.max(np.abs(kde.query(Y) - exact)) < 0.05
    assert PrivateKernelDensity(random_state=0).fit(X).method_ == "jl_rff"


# The numba queries run in float32 (the answers carry noise and sampling
# error far above it); numpy and cupy in float64.
QUERY_ATOL = {"numba": 1e-5}


@pytest.mark.parametrize("n_queries", [30, 1000])  # one block; parallel blocks
def test_reproducible_with_random_state_and_backends_agree(backend, n_queries):
    X = np.random.RandomState(0).normal(size=(300, 4))
    Y = np.random.RandomState(1).normal(size=(n_queries, 4))
    first = PrivateKernelDensity(random_state=5, backend="numpy").fit(X).query(Y)
    again = PrivateKernelDensity(random_state=5, backend=backend).fit(X).query(Y)
    other = PrivateKernelDensity(random_state=6, backend=backend).fit(X).query(Y)
    np.testing.assert_allclose(again, first, rtol=1e-10,
                               atol=QUERY_ATOL.get(backend, 1e-12))
    assert not np.allclose(other, first)


@pytest.mark.parametrize("method", ["rff", "jl_rff"])
def test_float32_queries_match_the_float64_reference_at_d64(method):
    rng = np.random.RandomState(4)
    X, Y = rng.normal(size=(5000, 64)) / 8.0, rng.normal(size=(700, 64)) / 8.0
    kwargs = dict(method=method, n_components=32, n_random_features=4096,
                  random_state=0)
    reference = PrivateKernelDensity(backend="numpy", **kwargs).fit(X)
    ours = PrivateKernelDensity(backend="numba", **kwargs).fit(X)
    np.testing.assert_array_equal(ours.sketch_, reference.sketch_)  # same release
    diff = np.abs(ours.query(Y) - reference.query(Y))
    assert diff.max() < 2e-6, diff.max()


def test_score_samples_floor_and_normalisation():
    X = np.random.RandomState(0).normal(size=(2000, 2))
    kde = PrivateKernelDensity(epsilon=2.0, random_state=0).fit(X)
    Y = np.array([[0.0, 0.0], [50.0, 50.0]])
    similarity = kde.query(Y)
    logs = kde.score_samples(Y)
    norm = -np.log(2 * np.pi)
    if similarity[1] <= 0:
        assert logs[1] == pytest.approx(np.log(np.finfo(float).tiny) + norm)
    assert logs[0] == pytest.approx(np.log(similarity[0]) + norm)


def test_pickle_holds_no_training_point():
    rng = np.random.RandomState(12345)  # not a seed of the estimators
    X = rng.normal(size=(200, 3))
    y = np.arange(200) % 3
    fitted = [PrivateKernelDensity(random_state=0).fit(X),
              PrivateKernelDensity(method="jl_rff", n_components=2,
                                   random_state=0).fit(X),
              PrivateKernelClassifier(random_state=0).fit(X, y),
              PrivateDistanceSum(data_radius=5.0, random_state=0).fit(X),
              PrivateDistanceSum(metric="l2", data_radius=5.0, random_state=0).fit(X)]
    for estimator in fitted:
        payload = pickle.dumps(estimator)
        for value in X.ravel():
            assert value.tobytes() not in payload, type(estimator).__name__
            assert np.float32(value).tobytes() not in payload


# ------------------------------------------------------------------ classifier


def test_classifier_on_separated_classes():
    rng = np.random.RandomState(0)
    y = np.arange(3000) % 3
    X = rng.normal(scale=0.5, size=(3000, 2)) + 3.0 * np.eye(3)[y][:, :2]
    clf = PrivateKernelClassifier(epsilon=1.0, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X[:10])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)],
                                  clf.predict(X[:10]))


def test_private_median_distance_is_near_the_median():
    rng = np.random.RandomState(0)
    X = rng.normal(scale=3.0, size=(4000, 8))
    # Distances between independent pairs: 3 sqrt(2) times a chi(8) variable
    # (median 3.9138 / sqrt(2) * sqrt(2)); sampled here for the exact value.
    a, b = rng.normal(scale=3.0, size=(2, 200_000, 8))
    target = np.median(np.linalg.norm(a - b, axis=1))
    found = [private_median_distance(X, 1.0, None, np.random.RandomState(s))
             for s in range(20)]
    # 2000 pairs at epsilon 1: the rank is off by a few dozen at most, and
    # the sample median by about 2 %.
    np.testing.assert_allclose(np.median(found), target, rtol=0.03)
    assert np.all(np.abs(np.log(np.array(found) / target)) < 0.1)
    # A declared radius (no norm is above 20 here) moves the range only.
    assert np.linalg.norm(X, axis=1).max() < 20
    with_radius = private_median_distance(X, 1.0, 20.0, np.random.RandomState(0))
    np.testing.assert_allclose(with_radius, target, rtol=0.1)
    # Distances beyond the range give its end, not a uniform draw over it.
    assert private_median_distance(X * 1e6, 1.0, None,
                                   np.random.RandomState(0)) == 2.0**10


def test_classifier_auto_bandwidth_and_feature_count():
    rng = np.random.RandomState(1)
    y = np.arange(3000) % 3
    X = rng.normal(size=(3000, 4)) + 4.0 * np.eye(3, 4)[y]
    clf = PrivateKernelClassifier(epsilon=2.0, random_state=0).fit(X, y)
    order = np.random.RandomState(5).permutation(3000)
    pairs = np.linalg.norm(X[order[:1500]] - X[order[1500:]], axis=1)
    np.testing.assert_allclose(clf.bandwidth_, 2 / 3 * np.median(pairs), rtol=0.05)
    # The median costs max(0.1 eps, 64 / 1500) = 0.2 of eps = 2; the sketch
    # gets 1.8: m = 0.5 * 1.8 * 3000 / (3 sqrt(32)) = 159.
    assert clf.n_random_features_ == 159
    assert clf.score(X, y) > 0.9
    fixed = PrivateKernelClassifier(bandwidth=1.5, epsilon=2.0,
                                    random_state=0).fit(X, y)
    assert fixed.bandwidth_ == 1.5
    assert fixed.n_random_features_ == round(0.5 * 2.0 * 3000 / (3 * math.sqrt(32)))


def test_density_accepts_the_auto_bandwidth():
    rng = np.random.RandomState(6)
    X = rng.normal(size=(2000, 3))
    kde = PrivateKernelDensity(bandwidth="auto", epsilon=2.0, random_state=0,
                               backend="numpy").fit(X)
    fixed = PrivateKernelDensity(bandwidth=kde.bandwidth_, epsilon=2.0,
                                 random_state=0, backend="numpy").fit(X)
    # Pair distances of N(0, I_3) points: sqrt(2) chi_3, median about 2.19.
    assert 0.8 * 2 / 3 * 2.19 < kde.bandwidth_ < 1.2 * 2 / 3 * 2.19
    # score_samples normalises with the bandwidth used, not the parameter.
    Y = rng.normal(size=(5, 3))
    expected = (np.log(np.maximum(kde.query(Y), 1e-300))
                - 1.5 * np.log(2 * np.pi * kde.bandwidth_**2))
    np.testing.assert_allclose(kde.score_samples(Y), expected, rtol=1e-6)
    assert fixed.bandwidth_ == kde.bandwidth_


def test_classifier_auto_bandwidth_warns_at_the_end_of_its_range():
    rng = np.random.RandomState(2)
    X, y = rng.normal(scale=1e6, size=(400, 3)), np.arange(400) % 2
    with pytest.warns(UserWarning, match="bandwidth='auto' found a median distance"):
        clf = PrivateKernelClassifier(epsilon=4.0, random_state=0).fit(X, y)
    assert clf.bandwidth_ == 2 / 3 * 2.0**10


def test_classifier_predicts_the_largest_score_even_when_all_are_negative():
    rng = np.random.RandomState(3)
    X, y = rng.normal(size=(60, 2)), np.arange(60) % 3
    clf = PrivateKernelClassifier(epsilon=0.05, random_state=4).fit(X, y)
    Y = rng.normal(size=(500, 2))
    scores = clf._similarity(Y)
    negative = scores.max(axis=1) <= 0
    assert 20 < negative.sum() < 480  # both kinds of rows are exercised
    np.testing.assert_array_equal(clf.predict(Y), clf.classes_[scores.argmax(axis=1)])
    proba = clf.predict_proba(Y)
    np.testing.assert_array_equal(proba.argmax(axis=1), scores.argmax(axis=1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba >= 0)


def test_classifier_backends_agree(backend):
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(200, 3)), np.arange(200) % 4
    reference = PrivateKernelClassifier(random_state=0, backend="numpy").fit(X, y)
    other = PrivateKernelClassifier(random_state=0, backend=backend).fit(X, y)
    np.testing.assert_allclose(other.predict_proba(X), reference.predict_proba(X),
                               rtol=1e-10, atol=QUERY_ATOL.get(backend, 1e-12))
    np.testing.assert_array_equal(other.predict(X), reference.predict(X))


# ------------------------------------------------------------------ distance sums


def test_l1_distance_sum_within_the_bound(backend):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(50000, 3))
    Y = np.vstack([rng.uniform(-1, 1, size=(20, 3)), [[4.0, -3.0, 0.0]]])
    private = PrivateDistanceSum(epsilon=1.0, alpha=0.1, random_state=0,
                                 backend=backend).fit(X)
    exact = np.abs(X[None] - Y[:, None]).sum(axis=(1, 2))
    # Rounding to ring midpoints: alpha / 2 relative; ring edges rounded to
    # leaves: one leaf per point and coordinate; noise: five sd.
    leaf = 2.0 / 2**private.n_levels_
    bound = 0.05 * exact + 50000 * 3 * leaf + 5 * private.noise_std(Y)
    assert np.all(np.abs(private.query(Y) - exact) < bound)


@pytest.mark.slow  # 9-22 s on a loaded 2-core machine
def test_l2_distance_sum_through_projection():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20000, 5)) * 0.3
    Y = rng.normal(size=(10, 5)) * 0.3
    private = PrivateDistanceSum(metric="l2", data_radius=3.0, n_projections=256,
                                 epsilon=1.0, n_levels=12, random_state=0).fit(X)
    exact = np.linalg.norm(X[None] - Y[:, None], axis=2).sum(axis=1)
    # 0.75 / sqrt(k) relative per distance, three sd; plus noise.
    bound = 3 * 0.75 / math.sqrt(256) * exact + 5 * private.noise_std(Y)
    assert np.all(np.abs(private.query(Y) - exact) < bound)


def test_tree_noise_matches_epsilon_and_backends_agree():
    X = np.random.RandomState(0).uniform(-1, 1, size=(1000, 2))
    private = PrivateDistanceSum(epsilon=0.5, n_levels=8, random_state=0,
                                 backend="numpy").fit(X)
    exact = build_tree(X, np.ones(2), 8)
    noise = private.tree_[:, 1:] - exact[:, 1:]
    assert np.array_equal(private.tree_[:, 0], exact[:, 0])  # n is public
    np.testing.assert_allclose(noise.std(), noise_std("laplace", 2 * 8 * 2 / 0.5),
                               rtol=0.05)
    Y = np.random.RandomState(1).uniform(-2, 2, size=(50, 2))
    numba_fit = PrivateDistanceSum(epsilon=0.5, n_levels=8, random_state=0,
                                   backend="numba").fit(X)
    np.testing.assert_allclose(numba_fit.query(Y), private.query(Y), rtol=1e-12)


def test_gaussian_mechanism_for_the_tree():
    X = np.random.RandomState(0).uniform(-1, 1, size=(1000, 2))
    private = PrivateDistanceSum(epsilon=1.0, delta=1e-6, n_levels=8,
                                 random_state=0).fit(X)
    noise = private.tree_[:, 1:] - build_tree(X, np.ones(2), 8)[:, 1:]
    sigma = math.sqrt(2 * 8 * 2) / math.sqrt(2 * zcdp_rho(1.0, 1e-6))
    np.testing.assert_allclose(noise.std(), sigma, rtol=0.05)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("epsilon", [0.0, -1.0, np.inf, np.nan])
@pytest.mark.parametrize("cls", [PrivateKernelDensity, PrivateDistanceSum])
def test_epsilon_must_be_positive_and_finite(cls, epsilon):
    with pytest.raises(InvalidParameterError, match="'epsilon' parameter"):
        cls(epsilon=epsilon).fit(np.zeros((3, 2)))


def test_points_outside_the_radius():
    X = np.array([[0.5, 0.5], [3.0, 0.0]])
    with pytest.raises(ValueError, match="outside data_radius=1.0"):
        PrivateDistanceSum(clip=False).fit(X)
    with pytest.raises(ValueError, match="outside data_radius=2"):
        PrivateKernelDensity(data_radius=2, clip=False).fit(X)
    clipped = PrivateDistanceSum(n_levels=1, epsilon=1e9, random_state=0).fit(X)
    # The far point counts at the edge: both points in the right leaf of x_0.
    assert clipped.tree_[0, 2] == 2


def test_nan_and_wrong_query_dimension():
    with pytest.raises(ValueError, match="NaN"):
        PrivateKernelDensity().fit(np.array([[0.0, np.nan]]))
    kde = PrivateKernelDensity(random_state=0).fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="X has 3 features.*expecting 2"):
        kde.query(np.zeros((1, 3)))
    tree = PrivateDistanceSum(random_state=0).fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="X has 1 features.*expecting 2"):
        tree.query(np.zeros((1, 1)))


def test_jl_dimension_above_the_data_dimension():
    with pytest.raises(ValueError, match="n_components=8 must be <= n_features=2"):
        PrivateKernelDensity(method="jl_rff", n_components=8).fit(np.zeros((5, 2)))
