"""Bases: orthonormality, inverse Christoffel functions, samplers of rho_m."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import cumulative_trapezoid

from skkernel.dpp import (
    FeatureMapBasis,
    HermiteBasis,
    LegendreBasis,
    TensorProductBasis,
    TrigonometricBasis,
    make_basis,
)
from skkernel.dpp._bases import multi_indices, orthonormalize_pool


def _quadrature(family, n_nodes=80):
    """Nodes and weights (summing to 1) exact for the family's measure."""
    if family == "legendre":
        x, w = np.polynomial.legendre.leggauss(n_nodes)
        return x, w / 2
    if family == "hermite":
        x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
        return x, w / w.sum()
    x = (np.arange(n_nodes) + 0.5) / n_nodes * 2 - 1  # one period of (-1, 1)
    return x, np.full(n_nodes, 1.0 / n_nodes)


@pytest.mark.parametrize("family", ["legendre", "hermite", "trigonometric"])
def test_univariate_bases_are_orthonormal(family):
    basis = TensorProductBasis(family, degree=12)
    x, w = _quadrature(family)
    Phi = basis.evaluate(x[:, None])
    np.testing.assert_allclose((Phi * w[:, None]).T @ Phi, np.eye(basis.n_basis),
                               atol=1e-10)
    # The inverse Christoffel function integrates to m.
    assert np.dot(w, basis.christoffel(x[:, None])) == pytest.approx(basis.n_basis)


@pytest.mark.parametrize("index_set", ["total_degree", "tensor", "hyperbolic_cross"])
def test_tensor_basis_is_orthonormal_on_a_shifted_box(index_set):
    basis = LegendreBasis(degree=4, dim=2, index_set=index_set, domain=(0.0, 3.0))
    x, w = _quadrature("legendre", 10)
    X = np.array(np.meshgrid(x, x)).reshape(2, -1).T
    W = np.outer(w, w).ravel()
    Phi = basis.evaluate(1.5 + 1.5 * X)
    np.testing.assert_allclose((Phi * W[:, None]).T @ Phi, np.eye(basis.n_basis),
                               atol=1e-10)


def test_index_set_sizes():
    assert LegendreBasis(degree=5, dim=3).n_basis == math.comb(8, 3)
    assert LegendreBasis(degree=3, dim=3, index_set="tensor").n_basis == 64
    # prod(deg + 1) <= 4 in 2-D: (0,0..3), (1,1) and the mirrors.
    assert LegendreBasis(degree=3, dim=2, index_set="hyperbolic_cross").n_basis == 8
    assert TrigonometricBasis(degree=2, dim=2).n_basis == 1 + 4 + 8
    alpha = multi_indices(4, lambda j: np.asarray(j), 2, 3, "total_degree")
    assert alpha[0].tolist() == [0, 0] and alpha.sum(axis=1).tolist() == sorted(
        alpha.sum(axis=1).tolist()
    )


def test_trigonometric_christoffel_is_constant():
    basis = TrigonometricBasis(degree=4, dim=2)
    X = np.random.RandomState(0).uniform(-1, 1, (50, 2))
    np.testing.assert_allclose(basis.christoffel(X), basis.n_basis)
    np.testing.assert_allclose(basis.optimal_weights(X), 1.0)


def _rho_cdf(basis, lo, hi, n_grid=200_001):
    grid = np.linspace(lo, hi, n_grid)
    if isinstance(basis, HermiteBasis):
        density = basis.christoffel(grid[:, None]) * stats.norm.pdf(grid)
    else:
        density = basis.christoffel(grid[:, None]) / (hi - lo)
    cdf = cumulative_trapezoid(density / basis.n_basis, grid, initial=0.0)
    return lambda t: np.interp(t, grid, cdf)


@pytest.mark.parametrize(
    "basis, lo, hi",
    [(LegendreBasis(degree=7), -1, 1), (HermiteBasis(degree=6), -12, 12),
     (TrigonometricBasis(degree=3, domain=(0.0, 2.0)), 0, 2)],
    ids=["legendre", "hermite", "trigonometric"],
)
def test_christoffel_sampler_matches_k_over_m(basis, lo, hi):
    X = basis.sample_christoffel(3000, random_state=0)
    assert X.shape == (3000, 1)
    result = stats.kstest(X[:, 0], _rho_cdf(basis, lo, hi))
    assert result.pvalue > 0.01


@pytest.mark.parametrize("family", ["legendre", "hermite"])
def test_squared_function_sampler_high_degree(family):
    # One basis function's law phi_k^2 mu, with k = 15: checks the rejection
    # bounds (Bernstein for Legendre, the grid bound for Hermite).
    basis = TensorProductBasis(family, degree=15)
    from skkernel.dpp._bases import _FAMILIES, _rejection

    fam = _FAMILIES[family]
    draws = _rejection(np.full(3000, 15), np.random.RandomState(1), fam)
    lo, hi = (-1, 1) if family == "legendre" else (-12, 12)
    grid = np.linspace(lo, hi, 200_001)
    values = basis.evaluate(grid[:, None])[:, 15] ** 2
    weight = stats.norm.pdf(grid) if family == "hermite" else 0.5
    cdf = cumulative_trapezoid(values * weight, grid, initial=0.0)
    assert stats.kstest(draws, lambda t: np.interp(t, grid, cdf)).pvalue > 0.01


def test_sample_measure_is_in_domain():
    basis = LegendreBasis(degree=3, dim=2, domain=(2.0, 5.0))
    X = basis.sample_measure(500, random_state=0)
    assert X.min() >= 2.0 and X.max() <= 5.0
    assert stats.kstest(X[:, 1], stats.uniform(2, 3).cdf).pvalue > 0.01


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"family": "chebyshev"}, r"basis must be one of .*'chebyshev'"),
        ({"family": "legendre", "index_set": "sparse"}, r"index_set must be one of"),
        ({"family": "legendre", "degree": -1}, r"degree must be an integer >= 0"),
        ({"family": "legendre", "dim": 0}, r"dim must be an integer >= 1"),
        ({"family": "legendre", "domain": (1, 1)}, r"domain must be a pair"),
        ({"family": "legendre", "domain": "box"}, r"domain must be a pair"),
        ({"family": "hermite", "domain": (0, 1)}, r"domain must be None"),
        ({"family": "legendre", "degree": 60, "dim": 6, "index_set": "tensor"},
         r"more than 100000 basis functions"),
    ],
)
def test_basis_parameter_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TensorProductBasis(**kwargs)


def test_point_validation_errors():
    basis = LegendreBasis(degree=3, dim=2)
    with pytest.raises(ValueError, match=r"outside the domain \[-1, 1\].*legendre"):
        basis.evaluate(np.array([[0.0, 1.5]]))
    with pytest.raises(ValueError, match="NaN or infinity"):
        basis.evaluate(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match=r"shape \(n_points, 2\)"):
        basis.evaluate(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        basis.sample_christoffel(0)
    # A 1-D array is a column for a 1-D basis.
    assert LegendreBasis(degree=2).evaluate(np.zeros(4)).shape == (4, 3)


def _poly_features(X):
    return np.hstack([X**0, X, X**2, X**3])


def test_feature_map_basis_is_orthonormal_on_the_pool():
    pool = np.random.RandomState(0).uniform(0, 1, (500, 1))
    basis = FeatureMapBasis(_poly_features, pool)
    Psi = basis.evaluate(pool)
    np.testing.assert_allclose(Psi.T @ Psi / 500, np.eye(4), atol=1e-10)
    np.testing.assert_allclose(basis.leverage, basis.christoffel(pool), rtol=1e-10)
    assert basis.leverage.sum() == pytest.approx(500 * 4)
    # Evaluation also works off the pool.
    assert basis.evaluate(np.array([[2.0]])).shape == (1, 4)


def test_orthonormalize_pool_ill_conditioned_features():
    x = np.linspace(0, 1, 2000)[:, None]
    # Degree 5 (cond ~1e4): CholeskyQR2; degree 12 (cond ~1e9): Householder.
    for degree in (5, 12):
        Phi = x ** np.arange(degree + 1)
        R, leverage = orthonormalize_pool(Phi)
        Psi = Phi @ np.linalg.inv(R)
        np.testing.assert_allclose(Psi.T @ Psi / 2000, np.eye(degree + 1),
                                   atol=1e-7)
        assert leverage.sum() == pytest.approx(2000 * (degree + 1))


def test_feature_map_basis_errors():
    pool = np.linspace(0, 1, 3)[:, None]
    with pytest.raises(ValueError, match="m=4 basis functions but there are only 3"):
        FeatureMapBasis(_poly_features, pool)
    pool = np.linspace(0, 1, 50)[:, None]
    with pytest.raises(ValueError, match="numerical rank below m=3"):
        FeatureMapBasis(lambda X: np.hstack([X, 2 * X, X**2]), pool)
    with pytest.raises(ValueError, match="must return an array of shape"):
        FeatureMapBasis(lambda X: X[:, 0], pool)
    with pytest.raises(ValueError, match="NaN or infinity on candidates"):
        FeatureMapBasis(lambda X: np.hstack([X, np.where(X > 0.5, np.inf, X)]), pool)
    with pytest.raises(ValueError, match="feature_map must be callable"):
        FeatureMapBasis("poly", pool)
    with pytest.raises(ValueError, match="candidates contains NaN"):
        FeatureMapBasis(_poly_features, np.array([[np.nan]] * 5))
    with pytest.raises(ValueError, match="pass candidates"):
        make_basis(_poly_features)


def test_make_basis_aliases():
    assert isinstance(make_basis("trig", degree=2), TrigonometricBasis.__mro__[1])
    assert make_basis("trig", degree=2).family == "trigonometric"
    basis = LegendreBasis(2)
    assert make_basis(basis) is basis
    assert "LegendreBasis" in repr(basis)


@pytest.mark.gpu
def test_feature_map_basis_cupy_matches_numpy():
    pool = np.random.RandomState(0).uniform(0, 1, (2000, 1))
    ref = FeatureMapBasis(_poly_features, pool, backend="numpy")
    gpu = FeatureMapBasis(_poly_features, pool, backend="cupy")
    np.testing.assert_allclose(gpu.leverage, ref.leverage, rtol=1e-8)
    np.testing.assert_allclose(np.abs(gpu._R), np.abs(ref._R), rtol=1e-8)


@pytest.mark.parametrize(
    "basis",
    [LegendreBasis(degree=4, dim=2, domain=(0.0, 2.0)), HermiteBasis(degree=3, dim=2),
     TrigonometricBasis(degree=2, dim=2, index_set="tensor"),
     LegendreBasis(degree=3, dim=3, index_set="hyperbolic_cross")],
    ids=["legendre-2d", "hermite-2d", "trig-2d", "legendre-3d-hc"],
)
def test_multivariate_christoffel_sampler_gives_unbiased_gram(basis):
    # Under rho_m with weights m / k_m, E[w psi psi^T] = I entrywise; this
    # checks the mixture sampler of the tensor bases in several dimensions.
    X = basis.sample_christoffel(20000, random_state=0)
    Psi = basis.evaluate(X)
    w = basis.optimal_weights(X)
    terms = w[:, None, None] * Psi[:, :, None] * Psi[:, None, :]
    se = terms.std(axis=0) / np.sqrt(X.shape[0])
    error = np.abs(terms.mean(axis=0) - np.eye(basis.n_basis))
    assert np.all(error <= 4.5 * se + 1e-12)


@pytest.mark.parametrize("family, lo, hi", [("legendre", -1, 1), ("hermite", -30, 30),
                                            ("trigonometric", 0, 1)])
def test_rejection_ratio_kernels_match_numpy(family, lo, hi):
    from skkernel.dpp._bases import _FAMILIES
    from skkernel.dpp._rejection_kernels import ratio_numba

    rng = np.random.RandomState(0)
    x = rng.uniform(lo, hi, 500)
    ks = rng.randint(0, 40, 500)
    reference = _FAMILIES[family].ratio(x, ks)
    np.testing.assert_allclose(ratio_numba(family, x, ks), reference,
                               rtol=1e-10, atol=1e-300)


def test_trigonometric_domain_is_one_period():
    basis = TrigonometricBasis(degree=3, domain=(0.0, 2.0))
    # Both ends of the period are in the domain and give the same values.
    np.testing.assert_allclose(basis.evaluate(np.array([[0.0]])),
                               basis.evaluate(np.array([[2.0]])), atol=1e-12)
    with pytest.raises(ValueError, match=r"outside the domain \[0, 2\]"):
        basis.evaluate(np.array([[2.5]]))
