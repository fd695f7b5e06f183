"""Numba kernels of skkernel.density (CPU only; the numpy references are the oracle).

The exact kernel sums are compute-bound: one exponential per (query, point)
pair. ``math.exp`` and ``math.cos`` are scalar library calls that LLVM does
not vectorise without Intel's SVML, so :func:`_exp_nonpositive` and
:func:`_cos_reduced` are written as a range reduction plus a polynomial,
plain arithmetic that LLVM turns into SIMD code. Under ``fastmath`` LLVM
may fold the two-part range reductions, so the error grows with the
argument: measured against numpy, below 1.2e-13 absolute for ``cos`` on
``|z| <= 3000`` and 2.4e-14 relative for ``exp`` on ``[-700, 0]`` (the
large errors only on terms far below the largest one, which do not move a
sum). The tests compare the kernels with numpy.
"""

import math

import numpy as np
from numba import prange

from ..backend import jit

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# pi / 2 in three parts (Cody and Waite): k * part is exact for |k| < 2**20.
_PIO2_1 = 1.5707963267341256e+00
_PIO2_2 = 6.0771005065061922e-11
_PIO2_3 = 2.0222662487959506e-21
_TWO_OVER_PI = 0.6366197723675814

# Kernel codes shared with _exact.py: the first two are summed in log space.
GAUSSIAN, EXPONENTIAL, TOPHAT, EPANECHNIKOV, LINEAR, COSINE, CAUCHY = range(7)


@jit(fastmath=True)
def _exp_nonpositive(v):
    """``(p, k)`` with ``exp(v) = p * 2**k`` for ``-708 <= v <= 0`` (v clamped)."""
    v = max(v, -708.0)
    k = math.floor(v * _LOG2E + 0.5)
    r = (v - k * _LN2_HI) - k * _LN2_LO
    # Taylor polynomial of degree 13 on |r| <= ln(2)/2: truncation < 2e-16.
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p, k


@jit(fastmath=True)
def _cos_reduced(z):
    """``cos(z)`` for ``|z| < 2**20 * pi / 2`` by quadrant reduction."""
    k = math.floor(z * _TWO_OVER_PI + 0.5)
    r = ((z - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    r2 = r * r
    # Taylor polynomials on |r| <= pi/4: truncation below 1e-15.
    c = 1.0 / 20922789888000.0
    c = c * r2 - 1.0 / 87178291200.0
    c = c * r2 + 1.0 / 479001600.0
    c = c * r2 - 1.0 / 3628800.0
    c = c * r2 + 1.0 / 40320.0
    c = c * r2 - 1.0 / 720.0
    c = c * r2 + 1.0 / 24.0
    c = c * r2 - 0.5
    c = c * r2 + 1.0
    s = -1.0 / 1307674368000.0
    s = s * r2 + 1.0 / 6227020800.0
    s = s * r2 - 1.0 / 39916800.0
    s = s * r2 + 1.0 / 362880.0
    s = s * r2 - 1.0 / 5040.0
    s = s * r2 + 1.0 / 120.0
    s = s * r2 - 1.0 / 6.0
    s = s * r2 * r + r  # sin(r)
    quadrant = np.int64(k) & 3
    value = s if quadrant & 1 else c
    return -value if (quadrant + 1) & 2 else value


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


@jit(parallel=True, fastmath=True)
def kernel_log_sums_numba(Y, Xt, log_weight, weight, code, bandwidth, block, tile):
    """``log sum_i w_i k(x_i, y)`` for every row ``y`` of ``Y``.

    ``Xt`` is the training data transposed, ``(d, n)``, so the innermost loop
    runs over contiguous points; threads take tiles of ``tile`` queries and
    walk the points in blocks of ``block`` (kept in cache across the tile).
    Gaussian and exponential kernels keep a running log-sum-exp per query, so
    densities far below 1e-308 stay finite; the others are summed directly.
    """
    m, d = Y.shape
    n = Xt.shape[1]
    out = np.empty(m)
    inv_h = 1.0 / bandwidth
    log_space = code == GAUSSIAN or code == EXPONENTIAL
    n_tiles = (m + tile - 1) // tile
    for t in prange(n_tiles):
        q0 = t * tile
        q1 = min(q0 + tile, m)
        acc = np.empty(block)
        bits = np.empty(block, dtype=np.int64)
        run_max = np.full(q1 - q0, -np.inf)
        total = np.zeros(q1 - q0)
        for start in range(0, n, block):
            nb = min(start + block, n) - start
            for q in range(q0, q1):
                qi = q - q0
                for j in range(nb):
                    acc[j] = 0.0
                for f in range(d):
                    yf = Y[q, f]
                    for j in range(nb):
                        diff = Xt[f, start + j] - yf
                        acc[j] += diff * diff
                if not log_space:
                    s = 0.0
                    for j in range(nb):
                        s += weight[start + j] * _linear_kernel(code, acc[j], inv_h)
                    total[qi] += s
                    continue
                block_max = -np.inf
                for j in range(nb):
                    if code == GAUSSIAN:
                        v = -0.5 * acc[j] * inv_h * inv_h
                    else:
                        v = -math.sqrt(acc[j]) * inv_h
                    v += log_weight[start + j]
                    acc[j] = v
                    block_max = max(block_max, v)
                if block_max == -np.inf:
                    continue
                if block_max > run_max[qi]:
                    total[qi] *= math.exp(run_max[qi] - block_max)
                    run_max[qi] = block_max
                shift = run_max[qi]
                for j in range(nb):
                    p, k = _exp_nonpositive(acc[j] - shift)
                    acc[j] = p
                    bits[j] = (np.int64(k) + 1023) << 52
                powers = bits[:nb].view(np.float64)
                s = 0.0
                for j in range(nb):
                    s += acc[j] * powers[j]
                total[qi] += s
        for q in range(q0, q1):
            qi = q - q0
            if log_space:
                out[q] = run_max[qi] + math.log(total[qi])
            else:
                out[q] = math.log(total[qi]) if total[qi] > 0 else -np.inf
    return out


@jit(parallel=True, fastmath=True)
def feature_query_numba(Z, offset, sketch, scale):
    """``out[q, c] = scale * sum_j sketch[c, j] * cos(Z[q, j] + offset[j])``."""
    m, n_features = Z.shape
    n_rows = sketch.shape[0]
    out = np.empty((m, n_rows))
    for q in prange(m):
        features = np.empty(n_features)
        for j in range(n_features):
            features[j] = _cos_reduced(Z[q, j] + offset[j])
        for c in range(n_rows):
            s = 0.0
            for j in range(n_features):
                s += sketch[c, j] * features[j]
            out[q, c] = scale * s
    return out


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
