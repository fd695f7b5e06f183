"""HeatGeodesicEmbedding's rows in ``skkernel demo``."""

from ..utils._demo import DemoCase


def _swiss_roll(backend):
    from . import HeatGeodesicEmbedding
    from ._datasets import (
        distance_correlations,
        make_stretched_swiss_roll,
        swiss_roll_geodesic_distances,
    )

    X, unrolled, _ = make_stretched_swiss_roll(700, noise=0.1, random_state=42)
    est = HeatGeodesicEmbedding(n_neighbors=10, laplacian="combinatorial",
                                random_state=0, backend=backend).fit(X)
    return distance_correlations(est.dissimilarity_,
                                 swiss_roll_geodesic_distances(unrolled))[1]


def _tree(backend):
    from . import HeatGeodesicEmbedding
    from ._datasets import distance_correlations, make_dla_tree, tree_geodesic_distances

    X, X_clean, _ = make_dla_tree(5, 200, noise=0.1, random_state=42)
    est = HeatGeodesicEmbedding(n_neighbors=10, random_state=0,
                                backend=backend).fit(X)
    return distance_correlations(est.dissimilarity_,
                                 tree_geodesic_distances(X_clean))[1]


def demo_cases():
    return [
        DemoCase("HeatGeodesicEmbedding", "stretched Swiss roll (700 x 10)",
                 "Spearman vs true geodesics", _swiss_roll),
        DemoCase("HeatGeodesicEmbedding", "DLA tree (1,000 x 10)",
                 "Spearman vs true geodesics", _tree),
    ]
