"""Metric MDS: classical start, stress by SGD (Zheng et al. 2019) or SMACOF.

Stress is ``sum_{i<j} w_ij (|y_i - y_j| - d_ij)^2``. The SGD solver follows
s_gd2 (the solver HeatGeo calls): 30 epochs, step ``mu = min(w eta, 1)``
with ``eta`` decaying exponentially from ``1 / w_min`` to ``0.01 / w_max``,
and each pair moves both points half the residual times ``mu``.

Instead of shuffling all ``n(n-1)/2`` pairs, the points are relabelled at
random once and every epoch walks the ``n - 1`` rounds of a round-robin
schedule (circle method: each round is a perfect matching) in a fresh random
order. Pairs inside a round are disjoint, so the numpy reference updates a
whole round at once and produces exactly what the sequential numba kernel
does; no pair list is stored, and with ``D`` stored in label order a round
is read from a round-major copy of ``D``, one contiguous row per round (a
global shuffle makes every read a cache miss: 10x slower at n = 3000).

Out-of-sample points (and, with landmarks, every non-landmark sample) are
placed against fixed reference coordinates: a linear least-squares start
(the landmark-MDS triangulation of de Silva and Tenenbaum, 2004, written
for arbitrary reference coordinates), then Guttman-transform iterations
that never increase that point's stress.
"""

import numpy as np
from numba import prange
from scipy.linalg import eigh
from scipy.sparse.linalg import eigsh

from ..backend import jit
from ..utils._hash_random import hash_uniform

SGD_EPOCHS = 30
SGD_EPS = 0.01


def classical_mds(D, n_components, random_state):
    """Classical (Torgerson) MDS: top eigenvectors of ``-1/2 J D^2 J``.

    Coordinates are ``V sqrt(lambda)`` (negative eigenvalues give zero
    columns), signs fixed so each column's largest entry is positive.
    """
    m = D.shape[0]
    B = -0.5 * D**2
    B -= B.mean(axis=0)[None, :]
    B -= B.mean(axis=1)[:, None]
    k = min(n_components, m)
    if m <= 50 or k >= m - 1:
        lam, V = eigh(B, subset_by_index=[m - k, m - 1])
    else:
        v0 = random_state.uniform(-1.0, 1.0, size=m)
        # Loose tolerance: the stress solver refines these coordinates.
        lam, V = eigsh(B, k=k, which="LA", v0=v0, tol=1e-8)
    order = np.argsort(lam)[::-1]
    lam, V = lam[order], V[:, order]
    signs = np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(k)])
    signs[signs == 0] = 1.0
    Y = V * signs * np.sqrt(np.clip(lam, 0.0, None))
    if k < n_components:
        Y = np.hstack([Y, np.zeros((m, n_components - k))])
    return Y


def step_sizes(w_min, w_max, n_epochs=SGD_EPOCHS, eps=SGD_EPS):
    """s_gd2's schedule: ``eta`` from ``1/w_min`` to ``eps/w_max``."""
    eta_max, eta_min = 1.0 / w_min, eps / w_max
    decay = np.log(eta_max / eta_min) / max(n_epochs - 1, 1)
    return eta_max * np.exp(-decay * np.arange(n_epochs))


def sgd_schedule(seed, n_points, n_epochs):
    """Random relabelling of the points and a random round order per epoch.

    Returns ``labels`` (slot -> point, ``n_points`` marks the empty slot of
    an odd count) and ``rounds`` (epoch, round) in visiting order.
    """
    m = n_points + (n_points % 2)
    labels = np.argsort(hash_uniform(seed, np.arange(m)), kind="stable")
    rounds = np.empty((n_epochs, m - 1), dtype=np.int64)
    for e in range(n_epochs):
        rounds[e] = np.argsort(hash_uniform(seed, np.arange(m - 1) + (e + 1) * m),
                               kind="stable")
    return labels, rounds


def round_pairs(r, m):
    """Pairs of round ``r`` of the circle method on ``m`` (even) slots."""
    k = np.arange(1, m // 2)
    first = np.concatenate([[m - 1], (r + k) % (m - 1)])
    second = np.concatenate([[r], (r - k) % (m - 1)])
    return first, second


def _pair_weights(weights, i, j):
    return 1.0 if weights is None else weights[i, j]


def sgd_mds_reference(D, Y0, weights, etas, rounds):
    """Round-by-round vectorised SGD (the numpy oracle of the numba kernel).

    ``D``, ``Y0`` and ``weights`` are in label order; slot ``n`` (odd
    counts) is empty.
    """
    Y = Y0.copy()
    n = D.shape[0]
    m = n + (n % 2)
    for epoch, eta in enumerate(etas):
        for r in rounds[epoch]:
            i, j = round_pairs(r, m)
            valid = (i < n) & (j < n)
            i, j = i[valid], j[valid]
            w = np.ones(i.size) if weights is None else weights[i, j]
            mu = np.minimum(w * eta, 1.0)
            delta = Y[i] - Y[j]
            dist = np.sqrt((delta * delta).sum(axis=1))
            move = dist > 0
            scale = np.where(move, mu * 0.5 * (dist - D[i, j])
                             / np.where(move, dist, 1.0), 0.0)
            step = delta * scale[:, None]
            Y[i] -= step
            Y[j] += step
    return Y


@jit(parallel=True)
def _round_major(D, labels, m):
    """``R[r, k] = D[labels[i], labels[j]]`` for the ``k``-th pair of round ``r``.

    A round's pairs ``(r + k, r - k) mod (m - 1)`` lie on one anti-diagonal
    of ``D``; reading them in place jumps a page per pair, so the pair
    values are gathered once into rows that the epochs then read in order.
    """
    n = D.shape[0]
    cycle = m - 1
    R = np.empty((cycle, m // 2))
    for r in prange(cycle):
        R[r, 0] = D[labels[cycle], labels[r]] if cycle < n else np.nan
        for k in range(1, m // 2):
            i = (r + k) % cycle
            j = (r - k) % cycle
            R[r, k] = D[labels[i], labels[j]] if (i < n and j < n) else np.nan
    return R


@jit
def _sgd_mds_numba(R, Y, RW, use_weights, etas, rounds):
    n, p = Y.shape
    m = n + (n % 2)
    cycle = m - 1
    for epoch in range(etas.shape[0]):
        eta = etas[epoch]
        for q in range(cycle):
            r = rounds[epoch, q]
            # Slots r + k and r - k (mod m - 1), walked without divisions.
            i, j = cycle, r
            for k in range(m // 2):
                if k == 1:
                    i, j = r, r
                if k >= 1:
                    i += 1
                    if i == cycle:
                        i = 0
                    j -= 1
                    if j < 0:
                        j = cycle - 1
                if i >= n or j >= n:
                    continue
                w = RW[r, k] if use_weights else 1.0
                mu = min(w * eta, 1.0)
                dist = 0.0
                for c in range(p):
                    diff = Y[i, c] - Y[j, c]
                    dist += diff * diff
                dist = np.sqrt(dist)
                if dist > 0.0:
                    scale = mu * 0.5 * (dist - R[r, k]) / dist
                    for c in range(p):
                        step = (Y[i, c] - Y[j, c]) * scale
                        Y[i, c] -= step
                        Y[j, c] += step
    return Y


def sgd_mds(D, Y0, weights, seed, backend, n_epochs=SGD_EPOCHS):
    """Stress minimisation by SGD from ``Y0``; weights ``None`` means 1."""
    n = D.shape[0]
    if n < 2:
        return Y0.copy()
    if weights is None:
        w_min = w_max = 1.0
    else:
        off = weights[~np.eye(n, dtype=bool)]
        w_min, w_max = max(off.min(), 1e-12), max(off.max(), 1e-12)
    etas = step_sizes(w_min, w_max, n_epochs)
    labels, rounds = sgd_schedule(seed, n, n_epochs)
    labels = labels[labels < n]
    Y_l = Y0[labels]
    if backend == "numpy":
        W_l = None if weights is None else weights[np.ix_(labels, labels)]
        Y_l = sgd_mds_reference(D[np.ix_(labels, labels)], Y_l, W_l, etas, rounds)
    else:
        m = n + (n % 2)
        RW = (np.empty((1, 1)) if weights is None
              else _round_major(weights, labels, m))
        Y_l = _sgd_mds_numba(_round_major(D, labels, m), Y_l, RW,
                             weights is not None, etas, rounds)
    Y = np.empty_like(Y_l)
    Y[labels] = Y_l
    return Y


def stress(D, Y, weights=None):
    """Raw stress ``sum_{i<j} w_ij (|y_i - y_j| - d_ij)^2``."""
    diff = Y[:, None, :] - Y[None, :, :]
    E = np.sqrt((diff**2).sum(axis=-1))
    R = (E - D) ** 2
    if weights is not None:
        R = R * weights
    return 0.5 * float(R.sum() - np.trace(R))


def smacof(D, Y0, max_iter=300, tol=1e-6, xp=np):
    """Unweighted SMACOF (Guttman transform ``Y <- B(Y) Y / n``)."""
    D = xp.asarray(D)
    n = D.shape[0]
    Y = xp.asarray(Y0).copy()
    D = D * (1.0 - xp.eye(n))
    previous = None
    for _ in range(max_iter):
        sq = (Y * Y).sum(axis=1)
        E = xp.sqrt(xp.clip(sq[:, None] + sq[None, :] - 2.0 * Y @ Y.T, 0.0, None))
        current = float(((E - D) ** 2).sum()) / 2.0
        if previous is not None and previous - current <= tol * max(previous, 1e-300):
            break
        previous = current
        ratio = xp.where(E > 0, D / xp.where(E > 0, E, 1.0), 0.0)
        B = -ratio
        B[xp.arange(n), xp.arange(n)] = ratio.sum(axis=1) - xp.diagonal(ratio)
        Y = (B @ Y) / n
    return Y


def least_squares_start(D_rows, Y_ref):
    """Positions minimising the squared-distance residuals to references.

    Solves ``(y_l - y_mean) . x = 1/2 [(|y_l|^2 - mean |y|^2) -
    (d_l^2 - mean d^2)]`` for every row, the linearisation behind
    landmark MDS.
    """
    Yc = Y_ref - Y_ref.mean(axis=0)
    sq_ref = (Y_ref * Y_ref).sum(axis=1)
    D2 = D_rows**2
    rhs = 0.5 * ((sq_ref - sq_ref.mean())[None, :]
                 - (D2 - D2.mean(axis=1, keepdims=True)))
    return rhs @ np.linalg.pinv(Yc).T


def place_points_reference(D_rows, W_rows, Y_ref, X0, n_iter):
    """Guttman iterations for each row against fixed references (numpy)."""
    X = X0.copy()
    W = np.ones_like(D_rows) if W_rows is None else W_rows
    total = W.sum(axis=1, keepdims=True)
    for _ in range(n_iter):
        diff = X[:, None, :] - Y_ref[None, :, :]
        dist = np.sqrt((diff * diff).sum(axis=-1))
        ratio = np.where(dist > 0, D_rows / np.where(dist > 0, dist, 1.0), 0.0)
        X = ((W[:, :, None] * (Y_ref[None] + ratio[:, :, None] * diff)).sum(axis=1)
             / total)
    return X


@jit(parallel=True)
def _place_points_numba(D_rows, W_rows, use_weights, Y_ref, X, n_iter):
    n, m = D_rows.shape
    p = Y_ref.shape[1]
    for i in prange(n):
        total = 0.0
        for q in range(m):
            total += W_rows[i, q] if use_weights else 1.0
        new = np.empty(p)
        for _ in range(n_iter):
            for c in range(p):
                new[c] = 0.0
            for q in range(m):
                w = W_rows[i, q] if use_weights else 1.0
                dist = 0.0
                for c in range(p):
                    diff = X[i, c] - Y_ref[q, c]
                    dist += diff * diff
                dist = np.sqrt(dist)
                ratio = D_rows[i, q] / dist if dist > 0.0 else 0.0
                for c in range(p):
                    new[c] += w * (Y_ref[q, c] + ratio * (X[i, c] - Y_ref[q, c]))
            for c in range(p):
                X[i, c] = new[c] / total
    return X


def place_points(D_rows, W_rows, Y_ref, backend, n_iter=30):
    """Least-squares start, then ``n_iter`` Guttman iterations per row."""
    X0 = least_squares_start(D_rows, Y_ref)
    if backend == "numpy":
        # Row blocks keep the (rows, references, dims) temporaries small.
        step = max(1, 2**22 // max(1, D_rows.shape[1] * Y_ref.shape[1]))
        return np.vstack([
            place_points_reference(
                D_rows[s:s + step], None if W_rows is None else W_rows[s:s + step],
                Y_ref, X0[s:s + step], n_iter)
            for s in range(0, D_rows.shape[0], step)
        ])
    W = np.empty((1, 1)) if W_rows is None else np.ascontiguousarray(W_rows)
    return _place_points_numba(np.ascontiguousarray(D_rows), W, W_rows is not None,
                               np.ascontiguousarray(Y_ref), X0, n_iter)
