"""FastRP propagation: the numpy/cupy reference and the numba kernels.

Notation follows Chen et al. (CIKM 2019): ``P = D^-1 S`` is the transition
matrix (applied as ``D^-1 (S X)``, so no scaled copy of the graph is made),
``L = diag(d^beta)`` the degree weighting and ``R`` the very sparse
random projection. The paper variant computes ``N_1 = P L R``,
``N_i = P N_(i-1)`` and ``sum_i alpha_i N_i`` (rows optionally L2-normalised
before weighting, as in the authors' ``fastrp_merge``); the GDS variant
normalises every hop and feeds the normalised vectors forward.
"""

import numpy as np
from numba import prange

from ..backend import jit
from ..backend._numba import prefetch, prefetch_row
from ..utils._hash_random import hash_uniform_scalar, sparse_sign_matrix


def row_normalize(X, xp=np):
    """Divide each row by its L2 norm; zero rows stay zero."""
    norms = xp.sqrt((X * X).sum(axis=1))
    return X / xp.where(norms > 0, norms, 1.0)[:, None]


def standardize_columns(X, xp=np):
    """Centre columns and scale them to unit variance (constant columns: 0)."""
    X = X - X.mean(axis=0)
    std = xp.sqrt((X * X).mean(axis=0))
    return X / xp.where(std > 0, std, 1.0)


def initial_vectors(spec, xp=np):
    """The random starting matrix ``[L R | F W]`` (n_nodes, n_components)."""
    R = sparse_sign_matrix(
        spec.seed, spec.n_nodes, spec.n_base, spec.sparsity, xp=xp
    ) * xp.asarray(spec.node_scale)[:, None]
    if spec.n_property == 0:
        return R
    W = sparse_sign_matrix(
        spec.feature_seed, spec.node_features.shape[1], spec.n_property, 3.0, xp=xp
    )
    return xp.concatenate([R, xp.asarray(spec.node_features) @ W], axis=1)


def fastrp_reference(S, spec, xp=np):
    """Readable FastRP on numpy/scipy or cupy/cupyx arrays.

    Parameters
    ----------
    S : sparse matrix (n_nodes, n_nodes)
        Adjacency matrix; ``P = D^-1 S`` has zero rows for nodes without
        out-edges.
    spec : FastRPSpec
        Resolved parameters.
    xp : module
        ``numpy`` or ``cupy``.

    Returns
    -------
    embedding : array (n_nodes, n_components)
    """
    dtype = spec.dtype
    inv_degree = xp.asarray(spec.inv_degree, dtype=dtype)[:, None]
    S = S.astype(dtype)

    def P(X):
        return inv_degree * (S @ X)

    N = initial_vectors(spec, xp=xp).astype(dtype)
    if spec.variant == "gds":
        out = spec.self_influence * row_normalize(N, xp)
        for weight in spec.iteration_weights:
            N = row_normalize(P(N), xp)
            out = out + weight * N
    else:
        finish = (lambda M: row_normalize(M, xp)) if spec.normalize_rows else (
            lambda M: M
        )
        out = spec.self_influence * finish(N)
        for weight in spec.iteration_weights:
            N = P(N)
            out = out + weight * finish(N)
    return standardize_columns(out, xp) if spec.standardize else out


# ---------------------------------------------------------------- numba kernels


@jit
def _projection_sign(seed, index, half):
    """1, -1 or 0: the sign of entry ``index`` (row-major) of the very sparse
    projection ``R``, each of 1 and -1 with probability ``half``."""
    u = hash_uniform_scalar(seed, index)
    if u < half:
        return 1.0
    if u >= 1.0 - half:
        return -1.0
    return 0.0


@jit(parallel=True)
def _fill_initial_block(seed, n_base, sparsity, node_scale, col_start, out):
    """Write columns [col_start, col_start + width) of L R into ``out``."""
    n_rows, width = out.shape
    half = 0.5 / sparsity
    value = np.sqrt(sparsity / n_base)
    for i in prange(n_rows):
        scaled = value * node_scale[i]
        for c in range(width):
            out[i, c] = _projection_sign(seed, i * n_base + col_start + c,
                                         half) * scaled


# Stored entries looked ahead when prefetching the rows of X to be gathered.
# One product on a 300,000-node random graph with 6e6 stored entries, d = 128,
# 2 cores, median of 6 warm calls: 0.533 s without prefetching, 0.431 s at 4
# entries ahead, 0.447 s at 6, 0.46 s at 8 (float32: 0.408 -> 0.270 s at 4).
PREFETCH_DISTANCE = 4


@jit
def _gather_row(indptr, indices, data, X, X_nonzero, i, acc):
    """``acc += sum_k data[k] X[indices[k]]`` over row ``i`` of the CSR
    matrix, skipping rows of ``X`` flagged all-zero; True if any was used.

    The row of ``X`` that the entry ``PREFETCH_DISTANCE`` ahead will gather
    is prefetched (a hint: the sums are unchanged)."""
    touched = False
    n_stored = indices.shape[0]
    for k in range(indptr[i], indptr[i + 1]):
        ahead = k + PREFETCH_DISTANCE
        if ahead < n_stored and X_nonzero[indices[ahead]]:
            prefetch_row(X, indices[ahead])
        j = indices[k]
        if X_nonzero[j]:
            touched = True
            w = data[k]
            for c in range(acc.shape[0]):
                acc[c] += w * X[j, c]
    return touched


# Stored entries looked ahead in products with a CSR right-hand side (the
# sparse first hops): the row pointer of the entry 16 ahead, then the columns
# and values of the entry 8 ahead, whose pointer is in cache by then. N_2 from
# the CSR N_1 on a 300,000-node random graph (6e6 stored entries, d = 128),
# median of 5 warm calls: 0.23-0.29 s without, 0.125 s at (8, 4), 0.112-0.116 s
# at (16, 8), 0.119-0.131 s at (24, 12); 1e6 nodes: 1.04 s against 0.47-0.49 s.
SPARSE_PREFETCH_PTR = 16
SPARSE_PREFETCH_ROW = 8


@jit
def _prefetch_csr_row(indices, k, ptr, cols, vals):
    """Prefetch the row pointer, then the first columns and values, of the
    CSR rows that stored entries ahead of ``k`` will read (a hint only)."""
    n_stored = indices.shape[0]
    ahead = k + SPARSE_PREFETCH_PTR
    if ahead < n_stored:
        prefetch(ptr, indices[ahead])
    ahead = k + SPARSE_PREFETCH_ROW
    if ahead < n_stored:
        q = ptr[indices[ahead]]
        prefetch(cols, q)
        prefetch(vals, q)


@jit
def _store_row(acc, scale, out, i):
    """``out[i] = scale * acc``; whether any entry is nonzero, and the squared
    norm of the stored row (in ``out``'s dtype, as the normalisation reads it)."""
    any_nonzero = False
    sq = 0.0
    for c in range(acc.shape[0]):
        value = acc[c] * scale
        out[i, c] = value
        stored = out[i, c]
        sq += stored * stored
        any_nonzero |= value != 0.0
    return any_nonzero, sq


@jit(parallel=True)
def _spmm(indptr, indices, data, inv_degree, X, X_nonzero, out, out_nonzero):
    """out = D^-1 (S @ X) for CSR S, one output row per thread step.

    Rows of ``X`` flagged all-zero are skipped: the very sparse projection
    leaves most rows of the first hops empty, and adding an exact zero changes
    nothing. ``out_nonzero`` receives the flags of the result.
    """
    n_rows, width = out.shape
    for i in prange(n_rows):
        acc = np.zeros(width)
        touched = _gather_row(indptr, indices, data, X, X_nonzero, i, acc)
        any_nonzero, _ = _store_row(acc, inv_degree[i], out, i)
        out_nonzero[i] = touched and any_nonzero


@jit(parallel=True)
def _spmm_accumulate(indptr, indices, data, inv_degree, X, X_nonzero, out,
                     out_nonzero, emb, weight, normalize):
    """:func:`_spmm`, then ``emb += weight * row / ||row||`` (or ``weight *
    row``) for each output row while it is in cache.

    The full-width path's fusion of a hop with its accumulation: it saves the
    two passes over ``(n, d)`` arrays (row norms, then the weighted add)
    that follow each product otherwise, with the same operations in the same
    order, so the result is identical.
    """
    n_rows, width = out.shape
    for i in prange(n_rows):
        acc = np.zeros(width)
        touched = _gather_row(indptr, indices, data, X, X_nonzero, i, acc)
        any_nonzero, sq = _store_row(acc, inv_degree[i], out, i)
        out_nonzero[i] = touched and any_nonzero
        factor = weight
        if normalize:
            factor = weight / np.sqrt(sq) if sq > 0.0 else 0.0
        for c in range(width):
            emb[i, c] += factor * out[i, c]


@jit(parallel=True)
def _fill_zero(X):
    """X[:] = 0 by parallel writes (first touch of fresh pages by writes)."""
    for i in prange(X.shape[0]):
        for c in range(X.shape[1]):
            X[i, c] = 0.0


@jit(parallel=True)
def _flag_nonzero_rows(X, flags):
    for i in prange(X.shape[0]):
        nonzero = False
        for c in range(X.shape[1]):
            nonzero |= X[i, c] != 0.0
        flags[i] = nonzero


@jit(parallel=True)
def _add_squared_norms(X, sq_norms):
    for i in prange(X.shape[0]):
        acc = 0.0
        for c in range(X.shape[1]):
            acc += X[i, c] * X[i, c]
        sq_norms[i] += acc


@jit(parallel=True)
def _accumulate(out, col_start, X, weight, sq_norms, use_norms):
    """out[:, col_start:] += weight * X / ||row|| (or weight * X)."""
    for i in prange(X.shape[0]):
        scale = weight
        if use_norms:
            if sq_norms[i] > 0.0:
                scale = weight / np.sqrt(sq_norms[i])
            else:
                scale = 0.0
        for c in range(X.shape[1]):
            out[i, col_start + c] += scale * X[i, c]


@jit(parallel=True)
def _column_sums(X, n_chunks):
    """Per-chunk column sums of X, streaming the rows (X is C-ordered, so a
    column walk would stride a whole row per element)."""
    n, d = X.shape
    step = (n + n_chunks - 1) // n_chunks
    partial = np.zeros((n_chunks, d))
    for c in prange(n_chunks):
        acc = np.zeros(d)
        for i in range(c * step, min(n, (c + 1) * step)):
            for j in range(d):
                acc[j] += X[i, j]
        partial[c] = acc
    return partial


@jit(parallel=True)
def _column_squared_deviations(X, mean, n_chunks):
    """Per-chunk column sums of (X - mean)^2, streaming the rows."""
    n, d = X.shape
    step = (n + n_chunks - 1) // n_chunks
    partial = np.zeros((n_chunks, d))
    for c in prange(n_chunks):
        acc = np.zeros(d)
        for i in range(c * step, min(n, (c + 1) * step)):
            for j in range(d):
                diff = X[i, j] - mean[j]
                acc[j] += diff * diff
        partial[c] = acc
    return partial


@jit(parallel=True)
def _center_scale_rows(X, mean, scale):
    n, d = X.shape
    for i in prange(n):
        for j in range(d):
            X[i, j] = (X[i, j] - mean[j]) * scale[j]


def _standardize_inplace(X):
    """Columns to mean 0 and (population) standard deviation 1, in place;
    constant columns are only centred. Three streaming passes over the rows."""
    n = X.shape[0]
    n_chunks = max(1, min(64, n // 1024))
    mean = _column_sums(X, n_chunks).sum(axis=0) / n
    std = np.sqrt(_column_squared_deviations(X, mean, n_chunks).sum(axis=0) / n)
    scale = np.where(std > 0.0, 1.0 / np.where(std > 0.0, std, 1.0), 1.0)
    _center_scale_rows(X, mean, scale)


def _initial_block(spec, col_start, col_stop, buffer):
    """Columns [col_start, col_stop) of the starting matrix into ``buffer``."""
    base_stop = min(col_stop, spec.n_base)
    if col_start < base_stop:
        _fill_initial_block(
            np.uint64(spec.seed), spec.n_base, float(spec.sparsity),
            spec.node_scale, col_start, buffer[:, : base_stop - col_start],
        )
    if col_stop > spec.n_base:
        first = max(col_start, spec.n_base) - spec.n_base
        W = sparse_sign_matrix(
            spec.feature_seed, spec.node_features.shape[1], spec.n_property, 3.0,
            col_start=first, col_stop=col_stop - spec.n_base,
            n_cols_total=spec.n_property,
        )
        buffer[:, max(col_start, spec.n_base) - col_start :] = spec.node_features @ W


def _hop_buffers(S, spec, width):
    """Two ``(n, width)`` hop buffers and their nonzero-row flags, and the
    graph's weights and inverse degrees in the buffers' precision (a copy
    only when that precision differs)."""
    n, dtype = spec.n_nodes, spec.dtype
    a, b = np.empty((n, width), dtype), np.empty((n, width), dtype)
    a_nonzero, b_nonzero = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    data = S.data.astype(dtype, copy=False)
    inv_degree = np.asarray(spec.inv_degree, dtype=dtype)
    return a, b, a_nonzero, b_nonzero, data, inv_degree


def _terms(spec, S, start, stop, fused_into=None, last=None):
    """Yield ``(term, X)``: the starting block, then each hop's block, up to
    term ``last`` (default: every hop).

    ``X`` is one of two C-contiguous buffers (contiguous rows let numba
    vectorise the inner loops) and is overwritten two steps later, so callers
    consume it before advancing. With ``fused_into=(out, weights,
    normalize)`` each hop is also accumulated into ``out`` as it is computed
    (:func:`_spmm_accumulate`), so callers accumulate only the starting block.
    """
    a, b, a_nonzero, b_nonzero, data, inv_degree = _hop_buffers(S, spec,
                                                                stop - start)
    _initial_block(spec, start, stop, a)
    _flag_nonzero_rows(a, a_nonzero)
    yield 0, a
    last = len(spec.iteration_weights) if last is None else last
    for hop in range(1, last + 1):
        if fused_into is None:
            _spmm(S.indptr, S.indices, data, inv_degree, a, a_nonzero, b, b_nonzero)
        else:
            out, weights, normalize = fused_into
            _spmm_accumulate(S.indptr, S.indices, data, inv_degree, a, a_nonzero,
                             b, b_nonzero, out, float(weights[hop]), normalize)
        a, b = b, a
        a_nonzero, b_nonzero = b_nonzero, a_nonzero
        if spec.variant == "gds":
            _set_weighted_rows(a, 1.0, True, a)
        yield hop, a


def fastrp_numba(S, spec, block_width, progress=None):
    """FastRP with numba kernels, in column blocks of ``block_width``.

    Columns of the paper variant propagate independently, so only two
    ``(n_nodes, block_width)`` buffers live beside the output. When rows are
    L2-normalised and the columns do not fit in one block, a first pass
    collects each term's row norms and a second pass accumulates. The first
    pass also parks the last term, unscaled, in its columns of the output
    (its row norms then come from the output), so the second pass stops one
    hop early: with three hops, five products a block instead of six, for a
    fraction of the memory of one block. The GDS variant normalises before
    the next hop, which couples all columns, so it runs in one block.

    Returns the embedding and the block width used. ``progress`` (a bar with
    ``total`` and ``update``) counts sparse products.
    """
    n, d = spec.n_nodes, spec.n_components
    if spec.variant == "gds":
        block_width = d
    block_width = max(1, min(block_width, d))
    blocks = [(c, min(c + block_width, d)) for c in range(0, d, block_width)]
    normalize = spec.normalize_rows or spec.variant == "gds"
    weights = (spec.self_influence, *spec.iteration_weights)
    first = _first_weighted_of_last_two(weights)
    if len(blocks) == 1 and spec.variant != "gds" and first is not None:
        return _fastrp_two_buffers(S, spec, weights, first, normalize,
                                   progress), block_width
    sq_norms = np.zeros((len(weights), n))
    # Zeroed by parallel writes: np.zeros maps the shared zero page, and the
    # first accumulation then faults twice a page (read, then copy on write).
    # First fits in fresh processes, 3e5 nodes, d = 128, five each: median
    # 2.27 s with np.zeros, 2.04 s with this.
    out = np.empty((n, d), spec.dtype)
    _fill_zero(out)
    norms_first = normalize and len(blocks) > 1
    last = len(weights) - 1
    # the second pass skips the last hop when the first pass parked it in out
    park = norms_first and last > 0 and weights[last] != 0.0
    second_last = last - 1 if park else last
    if progress is not None:
        progress.total = len(blocks) * (
            (last if norms_first else 0) + second_last)
    if norms_first:
        for start, stop in blocks:
            for term, X in _terms(spec, S, start, stop):
                if park and term == last:
                    # out is still zero here: 0 + 1.0 * x == x exactly
                    _accumulate(out, start, X, 1.0, sq_norms[term], False)
                elif weights[term] != 0.0:
                    _add_squared_norms(X, sq_norms[term])
                if progress is not None and term > 0:
                    progress.update()
        if park:
            _set_weighted_rows(out, float(weights[last]), True, out)
    # All columns in one block: each hop accumulates while its rows are in
    # cache (same operations, same order: the result is identical).
    fused = (out, weights, normalize) if (
        len(blocks) == 1 and spec.variant != "gds") else None
    for start, stop in blocks:
        for term, X in _terms(spec, S, start, stop, fused_into=fused,
                              last=second_last):
            if weights[term] != 0.0 and (fused is None or term == 0):
                if normalize and not norms_first:
                    _add_squared_norms(X, sq_norms[term])
                _accumulate(out, start, X, weights[term], sq_norms[term], normalize)
            if progress is not None and term > 0:
                progress.update()
    if spec.standardize:
        _standardize_inplace(out)
    return out, block_width


def _first_weighted_of_last_two(weights):
    """The first term of nonzero weight if only the last two terms (or the
    last one) carry weight and it is a hop, else None."""
    nonzero = [t for t, w in enumerate(weights) if w != 0.0]
    last = len(weights) - 1
    if not nonzero or nonzero[0] < max(1, last - 1):
        return None
    return nonzero[0]


def _fastrp_two_buffers(S, spec, weights, first, normalize, progress):
    """All columns at once in two ``(n, d)`` arrays instead of three.

    When only the last two terms carry weight (the authors' settings, such as
    ``(0, 0, 1, 6.67)``, and ``(0, 1, 1)``), the embedding is zero until hop
    ``first``. Once that hop is computed, the buffer it was computed from is
    no longer needed and receives ``w * N / ||N||``. The last hop then adds
    into it without storing its own rows. The operations and their order are
    those of the fused three-array path, so the embedding is identical, with
    one ``(n, d)`` array fewer to allocate and touch.
    """
    d = spec.n_components
    last = len(weights) - 1
    a, b, a_nonzero, b_nonzero, data, inv_degree = _hop_buffers(S, spec, d)
    if progress is not None:
        progress.total = last
    start = 1
    if _sparse_first_hops(S, spec, first):
        # L R and N_1 = P L R kept sparse; N_2 is the first dense hop.
        r_ptr, r_col, r_val = _sparse_projection(spec)
        h_ptr, h_col, h_val = _sparse_hop(S.indptr, S.indices, data, inv_degree,
                                          r_ptr, r_col, r_val, d)
        _spmm_from_sparse(S.indptr, S.indices, data, inv_degree, h_ptr, h_col,
                          h_val, a, a_nonzero)
        if first == 2:
            emb = a if last == 2 else b
            _set_weighted_rows(a, float(weights[2]), normalize, emb)
        if progress is not None:
            progress.update(2)
        start = 3
    else:
        _initial_block(spec, 0, d, a)
        _flag_nonzero_rows(a, a_nonzero)
    for hop in range(start, last + 1):
        if hop == last and first < last:
            # a holds hop `last - 1`, b the embedding so far
            _spmm_add_rows(S.indptr, S.indices, data, inv_degree, a, a_nonzero,
                           b, float(weights[hop]), normalize)
            emb = b
        else:
            _spmm(S.indptr, S.indices, data, inv_degree, a, a_nonzero, b, b_nonzero)
            a, b = b, a
            a_nonzero, b_nonzero = b_nonzero, a_nonzero
            if hop == first:
                # b (the previous hop) is free: the embedding starts there
                # (in place when this is also the last hop)
                emb = a if hop == last else b
                _set_weighted_rows(a, float(weights[hop]), normalize, emb)
        if progress is not None:
            progress.update()
    if spec.standardize:
        _standardize_inplace(emb)
    return emb


@jit(parallel=True)
def _set_weighted_rows(X, weight, normalize, out):
    """``out[i] = weight * X[i] / ||X[i]||`` (or ``weight * X[i]``), with the
    squared norm summed as :func:`_store_row` sums it; ``out`` may be X."""
    for i in prange(X.shape[0]):
        factor = weight
        if normalize:
            sq = 0.0
            for c in range(X.shape[1]):
                sq += X[i, c] * X[i, c]
            factor = weight / np.sqrt(sq) if sq > 0.0 else 0.0
        for c in range(X.shape[1]):
            out[i, c] = factor * X[i, c]


@jit(parallel=True)
def _spmm_add_rows(indptr, indices, data, inv_degree, X, X_nonzero, emb, weight,
                   normalize):
    """``emb += weight * row / ||row||`` (or ``weight * row``) for each row of
    ``D^-1 (S @ X)``, without storing the product: :func:`_spmm_accumulate`
    with its output row kept in a local buffer of X's dtype."""
    n_rows, width = emb.shape
    for i in prange(n_rows):
        acc = np.zeros(width)
        _gather_row(indptr, indices, data, X, X_nonzero, i, acc)
        row = np.empty((1, width), X.dtype)
        _, sq = _store_row(acc, inv_degree[i], row, 0)
        factor = weight
        if normalize:
            factor = weight / np.sqrt(sq) if sq > 0.0 else 0.0
        for c in range(width):
            emb[i, c] += factor * row[0, c]


# The first two hops run sparse when the starting matrix L R has at most this
# density and N_1 = P L R is expected to fill at most this fraction of a row
# (mean degree / sparsity). 3e5-node random graph, 6e6 stored entries,
# d = 128, sparsity sqrt(n) = 548: N_1 fills 3.6 % of a row.
_SPARSE_START_MAX_DENSITY = 1.0 / 16
_SPARSE_HOP_MAX_FILL = 1.0 / 8


def _sparse_first_hops(S, spec, first):
    """Whether :func:`_fastrp_two_buffers` may take hops 1 and 2 sparsely."""
    if spec.n_property or first < 2:
        return False
    density = 1.0 / spec.sparsity
    mean_degree = S.nnz / max(1, spec.n_nodes)
    return (density <= _SPARSE_START_MAX_DENSITY
            and mean_degree * density <= _SPARSE_HOP_MAX_FILL)


def _sparse_projection(spec):
    """``L R`` as CSR arrays: the entries :func:`_fill_initial_block` writes
    as nonzero, with the same values in the same dtype."""
    n = spec.n_nodes
    counts = np.empty(n, dtype=np.int64)
    seed = np.uint64(spec.seed)
    _projection_counts(seed, spec.n_base, float(spec.sparsity), counts)
    indptr = _indptr(counts)
    cols = np.empty(indptr[-1], dtype=np.int32)
    vals = np.empty(indptr[-1], dtype=spec.dtype)
    _projection_fill(seed, spec.n_base, float(spec.sparsity), spec.node_scale,
                     indptr, cols, vals)
    return indptr, cols, vals


@jit(parallel=True)
def _projection_counts(seed, n_base, sparsity, counts):
    half = 0.5 / sparsity
    for i in prange(counts.shape[0]):
        count = 0
        for c in range(n_base):
            if _projection_sign(seed, i * n_base + c, half) != 0.0:
                count += 1
        counts[i] = count


@jit(parallel=True)
def _projection_fill(seed, n_base, sparsity, node_scale, indptr, cols, vals):
    half = 0.5 / sparsity
    value = np.sqrt(sparsity / n_base)
    for i in prange(indptr.shape[0] - 1):
        scaled = value * node_scale[i]
        q = indptr[i]
        for c in range(n_base):
            sign = _projection_sign(seed, i * n_base + c, half)
            if sign != 0.0:
                cols[q] = c
                vals[q] = sign * scaled
                q += 1


def _indptr(counts):
    """CSR row pointers from the entries of each row."""
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr


def _sparse_hop(indptr, indices, data, inv_degree, r_ptr, r_col, r_val, width):
    """``D^-1 (S @ R)`` for CSR ``R``, as CSR with the columns some neighbour
    touches (in increasing order). Each stored value is the sum
    :func:`_gather_row` and :func:`_store_row` form for the dense product,
    over the same nonzero terms in the same order."""
    n = indptr.shape[0] - 1
    counts = np.empty(n, dtype=np.int64)
    _sparse_hop_counts(indptr, indices, r_ptr, r_col, width, counts)
    h_ptr = _indptr(counts)
    h_col = np.empty(h_ptr[-1], dtype=np.int32)
    h_val = np.empty(h_ptr[-1], dtype=r_val.dtype)
    _sparse_hop_fill(indptr, indices, data, inv_degree, r_ptr, r_col, r_val,
                     width, h_ptr, h_col, h_val)
    return h_ptr, h_col, h_val


@jit(parallel=True)
def _sparse_hop_counts(indptr, indices, r_ptr, r_col, width, counts):
    for i in prange(indptr.shape[0] - 1):
        mark = np.zeros(width, dtype=np.bool_)
        count = 0
        for k in range(indptr[i], indptr[i + 1]):
            _prefetch_csr_row(indices, k, r_ptr, r_col, r_col)
            j = indices[k]
            for p in range(r_ptr[j], r_ptr[j + 1]):
                c = r_col[p]
                if not mark[c]:
                    mark[c] = True
                    count += 1
        counts[i] = count


@jit(parallel=True)
def _sparse_hop_fill(indptr, indices, data, inv_degree, r_ptr, r_col, r_val, width,
                     h_ptr, h_col, h_val):
    for i in prange(indptr.shape[0] - 1):
        acc = np.zeros(width)
        mark = np.zeros(width, dtype=np.bool_)
        for k in range(indptr[i], indptr[i + 1]):
            _prefetch_csr_row(indices, k, r_ptr, r_col, r_val)
            j = indices[k]
            w = data[k]
            for p in range(r_ptr[j], r_ptr[j + 1]):
                c = r_col[p]
                acc[c] += w * r_val[p]
                mark[c] = True
        q = h_ptr[i]
        scale = inv_degree[i]
        for c in range(width):
            if mark[c]:
                h_col[q] = c
                h_val[q] = acc[c] * scale
                q += 1


@jit(parallel=True)
def _spmm_from_sparse(indptr, indices, data, inv_degree, h_ptr, h_col, h_val, out,
                      out_nonzero):
    """:func:`_spmm` with a CSR right-hand side: the same nonzero terms in the
    same order, so the same sums. The rows of the right-hand side are
    prefetched ahead (:func:`_prefetch_csr_row`)."""
    n_rows, width = out.shape
    for i in prange(n_rows):
        acc = np.zeros(width)
        touched = False
        for k in range(indptr[i], indptr[i + 1]):
            _prefetch_csr_row(indices, k, h_ptr, h_col, h_val)
            j = indices[k]
            w = data[k]
            for p in range(h_ptr[j], h_ptr[j + 1]):
                touched = True
                acc[h_col[p]] += w * h_val[p]
        any_nonzero, _ = _store_row(acc, inv_degree[i], out, i)
        out_nonzero[i] = touched and any_nonzero
