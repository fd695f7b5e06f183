"""
=====================================================================
Private kernel density: error against epsilon, and a DP classifier
=====================================================================

:class:`~skkernel.density.PrivateKernelDensity` releases, once, an
epsilon-differentially private sketch of a data set (noisy mean random
Fourier features, after a fast JL map in high dimension; Backurs et al.,
ICLR 2024). Any number of queries ``(1/n) sum_i k(x_i, y)`` can then be
answered at no further privacy cost, and the fitted object holds no training
point.

Left: a one-dimensional mixture, its exact density
(:class:`~skkernel.density.ExactKernelDensity`) and private estimates at
three budgets. Right: test accuracy of
:class:`~skkernel.density.PrivateKernelClassifier` with its defaults on
scikit-learn's digits against epsilon, next to the same classifier without
noise and to diffprivlib's DP models (their accuracies as measured by the
benchmark on the same split, mean of 5 seeds).
``benchmarks/bench_private_kde.py`` measures errors, speed and the
comparison with diffprivlib (``benchmarks/results/private_kde.md``).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skkernel.density import (
    ExactKernelDensity,
    PrivateKernelClassifier,
    PrivateKernelDensity,
    exact_mean_similarity,
)

rng = np.random.RandomState(0)
X = np.concatenate([rng.normal(-2.0, 0.5, 3000), rng.normal(1.0, 1.0, 7000)])[:, None]
grid = np.linspace(-5, 5, 400)[:, None]
exact = np.exp(ExactKernelDensity(bandwidth=0.3).fit(X).score_samples(grid))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(grid[:, 0], exact, "k", lw=2, label="exact")
for epsilon, colour in ((0.1, "tab:red"), (1.0, "tab:orange"), (10.0, "tab:blue")):
    kde = PrivateKernelDensity(bandwidth=0.3, epsilon=epsilon, random_state=1).fit(X)
    # query() is the average similarity; the density divides by the kernel's
    # integral, sqrt(2 pi) h for the Gaussian kernel.
    left.plot(grid[:, 0], kde.query(grid) / (np.sqrt(2 * np.pi) * 0.3), color=colour,
              label=f"private, epsilon={epsilon:g}")
left.set_title("10,000 points, Gaussian kernel, h = 0.3")
left.legend()

# Right: digits (pixels / 16, a fixed map) with the classifier's defaults:
# bandwidth="auto" buys a private median distance with part of epsilon.
features, target = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(features / 16.0, target,
                                                    random_state=0, stratify=target)
classes = np.unique(y_train)
similarity = np.column_stack([
    exact_mean_similarity(X_train[y_train == c], X_test, "gaussian", 2.0)
    for c in classes])
nonprivate = np.mean(classes[similarity.argmax(axis=1)] == y_test)
epsilons = [0.5, 1.0, 2.0, 4.0, 8.0]
accuracy = [[PrivateKernelClassifier(epsilon=e, random_state=s)
             .fit(X_train, y_train).score(X_test, y_test) for s in range(5)]
            for e in epsilons]
right.errorbar(epsilons, np.mean(accuracy, axis=1), yerr=np.std(accuracy, axis=1),
               marker="o", label="PrivateKernelClassifier, defaults (5 seeds)")
# diffprivlib 0.6.6 on the same split, from benchmarks/results/private_kde.md
# (it needs scikit-learn <= 1.7, so it is not run here).
peer_epsilons = [0.5, 1.0, 2.0, 8.0]
DIFFPRIVLIB_NB = [0.130, 0.180, 0.213, 0.559]
DIFFPRIVLIB_LR = [0.087, 0.092, 0.103, 0.140]
right.plot(peer_epsilons, DIFFPRIVLIB_NB, "s--", color="tab:gray",
           label="diffprivlib GaussianNB (measured)")
right.plot(peer_epsilons, DIFFPRIVLIB_LR, "^:", color="tab:gray",
           label="diffprivlib LogisticRegression (measured)")
right.axhline(nonprivate, color="k", ls="--", label="no noise (class mean similarity)")
right.axhline(0.1, color="tab:red", lw=0.8, label="chance")
right.set_xscale("log")
right.set_xlabel("epsilon")
right.set_ylabel("test accuracy")
right.set_title("digits, 1,347 training points, 10 classes")
right.legend(loc="center right", fontsize=8)
fig.tight_layout()
plt.show()
