"""Numba kernels for the sparse sketches and the Gaussian sketch.

The numpy/cupy reference lives in :mod:`skkernel.sketch._sketches`; these
kernels draw the same counter-based random numbers
(:func:`skkernel.utils._hash_random.hash_uniform_scalar`), so for one seed
they apply the same matrix ``S`` and differ from the reference only by the
order of floating-point additions.
"""

import numpy as np
from numba import prange

from ..backend import jit
from ..utils._hash_random import hash_uniform_scalar


@jit
def _sparse_sign_position(seed_pos, seed_sign, row, k, sketch_size, nnz):
    """Sketch row and sign of the ``k``-th nonzero of column ``row`` of S."""
    start = (k * sketch_size) // nnz
    size = ((k + 1) * sketch_size) // nnz - start
    counter = row * nnz + k
    pos = start + int(hash_uniform_scalar(seed_pos, counter) * size)
    sign = 1.0 if hash_uniform_scalar(seed_sign, counter) < 0.5 else -1.0
    return pos, sign


@jit(parallel=True)
def sparse_sign_apply(A, row_offset, sketch_size, nnz, seed_pos, seed_sign, scale,
                      n_chunks):
    """``S[:, row_offset:row_offset + n] @ A`` for the block sparse sign sketch.

    Rows of ``A`` are split into ``n_chunks`` chunks; each thread scatters its
    chunk into a private ``(sketch_size, d)`` buffer and the buffers are summed
    at the end, so no two threads write to the same memory.
    """
    n, d = A.shape
    partial = np.zeros((n_chunks, sketch_size, d))
    chunk = (n + n_chunks - 1) // n_chunks
    for t in prange(n_chunks):
        for i in range(t * chunk, min(n, (t + 1) * chunk)):
            row = row_offset + i
            for k in range(nnz):
                pos, sign = _sparse_sign_position(
                    seed_pos, seed_sign, row, k, sketch_size, nnz
                )
                value = sign * scale
                for c in range(d):
                    partial[t, pos, c] += value * A[i, c]
    out = np.zeros((sketch_size, d))
    for t in range(n_chunks):
        for j in prange(sketch_size):
            for c in range(d):
                out[j, c] += partial[t, j, c]
    return out


@jit(parallel=True)
def gaussian_block(seed_radius, seed_angle, row_offset, n_rows, sketch_size):
    """Columns ``row_offset .. row_offset + n_rows`` of the Gaussian sketch.

    Returned transposed, shape ``(n_rows, sketch_size)``: entry ``(i, j)`` is
    ``S[j, row_offset + i]``, a standard normal from the Box-Muller transform
    of two counter-based uniforms, divided by ``sqrt(sketch_size)``.
    """
    out = np.empty((n_rows, sketch_size))
    scale = 1.0 / np.sqrt(sketch_size)
    for i in prange(n_rows):
        base = (row_offset + i) * sketch_size
        for j in range(sketch_size):
            u = 1.0 - hash_uniform_scalar(seed_radius, base + j)
            v = hash_uniform_scalar(seed_angle, base + j)
            out[i, j] = scale * np.sqrt(-2.0 * np.log(u)) * np.cos(2.0 * np.pi * v)
    return out
