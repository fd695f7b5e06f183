"""Affinity graphs and Laplacians for heat diffusion.

The alpha-decay kernel is PHATE's (Moon et al., 2019), as built by graphtools
for the reference HeatGeo code: ``K(x, y) = 1/2 [exp(-(|x-y| / e_k(x))^a) +
exp(-(|x-y| / e_k(y))^a)]`` with ``e_k(x)`` the distance from ``x`` to its
``k``-th neighbour (itself not counted), entries below ``thresh`` dropped and
the diagonal removed. Every neighbour inside the radius where the kernel
falls to ``thresh`` is kept, not only the ``k`` nearest.
"""

import numpy as np
import scipy.sparse as sp
from numba import prange
from scipy.sparse.csgraph import connected_components

from ..backend import Dispatch, jit

ALPHA_THRESH = 1e-4
# Squared-distance blocks of the exact-distance pass (entries per block).
_DISTANCE_BLOCK = 2**20


def _neighbors_within(nn, X, radius, k_start, exclude_self):
    """Neighbours of each row of ``X`` within its own ``radius`` (CSR lists).

    Starts from ``k_start`` nearest neighbours and widens the search for the
    rows whose last neighbour is still inside the radius.
    """
    n_fit = nn.n_samples_fit_
    k = min(n_fit, k_start)
    dist, ind = nn.kneighbors(X, n_neighbors=k)
    rows_d, rows_i = list(dist), list(ind)
    todo = np.flatnonzero(dist[:, -1] < radius) if k < n_fit else np.array([], int)
    while todo.size:
        k = min(n_fit, 2 * k)
        d2, i2 = nn.kneighbors(X[todo], n_neighbors=k)
        for r, row in enumerate(todo):
            rows_d[row], rows_i[row] = d2[r], i2[r]
        todo = todo[d2[:, -1] < radius[todo]] if k < n_fit else todo[:0]
    lengths, dists, inds = [], [], []
    for row, (d, i) in enumerate(zip(rows_d, rows_i, strict=True)):
        keep = d < radius[row]
        if exclude_self:
            keep &= i != row
        dists.append(d[keep])
        inds.append(i[keep])
        lengths.append(int(keep.sum()))
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return indptr, np.concatenate(inds).astype(np.int64), np.concatenate(dists)


def alpha_decay_values(dist, indptr, bandwidth, decay, thresh=ALPHA_THRESH):
    """Numpy reference: ``exp(-(d / bandwidth_row)^decay)``, zeroed below thresh."""
    rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    values = np.exp(-np.power(dist / bandwidth[rows], decay))
    values[values < thresh] = 0.0
    return values


@jit(parallel=True)
def alpha_decay_values_numba(dist, indptr, bandwidth, decay, thresh):
    """Numba twin of :func:`alpha_decay_values`."""
    out = np.empty_like(dist)
    for i in prange(indptr.size - 1):
        inv = 1.0 / bandwidth[i]
        for p in range(indptr[i], indptr[i + 1]):
            v = np.exp(-((dist[p] * inv) ** decay))
            out[p] = v if v >= thresh else 0.0
    return out


def _alpha_decay_values_numba(dist, indptr, bandwidth, decay, thresh=ALPHA_THRESH):
    return alpha_decay_values_numba(dist, indptr, bandwidth, float(decay), thresh)


#: The kernel values of the affinity graph. The neighbour lists come from
#: scikit-learn on the host, so a cupy fit runs this step there with numba.
ALPHA_DECAY = Dispatch("alpha-decay kernel", numpy=alpha_decay_values,
                       numba=_alpha_decay_values_numba,
                       cupy=_alpha_decay_values_numba)


def search_radius(bandwidth, decay, thresh=ALPHA_THRESH):
    """Distance at which the alpha-decay kernel falls to ``thresh``."""
    return bandwidth * (-np.log(thresh)) ** (1.0 / decay)


def affinity_graph(nn, X, n_neighbors, decay, backend):
    """Symmetric affinity ``W`` (zero diagonal) and per-sample bandwidths.

    Parameters
    ----------
    nn : fitted sklearn.neighbors.NearestNeighbors
        Index over ``X``.
    X : ndarray of shape (n_samples, n_features)
        The (PCA-reduced) data the index was built on.
    n_neighbors : int
        ``k``; the bandwidth is the distance to the ``k``-th neighbour.
    decay : float or None
        Alpha-decay exponent; ``None`` gives the binary kNN graph.
    backend : {"numpy", "numba", "cupy"}
        Runs :data:`ALPHA_DECAY` (numba kernel or numpy reference).

    Returns
    -------
    W : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
    bandwidth : ndarray of shape (n_samples,)
    """
    n = X.shape[0]
    dist, ind = nn.kneighbors(X, n_neighbors=n_neighbors + 1)
    bandwidth = np.maximum(dist[:, n_neighbors], np.finfo(float).eps)
    if decay is None:
        rows = np.repeat(np.arange(n), n_neighbors + 1)
        K = sp.csr_matrix((np.ones(rows.size), (rows, ind.ravel())), shape=(n, n))
        K.data[:] = 1.0
    else:
        radius = search_radius(bandwidth, decay)
        indptr, indices, d = _neighbors_within(
            nn, X, radius, 3 * (n_neighbors + 1), exclude_self=False
        )
        values = ALPHA_DECAY(backend, d, indptr, bandwidth, decay)
        K = sp.csr_matrix((values, indices, indptr), shape=(n, n))
    W = ((K + K.T) * 0.5).tocsr()
    W.setdiag(0.0)
    W.eliminate_zeros()
    W.sort_indices()
    return W, bandwidth


def _exact_distances(X_new, rows, X_fit, indices):
    """``|X_new[rows[p]] - X_fit[indices[p]]|`` computed directly, in blocks.

    The neighbour search may use the ``|a|^2 - 2 a.b + |b|^2`` expansion,
    which leaves round-off where two samples coincide; this is exactly zero.
    """
    out = np.empty(rows.size)
    step = max(1, _DISTANCE_BLOCK // max(1, X_new.shape[1]))
    for start in range(0, rows.size, step):
        stop = start + step
        diff = X_new[rows[start:stop]] - X_fit[indices[start:stop]]
        out[start:stop] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def extension_weights(nn, X_fit, X_new, bandwidth, n_neighbors, decay):
    """Interpolation weights from new samples to the training samples.

    Row ``x`` holds ``w_j(x) = k_x(d_j) / (d_j / e_x)^2``, normalised to sum
    to one, where ``d_j = |x - x_j|`` and ``e_x`` is the distance from ``x``
    to its ``k``-th nearest training sample. ``k_x`` is the new sample's own
    alpha-decay kernel ``exp(-(d / e_x)^a)`` lowered by the threshold, so
    that it falls continuously to zero at its support radius (with
    ``decay=None``, the tapered kNN kernel ``max(0, 1 - d / d_(k+1))``).
    Every factor is continuous in ``x``, and the inverse-square factor makes
    the weights interpolate: as ``x`` approaches the training sample ``x_i``
    they tend to one on ``x_i``, whose row is then exactly a one-hot.

    Parameters
    ----------
    nn : fitted sklearn.neighbors.NearestNeighbors
        Index over ``X_fit``.
    X_fit : ndarray of shape (n_fit, n_features)
        The data the index was built on.
    X_new : ndarray of shape (n_new, n_features)
        New samples in the same space.
    bandwidth : ndarray of shape (n_fit,)
        Training bandwidths (distance to the ``k``-th neighbour).
    n_neighbors : int
        ``k``.
    decay : float or None
        Alpha-decay exponent; ``None`` for the kNN graph.

    Returns
    -------
    weights : scipy.sparse.csr_matrix of shape (n_new, n_fit)
        Non-negative, rows sum to one.
    exact : ndarray of shape (n_new,)
        Index of a training sample at distance zero, or -1.
    reach : ndarray of shape (n_new,)
        Distance to the nearest training sample divided by that sample's
        kernel radius (where its alpha-decay kernel reaches the threshold;
        its bandwidth for ``decay=None``). Above 1 the new sample lies
        outside the training graph's neighbourhoods.
    """
    n_new, n_fit = X_new.shape[0], X_fit.shape[0]
    k = min(n_neighbors, n_fit)
    if decay is None:
        # The (k + 1)-th neighbour sets the taper, so k + 1 candidates.
        _, ind = nn.kneighbors(X_new, n_neighbors=min(k + 1, n_fit))
        indptr = np.arange(0, ind.size + 1, ind.shape[1], dtype=np.int64)
        indices = ind.ravel().astype(np.int64)
    else:
        dist, _ = nn.kneighbors(X_new, n_neighbors=k)
        # A relative margin covers round-off between the search's distances
        # and the exact ones; candidates beyond the support get weight 0.
        radius = search_radius(dist[:, -1], decay) * (1.0 + 1e-6) + 1e-300
        indptr, indices, _ = _neighbors_within(nn, X_new, radius, 3 * k,
                                               exclude_self=False)
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(n_new), counts)
    d = _exact_distances(X_new, rows, X_fit, indices)
    order = np.lexsort((d, rows))
    d_sorted = d[order]
    # e_x: the k-th distance, or the (k + 1)-th for the tapered kNN kernel.
    position = k - 1 if decay is not None else ind.shape[1] - 1
    scale = d_sorted[indptr[:-1] + np.minimum(position, counts - 1)]
    r = d / np.maximum(scale, np.finfo(float).tiny)[rows]
    if decay is None:
        kernel = np.maximum(1.0 - r, 0.0)
    else:
        kernel = np.maximum(np.exp(-np.power(r, decay)) - ALPHA_THRESH, 0.0)
    values = kernel / np.maximum(r, 1e-100) ** 2
    nearest = order[indptr[:-1]]  # position of each row's nearest candidate
    exact = np.where(d[nearest] == 0.0, indices[nearest], -1)
    sums = np.add.reduceat(values, indptr[:-1])
    # A new sample on a training sample takes that sample's row (the limit
    # of the weights). A tapered kNN row whose k + 1 candidates all tie has
    # no positive weight: it averages its nearest candidates.
    on_sample = exact >= 0
    tied = ~on_sample & (sums <= 0.0)
    if np.any(on_sample | tied):
        values[(on_sample | tied)[rows]] = 0.0
        values[nearest[on_sample]] = 1.0
        values[tied[rows] & (d == d[nearest][rows])] = 1.0
        sums = np.add.reduceat(values, indptr[:-1])
    W = sp.csr_matrix((values / sums[rows], indices, indptr), shape=(n_new, n_fit))
    radius_fit = bandwidth if decay is None else search_radius(bandwidth, decay)
    reach = d[nearest] / np.maximum(radius_fit[indices[nearest]],
                                    np.finfo(float).tiny)
    return W, exact, reach


def graph_laplacian(W, kind):
    """``"normalized"``: I - D^-1/2 W D^-1/2; ``"combinatorial"``: D - W.

    Isolated nodes get ``L_ii = 1`` (normalized) or ``0`` (combinatorial).
    """
    degree = np.asarray(W.sum(axis=1)).ravel()
    n = W.shape[0]
    if kind == "combinatorial":
        return (sp.diags(degree) - W).tocsr()
    inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros(n), where=degree > 0)
    S = sp.diags(inv_sqrt) @ W @ sp.diags(inv_sqrt)
    return (sp.identity(n, format="csr") - S).tocsr()


def count_components(W):
    """Number of connected components of the affinity graph."""
    return connected_components(W, directed=False)[0]
