"""Kernels shared by skkernel estimators."""

from ._zz_feature_map import ZZFeatureMapKernel

__all__ = ["ZZFeatureMapKernel"]
