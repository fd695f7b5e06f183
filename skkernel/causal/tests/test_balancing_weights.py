import numpy as np
import pytest

from skkernel.backend import to_cpu, to_device
from skkernel.causal import KernelBalancingWeights
from skkernel.causal._kernels import (
    KERNEL_GRAM,
    TILTED_STATISTICS,
    tilted_statistics_reference,
)


def _selection_data(n=600, seed=0):
    # Observation more likely for large x0: the observed rows are a biased
    # sample of the population, as ratings are missing not at random.
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-1.5 * X[:, 0]))).astype(int)
    return X, y


def _direct_gram(X, C, kernel, gamma):
    d = np.linalg.norm(X[:, None, :] - C[None, :, :], axis=2)
    return np.exp(-gamma * (d ** 2 if kernel == "rbf" else d))


@pytest.mark.parametrize("kernel", ["rbf", "exponential"])
def test_kernel_gram_matches_definition(backend, kernel):
    rng = np.random.RandomState(0)
    X, C = rng.normal(size=(50, 4)), rng.normal(size=(7, 4))
    C[0] = X[3]  # a zero distance
    got = to_cpu(KERNEL_GRAM(backend, to_device(X, backend), to_device(C, backend),
                             kernel, 0.3))
    np.testing.assert_allclose(got, _direct_gram(X, C, kernel, 0.3), rtol=1e-7,
                               atol=1e-12)
    assert got[3, 0] == pytest.approx(1.0)


def test_tilted_statistics_numba_matches_reference():
    rng = np.random.RandomState(1)
    A, b, lam = rng.normal(size=(200, 5)), rng.normal(size=200), rng.normal(size=5)
    value, grad = tilted_statistics_reference(A, b, lam)
    value_nb, grad_nb = TILTED_STATISTICS("numba", A, b, lam)
    assert value_nb == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(grad_nb, grad, rtol=1e-10, atol=1e-14)
    # the value is log sum exp and the gradient its derivative
    assert value == pytest.approx(np.log(np.exp(b + A @ lam).sum()))
    eps = 1e-6
    numeric = [(tilted_statistics_reference(A, b, lam + eps * e)[0]
                - tilted_statistics_reference(A, b, lam - eps * e)[0]) / (2 * eps)
               for e in np.eye(5)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kernel", ["rbf", "exponential"])
@pytest.mark.parametrize("selection", ["random", "worst", "adaptive"])
@pytest.mark.parametrize("slack", [0.0, 1e-3, 2e-2])
def test_constraints_met_to_the_slack(backend, kernel, selection, slack):
    X, y = _selection_data()
    kb = KernelBalancingWeights(kernel=kernel, gamma=0.2, n_centers=6, slack=slack,
                                center_selection=selection, penalty=None,
                                random_state=0, backend=backend)
    kb.fit(X, y, residual=X[:, 0] ** 2)
    Phi = _direct_gram(X, kb.centers_, kernel, 0.2)
    observed = y == 1
    imbalance = kb.weights_ @ Phi[observed] / observed.sum() - Phi.mean(axis=0)
    np.testing.assert_allclose(kb.imbalance_, imbalance, atol=1e-9)
    assert np.max(np.abs(imbalance)) <= slack + 1e-7
    assert kb.weights_.mean() == pytest.approx(1.0, rel=1e-12)
    assert np.all(kb.weights_ > 0)
    # uniform weights are out of balance where the slack is small: the
    # weights moved; where uniform weights already meet the slack, they stay
    naive = np.max(np.abs(Phi[observed].mean(axis=0) - Phi.mean(axis=0)))
    if naive > slack:
        assert np.ptp(kb.weights_) > 0.1
    else:
        np.testing.assert_allclose(kb.weights_, 1.0, rtol=1e-9)
    # weights extend to rows: the fitted rows get weights_ back
    np.testing.assert_allclose(kb.compute_weights(X[observed]), kb.weights_,
                               rtol=1e-10)


@pytest.mark.parametrize("with_prior", [False, True])
def test_equals_empirical_calibration_entropy_balancing(with_prior):
    ec = pytest.importorskip("empirical_calibration")
    X, y = _selection_data(seed=3)
    observed = y == 1
    rng = np.random.RandomState(4)
    prior = rng.uniform(0.5, 2.0, size=X.shape[0]) if with_prior else None
    kb = KernelBalancingWeights(n_centers=5, gamma=0.3, slack=0.0, penalty=None,
                                random_state=0, backend="numpy")
    kb.fit(X, y, base_weight=prior)
    Phi = _direct_gram(X, kb.centers_, "rbf", 0.3)
    weights, success = ec.calibrate(
        covariates=Phi[observed], target_covariates=Phi,
        baseline_weights=None if prior is None else prior[observed],
        objective=ec.Objective.ENTROPY, l2_norm=0.0, max_weight=1.0)
    assert success
    np.testing.assert_allclose(kb.weights_ / observed.sum(), weights, atol=1e-6,
                               rtol=0)
    np.testing.assert_allclose(kb.weights_ / observed.sum(), weights, rtol=1e-5)


def test_penalty_bounds_the_dual_and_stays_feasible():
    # Observed rows all on one side: the population cannot be matched.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] > 0.5).astype(int)
    X[y == 0, 0] -= 4.0
    hard = KernelBalancingWeights(gamma=1.0, n_centers=4, slack=1e-3, penalty=None,
                                  random_state=0)
    with pytest.raises(ValueError, match="infeasible"):
        hard.fit(X, y)
    assert not hasattr(hard, "weights_")
    soft = KernelBalancingWeights(gamma=1.0, n_centers=4, slack=1e-3, penalty=2.0,
                                  random_state=0).fit(X, y)
    assert np.max(np.abs(soft.dual_coef_)) <= 2.0 + 1e-12
    assert np.all(np.isfinite(soft.weights_))
    # a penalty large enough to be inactive gives the hard solution
    Xf, yf = _selection_data()
    exact = KernelBalancingWeights(n_centers=4, slack=1e-2, penalty=None,
                                   random_state=0).fit(Xf, yf)
    loose = KernelBalancingWeights(n_centers=4, slack=1e-2, random_state=0,
                                   penalty=1e6).fit(Xf, yf)
    np.testing.assert_allclose(loose.weights_, exact.weights_, rtol=1e-6)


def test_sample_weight_equals_repeated_rows():
    X, y = _selection_data(n=200)
    counts = np.random.RandomState(5).randint(0, 3, size=200)
    counts[:2] = 1  # keep both classes
    kw = dict(n_centers=4, slack=1e-3, penalty=None, random_state=0,
              center_selection="worst")
    weighted = KernelBalancingWeights(**kw).fit(X, y, sample_weight=counts)
    repeated = KernelBalancingWeights(**kw).fit(np.repeat(X, counts, axis=0),
                                                np.repeat(y, counts))
    np.testing.assert_allclose(weighted.centers_, repeated.centers_)
    np.testing.assert_allclose(weighted.dual_coef_, repeated.dual_coef_, rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               rtol=1e-6)


def test_implied_propensity_and_labels():
    X, y = _selection_data()
    kb = KernelBalancingWeights(n_centers=4, random_state=0).fit(X, 1 + y * 4)
    np.testing.assert_array_equal(kb.classes_, [1, 5])
    proba = kb.predict_proba(X)
    w = kb.compute_weights(X)
    np.testing.assert_allclose(proba[:, 1], np.minimum(1, y.mean() / w))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(kb.predict(X), np.where(proba[:, 1] > 0.5, 5, 1))
    # rows more likely observed get a higher implied propensity (x0 drives it)
    order = np.argsort(X[:, 0])
    assert proba[order[-50:], 1].mean() > proba[order[:50], 1].mean()


def test_bad_input_messages():
    X, y = _selection_data(n=50)
    with pytest.raises(ValueError, match="two classes"):
        KernelBalancingWeights().fit(X, np.ones(50))
    with pytest.raises(ValueError, match="residual"):
        KernelBalancingWeights(center_selection="adaptive").fit(X, y)
    with pytest.raises(ValueError, match="n_candidates=2 is smaller"):
        KernelBalancingWeights(center_selection="worst", n_candidates=2).fit(X, y)
    with pytest.raises(ValueError, match="base_weight must be finite and positive"):
        KernelBalancingWeights().fit(X, y, base_weight=-np.ones(50))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KernelBalancingWeights().fit(X_nan, y)
