"""The ad hoc data of Havlicek et al. (Nature 2019), separable by the ZZ feature map."""

from numbers import Integral, Real

import numpy as np
from scipy.stats import unitary_group
from sklearn.utils import check_random_state

from ..base import Interval, Options, validate_parameter_constraints
from ..kernels._zz_statevector import (
    entangler_pairs,
    parity_matrix,
    phase_features,
    self_product,
    statevectors_reference,
)

# Grid points per axis (Qiskit's ad_hoc_data uses the same resolution).
_GRID_SIZES = {1: 5000, 2: 100, 3: 20}
_MAX_ROUNDS = 1000


def _parity_expectation(X, unitary, entanglement):
    """``<Phi(x)| V^dag Z...Z V |Phi(x)>`` with the paper's state ``U H U H |0>``."""
    n_qubits = X.shape[1]
    pairs = entangler_pairs(entanglement, n_qubits)
    features = phase_features(X, pairs, self_product)
    # Qiskit's phase convention gives the complex conjugate of the paper's
    # state exp(+i phi Z); conjugating restores the paper's.
    states = np.conj(statevectors_reference(
        features, n_qubits, parity_matrix(n_qubits, pairs), 2, 2.0
    ))
    rotated = states @ unitary.T
    bits = (np.arange(2**n_qubits)[:, None] >> np.arange(n_qubits)) & 1
    parity = 1.0 - 2.0 * (bits.sum(axis=1) % 2)
    return (np.abs(rotated) ** 2) @ parity


def make_ad_hoc(n_train, n_test, n_qubits=2, gap=0.3, random_state=None, *,
                entanglement="full", sampling="auto"):
    """Generate the ad hoc classification data of Havlicek et al. (2019).

    Points ``x`` in ``[0, 2 pi)^n`` are labelled by the sign of
    ``<Phi(x)| V^dag Z_1 ... Z_n V |Phi(x)>`` for the paper's ZZ feature
    state ``|Phi(x)> = U_Phi(x) H U_Phi(x) H |0>`` and a Haar-random
    unitary ``V``; points whose expectation lies within ``gap`` of zero
    are dropped. The two classes are therefore separated, with margin
    ``gap``, by a linear function of the feature state, which is what a
    ZZ-feature-map kernel SVM can learn.

    Parameters
    ----------
    n_train : int
        Training points per class.
    n_test : int
        Test points per class.
    n_qubits : int, default=2
        Number of features (qubits). The paper uses 2.
    gap : float, default=0.3
        Separation ``Delta``: keep points with ``|expectation| > gap``.
    random_state : int, RandomState instance or None, default=None
        Seeds ``V`` and the sampling.
    entanglement : {"full", "linear", "circular"}, default="full"
        Pairs with a ``Z_i Z_j`` term in the feature map (all three are the
        same for 2 qubits).
    sampling : {"auto", "grid", "uniform"}, default="auto"
        ``"grid"`` draws distinct points of a regular grid (5000 points for
        one qubit, 100 per axis for two, 20 for three); ``"uniform"``
        draws uniform points. ``"auto"`` is ``"grid"`` up to 3 qubits.

    Returns
    -------
    X_train : ndarray of shape (2 * n_train, n_qubits)
        Training points, classes shuffled together.
    y_train : ndarray of shape (2 * n_train,)
        Labels: 0 where the expectation is above ``gap``, 1 where it is
        below ``-gap`` (Qiskit's order).
    X_test : ndarray of shape (2 * n_test, n_qubits)
        Test points, disjoint from the training points on a grid.
    y_test : ndarray of shape (2 * n_test,)
        Test labels.

    See Also
    --------
    skkernel.svm.QuantumKernelSVC : Classifier that separates this data.
    skkernel.kernels.ZZFeatureMapKernel : The kernel of the feature map.

    Notes
    -----
    Compared with qiskit-machine-learning's ``ad_hoc_data``: ``V`` is
    drawn from the Haar measure (Qiskit takes the eigenvectors of a random
    Hermitian matrix), grid points are drawn without replacement so the
    training and test sets never share a point (Qiskit draws with
    replacement), and the data are shuffled. The state uses the paper's
    sign convention and Qiskit's qubit order; with a random ``V`` neither
    changes the distribution of the data.

    References
    ----------
    .. [1] V. Havlicek et al., "Supervised learning with quantum-enhanced
       feature spaces", Nature 567, 209-212 (2019).
       https://arxiv.org/abs/1804.11326

    Examples
    --------
    >>> from skkernel.datasets import make_ad_hoc
    >>> X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, random_state=0)
    >>> X_train.shape, X_test.shape, int(y_train.sum()), int(y_test.sum())
    ((40, 2), (10, 2), 20, 5)
    """
    validate_parameter_constraints(
        {
            "n_train": [Interval(Integral, 1, None)],
            "n_test": [Interval(Integral, 0, None)],
            "n_qubits": [Interval(Integral, 1, 12)],
            "gap": [Interval(Real, 0, 1, closed="left")],
            "entanglement": [Options("full", "linear", "circular")],
            "sampling": [Options("auto", "grid", "uniform")],
        },
        {"n_train": n_train, "n_test": n_test, "n_qubits": n_qubits, "gap": gap,
         "entanglement": entanglement, "sampling": sampling},
        "make_ad_hoc",
    )
    if sampling == "auto":
        sampling = "grid" if n_qubits <= 3 else "uniform"
    if sampling == "grid" and n_qubits > 3:
        raise ValueError(
            f"sampling='grid' supports up to 3 qubits, got n_qubits={n_qubits}; "
            "use sampling='uniform'."
        )
    rng = check_random_state(random_state)
    unitary = unitary_group.rvs(2**n_qubits, random_state=rng)
    per_class = n_train + n_test
    if sampling == "grid":
        classes = _grid_classes(n_qubits, per_class, gap, unitary, entanglement, rng)
    else:
        classes = _uniform_classes(n_qubits, per_class, gap, unitary, entanglement,
                                   rng)
    splits = []
    for start, stop in ((0, n_train), (n_train, per_class)):
        X = np.concatenate([points[start:stop] for points in classes])
        y = np.repeat([0, 1], stop - start)
        order = rng.permutation(len(y))
        splits += [X[order], y[order]]
    return tuple(splits)


def _grid_classes(n_qubits, per_class, gap, unitary, entanglement, rng):
    size = _GRID_SIZES[n_qubits]
    axis = np.linspace(0.0, 2 * np.pi, size, endpoint=False)
    grid = np.stack(np.meshgrid(*[axis] * n_qubits, indexing="ij"), -1)
    grid = grid.reshape(-1, n_qubits)
    expectation = _parity_expectation(grid, unitary, entanglement)
    classes = []
    for mask in (expectation > gap, expectation < -gap):
        points = grid[mask]
        if len(points) < per_class:
            raise ValueError(
                f"gap={gap} leaves {len(points)} grid points in one class, fewer "
                f"than n_train + n_test = {per_class}; lower gap or the sizes."
            )
        classes.append(points[rng.choice(len(points), per_class, replace=False)])
    return classes


def _uniform_classes(n_qubits, per_class, gap, unitary, entanglement, rng):
    found = [[], []]
    counts = [0, 0]
    for _ in range(_MAX_ROUNDS):
        X = rng.uniform(0.0, 2 * np.pi, size=(max(64, 2 * per_class), n_qubits))
        expectation = _parity_expectation(X, unitary, entanglement)
        for label, mask in enumerate((expectation > gap, expectation < -gap)):
            take = X[mask][: per_class - counts[label]]
            found[label].append(take)
            counts[label] += len(take)
        if min(counts) == per_class:
            return [np.concatenate(points) for points in found]
    raise ValueError(
        f"gap={gap} rejected almost every point: after {_MAX_ROUNDS} rounds the "
        f"classes have {counts} of {per_class} points; lower gap."
    )
