"""RobustMatrixCompletion against fancyimpute, a plain numpy ALS and
scikit-learn's imputers.

Peer first, then ours, on the same data; one JSON line per case on stdout.

fancyimpute 0.7 breaks on scikit-learn >= 1.8, so it lives in its own
virtual environment (default ``/work/venv-fancyimpute``, set
``FANCYIMPUTE_PYTHON`` to another interpreter), created with::

    python3.11 -m venv /work/venv-fancyimpute
    /work/venv-fancyimpute/bin/pip install scikit-learn==1.7.2 fancyimpute==0.7.0

It runs in a subprocess that reads the data from a temporary ``.npz`` file and
writes the completed matrix back; its time is measured inside that process
around the ``fit_transform`` call only. Without it the fancyimpute columns are
null and a message goes to stderr.

Cases (``--cases``, comma separated):

* ``synthetic``: 2000 x 2000, rank 10, 10 % observed (seed 2024): noiseless;
  10 % of the observed entries replaced by +/-10 max|M|; Gaussian noise
  (sd 0.1 of the entries' sd). Relative error on the unobserved entries.
  The Gaussian case adds ridges chosen on 10 % of the observed entries held
  out, three oracles (rank-k truncation of the fully observed noisy matrix;
  each row regressed on the true column space; least squares over the true
  tangent space, Candes and Plan's oracle) and the first-order theory
  ``sigma sqrt(k (m + n - k) / N)`` for both.
  Peers: fancyimpute SoftImpute(max_rank=10), IterativeSVD(rank=10), a
  plain numpy exact ALS (a Python loop of ``np.linalg.solve`` per row).
* ``scaling``: seconds per sweep against ``|Omega|`` (k = 10) and against
  ``k`` (5 .. 80), for each solver (median of 3 sweeps after the first).
* ``convergence``: error per sweep for ``solver="cg"`` at solve accuracy
  1e-1 .. 1e-6 against ``"exact"``.
* ``coat``: Coat, rank, ridge, loss and ``fit_intercept`` chosen by 5-fold
  CV on the training ratings (random folds of the ratings), test RMSE on the
  MAR ratings (predictions clipped to [1, 5]), the whole grid with its CV and
  test RMSE; peers: user + item biases, fancyimpute.
* ``tabular``: breast_cancer and digits with 10 % / 30 % of the entries
  removed at random and a missing-not-at-random mask: RMSE on the removed
  (standardised) entries, time, and the 5-fold accuracy of
  ``Pipeline(StandardScaler, imputer, LogisticRegression)``; ours at its
  defaults, at rank 5 and ridge 1, and the same with ``fit_intercept=True``.

Usage::

    python benchmarks/bench_matrix_completion.py [--cases synthetic,coat] [--quick]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import emit, machine  # noqa: E402

from skkernel.datasets import load_coat  # noqa: E402
from skkernel.impute import (  # noqa: E402
    RobustMatrixCompletion,
    cross_val_entry_errors,
    observation_propensities,
)
from skkernel.impute._completion_solvers import (  # noqa: E402
    RESIDUALS,
    SOLVE_ROWS,
    observed_entries,
)
from skkernel.impute._robust_completion import balance_factors  # noqa: E402

FANCY_PYTHON = os.environ.get("FANCYIMPUTE_PYTHON",
                              "/work/venv-fancyimpute/bin/python")

_FANCY_RUNNER = r"""
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from fancyimpute import IterativeSVD, SoftImpute
src, dst, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
X = np.load(src)["X"]
cls = {"SoftImpute": SoftImpute, "IterativeSVD": IterativeSVD}[params.pop("method")]
start = time.perf_counter()
completed = cls(verbose=False, **params).fit_transform(X)
elapsed = time.perf_counter() - start
np.savez(dst, completed=completed, seconds=elapsed)
"""

_FANCY_WARNED = []


def run_fancyimpute(X, method, **params):
    """``(completed, seconds)`` from fancyimpute in its own venv, or (None, None)."""
    if not os.path.exists(FANCY_PYTHON):
        if not _FANCY_WARNED:
            print(f"fancyimpute skipped: no interpreter at {FANCY_PYTHON} (see the "
                  "module docstring)", file=sys.stderr)
            _FANCY_WARNED.append(True)
        return None, None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, X=X)
        result = subprocess.run(
            [FANCY_PYTHON, "-c", _FANCY_RUNNER, src, dst,
             json.dumps({"method": method, **params})],
            capture_output=True, text=True)
        if result.returncode != 0:
            print(f"fancyimpute {method} failed: {result.stderr[-500:]}",
                  file=sys.stderr)
            return None, None
        out = np.load(dst)
        return out["completed"], float(out["seconds"])


def relative_error(estimate, truth, where):
    return float(np.linalg.norm((estimate - truth)[where])
                 / np.linalg.norm(truth[where]))


def numpy_als(X, rank, alpha, max_iter, tol, seed=0):
    """Plain exact ALS a user would write: a loop of ridge solves per row."""
    mask = np.isfinite(X)
    Xz = np.where(mask, X, 0.0)
    rng = np.random.default_rng(seed)
    m, n = X.shape
    U = rng.standard_normal((m, rank)) / np.sqrt(rank)
    V = rng.standard_normal((n, rank)) / np.sqrt(rank)
    eye = alpha * np.eye(rank)
    previous = np.inf
    for _ in range(max_iter):
        for j in range(n):
            A = U[mask[:, j]]
            V[j] = np.linalg.solve(A.T @ A + eye, A.T @ Xz[mask[:, j], j])
        for i in range(m):
            A = V[mask[i]]
            U[i] = np.linalg.solve(A.T @ A + eye, A.T @ Xz[i, mask[i]])
        error = np.linalg.norm((U @ V.T - Xz)[mask]) / np.linalg.norm(Xz[mask])
        if error <= tol or (np.isfinite(previous)
                            and 0 <= previous - error <= tol * previous):
            break
        previous = error
    return U @ V.T


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def load():
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------- synthetic


def synthetic_problem(size, rank, p, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((size, rank)) @ rng.standard_normal((rank, size))
    mask = rng.random((size, size)) < p
    return M, mask, rng


def tangent_space_oracle(U, V, rows, cols, values):
    """Least squares over the true tangent space ``{U A^T + B V^T}``.

    The oracle of Candes and Plan ("Matrix completion with noise", 2010):
    it is given the true column and row spaces and fits the ``k (m + n - k)``
    free parameters of a rank-k matrix near ``M`` to the observed noisy
    entries (LSQR on the sparse sampling operator). Its error is the
    first-order level ``sigma sqrt(k (m + n - k) / N)``.
    """
    import scipy.sparse
    import scipy.sparse.linalg

    (m, k), n = U.shape, V.shape[0]
    pattern = scipy.sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(m, n))
    order = np.lexsort((cols, rows))  # csr order of the entries

    def forward(z):
        A, B = z[:n * k].reshape(n, k), z[n * k:].reshape(m, k)
        return (np.einsum("ij,ij->i", U[rows], A[cols])
                + np.einsum("ij,ij->i", B[rows], V[cols]))

    def adjoint(r):
        R = pattern.copy()
        R.data = r[order]
        return np.concatenate([(R.T @ U).ravel(), (R @ V).ravel()])

    operator = scipy.sparse.linalg.LinearOperator(
        (rows.size, (m + n) * k), matvec=forward, rmatvec=adjoint, dtype=float)
    z, _, iterations = scipy.sparse.linalg.lsqr(operator, values, atol=1e-10,
                                                btol=1e-10, iter_lim=500)[:3]
    A, B = z[:n * k].reshape(n, k), z[n * k:].reshape(m, k)
    return U @ A.T + B @ V.T, int(iterations)


def case_synthetic(quick):
    size, rank, p = (800, 10, 0.2) if quick else (2000, 10, 0.1)
    M, mask, rng = synthetic_problem(size, rank, p, seed=2024)
    hidden = ~mask
    rows, cols = np.nonzero(mask)
    settings = {}
    settings["noiseless"] = np.where(mask, M, np.nan)
    X = settings["noiseless"].copy()
    hit = rng.random(rows.size) < 0.1
    X[rows[hit], cols[hit]] = 10 * np.abs(M).max() * rng.choice([-1, 1], hit.sum())
    settings["outliers"] = X
    sigma = 0.1 * M.std()
    noisy = M + sigma * rng.standard_normal(M.shape)
    settings["gaussian"] = np.where(mask, noisy, np.nan)
    for name, X in settings.items():
        record = {"case": f"synthetic-{name}", "m": size, "n": size, "rank": rank,
                  "observed": int(mask.sum()), "load_1min": load()}
        for method, params in (("SoftImpute", {"max_rank": rank}),
                               ("IterativeSVD", {"rank": rank})):
            completed, seconds = run_fancyimpute(X, method, **params)
            record[f"fancyimpute_{method}_s"] = seconds
            record[f"fancyimpute_{method}_err"] = (
                None if completed is None else relative_error(completed, M, hidden))
        if name != "outliers" or not quick:
            completed, seconds = timed(numpy_als, X, rank, 1e-6, 100, 1e-9)
            record["numpy_als_s"] = seconds
            record["numpy_als_err"] = relative_error(completed, M, hidden)
        losses = ("l2", "huber", "l1") if name == "outliers" else ("l2",)
        for loss in losses:
            model = RobustMatrixCompletion(rank=rank, loss=loss, tol=1e-9,
                                           max_iter=100 if loss == "l2" else 300,
                                           random_state=1)
            completed, seconds = timed(model.fit_transform, X)
            record[f"ours_{loss}_s"] = seconds
            record[f"ours_{loss}_err"] = relative_error(completed, M, hidden)
            record[f"ours_{loss}_sweeps"] = model.n_iter_
        completed, seconds = timed(
            RobustMatrixCompletion(rank=rank, random_state=1).fit_transform, X)
        record["ours_default_tol_err"] = relative_error(completed, M, hidden)
        record["ours_default_tol_s"] = seconds
        record["zero_err"] = 1.0
        if name == "gaussian":
            # A ridge chosen on the observed entries only: hold out 10 % of
            # them, pick alpha, refit on all of them.
            alphas = (0.01, 0.1, 1.0, 10.0, 30.0)
            held = rng.random(rows.size) < 0.1
            X_fit = X.copy()
            X_fit[rows[held], cols[held]] = np.nan
            validation = {}
            for a in alphas:
                model = RobustMatrixCompletion(rank=rank, alpha=a, random_state=1)
                completed = model.fit(X_fit).row_factors_ @ model.components_
                validation[a] = float(np.sqrt(np.mean(
                    (completed[rows[held], cols[held]] - X[rows[held], cols[held]])
                    ** 2)))
                record[f"ours_alpha{a:g}_err"] = relative_error(
                    RobustMatrixCompletion(rank=rank, alpha=a, random_state=1)
                    .fit_transform(X), M, hidden)
            chosen = min(validation, key=validation.get)
            record["ours_validated_alpha"] = chosen
            record["ours_validated_err"] = record[f"ours_alpha{chosen:g}_err"]
            # First-order theory: a rank-k least-squares fit from N noisy
            # entries has k(m + n - k) free parameters, so its mean squared
            # error per entry is about sigma^2 k(m + n - k) / N.
            dof = rank * (2 * size - rank)
            noise_rel = sigma / np.sqrt(np.mean(M[hidden] ** 2))
            record["theory_full_err"] = float(noise_rel * np.sqrt(dof / size**2))
            record["theory_observed_err"] = float(
                noise_rel * np.sqrt(dof / mask.sum()))
            record["theory_known_V_err"] = float(
                noise_rel * np.sqrt(rank * size / mask.sum()))
            # Oracles: the rank-k truncation of the fully observed noisy matrix
            # (needs all entries), and each row regressed on the true column
            # space from its observed noisy entries (needs the true V).
            left, s, right = np.linalg.svd(noisy, full_matrices=False)
            full = (left[:, :rank] * s[:rank]) @ right[:rank]
            record["oracle_full_svd_err"] = relative_error(full, M, hidden)
            V = np.linalg.svd(M, full_matrices=False)[2][:rank].T
            known_v = np.vstack([V @ np.linalg.lstsq(V[mask[i]], noisy[i, mask[i]],
                                                     rcond=None)[0]
                                 for i in range(size)])
            record["oracle_known_V_err"] = relative_error(known_v, M, hidden)
            U = np.linalg.svd(M, full_matrices=False)[0][:, :rank]
            tangent, iterations = tangent_space_oracle(U, V, rows, cols,
                                                       noisy[rows, cols])
            record["oracle_tangent_space_err"] = relative_error(tangent, M, hidden)
            record["oracle_tangent_space_lsqr_iterations"] = iterations
        emit(record)


# ---------------------------------------------------------------- scaling


def sweep_seconds(X, rank, solver, repeats=3):
    """Seconds of one sweep (V-step, U-step, balancing, residuals): the best
    of ``repeats``, timed on the estimator's own steps from a fitted state."""
    model = RobustMatrixCompletion(rank=rank, solver=solver, max_iter=2, tol=0,
                                   random_state=0).fit(X)
    rows, cols = np.nonzero(np.isfinite(X))
    entries = observed_entries(rows, cols, X[rows, cols], X.shape)
    weights = np.ones_like(entries.values)
    col_values = entries.values[entries.to_col_order]
    U, V = model.row_factors_, model.components_.T.copy()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        V = SOLVE_ROWS("numba", entries.col_indptr, entries.col_indices, col_values,
                       weights[entries.to_col_order], U, V, 1e-6, solver, 1e-3, 1)
        U = SOLVE_ROWS("numba", entries.indptr, entries.indices, entries.values,
                       weights, V, U, 1e-6, solver, 1e-3, 2)
        U, V = balance_factors(U, V, np)
        RESIDUALS("numba", entries.indptr, entries.indices, entries.values, U, V)
        best = min(best, time.perf_counter() - start)
    return best


def case_scaling(quick, rank_observed=0.1):
    rank = 10
    sizes = (500, 1000, 2000) if quick else (1000, 2000, 4000, 8000)
    p_of = {s: 200.0 / s for s in sizes}  # 200 entries a row: |Omega| = 200 m
    for solver in ("exact", "cg", "sketch"):
        omegas, seconds = [], []
        for size in sizes:
            M, mask, _ = synthetic_problem(size, rank, p_of[size], seed=7)
            X = np.where(mask, M, np.nan)
            t = sweep_seconds(X, rank, solver)
            omegas.append(int(mask.sum()))
            seconds.append(t)
            emit({"case": "scaling-omega", "solver": solver, "m": size, "n": size,
                  "rank": rank, "observed": int(mask.sum()), "sweep_s": t,
                  "load_1min": load()})
        slope = np.polyfit(np.log(omegas), np.log(seconds), 1)[0]
        emit({"case": "scaling-omega-slope", "solver": solver, "slope": float(slope)})
    size = 1000 if quick else 2000
    ranks = (5, 10, 20) if quick else (5, 10, 20, 40, 80)
    M, mask, _ = synthetic_problem(size, 80, rank_observed, seed=8)
    X = np.where(mask, M, np.nan)
    for solver in ("exact", "cg", "sketch"):
        seconds = []
        for k in ranks:
            t = sweep_seconds(X, k, solver)
            seconds.append(t)
            emit({"case": "scaling-rank", "solver": solver, "m": size, "n": size,
                  "rank": k, "observed": int(mask.sum()), "sweep_s": t,
                  "load_1min": load()})
        slope = np.polyfit(np.log(ranks), np.log(seconds), 1)[0]
        emit({"case": "scaling-rank-slope", "solver": solver, "slope": float(slope)})


# ---------------------------------------------------------------- convergence


def case_convergence(quick):
    size, rank = (800, 10) if quick else (2000, 10)
    M, mask, _ = synthetic_problem(size, rank, 0.1 if not quick else 0.2, seed=9)
    X = np.where(mask, M, np.nan)
    reference = None
    for solver, solver_tol in (("exact", None), ("cg", 1e-1), ("cg", 1e-2),
                               ("cg", 1e-4), ("cg", 1e-6), ("sketch", 1e-1),
                               ("sketch", 1e-6)):
        params = {} if solver_tol is None else {"solver_tol": solver_tol}
        model = RobustMatrixCompletion(rank=rank, solver=solver, tol=1e-10,
                                       max_iter=60, random_state=0, **params)
        completed, seconds = timed(model.fit_transform, X)
        if reference is None:
            reference = completed
        emit({"case": "convergence", "solver": solver, "solver_tol": solver_tol,
              "sweeps": model.n_iter_, "seconds": seconds, "load_1min": load(),
              "errors": [float(f"{e:.3g}") for e in model.reconstruction_err_],
              "hidden_err": relative_error(completed, M, ~mask),
              "max_diff_vs_exact": float(np.abs(completed - reference).max())})


# ---------------------------------------------------------------- coat


def rmse(pred, truth, where):
    return float(np.sqrt(np.mean((np.clip(pred[where], 1, 5) - truth[where]) ** 2)))


def biases_baseline(train, reg=5.0, sweeps=20):
    """Global mean + user + item biases, ridge-regularised (alternating)."""
    mask = np.isfinite(train)
    mu = train[mask].mean()
    bu, bi = np.zeros(train.shape[0]), np.zeros(train.shape[1])
    R = np.where(mask, train - mu, 0.0)
    for _ in range(sweeps):
        bu = ((R - bi[None, :]) * mask).sum(1) / (mask.sum(1) + reg)
        bi = ((R - bu[:, None]) * mask).sum(0) / (mask.sum(0) + reg)
    return mu + bu[:, None] + bi[None, :]


def case_coat(quick, fold_seeds=(0, 1, 2, 3, 4)):
    """Rank, ridge, loss and intercept chosen by 5-fold CV on the training
    ratings, two ways: the plain CV error, and the CV error weighted by
    inverse propensities (Schnabel et al.'s logistic model of which coats each
    user rated, on the user and coat attributes; no test rating, no sample of
    random ratings). The first fold split (seed ``fold_seeds[0]``) gives the
    reported model; the other splits show how stable each choice is."""
    coat = load_coat()
    train, test = coat.train, coat.test
    test_mask = np.isfinite(test)
    rows, cols = np.nonzero(np.isfinite(train))
    grid = [(loss, intercept, k, a) for loss in ("l2", "huber")
            for intercept in (False, True) for k in (1, 2, 3, 5, 10)
            for a in (1.0, 3.0, 5.0, 10.0, 30.0)]
    if quick:
        grid, fold_seeds = grid[::7], fold_seeds[:1]

    def make(loss, intercept, k, a):
        return RobustMatrixCompletion(rank=k, alpha=a, loss=loss,
                                      fit_intercept=intercept, random_state=0)

    def predictions(model):
        return (model.row_factors_ @ model.components_ + model.intercept_
                + model.row_biases_[:, None] + model.column_biases_[None, :])

    def fit(setting, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make(*setting).fit(X)

    start = time.perf_counter()
    propensity = observation_propensities(train, coat.user_features,
                                          coat.item_features)
    weights = 1.0 / propensity[rows, cols]
    propensity_seconds = time.perf_counter() - start
    # squared error of every training rating, predicted from the fold that
    # held it out
    errors = {}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in fold_seeds:
            for setting in grid:
                errors[seed, setting] = cross_val_entry_errors(
                    make(*setting), train, random_state=seed, clip=(1, 5))[2]
    cv_seconds = time.perf_counter() - start
    test_rmse = {setting: rmse(predictions(fit(setting, train)), test, test_mask)
                 for setting in grid}

    def cv_rmse(seed, setting, w=None):
        return float(np.sqrt(np.average(errors[seed, setting], weights=w)))

    def choice(seed, w=None):
        return min(grid, key=lambda setting: cv_rmse(seed, setting, w))

    first = fold_seeds[0]
    emit({"case": "coat-grid", "load_1min": load(), "fold_seed": first,
          "grid": [{"loss": st[0], "fit_intercept": st[1], "rank": st[2],
                    "alpha": st[3], "cv_rmse": cv_rmse(first, st),
                    "ips_cv_rmse": cv_rmse(first, st, weights),
                    "test_rmse": test_rmse[st]} for st in grid]})

    def describe(setting):
        return {"loss": setting[0], "fit_intercept": setting[1],
                "rank": setting[2], "alpha": setting[3]}

    stability = {}
    for label, w in (("cv", None), ("ips_cv", weights)):
        picks = [choice(seed, w) for seed in fold_seeds]
        stability[label] = [{"fold_seed": seed, **describe(st),
                             "test_rmse": test_rmse[st]}
                            for seed, st in zip(fold_seeds, picks)]
    best, best_ips = choice(first), choice(first, weights)
    _, seconds = timed(make(*best_ips).fit, train)
    best_l2 = min((st for st in grid if st[0] == "l2" and not st[1]),
                  key=lambda st: cv_rmse(first, st))
    record = {"case": "coat", "load_1min": load(),
              "biases_rmse": rmse(biases_baseline(train), test, test_mask)}
    for method, params in (("SoftImpute", {}), ("SoftImpute", {"max_rank": 5}),
                           ("IterativeSVD", {"rank": 5}),
                           ("IterativeSVD", {"rank": 2})):
        completed, secs = run_fancyimpute(train, method, min_value=1, max_value=5,
                                          **params)
        tag = method + "".join(f"_{k}{v}" for k, v in params.items())
        record[f"fancyimpute_{tag}_rmse"] = (None if completed is None
                                             else rmse(completed, test, test_mask))
        record[f"fancyimpute_{tag}_s"] = secs
    ess = float(weights.sum() ** 2 / (weights ** 2).sum())
    record.update({
        "ips_cv_choice": describe(best_ips),
        "ips_cv_rmse": cv_rmse(first, best_ips, weights),
        "ours_rmse": test_rmse[best_ips], "ours_fit_s": seconds,
        "propensity_s": propensity_seconds, "ips_effective_sample_size": ess,
        "cv_choice": describe(best), "cv_rmse": cv_rmse(first, best),
        "ours_plain_cv_rmse": test_rmse[best],
        "cv_seconds": cv_seconds, "fold_seeds": list(fold_seeds),
        "stability": stability,
        "cv_choice_l2_no_intercept": {"rank": best_l2[2], "alpha": best_l2[3]},
        "ours_l2_no_intercept_rmse": test_rmse[best_l2],
    })
    emit(record)


# ---------------------------------------------------------------- tabular


def remove_entries(X, fraction, mnar, rng):
    if mnar:
        # Large values go missing more often: logistic in the standardised value.
        z = (X - X.mean(0)) / (X.std(0) + 1e-12)
        prob = 1 / (1 + np.exp(-(z - 1.0) * 2))
        prob *= fraction / prob.mean()
        mask = rng.random(X.shape) < np.clip(prob, 0, 0.95)
    else:
        mask = rng.random(X.shape) < fraction
    X_missing = X.copy()
    X_missing[mask] = np.nan
    return X_missing, mask


def case_tabular(quick):
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    imputers = {
        "SimpleImputer": lambda: SimpleImputer(),
        "KNNImputer": lambda: KNNImputer(),
        "IterativeImputer": lambda: IterativeImputer(max_iter=10, random_state=0),
        "ours_default": lambda: RobustMatrixCompletion(random_state=0),
        "ours_rank5_alpha1": lambda: RobustMatrixCompletion(rank=5, alpha=1.0,
                                                            random_state=0),
        "ours_rank5_alpha1_intercept": lambda: RobustMatrixCompletion(
            rank=5, alpha=1.0, fit_intercept=True, random_state=0),
    }
    datasets = {"breast_cancer": load_breast_cancer(return_X_y=True),
                "digits": load_digits(return_X_y=True)}
    settings = [(0.1, False), (0.3, False), (0.3, True)]
    if quick:
        settings = settings[:1]
    for dname, (X, y) in datasets.items():
        X = X.astype(np.float64)
        for fraction, mnar in settings:
            rng = np.random.default_rng(11)
            X_missing, mask = remove_entries(X, fraction, mnar, rng)
            scaler = StandardScaler().fit(X_missing)
            scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
            Z_true = (X - scaler.mean_) / scale
            Z_missing = (X_missing - scaler.mean_) / scale
            record = {"case": f"tabular-{dname}-{'mnar' if mnar else 'mcar'}"
                              f"{int(fraction * 100)}",
                      "shape": list(X.shape), "removed": int(mask.sum()),
                      "load_1min": load()}
            for name, make in imputers.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    completed, secs = timed(make().fit_transform, Z_missing)
                    # The imputers drop all-missing columns; digits has constant
                    # (all-zero) pixels but none is all missing after removal.
                    err = float(np.sqrt(np.mean((completed[mask] - Z_true[mask]) ** 2)))
                    pipe = make_pipeline(StandardScaler(), make(),
                                         LogisticRegression(max_iter=2000))
                    acc = float(cross_val_score(pipe, X_missing, y, cv=5).mean())
                record[f"{name}_rmse"] = err
                record[f"{name}_s"] = secs
                record[f"{name}_accuracy"] = acc
            emit(record)


CASES = {"synthetic": case_synthetic, "scaling": case_scaling,
         "convergence": case_convergence, "coat": case_coat, "tabular": case_tabular}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, for a smoke test")
    parser.add_argument("--rank-observed", type=float, default=0.1,
                        help="fraction observed in the scaling case's rank sweep "
                        "(0.5: 1,000 entries a row, the paper's |Omega_i| >> k regime)")
    args = parser.parse_args()
    emit({"machine": machine()})
    # Compile the numba kernels once, outside every timing.
    warm = np.random.default_rng(0).standard_normal((30, 20))
    warm[::3, ::2] = np.nan
    for solver in ("exact", "cg", "sketch"):
        for loss in ("l2", "huber"):
            RobustMatrixCompletion(rank=2, solver=solver, loss=loss,
                                   max_iter=2).fit(warm)
    for name in args.cases.split(","):
        if name == "scaling":
            case_scaling(args.quick, args.rank_observed)
        else:
            CASES[name](args.quick)


if __name__ == "__main__":
    main()
