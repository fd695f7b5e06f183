"""Generated graphs for tests and benchmarks."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ..base import Interval, validate_parameter_constraints


def make_random_graph(n_nodes, n_edges, *, directed=False, weighted=False,
                      random_state=None):
    """Erdos-Renyi-style random graph with a given number of edges.

    Edges are drawn uniformly with replacement (duplicates merged, self-loops
    dropped), so the result has at most ``n_edges`` edges. Memory is
    ``O(n_edges)``, which makes million-node graphs cheap to build.

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    n_edges : int
        Number of edges drawn.
    directed : bool, default=False
        If False the adjacency is symmetrised (each edge stored twice).
    weighted : bool, default=False
        Uniform (0, 1] weights instead of ones.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    adjacency : scipy.sparse.csr_matrix of shape (n_nodes, n_nodes)
        Non-negative adjacency.

    Examples
    --------
    >>> from skkernel.datasets import make_random_graph
    >>> A = make_random_graph(100, 300, random_state=0)
    >>> A.shape, bool((A != A.T).nnz == 0)
    ((100, 100), True)
    """
    validate_parameter_constraints(
        {"n_nodes": [Interval(Integral, 1, None)],
         "n_edges": [Interval(Integral, 0, None)]},
        {"n_nodes": n_nodes, "n_edges": n_edges}, "make_random_graph",
    )
    rng = check_random_state(random_state)
    rows = rng.randint(0, n_nodes, size=n_edges).astype(np.int32)
    cols = rng.randint(0, n_nodes, size=n_edges).astype(np.int32)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    data = rng.uniform(1e-3, 1.0, size=rows.size) if weighted else np.ones(rows.size)
    if not directed:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
        data = np.concatenate([data, data])
    A = sp.csr_matrix((data, (rows, cols)), shape=(n_nodes, n_nodes))
    A.sum_duplicates()
    if not weighted:
        A.data[:] = 1.0
    return A
