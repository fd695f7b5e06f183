"""Imputation by low-rank matrix completion."""

from ._propensity import observation_propensities
from ._robust_completion import RobustMatrixCompletion

__all__ = ["RobustMatrixCompletion", "observation_propensities"]
