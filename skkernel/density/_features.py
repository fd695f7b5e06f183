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

import math

import numpy as np

from .._config import get_config
from ..backend import Dispatch, get_array_module, get_namespace, to_cpu
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


def _feature_query_reference(Z, phases, sketch, scale):
    xp = get_namespace(Z)
    return (xp.cos(Z + xp.asarray(phases)) @ xp.asarray(sketch).T) * scale


def _feature_query_numba(Z, phases, sketch, scale):
    return kn.feature_query_numba(np.ascontiguousarray(Z), phases,
                                  np.ascontiguousarray(sketch), scale)


FEATURE_QUERY = Dispatch("random-feature query", numpy=_feature_query_reference,
                         numba=_feature_query_numba)


def query_sketch(Y, feature_map, sketch, backend):
    """``(2 / m) sum_j sketch[c, j] cos(w_j.y + b_j)`` for every row and group.

    Returns a host array of shape ``(n_queries, n_groups)``.
    """
    xp, _ = get_array_module(backend)
    m = feature_map["phases"].shape[0]
    out = np.empty((Y.shape[0], sketch.shape[0]))
    step = _rows_per_chunk(m)
    for start in range(0, Y.shape[0], step):
        Z = _phase_arguments(xp.asarray(Y[start:start + step]), feature_map, backend)
        out[start:start + step] = to_cpu(
            FEATURE_QUERY(backend, Z, feature_map["phases"], sketch, 2.0 / m))
    return out
