"""
======================================================================
Robust matrix completion: gross outliers and the Coat ratings
======================================================================

:class:`~skkernel.impute.RobustMatrixCompletion` fits a rank-``k``
factorisation ``U V^T`` to the observed entries of a matrix by alternating
minimization (Gu, Song, Yin and Zhang, ICLR 2024), and fills the gaps with it.

Left: a rank-5 matrix of 300 x 300, 20 % of its entries observed, and 10 % of
those replaced by gross outliers (+/-10 times the largest entry). The squared
loss is pulled towards the outliers and stalls (error 26 on the gaps); the
Huber and l1 losses (iteratively reweighted least squares inside the same
per-row solves) recover the matrix: Huber to 1e-7 within 30 sweeps, l1 more
slowly (4e-4 after 30 sweeps, 5e-6 after 60). The curves show the
relative error on the *unobserved* entries after each sweep (re-fitting with
a growing ``max_iter``).

Right: the Coat shopping ratings (290 users x 300 coats, shipped with
skkernel): fitted on the 24 self-selected ratings per user, scored on 16
randomly assigned ones per user (RMSE, predictions clipped to [1, 5]),
against a user + item bias baseline, for three models at ridge 5: the plain
factorisation, the same with ``fit_intercept=True`` (global mean, user and
item biases inside the sweeps) and the Huber loss. Users rate the coats they
chose, which they like more (training mean 2.61, test mean 2.23), so the
rank and ridge cannot be chosen by plain cross-validation on the training
ratings: its RMSE (dashed) is 0.06-0.13 above the test RMSE, and over ranks
1-8 and ridges 1-10 it picks rank 1, which scores 1.13 on the test ratings.
Weighting each held-out rating
(:func:`~skkernel.impute.cross_val_entry_errors` returns them one by one) by
its inverse propensity (:func:`~skkernel.impute.observation_propensities`:
Schnabel et al.'s logistic model of *which* coats each user rated, on the user
and coat attributes; it uses neither the test ratings nor any random sample)
estimates the error on random coats instead (dotted). It picks rank 2 at
ridge 3, 1.074 on the test ratings. ``benchmarks/bench_matrix_completion.py``
runs the full grid (losses, intercepts, five fold splits) and compares with
fancyimpute
(``benchmarks/results/matrix_completion.md``).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from skkernel.datasets import load_coat
from skkernel.impute import (
    RobustMatrixCompletion,
    cross_val_entry_errors,
    observation_propensities,
)

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
# Coat: test RMSE against the rank (ridge 5), and the cross-validated RMSE
# on the training ratings that a model selection would see.
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


def predictions(model):
    return (model.row_factors_ @ model.components_ + model.intercept_
            + model.row_biases_[:, None] + model.column_biases_[None, :])


ranks, alphas = [1, 2, 3, 5, 8], [1.0, 3.0, 5.0, 10.0]
models = {"plain": {}, "fit_intercept": {"fit_intercept": True},
          "huber": {"loss": "huber"}}
coat_rmse = {name: [] for name in models}
rows, cols = np.nonzero(observed)
# inverse propensities of the training ratings, from which entries are rated
propensity = observation_propensities(train, coat.user_features,
                                      coat.item_features)
weights = 1.0 / propensity[rows, cols]
cv, ips_cv, plain_test = {}, {}, {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for k in ranks:
        for name, params in models.items():
            model = RobustMatrixCompletion(rank=k, alpha=5.0, random_state=0,
                                           **params).fit(train)
            coat_rmse[name].append(test_rmse(predictions(model)))
        for alpha in alphas:
            # each training rating predicted by a fit without it (5 folds)
            _, _, squared = cross_val_entry_errors(
                RobustMatrixCompletion(rank=k, alpha=alpha, random_state=0),
                train, random_state=0, clip=(1, 5))
            cv[k, alpha] = np.sqrt(squared.mean())
            ips_cv[k, alpha] = np.sqrt(np.sum(weights * squared) / weights.sum())
            model = RobustMatrixCompletion(rank=k, alpha=alpha,
                                           random_state=0).fit(train)
            plain_test[k, alpha] = test_rmse(predictions(model))
for name in models:
    print(f"Coat test RMSE, {name:>13}:", np.round(coat_rmse[name], 3))
print(f"user + item biases: {bias_rmse:.3f}")
for label, scores in (("plain CV", cv), ("propensity-weighted CV", ips_cv)):
    k, alpha = min(scores, key=scores.get)
    print(f"{label}: rank {k}, ridge {alpha:g} -> test RMSE "
          f"{plain_test[k, alpha]:.3f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
for loss, style in (("l2", "o-"), ("huber", "s-"), ("l1", "^-")):
    left.semilogy(sweeps, curves[loss], style, markersize=3, label=f'loss="{loss}"')
left.axhline(1.0, color="gray", linestyle=":", label="predicting 0")
left.set_xlabel("sweep")
left.set_ylabel("relative error on the unobserved entries")
left.set_title("rank 5, 20 % observed, 10 % gross outliers")
left.legend()
for name, style in (("plain", "o-"), ("fit_intercept", "s-"), ("huber", "^-")):
    right.plot(ranks, coat_rmse[name], style, markersize=4, label=f"{name}, test")
right.plot(ranks, [cv[k, 5.0] for k in ranks], "o--", color="C0", alpha=0.6,
           label="plain, CV on training ratings")
right.plot(ranks, [ips_cv[k, 5.0] for k in ranks], "o:", color="C0", alpha=0.6,
           label="plain, propensity-weighted CV")
right.axhline(bias_rmse, color="gray", linestyle=":", label="user + item biases")
right.set_xlabel("rank")
right.set_ylabel("RMSE (ridge 5)")
right.set_title("Coat ratings")
right.legend()
fig.tight_layout()
plt.show()
