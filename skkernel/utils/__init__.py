"""Shared utilities: estimator discovery, validation, seeds and progress bars."""

from ._discovery import all_estimators
from ._progress import progress_bar
from ._validation import check_sample_weight, draw_seed

__all__ = ["all_estimators", "check_sample_weight", "draw_seed", "progress_bar"]
