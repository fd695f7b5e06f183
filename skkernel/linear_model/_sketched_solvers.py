"""Solvers for ``min ||A x - b||^2 + alpha ||x||^2`` from a sketch of ``A``.

Everything here is written against ``xp`` (numpy or cupy): the same lines run
on the CPU and on the GPU. Notation: ``S`` is the sketch, ``A~ = [A; sqrt(alpha)
I]`` and ``b~ = [b; 0]`` the ridge-augmented problem, ``P = V_k / sigma_k`` the
preconditioner from the SVD of the R factor of ``S A~``, so that ``A~ P`` has
singular values close to 1.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..utils._linalg import gram, numerical_rank, small_factorization

# Rows per block in the fused passes g = A^T (b - A x): a block of A stays in
# the cache between the two products, so each iteration reads A once. 4 MiB
# measured fastest for the fused step on 100,000 x 200 (2-core EPYC, 32 MiB L3:
# 14 ms against 17-21 ms for 0.25-2 MiB and 15-17 ms for 8-16 MiB).
_BLOCK_BYTES = 2**22
# Steps without a new minimum of the normal residual that mean "at the floor".
_STAGNATION = 5


@dataclass
class SketchedSystem:
    """The sketch-and-solve answer and the preconditioner of one sketch."""

    P: object  # (d, k) preconditioner, A~ P well conditioned
    x0: object  # (d,) sketch-and-solve solution
    sketch_residual: float  # ||S A~ x0 - S b~||
    rank: int


def sketch_and_solve(SA, Sb, alpha, xp):
    """Solve the sketched problem; return it with the SVD preconditioner.

    One QR of ``[S A~, S b~]`` gives both ``R`` and ``Q^T S b~`` (the last
    column), and the SVD ``R = U diag(s) V^T`` gives the rank, the
    preconditioner ``P = V_k / s_k`` and ``x0 = P U_k^T Q^T S b~``.
    """
    d = SA.shape[1]
    if not (bool(xp.isfinite(SA).all()) and bool(xp.isfinite(Sb).all())):
        # Finite data whose sums overflow (values near 1e308): LAPACK would
        # fail on the inf with a cryptic message, or return NaN.
        raise ValueError(
            "The sketch of X and y is not finite: the data's magnitude overflows "
            "float64 arithmetic. Rescale X and y (for example with "
            "StandardScaler) and fit again."
        )
    blocks = [[SA, Sb[:, None]]]
    if alpha > 0:
        blocks.append([math.sqrt(alpha) * xp.eye(d), xp.zeros((d, 1))])
    stacked = xp.concatenate([xp.concatenate(row, axis=1) for row in blocks], axis=0)
    with small_factorization():
        R_full = xp.linalg.qr(stacked, mode="r")
        R, c = R_full[:d, :d], R_full[:d, d]
        U, s, Vt = xp.linalg.svd(R)
    residual = float(abs(R_full[d, d])) if R_full.shape[0] > d else 0.0
    k = numerical_rank(s, stacked.shape)
    P = Vt[:k].T / s[:k]
    x0 = P @ (U[:, :k].T @ c)
    if k < d:
        # The dropped directions also carry part of the sketched residual.
        residual = float(math.hypot(residual, float(xp.linalg.norm(U[:, k:].T @ c))))
    return SketchedSystem(P=P, x0=x0, sketch_residual=residual, rank=k)


# Largest condition number of A~ for which the Cholesky factor of the
# computed Gram matrix is used as the preconditioner: the computed Gram is
# off by about eps ||A||^2, so A~ R^-1 has singular values within about
# cond(A~)^2 eps of 1 (1e-2 at 1e7). Above it, sketch-and-precondition.
GRAM_MAX_CONDITION = 1e7


def gram_cholesky_system(A, alpha, xp):
    """The Cholesky factor of ``A~^T A~`` as a preconditioner, or ``None``.

    ``A~^T A~ = A^T A + alpha I = R^T R`` costs one level-3 pass over ``A``
    (``syrk``, ``n d^2`` flops at BLAS-3 rate, see
    :func:`~skkernel.utils._linalg.gram`) and ``P = R^-1`` makes
    ``A~ P`` orthogonal up to the rounding of the Gram matrix, about
    ``cond(A~)^2 eps``: LSQR on it then gains about that factor per
    iteration (the corrected semi-normal equations of Björck, with LSQR as
    the correction). Returns ``None`` when the factorisation fails or
    ``cond(R) > GRAM_MAX_CONDITION`` (the caller sketches instead); the
    start is ``x0 = 0``, which costs no pass over ``A``.
    """
    d = A.shape[1]
    G = gram(A, xp)  # syrk: on the CPU over row blocks in parallel
    if alpha > 0:
        G[xp.diag_indices(d)] += alpha
    if not bool(xp.isfinite(G).all()):
        return None
    # d x d factorisations: no thread limit needed (threadpoolctl's first
    # use alone costs ~15 ms of library scanning on the first fit).
    try:
        L = xp.linalg.cholesky(G)
    except Exception:  # numpy's and cupy's LinAlgError
        return None
    if not bool(xp.isfinite(L).all()):  # cupy returns NaN instead of raising
        return None
    s = xp.linalg.svd(L, compute_uv=False)
    if not float(s[-1]) > 0 or float(s[0] / s[-1]) > GRAM_MAX_CONDITION:
        return None
    # numpy's inverse, not scipy's solve_triangular: scipy links its own
    # OpenBLAS, whose threads, still spinning after the call, slowed the
    # next numpy BLAS passes of LSQR 3-10x on 2 cores (33-122 ms against
    # 10 ms for the first fused step at 100,000 x 200).
    P = xp.linalg.inv(L.T)
    return SketchedSystem(P=P, x0=xp.zeros(d), sketch_residual=float("nan"),
                          rank=d)


def _block_rows(A, xp):
    if xp is not np:
        return A.shape[0]
    return max(64, _BLOCK_BYTES // (8 * max(1, A.shape[1])))


def normal_residual(A, b, x, alpha, xp):
    """``A~^T (b~ - A~ x)`` and ``||b~ - A~ x||^2`` in one pass over ``A``.

    ``b=None`` means ``b = 0``, so ``-normal_residual(A, None, v)[0]`` is the
    product ``A~^T A~ v``.
    """
    step = _block_rows(A, xp)
    g = xp.zeros(A.shape[1])
    rr = 0.0
    for start in range(0, A.shape[0], step):
        block = A[start:start + step]
        r = -(block @ x) if b is None else b[start:start + step] - block @ x
        g += block.T @ r
        rr += float(r @ r)
    return g - alpha * x, rr + alpha * float(x @ x)


def bidiagonalization_step(A, y, u, alfa, xp):
    """``u_new = A y - alfa u`` and ``A^T u_new`` in one pass over ``A``.

    The two products of a Golub-Kahan step are fused over row blocks: LSQR
    normalises ``u_new`` by its norm before applying ``A^T``, but by
    linearity ``A^T (u_new / beta) = (A^T u_new) / beta``, so the
    normalisation can wait until the pass is done.
    """
    step = _block_rows(A, xp)
    u_new = xp.empty_like(u)
    g = xp.zeros(A.shape[1])
    for start in range(0, A.shape[0], step):
        block = A[start:start + step]
        ub = block @ y - alfa * u[start:start + step]
        u_new[start:start + step] = ub
        g += block.T @ ub
    return u_new, g


@dataclass
class IterativeResult:
    x: object
    n_iter: int
    converged: bool
    residual_norm: float


def lsqr(A, b, alpha, system, tol, max_iter, xp, progress=None):
    """LSQR (Paige and Saunders) on ``A~ P``, warm-started at ``x0``.

    Solves ``min ||A~ P z - r0||`` for ``r0 = b~ - A~ x0`` and returns
    ``x0 + P z``. The warm start is dropped when it is worse than zero
    (``||r0|| >= ||b~||``), as in PARLA. Each iteration reads ``A`` once
    (:func:`bidiagonalization_step`). Stopping rule of LSQR with
    ``atol = btol = tol``, except that ``||A~ P||`` is taken as 1 (what the
    preconditioner makes it) instead of LSQR's Frobenius-norm estimate,
    which grows with the iterations and stops too early. ``progress``, if
    given, is called after each iteration with the residual norm (all three
    iterative solvers take it; FOSSILS passes ``None``).
    """
    P = system.P
    sqrt_alpha = math.sqrt(alpha)
    x0 = system.x0
    from_zero = not bool(xp.any(x0))  # a zero start needs no pass over A
    if not from_zero:
        u1 = b - A @ x0
        u2 = -sqrt_alpha * x0
        from_zero = float(u1 @ u1 + u2 @ u2) >= float(b @ b)
    if from_zero:
        x0 = xp.zeros_like(x0)
        u1, u2 = b.copy(), xp.zeros(A.shape[1])

    def rmatvec(v1, v2):
        return P.T @ (A.T @ v1 + sqrt_alpha * v2)

    beta = math.sqrt(float(u1 @ u1 + u2 @ u2))
    z = xp.zeros(P.shape[1])
    if beta == 0:
        return IterativeResult(x0, 0, True, 0.0)
    bnorm = beta
    u1, u2 = u1 / beta, u2 / beta
    v = rmatvec(u1, u2)
    alfa = float(xp.linalg.norm(v))
    if alfa == 0:
        return IterativeResult(x0, 0, True, beta)
    v = v / alfa
    w = v.copy()
    phibar, rhobar = beta, alfa
    rnorm = beta
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        y = P @ v
        u1, g = bidiagonalization_step(A, y, u1, alfa, xp)
        u2 = sqrt_alpha * y - alfa * u2
        beta = math.sqrt(float(u1 @ u1 + u2 @ u2))
        if beta > 0:
            u1, u2 = u1 / beta, u2 / beta
            v = P.T @ (g / beta + sqrt_alpha * u2) - beta * v
            alfa = float(xp.linalg.norm(v))
            if alfa > 0:
                v = v / alfa
        rho = math.hypot(rhobar, beta)
        c, s = rhobar / rho, beta / rho
        theta = s * alfa
        rhobar = -c * alfa
        phi = c * phibar
        phibar = s * phibar
        z = z + (phi / rho) * w
        w = v - (theta / rho) * w
        rnorm = phibar
        arnorm = phibar * alfa * abs(c)
        xnorm = float(xp.linalg.norm(z))
        if progress is not None:
            progress(rnorm)
        if (arnorm <= tol * rnorm
                or rnorm <= tol * bnorm + tol * xnorm
                or alfa == 0 or beta == 0):
            converged = True
            break
    return IterativeResult(x0 + P @ z, n_iter, converged, rnorm)


def _heavy_ball_parameters(rank, sketch_size):
    """Damping and momentum of iterative sketching with momentum.

    For a sketch with ``m`` rows, ``A~ P`` has squared singular values in
    about ``[(1 + sqrt(k/m))^-2, (1 - sqrt(k/m))^-2]``; Polyak's heavy ball
    tuned to that interval uses step ``(1 - k/m)^2`` and momentum ``k/m``.
    """
    ratio = min(rank / sketch_size, 0.5)
    return (1.0 - ratio) ** 2, ratio


def iterative_sketching(A, b, alpha, system, sketch_size, tol, max_iter, xp,
                        progress=None):
    """Iterative sketching with momentum (Epperly 2024), forward stable.

    ``x+ = x + step P P^T A~^T (b~ - A~ x) + momentum (x - x_prev)``; the
    residual is recomputed from ``b - A x`` at each step (one pass over
    ``A``), which is what makes the method stable. Stops when the
    preconditioned normal residual ``||P^T A~^T r||`` drops below
    ``tol * ||r||``, or when it has not reached a new minimum for
    ``_STAGNATION`` steps: it then sits at the rounding floor (about
    ``u cond(A) ||r||``), which an ill-conditioned problem may hold above
    ``tol``.
    """
    P = system.P
    step, momentum = _heavy_ball_parameters(system.rank, sketch_size)
    x = system.x0
    x_prev = x
    converged = False
    n_iter = 0
    g, rr = normal_residual(A, b, x, alpha, xp)
    best, since_best = math.inf, 0
    while n_iter < max_iter:
        n_iter += 1
        h = P.T @ g
        x, x_prev = x + step * (P @ h) + momentum * (x - x_prev), x
        g, rr = normal_residual(A, b, x, alpha, xp)
        criterion = float(xp.linalg.norm(P.T @ g))
        if progress is not None:
            progress(math.sqrt(rr))
        if criterion < best:
            best, since_best = criterion, 0
        else:
            since_best += 1
        if criterion <= tol * math.sqrt(rr) or rr == 0 or since_best >= _STAGNATION:
            converged = True
            break
    return IterativeResult(x, n_iter, converged, math.sqrt(rr))


def fossils(A, b, alpha, system, sketch_size, tol, max_iter, xp, n_refinements=2,
            progress=None):
    """FOSSILS (Epperly, Meier and Nakatsukasa 2024), backward stable.

    From the sketch-and-solve ``x0``, each of ``n_refinements`` steps forms
    ``c = P^T A~^T (b~ - A~ x)`` and solves ``(P^T A~^T A~ P) y = c`` by
    Polyak's heavy ball, then sets ``x += P y``. Each inner solve runs the
    number of heavy-ball steps that the rate ``sqrt(k/m)`` needs to reduce
    the error by ``tol`` (a fixed count, as in FOSSILS), within ``max_iter``
    steps in all.
    """
    P = system.P
    step, momentum = _heavy_ball_parameters(system.rank, sketch_size)
    x = system.x0
    n_inner = math.ceil(math.log(tol) / math.log(max(math.sqrt(momentum), 1e-3)))
    n_iter = 0
    converged = True
    g, rr = normal_residual(A, b, x, alpha, xp)
    for _ in range(n_refinements):
        c = P.T @ g
        if float(xp.linalg.norm(c)) <= tol * math.sqrt(rr) or rr == 0:
            break
        y = xp.zeros_like(c)
        y_prev = y
        inner = c
        steps = min(n_inner, max_iter - n_iter)
        converged = steps == n_inner
        for j in range(steps):
            if j > 0:
                inner = c + P.T @ normal_residual(A, None, P @ y, alpha, xp)[0]
            y, y_prev = y + step * inner + momentum * (y - y_prev), y
            if progress is not None:
                progress(None)
        n_iter += steps
        x = x + P @ y
        g, rr = normal_residual(A, b, x, alpha, xp)
    return IterativeResult(x, n_iter, converged, math.sqrt(rr))
