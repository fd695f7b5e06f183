"""Metric MDS: classical start, stress by SGD (Zheng et al. 2019) or SMACOF.

Stress is ``sum_{i<j} w_ij (|y_i - y_j| - d_ij)^2``. The SGD solver follows
s_gd2 (the solver HeatGeo calls): 30 epochs, step ``mu = min(w eta, 1)``
with ``eta`` decaying exponentially from ``1 / w_min`` to ``0.01 / w_max``,
and each pair moves both points half the residual times ``mu``.

Instead of shuffling all ``n(n-1)/2`` pairs, the points are relabelled at
random once into ``B = 16`` blocks of ``s`` slots (spare slots stay empty)
and every epoch walks a tile schedule in a fresh random order. A *block
round* is a perfect matching of the blocks (circle method; the last round
pairs every block with itself), and a *tile* is one matched pair of blocks,
whose ``s`` sub-rounds pair slot ``a_k`` with ``b_{(k + q) mod s}`` (a block
with itself runs the circle method on its slots). The tiles of a block
round touch disjoint points, so threads take a tile each and the result
does not depend on the thread count; the pairs of a sub-round are disjoint
too, so the kernel vectorises over them and the numpy reference updates a
whole sub-round at once, producing exactly what the kernel does.

Running a whole tile before the next one lets one block pull another for
``s`` consecutive steps at full step size, which leaves the stress 1.5-1.9x
higher at n = 3000; so every epoch runs ``16`` sub-rounds of each block
round in turn and cycles until all sub-rounds are done (stress then equals
the unblocked round-robin schedule's to 0.1 %). Pair values are read from a
tile-major copy of ``D``, in visiting order (a gather from ``D`` misses the
cache on almost every pair).

With landmarks, every non-landmark sample is placed against the fixed
landmark coordinates: a linear least-squares start (the landmark-MDS
triangulation of de Silva and Tenenbaum, 2004, written for arbitrary
reference coordinates), then Guttman-transform iterations that never
increase that point's stress.
"""

import itertools

import numpy as np
from numba import prange
from scipy.linalg import eigh
from scipy.sparse.linalg import eigsh

from ..backend import Dispatch, jit
from ..utils._hash_random import hash_uniform

SGD_EPOCHS = 30
SGD_EPS = 0.01
# Blocks of the tile schedule (fixed, so results do not depend on threads),
# and sub-rounds of one block round run before the next block round's.
SGD_BLOCKS = 16
SGD_CHUNK = 16


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


def sgd_layout(n_points):
    """Blocks ``B`` (even) and block size ``s`` (even) of the tile schedule.

    ``B * s >= n_points`` slots; the spare slots are empty. ``B`` depends on
    ``n_points`` only, never on the thread count, so results do not either.
    """
    n_blocks = SGD_BLOCKS if n_points >= 16 * SGD_BLOCKS else 2
    size = 2 * max(1, -(-n_points // (2 * n_blocks)))
    return n_blocks, size


def sgd_schedule(seed, n_points, n_epochs):
    """Random slot labels and visiting orders of the tile schedule.

    Returns ``labels`` (slot -> point; ``>= n_points`` marks an empty
    slot), ``block_order`` (epoch, block round) and ``sub_order`` (epoch,
    block round, sub-round), each row a random permutation.
    """
    n_blocks, size = sgd_layout(n_points)
    n_slots = n_blocks * size
    labels = np.argsort(hash_uniform(seed, np.arange(n_slots)), kind="stable")
    counter = n_slots + np.arange(n_epochs * n_blocks)
    block_order = np.argsort(
        hash_uniform(seed, counter).reshape(n_epochs, n_blocks), axis=1, kind="stable")
    counter = n_slots + n_epochs * n_blocks + np.arange(n_epochs * n_blocks * size)
    sub_order = np.argsort(
        hash_uniform(seed, counter).reshape(n_epochs, n_blocks, size), axis=2,
        kind="stable")
    return labels, block_order, sub_order


def round_pairs(r, m):
    """Pairs of round ``r`` of the circle method on ``m`` (even) slots."""
    k = np.arange(1, m // 2)
    first = np.concatenate([[m - 1], (r + k) % (m - 1)])
    second = np.concatenate([[r], (r - k) % (m - 1)])
    return first, second


def block_round_tiles(block_round, n_blocks):
    """Block pairs ``(a, b)`` of one block round (the last one: ``a == b``)."""
    if block_round == n_blocks - 1:
        return np.arange(n_blocks), np.arange(n_blocks)
    return round_pairs(block_round, n_blocks)


def sub_round_pairs(q, size, diagonal):
    """Offsets inside the tile's blocks of the pairs of sub-round ``q``.

    A cross tile pairs ``a_k`` with ``b_{(k + q) mod s}``; a diagonal tile
    runs the circle method on its own ``s`` slots (``s - 1`` rounds).
    """
    if diagonal:
        return round_pairs(q, size)
    k = np.arange(size)
    return k, (k + q) % size


def sgd_mds_reference(D, Y0, weights, etas, labels, block_order, sub_order):
    """Sub-round by sub-round vectorised SGD (the numpy oracle of the kernel).

    All pairs of one sub-round of one block round, over all its tiles, are
    disjoint, so they are updated at once.
    """
    n = D.shape[0]
    n_blocks, size = block_order.shape[1], sub_order.shape[2]
    Y = Y0.copy()
    for epoch, eta in enumerate(etas):
        for lo, block_round in itertools.product(range(0, size, SGD_CHUNK),
                                                 block_order[epoch]):
            a, b = block_round_tiles(block_round, n_blocks)
            diagonal = block_round == n_blocks - 1
            for q in sub_order[epoch, block_round, lo:lo + SGD_CHUNK]:
                if diagonal and q == size - 1:
                    continue
                ki, kj = sub_round_pairs(q, size, diagonal)
                i = labels[(a[:, None] * size + ki[None, :]).ravel()]
                j = labels[(b[:, None] * size + kj[None, :]).ravel()]
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


@jit
def _tile_offset(block_round, task, n_blocks, size):
    """Start of a tile in the tile-major arrays, and its blocks ``(a, b)``."""
    task = np.int64(task)  # a prange index may arrive unsigned
    half = n_blocks // 2
    if block_round == n_blocks - 1:
        start = (n_blocks - 1) * half * size * size + task * (size - 1) * (size // 2)
        return start, task, task
    if task == 0:
        a, b = n_blocks - 1, block_round
    else:
        a = (block_round + task) % (n_blocks - 1)
        b = (block_round - task) % (n_blocks - 1)
    return (block_round * half + task) * size * size, a, b


@jit(parallel=True)
def _tile_major(D, labels, n_blocks, size):
    """Pair values in visiting order, one contiguous run per tile.

    Cross tile ``(a, b)``: ``R[q, k] = D[a_k, b_{(k + q) mod s}]``; diagonal
    tile: ``R[q, k]`` for the ``k``-th pair of circle round ``q``. Gathered
    once so that the epochs read ``R`` in order (a gather from ``D`` misses
    the cache on almost every pair: 10x slower at n = 3000).
    """
    n = D.shape[0]
    half = n_blocks // 2
    n_tiles = (n_blocks - 1) * half + n_blocks
    total = (n_blocks - 1) * half * size * size + n_blocks * (size - 1) * (size // 2)
    R = np.zeros(total)
    cycle = size - 1
    for tile in prange(n_tiles):
        if tile < (n_blocks - 1) * half:
            block_round, task = tile // half, tile % half
        else:
            block_round, task = n_blocks - 1, tile - (n_blocks - 1) * half
        start, a, b = _tile_offset(block_round, task, n_blocks, size)
        if block_round == n_blocks - 1:
            for q in range(cycle):
                for k in range(size // 2):
                    if k == 0:
                        i, j = cycle, q
                    else:
                        i, j = (q + k) % cycle, (q - k) % cycle
                    p, r = labels[a * size + i], labels[a * size + j]
                    if p < n and r < n:
                        R[start + q * (size // 2) + k] = D[p, r]
        else:
            for q in range(size):
                for k in range(size):
                    p = labels[a * size + k]
                    r = labels[b * size + (k + q) % size]
                    if p < n and r < n:
                        R[start + q * size + k] = D[p, r]
    return R


@jit
def _sgd_segment(Yt, i_lo, j_lo, length, R, r_lo, RW, use_weights, eta, valid,
                 work):
    """Pairs ``(i_lo + k, j_lo + k)`` for ``k < length``, all disjoint.

    Coordinates are stored by dimension (``Yt[c, slot]``) and the pass is
    split into distance, scale and update loops over contiguous slices, so
    each loop vectorises (3.5x faster than one pair at a time). ``valid``
    is 1.0 for a slot holding a point and 0.0 for an empty one.
    """
    p = Yt.shape[0]
    sq = work[0, :length]
    scale = work[1, :length]
    sq[:] = 0.0
    for c in range(p):
        yi = Yt[c, i_lo:i_lo + length]
        yj = Yt[c, j_lo:j_lo + length]
        for k in range(length):
            diff = yi[k] - yj[k]
            sq[k] += diff * diff
    target = R[r_lo:r_lo + length]
    vi = valid[i_lo:i_lo + length]
    vj = valid[j_lo:j_lo + length]
    if use_weights:
        weight = RW[r_lo:r_lo + length]
        for k in range(length):
            dist = np.sqrt(sq[k])
            mu = min(weight[k] * eta, 1.0) * (vi[k] * vj[k])
            scale[k] = mu * 0.5 * (dist - target[k]) / dist if dist > 0.0 else 0.0
    else:
        mu_all = min(eta, 1.0)
        for k in range(length):
            dist = np.sqrt(sq[k])
            mu = mu_all * (vi[k] * vj[k])
            scale[k] = mu * 0.5 * (dist - target[k]) / dist if dist > 0.0 else 0.0
    for c in range(p):
        yi = Yt[c, i_lo:i_lo + length]
        yj = Yt[c, j_lo:j_lo + length]
        for k in range(length):
            step = (yi[k] - yj[k]) * scale[k]
            yi[k] -= step
            yj[k] += step


@jit
def _sgd_tile(R, RW, use_weights, Yt, valid, eta, order, start, a, b, size,
              diagonal, work):
    """All sub-rounds of one tile, in the epoch's order."""
    half, cycle = size // 2, size - 1
    for q in order:
        if not diagonal:
            # Pairs (a_k, b_{k+q}) for k < s - q, then (a_k, b_{k+q-s}).
            base = start + q * size
            _sgd_segment(Yt, a * size, b * size + q, size - q, R, base, RW,
                         use_weights, eta, valid, work)
            if q > 0:
                _sgd_segment(Yt, a * size + size - q, b * size, q, R,
                             base + size - q, RW, use_weights, eta, valid, work)
            continue
        if q == cycle:
            continue
        base = start + q * half
        for k in range(half):
            if k == 0:
                i, j = cycle, q
            else:
                i = q + k
                if i >= cycle:
                    i -= cycle
                j = q - k
                if j < 0:
                    j += cycle
            i += a * size
            j += a * size
            w = RW[base + k] if use_weights else 1.0
            mu = min(w * eta, 1.0) * (valid[i] * valid[j])
            sq = 0.0
            for c in range(Yt.shape[0]):
                diff = Yt[c, i] - Yt[c, j]
                sq += diff * diff
            dist = np.sqrt(sq)
            if dist > 0.0:
                scale = mu * 0.5 * (dist - R[base + k]) / dist
                for c in range(Yt.shape[0]):
                    step = (Yt[c, i] - Yt[c, j]) * scale
                    Yt[c, i] -= step
                    Yt[c, j] += step


@jit(parallel=True)
def _sgd_mds_numba(R, RW, use_weights, Yt, valid, etas, block_order, sub_order,
                   chunk):
    """Tiles of one block round touch disjoint slots: one thread per tile."""
    n_blocks, size = block_order.shape[1], sub_order.shape[2]
    for epoch in range(etas.shape[0]):
        eta = etas[epoch]
        for lo in range(0, size, chunk):
            for t in range(n_blocks):
                block_round = block_order[epoch, t]
                order = sub_order[epoch, block_round, lo:lo + chunk]
                diagonal = block_round == n_blocks - 1
                n_tasks = n_blocks if diagonal else n_blocks // 2
                for task in prange(n_tasks):
                    work = np.empty((2, size))
                    start, a, b = _tile_offset(block_round, task, n_blocks, size)
                    _sgd_tile(R, RW, use_weights, Yt, valid, eta, order, start, a,
                              b, size, diagonal, work)
    return Yt


def _sgd_mds_kernels(D, Y0, weights, etas, labels, block_order, sub_order):
    """The numba tile kernels, on the same schedule as the reference."""
    n = D.shape[0]
    n_blocks, size = block_order.shape[1], sub_order.shape[2]
    valid = labels < n
    Yt = np.zeros((Y0.shape[1], labels.size))
    Yt[:, valid] = Y0[labels[valid]].T
    R = _tile_major(np.ascontiguousarray(D), labels, n_blocks, size)
    RW = (np.empty(1) if weights is None
          else _tile_major(np.ascontiguousarray(weights), labels, n_blocks, size))
    _sgd_mds_numba(R, RW, weights is not None, Yt, valid.astype(np.float64), etas,
                   block_order, sub_order, SGD_CHUNK)
    out = np.empty_like(Y0, dtype=np.float64)
    out[labels[valid]] = Yt[:, valid].T
    return out


#: SGD stress minimisation. There is no GPU kernel and ``D`` lives on the
#: host, so a cupy fit runs this step with the host's fastest kernel (numba;
#: the numpy reference is 20x slower at n = 3000).
SGD = Dispatch("SGD stress minimisation", numpy=sgd_mds_reference,
               numba=_sgd_mds_kernels, cupy=_sgd_mds_kernels)


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
    labels, block_order, sub_order = sgd_schedule(seed, n, n_epochs)
    return SGD(backend, D, Y0, weights, etas, labels, block_order, sub_order)


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
    centred_ref = (sq_ref - sq_ref.mean())[None, :]
    solve = np.linalg.pinv(Yc).T
    out = np.empty((D_rows.shape[0], Y_ref.shape[1]))
    # Row blocks of about 4 MiB keep the temporaries small for long D_rows.
    step = max(1, 2**19 // max(1, D_rows.shape[1]))
    for start in range(0, D_rows.shape[0], step):
        D2 = D_rows[start:start + step] ** 2
        D2 -= D2.mean(axis=1, keepdims=True)
        out[start:start + step] = (0.5 * (centred_ref - D2)) @ solve
    return out


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


def _place_points_reference(D_rows, W_rows, Y_ref, X0, n_iter):
    # Row blocks keep the (rows, references, dims) temporaries small.
    step = max(1, 2**22 // max(1, D_rows.shape[1] * Y_ref.shape[1]))
    return np.vstack([
        place_points_reference(
            D_rows[s:s + step], None if W_rows is None else W_rows[s:s + step],
            Y_ref, X0[s:s + step], n_iter)
        for s in range(0, D_rows.shape[0], step)
    ])


def _place_points_kernel(D_rows, W_rows, Y_ref, X0, n_iter):
    W = np.empty((1, 1)) if W_rows is None else np.ascontiguousarray(W_rows)
    return _place_points_numba(np.ascontiguousarray(D_rows), W, W_rows is not None,
                               np.ascontiguousarray(Y_ref), X0, n_iter)


#: Guttman iterations against fixed references. The rows live on the host,
#: so a cupy fit runs this step with numba there.
PLACE = Dispatch("point placement", numpy=_place_points_reference,
                 numba=_place_points_kernel, cupy=_place_points_kernel)


def place_points(D_rows, W_rows, Y_ref, backend, n_iter=30):
    """Least-squares start, then ``n_iter`` Guttman iterations per row."""
    X0 = least_squares_start(D_rows, Y_ref)
    return PLACE(backend, D_rows, W_rows, Y_ref, X0, n_iter)
