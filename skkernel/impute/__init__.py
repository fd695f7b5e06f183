"""Imputation by low-rank matrix completion."""

from ._model_selection import cross_val_entry_errors
from ._propensity import observation_propensities
from ._robust_completion import RobustMatrixCompletion

__all__ = ["RobustMatrixCompletion", "cross_val_entry_errors",
           "observation_propensities"]
