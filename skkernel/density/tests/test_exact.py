"""ExactKernelDensity and the exact kernel sums: against scikit-learn and scipy."""

import numba
import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.neighbors import KernelDensity

from skkernel.density import ExactKernelDensity, exact_mean_similarity
from skkernel.density import _kernels_numba as kn
from skkernel.density._exact import SKLEARN_KERNELS


@pytest.mark.parametrize("kernel", SKLEARN_KERNELS)
def test_matches_scikit_learn_with_weights(kernel, backend):
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(500, 3)), rng.normal(size=(40, 3))
    weight = rng.uniform(0.5, 2.0, size=500)
    expected = KernelDensity(kernel=kernel, bandwidth=0.8).fit(
        X, sample_weight=weight).score_samples(Y)
    got = ExactKernelDensity(kernel=kernel, bandwidth=0.8, backend=backend).fit(
        X, sample_weight=weight).score_samples(Y)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("rule", ["scott", "silverman"])
def test_bandwidth_rules_match_scikit_learn(rule):
    X = np.random.RandomState(1).normal(size=(300, 4))
    ours = ExactKernelDensity(bandwidth=rule).fit(X)
    np.testing.assert_allclose(ours.bandwidth_,
                               KernelDensity(bandwidth=rule).fit(X).bandwidth_)


def test_far_queries_in_high_dimension_stay_finite(backend):
    # Every kernel value underflows double precision; the log-sum-exp still
    # gives the exact log-density. scikit-learn's tree (atol = rtol = 0)
    # answers some of these queries with positive log-densities.
    rng = np.random.RandomState(2)
    X, Y = rng.normal(size=(300, 64)), rng.normal(size=(20, 64))
    h = 0.15
    r2 = ((Y[:, None, :] - X[None]) ** 2).sum(-1)
    expected = (logsumexp(-0.5 * r2 / h**2, axis=1) - np.log(300)
                - 32 * np.log(2 * np.pi) - 64 * np.log(h))
    got = ExactKernelDensity(bandwidth=h, backend=backend).fit(X).score_samples(Y)
    assert np.all(expected < -1000)
    theirs = KernelDensity(bandwidth=h).fit(X).score_samples(Y)
    assert np.sum(np.abs(theirs - expected) > 100) >= 5
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_sample_gaussian_and_tophat():
    X = np.zeros((5, 2))
    draws = ExactKernelDensity(bandwidth=0.5).fit(X).sample(4000, random_state=0)
    np.testing.assert_allclose(draws.std(axis=0), 0.5, rtol=0.05)
    ball = ExactKernelDensity(kernel="tophat", bandwidth=0.5).fit(X).sample(
        100, random_state=0)
    assert np.all(np.linalg.norm(ball, axis=1) <= 0.5)
    with pytest.raises(NotImplementedError, match="'gaussian' and 'tophat'"):
        ExactKernelDensity(kernel="linear").fit(X).sample()


def test_wrong_query_dimension_is_refused():
    kde = ExactKernelDensity().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features.*expecting 2"):
        kde.score_samples(np.zeros((1, 3)))


def test_cauchy_mean_similarity():
    X = np.array([[0.0, 0.0], [2.0, 0.0]])
    got = exact_mean_similarity(X, np.array([[1.0, 0.0], [0.0, 0.0]]), "cauchy", 1.0)
    np.testing.assert_allclose(got, [0.5, (1.0 + 0.2) / 2])


def test_vectorisable_exp_and_cos_match_numpy():
    @numba.njit
    def exp_all(v):
        out = np.empty_like(v)
        for i in range(v.size):
            out[i] = kn._exp_fast(v[i])
        return out

    @numba.njit
    def cos_all(z):
        out = np.empty_like(z)
        for i in range(z.size):
            out[i] = kn._cos32(z[i])
        return out

    v = -np.linspace(0.0, 700.0, 20001)
    np.testing.assert_allclose(exp_all(v), np.exp(v), rtol=1e-13)
    small = -np.linspace(0.0, 1.0, 20001)
    np.testing.assert_allclose(exp_all(small), np.exp(small), rtol=1e-15)
    z = np.linspace(-1000.0, 1000.0, 200001).astype(np.float32)
    np.testing.assert_allclose(cos_all(z), np.cos(z.astype(np.float64)), rtol=0,
                               atol=1.5e-7)


@pytest.mark.parametrize("kernel", ["gaussian", "exponential", "epanechnikov"])
def test_numba_sums_match_log_sum_exp_across_blocks(kernel):
    # d = 10 runs the four-coordinate passes and the remainder, 37 queries an
    # odd last pair, 1000 points several blocks of 256; zero weights drop out.
    rng = np.random.RandomState(3)
    X, Y = rng.normal(size=(1000, 10)) + 5.0, rng.normal(size=(37, 10)) + 5.0
    weight = rng.uniform(0.5, 2.0, size=1000)
    weight[::7] = 0.0
    h = 1.3
    r = np.sqrt(((Y[:, None, :] - X[None]) ** 2).sum(-1)) / h
    log_k = {"gaussian": -0.5 * r**2, "exponential": -r,
             "epanechnikov": np.log(np.maximum(1.0 - r**2, 1e-300))}[kernel]
    if kernel == "epanechnikov":
        log_k = np.where(r < 1.0, log_k, -np.inf)
    with np.errstate(divide="ignore"):
        log_w = np.log(weight) - np.log(weight.sum())
        expected = logsumexp(log_k + log_w, axis=1)
    got = {b: ExactKernelDensity(kernel=kernel, bandwidth=h, backend=b).fit(
        X, sample_weight=weight).score_samples(Y) for b in ("numpy", "numba")}
    with np.errstate(invalid="ignore"):
        norm = got["numpy"] - expected
    assert np.ptp(norm[np.isfinite(expected)]) < 1e-9  # one normalising constant
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(got["numba"]), finite)
    np.testing.assert_allclose(got["numba"][finite] - norm[finite][0], expected[finite],
                               rtol=0, atol=1e-12)
