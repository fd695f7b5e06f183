"""The chain rule of a projection DPP, by rejection: numpy reference and numba.

After ``t`` points with orthonormalised features ``q_1..q_t`` (rows of
``Q``), the next point has density ``||(I - Q^T Q) psi(x)||^2 mu(dx) / (m -
t)``. Candidates ``x`` are proposed from ``rho_m = ||psi(x)||^2 mu / m`` and
kept with probability ``||(I - Q^T Q) psi(x)||^2 / ||psi(x)||^2 = 1 -
||Q psi(x)||^2 / ||psi(x)||^2`` (one product with ``Q`` per proposal); a kept
candidate's residual, normalised, becomes ``q_(t+1)`` (incremental
Gram-Schmidt, orthogonalised twice for stability).

Both versions walk one stream of candidates in order with the same
acceptance rule, so on the same stream they choose the same points.
"""

import numpy as np

from ..backend import Dispatch, jit

# A proposal whose residual is below this fraction of its norm lies (up to
# rounding) in the span of the chosen points: a point already chosen on a
# finite pool. Its acceptance probability is at most this floor, so refusing
# it changes the law by less than that, and keeps Q orthonormal.
_RELATIVE_FLOOR = 1e-10


def chain_rule_reference(Psi, sq_norms, uniforms, Q, t):
    """Advance the chain rule over a stream of candidates (numpy).

    Parameters
    ----------
    Psi : ndarray of shape (n_candidates, m)
        Orthonormal features of the proposals, drawn from ``rho_m``.
    sq_norms : ndarray of shape (n_candidates,)
        ``||Psi[c]||^2`` (the inverse Christoffel function).
    uniforms : ndarray of shape (n_candidates,)
        One uniform draw per candidate.
    Q : ndarray of shape (m, m)
        Rows ``0..t-1`` hold the orthonormalised chosen features; updated
        in place.
    t : int
        Number of points already chosen.

    Returns
    -------
    accepted : ndarray of int
        Positions in the stream of the candidates chosen now.
    t : int
        Number of points chosen after this stream.
    """
    m = Q.shape[0]
    accepted = []
    c = 0
    n_candidates = Psi.shape[0]
    while c < n_candidates and t < m:
        # About m / (m - t) proposals are needed for one acceptance.
        stop = min(n_candidates, c + 2 * m // (m - t) + 4)
        basis = Q[:t]
        coef = Psi[c:stop] @ basis.T
        res_sq = sq_norms[c:stop] - np.einsum("ij,ij->i", coef, coef)
        hits = np.flatnonzero((uniforms[c:stop] * sq_norms[c:stop] < res_sq)
                              & (res_sq > _RELATIVE_FLOOR * sq_norms[c:stop]))
        if hits.size == 0:
            c = stop
            continue
        j = hits[0]
        residual = Psi[c + j] - coef[j] @ basis
        residual -= (basis @ residual) @ basis
        Q[t] = residual / np.linalg.norm(residual)
        accepted.append(c + j)
        t += 1
        c += j + 1
    return np.asarray(accepted, dtype=np.int64), t


@jit
def _chain_rule_kernel(Psi, sq_norms, uniforms, Q, t, accepted, floor):
    m = Q.shape[0]
    n_accepted = 0
    residual = np.empty(m)
    coef = np.empty(m)
    for c in range(Psi.shape[0]):
        if t >= m:
            break
        proj_sq = 0.0
        for s in range(t):
            acc = 0.0
            for j in range(m):
                acc += Q[s, j] * Psi[c, j]
            coef[s] = acc
            proj_sq += acc * acc
        res_sq = sq_norms[c] - proj_sq
        if uniforms[c] * sq_norms[c] < res_sq and res_sq > floor * sq_norms[c]:
            for j in range(m):
                residual[j] = Psi[c, j]
            for s in range(t):
                for j in range(m):
                    residual[j] -= coef[s] * Q[s, j]
            for s in range(t):  # second Gram-Schmidt pass
                acc = 0.0
                for j in range(m):
                    acc += Q[s, j] * residual[j]
                for j in range(m):
                    residual[j] -= acc * Q[s, j]
            norm_sq = 0.0
            for j in range(m):
                norm_sq += residual[j] * residual[j]
            scale = 1.0 / np.sqrt(norm_sq)
            for j in range(m):
                Q[t, j] = residual[j] * scale
            accepted[n_accepted] = c
            n_accepted += 1
            t += 1
    return n_accepted, t


def chain_rule_numba(Psi, sq_norms, uniforms, Q, t):
    """Numba twin of :func:`chain_rule_reference` (same arguments and returns)."""
    accepted = np.empty(Q.shape[0], dtype=np.int64)
    n_accepted, t = _chain_rule_kernel(
        np.ascontiguousarray(Psi), np.ascontiguousarray(sq_norms),
        np.ascontiguousarray(uniforms), Q, int(t), accepted, _RELATIVE_FLOOR,
    )
    return accepted[:n_accepted], t


# The chain rule is sequential and small (O(m^3 log m) a sample): on every
# backend it runs on the host; a GPU run takes the reference.
CHAIN_RULE = Dispatch("projection-DPP chain rule", numpy=chain_rule_reference,
                      numba=chain_rule_numba)
