"""Empirical privacy audit: a lower confidence bound on epsilon from releases."""

import math

from scipy.stats import beta
from sklearn.base import clone
from sklearn.utils import check_random_state


def _clopper_pearson(k, n, level):
    """One-sided Clopper-Pearson bounds ``(lower, upper)`` at ``level`` each."""
    tail = 1.0 - level
    lower = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(level, k + 1, n - k))
    return lower, upper


def privacy_audit(estimator, X, X_neighbour, event, *, y=None, y_neighbour=None,
                  n_trials=2000, confidence=0.95, delta=0.0, random_state=None):
    """Lower confidence bound on the privacy loss of a fit, from repeated releases.

    The estimator is fitted ``n_trials`` times on ``X`` and ``n_trials``
    times on its neighbour ``X_neighbour``, each time with a fresh seed, and
    ``event(fitted)`` is recorded. An (epsilon, delta)-DP fit must have
    ``P[E | X] <= exp(epsilon) P[E | X'] + delta`` for every event, in both
    directions and for the complement. With Clopper-Pearson bounds
    ``p_low <= P[E | X]`` and ``P[E | X'] <= p_high``,
    ``log((p_low - delta) / p_high)`` is a lower bound on the true epsilon;
    the largest over the four cases is returned. An audit can show that a
    guarantee is broken, never that it holds: a good event makes the bound
    close to the claimed epsilon.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted; it must have a ``random_state`` parameter.
    X, X_neighbour : array-like of shape (n_samples, n_features)
        Neighbouring data sets (one point replaced).
    event : callable
        ``event(fitted_estimator) -> bool``: a fixed output event, chosen
        without looking at the releases.
    y, y_neighbour : array-like of shape (n_samples,), default=None
        Labels for classifiers.
    n_trials : int, default=2000
        Releases per data set.
    confidence : float, default=0.95
        Probability that the returned lower bound is below the true privacy
        loss of the event (Bonferroni over the two bounds and four cases).
    delta : float, default=0.0
        The delta of the claimed guarantee.
    random_state : int, RandomState instance or None, default=None
        Seeds the sequence of fit seeds.

    Returns
    -------
    result : dict
        ``epsilon_lower`` (the bound), ``epsilon_estimate`` (the plug-in
        value), ``frequencies`` (the event's frequency on ``X`` and on
        ``X_neighbour``) and ``n_trials``.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.density import PrivateDistanceSum, privacy_audit
    >>> X = np.array([[-1.0], [0.5], [0.5]])
    >>> X_moved = np.array([[1.0], [0.5], [0.5]])
    >>> def event(fitted):  # left count stays up and right count down
    ...     return fitted.tree_[0, 1] >= 1 and fitted.tree_[0, 2] <= 2
    >>> result = privacy_audit(PrivateDistanceSum(epsilon=1.0, n_levels=1), X,
    ...                        X_moved, event, n_trials=500, random_state=0)
    >>> bool(result["epsilon_lower"] <= 1.0)
    True
    """
    rng = check_random_state(random_state)
    seeds = rng.randint(0, 2**31 - 1, size=(2, n_trials))
    counts = []
    for data, labels, row in ((X, y, seeds[0]), (X_neighbour, y_neighbour, seeds[1])):
        hits = 0
        for seed in row:
            fitted = clone(estimator).set_params(random_state=int(seed))
            fitted = fitted.fit(data) if labels is None else fitted.fit(data, labels)
            hits += bool(event(fitted))
        counts.append(hits)
    level = 1.0 - (1.0 - confidence) / 8.0
    n = n_trials
    best_lower, best_estimate = -math.inf, -math.inf
    for k_a, k_b in ((counts[0], counts[1]), (counts[1], counts[0]),
                     (n - counts[0], n - counts[1]), (n - counts[1], n - counts[0])):
        low, _ = _clopper_pearson(k_a, n, level)
        _, high = _clopper_pearson(k_b, n, level)
        if low - delta > 0:
            best_lower = max(best_lower, math.log((low - delta) / high))
        if k_a / n - delta > 0 and k_b > 0:
            best_estimate = max(best_estimate, math.log((k_a / n - delta) / (k_b / n)))
    return {"epsilon_lower": max(best_lower, 0.0),
            "epsilon_estimate": max(best_estimate, 0.0),
            "frequencies": (counts[0] / n, counts[1] / n), "n_trials": n}


