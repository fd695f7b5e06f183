"""
A tabular workflow: a skkernel step in a Pipeline, tuned by GridSearchCV
========================================================================

The everyday data-science loop with skkernel estimators: hold out a test set,
put preprocessing and a skkernel model in one
:class:`~sklearn.pipeline.Pipeline`, tune it with
:class:`~sklearn.model_selection.GridSearchCV`, look at the search in a plot,
and compare the tuned model with a linear baseline on the held-out rows.

This script is also run as a Jupyter notebook in CI (download it below).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skkernel.neural import NeuralNetClassifier

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                    stratify=y, random_state=0)
print(f"{X_train.shape[0]} training rows, {X_train.shape[1]} features")

# %%
# One pipeline, one search
# ------------------------
# Parameters of a pipeline step are addressed as ``<step>__<parameter>``;
# the network's own arguments go one level deeper, through ``module__``.

pipe = make_pipeline(StandardScaler(),
                     NeuralNetClassifier(max_epochs=40, n_jobs=1, random_state=0))
grid = {
    "neuralnetclassifier__lr": [3e-4, 1e-3, 3e-3],
    "neuralnetclassifier__module__hidden_layer_sizes": [(16,), (64,), (64, 64)],
}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(4, shuffle=True, random_state=0))
search.fit(X_train, y_train)
print("best:", search.best_params_, f"CV accuracy {search.best_score_:.3f}")
search.best_estimator_  # in a notebook, this cell shows the pipeline as a diagram

# %%
# The search as a picture
# -----------------------

scores = search.cv_results_["mean_test_score"].reshape(3, 3)
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(3), [str(h) for h in grid[
    "neuralnetclassifier__module__hidden_layer_sizes"]])
ax.set_yticks(range(3), [str(lr) for lr in grid["neuralnetclassifier__lr"]])
ax.set(xlabel="hidden layers", ylabel="learning rate")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="w")
fig.colorbar(image, label="mean CV accuracy")
plt.show()

# %%
# Held-out comparison
# -------------------

baseline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
print(f"tuned network  test accuracy {search.score(X_test, y_test):.3f}")
print(f"logistic model test accuracy {baseline.score(X_test, y_test):.3f}")
