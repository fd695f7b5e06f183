"""The neural-network rows of ``skkernel demo`` (skipped without torch)."""

import importlib.util

from ..utils._demo import DemoCase


def _digits(backend):
    # torch runs on its own device; ``backend`` (numpy/numba/cupy) has no say.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import NeuralNetClassifier

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0,
                                                        stratify=y)
    model = make_pipeline(StandardScaler(),
                          NeuralNetClassifier(max_epochs=30, n_jobs=1, random_state=0))
    return model.fit(X_train, y_train).score(X_test, y_test)


def _diabetes(backend):
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import NeuralNetRegressor

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y / y.std(), random_state=0)
    net = NeuralNetRegressor(module_kwargs={"hidden_layer_sizes": (16,)},
                             max_epochs=100, n_jobs=1, random_state=0)
    model = make_pipeline(StandardScaler(), net)
    return model.fit(X_train, y_train).score(X_test, y_test)


def demo_cases():
    if importlib.util.find_spec("torch") is None:
        return []
    return [
        DemoCase("NeuralNetClassifier", "digits (default MLP, 30 epochs)",
                 "test accuracy", _digits),
        DemoCase("NeuralNetRegressor",
                 "diabetes (MLP of 16 units, 100 epochs; Ridge scores 0.358)",
                 "test R^2", _diabetes),
    ]
