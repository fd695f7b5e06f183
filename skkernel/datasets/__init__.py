"""Data sets shipped with skkernel and synthetic data generators."""

from ._blogcatalog import load_blogcatalog
from ._graphs import make_random_graph

__all__ = ["load_blogcatalog", "make_random_graph"]
