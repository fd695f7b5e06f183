"""Heat kernels against scipy.linalg.expm, and numba/cupy against numpy."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import expm
from sklearn.neighbors import NearestNeighbors

from skkernel.backend import to_cpu
from skkernel.manifold._graph import affinity_graph, graph_laplacian
from skkernel.manifold._heat import (
    HeatOperator,
    chebyshev_error_bound,
    chebyshev_order,
    entropy_knee,
    heat_kernel_chebyshev_numba,
    heat_kernel_chebyshev_reference,
    identity_columns,
    largest_eigenvalue,
)


def small_laplacian(kind, n=60, seed=0):
    X = np.random.RandomState(seed).rand(n, 2)
    W, _ = affinity_graph(NearestNeighbors().fit(X), X, 6, 40.0, "numpy")
    return graph_laplacian(W, kind)


@pytest.mark.parametrize("kind", ["normalized", "combinatorial"])
@pytest.mark.parametrize("t", [0.1, 1.0, 10.0, 50.0, 100.0])
def test_chebyshev_matches_expm(kind, t):
    # The accuracy promise: order from the bound keeps max error <= 1e-8.
    L = small_laplacian(kind)
    phi = largest_eigenvalue(L, kind, np.random.RandomState(0)) / 2
    order = chebyshev_order(t, phi, 1e-10)
    heat = HeatOperator(L, "chebyshev", "numba", phi, order)
    n = L.shape[0]
    H = heat.apply(identity_columns(n, np.arange(n)), [t])[0]
    exact = expm(-t * L.toarray())
    error = np.abs(H - exact).max()
    assert error <= 1e-8
    assert error <= chebyshev_error_bound(t, phi, order) + 1e-12


@pytest.mark.parametrize("kind", ["normalized", "combinatorial"])
def test_exact_method_matches_expm(kind):
    L = small_laplacian(kind, n=40)
    heat = HeatOperator(L, "exact", "numpy", 1.0, 0)
    H = heat.apply(np.eye(40), [3.0])[0]
    np.testing.assert_allclose(H, expm(-3.0 * L.toarray()), atol=1e-10)


def test_backward_euler_converges_to_expm():
    L = small_laplacian("normalized", n=40)
    exact = expm(-2.0 * L.toarray())
    errors = []
    for steps in (5, 20, 80):
        H = HeatOperator(L, "euler", "numpy", 1.0, steps).apply(np.eye(40), [2.0])[0]
        errors.append(np.abs(H - exact).max())
    # First-order method: error shrinks about 4x when steps grow 4x.
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] / errors[2] > 3.0
    assert errors[2] < 1e-2


@pytest.mark.parametrize("kind", ["normalized", "combinatorial"])
@pytest.mark.parametrize("steps", [1, 7, 30])
def test_backward_euler_is_the_dense_resolvent_power(kind, steps):
    # The exact reference for the method: K dense solves of (I + t L / K).
    L = small_laplacian(kind, n=40)
    t = 2.0
    H = HeatOperator(L, "euler", "numpy", 1.0, steps).apply(np.eye(40), [t])[0]
    step = np.linalg.inv(np.eye(40) + (t / steps) * L.toarray())
    np.testing.assert_allclose(H, np.linalg.matrix_power(step, steps),
                               rtol=0, atol=1e-12)


def test_numba_chebyshev_matches_reference():
    L = small_laplacian("combinatorial", n=50)
    X0 = np.random.RandomState(1).randn(50, 7)
    ts = [0.5, 4.0]
    ref = heat_kernel_chebyshev_reference(L, X0, ts, 4.0, 40)
    fast = heat_kernel_chebyshev_numba(L, X0, ts, 4.0, 40)
    for a, b in zip(ref, fast, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("order", [0, 1, 2, 3, 33])
def test_numba_chebyshev_blocks_match_reference(order):
    # 75 columns: two full 32-column blocks and a partial one; low orders
    # exercise the alternation of the two buffers.
    L = small_laplacian("normalized", n=60)
    X0 = np.random.RandomState(2).randn(60, 75)
    ref = heat_kernel_chebyshev_reference(L, X0, [1.0, 3.0], 1.0, order)
    rows = np.random.RandomState(3).permutation(60)
    fast = heat_kernel_chebyshev_numba(L, X0, [1.0, 3.0], 1.0, order, out_rows=rows)
    for a, b in zip(ref, fast, strict=True):
        np.testing.assert_allclose(b[rows], a, rtol=0, atol=1e-12)


def test_heat_operator_numba_matches_numpy_through_the_reordering():
    L = small_laplacian("combinatorial", n=70)
    E = identity_columns(70, np.arange(0, 70, 2))
    ref = HeatOperator(L, "chebyshev", "numpy", 4.0, 50).apply(E, [2.0])[0]
    fast = HeatOperator(L, "chebyshev", "numba", 4.0, 50).apply(E, [2.0])[0]
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ref, expm(-2.0 * L.toarray())[:, ::2], atol=1e-8)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_heat_columns_write_into_the_output_slice(backend):
    # The numba path starts from unit columns inside the kernel and writes
    # straight into the caller's array; the result is the identity block's.
    L = small_laplacian("normalized", n=90)
    op = HeatOperator(L, "chebyshev", backend, 1.0, 40)
    cols = np.array([5, 0, 89, 44, 3] * 9)  # 45 columns: one full block and a part
    out = np.full((90, 50), -7.0)
    op.columns(cols, 3.0, out, col_offset=2)
    ref = heat_kernel_chebyshev_reference(L, identity_columns(90, cols), [3.0], 1.0, 40)
    np.testing.assert_allclose(out[:, 2:47], ref[0], rtol=0, atol=1e-12)
    assert (out[:, :2] == -7.0).all() and (out[:, 47:] == -7.0).all()


@pytest.mark.gpu
def test_cupy_chebyshev_matches_numpy():
    L = small_laplacian("normalized", n=80)
    E = identity_columns(80, np.arange(0, 80, 3))
    ref = HeatOperator(L, "chebyshev", "numpy", 1.0, 30).apply(E, [5.0])[0]
    gpu = HeatOperator(L, "chebyshev", "cupy", 1.0, 30).apply(E, [5.0])[0]
    np.testing.assert_allclose(to_cpu(gpu), ref, atol=1e-12)


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["exact", "euler"])
def test_cupy_other_methods_match_numpy(method):
    L = small_laplacian("normalized", n=40)
    ref = HeatOperator(L, method, "numpy", 1.0, 10).apply(np.eye(40), [2.0])[0]
    gpu = HeatOperator(L, method, "cupy", 1.0, 10).apply(np.eye(40), [2.0])[0]
    np.testing.assert_allclose(gpu, ref, atol=1e-10)


def test_order_grows_with_time_and_precision():
    assert chebyshev_order(1.0, 1.0, 1e-8) < chebyshev_order(10.0, 1.0, 1e-8)
    assert chebyshev_order(10.0, 1.0, 1e-8) < chebyshev_order(10.0, 1.0, 1e-16)
    assert chebyshev_error_bound(10.0, 1.0, chebyshev_order(10.0, 1.0, 1e-8)) <= 1e-8


def test_largest_eigenvalue_is_an_upper_bound():
    for kind in ("normalized", "combinatorial"):
        L = small_laplacian(kind, n=200)
        exact = np.linalg.eigvalsh(L.toarray())[-1]
        estimate = largest_eigenvalue(L, kind, np.random.RandomState(0))
        assert exact <= estimate <= 1.02 * exact + 1e-9


def test_isolated_node_laplacian():
    W = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float))
    L = graph_laplacian(W, "normalized").toarray()
    np.testing.assert_allclose(L, [[1, -1, 0], [-1, 1, 0], [0, 0, 1]])
    Lc = graph_laplacian(W, "combinatorial").toarray()
    np.testing.assert_allclose(Lc, [[1, -1, 0], [-1, 1, 0], [0, 0, 0]])


def test_entropy_knee():
    ts = np.linspace(0, 10, 11)
    curve = 1 - np.exp(-ts)  # concave, increasing: knee early
    assert entropy_knee(ts, curve) in (1.0, 2.0)
    assert entropy_knee(ts, np.ones(11)) == 0.0
