"""
======================================================================
Robust matrix completion: gross outliers and the Coat ratings
======================================================================

:class:`~skkernel.impute.RobustMatrixCompletion` fits a rank-``k``
factorisation ``U V^T`` to the observed entries of a matrix by alternating
minimization (Gu, Song, Yin and Zhang, ICLR 2024), and fills the gaps with it.

Left: a rank-5 matrix of 300 x 300, 20 % of its entries observed, and 10 % of
those replaced by gross outliers (+/-10 times the largest entry). The squared
loss is pulled towards the outliers and stalls; the Huber and l1 losses
(iteratively reweighted least squares inside the same per-row solves)
recover the matrix to 1e-6 or better within 30 sweeps. The curves show the
relative error on the *unobserved* entries after each sweep (re-fitting with
a growing ``max_iter``).

Right: the Coat shopping ratings (290 users x 300 coats, shipped with
skkernel): fitted on the 24 self-selected ratings per user, scored on 16
randomly assigned ones per user (RMSE, predictions clipped to [1, 5]),
against a user + item bias baseline. ``benchmarks/bench_matrix_completion.py``
chooses rank and ridge by cross-validation on the training ratings and
compares with fancyimpute (``benchmarks/results/matrix_completion.md``).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from skkernel.datasets import load_coat
from skkernel.impute import RobustMatrixCompletion

# %%
# A low-rank matrix with gross outliers among the observed entries.
rng = np.random.default_rng(0)
M = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 300))
mask = rng.random(M.shape) < 0.2
X = np.where(mask, M, np.nan)
rows, cols = np.nonzero(mask)
hit = rng.random(rows.size) < 0.1
X[rows[hit], cols[hit]] = 10 * np.abs(M).max() * rng.choice([-1, 1], hit.sum())


def hidden_error(model):
    completed = model.row_factors_ @ model.components_
    return np.linalg.norm((completed - M)[~mask]) / np.linalg.norm(M[~mask])


sweeps = [1, 2, 3, 5, 8, 12, 20, 30]
curves = {}
for loss in ("l2", "huber", "l1"):
    curves[loss] = [
        hidden_error(RobustMatrixCompletion(rank=5, loss=loss, max_iter=t, tol=0,
                                            random_state=0).fit(X))
        for t in sweeps
    ]
    print(f"{loss:>5}: relative error on the gaps after 30 sweeps "
          f"{curves[loss][-1]:.1e}")

# %%
# Coat: test RMSE against the rank, squared and Huber loss, ridge 3.
coat = load_coat()
test = np.isfinite(coat.test)


def test_rmse(completed):
    predicted = np.clip(completed, 1, 5)[test]
    return np.sqrt(np.mean((predicted - coat.test[test]) ** 2))


train = coat.train
observed = np.isfinite(train)
mu = train[observed].mean()
centred = np.where(observed, train - mu, 0.0)
user_bias = centred.sum(1) / (observed.sum(1) + 5)
item_bias = (np.where(observed, centred - user_bias[:, None], 0.0).sum(0)
             / (observed.sum(0) + 5))
bias_rmse = test_rmse(mu + user_bias[:, None] + item_bias[None, :])

ranks = [1, 2, 3, 5, 8]
coat_rmse = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for loss in ("l2", "huber"):
        coat_rmse[loss] = []
        for k in ranks:
            model = RobustMatrixCompletion(rank=k, alpha=3.0, loss=loss,
                                           random_state=0).fit(train)
            coat_rmse[loss].append(test_rmse(model.row_factors_ @ model.components_))
print("Coat test RMSE, l2:", np.round(coat_rmse["l2"], 3), "huber:",
      np.round(coat_rmse["huber"], 3), f"biases: {bias_rmse:.3f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
for loss, style in (("l2", "o-"), ("huber", "s-"), ("l1", "^-")):
    left.semilogy(sweeps, curves[loss], style, markersize=3, label=f'loss="{loss}"')
left.axhline(1.0, color="gray", linestyle=":", label="predicting 0")
left.set_xlabel("sweep")
left.set_ylabel("relative error on the unobserved entries")
left.set_title("rank 5, 20 % observed, 10 % gross outliers")
left.legend()
for loss, style in (("l2", "o-"), ("huber", "s-")):
    right.plot(ranks, coat_rmse[loss], style, label=f'loss="{loss}", alpha=3')
right.axhline(bias_rmse, color="gray", linestyle=":", label="user + item biases")
right.set_xlabel("rank")
right.set_ylabel("test RMSE (MAR ratings)")
right.set_title("Coat ratings")
right.legend()
fig.tight_layout()
plt.show()
