import numpy as np
import pytest
from sklearn.metrics import ndcg_score, roc_auc_score

from skkernel.causal import (
    f1_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
)


def _pairs(n_users=30, n_items=16, seed=0):
    rng = np.random.RandomState(seed)
    users = np.repeat(np.arange(n_users), n_items)
    y = (rng.uniform(size=users.size) < 0.4).astype(int)
    y[::n_items] = 1  # every user has a positive
    score = rng.normal(size=users.size) + y  # distinct scores, informative
    perm = rng.permutation(users.size)  # pairs in no particular order
    return y[perm], score[perm], users[perm], n_items


@pytest.mark.parametrize("k", [1, 5, 10, 16])
def test_ndcg_equals_sklearn_per_user(k):
    y, score, users, n_items = _pairs()
    order = np.argsort(users, kind="stable")
    Y = y[order].reshape(-1, n_items)
    S = score[order].reshape(-1, n_items)
    assert ndcg_at_k(y, score, groups=users, k=k) == pytest.approx(
        ndcg_score(Y, S, k=k), rel=1e-12)


def test_hand_computed_user():
    # one user, ranked: pos, neg, pos, neg, pos ; 3 positives
    y = [1, 0, 1, 0, 1]
    s = [5, 4, 3, 2, 1]
    g = [7] * 5
    dcg = 1 + 1 / np.log2(4)
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert ndcg_at_k(y, s, groups=g, k=3) == pytest.approx(dcg / ideal)
    assert recall_at_k(y, s, groups=g, k=3) == pytest.approx(2 / 3)
    assert precision_at_k(y, s, groups=g, k=3) == pytest.approx(2 / 3)
    # precision divides by k even past the user's number of items
    assert precision_at_k(y, s, groups=g, k=10) == pytest.approx(3 / 10)


def test_conventions_for_users_without_positives():
    y = [0, 0, 1, 0]
    s = [0.9, 0.1, 0.2, 0.8]
    g = ["a", "a", "b", "b"]
    # user a: no positives -> NDCG 1, recall 0 (hits / max(1, 0)); user b:
    # the positive is ranked second
    assert ndcg_at_k(y, s, groups=g, k=2) == pytest.approx((1 + 1 / np.log2(3)) / 2)
    assert recall_at_k(y, s, groups=g, k=1) == 0.0
    assert recall_at_k(y, s, groups=g, k=2) == pytest.approx(0.5)


def test_f1_is_from_averaged_precision_and_recall():
    y, score, users, _ = _pairs(seed=2)
    p = precision_at_k(y, score, groups=users, k=5)
    r = recall_at_k(y, score, groups=users, k=5)
    assert f1_at_k(y, score, groups=users, k=5) == pytest.approx(2 * p * r / (p + r))
    report = ranking_report(y, score, groups=users, k=(5, 10))
    assert report["auc"] == pytest.approx(roc_auc_score(y, score))
    assert report["f1@5"] == pytest.approx(2 * p * r / (p + r))
    assert report["ndcg@10"] == pytest.approx(ndcg_at_k(y, score, groups=users,
                                                        k=10))


def test_ties_keep_input_order_and_bad_input():
    # equal scores: the first pair in the input ranks first
    assert precision_at_k([1, 0], [0.5, 0.5], groups=[0, 0], k=1) == 1.0
    assert precision_at_k([0, 1], [0.5, 0.5], groups=[0, 0], k=1) == 0.0
    with pytest.raises(ValueError, match="binary"):
        ndcg_at_k([2, 0], [1, 0], groups=[0, 0])
    with pytest.raises(ValueError, match="finite"):
        ndcg_at_k([1, 0], [np.nan, 0], groups=[0, 0])
    with pytest.raises(ValueError, match="k must be a positive int"):
        ndcg_at_k([1, 0], [1, 0], groups=[0, 0], k=0)
    with pytest.raises(ValueError, match="inconsistent"):
        ndcg_at_k([1, 0, 1], [1, 0], groups=[0, 0])
