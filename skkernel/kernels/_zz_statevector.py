"""Closed-form statevectors of the ZZ feature map.

Notation (Havlicek et al., Nature 2019, in Qiskit's convention). Basis states
are indexed by integers ``b`` with qubit ``i`` = bit ``i`` of ``b``
(little-endian, as in Qiskit). One layer of the feature map is ``D(x) H``,
where ``H`` is the Hadamard transform on all qubits and ``D`` is diagonal::

    D_b(x) = exp(i * alpha * [ sum_i phi_i(x) b_i
                               + sum_{(i, j) in E} phi_ij(x) (b_i XOR b_j) ])

(``P(alpha * phi)`` on qubit ``i`` and ``CX P CX`` on each pair of the
entangler map ``E``). The state is ``psi(x) = (D(x) H)^reps |0>``: the first
``H|0>`` is the uniform vector, every later one a fast Walsh-Hadamard
transform. The kernel ``K(x, z) = |<psi(x)|psi(z)>|^2`` is then one complex
GEMM per block of rows (see ``_zz_feature_map``).

Two builders of the states share this module: the numpy/cupy reference (the
phases as one GEMM of the data-map features with a 0/1 parity matrix, the
transform by reshapes) and the numba kernel (phases by bit doubling in
``O(2^n)`` per sample, in-place transform, samples in parallel).
"""

import numpy as np
from numba import prange

from ..backend import jit

ENTANGLEMENT_MODES = (
    "full", "linear", "reverse_linear", "pairwise", "circular", "sca",
)


def entangler_pairs(entanglement, n_qubits):
    """Qubit pairs ``E`` of the ZZ terms, as an ``(n_pairs, 2)`` int array.

    The ZZ phase gates commute, so only the multiset of pairs matters: the
    orderings Qiskit gives ``"reverse_linear"`` and ``"pairwise"`` (the
    ``"linear"`` pairs) and ``"sca"`` (the ``"circular"`` pairs, reversed in
    odd repetitions) produce the same states as ``"linear"`` and
    ``"circular"``.

    Parameters
    ----------
    entanglement : str or sequence of (int, int)
        A mode of :data:`ENTANGLEMENT_MODES` or explicit pairs (repeats
        apply the gate again, as in Qiskit).
    n_qubits : int
        Number of qubits (features).

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2)
        Pairs ``(i, j)`` with ``i != j``.
    """
    n = n_qubits
    if isinstance(entanglement, str):
        if entanglement == "full":
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        elif entanglement in ("linear", "reverse_linear", "pairwise"):
            pairs = [(i, i + 1) for i in range(n - 1)]
        else:  # "circular" and "sca": the ring; Qiskit adds (n-1, 0) from 3 qubits
            pairs = [(i, i + 1) for i in range(n - 1)]
            if n > 2:
                pairs.append((n - 1, 0))
        return np.array(pairs, dtype=np.int64).reshape(-1, 2)
    pairs = np.asarray(entanglement, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise ValueError(
            f"entanglement pairs must index qubits 0..{n - 1} (one per feature), "
            f"got {pairs.tolist()}."
        )
    return pairs


def self_product(x):
    """The paper's data map: ``x_i`` for one qubit, ``prod (pi - x_j)`` for more.

    Parameters
    ----------
    x : array of shape (k, n_samples)
        One row per qubit of the term ``S`` (``k = |S|``).

    Returns
    -------
    phi : array of shape (n_samples,)
        ``phi_S`` for every sample.
    """
    if len(x) == 1:
        return x[0]
    phi = np.pi - x[0]
    for row in x[1:]:
        phi = phi * (np.pi - row)
    return phi


def phase_features(X, pairs, data_map, xp=np):
    """Data-map values ``[phi_1 .. phi_n, phi_e for e in E]`` per sample.

    Parameters
    ----------
    X : array of shape (n_samples, n_qubits)
        Input features (one qubit each).
    pairs : ndarray of shape (n_pairs, 2)
        Entangler map.
    data_map : callable
        ``data_map(x)`` with ``x`` of shape ``(|S|, m)`` returns ``(m,)``.
    xp : module
        ``numpy`` or ``cupy``.

    Returns
    -------
    features : array of shape (n_samples, n_qubits + n_pairs)
        float64, C-contiguous.
    """
    # One data_map call per arity: samples and terms are stacked along the
    # second axis, which data_map treats column by column.
    parts = [_map_terms(data_map, X.T[None], xp)]  # (n_qubits, n_samples)
    if len(pairs):
        idx = xp.asarray(pairs)
        parts.append(_map_terms(data_map, xp.stack([X[:, idx[:, 0]].T,
                                                    X[:, idx[:, 1]].T]), xp))
    features = xp.ascontiguousarray(xp.concatenate(parts).T)
    if not bool(xp.all(xp.isfinite(features))):
        raise ValueError("data_map returned NaN or infinite values.")
    return features


def _map_terms(data_map, x, xp):
    """Apply ``data_map`` to ``x`` of shape ``(|S|, n_terms, n_samples)``."""
    arity, n_terms, n_samples = x.shape
    phi = xp.asarray(data_map(x.reshape(arity, n_terms * n_samples)),
                     dtype=xp.float64)
    if phi.shape != (n_terms * n_samples,):
        raise ValueError(
            f"data_map must return one value per column of its input: given "
            f"shape ({arity}, {n_terms * n_samples}) it returned shape "
            f"{tuple(phi.shape)}."
        )
    return phi.reshape(n_terms, n_samples)


def parity_matrix(n_qubits, pairs, xp=np):
    """0/1 matrix ``(n_qubits + n_pairs, 2^n)``: rows ``b_i`` then ``b_i XOR b_j``."""
    b = xp.arange(2**n_qubits, dtype=xp.int64)
    bits = (b[None, :] >> xp.arange(n_qubits, dtype=xp.int64)[:, None]) & 1
    if len(pairs):
        idx = xp.asarray(pairs)
        bits = xp.concatenate([bits, bits[idx[:, 0]] ^ bits[idx[:, 1]]])
    return bits.astype(xp.float64)


def walsh_hadamard(psi, n_qubits, xp=np):
    """Unnormalised Walsh-Hadamard transform of each row of ``psi``."""
    n_rows = psi.shape[0]
    for k in range(n_qubits):
        # Axes: higher bits, bit k, lower bits.
        blocks = psi.reshape(n_rows, 2 ** (n_qubits - k - 1), 2, 2**k)
        low, high = blocks[:, :, 0, :], blocks[:, :, 1, :]
        psi = xp.stack([low + high, low - high], axis=2).reshape(n_rows, -1)
    return psi


def statevectors_reference(features, n_qubits, parity, reps, alpha, xp=np):
    """Readable statevectors ``(D H)^reps |0>``, one row per sample.

    Parameters
    ----------
    features : array of shape (n_samples, n_qubits + n_pairs)
        From :func:`phase_features`.
    n_qubits : int
        Number of qubits.
    parity : array of shape (n_qubits + n_pairs, 2^n_qubits)
        From :func:`parity_matrix`.
    reps : int
        Number of layers.
    alpha : float
        Rotation factor (2 in Qiskit's feature maps).
    xp : module
        ``numpy`` or ``cupy``.

    Returns
    -------
    psi : array of shape (n_samples, 2^n_qubits), complex128
    """
    norm = 2.0 ** (-n_qubits / 2)
    diagonal = xp.exp(1j * (alpha * (features @ parity)))
    psi = diagonal * norm  # D H |0>: H|0> is the uniform vector
    for _ in range(reps - 1):
        psi = diagonal * (walsh_hadamard(psi, n_qubits, xp) * norm)
    return psi


# ---------------------------------------------------------------- numba kernels


@jit
def _phase_diagonal(phi_single, phi_pairs, pairs, alpha, n_qubits, weights, diagonal):
    """``D_b = exp(i alpha angle_b)`` for all ``b`` by bit doubling.

    Setting bit ``k`` on top of lower bits ``b`` adds
    ``phi_k + sum_m W_km (1 - 2 b_m)`` to the angle, with ``W_km`` the
    summed pair terms of ``(k, m)`` (higher bits are still 0, so their terms
    add ``+W_km``). In phase factors that is a product: the upper half of
    ``D`` is built by doubling over the lower bits (one factor
    ``exp(-2 i alpha W_km)`` per bit), then multiplied by the lower half.
    ``O(2^n)`` multiplications and ``O(n^2)`` sines and cosines per sample.
    """
    weights[:, :] = 0.0
    for e in range(pairs.shape[0]):
        i, j = pairs[e, 0], pairs[e, 1]
        weights[i, j] += phi_pairs[e]
        weights[j, i] += phi_pairs[e]
    diagonal[0] = 1.0
    for k in range(n_qubits):
        half = 1 << k
        base = phi_single[k]
        for m in range(n_qubits):
            base += weights[k, m]
        diagonal[half] = np.cos(alpha * base) + 1j * np.sin(alpha * base)
        for m in range(k):
            step = 1 << m
            turn = -2.0 * alpha * weights[k, m]
            factor = np.cos(turn) + 1j * np.sin(turn)
            for b in range(step):
                diagonal[half + step + b] = diagonal[half + b] * factor
        for b in range(half):
            diagonal[half + b] *= diagonal[b]


@jit
def _walsh_hadamard_inplace(row):
    size = row.shape[0]
    h = 1
    while h < size:
        for start in range(0, size, 2 * h):
            for j in range(start, start + h):
                a = row[j]
                b = row[j + h]
                row[j] = a + b
                row[j + h] = a - b
        h *= 2


@jit
def _one_statevector(features, n_qubits, pairs, reps, alpha, norm, row):
    """``row = (D(x) H)^reps |0>`` for one sample's data-map values."""
    size = row.shape[0]
    weights = np.empty((n_qubits, n_qubits))
    diagonal = np.empty(size, dtype=np.complex128)
    _phase_diagonal(features[:n_qubits], features[n_qubits:], pairs, alpha,
                    n_qubits, weights, diagonal)
    for b in range(size):
        diagonal[b] *= norm  # D with the transform's normalisation
        row[b] = diagonal[b]  # D H |0>
    for _ in range(reps - 1):
        _walsh_hadamard_inplace(row)
        for b in range(size):
            row[b] *= diagonal[b]


# Two drivers, not one function compiled twice: numba's cache keys entries by
# function and signature only, so twin dispatchers would share one entry.
@jit
def _statevectors_serial(features, n_qubits, pairs, reps, alpha, out):
    norm = 2.0 ** (-n_qubits / 2.0)
    for s in range(features.shape[0]):
        _one_statevector(features[s], n_qubits, pairs, reps, alpha, norm, out[s])


@jit(parallel=True)
def _statevectors_parallel(features, n_qubits, pairs, reps, alpha, out):
    norm = 2.0 ** (-n_qubits / 2.0)
    for s in prange(features.shape[0]):
        _one_statevector(features[s], n_qubits, pairs, reps, alpha, norm, out[s])


# Threads pay off only when a call has enough amplitudes to build; below that,
# waking the pool costs more than it saves (and hurts on a busy machine).
PARALLEL_MIN_AMPLITUDES = 2**18


def statevectors_numba(features, n_qubits, pairs, reps, alpha, out):
    """Build ``out[s] = (D(x_s) H)^reps |0>`` with the numba kernels.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_qubits + n_pairs)
        From :func:`phase_features`.
    n_qubits : int
        Number of qubits.
    pairs : ndarray of shape (n_pairs, 2)
        Entangler map.
    reps : int
        Number of layers.
    alpha : float
        Rotation factor.
    out : ndarray of shape (n_samples, 2^n_qubits), complex128
        Written in place.
    """
    kernel = (_statevectors_parallel
              if out.size >= PARALLEL_MIN_AMPLITUDES else _statevectors_serial)
    kernel(features, n_qubits, pairs, int(reps), float(alpha), out)
    return out
