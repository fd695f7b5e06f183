"""Random sketches for least squares: Gaussian, SRHT, CountSketch, sparse sign
and leverage-score sampling, plus leverage scores and Lewis weights."""

from ._leverage import (
    approximate_leverage_scores,
    lewis_weights,
    linf_sketch_size,
)
from ._sketches import (
    countsketch,
    gaussian_sketch,
    leverage_score_sampling,
    sketch,
    sparse_sign,
    srht,
)

__all__ = [
    "approximate_leverage_scores",
    "countsketch",
    "gaussian_sketch",
    "leverage_score_sampling",
    "lewis_weights",
    "linf_sketch_size",
    "sketch",
    "sparse_sign",
    "srht",
]
