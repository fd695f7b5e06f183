"""
=====================================================================
iLA-SDP on heterogeneous clusters: K-means, EM and iLA-SDP
=====================================================================

K-means (and its SDP relaxation) assumes clusters of equal spherical spread: a
diffuse cluster next to a tight one is cut where the spreads, not the
groups, meet. :class:`~skkernel.cluster.ILASDPClustering` (Zhuang, Chen and
Yang, ICML 2023) keeps the SDP's convex membership matrices but weighs each
cluster by its own Gaussian likelihood: it alternates cluster covariances and
a likelihood-adjusted SDP, starting from SDP K-means.

Here: three 2-D Gaussian clusters of 100 points with standard deviations 0.5,
1 and 2, centres 4 from the origin. The error shown is the mis-clustering
error, ``1 -`` the fraction of points on the best matching of found and true
labels. ``benchmarks/bench_ila_sdp.py`` compares the methods over seeds, in
higher dimension and on real data (``benchmarks/results/ila_sdp.md``).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from skkernel.cluster import ILASDPClustering


def match(labels, truth):
    """Relabel to the best matching of the true labels; return the error too."""
    counts = np.zeros((3, 3))
    np.add.at(counts, (labels, truth), 1)
    rows, cols = linear_sum_assignment(-counts)
    error = 1.0 - counts[rows, cols].sum() / labels.size
    mapping = np.empty(3, dtype=int)
    mapping[rows] = cols
    return mapping[labels], error


# %%
# Heterogeneous blobs.
rng = np.random.RandomState(0)
truth = np.repeat(np.arange(3), 100)
centres = rng.normal(size=(3, 2))
centres *= 4.0 / np.linalg.norm(centres, axis=1, keepdims=True)
sds = np.array([0.5, 1.0, 2.0])
X = centres[truth] + rng.normal(size=(300, 2)) * sds[truth][:, None]

# %%
# Three fits. ``ILASDPClustering`` starts from SDP K-means and alternates
# covariances and LA-SDP solves (a few seconds on a laptop CPU).
kmeans = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
gmm = GaussianMixture(n_components=3, covariance_type="full", random_state=0).fit(X)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # possible ConvergenceWarning of a solve
    ila = ILASDPClustering(n_clusters=3, random_state=0).fit(X)

# %%
# With ``covariance_type="auto"`` (the default) the spherical, diagonal and full
# covariance families are fitted in turn and the lowest BIC is kept, among them
# and the SDP K-means start with one shared covariance (``"tied"``). These
# clusters differ in spread but each is round: the spherical family wins.
print("covariance family kept:", ila.covariance_type_)
for family, bic in sorted(ila.bic_.items(), key=lambda item: item[1]):
    print(f"  BIC {family:9s} {bic:9.1f}")

fits = [("K-means (n_init=10)", kmeans.labels_),
        ("GaussianMixture (EM)", gmm.predict(X)),
        ("ILASDPClustering", ila.labels_)]

fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
for ax, (title, labels) in zip(axes, fits):
    matched, error = match(labels, truth)  # same colour for the same true cluster
    ax.scatter(X[:, 0], X[:, 1], c=matched, s=10, cmap="viridis", vmin=0, vmax=2)
    ax.set_title(f"{title}\nmis-clustering error {error:.3f}")
    ax.set_aspect("equal")
fig.tight_layout()

# %%
# The lifted negative log-likelihood ``sum_k <W_k, B_k>`` of the kept family
# after each LA-SDP solve: the covariance step and the LA-SDP step minimise the
# same objective, so it does not increase (up to the solver's tolerance).
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(np.arange(1, ila.n_iter_ + 1), ila.objective_, marker="o")
ax.set_xlabel("outer iteration")
ax.set_ylabel("objective_")
ax.set_title(f"ILASDPClustering: {ila.n_iter_} iterations, "
             f"converged={ila.converged_}")
fig.tight_layout()
plt.show()
