"""Samplers: projection-DPP law (marginal, pair statistics), designs, errors."""

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import cumulative_trapezoid

from skkernel.dpp import (
    FeatureMapBasis,
    HermiteBasis,
    LegendreBasis,
    TrigonometricBasis,
    gram_deviation,
    gram_matrix,
    sample_design,
    sample_generalized_volume,
    sample_iid_christoffel,
    sample_projection_dpp,
    sample_repeated_dpp,
    sample_volume_rescaled,
)
from skkernel.dpp._chain_rule import chain_rule_numba, chain_rule_reference
from skkernel.dpp._samplers import _draw_projection_dpps


def _dpp_samples(basis, n_samples, seed, backend="numba"):
    """``n_samples`` independent DPP samples as an array (n_samples, m, dim)."""
    draws = _draw_projection_dpps(basis, n_samples, np.random.RandomState(seed),
                                  backend)
    return np.stack([d[0] for d in draws]), [d[1] for d in draws]


def _legendre_rho_cdf(basis):
    grid = np.linspace(-1, 1, 200_001)
    density = basis.christoffel(grid[:, None]) / (2 * basis.n_basis)
    cdf = cumulative_trapezoid(density, grid, initial=0.0)
    return lambda t: np.interp(t, grid, cdf)


def test_projection_dpp_marginal_is_k_over_m():
    basis = LegendreBasis(degree=7)
    points, _ = _dpp_samples(basis, 300, seed=0)
    # Points of one sample are dependent; the KS test of their pooled
    # marginal is then conservative, which suits a fixed-seed test.
    result = stats.kstest(points.ravel(), _legendre_rho_cdf(basis))
    assert result.pvalue > 0.01


def test_projection_dpp_pair_statistics_match_the_determinant():
    # For m = 3 the two-point intensity is k(x) k(y) - K(x, y)^2, with
    # K(x, y) = psi(x)^T psi(y). Compare E sum_{i != j} h(x_i, x_j) for
    # polynomial h with Gauss quadrature (exact) within 4 standard errors.
    basis = LegendreBasis(degree=2)
    x, w = np.polynomial.legendre.leggauss(20)
    w = w / 2
    Psi = basis.evaluate(x[:, None])
    K = Psi @ Psi.T
    k = np.diag(K)
    rho2 = (np.outer(k, k) - K**2) * np.outer(w, w)
    tests = {
        "squared_gap": lambda a, b: (a - b) ** 2,
        "product_of_squares": lambda a, b: a**2 * b**2,
        "product": lambda a, b: a * b,
    }
    points, _ = _dpp_samples(basis, 4000, seed=1)
    P = points[:, :, 0]
    off = ~np.eye(3, dtype=bool)
    for name, h in tests.items():
        exact = np.sum(h(x[:, None], x[None, :]) * rho2)
        per_sample = np.array([h(p[:, None], p[None, :])[off].sum() for p in P])
        se = per_sample.std() / np.sqrt(per_sample.size)
        assert abs(per_sample.mean() - exact) < 4 * se, name
    # Repulsion: the mean squared gap of a pair is larger than for independent
    # draws from rho_m (pair masses m(m - 1) and m^2).
    gap = (x[:, None] - x) ** 2
    iid_gap = np.sum(np.outer(k, k) * np.outer(w, w) * gap) / 9
    assert np.sum(gap * rho2) / 6 > 1.3 * iid_gap


def test_finite_pool_dpp_inclusion_probabilities():
    # On a pool of N = 7 with m = 3, P(i in S) = K_ii and
    # P(i, j in S) = K_ii K_jj - K_ij^2 with K = Psi Psi^T / N.
    pool = np.linspace(-1, 1, 7)[:, None]
    basis = FeatureMapBasis(lambda X: np.hstack([X**0, X, X**2]), pool)
    K = basis.evaluate(pool) @ basis.evaluate(pool).T / 7
    _, indices = _dpp_samples(basis, 6000, seed=2)
    S = np.array(indices)
    assert all(len(set(s)) == 3 for s in S)  # no repeated point in a sample
    member = np.zeros((S.shape[0], 7))
    np.put_along_axis(member, S, 1.0, axis=1)
    single = member.mean(axis=0)
    se = np.sqrt(np.diag(K) * (1 - np.diag(K)) / S.shape[0])
    assert np.all(np.abs(single - np.diag(K)) < 4.5 * se + 1e-12)
    pair = member.T @ member / S.shape[0]
    exact = np.outer(np.diag(K), np.diag(K)) - K**2
    off = ~np.eye(7, dtype=bool)
    se = np.sqrt(exact * (1 - exact) / S.shape[0])
    assert np.all(np.abs(pair - exact)[off] < 4.5 * se[off] + 1e-12)


def test_chain_rule_numba_matches_reference():
    rng = np.random.RandomState(0)
    m = 6
    Psi = rng.standard_normal((200, m))
    sq = np.einsum("ij,ij->i", Psi, Psi)
    u = rng.random_sample(200)
    Q_ref, Q_nb = np.zeros((m, m)), np.zeros((m, m))
    acc_ref, t_ref = chain_rule_reference(Psi, sq, u, Q_ref, 0)
    acc_nb, t_nb = chain_rule_numba(Psi, sq, u, Q_nb, 0)
    assert t_ref == t_nb == m
    np.testing.assert_array_equal(acc_ref, acc_nb)
    np.testing.assert_allclose(Q_ref, Q_nb, atol=1e-12)
    np.testing.assert_allclose(Q_ref @ Q_ref.T, np.eye(m), atol=1e-12)
    # Resuming from a partial state chooses the same points.
    Q_part = np.zeros((m, m))
    first, t = chain_rule_numba(Psi[:20], sq[:20], u[:20], Q_part, 0)
    rest, t = chain_rule_numba(Psi[20:], sq[20:], u[20:], Q_part, t)
    np.testing.assert_array_equal(np.concatenate([first, rest + 20]), acc_ref)


@pytest.mark.parametrize(
    "basis",
    [LegendreBasis(degree=9), HermiteBasis(degree=4, dim=2),
     FeatureMapBasis(lambda X: np.hstack([X**0, X, X**2, np.sin(3 * X)]),
                     np.linspace(0, 1, 300)[:, None])],
    ids=["legendre", "hermite-2d", "pool"],
)
def test_backends_give_the_same_dpp(basis, backend):
    ref = sample_projection_dpp(basis, random_state=3, backend="numpy")
    other = sample_projection_dpp(basis, random_state=3, backend=backend)
    # Same stream and acceptance rule: the same points, up to rounding.
    np.testing.assert_allclose(other.points, ref.points, rtol=1e-12, atol=1e-12)
    assert ref.points.shape == (basis.n_basis, basis.dim)


def test_dpp_points_are_distinct_and_gram_is_invertible():
    basis = LegendreBasis(degree=19)
    design = sample_projection_dpp(basis, random_state=0)
    assert np.unique(design.points).size == 20
    G = gram_matrix(basis.evaluate(design.points), design.weights)
    assert np.linalg.matrix_rank(G) == 20
    assert design.gram_deviation == pytest.approx(gram_deviation(G))


def test_generalized_volume_marginal_is_k_over_m():
    basis = LegendreBasis(degree=5)
    points = np.concatenate([
        sample_generalized_volume(basis, 18, random_state=s).points[:, 0]
        for s in range(60)
    ])
    assert stats.kstest(points, _legendre_rho_cdf(basis)).pvalue > 0.01


def test_design_structure():
    basis = LegendreBasis(degree=4)
    m = basis.n_basis
    iid = sample_iid_christoffel(basis, 12, random_state=0)
    np.testing.assert_allclose(iid.weights, m / basis.christoffel(iid.points))
    rep = sample_repeated_dpp(basis, 2 * m + 3, random_state=0)
    assert rep.points.shape == (2 * m + 3, 1) and rep.indices is None
    vol = sample_volume_rescaled(basis, 3 * m, random_state=0)
    np.testing.assert_array_equal(vol.weights, 1.0)
    gen = sample_generalized_volume(basis, m, random_state=0)
    assert gen.points.shape == (m, 1)
    # Same seed, same design.
    again = sample_repeated_dpp(basis, 2 * m + 3, random_state=0)
    np.testing.assert_array_equal(again.points, rep.points)


def test_pool_design_returns_indices():
    pool = np.random.RandomState(0).uniform(-1, 1, (400, 2))
    basis = FeatureMapBasis(LegendreBasis(degree=2, dim=2).evaluate, pool)
    design = sample_design(basis, 24, sampling="repeated_dpp", random_state=0)
    np.testing.assert_array_equal(pool[design.indices], design.points)
    for r in range(4):  # each DPP sample has distinct rows
        assert np.unique(design.indices[6 * r : 6 * r + 6]).size == 6


def test_conditioning_reaches_threshold_and_warns_when_it_cannot():
    basis = TrigonometricBasis(degree=3)
    design = sample_design(basis, 35, stability_threshold=0.5, random_state=0)
    assert design.gram_deviation <= 0.5
    with pytest.warns(UserWarning, match=r"keeping the best one"):
        best = sample_design(basis, 7, stability_threshold=1e-3, max_resample=3,
                             random_state=0)
    assert best.n_resamples == 3
    unconditioned = sample_design(basis, 7, stability_threshold=None,
                                  random_state=0)
    assert unconditioned.n_resamples == 0


def test_sampler_errors():
    basis = LegendreBasis(degree=4)
    with pytest.raises(ValueError, match=r"n_samples=3 is smaller than .* m=5"):
        sample_repeated_dpp(basis, 3)
    with pytest.raises(ValueError, match=r"n_samples must be an integer"):
        sample_iid_christoffel(basis, 7.5)
    with pytest.raises(ValueError, match=r"sampling must be one of .*'sobol'"):
        sample_design(basis, 10, sampling="sobol")
    with pytest.raises(ValueError, match=r"stability_threshold must be a positive"):
        sample_design(basis, 10, stability_threshold=-1)
    with pytest.raises(ValueError, match=r"max_resample must be an integer >= 0"):
        sample_design(basis, 10, max_resample=-2)
    with pytest.raises(ValueError, match=r"basis must be an OrthonormalBasis"):
        sample_projection_dpp("legendre")
    with pytest.raises(ValueError, match=r"backend must be one of"):
        sample_projection_dpp(basis, backend="tpu")


def test_agrees_with_dppy_in_distribution():
    pytest.importorskip("dppy")
    from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE

    m, n_draws = 5, 400
    ope = MultivariateJacobiOPE(m, np.array([[0.0, 0.0]]))  # Legendre weight
    theirs = np.array([np.sort(np.ravel(ope.sample(random_state=s)))
                       for s in range(n_draws)])
    ours, _ = _dpp_samples(LegendreBasis(degree=m - 1), n_draws, seed=5)
    ours = np.sort(ours[:, :, 0], axis=1)
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 0.01
    # Repulsion-sensitive statistics: smallest gap and the extreme point.
    for stat in (lambda p: np.diff(p, axis=1).min(axis=1), lambda p: p[:, -1]):
        assert stats.ks_2samp(stat(ours), stat(theirs)).pvalue > 0.01


def test_finite_pool_agrees_with_dppy():
    pytest.importorskip("dppy")
    from dppy.finite_dpps import FiniteDPP

    pool = np.linspace(-1, 1, 9)[:, None]
    basis = FeatureMapBasis(lambda X: np.hstack([X**0, X, X**3]), pool)
    V = basis.evaluate(pool) / 3.0  # orthonormal columns
    dpp = FiniteDPP("correlation", projection=True, K_eig_dec=(np.ones(3), V))
    rng = np.random.RandomState(0)
    theirs = np.zeros(9)
    for _ in range(2000):
        theirs[dpp.sample_exact(mode="GS", random_state=rng)] += 1
    _, indices = _dpp_samples(basis, 2000, seed=6)
    ours = np.bincount(np.concatenate(indices), minlength=9)
    _, pvalue, _, _ = stats.chi2_contingency(np.vstack([ours, theirs]))
    assert pvalue > 0.01


@pytest.mark.slow
@pytest.mark.parametrize("sampling", ["volume_rescaled", "generalized_volume"])
def test_volume_sampling_gives_unbiased_least_squares(sampling):
    # Derezinski-Warmuth-Hsu: least squares on volume-rescaled designs (plain
    # for mu, weighted for rho_m) is unbiased for the L2(mu) projection, even
    # with n = m + 2 points. Mean coefficients within 4 standard errors.
    basis = LegendreBasis(degree=3)
    x, w = np.polynomial.legendre.leggauss(200)
    X = x[:, None]
    best = basis.evaluate(X).T @ (w / 2 / (1 + 25 * x**2))
    coefs = []
    for seed in range(2000):
        design = sample_design(basis, 6, sampling=sampling, stability_threshold=None,
                               random_state=seed)
        root = np.sqrt(design.weights)
        Psi = basis.evaluate(design.points) * root[:, None]
        y = root / (1 + 25 * design.points[:, 0] ** 2)
        coefs.append(np.linalg.lstsq(Psi, y, rcond=None)[0])
    coefs = np.array(coefs)
    z = (coefs.mean(axis=0) - best) / (coefs.std(axis=0) / np.sqrt(len(coefs)))
    assert np.all(np.abs(z) < 4)
