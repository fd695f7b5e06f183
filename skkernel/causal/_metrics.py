"""Ranking metrics of debiased recommendation, grouped by user.

The conventions of the kernel-balancing paper's evaluation code (Li et al.
2024), which the debiased-recommendation literature shares: AUC over all test
pairs; per user, the items are ranked by score and

* NDCG@K = DCG@K / ideal DCG@K with binary gains and ``1 / log2(rank + 1)``
  discounts, and a user without positive test items counts as 1;
* Recall@K = hits / max(1, number of positives);
* Precision@K = hits / K (K, not min(K, number of items));
* F1@K = harmonic mean of the *averaged* precision and recall (not the mean
  of per-user F1 scores).

Each is averaged over users with equal weight. Ties in the scores keep the
input order (a stable sort), so the order of the test pairs matters only
between equal scores.
"""

from numbers import Integral

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.utils import check_consistent_length, column_or_1d

__all__ = ["f1_at_k", "ndcg_at_k", "precision_at_k", "ranking_report",
           "recall_at_k"]


def _check(y_true, y_score, groups, k):
    y_true = column_or_1d(np.asarray(y_true))
    y_score = column_or_1d(np.asarray(y_score, dtype=np.float64))
    groups = column_or_1d(np.asarray(groups))
    check_consistent_length(y_true, y_score, groups)
    if not np.all(np.isin(y_true, (0, 1))):
        raise ValueError("y_true must hold binary relevance labels 0 and 1.")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score must be finite (it contains NaN or inf).")
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}.")
    return y_true.astype(np.float64), y_score, groups


def _per_group(y_true, y_score, groups, k):
    """Hits, positives and NDCG@k of every group (sorted group labels)."""
    _, group = np.unique(groups, return_inverse=True)
    group = group.ravel()
    n_groups = group.max() + 1
    order = np.lexsort((-y_score, group))  # by group, then score descending
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(n_groups))
    rank = np.arange(order.size) - starts[sorted_group]  # 0 for the top item
    top = rank < k
    gain = y_true[order]
    hits = np.bincount(sorted_group[top], gain[top], minlength=n_groups)
    positives = np.bincount(group, y_true, minlength=n_groups)
    dcg = np.bincount(sorted_group[top], gain[top] / np.log2(rank[top] + 2),
                      minlength=n_groups)
    discount = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2))])
    ideal = discount[np.minimum(positives, k).astype(int)]
    ndcg = np.divide(dcg, ideal, out=np.ones(n_groups), where=positives > 0)
    return hits, positives, ndcg


def ndcg_at_k(y_true, y_score, *, groups, k=5):
    """Mean over users of NDCG@k with binary gains (no positives: 1).

    Parameters
    ----------
    y_true : array-like of shape (n_pairs,)
        Binary relevance of each (user, item) test pair.
    y_score : array-like of shape (n_pairs,)
        Predicted scores; higher ranks first.
    groups : array-like of shape (n_pairs,)
        The user of each pair.
    k : int, default=5
        Cut-off.

    Returns
    -------
    ndcg : float
        Mean NDCG@k over users.

    Examples
    --------
    >>> from skkernel.causal import ndcg_at_k
    >>> ndcg_at_k([1, 0, 0, 1], [0.9, 0.8, 0.3, 0.2], groups=[0, 0, 1, 1], k=1)
    0.5
    """
    _, _, ndcg = _per_group(*_check(y_true, y_score, groups, k), k)
    return float(ndcg.mean())


def recall_at_k(y_true, y_score, *, groups, k=5):
    """Mean over users of hits@k / max(1, positives).

    Parameters
    ----------
    y_true, y_score, groups, k
        As in :func:`ndcg_at_k`.

    Returns
    -------
    recall : float
        Mean recall@k over users.

    Examples
    --------
    >>> from skkernel.causal import recall_at_k
    >>> recall_at_k([1, 1, 0, 0], [0.9, 0.1, 0.8, 0.2], groups=[0, 0, 0, 0], k=2)
    0.5
    """
    hits, positives, _ = _per_group(*_check(y_true, y_score, groups, k), k)
    return float(np.mean(hits / np.maximum(positives, 1)))


def precision_at_k(y_true, y_score, *, groups, k=5):
    """Mean over users of hits@k / k.

    Parameters
    ----------
    y_true, y_score, groups, k
        As in :func:`ndcg_at_k`.

    Returns
    -------
    precision : float
        Mean precision@k over users.

    Examples
    --------
    >>> from skkernel.causal import precision_at_k
    >>> precision_at_k([1, 1, 0, 0], [0.9, 0.1, 0.8, 0.2], groups=[0, 0, 0, 0],
    ...                k=2)
    0.5
    """
    hits, _, _ = _per_group(*_check(y_true, y_score, groups, k), k)
    return float(np.mean(hits / k))


def f1_at_k(y_true, y_score, *, groups, k=5):
    """Harmonic mean of the averaged precision@k and recall@k.

    Parameters
    ----------
    y_true, y_score, groups, k
        As in :func:`ndcg_at_k`.

    Returns
    -------
    f1 : float
        F1@k of the averaged precision and recall.

    Examples
    --------
    >>> from skkernel.causal import f1_at_k
    >>> f1_at_k([1, 1, 0, 0], [0.9, 0.1, 0.8, 0.2], groups=[0, 0, 0, 0], k=2)
    0.5
    """
    report = ranking_report(y_true, y_score, groups=groups, k=(k,), auc=False)
    return report[f"f1@{k}"]


def ranking_report(y_true, y_score, *, groups, k=(5, 10), auc=True):
    """AUC and, for each cut-off, NDCG, recall, precision and F1 in one pass.

    Parameters
    ----------
    y_true, y_score, groups
        As in :func:`ndcg_at_k`.
    k : sequence of int, default=(5, 10)
        Cut-offs.
    auc : bool, default=True
        Include the AUC over all pairs (``sklearn.metrics.roc_auc_score``).

    Returns
    -------
    report : dict
        ``"auc"``, and ``"ndcg@k"``, ``"recall@k"``, ``"precision@k"``,
        ``"f1@k"`` for each k.

    Examples
    --------
    >>> from skkernel.causal import ranking_report
    >>> report = ranking_report([1, 0, 0, 1], [0.9, 0.8, 0.3, 0.2],
    ...                         groups=[0, 0, 1, 1], k=(1,))
    >>> report["auc"], report["ndcg@1"], report["f1@1"]
    (0.5, 0.5, 0.5)
    """
    report = {}
    for cutoff in k:
        t, s, g = _check(y_true, y_score, groups, cutoff)
        hits, positives, ndcg = _per_group(t, s, g, cutoff)
        precision = float(np.mean(hits / cutoff))
        recall = float(np.mean(hits / np.maximum(positives, 1)))
        report[f"ndcg@{cutoff}"] = float(ndcg.mean())
        report[f"recall@{cutoff}"] = recall
        report[f"precision@{cutoff}"] = precision
        report[f"f1@{cutoff}"] = (0.0 if precision + recall == 0 else
                                  2 * precision * recall / (precision + recall))
    if auc:
        t, s, _ = _check(y_true, y_score, groups, 1)
        report = {"auc": float(roc_auc_score(t, s)), **report}
    return report
