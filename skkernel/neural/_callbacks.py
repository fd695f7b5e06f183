"""Callbacks: early stopping, learning-rate schedules, checkpoints, scores.

A callback is a plain object with hooks the training loop calls with a
:class:`TrainState`. The estimators deep-copy the ``callbacks`` parameter at
the start of every fit into ``callbacks_``, so the parameter is never
mutated and a clone or a grid search starts from fresh callbacks.
"""

import copy
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._torch import import_torch


class History(list):
    """Per-epoch records (a list of dicts) that slices like skorch's.

    ``history_[:, "train_loss"]`` is the column of one key over epochs,
    ``history_[-1, "valid_loss"]`` one value, ``history_[-1]`` the last
    epoch's dict.

    Examples
    --------
    >>> from skkernel.neural import History
    >>> h = History([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}])
    >>> h[:, "train_loss"]
    [0.5, 0.25]
    >>> h[-1, "epoch"]
    2
    """

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows, column = key
            picked = list.__getitem__(self, rows)
            if isinstance(rows, slice):
                return [row[column] for row in picked if column in row]
            return picked[column]
        picked = list.__getitem__(self, key)
        return History(picked) if isinstance(key, slice) else picked


@dataclass
class TrainState:
    """What a callback sees during a fit.

    Attributes
    ----------
    net : NeuralNet
        The estimator being fitted (its ``module_`` and ``optimizer_`` are
        set).
    history : History
        Records of the finished epochs of this and earlier fits.
    record : dict
        The current epoch's record; a callback may add keys to it.
    train : tuple
        ``(X_train, y_train, sample_weight_train)`` as passed to the fit
        (labels as given, not encoded), less the validation rows.
    validation : tuple or None
        ``(X_valid, y_valid, sample_weight_valid)`` when the fit holds out a
        validation set (``validation_fraction``), else None.
    stop : bool
        Set to True to end training after this epoch.
    """

    net: Any
    history: History
    record: dict = field(default_factory=dict)
    train: Any = None
    validation: Any = None
    stop: bool = False


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, state):
        """Called before the first epoch of a fit."""

    def on_epoch_end(self, state):
        """Called after each epoch, once ``state.record`` holds its losses."""

    def on_train_end(self, state):
        """Called after the last epoch (also when a callback stopped early)."""

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def _monitor_name(monitor, state):
    if monitor != "auto":
        return monitor
    return "valid_loss" if state.validation is not None else "train_loss"


def _lower_is_better(monitor, lower_is_better):
    if lower_is_better is not None:
        return lower_is_better
    return "loss" in monitor or "error" in monitor


def _module_state(module):
    # A deep copy of the weights (on their device), cheap for small models.
    return copy.deepcopy(module.state_dict())


class _Monitor(Callback):
    """Tracks the best value of one history key."""

    def _improved(self, state):
        name = _monitor_name(self.monitor, state)
        if name not in state.record:
            raise ValueError(
                f"{type(self).__name__} monitors {name!r}, which the history "
                f"does not have; it has {sorted(state.record)}."
            )
        value = float(state.record[name])
        lower = _lower_is_better(name, self.lower_is_better)
        score = value if lower else -value
        improved = score < getattr(self, "_best", math.inf) - self.threshold
        if improved:
            self._best = score
        state.record[f"{name}_best"] = improved
        return improved


class EarlyStopping(_Monitor):
    """Stop when a monitored value has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default="auto"
        History key to watch: ``"valid_loss"`` when the fit holds out a
        validation set, else ``"train_loss"``; or a score added by
        :class:`EpochScoring`.
    patience : int, default=5
        Epochs without improvement before stopping.
    threshold : float, default=1e-4
        Minimum change that counts as an improvement.
    lower_is_better : bool or None, default=None
        None: True for keys containing "loss" or "error", else False.
    restore_best_weights : bool, default=True
        Load the weights of the best epoch when training stops.

    Examples
    --------
    >>> from skkernel.neural import EarlyStopping
    >>> EarlyStopping(patience=3).patience
    3
    """

    def __init__(self, monitor="auto", patience=5, threshold=1e-4,
                 lower_is_better=None, restore_best_weights=True):
        self.monitor = monitor
        self.patience = patience
        self.threshold = threshold
        self.lower_is_better = lower_is_better
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, state):
        self._best, self._wait, self._best_state = math.inf, 0, None
        self.stopped_epoch_ = None

    def on_epoch_end(self, state):
        if self._improved(state):
            self._wait = 0
            self.best_epoch_ = state.record["epoch"]
            if self.restore_best_weights:
                self._best_state = _module_state(state.net.module_)
            return
        self._wait += 1
        if self._wait >= self.patience:
            state.stop = True
            self.stopped_epoch_ = state.record["epoch"]

    def on_train_end(self, state):
        if self.restore_best_weights and self._best_state is not None:
            state.net.module_.load_state_dict(self._best_state)
        self._best_state = None  # nothing heavy stays in the fitted model


_SCHEDULES = {
    "step": ("StepLR", {"step_size": 30, "gamma": 0.1}),
    "exponential": ("ExponentialLR", {"gamma": 0.95}),
    "cosine": ("CosineAnnealingLR", {}),
    "plateau": ("ReduceLROnPlateau", {}),
}


class LRScheduler(Callback):
    """Step a ``torch.optim.lr_scheduler`` once per epoch.

    Parameters
    ----------
    schedule : {"step", "exponential", "cosine", "plateau"} or class, \
            default="cosine"
        A named schedule (StepLR, ExponentialLR, CosineAnnealingLR with
        ``T_max=max_epochs``, ReduceLROnPlateau on the monitored loss) or any
        scheduler class taking the optimizer first.
    monitor : str, default="auto"
        For "plateau": the history key passed to ``step``.
    **kwargs
        Arguments of the scheduler (they override the named defaults).

    Examples
    --------
    >>> from skkernel.neural import LRScheduler
    >>> LRScheduler("step", step_size=10, gamma=0.5).kwargs
    {'step_size': 10, 'gamma': 0.5}
    """

    def __init__(self, schedule="cosine", monitor="auto", **kwargs):
        self.schedule = schedule
        self.monitor = monitor
        self.kwargs = kwargs

    def on_train_begin(self, state):
        torch = import_torch()
        if isinstance(self.schedule, str):
            if self.schedule not in _SCHEDULES:
                raise ValueError(
                    f"LRScheduler's schedule must be one of {sorted(_SCHEDULES)} "
                    f"or a scheduler class. Got {self.schedule!r} instead."
                )
            name, defaults = _SCHEDULES[self.schedule]
            factory = getattr(torch.optim.lr_scheduler, name)
            kwargs = dict(defaults)
            if self.schedule == "cosine":
                kwargs["T_max"] = state.net.max_epochs
        else:
            factory, kwargs = self.schedule, {}
        kwargs.update(self.kwargs)
        self._plateau = factory is torch.optim.lr_scheduler.ReduceLROnPlateau
        self.scheduler_ = factory(state.net.optimizer_, **kwargs)

    def on_epoch_end(self, state):
        if self._plateau:
            self.scheduler_.step(state.record[_monitor_name(self.monitor, state)])
        else:
            self.scheduler_.step()

    def on_train_end(self, state):
        self.scheduler_ = None  # holds the optimizer; not part of the model


class Checkpoint(_Monitor):
    """Save the module's weights whenever the monitored value improves.

    Parameters
    ----------
    f_params : str, path or None, default=None
        File the best ``state_dict`` is written to with ``torch.save``;
        None keeps it in memory as ``best_state_dict_``.
    monitor : str, default="auto"
        As for :class:`EarlyStopping`.
    threshold : float, default=0.0
        Minimum change that counts as an improvement.
    lower_is_better : bool or None, default=None
        As for :class:`EarlyStopping`.
    load_best : bool, default=False
        Load the best weights into the model at the end of training.

    Examples
    --------
    >>> from skkernel.neural import Checkpoint
    >>> Checkpoint(load_best=True).load_best
    True
    """

    def __init__(self, f_params=None, monitor="auto", threshold=0.0,
                 lower_is_better=None, load_best=False):
        self.f_params = f_params
        self.monitor = monitor
        self.threshold = threshold
        self.lower_is_better = lower_is_better
        self.load_best = load_best

    def on_train_begin(self, state):
        self._best = math.inf
        self.best_epoch_ = None

    def on_epoch_end(self, state):
        if not self._improved(state):
            return
        torch = import_torch()
        self.best_epoch_ = state.record["epoch"]
        weights = {k: v.detach().cpu().clone()
                   for k, v in state.net.module_.state_dict().items()}
        if self.f_params is None:
            self.best_state_dict_ = weights
        else:
            torch.save(weights, self.f_params)

    def on_train_end(self, state):
        if not self.load_best or self.best_epoch_ is None:
            return
        torch = import_torch()
        if self.f_params is None:
            weights = self.best_state_dict_
        else:
            with open(self.f_params, "rb") as f:
                weights = torch.load(io.BytesIO(f.read()), map_location="cpu")
        state.net.module_.load_state_dict(weights)


class EpochScoring(Callback):
    """Add a scikit-learn score of the model to each epoch's record.

    Parameters
    ----------
    scoring : str or callable
        A scorer name (``"accuracy"``, ``"r2"``, ``"roc_auc"``...) or a
        callable ``scorer(estimator, X, y)``.
    on_train : bool, default=False
        Score the training data instead of the validation set.
    name : str or None, default=None
        Key in the history: ``"valid_<scoring>"`` or ``"train_<scoring>"``.

    Examples
    --------
    >>> from skkernel.neural import EpochScoring
    >>> EpochScoring("accuracy")._key()
    'valid_accuracy'
    """

    def __init__(self, scoring, on_train=False, name=None):
        self.scoring = scoring
        self.on_train = on_train
        self.name = name

    def _key(self):
        if self.name is not None:
            return self.name
        label = self.scoring if isinstance(self.scoring, str) else "score"
        return f"{'train' if self.on_train else 'valid'}_{label}"

    def on_train_begin(self, state):
        from sklearn.metrics import check_scoring

        if not self.on_train and state.validation is None:
            raise ValueError(
                "EpochScoring(on_train=False) scores the validation set, but "
                "the fit holds none: set validation_fraction, or "
                "EpochScoring(..., on_train=True)."
            )
        self._scorer = check_scoring(state.net, scoring=self.scoring)

    def on_epoch_end(self, state):
        if self.on_train:
            X, y, w = state.train
        else:
            X, y, w = state.validation
        kwargs = {} if w is None else {"sample_weight": np.asarray(w)}
        state.record[self._key()] = float(self._scorer(state.net, X, y, **kwargs))

    def on_train_end(self, state):
        self._scorer = None
