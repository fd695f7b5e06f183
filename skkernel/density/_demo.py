"""The kernel-density rows of ``skkernel demo``."""

from ..utils._demo import DemoCase


def _private_breast_cancer(backend):
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    from . import PrivateKernelClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(np.log1p(X), y,
                                                        random_state=0, stratify=y)
    clf = PrivateKernelClassifier(epsilon=2.0, random_state=0,
                                  backend=backend).fit(X_train, y_train)
    return clf.score(X_test, y_test)


def _private_density(backend):
    import numpy as np

    from . import PrivateKernelDensity, exact_mean_similarity

    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(20000, 5)), rng.normal(size=(500, 5))
    kde = PrivateKernelDensity(epsilon=1.0, random_state=0, backend=backend).fit(X)
    exact = exact_mean_similarity(X, Y, "gaussian", 1.0)
    return float(np.mean(np.abs(kde.query(Y) - exact)))


def _exact_density(backend):
    import numpy as np
    from sklearn.neighbors import KernelDensity

    from . import ExactKernelDensity

    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(20000, 5)), rng.normal(size=(500, 5))
    ours = ExactKernelDensity(bandwidth=0.5, backend=backend).fit(X).score_samples(Y)
    ref = KernelDensity(bandwidth=0.5).fit(X).score_samples(Y)
    return float(np.max(np.abs(ours - ref)))


def _distance_sum(backend):
    import numpy as np

    from . import PrivateDistanceSum

    rng = np.random.RandomState(0)
    X, Y = rng.uniform(-1, 1, size=(20000, 3)), rng.uniform(-1, 1, size=(200, 3))
    est = PrivateDistanceSum(epsilon=1.0, random_state=0, backend=backend).fit(X)
    exact = np.abs(X[None, :, :] - Y[:, None, :]).sum(axis=(1, 2))
    return float(np.median(np.abs(est.query(Y) - exact) / exact))


def demo_cases():
    return [
        DemoCase("PrivateKernelClassifier", "breast_cancer (log1p), epsilon=2",
                 "test accuracy", _private_breast_cancer),
        DemoCase("PrivateKernelDensity", "20,000 Gaussian points in 5-D, epsilon=1",
                 "mean abs error of the average similarity", _private_density),
        DemoCase("ExactKernelDensity", "20,000 Gaussian points in 5-D",
                 "max |log-density - sklearn's|", _exact_density),
        DemoCase("PrivateDistanceSum", "20,000 points in [-1, 1]^3, l1, epsilon=1",
                 "median relative error of the distance sum", _distance_sum),
    ]
