"""Membership-matrix SDPs of Peng-Wei K-means and of LA-SDP, and their solvers.

Both programs are one family. With ``m`` blocks ``B_1..B_m`` (n x n),
costs ``C_k`` and traces ``t_k``::

    minimise    sum_k <C_k, B_k>
    subject to  B_k PSD,  B_k >= 0 (entrywise),  tr B_k = t_k,
                sum_k B_k 1 = 1.

* Peng-Wei SDP K-means: ``m = 1``, ``C = -X X^T``, ``t = K``.
* LA-SDP (Zhuang, Chen, Yang, ICML 2023): ``m = K`` group-specific membership
  matrices, ``C_k = W_k = D^(k)/4 + h_k/2 11^T`` with ``D^(k)_ij`` the squared
  Mahalanobis distance under ``Sigma_k`` and ``h_k = log det Sigma_k`` (plus the
  ridge term, see :func:`lifted_costs`), ``t_k = 1``.

Two solvers, each a readable numpy reference written against ``xp``:

* :func:`admm` splits the set into ``{B_k PSD, tr B_k = t_k}`` (one
  eigendecomposition per block, eigenvalues projected onto a scaled simplex)
  and ``{B >= 0, sum_k B_k 1 = 1}`` (row ``i`` of all blocks together is
  projected onto the unit simplex); two-block ADMM with residual balancing.
  O(m n^3) a step, n up to a few thousand.
* :func:`burer_monteiro` factors ``B_k = U_k U_k^T`` with ``U_k >= 0`` of
  ``r`` columns and ``||U_k||_F^2 = t_k``, handles the row sums by an
  augmented Lagrangian, and solves each subproblem by spectral projected
  gradient. The cost matrices are never formed: ``C_k U`` comes from
  ``X``-products (:class:`GramCost`, :class:`MahalanobisCost`), O(n p r) a step.
"""

import math
from dataclasses import dataclass

import numba
import numpy as np
import scipy.linalg

from ..backend import Dispatch, jit, to_cpu

# ---------------------------------------------------------------- simplex


def project_rows_to_simplex_reference(V):
    """Project each row of ``V`` onto ``{y >= 0, sum(y) = 1}`` (sort-based)."""
    xp = V.__array_namespace__() if hasattr(V, "__array_namespace__") else np
    n_cols = V.shape[1]
    u = -xp.sort(-V, axis=1)
    css = xp.cumsum(u, axis=1) - 1.0
    ind = xp.arange(1, n_cols + 1, dtype=V.dtype)
    active = (u - css / ind) > 0
    count = xp.sum(active, axis=1)
    theta = xp.take_along_axis(css, (count - 1)[:, None], axis=1) / count[:, None]
    return xp.maximum(V - theta, 0.0)


@jit(parallel=True)
def _project_rows_to_simplex_numba(V):  # pragma: no cover - compiled
    n, L = V.shape
    out = np.empty_like(V)
    for i in numba.prange(n):
        row = V[i]
        # Michelot's pivoting: theta only grows, and stops when the support
        # no longer changes; O(L) a pass, no sort.
        theta = (row.sum() - 1.0) / L
        while True:
            total = 0.0
            count = 0
            for j in range(L):
                if row[j] > theta:
                    total += row[j]
                    count += 1
            new_theta = (total - 1.0) / count
            if new_theta <= theta:
                theta = new_theta
                break
            theta = new_theta
        for j in range(L):
            value = row[j] - theta
            out[i, j] = value if value > 0.0 else 0.0
    return out


def _project_rows_numba(V):
    return _project_rows_to_simplex_numba(np.ascontiguousarray(V))


PROJECT_ROWS_TO_SIMPLEX = Dispatch(
    "project_rows_to_simplex", numpy=project_rows_to_simplex_reference,
    numba=_project_rows_numba,
)


# ---------------------------------------------------------------- PSD step


def _eigh_top(S, n_top, xp):
    """Largest ``n_top`` eigenpairs of symmetric ``S`` (all on the GPU)."""
    n = S.shape[0]
    if xp is np and n_top < n:
        return scipy.linalg.eigh(S, subset_by_index=[n - n_top, n - 1],
                                 check_finite=False, driver="evr")
    values, vectors = xp.linalg.eigh(S)
    return values[n - n_top:], vectors[:, n - n_top:]


def project_psd_trace(S, trace, xp=np, n_top=None):
    """Project symmetric ``S`` onto ``{B PSD, tr B = trace}`` (Frobenius).

    The eigenvalues are projected onto ``{l >= 0, sum l = trace}``; only the
    eigenpairs that stay positive matter, so the top ``n_top`` are computed
    and the count doubles until the threshold lies above the smallest one
    computed.

    Returns
    -------
    B : array of shape (n, n)
    n_positive : int
        Rank of ``B`` (a good ``n_top`` for the next call).
    """
    n = S.shape[0]
    n_top = n if n_top is None else max(1, min(int(n_top), n))
    while True:
        values, vectors = _eigh_top(S, n_top, xp)
        projected = trace * project_rows_to_simplex_reference(
            (values / trace)[None, :])[0]
        # Exact when every eigenvalue not computed (all <= values[0]) is
        # clipped to zero as well.
        theta = values[-1] - projected[-1]
        if n_top == n or float(values[0]) <= float(theta):
            break
        n_top = min(n, 2 * n_top)
    keep = projected > 0
    V = vectors[:, keep]
    return (V * projected[keep]) @ V.T, int(xp.sum(keep))


# ---------------------------------------------------------------- ADMM

_RELAXATION = 1.6


@dataclass
class SDPResult:
    """Blocks ``B_k`` (or their factors), the objective and solver counters."""

    blocks: list
    objective: float
    n_iter: int
    converged: bool
    primal_residual: float
    factors: list = None
    dual: object = None
    n_outer: int = None


def _objective(costs, blocks):
    return float(sum(float((C * B).sum()) for C, B in zip(costs, blocks)))


def admm(costs, traces, *, init=None, max_iter=5000, tol=1e-6, backend="numpy",
         xp=np, progress=None):
    """Solve the membership SDP by two-block ADMM.

    Parameters
    ----------
    costs : list of arrays of shape (n, n)
        Symmetric cost matrices ``C_k``.
    traces : list of float
        ``t_k``.
    init : list of arrays, default=None
        Starting blocks (e.g. from labels); ``None`` starts from ``t_k/n``.
    max_iter : int
        Iteration cap.
    tol : float
        Relative primal and dual residual at which to stop.
    backend : str
        Picks the row-simplex projection (numba kernel or reference).
    xp : module
        numpy or cupy.
    progress : callable, default=None
        Called with the primal residual after each iteration.

    Returns
    -------
    result : SDPResult
    """
    m = len(costs)
    n = costs[0].shape[0]
    # Scale-free: the minimiser does not change when all costs are scaled.
    scale = max(float(xp.max(xp.abs(C))) for C in costs) or 1.0
    costs_scaled = [C / scale for C in costs]
    if init is None:
        Y = [xp.full((n, n), t / n) for t in traces]
    else:
        Y = [xp.asarray(B, dtype=np.float64) for B in init]
    U = [xp.zeros((n, n)) for _ in range(m)]
    # Costs are scaled to max |C| = 1 and blocks have entries ~ 1 / n_k: rho
    # ~ n / 10 balances the two residuals from the start (n = 150: 540 steps
    # for LA-SDP and 670 for Peng-Wei, against 1270 and 810 from rho = 1/n).
    rho = n / 10.0
    ranks = [max(2, int(math.ceil(t)) + 2) for t in traces]
    converged = False
    r_norm = np.inf
    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        Z = []
        for k in range(m):
            S = Y[k] - U[k] - costs_scaled[k] / rho
            S = 0.5 * (S + S.T)
            Zk, rank = project_psd_trace(S, traces[k], xp, n_top=2 * ranks[k] + 4)
            ranks[k] = max(1, rank)
            Z.append(Zk)
        # Over-relaxation (alpha = 1.6) speeds ADMM up at no cost per step.
        Z_hat = [_RELAXATION * Z[k] + (1 - _RELAXATION) * Y[k] for k in range(m)]
        stacked = xp.concatenate([Z_hat[k] + U[k] for k in range(m)], axis=1)
        projected = PROJECT_ROWS_TO_SIMPLEX(backend, stacked)
        Y_old = Y
        Y = [projected[:, k * n:(k + 1) * n] for k in range(m)]
        for k in range(m):
            U[k] = U[k] + Z_hat[k] - Y[k]
        r_norm = math.sqrt(sum(float(xp.sum((Z[k] - Y[k]) ** 2)) for k in range(m)))
        s_norm = rho * math.sqrt(sum(float(xp.sum((Y[k] - Y_old[k]) ** 2))
                                     for k in range(m)))
        z_norm = math.sqrt(sum(float(xp.sum(Z[k] ** 2)) for k in range(m)))
        u_norm = rho * math.sqrt(sum(float(xp.sum(U[k] ** 2)) for k in range(m)))
        if progress is not None:
            progress(r_norm / max(z_norm, 1e-300))
        if r_norm <= tol * max(z_norm, 1.0) and s_norm <= tol * max(u_norm, 1e-12):
            converged = True
            break
        # Residual balancing (Boyd et al. 2011, section 3.4.1); U is the
        # scaled dual, so it rescales with 1 / rho.
        if r_norm > 10 * s_norm:
            rho *= 2.0
            U = [u / 2.0 for u in U]
        elif s_norm > 10 * r_norm:
            rho /= 2.0
            U = [u * 2.0 for u in U]
    # Z satisfies the PSD and trace constraints exactly, Y the others; report
    # the blocks that meet the row sums and nonnegativity (what rounding uses).
    blocks = [0.5 * (y + y.T) for y in Y]
    return SDPResult(blocks=blocks, objective=_objective(costs, blocks),
                     n_iter=n_iter, converged=converged,
                     primal_residual=r_norm / max(z_norm, 1e-300))


# ---------------------------------------------------------------- costs
#
# Both costs have the form
#     C = g 1^T + 1 g^T + c 11^T - X M X^T,
# so C U = g (1^T U) + 1 (g^T U) + c 1 (1^T U) - X (M (X^T U)): O(n p r), never
# n x n. ``terms()`` returns (g, M, c); the compiled gradient uses them.


class GramCost:
    """``C = -X X^T``: Peng-Wei's K-means cost, applied without forming it.

    Parameters
    ----------
    X : array of shape (n, p)
        Centred data.
    """

    def __init__(self, X):
        self.X = X
        # Typical |C_ij|: the mean squared row norm.
        self.scale = float((X * X).sum()) / X.shape[0] or 1.0

    def matmul(self, U):
        return -(self.X @ (self.X.T @ U))

    def dense(self):
        return -(self.X @ self.X.T)

    def terms(self):
        """``(g, M, c)`` of ``C = g 1^T + 1 g^T + c 11^T - X M X^T``."""
        n, p = self.X.shape
        return np.zeros(n), np.eye(p), 0.0


class MahalanobisCost:
    """``W = D/4 + h/2 11^T`` with ``D_ij = (x_i - x_j)^T P (x_i - x_j)``.

    ``D U = g (1^T U) + 1 (g^T U) - 2 X P (X^T U)`` with ``g = diag(X P X^T)``:
    O(n p r + p^2 r), never n x n.

    Parameters
    ----------
    X : array of shape (n, p)
        Data (centring is irrelevant to ``D``).
    precision : array of shape (p, p)
        ``P = Sigma^-1``.
    offset : float
        ``h``: ``log det Sigma`` plus the ridge term.
    """

    def __init__(self, X, precision, offset):
        self.X = X
        self.precision = precision
        self.offset = float(offset)
        XP = X @ precision
        self.g = (XP * X).sum(axis=1)
        self.scale = max(float(self.g.mean()) / 2 + abs(self.offset) / 2, 1e-300)

    def matmul(self, U):
        column_sums = U.sum(axis=0)
        D_U = (self.g[:, None] * column_sums[None, :]
               + (self.g @ U)[None, :]
               - 2.0 * (self.X @ (self.precision @ (self.X.T @ U))))
        return 0.25 * D_U + 0.5 * self.offset * column_sums[None, :]

    def dense(self):
        XP = self.X @ self.precision
        D = self.g[:, None] + self.g[None, :] - 2.0 * (XP @ self.X.T)
        return 0.25 * D + 0.5 * self.offset

    def terms(self):
        """``(g, M, c)`` of ``W = g 1^T + 1 g^T + c 11^T - X M X^T``."""
        return 0.25 * self.g, 0.5 * self.precision, 0.5 * self.offset


# ---------------------------------------------------------------- BM gradient
#
# The augmented Lagrangian of the factored program, with the costs divided by
# ``scale``, multiplier ``y`` and penalty ``beta``:
#     L(U) = sum_k <U_k, C_k U_k> / scale + y^T res + beta/2 ||res||^2,
#     res  = sum_k U_k U_k^T 1 - 1,
#     grad_k = 2 C_k U_k / scale + v (1^T U_k) + 1 (v^T U_k),  v = y + beta res.
# Factors are stacked in one array F of shape (m, n, r).


def bm_gradient_reference(costs, scale):
    """``f(F, y, beta) -> (L, grad)`` from the costs' ``matmul`` (any ``xp``)."""

    def value_and_gradient(F, y, penalty):
        CF = [c.matmul(U) / scale for c, U in zip(costs, F)]
        column_sums = F.sum(axis=1)
        residual = sum(U @ s for U, s in zip(F, column_sums)) - 1.0
        v = y + penalty * residual
        value = (sum(float((U * CU).sum()) for U, CU in zip(F, CF))
                 + float(y @ residual) + 0.5 * penalty * float(residual @ residual))
        grads = [2.0 * CU + v[:, None] * s[None, :] + (v @ U)[None, :]
                 for U, CU, s in zip(F, CF, column_sums)]
        return value, _stack(grads, F)

    return value_and_gradient


def _stack(arrays, like):
    xp = like.__array_namespace__() if hasattr(like, "__array_namespace__") else np
    return xp.stack(arrays)


# The compiled gradient: two passes over the rows. The first reduces
# 1^T U_k, g_k^T U_k and X^T U_k; the second forms C_k U_k row by row, the row
# sums, v and the gradient, and reduces v^T U_k, which the gradient needs
# too (added at the end). fastmath: every input is finite (validated data,
# projected factors). A serial driver for small n, where starting threads
# costs more than the pass; a parallel one over row chunks for large n.


@jit(fastmath=True)
def _bm_pass_sums(X, F, G, lo, hi, acc):  # pragma: no cover - compiled
    m, _, r = F.shape
    p = X.shape[1]
    for i in range(lo, hi):
        for k in range(m):
            gi = G[k, i]
            for j in range(r):
                u = F[k, i, j]
                acc[k, j, p] += u
                acc[k, j, p + 1] += gi * u
                for a in range(p):
                    acc[k, j, a] += X[i, a] * u


@jit(fastmath=True)
def _bm_combine(total, M, c):  # pragma: no cover - compiled
    """``A_k = M_k X^T U_k`` and the row-constant part of ``C_k U_k``."""
    m, r, p2 = total.shape
    p = p2 - 2
    A = np.zeros((m, r, p))
    const = np.empty((m, r))
    for k in range(m):
        for j in range(r):
            for b in range(p):
                t = total[k, j, b]
                for a in range(p):
                    A[k, j, a] += M[k, a, b] * t
            const[k, j] = total[k, j, p + 1] + c[k] * total[k, j, p]
    return A, const


@jit(fastmath=True)
def _bm_pass_gradient(X, F, G, y, penalty, inv_scale, total, A, const, lo, hi,
                      grads, acc):  # pragma: no cover - compiled
    m, _, r = F.shape
    p = X.shape[1]
    for i in range(lo, hi):
        residual = -1.0
        for k in range(m):
            for j in range(r):
                residual += F[k, i, j] * total[k, j, p]
        v = y[i] + penalty * residual
        value = y[i] * residual + 0.5 * penalty * residual * residual
        for k in range(m):
            gi = G[k, i]
            for j in range(r):
                s = total[k, j, p]
                cu = gi * s + const[k, j]
                for a in range(p):
                    cu -= X[i, a] * A[k, j, a]
                cu *= inv_scale
                u = F[k, i, j]
                value += u * cu
                grads[k, i, j] = 2.0 * cu + v * s
                acc[k * r + j] += v * u
        acc[m * r] += value


@jit(fastmath=True)
def _bm_finish(grads, acc):  # pragma: no cover - compiled
    m, n, r = grads.shape
    for k in range(m):
        for i in range(n):
            for j in range(r):
                grads[k, i, j] += acc[k * r + j]
    return acc[m * r], grads


@jit(fastmath=True)
def _bm_value_and_gradient_serial(X, F, G, M, c, y, penalty,
                                  inv_scale):  # pragma: no cover - compiled
    m, n, r = F.shape
    p = X.shape[1]
    total = np.zeros((m, r, p + 2))
    _bm_pass_sums(X, F, G, 0, n, total)
    A, const = _bm_combine(total, M, c)
    grads = np.empty_like(F)
    acc = np.zeros(m * r + 1)
    _bm_pass_gradient(X, F, G, y, penalty, inv_scale, total, A, const, 0, n, grads,
                      acc)
    return _bm_finish(grads, acc)


@jit(parallel=True, fastmath=True)
def _bm_value_and_gradient_parallel(X, F, G, M, c, y, penalty, inv_scale,
                                    n_chunks):  # pragma: no cover - compiled
    m, n, r = F.shape
    p = X.shape[1]
    chunk = (n + n_chunks - 1) // n_chunks
    partial = np.zeros((n_chunks, m, r, p + 2))
    for t in numba.prange(n_chunks):
        _bm_pass_sums(X, F, G, t * chunk, min(n, (t + 1) * chunk), partial[t])
    total = partial.sum(axis=0)
    A, const = _bm_combine(total, M, c)
    grads = np.empty_like(F)
    partial2 = np.zeros((n_chunks, m * r + 1))
    for t in numba.prange(n_chunks):
        _bm_pass_gradient(X, F, G, y, penalty, inv_scale, total, A, const, t * chunk,
                          min(n, (t + 1) * chunk), grads, partial2[t])
    return _bm_finish(grads, partial2.sum(axis=0))


# Rows from which the parallel driver pays (measured on 2 cores).
_BM_PARALLEL_MIN_ROWS = 20_000


def bm_gradient_numba(costs, scale):
    """The same function as :func:`bm_gradient_reference`, one compiled pass."""
    X = np.ascontiguousarray(costs[0].X, dtype=np.float64)
    if any(c.X is not costs[0].X for c in costs):
        return bm_gradient_reference(costs, scale)
    terms = [c.terms() for c in costs]
    G = np.ascontiguousarray(np.stack([t[0] for t in terms]), dtype=np.float64)
    M = np.ascontiguousarray(np.stack([t[1] for t in terms]), dtype=np.float64)
    offsets = np.array([t[2] for t in terms], dtype=np.float64)
    n_threads = numba.get_num_threads()
    parallel = n_threads > 1 and X.shape[0] >= _BM_PARALLEL_MIN_ROWS

    def value_and_gradient(F, y, penalty):
        F = np.ascontiguousarray(F)
        y = np.ascontiguousarray(y)
        if parallel:
            return _bm_value_and_gradient_parallel(
                X, F, G, M, offsets, y, float(penalty), 1.0 / scale, n_threads)
        return _bm_value_and_gradient_serial(X, F, G, M, offsets, y, float(penalty),
                                             1.0 / scale)

    return value_and_gradient


BM_GRADIENT = Dispatch("bm_gradient", numpy=bm_gradient_reference,
                       numba=bm_gradient_numba)


# ---------------------------------------------------------------- Burer-Monteiro


def _project_factors(F, traces, xp):
    """Nearest point of ``{U_k >= 0, ||U_k||_F^2 = t_k}`` (clip, then rescale)."""
    F = xp.maximum(F, 0.0)
    norms2 = (F * F).sum(axis=(1, 2))
    if not bool((norms2 > 0.0).all()):  # all mass clipped: the flat factor
        for k in np.flatnonzero(to_cpu(norms2) == 0.0):
            F[int(k)] = 1.0
        norms2 = (F * F).sum(axis=(1, 2))
    return F * (xp.asarray(traces) / norms2)[:, None, None] ** 0.5


def _residual(F):
    """``sum_k U_k U_k^T 1 - 1``."""
    return sum(U @ s for U, s in zip(F, F.sum(axis=1))) - 1.0


def _feasibility(F, n):
    residual = _residual(F)
    return math.sqrt(float(residual @ residual) / n)


def burer_monteiro(costs, traces, *, rank, init=None, init_dual=None,
                   random_state=None, max_iter=200, inner_max_iter=100, tol=1e-5,
                   inner_tol=None, penalty=10.0, backend="numpy", xp=np,
                   progress=None):
    """Solve the membership SDP over nonnegative low-rank factors.

    ``B_k = U_k U_k^T``, ``U_k >= 0`` with ``rank`` columns and
    ``||U_k||_F^2 = t_k`` (so ``tr B_k = t_k``); the row sums
    ``sum_k B_k 1 = 1`` enter an augmented Lagrangian with multiplier ``y``
    and penalty ``beta``. Each subproblem is solved by spectral projected
    gradient (Barzilai-Borwein steps, nonmonotone backtracking along the
    projection arc) to a relative step of ``inner_tol``; then
    ``y += beta (c - 1)``. Stops when ``||c - 1|| / sqrt(n) < tol`` and the
    objective has settled.

    Parameters
    ----------
    costs : list of GramCost or MahalanobisCost
        Cost operators.
    traces : list of float
        ``t_k``.
    rank : int
        Columns of each factor.
    init : list of arrays of shape (n, rank), default=None
        Starting factors; ``None`` draws nonnegative random ones.
    init_dual : array of shape (n,), default=None
        Starting multiplier, in the costs' units (``SDPResult.dual`` of a
        previous solve with similar costs); ``None`` starts from zero.
    random_state : RandomState, default=None
        For the random start.
    max_iter : int
        Multiplier updates.
    inner_max_iter : int
        Gradient steps per subproblem.
    tol : float
        Feasibility and relative-progress tolerance.
    inner_tol : float, default=None
        Relative step length at which a subproblem stops; ``None`` is
        ``tol / 10``.
    penalty : float
        ``beta`` on the scaled problem.
    backend : str
        Picks the gradient (compiled kernel or reference).
    xp : module
        numpy or cupy.
    progress : callable, default=None
        Called with the feasibility residual after each multiplier update.

    Returns
    -------
    result : SDPResult
        With ``factors`` and ``dual`` set and ``blocks`` None.
    """
    n = costs[0].X.shape[0]
    scale = max(c.scale for c in costs)
    traces = np.asarray(traces, dtype=np.float64)
    if init is None:
        rng = np.random.RandomState(0) if random_state is None else random_state
        init = [rng.uniform(size=(n, rank)) for _ in costs]
    F = _project_factors(xp.stack([xp.asarray(U, dtype=np.float64) for U in init]),
                         traces, xp)
    y = xp.zeros(n) if init_dual is None else xp.asarray(init_dual) / scale
    value_and_gradient = BM_GRADIENT(backend, costs, scale)
    feasibility = _feasibility(F, n)

    step = 1.0 / n
    previous_objective = None
    converged = False
    inner_total = 0
    n_outer = 0
    for _ in range(max_iter):
        n_outer += 1
        if inner_tol is None:
            tol_j = 0.1 * tol
        elif callable(inner_tol):
            tol_j = inner_tol(tol, feasibility)
        else:
            tol_j = inner_tol
        value, grads = value_and_gradient(F, y, penalty)
        history = [value]
        for _ in range(inner_max_iter):
            inner_total += 1
            reference = max(history[-10:])
            # A step may move the factors by at most half their norm: a longer
            # one jumps to spiky corners of the orthant that trap the descent.
            g_norm = math.sqrt(float((grads * grads).sum()))
            x_norm = math.sqrt(float((F * F).sum()))
            lam = min(step, 0.5 * x_norm / max(g_norm, 1e-300))
            while True:
                trial = _project_factors(F - lam * grads, traces, xp)
                trial_value, trial_grads = value_and_gradient(trial, y, penalty)
                s = trial - F
                decrease = float((grads * s).sum())
                if trial_value <= reference + 1e-4 * decrease or lam < 1e-14:
                    break
                lam *= 0.5
            s_norm2 = float((s * s).sum())
            sy = float((s * (trial_grads - grads)).sum())
            F, grads, value = trial, trial_grads, trial_value
            history.append(value)
            # Barzilai-Borwein step for the next iteration.
            step = min(max(s_norm2 / sy, 1e-10), 1e10) if sy > 0 else 10 * lam
            if s_norm2 <= tol_j ** 2 * float((F * F).sum()):
                break
        residual = _residual(F)
        feasibility = math.sqrt(float(residual @ residual) / n)
        objective = sum(float((U * c.matmul(U)).sum()) for c, U in zip(costs, F))
        if progress is not None:
            progress(feasibility)
        # The cost scale floors the relative test: an objective of 0 (one
        # cluster on centred data) must be able to settle too.
        settled = previous_objective is not None and (
            abs(objective - previous_objective) <= tol * max(abs(objective), scale))
        if feasibility < tol and settled:
            converged = True
            break
        previous_objective = objective
        y = y + penalty * residual
    return SDPResult(blocks=None, objective=objective, n_iter=inner_total,
                     converged=converged, primal_residual=feasibility,
                     factors=list(F), dual=y * scale, n_outer=n_outer)
