"""Imputation by low-rank matrix completion."""

from ._robust_completion import RobustMatrixCompletion

__all__ = ["RobustMatrixCompletion"]
