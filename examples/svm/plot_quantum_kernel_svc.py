"""
========================================================
Quantum kernel SVM on the ad hoc data of Havlicek et al.
========================================================

Havlicek et al. (Nature 2019) classify points ``x`` in ``[0, 2 pi)^2`` whose
labels come from their own ZZ feature map: a point is labelled by the sign
of a random parity observable on the 2-qubit state ``|Phi(x)>``, and points
within a gap of 0.3 of the boundary are dropped. An SVM on the fidelity
kernel ``K(x, z) = |<Phi(x)|Phi(z)>|^2`` of the same feature map separates
the classes perfectly; the paper estimated each kernel entry on a device.

:class:`~skkernel.svm.QuantumKernelSVC` computes the kernel exactly in
closed form, or with the shot noise of a device that measures each entry
``shots`` times. This example shows the decision regions of both and then
how the kernel concentrates as qubits are added: off-diagonal values of
random points halve with every qubit up to about eight (then shrink more
slowly), so a fixed number of shots resolves them less and less well.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from skkernel.datasets import make_ad_hoc
from skkernel.kernels import ZZFeatureMapKernel
from skkernel.svm import QuantumKernelSVC

X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, n_qubits=2, gap=0.3,
                                               random_state=0)

# %%
# Fit with the exact kernel and with 1,024 shots per kernel entry.
models = {
    "exact kernel": QuantumKernelSVC(random_state=0),
    "1,024 shots": QuantumKernelSVC(shots=1024, random_state=0),
}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    print(f"{name}: test accuracy {model.score(X_test, y_test):.2f}, "
          f"{len(model.support_)} support vectors, "
          f"{time.perf_counter() - start:.3f} s")

# %%
# Decision regions on a grid of the input square (the feature map is
# 2 pi-periodic in each coordinate).
axis = np.linspace(0, 2 * np.pi, 80)
grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
for ax, (name, model) in zip(axes, models.items(), strict=True):
    scores = model.decision_function(grid).reshape(80, 80)
    ax.contourf(axis, axis, scores, levels=20, cmap="RdBu", alpha=0.7)
    ax.contour(axis, axis, scores, levels=[0.0], colors="k", linewidths=1)
    for X, y, marker in [(X_train, y_train, "o"), (X_test, y_test, "s")]:
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", marker=marker,
                   edgecolors="k", vmin=-0.5, vmax=1.5)
    accuracy = model.score(X_test, y_test)
    ax.set_title(f"{name}: test accuracy {accuracy:.2f}")
    ax.set_xlabel("$x_1$")
axes[0].set_ylabel("$x_2$")
fig.suptitle("QuantumKernelSVC on ad hoc data "
             "(circles: train, squares: test)")
fig.tight_layout()

# %%
# Concentration: the mean off-diagonal kernel value of random points in
# ``[0, 2 pi)^n`` against the number of qubits, next to ``2^-n`` (the mean
# overlap of Haar-random states) and the resolution ``1/shots`` of 1,024
# shots. Up to about eight qubits the values follow ``2^-n``; beyond, the
# states of this structured circuit overlap more than random states would,
# but by twelve qubits the typical entry is already below one shot in 1,024.
rng = np.random.RandomState(0)
qubits = list(range(2, 13))
means = []
for n in qubits:
    K = ZZFeatureMapKernel()(rng.uniform(0, 2 * np.pi, size=(60, n)))
    means.append(K[~np.eye(len(K), dtype=bool)].mean())
    print(f"{n:2d} qubits: mean off-diagonal K = {means[-1]:.2e}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogy(qubits, means, "o-", label="mean off-diagonal $K(x, z)$")
ax.semilogy(qubits, [2.0**-n for n in qubits], "k--", label="$2^{-n}$")
ax.axhline(1 / 1024, color="tab:red", linestyle=":",
           label="1 / 1,024 shots")
ax.set_xlabel("qubits (features)")
ax.set_ylabel("kernel value")
ax.set_title("The ZZ kernel concentrates as qubits grow")
ax.legend()
fig.tight_layout()
plt.show()
