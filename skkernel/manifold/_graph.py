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

from ..backend import jit

ALPHA_THRESH = 1e-4


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
    backend : str
        ``"numba"`` evaluates the kernel with the numba kernel.

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
        if backend == "numba":
            values = alpha_decay_values_numba(d, indptr, bandwidth, float(decay),
                                              ALPHA_THRESH)
        else:
            values = alpha_decay_values(d, indptr, bandwidth, decay)
        K = sp.csr_matrix((values, indices, indptr), shape=(n, n))
    W = ((K + K.T) * 0.5).tocsr()
    W.setdiag(0.0)
    W.eliminate_zeros()
    W.sort_indices()
    return W, bandwidth


def extension_weights(nn, X_new, bandwidth, n_neighbors, decay):
    """Row-stochastic affinities from new samples to the training samples.

    The same kernel as :func:`affinity_graph`, with the new sample's
    bandwidth taken as the distance to its ``k``-th training neighbour.

    Returns
    -------
    weights : scipy.sparse.csr_matrix of shape (n_new, n_train)
        Rows sum to one.
    exact : ndarray of shape (n_new,)
        Index of a training sample at distance zero, or -1.
    """
    n_new, n_train = X_new.shape[0], nn.n_samples_fit_
    dist, ind = nn.kneighbors(X_new, n_neighbors=n_neighbors)
    exact = np.where(dist[:, 0] == 0.0, ind[:, 0], -1)
    own = np.maximum(dist[:, -1], np.finfo(float).eps)
    if decay is None:
        rows = np.repeat(np.arange(n_new), n_neighbors)
        W = sp.csr_matrix((np.ones(rows.size), (rows, ind.ravel())),
                          shape=(n_new, n_train))
    else:
        radius = np.maximum(search_radius(own, decay),
                            search_radius(bandwidth[ind[:, 0]], decay))
        indptr, indices, d = _neighbors_within(
            nn, X_new, radius, 3 * n_neighbors, exclude_self=False
        )
        rows = np.repeat(np.arange(n_new), np.diff(indptr))
        values = 0.5 * (np.exp(-np.power(d / own[rows], decay))
                        + np.exp(-np.power(d / bandwidth[indices], decay)))
        W = sp.csr_matrix((values, indices, indptr), shape=(n_new, n_train))
    sums = np.asarray(W.sum(axis=1)).ravel()
    empty = sums <= 0
    if np.any(empty):
        # Far from every training sample: fall back to its nearest neighbour.
        W = W.tolil()
        for row in np.flatnonzero(empty):
            W[row, ind[row, 0]] = 1.0
        W = W.tocsr()
        sums = np.asarray(W.sum(axis=1)).ravel()
    return sp.diags(1.0 / sums) @ W, exact


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
