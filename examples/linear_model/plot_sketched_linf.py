"""
=====================================================================
Sketch-and-solve: the l_inf guarantee needs a dense sketch
=====================================================================

Song, Ye, Yin and Zhang (ICML 2023) show that sketch-and-solve with a
*dense* sketch ``S`` (Gaussian, SRHT) gives every coordinate of
``x' = argmin ||S(Ax - b)||`` within

    ``||x' - x*||_inf <= eps / sqrt(d) * ||A x* - b|| * ||A^+||``

of the least-squares solution ``x*``, while sparse sketches (CountSketch)
cannot (Price, Song and Woodruff, ICALP 2017). Here we measure the ratio
``||x' - x*||_inf sqrt(d) / (||r*|| ||A^+||)`` for sketch sizes ``2d .. 16d``
on an incoherent matrix (Gaussian) and a coherent one (an identity block on
top of small Gaussian rows), with two outliers in the targets. When an
outlier hashes into the bucket of a high-leverage row, CountSketch puts its
whole residual on one coordinate; a dense sketch spreads it out.
``benchmarks/bench_sketched_regression.py`` runs the same experiment at a
larger size (table in ``benchmarks/results/sketched_regression.md``).
"""

import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg

from skkernel.linear_model import SketchedLinearRegression

n, d, trials = 2048, 16, 6
rng = np.random.default_rng(1)
matrices = {
    "incoherent": rng.standard_normal((n, d)),
    "coherent": np.vstack([np.eye(d),
                           1e-2 * rng.standard_normal((n - d, d))]),
}
noise = 0.01 * rng.standard_normal(n)
noise[rng.choice(np.arange(d, n), size=2, replace=False)] += 100.0
x_true = rng.standard_normal(d)

# %%
# The 90th percentile over random sketches of the l_inf ratio.
factors = [2, 4, 8, 16]
sketches = ["gaussian", "srht", "sparse_sign", "countsketch"]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for ax, (name, A) in zip(axes, matrices.items()):
    b = A @ x_true + noise
    x_star = scipy.linalg.lstsq(A, b)[0]
    sigma_min = np.linalg.svd(A, compute_uv=False)[-1]
    scale = np.linalg.norm(b - A @ x_star) / sigma_min
    for sketch in sketches:
        ratios = []
        for factor in factors:
            errors = [
                np.abs(
                    SketchedLinearRegression(
                        solver="sketch_and_solve", sketch=sketch,
                        sketch_size=factor * d, fit_intercept=False,
                        random_state=trial,
                    ).fit(A, b).coef_ - x_star
                ).max() * np.sqrt(d) / scale
                for trial in range(trials)
            ]
            ratios.append(np.quantile(errors, 0.9))
        ax.plot(factors, ratios, marker="o", label=sketch)
    ax.set_xscale("log", base=2)
    ax.set_xticks(factors, [f"{f}d" for f in factors])
    ax.set_title(f"{name} A")
    ax.set_xlabel("sketch size m")
axes[0].set_ylabel("90th pct of ||x'-x*||_inf sqrt(d) / (||r|| ||A+||)")
axes[1].legend()
fig.tight_layout()
plt.show()
