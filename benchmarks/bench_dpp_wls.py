"""DPP weighted least squares (Nouy and Michel, 2023): designs against DPPy.

Peer first, then skkernel, same data, one JSON line per case:

* ``reproduction``: Legendre, m = 20, Runge function, 400 trials. For each
  n/m in (1, 2, 3, 4, 6, 10) and each sampler (i.i.d. from k_m/m, repeated
  projection DPP drawn by DPPy's Jacobi ensemble, the same drawn by
  skkernel, generalised volume-rescaled): P(||G - I|| <= 1/2) and the
  median and mean of ||f - f_hat||^2 / ||f - P_m f||^2, unconditioned, plus
  the mean ratio of the estimator's default (repeated DPP conditioned on
  ||G - I|| <= 1/2).
* ``extension``: the same statistics (200 trials) for exp(10x) and |x| on
  Legendre m = 20, 2-D total-degree Legendre (m = 21), a trigonometric basis
  (m = 21), and a piecewise-linear hat basis on a candidate grid (m = 20).
* ``continuous_speed``: one continuous Legendre DPP sample, DPPy's
  ``MultivariateJacobiOPE`` (tridiagonal model in 1-D, chain rule in 2-D)
  against the skkernel chain rule.
* ``finite_pool``: one projection-DPP sample on N = 100,000 candidates with
  m = 200 random Fourier features: DPPy ``FiniteDPP`` (mode "GS", given the
  orthonormal eigenvectors) against skkernel (orthonormalisation included;
  the time to evaluate the feature map itself is also reported).

Usage: ``python benchmarks/bench_dpp_wls.py [--quick] [--trials T] [--only
reproduction,extension,continuous_speed,finite_pool]``. Without DPPy
(``pip install dppy``) its columns are skipped with a message.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import emit, machine  # noqa: E402

from skkernel.dpp import (  # noqa: E402
    FeatureMapBasis,
    LegendreBasis,
    TrigonometricBasis,
    gram_deviation,
    gram_matrix,
    sample_design,
    sample_projection_dpp,
)

RATIOS = (1, 2, 3, 4, 6, 10)


def have_dppy():
    try:
        import dppy  # noqa: F401
    except ImportError:
        print("DPPy is not installed (pip install dppy): skipping its columns",
              file=sys.stderr)
        return False
    return True


class Problem:
    """A basis, a target function and a quadrature for L2(mu) errors."""

    def __init__(self, name, basis, func, nodes, weights):
        self.name, self.basis, self.func = name, basis, func
        self.nodes, self.weights = nodes, weights
        self.Phi = basis.evaluate(nodes)
        self.f = func(nodes)
        best_coef = self.Phi.T @ (weights * self.f)
        self.best = float(np.sum(weights * (self.f - self.Phi @ best_coef) ** 2))

    def ratio(self, points, design_weights):
        Psi = self.basis.evaluate(points)
        root = np.sqrt(design_weights)
        coef = np.linalg.lstsq(Psi * root[:, None], self.func(points) * root,
                               rcond=None)[0]
        err = np.sum(self.weights * (self.f - self.Phi @ coef) ** 2)
        return float(err / self.best)


def legendre_problem(name, func, degree=19):
    x, w = np.polynomial.legendre.leggauss(600)
    return Problem(name, LegendreBasis(degree=degree), func, x[:, None], w / 2)


def runge(X):
    return 1.0 / (1.0 + 25.0 * X[:, 0] ** 2)


def problems_extension():
    out = [
        # exp(10x): best error^2 ~ 2e-8. For exp(x) or exp(5x) at m = 20 it is
        # below 1e-20, where the ratio would measure rounding, not sampling.
        legendre_problem("legendre_m20_exp10x", lambda X: np.exp(10 * X[:, 0])),
        legendre_problem("legendre_m20_abs", lambda X: np.abs(X[:, 0])),
    ]
    x, w = np.polynomial.legendre.leggauss(120)
    nodes = np.array(np.meshgrid(x, x)).reshape(2, -1).T
    out.append(Problem(
        "legendre2d_td5_runge", LegendreBasis(degree=5, dim=2),
        lambda X: 1.0 / (1.0 + 5.0 * np.sum(X**2, axis=1)), nodes,
        np.outer(w, w).ravel() / 4,
    ))
    grid = (np.arange(4000) + 0.5) / 4000 * 2 - 1
    out.append(Problem(
        "trig_m21_abs", TrigonometricBasis(degree=10),
        lambda X: np.abs(X[:, 0]), grid[:, None], np.full(4000, 1 / 4000),
    ))
    pool = np.linspace(-1, 1, 2001)[:, None]
    knots = np.linspace(-1, 1, 20)

    def hats(X):
        return np.maximum(0.0, 1.0 - np.abs(X - knots) * 19 / 2)

    out.append(Problem(
        "hat_m20_pool_runge", FeatureMapBasis(hats, pool), runge, pool,
        np.full(pool.shape[0], 1 / pool.shape[0]),
    ))
    return out


def dppy_repeated(problem, n, seed):
    """Repeated Legendre DPP from DPPy's Jacobi ensemble (1-D only)."""
    from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE

    m = problem.basis.n_basis
    ope = MultivariateJacobiOPE(m, np.array([[0.0, 0.0]]))
    rng = np.random.RandomState(seed)
    points = np.concatenate([
        np.reshape(ope.sample(random_state=rng), (-1, 1)) for _ in range(n // m)
    ])
    weights = m / problem.basis.christoffel(points)
    G = gram_matrix(problem.basis.evaluate(points), weights)
    return points, weights, gram_deviation(G)


def statistics(problem, sampler, n, trials):
    ok, ratios = 0, []
    start = time.perf_counter()
    for trial in range(trials):
        points, weights, deviation = sampler(problem, n, trial)
        ok += deviation <= 0.5
        ratios.append(problem.ratio(points, weights))
    ratios = np.array(ratios)
    return {
        "p_stable": ok / trials,
        "median_ratio": float(np.median(ratios)),
        "mean_ratio": float(np.mean(ratios)),
        "seconds": time.perf_counter() - start,
    }


def ours(sampling, threshold=None):
    def sampler(problem, n, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            design = sample_design(problem.basis, n, sampling=sampling,
                                   stability_threshold=threshold,
                                   random_state=seed)
        return design.points, design.weights, design.gram_deviation

    return sampler


def run_table(case, problem, trials, with_dppy):
    m = problem.basis.n_basis
    for r in RATIOS:
        n = r * m
        row = {"case": case, "problem": problem.name, "m": m, "n_over_m": r,
               "n": n, "trials": trials, "best_l2_error_sq": problem.best}
        if with_dppy:
            row["dppy_repeated_dpp"] = statistics(problem, dppy_repeated, n, trials)
        row["iid_christoffel"] = statistics(problem, ours("iid_christoffel"), n,
                                            trials)
        row["repeated_dpp"] = statistics(problem, ours("repeated_dpp"), n, trials)
        row["generalized_volume"] = statistics(problem, ours("generalized_volume"),
                                               n, trials)
        row["repeated_dpp_conditioned"] = statistics(
            problem, ours("repeated_dpp", 0.5), n, trials)
        emit(row)


def reproduction(quick, dppy_ok, trials=None):
    trials = trials or (50 if quick else 400)
    run_table("reproduction", legendre_problem("legendre_m20_runge", runge), trials,
              dppy_ok)


def extension(quick, dppy_ok, trials=None, problems=None):
    trials = trials or (30 if quick else 200)
    for problem in problems_extension():
        if problems and problem.name not in problems:
            continue
        one_d_legendre = isinstance(problem.basis, LegendreBasis) and (
            problem.basis.dim == 1)
        run_table("extension", problem, trials, dppy_ok and one_d_legendre)


def best_time(func, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def continuous_speed(quick, dppy_ok, trials=None):
    # (dim, degree): 1-D Legendre (DPPy: tridiagonal Jacobi model) and 2-D
    # total degree (DPPy: chain rule), complete degrees so the spaces agree.
    for dim, degree in ((1, 19), (1, 99), (1, 199), (2, 5), (2, 13)):
        basis = LegendreBasis(degree=degree, dim=dim)
        m = basis.n_basis
        sample_projection_dpp(basis, random_state=0)  # compile numba
        row = {"case": "continuous_speed", "basis": "legendre", "dim": dim, "m": m}
        repeat = 3 if quick else 10
        if dppy_ok:
            from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE

            ope = MultivariateJacobiOPE(m, np.zeros((dim, 2)))
            row["dppy_seconds"] = best_time(
                lambda ope=ope: ope.sample(random_state=0), repeat)
        for backend in ("numba", "numpy"):
            row[f"skkernel_{backend}_seconds"] = best_time(
                lambda b=basis, k=backend: sample_projection_dpp(
                    b, random_state=0, backend=k),
                repeat)
        if dppy_ok:
            row["dppy_over_skkernel"] = row["dppy_seconds"] / row[
                "skkernel_numba_seconds"]
        emit(row)


def finite_pool(quick, dppy_ok, trials=None):
    N, m, d = (20_000, 100, 5) if quick else (100_000, 200, 5)
    rng = np.random.RandomState(0)
    pool = rng.uniform(-1, 1, (N, d))
    W = rng.standard_normal((d, m)) * 2.0
    b = rng.uniform(0, 2 * np.pi, m)

    def features(X):
        return np.cos(X @ W + b)

    row = {"case": "finite_pool", "n_candidates": N, "m": m,
           "features": "random Fourier"}
    if dppy_ok:
        from dppy.finite_dpps import FiniteDPP

        # Eigenvectors of the correlation kernel, given to DPPy for free.
        V, _ = np.linalg.qr(features(pool))
        dpp = FiniteDPP("correlation", projection=True, K_eig_dec=(np.ones(m), V))
        start = time.perf_counter()
        sample = dpp.sample_exact(mode="GS", random_state=0)
        row["dppy_gs_seconds"] = time.perf_counter() - start
        row["dppy_sample_size"] = len(sample)
        del V, dpp
    sample_projection_dpp(LegendreBasis(3), random_state=0)  # compile numba
    start = time.perf_counter()
    features(pool)
    row["feature_map_seconds"] = time.perf_counter() - start
    # Best of 3 for skkernel (DPPy's minute-long run is timed once).
    basis_times, sample_times = [], []
    for _ in range(1 if quick else 3):
        start = time.perf_counter()
        basis = FeatureMapBasis(features, pool)
        basis_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        design = sample_projection_dpp(basis, random_state=0)
        sample_times.append(time.perf_counter() - start)
    row["skkernel_orthonormalize_seconds"] = min(basis_times)
    row["skkernel_orthonormalize_first_seconds"] = basis_times[0]
    row["skkernel_sample_seconds"] = min(sample_times)
    row["skkernel_total_seconds"] = (row["skkernel_orthonormalize_seconds"]
                                     + row["skkernel_sample_seconds"])
    row["skkernel_total_without_feature_map_seconds"] = (
        row["skkernel_total_seconds"] - row["feature_map_seconds"])
    row["skkernel_distinct_points"] = int(np.unique(design.indices).size)
    start = time.perf_counter()
    for seed in range(1, 11):
        sample_projection_dpp(basis, random_state=seed)
    row["skkernel_next_samples_seconds"] = (time.perf_counter() - start) / 10
    if dppy_ok:
        row["dppy_over_skkernel_total"] = (row["dppy_gs_seconds"]
                                           / row["skkernel_total_seconds"])
    emit(row)


SAMPLER_COLUMNS = (
    ("iid_christoffel", "iid"),
    ("dppy_repeated_dpp", "DPPy rep."),
    ("repeated_dpp", "DPP rep."),
    ("generalized_volume", "gen. vol."),
    ("repeated_dpp_conditioned", "DPP rep. cond."),
)


def markdown_tables(path):
    """Markdown tables of the statistics rows of a JSON-lines result file."""
    import json

    rows = [json.loads(line) for line in open(path) if line.strip()]
    lines = []
    for problem in dict.fromkeys(r["problem"] for r in rows if "problem" in r):
        block = [r for r in rows if r.get("problem") == problem]
        columns = [(k, label) for k, label in SAMPLER_COLUMNS if k in block[0]]
        labels = " / ".join(label for _, label in columns)
        lines += [
            f"**{problem}** (m = {block[0]['m']}, {block[0]['trials']} trials, "
            f"best L2 error^2 = {block[0]['best_l2_error_sq']:.3g}); columns: "
            f"{labels}",
            "",
            "| n/m | P(‖G-I‖ <= 1/2) | median ratio | mean ratio |",
            "|---|---|---|---|",
        ]
        for r in block:
            def cell(stat, fmt, r=r, columns=columns):
                return " / ".join(format(r[k][stat], fmt) for k, _ in columns)

            lines.append(f"| {r['n_over_m']} | {cell('p_stable', '.3f')} | "
                         f"{cell('median_ratio', '.3g')} | "
                         f"{cell('mean_ratio', '.3g')} |")
        lines.append("")
    return "\n".join(lines)


CASES = {
    "reproduction": reproduction,
    "extension": extension,
    "continuous_speed": continuous_speed,
    "finite_pool": finite_pool,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials")
    parser.add_argument("--only", default=",".join(CASES),
                        help="comma-separated cases")
    parser.add_argument("--trials", type=int, default=None,
                        help="trials per row of the statistics cases")
    parser.add_argument("--problems", default=None,
                        help="comma-separated problem names of the extension case")
    parser.add_argument("--table", metavar="JSONL",
                        help="print markdown tables of a saved run and exit")
    args = parser.parse_args()
    if args.table:
        print(markdown_tables(args.table))
        return
    emit({"case": "machine", **machine()})
    dppy_ok = have_dppy()
    for name in args.only.split(","):
        if name == "extension" and args.problems:
            extension(args.quick, dppy_ok, args.trials, args.problems.split(","))
        else:
            CASES[name](args.quick, dppy_ok, args.trials)


if __name__ == "__main__":
    main()
