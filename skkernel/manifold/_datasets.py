"""The paper's ground-truth geodesics and its distance metrics.

The toy data themselves are public in :mod:`skkernel.datasets`
(``make_stretched_swiss_roll``, ``make_dla_tree``); they are imported here for
the tests, the demo and the benchmark.
"""

import numpy as np
from scipy.sparse.csgraph import shortest_path
from scipy.stats import rankdata
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import kneighbors_graph

from ..datasets import make_dla_tree, make_stretched_swiss_roll

__all__ = [
    "distance_correlations",
    "make_dla_tree",
    "make_stretched_swiss_roll",
    "swiss_roll_geodesic_distances",
    "tree_geodesic_distances",
]


def tree_geodesic_distances(X_clean, n_neighbors=10):
    """Shortest paths on the noiseless ``n_neighbors``-NN graph (the ground truth)."""
    G = kneighbors_graph(X_clean, n_neighbors, mode="distance")
    G = G.maximum(G.T)
    return shortest_path(G, method="D", directed=False)


def swiss_roll_geodesic_distances(unrolled):
    """Euclidean distances between unrolled coordinates."""
    return pairwise_distances(unrolled)


def distance_correlations(D, G):
    """Row-wise Pearson and Spearman correlation, averaged over rows.

    The paper's ``knn_task`` metric: both matrices get a zero diagonal and
    each row of ``D`` is correlated with the same row of ``G``.

    Returns
    -------
    pearson, spearman : float
    """
    D = np.array(D, dtype=float)
    G = np.array(G, dtype=float)
    np.fill_diagonal(D, 0.0)
    np.fill_diagonal(G, 0.0)
    return _rowwise_pearson(D, G), _rowwise_pearson(rankdata(D, axis=1),
                                                    rankdata(G, axis=1))


def _rowwise_pearson(A, B):
    A = A - A.mean(axis=1, keepdims=True)
    B = B - B.mean(axis=1, keepdims=True)
    num = (A * B).sum(axis=1)
    den = np.sqrt((A * A).sum(axis=1) * (B * B).sum(axis=1))
    return float(np.mean(num / np.where(den > 0, den, np.inf)))
