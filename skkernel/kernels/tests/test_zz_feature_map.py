"""ZZFeatureMapKernel: values, backends, memory budget, noise model, errors."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

import skkernel
from skkernel.backend import to_cpu, to_device
from skkernel.kernels import ZZFeatureMapKernel
from skkernel.kernels import _zz_feature_map as zz_feature_map_module
from skkernel.kernels._zz_statevector import (
    entangler_pairs,
    parity_matrix,
    phase_features,
    self_product,
    statevectors_numba,
    statevectors_reference,
    walsh_hadamard,
)

# numba builds the phases by bit doubling, numpy by a GEMM: same values up to
# rounding of angles of size ~ alpha * sum |phi| (hundreds of radians).
BACKEND_ATOL = 1e-11


def data(n_samples, n_qubits, seed=0):
    return np.random.RandomState(seed).uniform(0, 2 * np.pi, (n_samples, n_qubits))


def dense_reference_kernel(X, Y, reps, pairs, alpha=2.0):
    """Independent check: explicit 2^n x 2^n matrices, as in the paper."""
    n = X.shape[1]
    H1 = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    H = np.array([[1.0]])
    for _ in range(n):
        H = np.kron(H1, H)
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1

    def state(x):
        angle = bits @ x + sum(
            (np.pi - x[i]) * (np.pi - x[j]) * (bits[:, i] ^ bits[:, j])
            for i, j in pairs
        )
        U = np.diag(np.exp(1j * alpha * angle))
        psi = np.zeros(2**n, complex)
        psi[0] = 1.0
        for _ in range(reps):
            psi = U @ (H @ psi)
        return psi

    SX = np.array([state(x) for x in X])
    SY = np.array([state(y) for y in Y])
    return np.abs(SX.conj() @ SY.T) ** 2


@pytest.mark.parametrize("reps", [1, 2, 3])
@pytest.mark.parametrize("entanglement", ["full", "linear", "circular"])
def test_matches_dense_matrix_construction(backend, reps, entanglement):
    X, Y = data(5, 3), data(4, 3, seed=1)
    pairs = entangler_pairs(entanglement, 3)
    kernel = ZZFeatureMapKernel(reps=reps, entanglement=entanglement,
                                backend=backend)
    np.testing.assert_allclose(to_cpu(kernel(to_device(X, backend),
                                             to_device(Y, backend))),
                               dense_reference_kernel(X, Y, reps, pairs),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_qubits", [1, 2, 5, 9])
@pytest.mark.parametrize("reps", [1, 2, 4])
def test_numba_states_match_numpy_reference(n_qubits, reps):
    X = data(7, n_qubits)
    pairs = entangler_pairs("full", n_qubits)
    features = phase_features(X, pairs, self_product)
    expected = statevectors_reference(features, n_qubits,
                                      parity_matrix(n_qubits, pairs), reps, 2.0)
    out = np.empty_like(expected)
    statevectors_numba(features, n_qubits, pairs, reps, 2.0, out)
    np.testing.assert_allclose(out, expected, rtol=0, atol=BACKEND_ATOL)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-13)


def test_walsh_hadamard_is_the_hadamard_matrix():
    n = 4
    H = np.array([[1.0]])
    for _ in range(n):
        H = np.kron(np.array([[1, 1], [1, -1]]), H)
    psi = np.random.RandomState(0).randn(3, 2**n) + 0j
    np.testing.assert_allclose(walsh_hadamard(psi, n), psi @ H.T, atol=1e-12)


@pytest.mark.parametrize("shots", [None, 64])
def test_backends_agree(fast_backend, shots):
    X, Y = data(30, 5), data(11, 5, seed=3)
    params = dict(reps=2, entanglement="linear", shots=shots, random_state=0)
    reference = ZZFeatureMapKernel(backend="numpy", **params)
    fast = ZZFeatureMapKernel(backend=fast_backend, **params)
    for args in [(X,), (X, Y)]:
        expected = reference(*args)
        got = to_cpu(fast(*[to_device(a, fast_backend) for a in args]))
        np.testing.assert_allclose(got, expected, rtol=0, atol=BACKEND_ATOL)


def test_gram_properties():
    X, Y = data(12, 4), data(5, 4, seed=2)
    kernel = ZZFeatureMapKernel()
    K = kernel(X)
    assert K.shape == (12, 12)
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_array_equal(np.diag(K), 1.0)
    assert K.min() >= 0 and K.max() <= 1
    assert np.linalg.eigvalsh(K).min() > -1e-12
    np.testing.assert_allclose(kernel(X, Y), kernel(Y, X).T, atol=1e-14)
    # Y equal to X (a copy) is the symmetric call.
    np.testing.assert_allclose(kernel(X, X.copy()), K, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(np.diag(kernel(X, X.copy())), 1.0)
    np.testing.assert_allclose(kernel(X, X[:3]), K[:, :3], atol=1e-14)


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_row_blocks_under_small_memory_budget(backend, threaded, monkeypatch):
    X, Y = data(40, 6), data(25, 6, seed=1)
    K_full = ZZFeatureMapKernel(backend=backend, n_jobs=1)(X)
    K_cross = ZZFeatureMapKernel(backend=backend, n_jobs=1)(X, Y)
    if threaded:
        # Split every product over two threads, however small.
        monkeypatch.setattr(zz_feature_map_module, "_THREADED_GEMM_WORK", 0)
    kernel = ZZFeatureMapKernel(backend=backend, n_jobs=2)
    np.testing.assert_allclose(kernel(X), K_full, rtol=0, atol=1e-14)
    np.testing.assert_allclose(kernel(X, Y), K_cross, rtol=0, atol=1e-14)
    # Enough for the held states and a few rows: many blocks.
    with skkernel.config_context(working_memory=0.35):
        K_blocks, K_cross_blocks = kernel(X), kernel(X, Y)
    np.testing.assert_allclose(K_blocks, K_full, rtol=0, atol=1e-14)
    np.testing.assert_allclose(K_cross_blocks, K_cross, rtol=0, atol=1e-14)


def test_oversize_request_is_refused_with_the_memory_needed():
    X = data(2000, 16)
    with skkernel.config_context(working_memory=1024), pytest.raises(
        MemoryError, match=r"needs at least 2,\d{3}\.\d MiB for 2000 statevectors "
        r"of 16 qubits .*working_memory=1024 MiB"
    ):
        ZZFeatureMapKernel()(X)
    with skkernel.config_context(working_memory=1), pytest.raises(
        MemoryError, match="statevectors of 16 qubits"
    ):
        ZZFeatureMapKernel().statevectors(X[:20])


def test_shot_noise():
    X = data(30, 3)
    exact = ZZFeatureMapKernel()(X)
    noisy = ZZFeatureMapKernel(shots=200, enforce_psd=False, random_state=0)
    K = noisy(X)
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_array_equal(np.diag(K), 1.0)
    np.testing.assert_allclose(K * 200, np.round(K * 200), atol=1e-9)
    # Binomial(shots, K)/shots: unbiased, variance K(1-K)/shots.
    z = (K - exact)[np.triu_indices(30, 1)] / np.sqrt(
        np.maximum(exact * (1 - exact), 1e-12) / 200)[np.triu_indices(30, 1)]
    assert abs(z.mean()) < 0.3 and 0.7 < z.std() < 1.3
    np.testing.assert_array_equal(noisy(X), K)  # an int seed repeats
    assert not np.array_equal(noisy.set_params(random_state=1)(X), K)
    # k(X, Y) samples every entry independently.
    cross = ZZFeatureMapKernel(shots=200, random_state=0)(X, X[::-1] + 0.1)
    np.testing.assert_allclose(cross * 200, np.round(cross * 200), atol=1e-9)


def test_enforce_psd_projects_sampled_matrix():
    # Two qubits: the exact Gram matrix has rank <= 16, so with 40 points the
    # sampling noise pushes eigenvalues below zero.
    X = data(40, 2)
    raw = ZZFeatureMapKernel(shots=16, enforce_psd=False, random_state=0)(X)
    assert np.linalg.eigvalsh(raw).min() < -1e-3
    K = ZZFeatureMapKernel(shots=16, enforce_psd=True, random_state=0)(X)
    np.testing.assert_array_equal(K, K.T)
    assert np.linalg.eigvalsh(K).min() > -1e-10
    # The projection is the nearest PSD matrix: it only removes the
    # negative part of the spectrum.
    w, V = np.linalg.eigh(raw)
    np.testing.assert_allclose(K, (V * np.maximum(w, 0)) @ V.T, atol=1e-12)


def test_depolarising_noise():
    X, Y = data(10, 3), data(4, 3, seed=5)
    exact = ZZFeatureMapKernel()
    noisy = ZZFeatureMapKernel(noise=0.25)
    off = ~np.eye(10, dtype=bool)
    np.testing.assert_allclose(noisy(X)[off], 0.75 * exact(X)[off] + 0.25 / 8)
    np.testing.assert_array_equal(np.diag(noisy(X)), 1.0)
    np.testing.assert_allclose(noisy(X, Y), 0.75 * exact(X, Y) + 0.25 / 8)
    np.testing.assert_allclose(ZZFeatureMapKernel(noise=1.0)(X, Y), 1 / 8)


def test_concentration_of_off_diagonal_values():
    # Random states on n qubits overlap as 1/2^n on average (Haar-like).
    means = [ZZFeatureMapKernel()(data(40, n))[~np.eye(40, dtype=bool)].mean()
             for n in (2, 4, 6, 8)]
    assert means == sorted(means, reverse=True)
    assert means[-1] < 0.02


def test_parameters_protocol_and_use_in_svc():
    kernel = ZZFeatureMapKernel(reps=1, entanglement="linear")
    assert kernel.get_params()["reps"] == 1
    assert repr(kernel) == "ZZFeatureMapKernel(entanglement='linear', reps=1)"
    twin = clone(kernel)
    assert twin is not kernel and twin.get_params() == kernel.get_params()
    restored = pickle.loads(pickle.dumps(kernel))
    assert restored.get_params() == kernel.get_params()
    with pytest.raises(ValueError, match="Invalid parameter 'depth'"):
        kernel.set_params(depth=3)

    from skkernel.datasets import make_ad_hoc

    X_train, y_train, X_test, y_test = make_ad_hoc(10, 5, random_state=0)
    search = GridSearchCV(SVC(kernel=ZZFeatureMapKernel()),
                          {"kernel__reps": [1, 2], "C": [1.0, 10.0]}, cv=2)
    search.fit(X_train, y_train)
    assert set(search.best_params_) == {"kernel__reps", "C"}
    assert search.score(X_test, y_test) >= 0.8


def test_entangler_pairs_follow_qiskit():
    assert entangler_pairs("full", 3).tolist() == [[0, 1], [0, 2], [1, 2]]
    assert entangler_pairs("linear", 3).tolist() == [[0, 1], [1, 2]]
    assert entangler_pairs("circular", 2).tolist() == [[0, 1]]
    assert entangler_pairs("circular", 3).tolist() == [[0, 1], [1, 2], [2, 0]]
    assert entangler_pairs("full", 1).shape == (0, 2)
    # Without pairs the kernel is a product of one-qubit kernels.
    X = data(6, 3)
    K = ZZFeatureMapKernel(entanglement=[], reps=1)(X)
    K1 = np.prod([ZZFeatureMapKernel(reps=1)(X[:, [i]]) for i in range(3)], axis=0)
    np.testing.assert_allclose(K, K1, atol=1e-14)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"shots": 0}, r"'shots' parameter of ZZFeatureMapKernel must be an int in "
                       r"the range \[1, inf\) or None. Got 0 instead"),
        ({"shots": -5}, "'shots' parameter .* Got -5"),
        ({"shots": 10.5}, "'shots' parameter .* Got 10.5"),
        ({"noise": 1.5}, r"'noise' parameter of ZZFeatureMapKernel must be a finite "
                         r"float in the range \[0, 1\]. Got 1.5"),
        ({"noise": -0.1}, r"'noise' parameter .* \[0, 1\]. Got -0.1"),
        ({"noise": np.nan}, r"'noise' parameter .* Got nan"),
        ({"entanglement": "ring"}, "'entanglement' parameter .*'full'.* Got 'ring'"),
        ({"entanglement": [(0, 0)]}, "entanglement must be one of .*pairs"),
        ({"entanglement": [(0, 1, 2)]}, "entanglement must be one of .*pairs"),
        ({"entanglement": [(0, 7)]}, r"entanglement pairs must index qubits 0..2"),
        ({"reps": 0}, r"'reps' parameter .* range \[1, inf\). Got 0"),
        ({"alpha": np.inf}, "'alpha' parameter .* must be a finite float. Got inf"),
        ({"alpha": np.nan}, "'alpha' parameter .* must be a finite float. Got nan"),
        ({"enforce_psd": "yes"}, "'enforce_psd' parameter .* must be a bool"),
        ({"n_jobs": 0}, "'n_jobs' parameter .* Got 0"),
        ({"backend": "tpu"}, "'backend' parameter .* must be one of .* Got 'tpu'"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        ZZFeatureMapKernel(**params)(data(3, 3))


def test_invalid_inputs():
    kernel = ZZFeatureMapKernel()
    X = data(4, 3)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        kernel(np.where(np.eye(4, 3, dtype=bool), np.nan, X))
    with pytest.raises(ValueError, match="Input Y contains infinity"):
        kernel(X, np.full((2, 3), np.inf))
    with pytest.raises(ValueError, match=r"X has 3 features \(qubits\) but Y has 2"):
        kernel(X, X[:, :2])
    with pytest.raises(TypeError, match="'data_map' parameter .* must be None or a "
                                        "callable"):
        ZZFeatureMapKernel(data_map="self_product")(X)
    with pytest.raises(ValueError, match="data_map must return one value per column"):
        ZZFeatureMapKernel(data_map=lambda x: x.sum())(X)
    with pytest.raises(ValueError, match="data_map returned NaN"):
        ZZFeatureMapKernel(data_map=lambda x: x[0] * np.inf)(X)


@pytest.mark.gpu
def test_cupy_output_stays_on_gpu():
    import cupy

    X = cupy.asarray(data(20, 5))
    K = ZZFeatureMapKernel(backend="auto")(X)
    assert isinstance(K, cupy.ndarray)
    np.testing.assert_allclose(K.get(), ZZFeatureMapKernel(backend="numpy")(X.get()),
                               atol=BACKEND_ATOL)


def test_one_qubit_closed_form_and_single_sample(backend):
    # One qubit, one layer: |Phi(x)> = (1, e^{2ix}) / sqrt(2), so
    # K(x, z) = cos^2(z - x).
    x = np.array([[0.3], [1.1], [5.0]])
    z = np.array([[2.0], [-0.4]])
    K = to_cpu(ZZFeatureMapKernel(reps=1, backend=backend)(to_device(x, backend),
                                                             to_device(z, backend)))
    np.testing.assert_allclose(K, np.cos(z.T - x) ** 2, atol=1e-14)
    assert to_cpu(ZZFeatureMapKernel(backend=backend)(to_device(x[:1], backend))
                  ).tolist() == [[1.0]]


def test_lists_float32_and_verbose(capfd):
    X = data(6, 3)
    expected = ZZFeatureMapKernel()(X)
    np.testing.assert_allclose(ZZFeatureMapKernel()(X.tolist()), expected)
    K32 = ZZFeatureMapKernel()(X.astype(np.float32))
    assert K32.dtype == np.float64
    np.testing.assert_allclose(K32, ZZFeatureMapKernel()(X.astype(np.float32)
                                                        .astype(np.float64)))
    capfd.readouterr()
    ZZFeatureMapKernel(verbose=1)(X)
    assert "ZZFeatureMapKernel" in capfd.readouterr().err


@pytest.mark.slow
def test_backends_agree_at_sixteen_qubits():
    # Angles reach alpha * sum |phi| ~ 2,600 rad here; both builders keep the
    # kernel within 1e-10 of each other.
    X, Y = data(12, 16), data(5, 16, seed=1)
    for args in [(X,), (X, Y)]:
        np.testing.assert_allclose(ZZFeatureMapKernel(backend="numba", reps=3)(*args),
                                   ZZFeatureMapKernel(backend="numpy", reps=3)(*args),
                                   rtol=0, atol=1e-10)


def test_parallel_numba_driver_matches_serial(monkeypatch):
    from skkernel.kernels import _zz_statevector

    X = data(9, 7)
    serial = ZZFeatureMapKernel(reps=3).statevectors(X)
    monkeypatch.setattr(_zz_statevector, "PARALLEL_MIN_AMPLITUDES", 0)
    parallel = ZZFeatureMapKernel(reps=3).statevectors(X)
    np.testing.assert_array_equal(parallel, serial)
    assert _zz_statevector._statevectors_parallel.signatures
