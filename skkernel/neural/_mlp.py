"""The default module: a small multilayer perceptron (imports torch)."""

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU,
                "logistic": nn.Sigmoid, "identity": nn.Identity}


class MLP(nn.Module):
    """Fully connected network: Linear, activation, dropout, ..., Linear.

    The estimators build it when ``module=None``, filling ``n_features_in``
    and ``n_outputs`` from the data; set the rest through ``module_kwargs``.

    Parameters
    ----------
    n_features_in : int
        Width of the input.
    n_outputs : int
        Width of the output (one logit per class, or one value per target).
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer (as in scikit-learn's MLPClassifier).
    activation : {"relu", "tanh", "gelu", "logistic", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    """

    def __init__(self, n_features_in, n_outputs, hidden_layer_sizes=(100,),
                 activation="relu", dropout=0.0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"module_kwargs['activation'] must be one of "
                f"{sorted(_ACTIVATIONS)}. Got {activation!r} instead."
            )
        widths = [int(n_features_in), *map(int, hidden_layer_sizes)]
        layers = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(widths[-1], int(n_outputs)))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


__all__ = ["MLP", "torch"]
