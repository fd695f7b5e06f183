"""Numba kernels of skkernel.density (CPU only; the numpy references are the oracle).

The exact kernel sums are compute-bound: a short dot product and one
exponential per (query, point) pair. ``math.exp`` and ``math.cos`` are scalar
library calls that LLVM does not vectorise without Intel's SVML, so
:func:`_exp_fast` and :func:`_cos32` are written as a range reduction
plus a polynomial, plain arithmetic that LLVM turns into SIMD code (``2**k``
comes from its bits through an LLVM bitcast). Under ``fastmath`` LLVM may
fold the two-part range reduction of ``exp``, so its error grows with the
argument: measured against numpy, below 1e-13 relative on ``[-700, 0]`` (the
larger errors only on terms far below the largest one, which do not move a
sum) and 1e-15 on ``[-1, 0]``. ``cos`` serves the private queries, whose
answers carry noise and sampling error above 1e-3, so it runs in float32,
compiled without reassociation so that its three-part reduction holds: below
1e-7 absolute on ``|z| <= 1000`` (float32 inputs).
The tests compare the kernels with numpy.
"""

import math

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from ..backend import jit

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# float32 cos: pi / 2 in three float32 parts (Cody and Waite; the first two
# have short mantissas, so k * part is exact for |k| < 2**8) and Taylor
# coefficients. numba freezes these globals as float32 constants, so the
# arithmetic stays in float32 (16 lanes of AVX-512 instead of 8).
_F32_PIO2_1 = np.float32(1.5703125)
_F32_PIO2_2 = np.float32(4.837512969970703125e-4)
_F32_PIO2_3 = np.float32(7.54978995489188216e-8)
_F32_TWO_OVER_PI = np.float32(0.6366197723675814)
_F32_HALF = np.float32(0.5)
_F32_ONE = np.float32(1.0)
_F32_C2, _F32_C4 = np.float32(-1.0 / 2.0), np.float32(1.0 / 24.0)
_F32_C6, _F32_C8 = np.float32(-1.0 / 720.0), np.float32(1.0 / 40320.0)
_F32_S3, _F32_S5 = np.float32(-1.0 / 6.0), np.float32(1.0 / 120.0)
_F32_S7, _F32_S9 = np.float32(-1.0 / 5040.0), np.float32(1.0 / 362880.0)

# exp on [-ln(2)/2, ln(2)/2]: degree-10 Chebyshev fit (mpmath.chebyfit), constant
# term exactly 1; relative error below 4.5e-16 there.
_EXP_C1 = 1.0000000000000067
_EXP_C2 = 0.5000000000000006
_EXP_C3 = 0.16666666666554406
_EXP_C4 = 0.04166666666657314
_EXP_C5 = 0.008333333385667782
_EXP_C6 = 0.0013888888932488599
_EXP_C7 = 0.00019841170270440067
_EXP_C8 = 2.4801504346997686e-05
_EXP_C9 = 2.764018079620985e-06
_EXP_C10 = 2.7626357241447223e-07

# fastmath without "reassoc": LLVM may fuse multiply-adds but keeps the order
# of a Cody-Waite range reduction.
_NO_REASSOC = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}

# Kernel codes shared with _exact.py: the first two are summed in log space.
GAUSSIAN, EXPONENTIAL, TOPHAT, EPANECHNIKOV, LINEAR, COSINE, CAUCHY = range(7)


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """The float64 whose bits are the int64 ``bits`` (an LLVM bitcast)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@jit(fastmath=_NO_REASSOC)
def _cos32(z):
    """``cos(z)`` in float32 (``z`` float32) by quadrant reduction.

    ``pi / 2`` in three float32 parts (Cody and Waite) and Taylor polynomials
    on ``|r| <= pi / 4`` (truncation below 3e-8). Compiled without the
    reassociation flag, which would fold the three-part reduction into one
    product and lose the digits; the callers' sums keep it and vectorise.
    """
    k = np.floor(z * _F32_TWO_OVER_PI + _F32_HALF)
    r = ((z - k * _F32_PIO2_1) - k * _F32_PIO2_2) - k * _F32_PIO2_3
    r2 = r * r
    c = _F32_C8
    c = c * r2 + _F32_C6
    c = c * r2 + _F32_C4
    c = c * r2 + _F32_C2
    c = c * r2 + _F32_ONE
    t = _F32_S9
    t = t * r2 + _F32_S7
    t = t * r2 + _F32_S5
    t = t * r2 + _F32_S3
    t = t * r2 * r + r  # sin(r)
    quadrant = np.int32(k) & np.int32(3)
    value = t if quadrant & np.int32(1) else c
    return -value if (quadrant + np.int32(1)) & np.int32(2) else value


@jit
def _linear_kernel(code, r2, inv_h):
    """``k(r)`` of the kernels summed in linear space, from ``r^2``."""
    if code == CAUCHY:
        return 1.0 / (1.0 + r2 * inv_h * inv_h)
    u = math.sqrt(r2) * inv_h
    if u >= 1.0:
        return 0.0
    if code == TOPHAT:
        return 1.0
    if code == EPANECHNIKOV:
        return 1.0 - u * u
    if code == LINEAR:
        return 1.0 - u
    return math.cos(0.5 * math.pi * u)


@jit(fastmath=True)
def _exp_fast(v):
    """``exp(v)`` for ``v <= 0`` (clamped below at -708), vectorisable.

    One range reduction ``v = k ln 2 + r``, ``|r| <= ln(2) / 2``, a degree-10
    polynomial (Chebyshev fit, relative error below 4.5e-16 on the interval),
    and ``2**k`` built from its bits: plain arithmetic that LLVM turns into
    SIMD code.
    """
    v = max(v, -708.0)
    k = math.floor(v * _LOG2E + 0.5)
    r = (v - k * _LN2_HI) - k * _LN2_LO
    p = _EXP_C10 * r + _EXP_C9
    p = p * r + _EXP_C8
    p = p * r + _EXP_C7
    p = p * r + _EXP_C6
    p = p * r + _EXP_C5
    p = p * r + _EXP_C4
    p = p * r + _EXP_C3
    p = p * r + _EXP_C2
    p = p * r + _EXP_C1
    p = p * r + 1.0
    return p * _int64_bits_as_float64((np.int64(k) + 1023) << 52)


@jit(fastmath=True)
def _block_products(G, Ys, Xt, start, nb, q0, q1):
    """``G[q - q0, j] += Ys[q] . Xt[:, start + j]`` for the tile's queries.

    Two queries and four coordinates per pass over the block, so each load
    of a point coordinate serves two multiply-adds and each store of ``G``
    four: the innermost loop is contiguous in ``j`` and vectorises.
    """
    d = Ys.shape[1]
    for q in range(q0, q1, 2):
        g = G[q - q0, :nb]
        if q + 1 < q1:
            h = G[q + 1 - q0, :nb]
            f = 0
            while f + 4 <= d:
                x0 = Xt[f, start:start + nb]
                x1 = Xt[f + 1, start:start + nb]
                x2 = Xt[f + 2, start:start + nb]
                x3 = Xt[f + 3, start:start + nb]
                y0, y1, y2, y3 = Ys[q, f], Ys[q, f + 1], Ys[q, f + 2], Ys[q, f + 3]
                z0, z1 = Ys[q + 1, f], Ys[q + 1, f + 1]
                z2, z3 = Ys[q + 1, f + 2], Ys[q + 1, f + 3]
                for j in range(nb):
                    a0, a1, a2, a3 = x0[j], x1[j], x2[j], x3[j]
                    g[j] += (a0 * y0 + a1 * y1) + (a2 * y2 + a3 * y3)
                    h[j] += (a0 * z0 + a1 * z1) + (a2 * z2 + a3 * z3)
                f += 4
            while f < d:
                x0 = Xt[f, start:start + nb]
                y0, z0 = Ys[q, f], Ys[q + 1, f]
                for j in range(nb):
                    g[j] += x0[j] * y0
                    h[j] += x0[j] * z0
                f += 1
        else:
            for f in range(d):
                x0 = Xt[f, start:start + nb]
                y0 = Ys[q, f]
                for j in range(nb):
                    g[j] += x0[j] * y0


@jit(fastmath=True)
def _block_squared_distances(G, Y, Xt, start, nb, q0, q1):
    """``G[q - q0, j] = |Y[q] - Xt[:, start + j]|^2`` by explicit differences."""
    d = Y.shape[1]
    for q in range(q0, q1):
        g = G[q - q0, :nb]
        for j in range(nb):
            g[j] = 0.0
        for f in range(d):
            x0 = Xt[f, start:start + nb]
            y0 = Y[q, f]
            for j in range(nb):
                diff = x0[j] - y0
                g[j] += diff * diff


@jit(parallel=True, fastmath=True)
def kernel_log_sums_numba(Y, Xt, bias, offset, log_weight, weight, code, bandwidth,
                          block, tile):
    """Per query ``(top, total)`` with ``sum_i w_i k(x_i, y) = exp(top) total``.

    ``Xt`` is the (centred) training data transposed, ``(d, n)``, so the
    innermost loops run over contiguous points; threads take tiles of
    ``tile`` queries and walk the points in blocks of ``block`` (kept in
    cache across the tile). No infinities reach this function (it runs
    under ``fastmath``): zero weights are dropped by the caller.

    * Gaussian: the caller passes ``Y / h^2`` as ``Y``, ``bias_i = log w_i -
      |x_i|^2 / (2 h^2)`` and ``offset_q = -|y_q|^2 / (2 h^2)``, so that
      ``bias_i + offset_q + Y[q] . x_i`` is the log-term itself: one
      multiply-add per coordinate (a matrix product), then a running
      log-sum-exp per query (``top`` the running maximum), exact where every
      kernel value underflows.
    * Exponential: squared distances by explicit differences (a square root
      of a product-form ``r^2`` would lose half the digits near ``r = 0``),
      then the same log-sum-exp of ``log w_i - r / h``.
    * Compact and Cauchy kernels: ``top = 0``, ``total = sum_i w_i k``.
    """
    m = Y.shape[0]
    n = Xt.shape[1]
    top = np.zeros(m)
    total = np.zeros(m)
    inv_h = 1.0 / bandwidth
    n_tiles = (m + tile - 1) // tile
    for t in prange(n_tiles):
        q0 = t * tile
        q1 = min(q0 + tile, m)
        G = np.empty((q1 - q0, block))
        run_max = np.full(q1 - q0, -1.0e308)
        run_sum = np.zeros(q1 - q0)
        for start in range(0, n, block):
            nb = min(start + block, n) - start
            if code == GAUSSIAN:
                b = bias[start:start + nb]
                for q in range(q0, q1):
                    g = G[q - q0, :nb]
                    c = offset[q]
                    for j in range(nb):
                        g[j] = b[j] + c
                _block_products(G, Y, Xt, start, nb, q0, q1)
            else:
                _block_squared_distances(G, Y, Xt, start, nb, q0, q1)
            for q in range(q0, q1):
                qi = q - q0
                g = G[qi, :nb]
                if code != GAUSSIAN and code != EXPONENTIAL:
                    s = 0.0
                    for j in range(nb):
                        s += weight[start + j] * _linear_kernel(code, g[j], inv_h)
                    run_sum[qi] += s
                    continue
                if code == EXPONENTIAL:
                    for j in range(nb):
                        g[j] = log_weight[start + j] - math.sqrt(g[j]) * inv_h
                block_max = -1.0e308
                for j in range(nb):
                    block_max = max(block_max, g[j])
                if block_max > run_max[qi]:
                    run_sum[qi] *= _exp_fast(run_max[qi] - block_max)
                    run_max[qi] = block_max
                shift = run_max[qi]
                s = 0.0
                for j in range(nb):
                    s += _exp_fast(g[j] - shift)
                run_sum[qi] += s
        for q in range(q0, q1):
            if code == GAUSSIAN or code == EXPONENTIAL:
                top[q] = run_max[q - q0]
            total[q] = run_sum[q - q0]
    return top, total


@jit(fastmath=True)
def feature_query_block(Y, frequencies, phases, sketch, scale, out):
    """``out[q, c] = scale * sum_j sketch[c, j] * cos(Y[q] . w_j + phases[j])``.

    All inputs float32 (``out`` float64). The phase arguments come from one
    BLAS ``sgemm`` (``np.dot``); the ``cos`` and the weighted sums are fused
    and accumulated in float32 lanes (the vectorised loop keeps several
    partial sums).
    """
    n_features = frequencies.shape[1]
    n_rows = sketch.shape[0]
    Z = np.dot(Y, frequencies)
    for q in range(Y.shape[0]):
        z = Z[q]
        if n_rows == 1:
            w = sketch[0]
            s = np.float32(0.0)
            for j in range(n_features):
                s += w[j] * _cos32(z[j] + phases[j])
            out[q, 0] = scale * s
            continue
        for j in range(n_features):
            z[j] = _cos32(z[j] + phases[j])
        for c in range(n_rows):
            w = sketch[c]
            s = np.float32(0.0)
            for j in range(n_features):
                s += w[j] * z[j]
            out[q, c] = scale * s


@jit(parallel=True)
def feature_query_numba(Y, frequencies, phases, sketch, scale, block, out):
    """:func:`feature_query_block` on blocks of ``block`` rows, in parallel.

    One parallel region (the caller limits BLAS to one thread, so threads
    do not nest); no barrier between blocks, so a thread that the system
    deschedules does not stall the others.
    """
    n_queries = Y.shape[0]
    n_blocks = (n_queries + block - 1) // block
    for b in prange(n_blocks):
        q0 = b * block
        q1 = min(q0 + block, n_queries)
        feature_query_block(Y[q0:q1], frequencies, phases, sketch, scale, out[q0:q1])


@jit(parallel=True)
def tree_query_numba(Y, prefix, radii, widths, boundaries, midpoints):
    """Private l1 distance sums from noisy prefix counts (see ``_distance_sum``).

    ``prefix[j, t]`` is the noisy count of points of coordinate ``j`` in its
    first ``t`` leaves; ``boundaries`` the ring radii ``rho_0 = 0 < rho_1 <
    ...`` and ``midpoints`` each ring's representative distance.
    """
    m, d = Y.shape
    n_leaves = prefix.shape[1] - 1
    n_rings = midpoints.shape[0]
    out = np.zeros(m)
    for q in prange(m):
        total = 0.0
        for j in range(d):
            y = Y[q, j]
            lo = -radii[j]
            w = widths[j]
            for i in range(n_rings):
                inner = boundaries[i] * radii[j]
                outer = boundaries[i + 1] * radii[j]
                # Leaf boundaries nearest to y +- rho, clipped to the domain.
                a = min(max(np.floor((y + outer - lo) / w + 0.5), 0.0), n_leaves)
                b = min(max(np.floor((y + inner - lo) / w + 0.5), 0.0), n_leaves)
                c = min(max(np.floor((y - inner - lo) / w + 0.5), 0.0), n_leaves)
                e = min(max(np.floor((y - outer - lo) / w + 0.5), 0.0), n_leaves)
                count = (prefix[j, np.int64(a)] - prefix[j, np.int64(b)]
                         + prefix[j, np.int64(c)] - prefix[j, np.int64(e)])
                total += midpoints[i] * radii[j] * count
        out[q] = total
    return out
