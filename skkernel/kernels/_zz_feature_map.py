"""Exact and shot-noisy fidelity kernel of the ZZ feature map (Havlicek 2019)."""

import functools
import inspect
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array, check_random_state
from threadpoolctl import ThreadpoolController

from .._config import get_config
from ..backend import (
    Dispatch,
    get_array_module,
    is_cupy_array,
    numba_threads,
    resolve_backend,
    to_cpu,
    to_device,
)
from ..base import (
    COMMON_CONSTRAINTS,
    Interval,
    Options,
    _param_names,
    validate_parameter_constraints,
)
from ..utils import progress_bar
from ._zz_statevector import (
    ENTANGLEMENT_MODES,
    entangler_pairs,
    parity_matrix,
    phase_features,
    self_product,
    statevectors_numba,
    statevectors_reference,
)

_MIB = 2**20
_SYMMETRIC_BLOCK = 128
_THREADED_GEMM_WORK = 2**25

#: Constraints of the kernel's parameters, shared with QuantumKernelSVC.
KERNEL_CONSTRAINTS = {
    "reps": [Interval(Integral, 1, None)],
    # Explicit pairs are checked by _check_pairs (shape, distinct qubits).
    "entanglement": [Options(*ENTANGLEMENT_MODES), list, tuple, np.ndarray],
    "alpha": [Interval(Real, None, None)],
    "data_map": [None, "callable"],
    "shots": [Interval(Integral, 1, None), None],
    "noise": [Interval(Real, 0, 1)],
    "enforce_psd": ["boolean"],
    **COMMON_CONSTRAINTS,
}


@dataclass(frozen=True)
class _Spec:
    """Validated parameters of one kernel evaluation."""

    reps: int
    entanglement: object
    alpha: float
    data_map: object
    shots: int | None
    noise: float
    enforce_psd: bool
    backend: str


class ZZFeatureMapKernel:
    """Fidelity kernel of the ZZ feature map, simulated exactly.

    ``K(x, z) = |<Phi(x)|Phi(z)>|^2`` where ``|Phi(x)> = (U_Phi(x) H)^reps
    |0>`` is Qiskit's ``zz_feature_map`` state: Hadamards on every qubit,
    then the phase ``alpha * phi_i(x)`` on each qubit and
    ``alpha * phi_ij(x)`` on each entangled pair, repeated ``reps`` times.
    The states are computed in closed form (diagonal phase layers and fast
    Walsh-Hadamard transforms) and the Gram matrix is one complex matrix
    product per block of rows, so a kernel that takes a circuit simulator
    seconds is computed in milliseconds. Values agree with
    qiskit-machine-learning's ``FidelityStatevectorKernel`` to about
    ``1e-14``.

    The object is a callable kernel: ``k(X, Y=None)`` returns the Gram
    matrix, and ``sklearn.svm.SVC(kernel=k)`` works. It is not an
    estimator, but it has ``get_params``/``set_params``, so
    ``GridSearchCV`` can tune ``kernel__reps`` of an ``SVC`` holding it.
    Each feature is one qubit; the cost grows as ``2^n_features``.

    Read more in the :ref:`User Guide <quantum_kernel_svc>`.

    Parameters
    ----------
    reps : int, default=2
        Number of layers ``U_Phi H``; the paper's map is ``reps=2``.
    entanglement : {"full", "linear", "reverse_linear", "pairwise", \
            "circular", "sca"} or sequence of (int, int), default="full"
        Pairs ``(i, j)`` that get a ``Z_i Z_j`` term, with Qiskit's meaning
        of the names (``"full"``: all pairs, Qiskit's default;
        ``"linear"``: neighbours; ``"circular"``: neighbours and the
        ``(n-1, 0)`` pair from three qubits). Explicit pairs index features.
    alpha : float, default=2.0
        Rotation factor multiplying every phase (Qiskit's convention; with
        2.0 the kernel equals the paper's ``exp(i phi_S Z...)``).
    data_map : callable or None, default=None
        ``phi_S`` for a term ``S``. ``None`` is the paper's map
        ``phi_i = x_i``, ``phi_ij = (pi - x_i)(pi - x_j)``. A callable gets
        an array ``x`` of shape ``(|S|, m)``, one row per qubit of ``S`` and
        one column per sample, and returns shape ``(m,)``; Qiskit data maps
        written with ``x[0]``, ``len(x)`` and numpy functions work as they
        are. It must treat columns independently.
    shots : int or None, default=None
        ``None`` gives the exact kernel. An int simulates measuring the
        all-zeros outcome ``shots`` times per entry:
        ``Binomial(shots, K) / shots``. For ``k(X)`` the upper triangle is
        sampled and mirrored and the diagonal set to 1 (before the PSD
        projection of ``enforce_psd``, which moves it slightly).
    noise : float, default=0.0
        Strength ``p`` of a global depolarising channel on the
        compute-uncompute circuit: ``K -> (1 - p) K + p / 2^n``, applied
        before the shots. The diagonal of ``k(X)`` stays 1.
    enforce_psd : bool, default=True
        Project ``k(X)`` onto the positive semi-definite cone
        (eigendecomposition, negative eigenvalues set to 0) when it is
        sampled with ``shots``; exact kernels are PSD already.
    random_state : int, RandomState instance or None, default=None
        Seeds the shot noise. An int gives the same matrix at every call
        and on every backend.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"numpy"``: the readable reference; ``"numba"``: parallel CPU
        state construction (default for CPU input); ``"cupy"``: the
        reference on the GPU (cuBLAS products).
    n_jobs : int, default=None
        Threads during a call (``-1``: all; ``None``: numba's current
        count): numba's for the states, Python threads each running
        single-threaded BLAS for the Gram products. Thread settings are
        restored afterwards.
    verbose : int, default=0
        Show a progress bar over the row blocks when positive.

    See Also
    --------
    skkernel.svm.QuantumKernelSVC : Support vector classifier on this kernel.
    skkernel.datasets.make_ad_hoc : The paper's ad hoc data.
    sklearn.metrics.pairwise.rbf_kernel : A classical kernel to compare with.

    Notes
    -----
    Closed form: with basis states indexed by ``b`` (qubit ``i`` = bit
    ``i``), one layer is ``D(x) H`` with
    ``D_b = exp(i alpha [sum_i phi_i b_i + sum_(i,j) phi_ij (b_i XOR
    b_j)])``. Qiskit's phase gate gives the complex conjugate of the
    paper's ``exp(+i phi Z)`` (the Hadamards are real), which leaves every
    kernel value unchanged. Cost is ``O(N (n + reps n) 2^n)`` for the
    states (``O(N |E| 2^n)`` with the numpy reference) and ``O(N M 2^n)``
    for the Gram matrix, with ``2^n`` complex numbers held per sample of
    ``Y`` (of ``X`` for ``k(X)``).

    Memory: the statevectors of ``Y`` (or ``X``) are held, the rows of
    ``X`` are processed in blocks sized by
    ``skkernel.config_context(working_memory=...)`` (MiB). A request that
    cannot fit is refused with a ``MemoryError`` that states the memory it
    needs; the output matrix itself is not counted.

    Deviations from qiskit-machine-learning's ``FidelityStatevectorKernel``:
    with ``shots``, ``K[i, j]`` and ``K[j, i]`` of ``k(X)`` are one draw
    (Qiskit draws them independently, so its matrix is not symmetric), and
    the PSD projection uses ``eigh`` instead of ``eig``. ``noise`` is not
    in Qiskit's class; it is the global depolarising model.

    References
    ----------
    .. [1] V. Havlicek, A. D. Corcoles, K. Temme, A. W. Harrow, A. Kandala,
       J. M. Chow and J. M. Gambetta, "Supervised learning with
       quantum-enhanced feature spaces", Nature 567, 209-212 (2019).
       https://arxiv.org/abs/1804.11326

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.kernels import ZZFeatureMapKernel
    >>> X = np.array([[0.1, 2.0], [1.5, 0.3], [3.0, 4.0]])
    >>> K = ZZFeatureMapKernel(reps=2, entanglement="linear")(X)
    >>> K.shape, bool(np.allclose(np.diag(K), 1.0)), bool(np.allclose(K, K.T))
    ((3, 3), True, True)
    """

    def __init__(
        self,
        reps=2,
        *,
        entanglement="full",
        alpha=2.0,
        data_map=None,
        shots=None,
        noise=0.0,
        enforce_psd=True,
        random_state=None,
        backend="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.reps = reps
        self.entanglement = entanglement
        self.alpha = alpha
        self.data_map = data_map
        self.shots = shots
        self.noise = noise
        self.enforce_psd = enforce_psd
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    # --------------------------------------------------------- parameter API

    @classmethod
    def _get_param_names(cls):
        return _param_names(cls)  # cached: checked on every kernel call

    def get_params(self, deep=True):
        """Get the parameters of this kernel.

        Parameters
        ----------
        deep : bool, default=True
            Unused (the kernel holds no sub-objects); kept for the
            scikit-learn parameter protocol.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set the parameters of this kernel.

        Parameters
        ----------
        **params : dict
            Kernel parameters.

        Returns
        -------
        self : ZZFeatureMapKernel
            The kernel.
        """
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for ZZFeatureMapKernel; "
                    f"valid parameters are {valid}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
            if name != "self"
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not (value is defaults[name] or (
                type(value) is type(defaults[name]) and value == defaults[name]))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ------------------------------------------------------------ evaluation

    def __call__(self, X, Y=None):
        """Return the kernel matrix ``K[i, j] = |<Phi(X_i)|Phi(Y_j)>|^2``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            One qubit per feature; any real values (the paper draws them
            from ``[0, 2 pi)``).
        Y : array-like of shape (n_samples_Y, n_features), default=None
            ``None`` (or an array equal to ``X``) gives the symmetric
            ``k(X, X)`` with a unit diagonal.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
            Kernel values in ``[0, 1]`` (a cupy array for cupy input).
        """
        spec = self._check_params(X, Y)
        on_gpu = is_cupy_array(X) or is_cupy_array(Y)
        symmetric = Y is None or Y is X
        X = _check_samples(X, "X")
        if not symmetric:
            Y = _check_samples(Y, "Y")
            if Y.shape[1] != X.shape[1]:
                raise ValueError(
                    f"X has {X.shape[1]} features (qubits) but Y has "
                    f"{Y.shape[1]}; both must have the same number."
                )
            symmetric = Y.shape == X.shape and np.array_equal(X, Y)
        with _compute_threads(self.n_jobs) as n_threads:
            K = _fidelity_gram(X, None if symmetric else Y, spec, self.verbose,
                               n_threads)
            K = _apply_noise_model(K, spec, X.shape[1], symmetric,
                                   self.random_state)
        return to_device(K, "cupy") if on_gpu else to_cpu(K)

    def statevectors(self, X):
        """Return the feature-map states ``|Phi(x)>``, one row per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data (one qubit per feature).

        Returns
        -------
        states : ndarray of shape (n_samples, 2 ** n_features), complex128
            Amplitudes in Qiskit's order (qubit ``i`` is bit ``i`` of the
            index), equal to ``Statevector(zz_feature_map(...))`` including
            the global phase.
        """
        spec = self._check_params(X, None)
        on_gpu = is_cupy_array(X)
        X = _check_samples(X, "X")
        n_qubits = X.shape[1]
        block = _plan_memory(spec, n_qubits, X.shape[0], 0, held=X.shape[0],
                             block_states=False)
        with _compute_threads(self.n_jobs):
            states = _StateBuilder(spec, n_qubits).build(to_device(X, spec.backend),
                                                         block)
        return states if on_gpu else to_cpu(states)

    def _check_params(self, *arrays):
        validate_parameter_constraints(KERNEL_CONSTRAINTS, self.get_params(),
                                       type(self).__name__)
        entanglement = self.entanglement
        if not isinstance(entanglement, str):
            entanglement = _check_pairs(entanglement)
        backend = resolve_backend(self.backend, *[a for a in arrays if a is not None])
        return _Spec(
            reps=int(self.reps), entanglement=entanglement, alpha=float(self.alpha),
            data_map=self_product if self.data_map is None else self.data_map,
            shots=None if self.shots is None else int(self.shots),
            noise=float(self.noise), enforce_psd=bool(self.enforce_psd),
            backend=backend,
        )


def _check_pairs(entanglement):
    """Explicit entangler pairs as a tuple of (int, int), or a ValueError."""
    message = (
        f"entanglement must be one of {list(ENTANGLEMENT_MODES)} or a sequence "
        f"of qubit pairs (i, j) with i != j, got {entanglement!r}."
    )
    try:
        pairs = np.asarray(entanglement)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if pairs.size == 0:
        return ()
    if (pairs.dtype.kind not in "iu" or pairs.ndim != 2 or pairs.shape[1] != 2
            or np.any(pairs[:, 0] == pairs[:, 1])):
        raise ValueError(message)
    return tuple((int(i), int(j)) for i, j in pairs)


def _check_samples(X, name):
    return check_array(
        to_cpu(X), dtype=np.float64, ensure_all_finite=True, input_name=name,
        ensure_min_samples=1, ensure_min_features=1,
    )


@functools.cache
def _blas_controller():
    return ThreadpoolController()


@contextmanager
def _compute_threads(n_jobs):
    """numba threads from ``n_jobs``, BLAS on one thread, for one call.

    The Gram products are split across Python threads (numpy's matmul
    releases the GIL), each running single-threaded BLAS on its own column
    range. That scales like threaded BLAS on an idle machine and degrades
    gracefully on a busy one, where BLAS's own threads wait on each other
    (measured: 15x slower on an oversubscribed 2-core machine).
    """
    with numba_threads(n_jobs) as n_threads, _blas_controller().limit(
        limits=1, user_api="blas"
    ):
        yield n_threads


def _numba_scratch(spec, n_qubits):
    """Fixed bytes and bytes per row of the numba builder beyond the states."""
    import numba

    return 24 * 2**n_qubits * numba.config.NUMBA_NUM_THREADS, 0  # per-thread scratch


def _reference_scratch(spec, n_qubits):
    """Fixed bytes and bytes per row of the numpy/cupy reference builder."""
    size = 2**n_qubits
    n_terms = n_qubits + len(entangler_pairs(spec.entanglement, n_qubits))
    # The parity matrix (and its integer source); phases, diagonal and
    # transform temporaries of each row.
    return 16 * n_terms * size, 80 * size


_STATE_SCRATCH = Dispatch("ZZ statevector scratch memory", numpy=_reference_scratch,
                          numba=_numba_scratch)


def _plan_memory(spec, n_qubits, n_rows, n_cols, held, block_states):
    """Row-block size under ``working_memory``, or a MemoryError saying why not.

    ``held`` statevectors stay in memory for the whole call. Each row of a
    block needs ``n_cols`` complex overlaps, its own statevector when
    ``block_states`` (rows of ``X`` in ``k(X, Y)``), and the builder's
    temporaries.
    """
    size = 2**n_qubits
    budget = int(get_config()["working_memory"] * _MIB)
    scratch_fixed, scratch_per_row = _STATE_SCRATCH(spec.backend, spec, n_qubits)
    fixed = 16 * size * held + scratch_fixed
    # The block's complex overlaps and their moduli, and its conjugated states.
    per_row = 32 * n_cols + 16 * size + scratch_per_row
    if block_states:
        per_row += 16 * size
    needed = fixed + max(per_row, 1)
    if needed > budget:
        raise MemoryError(
            f"ZZFeatureMapKernel needs at least {needed / _MIB:,.1f} MiB for "
            f"{held} statevectors of {n_qubits} qubits ({size:,} complex "
            f"amplitudes each) on backend {spec.backend!r}, more than "
            f"working_memory={get_config()['working_memory']} MiB. Raise it with "
            "skkernel.config_context(working_memory=...), or pass fewer samples "
            "or features."
        )
    return int(min(max(n_rows, 1), (budget - fixed) // max(per_row, 1)))


def _build_reference(builder, features, out):
    out[...] = statevectors_reference(features, builder.n_qubits, builder.parity,
                                      builder.spec.reps, builder.spec.alpha,
                                      xp=builder.xp)


def _build_numba(builder, features, out):
    statevectors_numba(features, builder.n_qubits, builder.pairs, builder.spec.reps,
                       builder.spec.alpha, out)


# The reference (a GEMM with the parity matrix, transforms by reshapes) runs
# on numpy or cupy arrays; the numba kernel builds host states in parallel.
_BUILD_STATES = Dispatch("ZZ statevectors", numpy=_build_reference,
                         numba=_build_numba)


class _StateBuilder:
    """Builds statevectors of row blocks with the spec's backend."""

    def __init__(self, spec, n_qubits):
        self.spec, self.n_qubits = spec, n_qubits
        self.xp, _ = get_array_module(spec.backend)
        self.pairs = entangler_pairs(spec.entanglement, n_qubits)

    @functools.cached_property
    def parity(self):
        return parity_matrix(self.n_qubits, self.pairs, xp=self.xp)

    def build_into(self, X, out):
        features = phase_features(X, self.pairs, self.spec.data_map, xp=self.xp)
        _BUILD_STATES(self.spec.backend, self, features, out)
        return out

    def build(self, X, block, progress=None):
        states = self.xp.empty((X.shape[0], 2**self.n_qubits), dtype=self.xp.complex128)
        for start in range(0, X.shape[0], block):
            stop = min(start + block, X.shape[0])
            self.build_into(X[start:stop], states[start:stop])
            if progress is not None:
                progress.update(stop - start)
        return states


def _fidelity_gram(X, Y, spec, verbose, n_threads=1):
    """Exact ``|<Phi(x)|Phi(y)>|^2`` for all rows; ``Y=None`` means ``X, X``."""
    xp, _ = get_array_module(spec.backend)
    symmetric = Y is None
    columns = X if symmetric else Y
    n_x, n_y, n_qubits = X.shape[0], columns.shape[0], X.shape[1]
    block = _plan_memory(spec, n_qubits, n_x, n_y, held=n_y,
                         block_states=not symmetric)
    if symmetric:
        # Several row blocks let the products skip the lower triangle.
        block = min(block, max(_SYMMETRIC_BLOCK, -(-n_x // 8)))
    # Host products are split over Python threads; cuBLAS needs no help.
    threaded = (xp is np and n_threads > 1
                and n_x * n_y * 2**n_qubits >= _THREADED_GEMM_WORK)
    builder = _StateBuilder(spec, n_qubits)
    K = xp.empty((n_x, n_y))
    with progress_bar(n_x + n_y, "ZZFeatureMapKernel", verbose) as bar, \
            ThreadPoolExecutor(n_threads if threaded else 1) as pool:
        parts = n_threads if threaded else 1
        right = builder.build(to_device(columns, spec.backend), block, bar)
        if symmetric:
            for start in range(0, n_x, block):
                stop = min(start + block, n_x)
                # Blocks on and right of the diagonal; the rest is mirrored.
                upper = K[start:stop, start:]
                _squared_overlaps(right[start:stop], right[start:], upper, xp,
                                  pool, parts)
                K[stop:, start:stop] = upper[:, stop - start:].T
                square = K[start:stop, start:stop]
                lower = xp.tril_indices(stop - start, -1)
                square[lower] = square.T[lower]  # exact symmetry
                bar.update(stop - start)
            # <Phi(x)|Phi(x)> = 1 exactly; rounding would leave 1 +- 1e-15.
            xp.fill_diagonal(K, 1.0)
        else:
            X_dev = to_device(X, spec.backend)
            left = xp.empty((min(block, n_x), right.shape[1]), dtype=xp.complex128)
            for start in range(0, n_x, block):
                stop = min(start + block, n_x)
                rows = builder.build_into(X_dev[start:stop], left[: stop - start])
                _squared_overlaps(rows, right, K[start:stop], xp, pool, parts)
                bar.update(stop - start)
    return xp.clip(K, 0.0, 1.0, out=K)


def _squared_overlaps(left, right, out, xp, pool, parts):
    """``out = |conj(left) @ right.T|^2``, columns split into ``parts`` tasks."""
    left_conj = xp.conj(left)
    bounds = [round(i * right.shape[0] / parts) for i in range(parts + 1)]

    def columns(first, last):
        overlap = left_conj @ right[first:last].T
        out[:, first:last] = overlap.real**2 + overlap.imag**2

    if parts == 1:
        columns(0, right.shape[0])
    else:
        list(pool.map(columns, bounds[:-1], bounds[1:]))


def _apply_noise_model(K, spec, n_qubits, symmetric, random_state):
    """Depolarising noise, then shot noise, then the PSD projection."""
    if spec.noise > 0.0:
        K = (1.0 - spec.noise) * K + spec.noise / 2.0**n_qubits
    if spec.shots is None:
        if symmetric and spec.noise > 0.0:
            _fill_unit_diagonal(K)
        return K
    xp = _namespace(K)
    rng = check_random_state(random_state)
    # Drawn on the host so that every backend gives the same matrix.
    counts = rng.binomial(spec.shots, np.clip(to_cpu(K), 0.0, 1.0))
    K = xp.asarray(counts / spec.shots)
    if symmetric:
        upper = xp.triu(K, 1)
        K = upper + upper.T
        _fill_unit_diagonal(K)
        if spec.enforce_psd:
            eigenvalues, eigenvectors = xp.linalg.eigh(K)
            K = (eigenvectors * xp.maximum(eigenvalues, 0.0)) @ eigenvectors.T
            K = 0.5 * (K + K.T)
    return K


def _namespace(K):
    return get_array_module("cupy" if is_cupy_array(K) else "numpy")[0]


def _fill_unit_diagonal(K):
    _namespace(K).fill_diagonal(K, 1.0)
