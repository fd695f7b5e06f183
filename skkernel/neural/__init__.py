"""PyTorch modules as scikit-learn estimators (the ``neural`` extra).

Importing this package does not import torch; fitting does, and names the
``neural`` extra when torch is missing.
"""

from ._callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    History,
    LRScheduler,
    TrainState,
)
from ._net import NeuralNet, NeuralNetClassifier, NeuralNetRegressor

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "EpochScoring",
    "History",
    "LRScheduler",
    "NeuralNet",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "TrainState",
]


def __getattr__(name):
    # The default module needs torch at import; load it on first use only.
    if name == "MLP":
        from ._mlp import MLP

        return MLP
    raise AttributeError(f"module 'skkernel.neural' has no attribute {name!r}")
