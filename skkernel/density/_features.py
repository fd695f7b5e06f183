"""Random Fourier features, the fast JL projection in front of them, and their release.

A shift-invariant kernel is an expectation over random frequencies,
``k(x, y) = E[2 cos(w.x + b) cos(w.y + b)]`` with ``b ~ U[0, 2 pi)`` and ``w``
drawn from the kernel's spectral distribution (Rahimi and Recht):

* Gaussian ``exp(-r^2 / (2 h^2))``: ``w ~ N(0, I / h^2)``;
* exponential ``exp(-r / h)``: ``w = g / (h |z|)``, ``g ~ N(0, I)``,
  ``z ~ N(0, 1)`` (the multivariate Cauchy distribution);
* Cauchy ``1 / (1 + r^2 / h^2) = E_{s ~ Exp(1)} exp(-s r^2 / h^2)``: a
  Gaussian scale mixture, so ``w ~ N(0, 2 s I / h^2)`` with ``s ~ Exp(1)``
  drawn per feature.

The released sketch is the mean feature vector of the data, plus noise
(:mod:`._mechanisms`); a query averages ``2 sketch_j cos(w_j.y + b_j)`` over
the features. The paper's method first maps points to ``k`` dimensions by a
fast Johnson-Lindenstrauss transform (random signs, an orthonormal DCT,
``k`` sampled coordinates, scaled by ``sqrt(d / k)``), so the features cost
``k m`` instead of ``d m`` per query.
"""

import functools
import math

import numpy as np
from threadpoolctl import ThreadpoolController

from .._config import get_config
from ..backend import Dispatch, get_array_module, to_cpu
from ..sketch._sketches import DCT
from . import _kernels_numba as kn
from ._mechanisms import FEATURE_BITS, release


def draw_feature_map(kernel, bandwidth, n_features, n_components, n_random_features,
                     rng):
    """Draw the public random map: JL signs and coordinates, frequencies, phases.

    ``n_components=None`` means no projection (the random-feature baseline).
    Returns a dict of numpy arrays (fitted attributes, picklable).
    """
    if n_components is None:
        signs = index = None
        dim = n_features
    else:
        signs = rng.choice([-1.0, 1.0], size=n_features)
        index = np.sort(rng.choice(n_features, size=n_components, replace=False))
        dim = n_components
    gauss = rng.normal(size=(dim, n_random_features))
    if kernel == "gaussian":
        frequencies = gauss / bandwidth
    elif kernel == "exponential":
        frequencies = gauss / (bandwidth * np.abs(rng.normal(size=n_random_features)))
    else:  # cauchy
        frequencies = gauss * (np.sqrt(2.0 * rng.exponential(size=n_random_features))
                               / bandwidth)
    phases = rng.uniform(0.0, 2.0 * math.pi, size=n_random_features)
    return {"signs": signs, "index": index, "frequencies": frequencies,
            "phases": phases}


def project(Y, feature_map, backend):
    """``Y`` through the fast JL transform (identity without one); xp code."""
    if feature_map["signs"] is None:
        return Y
    xp, _ = get_array_module(backend)
    d = Y.shape[1]
    k = feature_map["index"].shape[0]
    mixed = DCT(backend, (Y * xp.asarray(feature_map["signs"])).T).T
    return mixed[:, xp.asarray(feature_map["index"])] * math.sqrt(d / k)


def _phase_arguments(Y, feature_map, backend):
    xp, _ = get_array_module(backend)
    return project(Y, feature_map, backend) @ xp.asarray(feature_map["frequencies"])


def _rows_per_chunk(width):
    return max(1, int(get_config()["working_memory"] * 2**20 // (16 * width)))


def feature_sums(X, groups, n_groups, feature_map, backend):
    """Integer sums ``sum_i round(2**B cos(w_j.x_i + b_j))`` per group.

    ``groups`` gives each row's group (its class; all zeros for one group).
    The rounding to a public grid makes the statistic an integer vector whose
    replace-one sensitivity is known exactly (see :mod:`._mechanisms`).
    Returns an int64 host array of shape ``(n_groups, n_random_features)``.
    """
    xp, _ = get_array_module(backend)
    m = feature_map["phases"].shape[0]
    phases = xp.asarray(feature_map["phases"])
    sums = np.zeros((n_groups, m), dtype=np.int64)
    step = _rows_per_chunk(m)
    for start in range(0, X.shape[0], step):
        block = xp.asarray(X[start:start + step])
        grid = xp.rint(xp.cos(_phase_arguments(block, feature_map, backend) + phases)
                       * 2.0**FEATURE_BITS)
        labels = groups[start:start + step]
        for g in range(n_groups):
            rows = np.flatnonzero(labels == g)
            if rows.size:
                sums[g] += np.asarray(to_cpu(grid[xp.asarray(rows)].sum(axis=0)),
                                      dtype=np.int64)
    return sums


def release_sketch(sums, n_samples, epsilon, delta, rng):
    """Noisy mean features from integer sums: the one private release.

    Replacing one point changes the sums (of one group, or of two groups
    when it changes group) by at most ``2 * 2**B`` per feature: l1
    sensitivity ``2 m 2**B``, l2 sensitivity ``2 sqrt(m) 2**B``.
    """
    m = sums.shape[1]
    unit = 2.0**FEATURE_BITS
    noisy = release(sums, epsilon, delta, 2.0 * m * unit, 2.0 * math.sqrt(m) * unit,
                    rng)
    return noisy / (unit * n_samples)


def _query_sketch_reference(Y, feature_map, sketch, backend):
    """Float64 queries, blocks of rows under ``working_memory``; xp code."""
    xp, _ = get_array_module(backend)
    m = feature_map["phases"].shape[0]
    phases = xp.asarray(feature_map["phases"])
    weights = xp.asarray(sketch).T * (2.0 / m)
    out = np.empty((Y.shape[0], sketch.shape[0]))
    step = _rows_per_chunk(m)
    for start in range(0, Y.shape[0], step):
        Z = _phase_arguments(xp.asarray(Y[start:start + step]), feature_map, backend)
        out[start:start + step] = to_cpu(xp.cos(Z + phases) @ weights)
    return out


@functools.cache
def _blas_controller():
    # Built once: threadpool_limits() rescans the loaded libraries (about
    # 5 ms a call), too slow for single-query calls.
    return ThreadpoolController()


#: Query rows per thread task on the numba path: a 128 x m float32 block of
#: phase arguments (2 MiB at m = 4096) stays in cache between the matrix
#: product that writes it and the loop that reads it.
_QUERY_BLOCK = 128


def _query_sketch_numba(Y, feature_map, sketch, backend):
    """Float32 queries: per block of rows one ``sgemm``, then the fused
    ``cos`` and weighted sums, all in one parallel numba region.

    The answers carry noise and sampling error of order ``1 / sqrt(m)``
    (above 1e-3 for m <= 10**5), so float32's absolute error (about 1e-6;
    the tests bound it by 2e-6 against the float64 reference at d = 64)
    does not change them.
    """
    frequencies = np.ascontiguousarray(feature_map["frequencies"], dtype=np.float32)
    phases = np.asarray(feature_map["phases"], dtype=np.float32)
    weights = np.ascontiguousarray(sketch, dtype=np.float32)
    m = phases.shape[0]
    out = np.empty((Y.shape[0], sketch.shape[0]))
    # Rows per call: the JL projection's float64 temporaries stay under
    # working_memory (each thread holds only a _QUERY_BLOCK x m block).
    step = max(_QUERY_BLOCK, _rows_per_chunk(Y.shape[1] + m))
    with _blas_controller().limit(limits=1, user_api="blas"):
        for start in range(0, Y.shape[0], step):
            block = np.ascontiguousarray(
                project(Y[start:start + step], feature_map, backend), dtype=np.float32)
            chunk = out[start:start + step]
            if block.shape[0] <= _QUERY_BLOCK:  # no thread start-up for a few rows
                kn.feature_query_block(block, frequencies, phases, weights, 2.0 / m,
                                       chunk)
            else:
                kn.feature_query_numba(block, frequencies, phases, weights, 2.0 / m,
                                       _QUERY_BLOCK, chunk)
    return out


QUERY_SKETCH = Dispatch("random-feature query", numpy=_query_sketch_reference,
                        numba=_query_sketch_numba)


def query_sketch(Y, feature_map, sketch, backend):
    """``(2 / m) sum_j sketch[c, j] cos(w_j.y + b_j)`` for every row and group.

    Returns a host array of shape ``(n_queries, n_groups)``. The numpy and
    cupy paths compute in float64; the numba path in float32 (see
    :func:`_query_sketch_numba`).
    """
    return QUERY_SKETCH(backend, Y, feature_map, sketch, backend)
