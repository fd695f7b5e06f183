"""Data sets shipped with skkernel and synthetic data generators."""

from ._ad_hoc import make_ad_hoc
from ._blogcatalog import load_blogcatalog
from ._graphs import make_random_graph

__all__ = ["load_blogcatalog", "make_ad_hoc", "make_random_graph"]
