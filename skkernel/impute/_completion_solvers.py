"""The computational steps of alternating minimization for matrix completion.

Notation (Gu et al. 2024; Jain, Netrapalli and Sanghavi 2013): ``M`` is the
``m x n`` matrix, ``Omega`` its observed entries, ``U`` (``m x k``) and ``V``
(``n x k``) the factors, ``w`` the IRLS weight of each observed entry (all
ones for the squared loss). One half-step fixes one factor ``F`` and solves,
for every row ``i`` of the other one, the ridge-regularised weighted
regression::

    u_i = argmin_u  sum_{j in Omega_i} w_ij (M_ij - f_j^T u)^2 + alpha ||u||^2

whose normal equations are ``(F_i^T W_i F_i + alpha I) u = F_i^T W_i m_i``.
The same function solves the column step by passing the transposed index
structure (CSC) and ``U`` as ``F``.

Three ways to solve them (``solver``):

* ``"exact"``: form every ``k x k`` Gram matrix and solve (Cholesky):
  ``O(|Omega| k^2 + m k^3)`` a half-step, Jain et al.'s exact update.
* ``"cg"``: preconditioned conjugate gradients, warm-started at the previous
  factor. The preconditioner is shared: under uniform sampling
  ``F_i^T W_i F_i ~ (sum_j w_ij / n) F^T F``, so one eigendecomposition of
  ``F^T F`` serves every row. ``O(|Omega| k)`` per CG step.
* ``"sketch"``: the paper's sketch-and-precondition. A CountSketch ``S_i``
  with ``s = 4 k`` rows compresses ``W_i^(1/2) F_i`` (one pass, ``O(|Omega_i|
  k)``), the Cholesky factor ``R_i`` of ``(S_i W_i^(1/2) F_i)^T (S_i W_i^(1/2)
  F_i) + alpha I`` (the R of the QR of the sketch) preconditions CG on the
  row's normal equations, warm-started as above.

CG stops on each row when its residual fell by ``solver_tol`` from the warm
start, or after ``k`` steps (where exact arithmetic would have solved it).

Everything in the reference is written against ``xp`` (numpy or cupy), with
the per-row sums as sparse-matrix products (``scipy.sparse`` or
``cupyx.scipy.sparse``); the numba kernels loop over the CSR index arrays,
one row per thread. The hash that places and signs the sketch's entries is
:mod:`skkernel.utils._hash_random`, so numpy, numba and cupy draw the same
sketch.
"""

from dataclasses import dataclass

import numba
import numpy as np

from ..backend import Dispatch, get_namespace, jit
from ..utils._hash_random import hash_uniform, hash_uniform_scalar

#: Rows of the per-row CountSketch, as a multiple of the rank.
SKETCH_FACTOR = 4
#: Entries per block when the reference gathers ``|Omega| x k`` products.
_GATHER_BLOCK = 2**20

_SOLVER_CODES = {"exact": 0, "cg": 1, "sketch": 2}


@dataclass
class ObservedEntries:
    """The observed entries of an ``m x n`` matrix, in row and column order.

    ``indptr``/``indices``/``values`` are the CSR structure (row ``i``'s
    entries at ``indptr[i]:indptr[i + 1]``); ``col_indptr``/``col_indices``
    the CSC structure and ``to_col_order`` the permutation that takes an
    array in CSR order to CSC order. Arrays live on the fit's device.
    """

    shape: tuple
    indptr: object
    indices: object
    values: object
    col_indptr: object
    col_indices: object
    to_col_order: object

    @property
    def rows(self):
        """Row index of each entry (CSR order)."""
        return entry_rows(self.indptr, self.indices.shape[0],
                          get_namespace(self.indptr))


def entry_rows(indptr, n_entries, xp):
    """Row of each CSR entry (``searchsorted``: cupy's ``repeat`` takes no array)."""
    return xp.searchsorted(indptr, xp.arange(n_entries), side="right") - 1


def observed_entries(rows, cols, values, shape, xp=np):
    """Build :class:`ObservedEntries` from coordinates (any order, host)."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    order = np.lexsort((cols, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    to_col_order = np.lexsort((rows, cols))
    col_indptr = np.zeros(shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=shape[1]), out=col_indptr[1:])
    return ObservedEntries(
        shape=tuple(shape), indptr=xp.asarray(indptr), indices=xp.asarray(cols),
        values=xp.asarray(values), col_indptr=xp.asarray(col_indptr),
        col_indices=xp.asarray(rows[to_col_order]),
        to_col_order=xp.asarray(to_col_order),
    )


# ---------------------------------------------------------------- reference


def _sparse_module(xp):
    if xp is np:
        import scipy.sparse

        return scipy.sparse
    import cupyx.scipy.sparse

    return cupyx.scipy.sparse


def _row_sums(indptr, indices, data, F, xp):
    """``out[i] = sum_{j in Omega_i} data_ij F[j]``: one sparse product."""
    xsp = _sparse_module(xp)
    S = xsp.csr_matrix((data, indices, indptr), shape=(indptr.shape[0] - 1,
                                                        F.shape[0]))
    return S @ F


def _gather_products(indptr, indices, F, X, xp):
    """``f_j^T x_i`` for every entry ``(i, j)`` (CSR order), in blocks."""
    rows = entry_rows(indptr, indices.shape[0], xp)
    out = xp.empty(indices.shape[0])
    for start in range(0, indices.shape[0], _GATHER_BLOCK // max(1, F.shape[1])):
        stop = min(start + _GATHER_BLOCK // max(1, F.shape[1]), indices.shape[0])
        out[start:stop] = (F[indices[start:stop]] * X[rows[start:stop]]).sum(axis=1)
    return out


def _sketch_buckets(n_entries, sketch_rows, seed, xp):
    """CountSketch bucket and sign of every entry (entry ``e``: counters 2e, 2e+1)."""
    counters = 2 * xp.arange(n_entries, dtype=xp.int64)
    bucket = xp.floor(hash_uniform(seed, counters, xp=xp) * sketch_rows).astype(
        xp.int64)
    sign = xp.where(hash_uniform(seed, counters + 1, xp=xp) < 0.5, -1.0, 1.0)
    return bucket, sign


def solve_rows_reference(indptr, indices, values, weights, F, X0, alpha, solver,
                         solver_tol, seed):
    """One half-step: the ridge-regularised weighted regression of every row.

    Parameters
    ----------
    indptr, indices : arrays
        CSR structure of the observed entries of the rows being solved; the
        column index points into ``F``.
    values, weights : arrays of shape (n_entries,)
        Observed values and IRLS weights, in the same order.
    F : array of shape (n_other, k)
        The fixed factor.
    X0 : array of shape (n_rows, k)
        The previous factor: warm start of ``"cg"`` and ``"sketch"``.
    alpha : float
        Ridge penalty (> 0).
    solver : {"exact", "cg", "sketch"}
        How the normal equations are solved.
    solver_tol : float
        Residual reduction at which CG stops on a row.
    seed : int
        Key of the CountSketch hash (``"sketch"``).

    Returns
    -------
    X : array of shape (n_rows, k)
        The new factor.
    """
    xp = get_namespace(F)
    n_rows, k = X0.shape
    eye = xp.eye(k)
    # Right-hand sides b_i = F_i^T W_i m_i.
    b = _row_sums(indptr, indices, weights * values, F, xp)
    if solver == "exact":
        G = _row_grams(indptr, indices, weights, F, xp) + alpha * eye
        L = xp.linalg.cholesky(G)
        return _cholesky_solve(L, b, xp)
    precondition = _shared_preconditioner(indptr, weights, F, alpha, xp) \
        if solver == "cg" else _sketch_preconditioner(indptr, indices, weights, F,
                                                      alpha, seed, xp)

    def normal_matvec(P):
        products = _gather_products(indptr, indices, F, P, xp)
        return _row_sums(indptr, indices, weights * products, F, xp) + alpha * P

    return _batched_pcg(normal_matvec, precondition, b, X0, solver_tol, k, xp)


def _row_grams(indptr, indices, weights, F, xp):
    """``G_i = sum_j w_ij f_j f_j^T`` for every row: one sparse product with
    the rows of the Khatri-Rao product ``f_j (x) f_j``."""
    k = F.shape[1]
    outer = (F[:, :, None] * F[:, None, :]).reshape(F.shape[0], k * k)
    return _row_sums(indptr, indices, weights, outer, xp).reshape(-1, k, k)


def _cholesky_solve(L, b, xp):
    """Solve ``L L^T x = b`` for a stack of lower-triangular ``L``."""
    y = xp.linalg.solve(L, b[:, :, None])
    return xp.linalg.solve(xp.swapaxes(L, 1, 2), y)[:, :, 0]


def _shared_preconditioner(indptr, weights, F, alpha, xp):
    """``M_i = c_i F^T F + alpha I`` with ``c_i = sum_j w_ij / n``: one eigh."""
    lam, Q = xp.linalg.eigh(F.T @ F)
    lam = xp.maximum(lam, 0.0)
    scale = _row_weight_sums(indptr, weights, xp) / F.shape[0]
    denominator = scale[:, None] * lam[None, :] + alpha

    def apply(R):
        return ((R @ Q) / denominator) @ Q.T

    return apply


def _row_weight_sums(indptr, weights, xp):
    cumulative = xp.concatenate([xp.zeros(1), xp.cumsum(weights)])
    return cumulative[indptr[1:]] - cumulative[indptr[:-1]]


def _sketch_preconditioner(indptr, indices, weights, F, alpha, seed, xp):
    """``M_i = R_i^T R_i`` from a CountSketch of ``W_i^(1/2) F_i`` (per row)."""
    n_rows, k = indptr.shape[0] - 1, F.shape[1]
    s = SKETCH_FACTOR * k
    bucket, sign = _sketch_buckets(indices.shape[0], s, seed, xp)
    rows = entry_rows(indptr, indices.shape[0], xp)
    xsp = _sparse_module(xp)
    # Row i*s + h of S holds the entries of row i hashed to bucket h.
    S = xsp.coo_matrix((sign * xp.sqrt(weights), (rows * s + bucket, indices)),
                       shape=(n_rows * s, F.shape[0])).tocsr()
    SA = (S @ F).reshape(n_rows, s, k)
    gram = xp.swapaxes(SA, 1, 2) @ SA
    # A row with at most s entries is not sketched (S = I): its own weighted
    # Gram costs no more than the sketch's, and PCG then needs one step.
    short = (indptr[1:] - indptr[:-1]) <= s
    if bool(short.any()):
        gram = xp.where(short[:, None, None],
                        _row_grams(indptr, indices, weights, F, xp), gram)
    L = xp.linalg.cholesky(gram + alpha * xp.eye(k))

    def apply(R):
        return _cholesky_solve(L, R, xp)

    return apply


def _batched_pcg(matvec, precondition, b, X0, solver_tol, max_steps, xp):
    """PCG on every row at once; a row stops when its residual fell enough."""
    X = X0.copy()
    R = b - matvec(X)
    Z = precondition(R)
    P = Z.copy()
    rz = (R * Z).sum(axis=1)
    target = solver_tol**2 * (R * R).sum(axis=1)
    active = (R * R).sum(axis=1) > target
    for _ in range(max_steps):
        if not bool(active.any()):
            break
        AP = matvec(P)
        pAp = (P * AP).sum(axis=1)
        step = xp.where(active & (pAp > 0), rz / xp.where(pAp > 0, pAp, 1.0), 0.0)
        X = X + step[:, None] * P
        R = R - step[:, None] * AP
        active = active & ((R * R).sum(axis=1) > target)
        Z = precondition(R)
        rz_new = (R * Z).sum(axis=1)
        beta = xp.where(active, rz_new / xp.where(rz > 0, rz, 1.0), 0.0)
        P = xp.where(active[:, None], Z + beta[:, None] * P, 0.0)
        rz = rz_new
    return X


def residuals_reference(indptr, indices, values, U, V):
    """``M_ij - u_i^T v_j`` on the observed entries (CSR order)."""
    xp = get_namespace(U)
    return values - _gather_products(indptr, indices, V, U, xp)


# ---------------------------------------------------------------- numba


@jit
def _cholesky_in_place(G, k):
    """Lower Cholesky factor of ``G`` in its lower triangle; False if not SPD."""
    for j in range(k):
        d = G[j, j]
        for p in range(j):
            d -= G[j, p] * G[j, p]
        if d <= 0.0:
            return False
        d = np.sqrt(d)
        G[j, j] = d
        for i in range(j + 1, k):
            s = G[i, j]
            for p in range(j):
                s -= G[i, p] * G[j, p]
            G[i, j] = s / d
    return True


@jit
def _cholesky_solve_vec(L, r, out, k):
    """``out = (L L^T)^-1 r`` by two triangular solves."""
    for i in range(k):
        s = r[i]
        for p in range(i):
            s -= L[i, p] * out[p]
        out[i] = s / L[i, i]
    for i in range(k - 1, -1, -1):
        s = out[i]
        for p in range(i + 1, k):
            s -= L[p, i] * out[p]
        out[i] = s / L[i, i]


@jit
def _row_matvec(lo, hi, indices, weights, F, p, alpha, out, k):
    """``out = F_i^T W_i F_i p + alpha p`` over entries ``lo:hi``."""
    for a in range(k):
        out[a] = alpha * p[a]
    for e in range(lo, hi):
        j = indices[e]
        t = 0.0
        for a in range(k):
            t += F[j, a] * p[a]
        t *= weights[e]
        for a in range(k):
            out[a] += t * F[j, a]


@jit
def _shared_apply(Q, denominator, r, out, tmp, k):
    """``out = Q diag(1 / denominator) Q^T r``."""
    for a in range(k):
        s = 0.0
        for p in range(k):
            s += Q[p, a] * r[p]
        tmp[a] = s / denominator[a]
    for p in range(k):
        s = 0.0
        for a in range(k):
            s += Q[p, a] * tmp[a]
        out[p] = s


@jit
def _lower_gram(At, L, k, m):
    """The lower triangle of ``At At^T`` for ``At`` of shape (k, m), C order.

    Contiguous rows and four partial sums per dot product: the (m, k) layout
    read a column per step (stride k), and one running sum is a chain of
    dependent additions. With it a "sketch" half-sweep at k = 80 (2000 rows
    of 1,000 entries, 2 threads) took 1.08 s instead of 1.89 s.
    """
    for a in range(k):
        for c in range(a + 1):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            h = 0
            while h + 4 <= m:
                s0 += At[a, h] * At[c, h]
                s1 += At[a, h + 1] * At[c, h + 1]
                s2 += At[a, h + 2] * At[c, h + 2]
                s3 += At[a, h + 3] * At[c, h + 3]
                h += 4
            while h < m:
                s0 += At[a, h] * At[c, h]
                h += 1
            L[a, c] = (s0 + s1) + (s2 + s3)


@jit(parallel=True)
def _solve_rows_numba_kernel(indptr, indices, values, weights, F, X0, alpha, mode,
                             solver_tol, seed, Q, lam, n_other, sketch_rows):
    n_rows, k = X0.shape
    X = np.empty_like(X0)
    for i in numba.prange(n_rows):
        lo, hi = indptr[i], indptr[i + 1]
        b = np.zeros(k)
        for e in range(lo, hi):
            t = weights[e] * values[e]
            j = indices[e]
            for a in range(k):
                b[a] += t * F[j, a]
        L = np.zeros((k, k))
        if mode == 0 or mode == 2:
            # "sketch" does not sketch a row with at most sketch_rows entries
            # (S = I): its exact Gram is no dearer, and PCG takes one step.
            if mode == 0 or hi - lo <= sketch_rows:
                for e in range(lo, hi):
                    j = indices[e]
                    w = weights[e]
                    for a in range(k):
                        t = w * F[j, a]
                        for c in range(a + 1):
                            L[a, c] += t * F[j, c]
            else:
                SA = np.zeros((sketch_rows, k))
                for e in range(lo, hi):
                    h = np.int64(np.floor(hash_uniform_scalar(seed, 2 * e)
                                          * sketch_rows))
                    sign = -1.0 if hash_uniform_scalar(seed, 2 * e + 1) < 0.5 else 1.0
                    t = sign * np.sqrt(weights[e])
                    j = indices[e]
                    for a in range(k):
                        SA[h, a] += t * F[j, a]
                _lower_gram(SA.T.copy(), L, k, sketch_rows)
            for a in range(k):
                L[a, a] += alpha
            _cholesky_in_place(L, k)
        if mode == 0:
            x = np.empty(k)
            _cholesky_solve_vec(L, b, x, k)
            X[i] = x
            continue
        denominator = np.empty(k)
        if mode == 1:
            c_i = 0.0
            for e in range(lo, hi):
                c_i += weights[e]
            c_i /= n_other
            for a in range(k):
                denominator[a] = c_i * lam[a] + alpha
        x = X0[i].copy()
        r = np.empty(k)
        Ap = np.empty(k)
        z = np.empty(k)
        tmp = np.empty(k)
        _row_matvec(lo, hi, indices, weights, F, x, alpha, Ap, k)
        rr = 0.0
        for a in range(k):
            r[a] = b[a] - Ap[a]
            rr += r[a] * r[a]
        target = solver_tol * solver_tol * rr
        if mode == 1:
            _shared_apply(Q, denominator, r, z, tmp, k)
        else:
            _cholesky_solve_vec(L, r, z, k)
        p = z.copy()
        rz = 0.0
        for a in range(k):
            rz += r[a] * z[a]
        step_count = 0
        while rr > target and step_count < k:
            step_count += 1
            _row_matvec(lo, hi, indices, weights, F, p, alpha, Ap, k)
            pAp = 0.0
            for a in range(k):
                pAp += p[a] * Ap[a]
            if pAp <= 0.0:
                break
            step = rz / pAp
            rr = 0.0
            for a in range(k):
                x[a] += step * p[a]
                r[a] -= step * Ap[a]
                rr += r[a] * r[a]
            if rr <= target:
                break
            if mode == 1:
                _shared_apply(Q, denominator, r, z, tmp, k)
            else:
                _cholesky_solve_vec(L, r, z, k)
            rz_new = 0.0
            for a in range(k):
                rz_new += r[a] * z[a]
            beta = rz_new / rz if rz > 0.0 else 0.0
            for a in range(k):
                p[a] = z[a] + beta * p[a]
            rz = rz_new
        X[i] = x
    return X


def solve_rows_numba(indptr, indices, values, weights, F, X0, alpha, solver,
                     solver_tol, seed):
    """Numba twin of :func:`solve_rows_reference` (one row per thread)."""
    k = X0.shape[1]
    if solver == "cg":
        lam, Q = np.linalg.eigh(F.T @ F)
        lam = np.maximum(lam, 0.0)
    else:
        lam, Q = np.zeros(k), np.zeros((k, k))
    return _solve_rows_numba_kernel(
        indptr, indices, values, weights, np.ascontiguousarray(F),
        np.ascontiguousarray(X0), float(alpha), _SOLVER_CODES[solver],
        float(solver_tol), np.uint64(seed), np.ascontiguousarray(Q), lam,
        F.shape[0], SKETCH_FACTOR * k)


@jit(parallel=True)
def _residuals_numba_kernel(indptr, indices, values, U, V):
    out = np.empty(values.shape[0])
    k = U.shape[1]
    for i in numba.prange(U.shape[0]):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            t = 0.0
            for a in range(k):
                t += U[i, a] * V[j, a]
            out[e] = values[e] - t
    return out


def residuals_numba(indptr, indices, values, U, V):
    """Numba twin of :func:`residuals_reference`."""
    return _residuals_numba_kernel(indptr, indices, values,
                                   np.ascontiguousarray(U), np.ascontiguousarray(V))


SOLVE_ROWS = Dispatch("per-row regressions", numpy=solve_rows_reference,
                      numba=solve_rows_numba)
RESIDUALS = Dispatch("residuals on the observed entries", numpy=residuals_reference,
                     numba=residuals_numba)
