"""
Training curves and early stopping with NeuralNetClassifier
============================================================

A torch module trained as a scikit-learn classifier: the default multilayer
perceptron on the digits data, with a validation split, early stopping on the
validation loss and a cosine learning-rate schedule. ``history_`` holds one
record per epoch, so the curves are one slice each.

The second half shows what skorch users ask for: ``sample_weight`` is a fit
argument (here, up-weighting one class), and two fits with the same
``random_state`` are bit-identical.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skkernel.neural import (
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    NeuralNetClassifier,
)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                    random_state=0, stratify=y)

net = NeuralNetClassifier(
    module_kwargs={"hidden_layer_sizes": (128,), "dropout": 0.1},
    lr=3e-3,
    max_epochs=60,
    validation_fraction=0.2,
    callbacks=[EpochScoring("accuracy"), EarlyStopping(patience=6),
               LRScheduler("cosine")],
    n_jobs=1,
    random_state=0,
)
model = make_pipeline(StandardScaler(), net).fit(X_train, y_train)
history = net.history_
stopper = net.callbacks_[1]
print(f"stopped after {net.n_iter_} epochs; best epoch {stopper.best_epoch_}")
print(f"test accuracy {model.score(X_test, y_test):.3f}")

# %%
# The curves: losses on the left, validation accuracy and learning rate on the
# right. The vertical line marks the epoch whose weights early stopping kept.

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
epochs = history[:, "epoch"]
ax0.plot(epochs, history[:, "train_loss"], label="training loss")
ax0.plot(epochs, history[:, "valid_loss"], label="validation loss")
ax0.axvline(stopper.best_epoch_, color="0.5", ls="--", lw=1, label="weights kept")
ax0.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
ax0.legend()
ax1.plot(epochs, history[:, "valid_accuracy"], color="C2")
ax1.set(xlabel="epoch", ylabel="validation accuracy")
lr_ax = ax1.twinx()
lr_ax.plot(epochs, history[:, "lr"], color="C3", ls=":")
lr_ax.set_ylabel("learning rate", color="C3")
plt.show()

# %%
# Sample weights and seeds
# ------------------------
# Weights travel with their rows into batches and into the validation split.
# Weighting the digit 8 (often confused with 1 and 9) five times raises its
# recall; the same seed gives the same model, bit for bit.

weights = np.where(y_train == 8, 5.0, 1.0)
fits = [
    make_pipeline(StandardScaler(), NeuralNetClassifier(max_epochs=30, n_jobs=1,
                                                        random_state=1))
    .fit(X_train, y_train, neuralnetclassifier__sample_weight=w)
    for w in (None, weights, weights)
]
recalls = [recall_score(y_test, f.predict(X_test), labels=[8], average=None)[0]
           for f in fits]
print(f"recall of 8: unweighted {recalls[0]:.3f}, weighted {recalls[1]:.3f}")
same = np.array_equal(fits[1].predict_proba(X_test), fits[2].predict_proba(X_test))
print(f"two weighted fits with random_state=1 identical: {same}")
