"""The causal rows of ``skkernel demo``."""

from ..utils._demo import DemoCase


def _coat_features():
    import numpy as np

    from ..datasets import load_coat

    coat = load_coat()
    users, items = np.meshgrid(np.arange(290), np.arange(300), indexing="ij")
    features = np.hstack([coat.user_embedding[users.ravel()],
                          coat.item_embedding[items.ravel()]]) / 8.0
    observed = np.isfinite(coat.train).ravel().astype(int)
    return features, observed


def _balance(backend):
    """Largest kernel imbalance left, on all 87,000 Coat pairs (slack 1e-3)."""
    import numpy as np

    from . import KernelBalancingWeights

    X, observed = _coat_features()
    model = KernelBalancingWeights(n_centers=10, gamma=0.1, slack=1e-3, penalty=None,
                                   random_state=0, backend=backend).fit(X, observed)
    return float(np.max(np.abs(model.imbalance_)))


def _kbdr(backend):
    """Test AUC of KBDR (the authors' code path, 25 epochs) on Coat, one seed."""
    import numpy as np

    from ..datasets import load_coat
    from . import KernelBalancedRecommender, ranking_report

    coat = load_coat()
    train = np.argwhere(np.isfinite(coat.train))
    test = np.argwhere(np.isfinite(coat.test))
    y_train = (coat.train[train[:, 0], train[:, 1]] >= 3).astype(int)
    y_test = (coat.test[test[:, 0], test[:, 1]] >= 3).astype(int)
    mar = np.random.RandomState(0).uniform(size=len(test)) < 0.05
    model = KernelBalancedRecommender(
        "dr", "random", reference_mode=True, n_users=290, n_items=300,
        weight_decay=3e-3, imputation_lr=None, imputation_weight_decay=None,
        weight_lr=1e-2, weight_weight_decay=1e-1, balance_penalty=1.0, slack=1e-4,
        max_epochs=25, random_state=0).fit(train, y_train, mar_y=y_test[mar],
                            user_embedding=coat.user_embedding,
                            item_embedding=coat.item_embedding)
    keep = ~mar
    return ranking_report(y_test[keep], model.decision_function(test[keep]),
                          groups=test[keep, 0], k=(5,))["auc"]


def demo_cases():
    cases = [DemoCase("KernelBalancingWeights",
                      "Coat, 87,000 user-item pairs (6,960 observed)",
                      "max |kernel imbalance| (slack 1e-3)", _balance)]
    try:
        import torch  # noqa: F401
    except ImportError:  # the recommender needs the 'neural' extra
        return cases
    cases.append(DemoCase("KernelBalancedRecommender", "Coat MNAR -> MAR test",
                          "test AUC (KBDR)", _kbdr))
    return cases
