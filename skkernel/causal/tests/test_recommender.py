import pickle
import sys

import numpy as np
import pytest
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
)

from skkernel.causal import KernelBalancedRecommender

pytest.importorskip("torch")

N_USERS, N_ITEMS = 30, 40


def _mnar(seed=0, n_obs=600):
    """Ratings missing not at random: positives are observed more often."""
    rng = np.random.RandomState(seed)
    U, V = rng.normal(size=(N_USERS, 3)), rng.normal(size=(N_ITEMS, 3))
    truth = (U @ V.T + 0.3 * rng.normal(size=(N_USERS, N_ITEMS)) > 0).astype(int)
    score = rng.uniform(size=truth.shape) * np.where(truth == 1, 3.0, 1.0)
    flat = np.argsort(-score, axis=None)[:n_obs]
    X = np.column_stack(np.unravel_index(flat, truth.shape))
    return X, truth[X[:, 0], X[:, 1]], truth, U, V


FAST = dict(n_users=N_USERS, n_items=N_ITEMS, max_epochs=3, batch_size=64,
            random_state=0)


@pytest.mark.parametrize("estimator", ["ips", "dr"])
@pytest.mark.parametrize("balancing", ["none", "random", "worst", "adaptive"])
@pytest.mark.parametrize("reference_mode", [False, True])
def test_every_variant_fits_and_predicts(estimator, balancing, reference_mode):
    X, y, truth, U, V = _mnar()
    rec = KernelBalancedRecommender(estimator, balancing, reference_mode=reference_mode,
                                    **FAST)
    rec.fit(X, y, mar_y=truth.ravel()[:50], user_embedding=U, item_embedding=V)
    proba = rec.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    logit = rec.decision_function(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-logit)))
    np.testing.assert_array_equal(rec.predict(X), (logit > 0).astype(int))
    assert rec.user_factors_.shape == (N_USERS, 4)
    assert rec.train_weights_.shape == (len(X),) and np.all(rec.train_weights_ > 0)
    if not reference_mode:  # the normalisation constraint
        assert rec.train_weights_.mean() == pytest.approx(1.0)
    # reproducible from random_state
    twin = KernelBalancedRecommender(estimator, balancing,
                                     reference_mode=reference_mode, **FAST)
    twin.fit(X, y, mar_y=truth.ravel()[:50], user_embedding=U, item_embedding=V)
    np.testing.assert_array_equal(twin.decision_function(X), logit)


def test_naive_bayes_prior_weights():
    X, y, truth, U, V = _mnar()
    mar = truth.ravel()[:200]
    rec = KernelBalancedRecommender("ips", "none", **FAST).fit(X, y, mar_y=mar)
    p_y = np.array([1 - mar.mean(), mar.mean()])
    p_y_obs = np.array([1 - y.mean(), y.mean()])
    expected = p_y / (p_y_obs * len(X) / (N_USERS * N_ITEMS))
    np.testing.assert_allclose(rec.prior_weight_, expected)
    # no weight model: the weights are the prior q itself (the authors' code,
    # the default), or q normalised to mean one (the paper as stated)
    q = expected[y]
    np.testing.assert_allclose(rec.train_weights_, q)
    stated = KernelBalancedRecommender("ips", "none", reference_mode=False, **FAST)
    np.testing.assert_allclose(stated.fit(X, y, mar_y=mar).train_weights_, q / q.mean())
    naive = KernelBalancedRecommender("ips", "none", **FAST).fit(X, y)
    np.testing.assert_array_equal(naive.prior_weight_, [1.0, 1.0])
    np.testing.assert_allclose(naive.train_weights_, 1.0)


def test_weights_train_and_the_detached_ablation_does_not():
    X, y, truth, U, V = _mnar()
    fits = {}
    for train in (True, False):
        for epochs in (1, 3):
            rec = KernelBalancedRecommender(
                "ips", "random", train_weights=train, weight_lr=0.05,
                **{**FAST, "max_epochs": epochs})
            fits[train, epochs] = rec.fit(X, y, mar_y=truth.ravel()[:100],
                                          user_embedding=U, item_embedding=V)
    assert not np.allclose(fits[True, 1].train_weights_, fits[True, 3].train_weights_)
    np.testing.assert_allclose(fits[False, 1].train_weights_,
                               fits[False, 3].train_weights_)


def test_embeddings_default_to_a_pretrained_mf_and_labels_can_be_strings():
    X, y, truth, U, V = _mnar()
    users = np.array([f"u{i}" for i in X[:, 0]], dtype=object)
    X_str = np.column_stack([users, X[:, 1]]).astype(object)
    labels = np.array(["dislike", "like"])[y]
    rec = KernelBalancedRecommender("dr", "adaptive", max_epochs=2, batch_size=64,
                                    random_state=0).fit(X_str, labels)
    assert set(rec.predict(X_str)) <= {"dislike", "like"}
    assert rec.users_.size == np.unique(X[:, 0]).size
    loaded = pickle.loads(pickle.dumps(rec))
    np.testing.assert_array_equal(loaded.decision_function(X_str),
                                  rec.decision_function(X_str))


def test_bad_input_messages(monkeypatch):
    X, y, truth, U, V = _mnar()
    rec = KernelBalancedRecommender(**FAST)
    with pytest.raises(ValueError, match="binary ratings with both classes"):
        rec.fit(X, np.ones_like(y))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        rec.fit(np.column_stack([X, X]), y)
    X_nan = X.astype(float)
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rec.fit(X_nan, y)
    with pytest.raises(ValueError, match=r"user ids must lie in \[0, n_users=10\)"):
        KernelBalancedRecommender(**{**FAST, "n_users": 10}).fit(X, y)
    with pytest.raises(ValueError, match="both classes"):
        rec.fit(X, y, mar_y=np.ones(20, dtype=int))
    with pytest.raises(ValueError, match="user_embedding must be"):
        rec.fit(X, y, user_embedding=U[:5], item_embedding=V)
    with pytest.raises(ValueError, match="n_centers=3 of batch_size"):
        KernelBalancedRecommender(batch_size=1, n_sampled_ratio=2).fit(X, y)
    # cold start: an id unseen in fit
    rec = KernelBalancedRecommender(max_epochs=1, random_state=0).fit(X, y)
    new_pair = np.array([[X[0, 0], N_ITEMS + 5]])
    with pytest.raises(ValueError, match="cold start"):
        rec.predict(new_pair)
    # torch missing: the message names the extra
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="'neural' extra"):
        KernelBalancedRecommender(**FAST).fit(X, y)


@pytest.mark.parametrize("check", [check_get_params_invariance, check_set_params,
                                   check_no_attributes_set_in_init])
def test_scikit_learn_api_checks_that_apply(check):
    # The checks on numeric feature matrices do not apply to id pairs (the
    # estimator's tags say so); these API checks do.
    check("KernelBalancedRecommender", KernelBalancedRecommender())


def test_early_stopping_on_held_out_ratings():
    X, y, truth, U, V = _mnar()
    kw = dict(FAST, max_epochs=40, n_iter_no_change=3, lr=0.05)
    held = KernelBalancedRecommender("ips", "none", validation_fraction=0.2, **kw)
    held.fit(X, y, user_embedding=U, item_embedding=V)
    curve = held.validation_loss_curve_
    assert len(curve) == held.n_iter_ == len(held.loss_curve_)
    # stopped n_iter_no_change epochs after the best one (or at max_epochs)
    best = int(np.argmin(curve))
    assert held.n_iter_ == 40 or held.n_iter_ - 1 - best == 3
    plain = KernelBalancedRecommender("ips", "none", validation_fraction=None, **kw)
    assert plain.fit(X, y).validation_loss_curve_ == []
