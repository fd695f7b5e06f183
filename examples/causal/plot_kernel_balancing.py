"""
=====================================================================
Kernel balancing weights: what they balance and what they estimate
=====================================================================

Ratings missing not at random are a biased sample of all user-item pairs. An
inverse-propensity weight ``w`` makes the weighted sample mean of any
function ``h`` equal to its population mean; kernel balancing (Li et al.,
ICLR 2024) asks for exactly that, for a few kernel functions
``h_j = k(., c_j)``, and finds the closest weights to uniform in entropy.
:class:`~skkernel.causal.KernelBalancingWeights` solves that program through
its convex dual, so the weights come as a function ``w(x)`` that extends to
new rows and implies a propensity ``p(observed | x)``.

Here: 2,000 points, observed with a logistic propensity in ``x_0``. Left: the
kernel imbalance of 8 balanced functions before and after weighting (within
the slack). Right: the implied propensity against the true one, for growing
numbers of balanced functions. The recommender built on these weights runs
on Coat in ``benchmarks/bench_kernel_balancing.py``.
"""

import matplotlib.pyplot as plt
import numpy as np

from skkernel.causal import KernelBalancingWeights

rng = np.random.RandomState(0)
X = rng.normal(size=(2000, 2))
true_propensity = 1 / (1 + np.exp(-(1.5 * X[:, 0] - 0.5)))
observed = (rng.uniform(size=2000) < true_propensity).astype(int)

model = KernelBalancingWeights(n_centers=8, gamma=0.5, slack=1e-3, penalty=None,
                               random_state=0).fit(X, observed)
kernel = np.exp(-0.5 * ((X[:, None, :] - model.centers_[None]) ** 2).sum(-1))
before = kernel[observed == 1].mean(axis=0) - kernel.mean(axis=0)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
index = np.arange(model.n_centers)
left.bar(index - 0.2, before, width=0.4, label="uniform weights")
left.bar(index + 0.2, model.imbalance_, width=0.4, label="balancing weights")
left.axhline(1e-3, color="k", lw=0.5, ls="--")
left.axhline(-1e-3, color="k", lw=0.5, ls="--")
left.set(xlabel="balanced kernel function j",
         ylabel="observed mean - population mean", title="Kernel imbalance")
left.legend()

for n_centers in (1, 4, 16):
    fitted = KernelBalancingWeights(n_centers=n_centers, gamma=0.5, slack=1e-3,
                                    penalty=None, random_state=0).fit(X, observed)
    implied = fitted.predict_proba(X)[:, 1]
    order = np.argsort(X[:, 0])
    correlation = np.corrcoef(implied, true_propensity)[0, 1]
    right.plot(X[order, 0], implied[order], lw=1,
               label=f"J={n_centers} (corr {correlation:.2f})")
right.plot(X[order, 0], true_propensity[order], "k--", label="true propensity")
right.set(xlabel="x_0", ylabel="p(observed | x)", title="Implied propensity")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()
