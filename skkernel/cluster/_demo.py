"""The clustering rows of ``skkernel demo``."""

from ..utils._demo import DemoCase


def _heterogeneous_blobs():
    import numpy as np

    # Three clusters with standard deviations 0.5, 1 and 2 in 10 dimensions.
    rng = np.random.RandomState(0)
    labels = np.repeat(np.arange(3), 100)
    centres = rng.normal(size=(3, 10))
    centres *= 5.0 / np.linalg.norm(centres, axis=1, keepdims=True)
    X = centres[labels] + rng.normal(size=(300, 10)) * np.array([0.5, 1.0, 2.0])[
        labels][:, None]
    return X, labels


def _agreement(estimator_class, backend):
    from sklearn.metrics import adjusted_rand_score

    X, labels = _heterogeneous_blobs()
    model = estimator_class(n_clusters=3, random_state=0, backend=backend).fit(X)
    return adjusted_rand_score(labels, model.labels_)


def _sdp_kmeans(backend):
    from . import SDPKMeans

    return _agreement(SDPKMeans, backend)


def _ila_sdp(backend):
    from . import ILASDPClustering

    return _agreement(ILASDPClustering, backend)


def demo_cases():
    data = "heterogeneous blobs (300 x 10, sd 0.5/1/2)"
    return [DemoCase("SDPKMeans", data, "adjusted Rand index", _sdp_kmeans),
            DemoCase("ILASDPClustering", data, "adjusted Rand index", _ila_sdp)]
