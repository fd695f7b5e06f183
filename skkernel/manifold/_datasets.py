"""The paper's toy data with ground-truth geodesics, and its distance metrics.

Both generators reproduce the HeatGeo experiment classes draw for draw from
one ``RandomState`` (``SwissRollStretch`` and ``TreePhate`` in the authors'
``experiments/datasets/toy_dataset.py``, which seed numpy's global state).
"""

import numpy as np
from scipy.sparse.csgraph import shortest_path
from scipy.stats import rankdata, special_ortho_group
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import kneighbors_graph
from sklearn.utils import check_random_state


def make_stretched_swiss_roll(n_samples=2000, *, noise=0.1, width=5.0,
                              n_features=10, random_state=42):
    """Swiss roll whose ground truth accounts for the stretching of ``t``.

    ``t ~ U(3 pi / 2, 9 pi / 2)``, ``h ~ U(0, width)``, points
    ``(t cos t, h, t sin t)`` rotated into ``n_features`` dimensions (a
    random rotation) plus Gaussian noise of standard deviation ``noise``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Noisy data.
    unrolled : ndarray of shape (n_samples, 2)
        ``(arc length of t, h)``: Euclidean distances between these rows
        are the true geodesic distances.
    t : ndarray of shape (n_samples,)
        Position along the roll (for colouring).
    """
    rng = check_random_state(random_state)
    t = 3 * np.pi / 2 * (1 + 2 * rng.rand(1, n_samples))
    h = width * rng.rand(1, n_samples)
    X = np.concatenate((t * np.cos(t), h, t * np.sin(t))).T
    if n_features != 3:
        rotation = special_ortho_group.rvs(n_features, random_state=rng)[:3]
        X = X @ rotation
    X = X + noise * rng.randn(n_samples, n_features)
    t = t.ravel()
    arc = 0.5 * (np.sqrt(t**2 + 1) * t + np.arcsinh(t))
    return X, np.column_stack([arc, h.ravel()]), t


def make_dla_tree(n_branches=5, branch_length=500, *, n_features=10, noise=1.0,
                  random_state=42):
    """PHATE's diffusion-limited-aggregation tree with noise ``10 * noise``.

    Each branch is a cumulative sum of ``U(-1, 1)`` steps starting from a
    random point of the first branch (``phate.tree.gen_dla`` with
    ``sigma=0``), then Gaussian noise of standard deviation ``10 * noise``
    is added, as in the paper's ``TreePhate`` (its sweep uses
    ``manifold_noise`` 0.1, 0.5 and 1).

    Returns
    -------
    X : ndarray of shape (n_branches * branch_length, n_features)
        Noisy data.
    X_clean : ndarray of the same shape
        The noiseless tree, for :func:`tree_geodesic_distances`.
    labels : ndarray of shape (n_branches * branch_length,)
        Branch of each point.
    """
    rng = check_random_state(random_state)
    M = np.cumsum(-1 + 2 * rng.rand(branch_length, n_features), 0)
    for _ in range(n_branches - 1):
        start = rng.randint(branch_length)
        branch = np.cumsum(-1 + 2 * rng.rand(branch_length, n_features), 0)
        M = np.concatenate([M, branch + M[start, :]])
    M = M + rng.normal(0, 0, M.shape)  # gen_dla's sigma=0 draw, kept for parity
    X = M + rng.normal(0, 10 * noise, M.shape)
    labels = np.repeat(np.arange(n_branches), branch_length)
    return X, M, labels


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
