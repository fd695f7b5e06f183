"""The matrix-completion rows of ``skkernel demo``."""

from ..utils._demo import DemoCase


def _coat(backend):
    import numpy as np

    from ..datasets import load_coat
    from . import RobustMatrixCompletion

    # The setting that 5-fold CV on the training ratings chooses when each
    # held-out rating is weighted by its inverse propensity from
    # observation_propensities (squared loss, no intercept, rank 2, ridge 3;
    # on 8 of 10 fold splits, benchmarks/results/matrix_completion.md),
    # never one scored on the test ratings. Plain CV chooses Huber with
    # fit_intercept=True, rank 10, ridge 5 (1.118). Scored on the MAR test
    # ratings, predictions clipped to [1, 5].
    coat = load_coat()
    model = RobustMatrixCompletion(rank=2, alpha=3.0, keep_observed=False,
                                   random_state=0, backend=backend)
    completed = model.fit_transform(coat.train)  # every entry predicted
    test = np.isfinite(coat.test)
    predicted = np.clip(completed, 1, 5)[test]
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
        DemoCase("RobustMatrixCompletion",
                 "Coat ratings (290 x 300, MAR test; propensity-weighted CV choice)",
                 "test RMSE", _coat),
        DemoCase("RobustMatrixCompletion",
                 "rank 5, 500 x 500, 20 % observed, 10 % gross outliers",
                 "relative error on the gaps", _outliers),
    ]
