"""
=====================================================================
Weighted least squares on DPP designs: error ratio against n/m
=====================================================================

Nouy and Michel (2023) approximate a function in a space of ``m`` orthonormal
functions by weighted least squares on ``n`` points. With points drawn i.i.d.
from the optimal density ``k_m / m`` (Cohen and Migliorati), a stable Gram
matrix needs ``n`` of order ``m log m`` and, in practice, ten times ``m`` or
more. Unions of independent projection-DPP samples (repeated DPPs) repel each
other and reach the same accuracy with several times fewer points.

Here: Legendre polynomials of degree < 20 (``m = 20``), the Runge function
``1 / (1 + 25 x^2)`` on ``[-1, 1]``, 40 designs per point of the curve. The
quantity shown is ``||f - f_hat||^2 / ||f - P_m f||^2``: 1 is the best
approximation in the space. ``benchmarks/bench_dpp_wls.py`` runs 400 trials
and more bases (numbers in ``benchmarks/results/dpp_wls.md``).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from skkernel.dpp import LegendreBasis
from skkernel.linear_model import DPPWeightedLeastSquares


def runge(X):
    return 1.0 / (1.0 + 25.0 * X[:, 0] ** 2)


# %%
# The best approximation error, by Gauss-Legendre quadrature.
m = 20
basis = LegendreBasis(degree=m - 1)
nodes, quad_weights = np.polynomial.legendre.leggauss(400)
nodes, quad_weights = nodes[:, None], quad_weights / 2
Phi = basis.evaluate(nodes)
f = runge(nodes)
best = np.sum(quad_weights * (f - Phi @ (Phi.T @ (quad_weights * f))) ** 2)


def error_ratio(model):
    return np.sum(quad_weights * (f - model.predict(nodes)) ** 2) / best


# %%
# Mean and median error ratio of the unconditioned designs, and how often the
# Gram matrix is stable (``||G - I|| <= 1/2``).
ratios = [2, 3, 4, 6, 10]
trials = 40
results = {}
for sampling in ("iid_christoffel", "repeated_dpp"):
    mean, median, stable = [], [], []
    for r in ratios:
        errors, ok = [], 0
        for seed in range(trials):
            model = DPPWeightedLeastSquares(
                degree=m - 1, sampling=sampling, n_samples=r * m,
                stability_threshold=None, random_state=seed,
            ).fit_function(runge)
            errors.append(error_ratio(model))
            ok += model.gram_deviation_ <= 0.5
        mean.append(np.mean(errors))
        median.append(np.median(errors))
        stable.append(ok / trials)
    results[sampling] = mean, median, stable

iid, dpp = results["iid_christoffel"], results["repeated_dpp"]
print("n/m  mean ratio: i.i.d.    DPP  P(stable): i.i.d.   DPP")
for i, r in enumerate(ratios):
    print(f"{r:3d}  {iid[0][i]:18.3g}  {dpp[0][i]:5.3g}"
          f"  {iid[2][i]:17.2f}  {dpp[2][i]:4.2f}")

# %%
# The estimator's default: a repeated DPP redrawn until the Gram matrix is
# stable (redrawing costs no evaluations of the function).
conditioned_ratios = ratios[1:]  # at n = 2m a stable design is too rare
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    conditioned = [
        np.mean([
            error_ratio(DPPWeightedLeastSquares(
                degree=m - 1, n_samples=r * m, random_state=seed,
            ).fit_function(runge))
            for seed in range(trials)
        ])
        for r in conditioned_ratios
    ]

fig, (ax_err, ax_stable) = plt.subplots(1, 2, figsize=(10, 4))
for sampling, style in (("iid_christoffel", "s-"), ("repeated_dpp", "o-")):
    mean, median, stable = results[sampling]
    ax_err.plot(ratios, mean, style, label=f"{sampling}: mean")
    ax_err.plot(ratios, median, style, alpha=0.4,
                label=f"{sampling}: median")
    ax_stable.plot(ratios, stable, style, label=sampling)
ax_err.plot(conditioned_ratios, conditioned, "D-",
            label="repeated_dpp, conditioned: mean")
ax_err.axhline(1.0, color="grey", lw=0.8)
ax_err.set_yscale("log")
ax_err.set_xlabel("n / m")
ax_err.set_ylabel("||f - f_hat||^2 / ||f - P_m f||^2")
ax_err.legend(fontsize=8)
ax_stable.set_xlabel("n / m")
ax_stable.set_ylabel("P(||G - I|| <= 1/2)")
ax_stable.legend(fontsize=8)
fig.suptitle("Legendre, m = 20, Runge function")
fig.tight_layout()
plt.show()

# %%
# Picking rows of a pool to label works the same way: ``select`` draws the
# design among the candidates, and the returned weights make the fit the
# weighted least squares of the pool's measure. The weights belong to the
# domain the design was drawn on, so ``fit`` gets the same ``domain``.
rng = np.random.RandomState(0)
pool = rng.uniform(-1, 1, (5000, 1))
model = DPPWeightedLeastSquares(degree=m - 1, domain=(-1, 1),
                                random_state=0)
rows, sample_weight = model.select(pool, 4 * m)
model.fit(pool[rows], runge(pool[rows]), sample_weight=sample_weight)
print(f"{rows.size} labelled rows out of {pool.shape[0]}: error ratio "
      f"{error_ratio(model):.2f}")
