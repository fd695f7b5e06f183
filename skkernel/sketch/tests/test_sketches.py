"""Tests of the sketches: the numba kernels against the numpy reference,
embedding quality, streaming over row blocks and the error messages."""

import copy
import pickle

import numpy as np
import pytest

from skkernel.backend import to_cpu
from skkernel.sketch import (
    approximate_leverage_scores,
    countsketch,
    gaussian_sketch,
    leverage_score_sampling,
    lewis_weights,
    linf_sketch_size,
    sketch,
    sparse_sign,
    srht,
)
from skkernel.sketch._sketches import (
    SKETCHES,
    STREAMABLE_SKETCHES,
    SparseSignSketch,
    make_sketch,
)

KINDS = list(SKETCHES)


@pytest.fixture(scope="module")
def tall():
    return np.random.RandomState(0).randn(3000, 10)


@pytest.mark.parametrize("kind", KINDS)
def test_backends_agree_with_numpy_reference(kind, tall, backend):
    # The counter-based generator gives every backend the same S; only the
    # order of additions differs (and log/cos in the last ulp for Gaussian).
    ref = sketch(tall, 200, kind, random_state=3, backend="numpy")
    out = sketch(tall, 200, kind, random_state=3, backend=backend)
    np.testing.assert_allclose(np.asarray(getattr(out, "get", lambda: out)()), ref,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_subspace_embedding(kind, tall):
    # Singular values of S Q for an orthonormal Q lie in [1 - eps, 1 + eps].
    Q, _ = np.linalg.qr(tall)
    s = np.linalg.svd(sketch(Q, 400, kind, random_state=0), compute_uv=False)
    assert 0.6 < s.min() <= s.max() < 1.4, (kind, s.min(), s.max())


@pytest.mark.parametrize("kind", STREAMABLE_SKETCHES)
def test_streamable_sketch_is_a_sum_over_row_blocks(kind, tall):
    for backend in ("numpy", "numba"):
        op = make_sketch(kind, 64, 11, backend)
        full = op.apply(tall)
        parts = op.apply(tall[:1234], row_offset=0) + op.apply(tall[1234:],
                                                                 row_offset=1234)
        np.testing.assert_allclose(parts, full, rtol=1e-12, atol=1e-12)


def test_same_seed_same_sketch_and_vectors(tall):
    a = sparse_sign(tall, 50, random_state=5)
    np.testing.assert_array_equal(a, sparse_sign(tall, 50, random_state=5))
    assert not np.allclose(a, sparse_sign(tall, 50, random_state=6))
    # A vector is sketched by the same S as the columns of a matrix.
    v = sparse_sign(tall[:, 2], 50, random_state=5)
    assert v.shape == (50,)
    np.testing.assert_allclose(v, a[:, 2])


def test_sparse_sign_structure():
    op = SparseSignSketch(40, 1, "numpy", nnz=8)
    S = op.matrix(500).toarray()
    nonzero = S != 0
    assert (nonzero.sum(axis=0) == 8).all()
    np.testing.assert_allclose(np.abs(S[nonzero]), 1 / np.sqrt(8))
    # One nonzero in each of the 8 blocks of 5 rows.
    assert (nonzero.reshape(8, 5, 500).sum(axis=1) == 1).all()
    # Signs are balanced.
    assert abs((S > 0).sum() / nonzero.sum() - 0.5) < 0.05


def test_countsketch_structure():
    S = countsketch(np.eye(300), 20, random_state=0)
    assert ((S != 0).sum(axis=0) == 1).all()
    assert set(np.unique(S)) == {-1.0, 0.0, 1.0}


def test_gaussian_entries():
    S = gaussian_sketch(np.eye(2000), 100, random_state=0)
    assert abs(S.mean()) < 0.01 / np.sqrt(100) * 5
    np.testing.assert_allclose((S**2).mean() * 100, 1.0, rtol=0.02)


@pytest.mark.parametrize("transform", ["dct", "hadamard"])
def test_srht_is_orthogonal_when_all_rows_are_kept(transform):
    A = np.random.RandomState(1).randn(64, 3)
    SA = srht(A, 64, transform=transform, random_state=0)
    # sqrt(N/m) P F D with m = N is orthogonal: norms are preserved.
    np.testing.assert_allclose(SA.T @ SA, A.T @ A, atol=1e-10)


def test_srht_hadamard_pads_to_power_of_two():
    A = np.random.RandomState(1).randn(100, 3)
    SA = srht(A, 128, transform="hadamard", random_state=0)
    np.testing.assert_allclose(SA.T @ SA, A.T @ A, atol=1e-10)
    with pytest.raises(ValueError, match="sketch_size=129 exceeds the 128 rows"):
        srht(A, 129, transform="hadamard", random_state=0)
    with pytest.raises(ValueError, match="sketch_size=101 exceeds the 100 rows"):
        srht(A, 101, random_state=0)


@pytest.mark.parametrize("kind", ["srht", "leverage"])
def test_data_dependent_sketches_refuse_row_blocks(kind, tall):
    op = make_sketch(kind, 50, 0, "numpy").fit(tall)
    with pytest.raises(ValueError, match="cannot be applied to a block of rows"):
        op.apply(tall[:100])


def test_leverage_scores():
    rng = np.random.RandomState(0)
    A = rng.randn(2000, 8)
    A[:5] *= 30  # a few high-leverage rows
    exact = approximate_leverage_scores(A, exact=True)
    np.testing.assert_allclose(exact.sum(), 8)
    Q, _ = np.linalg.qr(A)
    np.testing.assert_allclose(exact, (Q**2).sum(axis=1), atol=1e-12)
    approx = approximate_leverage_scores(A, random_state=0)
    ratio = approx / exact
    assert 0.3 < ratio.min() and ratio.max() < 3.0
    assert set(np.argsort(approx)[-5:]) == set(range(5))


def test_leverage_sampling_prefers_high_leverage_rows():
    A = np.vstack([np.eye(4) * 10, 0.01 * np.random.RandomState(0).randn(500, 4)])
    op = make_sketch("leverage", 400, 0, "numpy").fit(A)
    assert (op.rows_ < 4).mean() > 0.9
    SA = leverage_score_sampling(A, 400, random_state=0)
    # Unbiased: E[(SA)^T SA] = A^T A; each heavy row is drawn ~100 times.
    np.testing.assert_allclose(np.diag(SA.T @ SA), np.diag(A.T @ A), rtol=0.35)


def test_rank_deficient_leverage_scores_sum_to_rank():
    A = np.random.RandomState(0).randn(300, 3)
    A = np.hstack([A, A[:, :1]])
    np.testing.assert_allclose(approximate_leverage_scores(A, exact=True).sum(), 3)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_lewis_weights_fixed_point(p):
    rng = np.random.RandomState(0)
    A = rng.randn(400, 5)
    A[:3] *= 20
    w = lewis_weights(A, p)
    np.testing.assert_allclose(w.sum(), 5, rtol=1e-6)
    M = A.T @ (w[:, None] ** (1 - 2 / p) * A)
    quad = np.einsum("ij,jk,ik->i", A, np.linalg.inv(M), A)
    np.testing.assert_allclose(w, quad ** (p / 2), rtol=1e-6)


@pytest.mark.parametrize("rank_deficient", [False, True])
def test_lewis_weights_p2_are_the_hat_matrix_diagonal(rank_deficient):
    # An independent reference: the diagonal of the projection A A^+ onto
    # range(A), from numpy's pseudo-inverse (an SVD), not from our QR.
    A = np.random.RandomState(0).randn(100, 4)
    A[:3] *= 10
    if rank_deficient:
        A = np.hstack([A, A[:, :1] - 2 * A[:, 2:3]])
    hat = np.einsum("ij,ji->i", A, np.linalg.pinv(A))
    np.testing.assert_allclose(lewis_weights(A, 2.0), hat, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(lewis_weights(A, 2.0).sum(), 4)


def test_linf_sketch_size_values_by_hand():
    # ln(1e4) = 4 ln 10 = 9.21034; 9.21034^3 = 781.317; x 10 / 1^2 = 7813.2.
    assert linf_sketch_size(100, 10, eps=1.0, delta=0.01) == 7814
    # ln(1e8) = 18.42068; ^3 = 6250.53; x 100 / 0.5^2 = 2500213.1: more rows
    # than the 10^6 of the data, as the docstring warns.
    assert linf_sketch_size(10**6, 100) == 2_500_214
    # Linear in d, quadratic in 1/eps (up to the rounding up).
    assert abs(linf_sketch_size(100, 20, eps=1.0, delta=0.01) - 2 * 7813.17) < 1
    assert abs(linf_sketch_size(100, 10, eps=0.5, delta=0.01) - 4 * 7813.17) < 1


@pytest.mark.parametrize("kind", KINDS)
def test_fitted_operators_pickle(kind, tall):
    # Operators store their backend's name, not the numpy/scipy modules.
    op = make_sketch(kind, 64, 11, "numba").fit(tall)
    for twin in (pickle.loads(pickle.dumps(op)), copy.deepcopy(op)):
        np.testing.assert_array_equal(twin.apply(tall), op.apply(tall))


def test_device_array_in_gives_device_array_out(tall):
    # array_api_strict on a non-CPU device refuses np.asarray as cupy does.
    xps = pytest.importorskip("array_api_strict")
    device = xps.Device("device1")
    A = xps.asarray(tall, device=device)
    calls = [
        lambda a: sketch(a, 50, "srht", random_state=0),
        lambda a: sparse_sign(a[:, 0], 50, random_state=0),
        lambda a: lewis_weights(a, 1.0),
        lambda a: approximate_leverage_scores(a, random_state=0),
    ]
    for call in calls:
        out = call(A)
        assert type(out) is type(A) and out.device == device
        np.testing.assert_array_equal(to_cpu(out), call(tall))


def test_errors():
    A = np.ones((20, 2))
    with pytest.raises(ValueError, match=r"The 'kind' parameter of sketch must be "
                                         r"one of \['gaussian'.*Got 'fjlt'"):
        sketch(A, 5, "fjlt")
    with pytest.raises(ValueError, match=r"The 'sketch_size' parameter of sketch "
                                         r"must be an int in the range \[1, inf\)"):
        sketch(A, 0)
    with pytest.raises(ValueError, match=r"'transform' parameter .* must be one of"):
        sketch(A, 5, "srht", transform="fft")
    with pytest.raises(ValueError, match=r"'nnz_per_col' parameter .* Got 0"):
        sketch(A, 5, nnz_per_col=0)
    bad = A.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="A contains NaN"):
        sketch(bad, 5)
    with pytest.raises(ValueError, match=r"The 'p' parameter of lewis_weights must "
                                         r"be a finite float in the range \(0, 4\)"):
        lewis_weights(A, 4.0)
    with pytest.raises(ValueError, match=r"'p' parameter .* Got nan instead"):
        lewis_weights(A, np.nan)
    with pytest.raises(ValueError, match=r"'backend' parameter .* one of .*'tpu'"):
        sketch(A, 5, backend="tpu")
    with pytest.raises(ValueError, match=r"'eps' parameter of linf_sketch_size"):
        linf_sketch_size(100, 10, eps=np.inf)


@pytest.mark.gpu
@pytest.mark.parametrize("kind", KINDS)
def test_cupy_input_stays_on_gpu(kind, tall):
    import cupy

    out = sketch(cupy.asarray(tall), 100, kind, random_state=0)
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_allclose(out.get(), sketch(tall, 100, kind, random_state=0,
                                                 backend="numpy"), atol=1e-10)
