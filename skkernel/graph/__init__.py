"""Graph embeddings."""

from ._evaluation import node_classification_score
from ._fastrp import FastRP

__all__ = ["FastRP", "node_classification_score"]
