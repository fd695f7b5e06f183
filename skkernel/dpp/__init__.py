"""Optimal sampling designs for weighted least squares.

Orthonormal bases with their inverse Christoffel functions, and samplers of
the designs of Nouy and Michel (2023): i.i.d. from the optimal density,
projection DPPs (continuous or on a finite pool), volume-rescaled and
generalised volume-rescaled sampling, repeated DPPs, and conditioning on a
stable Gram matrix. The estimator built on them is
:class:`skkernel.linear_model.DPPWeightedLeastSquares`.
"""

from ._bases import (
    FeatureMapBasis,
    HermiteBasis,
    LegendreBasis,
    OrthonormalBasis,
    TensorProductBasis,
    TrigonometricBasis,
    make_basis,
)
from ._samplers import (
    SAMPLINGS,
    Design,
    gram_deviation,
    gram_matrix,
    sample_design,
    sample_generalized_volume,
    sample_iid_christoffel,
    sample_projection_dpp,
    sample_repeated_dpp,
    sample_volume_rescaled,
)

__all__ = [
    "SAMPLINGS",
    "Design",
    "FeatureMapBasis",
    "HermiteBasis",
    "LegendreBasis",
    "OrthonormalBasis",
    "TensorProductBasis",
    "TrigonometricBasis",
    "gram_deviation",
    "gram_matrix",
    "make_basis",
    "sample_design",
    "sample_generalized_volume",
    "sample_iid_christoffel",
    "sample_projection_dpp",
    "sample_repeated_dpp",
    "sample_volume_rescaled",
]
