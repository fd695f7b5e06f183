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
:class:`~skkernel.density.PrivateKernelClassifier` on scikit-learn's
breast-cancer data against epsilon, next to the same classifier without
noise. ``benchmarks/bench_private_kde.py`` measures errors, speed and the
comparison with diffprivlib (``benchmarks/results/private_kde.md``).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
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

features, target = load_breast_cancer(return_X_y=True)
features = np.log1p(features)  # a fixed map: no budget spent on scaling
X_train, X_test, y_train, y_test = train_test_split(features, target, random_state=0,
                                                    stratify=target)
classes = np.unique(y_train)
similarity = np.column_stack([
    exact_mean_similarity(X_train[y_train == c], X_test, "gaussian", 1.0)
    for c in classes])
nonprivate = np.mean(classes[similarity.argmax(axis=1)] == y_test)
epsilons = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
accuracy = [[PrivateKernelClassifier(bandwidth=1.0, epsilon=e, random_state=s)
             .fit(X_train, y_train).score(X_test, y_test) for s in range(5)]
            for e in epsilons]
right.errorbar(epsilons, np.mean(accuracy, axis=1), yerr=np.std(accuracy, axis=1),
               marker="o", label="PrivateKernelClassifier (5 seeds)")
right.axhline(nonprivate, color="k", ls="--", label="no noise (class mean similarity)")
right.set_xscale("log")
right.set_xlabel("epsilon")
right.set_ylabel("test accuracy")
right.set_title("breast_cancer, 426 training points")
right.legend(loc="lower right")
fig.tight_layout()
plt.show()
