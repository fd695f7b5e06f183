"""
===========================================================
l_1 regression on a few rows chosen by their Lewis weights
===========================================================

:class:`~skkernel.linear_model.LewisWeightRegression` minimises
``sum_i |y_i - x_i^T b - c|^p`` (least absolute deviations at ``p = 1``,
which shrugs off outliers) on a small sample of the rows. Each row is kept
with a probability proportional to its l_p Lewis weight, a measure of how
much the row matters to the fit, and re-weighted by the inverse of that
probability; the small problem is then solved exactly (a linear program at
``p = 1``).
Woodruff and Yasuda (ICML 2023) bound the number of rows needed.

A uniform sample of the same size is just as good when every row matters
about equally. It fails when a few rows carry information no other row has:
here one feature (a rare category) is non-zero in only 25 of 5,000 rows.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import QuantileRegressor

from skkernel.linear_model import LewisWeightRegression

rng = np.random.RandomState(0)
n_samples, n_features = 5000, 6
X = rng.randn(n_samples, n_features)
X[:, -1] = 0.0
rare = rng.choice(n_samples, 25, replace=False)
X[rare, -1] = 1.0
true_coef = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 10.0])
y = X @ true_coef + rng.laplace(size=n_samples)
outliers = rng.rand(n_samples) < 0.05
y[outliers] += 30 * rng.standard_cauchy(outliers.sum())


def l1_loss(model):
    return np.abs(y - model.predict(X)).sum()


# %%
# The exact l_1 fit on every row, by scikit-learn's
# :class:`~sklearn.linear_model.QuantileRegressor` (median, no penalty),
# against Lewis-weight sampling with the default sample size.
start = time.perf_counter()
exact = QuantileRegressor(quantile=0.5, alpha=0, solver="highs").fit(X, y)
exact_time = time.perf_counter() - start
best = l1_loss(exact)

start = time.perf_counter()
model = LewisWeightRegression(p=1, random_state=0).fit(X, y)
lewis_time = time.perf_counter() - start

print(f"QuantileRegressor: {exact_time:.2f} s, all {n_samples} rows")
print(f"LewisWeightRegression: {lewis_time:.2f} s, "
      f"{model.sample_indices_.size} rows kept")
print(f"l_1 loss, sampled / exact: {l1_loss(model) / best:.4f}")
print("coefficients, exact:  ", np.round(exact.coef_, 2))
print("coefficients, sampled:", np.round(model.coef_, 2))

# %%
# The 25 rows of the rare category get weights 30 times the others', so
# nearly all of them are kept:
weights = model.lewis_weights_
kept_rare = np.isin(rare, model.sample_indices_).sum()
others = np.delete(weights, rare)
print(f"mean Lewis weight, rare rows: {weights[rare].mean():.4f}")
print(f"mean Lewis weight, others:    {others.mean():.4f}")
print(f"rare rows in the sample: {kept_rare} of {rare.size}")

# %%
# Lewis-weight against uniform sampling over sample sizes, 10 draws each.
# Both reach an l_1 loss within a percent of the optimum, but a uniform
# sample of up to a few hundred rows may hold none of the rare rows, and the
# coefficient of that feature is then lost (error 10, its true value).
sizes = [50, 100, 200, 400, 800]
draws = 10
fig, (ax_loss, ax_coef) = plt.subplots(1, 2, figsize=(10, 4))
styles = {"lewis": ("o-", "tab:blue"), "uniform": ("s--", "tab:orange")}
for sampling, (style, colour) in styles.items():
    loss, error = [], []
    for size in sizes:
        fits = [LewisWeightRegression(p=1, sampling=sampling,
                                      sample_size=size,
                                      random_state=seed).fit(X, y)
                for seed in range(draws)]
        loss.append([l1_loss(fit) / best for fit in fits])
        error.append([abs(fit.coef_[-1] - true_coef[-1]) for fit in fits])
    ax_loss.plot(sizes, np.median(loss, axis=1), style, color=colour,
                 label=sampling)
    ax_coef.plot(sizes, np.median(error, axis=1), style, color=colour,
                 label=f"{sampling}: median")
    ax_coef.plot(sizes, np.max(error, axis=1), style, color=colour,
                 alpha=0.4, label=f"{sampling}: worst")
for ax in (ax_loss, ax_coef):
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.minorticks_off()
    ax.set_xlabel("expected rows kept")
ax_loss.set_ylabel("l_1 loss / optimum (median)")
ax_loss.legend()
ax_coef.set_ylabel("error of the rare coefficient")
ax_coef.legend(fontsize=8)
fig.suptitle(f"l_1 regression, {n_samples} rows, 5 % gross outliers")
fig.tight_layout()
plt.show()
