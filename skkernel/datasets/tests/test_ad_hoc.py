"""make_ad_hoc: sizes, reproducibility, labels against an independent construction."""

import numpy as np
import pytest
from scipy.stats import unitary_group
from sklearn.utils import check_random_state

from skkernel.datasets import make_ad_hoc


def paper_expectation(X, unitary, pairs=None):
    """<Phi|V^dag Z..Z V|Phi> with the paper's kron-ordered matrices."""
    n = X.shape[1]
    if pairs is None:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    Z = np.diag([1.0, -1.0])
    H1 = np.array([[1, 1], [1, -1]]) / np.sqrt(2)

    def kron_all(ops):
        out = np.array([[1.0]])
        for op in ops:
            out = np.kron(out, op)
        return out

    H = kron_all([H1] * n)
    Zs = [np.diag(kron_all([Z if k == i else np.eye(2) for k in range(n)]))
          for i in range(n)]
    parity = np.diag(kron_all([Z] * n))
    values = []
    for x in X:
        exponent = sum(x[i] * Zs[i] for i in range(n)) + sum(
            (np.pi - x[i]) * (np.pi - x[j]) * Zs[i] * Zs[j] for i, j in pairs
        )
        U = np.diag(np.exp(1j * exponent))  # the paper's exp(+i phi Z)
        psi = U @ H @ U @ H @ np.eye(2**n)[0]
        rotated = unitary @ psi
        values.append(np.real(np.conj(rotated) @ (parity * rotated)))
    return np.array(values)


@pytest.mark.parametrize("n_qubits, entanglement, pairs", [
    (2, "full", None), (3, "full", None), (3, "linear", [(0, 1), (1, 2)]),
])
def test_labels_match_the_paper_construction(n_qubits, entanglement, pairs):
    X_train, y_train, X_test, y_test = make_ad_hoc(
        15, 5, n_qubits=n_qubits, gap=0.3, random_state=7, entanglement=entanglement
    )
    # The generator's first draw is V; the kron order (qubit 0 most
    # significant, as in the paper and Qiskit's ad_hoc_data) is permuted
    # relative to our little-endian states, which a bit-reversal fixes.
    V = unitary_group.rvs(2**n_qubits, random_state=check_random_state(7))
    size = 2**n_qubits
    reverse = np.array([int(format(b, f"0{n_qubits}b")[::-1], 2) for b in range(size)])
    V_paper = V[np.ix_(reverse, reverse)]
    for X, y in [(X_train, y_train), (X_test, y_test)]:
        expectation = paper_expectation(X, V_paper, pairs)
        assert np.all(np.abs(expectation) > 0.3)
        np.testing.assert_array_equal(y, (expectation < 0).astype(int))


def test_shapes_balance_and_domain():
    X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, random_state=0)
    assert X_train.shape == (40, 2) and X_test.shape == (10, 2)
    assert np.bincount(y_train).tolist() == [20, 20]
    assert np.bincount(y_test).tolist() == [5, 5]
    for X in (X_train, X_test):
        assert X.min() >= 0 and X.max() < 2 * np.pi
        # Grid points: multiples of 2 pi / 100.
        steps = X / (2 * np.pi / 100)
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    train = {tuple(x) for x in X_train}
    assert len(train) == 40 and not train & {tuple(x) for x in X_test}


def test_reproducible_and_seed_dependent():
    a = make_ad_hoc(10, 3, random_state=1)
    b = make_ad_hoc(10, 3, random_state=1)
    c = make_ad_hoc(10, 3, random_state=2)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_uniform_sampling_beyond_three_qubits():
    X_train, y_train, X_test, y_test = make_ad_hoc(8, 4, n_qubits=4, gap=0.1,
                                                   random_state=0)
    assert X_train.shape == (16, 4) and X_test.shape == (8, 4)
    assert np.bincount(y_train).tolist() == [8, 8]
    X_u = make_ad_hoc(5, 0, n_qubits=2, sampling="uniform", random_state=0)[0]
    assert not np.allclose(X_u / (2 * np.pi / 100), np.round(X_u / (2 * np.pi / 100)))
    assert make_ad_hoc(3, 0, n_qubits=2, random_state=0)[2].shape == (0, 2)


def test_ad_hoc_errors():
    prefix = "parameter of make_ad_hoc must be"
    with pytest.raises(ValueError,
                       match=rf"'n_train' {prefix} an int in the range \[1, inf\)"):
        make_ad_hoc(0, 5)
    with pytest.raises(ValueError,
                       match=rf"'gap' {prefix} a finite float in the range \[0, 1\)"):
        make_ad_hoc(5, 5, gap=1.0)
    with pytest.raises(ValueError, match="sampling='grid' supports up to 3 qubits"):
        make_ad_hoc(5, 5, n_qubits=4, sampling="grid")
    with pytest.raises(ValueError, match=f"'sampling' {prefix} one of"):
        make_ad_hoc(5, 5, sampling="sobol")
    with pytest.raises(ValueError, match="gap=0.99 leaves .* grid points in one class"):
        make_ad_hoc(50, 50, gap=0.99, random_state=0)
