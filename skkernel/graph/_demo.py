"""FastRP's row in ``skkernel demo``."""

from ..utils._demo import DemoCase


def _fastrp_blogcatalog(backend):
    from ..datasets import load_blogcatalog
    from . import FastRP, node_classification_score

    data = load_blogcatalog()
    # The authors' BlogCatalog setting (notebook at commit d45d1c6).
    embedding = FastRP(
        n_components=512, iteration_weights=(0.0, 0.0, 1.0, 6.67),
        normalization_strength=-0.64, random_state=0, backend=backend,
    ).fit_transform(data.adjacency)
    scores = node_classification_score(
        embedding, data.target, 0.1, n_repeats=1, random_state=0
    )
    return scores["micro_f1"]


def demo_cases():
    return [DemoCase("FastRP", "BlogCatalog (10,312 nodes)", "Micro-F1 @10% labels",
                     _fastrp_blogcatalog)]
