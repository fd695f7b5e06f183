"""Data sets shipped with skkernel and synthetic data generators."""

from ._ad_hoc import make_ad_hoc
from ._blogcatalog import load_blogcatalog
from ._coat import load_coat
from ._graphs import make_random_graph
from ._manifolds import make_dla_tree, make_stretched_swiss_roll

__all__ = [
    "load_blogcatalog",
    "load_coat",
    "make_ad_hoc",
    "make_dla_tree",
    "make_random_graph",
    "make_stretched_swiss_roll",
]
