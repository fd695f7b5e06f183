"""Kernel density: exact, and differentially private (Backurs et al., ICLR 2024)."""

from ._audit import privacy_audit
from ._distance_sum import PrivateDistanceSum
from ._exact import ExactKernelDensity, exact_mean_similarity
from ._private_kde import PrivateKernelClassifier, PrivateKernelDensity

__all__ = [
    "ExactKernelDensity",
    "PrivateDistanceSum",
    "PrivateKernelClassifier",
    "PrivateKernelDensity",
    "exact_mean_similarity",
    "privacy_audit",
]
