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


def test_defaults_are_the_authors_code_path_and_stopping_rule():
    rec = KernelBalancedRecommender()
    assert rec.reference_mode is True and rec.validation_fraction is None
    X, y, truth, U, V = _mnar()
    rec = KernelBalancedRecommender("ips", "none", n_users=N_USERS, n_items=N_ITEMS,
                                    batch_size=64, max_epochs=300, lr=0.05,
                                    tol=1e-3, n_iter_no_change=4, random_state=0)
    rec.fit(X, y, user_embedding=U, item_embedding=V)
    assert rec.validation_loss_curve_ == []
    # the authors' rule: stop at the 4th epoch (counted over the whole fit)
    # whose training loss fell by less than tol, relatively
    curve = np.asarray(rec.loss_curve_)
    stalls = np.cumsum((curve[:-1] - curve[1:]) / np.abs(curve[:-1]) < 1e-3)
    assert rec.n_iter_ < 300
    assert stalls[-1] == 4 and (len(stalls) == 1 or stalls[-2] == 3)


def test_strong_weight_decay_collapses_the_weight_model_to_half_the_prior():
    # The authors' Coat DR settings put weight decay 0.1 on the weight model:
    # its factors shrink to zero, so w = sigmoid(0) q = q / 2 whichever kernel
    # functions are balanced (why adaptive and random centres tie there).
    X, y, truth, U, V = _mnar()
    kw = dict(FAST, max_epochs=40, n_iter_no_change=1000, weight_lr=1e-2,
              balance_penalty=0.1, slack=1e-4)
    fits = {}
    for decay in (0.1, 0.0):
        for balancing in ("random", "adaptive"):
            rec = KernelBalancedRecommender("dr", balancing, weight_weight_decay=decay,
                                            **kw)
            rec.fit(X, y, mar_y=truth.ravel()[:100], user_embedding=U,
                    item_embedding=V)
            fits[decay, balancing] = rec.train_weights_ / rec.prior_weight_[y]
    for balancing in ("random", "adaptive"):
        np.testing.assert_allclose(fits[0.1, balancing], 0.5, atol=0.02)
        assert np.abs(fits[0.0, balancing] - 0.5).max() > 0.1


def test_naive_mf_on_coat_reaches_the_reprinted_auc():
    # Naive MF as in the benchmark (the authors' base model, Adam lr 0.01 and
    # weight decay 1e-4, their stopping rule on all the training ratings):
    # test AUC near the reprinted 0.703 (seed 0: 0.685 on all test pairs;
    # 10 seeds in the benchmark); early stopping on 10% held-out (MNAR)
    # ratings stops after a few epochs.
    from skkernel.causal import ranking_report
    from skkernel.datasets import load_coat

    coat = load_coat()
    pairs = {part: np.argwhere(np.isfinite(coat[part])) for part in ("train", "test")}
    labels = {part: (coat[part][p[:, 0], p[:, 1]] >= 3).astype(int)
              for part, p in pairs.items()}
    kw = dict(weight_decay=1e-4, n_users=290, n_items=300, n_jobs=1, random_state=0)
    aucs, epochs = {}, {}
    for fraction in (None, 0.1):
        rec = KernelBalancedRecommender("ips", "none", validation_fraction=fraction,
                                        **kw).fit(pairs["train"], labels["train"])
        scores = rec.decision_function(pairs["test"])
        aucs[fraction] = ranking_report(labels["test"], scores,
                                        groups=pairs["test"][:, 0], k=(5,))["auc"]
        epochs[fraction] = rec.n_iter_
    assert 0.68 < aucs[None] < 0.72
    assert epochs[0.1] < 30 < epochs[None]
