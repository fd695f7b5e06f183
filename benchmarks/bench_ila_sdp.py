"""iLA-SDP clustering (Zhuang, Chen, Yang, ICML 2023) against K-means, EM and spectral.

Mis-clustering error = 1 - (best one-to-one matching of found and true labels,
Hungarian algorithm) / n. Peers (all scikit-learn): ``KMeans(n_init=10)``,
``GaussianMixture`` (full covariances, ``n_init`` 1 and 10),
``SpectralClustering`` (rbf affinity, defaults); then skkernel's ``SDPKMeans``
and ``ILASDPClustering`` with their defaults. Every fit is timed on its own.
One JSON line per case on stdout:

* ``accuracy``: synthetic Gaussian mixtures with K = 3, seeds 0-4 (one line per
  data set and seed, then a ``summary`` line with the mean and std over seeds):

  - ``isotropic``: n = 300, p = 2, centres at distance 4 from the origin, sd 1;
  - ``heterogeneous`` (the method notes' rows): per-cluster sd 0.5 / 1 / 2,
    centres at distance ``sep`` from the origin in random directions; (n, p,
    sep) = (300, 2, 4), (600, 10, 5), (600, 50, 6), (300, 100, 8);
  - ``unbalanced``: sizes 50 / 100 / 250 (sd 0.5 / 1 / 2), p = 10, sep 5;
  - ``adversarial``: two close centres (distance 2.5, sd 0.5 and 1) and one far
    (distance 10 from the first, sd 2), p = 10, 200 points each.

* ``real``: iris (raw, K = 3), wine (standardised, K = 3), breast_cancer (raw,
  K = 2); the methods' ``random_state`` runs over the seeds.
* ``spread``: one heterogeneous data set (n = 600, p = 50, sep 6, data seed 0);
  ``ILASDPClustering`` (default ``init="sdp"`` and ``init="k-means++"``) and
  ``GaussianMixture(n_init=1)`` each over ``random_state`` 0-4.
* ``scale``: wall time and error of ``ILASDPClustering(solver="bm")`` and
  ``SDPKMeans(solver="bm")`` (and, for reference, KMeans and GaussianMixture)
  against n = 1,000, 3,000, 10,000 (and 30,000, 100,000 without ``--quick``),
  p = 10, K = 3, heterogeneous sep 5; each fit fresh, in this process.
* ``solvers`` (opt-in, not in the default ``--only``): ``solver="bm"`` against
  ``solver="admm"`` for ``SDPKMeans`` (n = 150, 300) and ``ILASDPClustering``
  (n = 90, and 150 without ``--quick``: ADMM takes minutes there).

Usage::

    python benchmarks/bench_ila_sdp.py --quick          # 2 seeds, n <= 10,000
    python benchmarks/bench_ila_sdp.py                  # 5 seeds, n <= 100,000
    python benchmarks/bench_ila_sdp.py --scale          # the scale case only
    python benchmarks/bench_ila_sdp.py --only accuracy,real,spread --seeds 5
    python benchmarks/bench_ila_sdp.py --only scale --max-n 10000
    python benchmarks/bench_ila_sdp.py --only solvers     # ADMM vs Burer-Monteiro
    python benchmarks/bench_ila_sdp.py --table results.jsonl   # markdown tables

The peers are scikit-learn estimators (a dependency of skkernel); a peer that
cannot be imported is skipped with a message on stderr. Warnings raised by a
fit (e.g. ``ConvergenceWarning``) are counted in its record, not printed.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import emit, machine  # noqa: E402

from skkernel.cluster import ILASDPClustering, SDPKMeans  # noqa: E402

SDS = (0.5, 1.0, 2.0)
HETEROGENEOUS = ((300, 2, 4.0), (600, 10, 5.0), (600, 50, 6.0), (300, 100, 8.0))
SCALE_N = (1_000, 3_000, 10_000, 30_000, 100_000)
SCALE_N_QUICK = (1_000, 3_000, 10_000)

# Column order of the tables: (key, label).
METHODS = (
    ("kmeans", "KMeans (n_init=10)"),
    ("gmm_1", "GMM full (n_init=1)"),
    ("gmm_10", "GMM full (n_init=10)"),
    ("spectral", "Spectral (rbf)"),
    ("sdp_kmeans", "SDPKMeans"),
    ("ila_sdp", "ILASDPClustering"),
)


# ------------------------------------------------------------------ metric


def misclustering(labels, truth):
    """``1 -`` the fraction of points on the best one-to-one label matching."""
    labels = np.unique(np.asarray(labels), return_inverse=True)[1]
    truth = np.unique(np.asarray(truth), return_inverse=True)[1]
    size = max(labels.max(), truth.max()) + 1
    counts = np.zeros((size, size))
    np.add.at(counts, (labels, truth), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(1.0 - counts[rows, cols].sum() / labels.size)


# ------------------------------------------------------------------ data


def mixture(sizes, centres, sds, rng):
    truth = np.repeat(np.arange(len(sizes)), sizes)
    p = centres.shape[1]
    X = centres[truth] + rng.normal(size=(truth.size, p)) * np.asarray(sds)[truth][
        :, None]
    return X, truth


def random_centres(p, separation, rng, k=3):
    centres = rng.normal(size=(k, p))
    return centres * (separation / np.linalg.norm(centres, axis=1, keepdims=True))


def heterogeneous(n, p, separation, seed, sizes=None, sds=SDS):
    """K = 3, centres at ``separation`` from the origin in random directions."""
    rng = np.random.RandomState(seed)
    sizes = (n // 3,) * 3 if sizes is None else sizes
    return mixture(sizes, random_centres(p, separation, rng), sds, rng)


def adversarial(seed, p=10, size=200, close=2.5, far=10.0, sds=SDS):
    """Centres 0 and ``close * u`` (the tight clusters) and ``far * v`` (the
    diffuse one), ``u`` and ``v`` random orthonormal directions."""
    rng = np.random.RandomState(seed)
    basis = np.linalg.qr(rng.normal(size=(p, 2)))[0]
    centres = np.stack([np.zeros(p), close * basis[:, 0], far * basis[:, 1]])
    return mixture((size,) * 3, centres, sds, rng)


def synthetic_rows():
    """(name, description, generator(seed) -> (X, truth))."""
    rows = [("isotropic_n300_p2_sep4", "n=300, p=2, sep 4, isotropic (sd 1)",
             lambda s: heterogeneous(300, 2, 4.0, s, sds=(1.0, 1.0, 1.0)))]
    for n, p, sep in HETEROGENEOUS:
        rows.append((f"heterogeneous_n{n}_p{p}_sep{sep:g}",
                     f"n={n}, p={p}, sep {sep:g}, heterogeneous",
                     lambda s, n=n, p=p, sep=sep: heterogeneous(n, p, sep, s)))
    rows.append(("unbalanced_n400_p10_sep5",
                 "unbalanced 50/100/250, p=10, sep 5, heterogeneous",
                 lambda s: heterogeneous(400, 10, 5.0, s, sizes=(50, 100, 250))))
    rows.append(("adversarial_n600_p10",
                 "adversarial: centres 2.5 apart + one 10 away, p=10",
                 lambda s: adversarial(s)))
    return rows


def real_rows():
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    wine = load_wine()
    cancer = load_breast_cancer()
    return [
        ("iris", "iris (raw)", iris.data, iris.target, 3),
        ("wine", "wine (standardised)", StandardScaler().fit_transform(wine.data),
         wine.target, 3),
        ("breast_cancer", "breast_cancer (raw)", cancer.data, cancer.target, 2),
    ]


# ------------------------------------------------------------------ methods


def peer_factories():
    """The peers that import, keyed as in METHODS."""
    out = {}
    try:
        from sklearn.cluster import KMeans, SpectralClustering
        from sklearn.mixture import GaussianMixture
    except ImportError as exc:  # pragma: no cover - sklearn is a dependency
        print(f"scikit-learn peers unavailable ({exc}): skipped", file=sys.stderr)
        return out
    out["kmeans"] = lambda k, s: KMeans(k, n_init=10, random_state=s)
    out["gmm_1"] = lambda k, s: GaussianMixture(k, covariance_type="full",
                                                n_init=1, random_state=s)
    out["gmm_10"] = lambda k, s: GaussianMixture(k, covariance_type="full",
                                                 n_init=10, random_state=s)
    out["spectral"] = lambda k, s: SpectralClustering(k, affinity="rbf",
                                                      random_state=s)
    return out


def factories():
    out = peer_factories()
    out["sdp_kmeans"] = lambda k, s: SDPKMeans(k, random_state=s)
    out["ila_sdp"] = lambda k, s: ILASDPClustering(k, random_state=s)
    return out


def timed_fit(estimator, X, truth):
    """Fit, and return error, seconds, warnings and the fitted diagnostics."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        labels = estimator.fit_predict(X)
        seconds = time.perf_counter() - start
    record = {"error": misclustering(labels, truth), "seconds": round(seconds, 3)}
    if caught:
        names = sorted({w.category.__name__ for w in caught})
        record["warnings"] = {name: sum(w.category.__name__ == name for w in caught)
                              for name in names}
    for attr in ("n_iter_", "converged_", "covariance_type_"):
        if hasattr(estimator, attr) and not callable(getattr(estimator, attr)):
            value = getattr(estimator, attr)
            record[attr.rstrip("_")] = value.item() if hasattr(value, "item") else value
    if hasattr(estimator, "objective_"):
        record["objective"] = [round(float(v), 4) for v in estimator.objective_]
    return record


def run_methods(X, truth, n_clusters, seed, makers):
    return {key: timed_fit(make(n_clusters, seed), X, truth)
            for key, make in makers.items()}


def summary(case, name, description, records, extra=None):
    row = {"case": case, "summary": True, "data": name, "description": description,
           "seeds": [r["seed"] for r in records]}
    row.update(extra or {})
    for key in records[0]["methods"]:
        errors = np.array([r["methods"][key]["error"] for r in records])
        seconds = np.array([r["methods"][key]["seconds"] for r in records])
        row[key] = {"mean_error": float(errors.mean()),
                    "std_error": float(errors.std()),
                    "mean_seconds": float(seconds.mean())}
    emit(row)


# ------------------------------------------------------------------ cases


def accuracy(args, makers):
    rows = synthetic_rows()
    if args.rows:
        rows = [r for r in rows if any(part in r[0] for part in args.rows.split(","))]
    for name, description, generate in rows:
        records = []
        for seed in range(args.seeds):
            X, truth = generate(seed)
            record = {"case": "accuracy", "data": name, "seed": seed,
                      "n": X.shape[0], "p": X.shape[1],
                      "methods": run_methods(X, truth, 3, seed, makers),
                      "load_1min": round(os.getloadavg()[0], 2)}
            emit(record)
            records.append(record)
        summary("accuracy", name, description, records)


def real(args, makers):
    for name, description, X, truth, k in real_rows():
        records = []
        for seed in range(args.seeds):
            record = {"case": "real", "data": name, "seed": seed, "n": X.shape[0],
                      "p": X.shape[1], "n_clusters": k,
                      "methods": run_methods(X, truth, k, seed, makers),
                      "load_1min": round(os.getloadavg()[0], 2)}
            emit(record)
            records.append(record)
        summary("real", name, description, records)


def spread(args, makers):
    n, p, sep = 600, 50, 6.0
    X, truth = heterogeneous(n, p, sep, 0)
    candidates = {
        "ila_sdp": lambda s: ILASDPClustering(3, random_state=s),
        "ila_sdp_kmeanspp_init": lambda s: ILASDPClustering(3, init="k-means++",
                                                            random_state=s),
    }
    if "gmm_1" in makers:
        candidates["gmm_1"] = lambda s: makers["gmm_1"](3, s)
    for key, make in candidates.items():
        fits = [timed_fit(make(s), X, truth) for s in range(args.inits)]
        errors = np.array([f["error"] for f in fits])
        row = {"case": "spread", "data": f"heterogeneous_n{n}_p{p}_sep{sep:g}",
               "data_seed": 0, "method": key, "random_states": list(range(args.inits)),
               "errors": errors.tolist(), "mean_error": float(errors.mean()),
               "std_error": float(errors.std()),
               "range_error": float(errors.max() - errors.min()),
               "seconds": [f["seconds"] for f in fits]}
        if "objective" in fits[0]:
            row["final_objective"] = [f["objective"][-1] for f in fits]
        emit(row)


def scale(args, makers):
    sizes = SCALE_N_QUICK if args.quick else SCALE_N
    if args.max_n:
        sizes = [n for n in SCALE_N if n <= args.max_n]
    candidates = {
        "sdp_kmeans_bm": lambda: SDPKMeans(3, solver="bm", random_state=0),
        "ila_sdp_bm": lambda: ILASDPClustering(3, solver="bm", random_state=0),
    }
    for key in ("kmeans", "gmm_1"):
        if key in makers:
            candidates[key] = lambda key=key: makers[key](3, 0)
    for n in sizes:
        X, truth = heterogeneous(n, 10, 5.0, 0)
        row = {"case": "scale", "n": n, "p": 10, "n_clusters": 3,
               "data": "heterogeneous sep 5, data seed 0"}
        for key, make in candidates.items():
            row["load_1min_before_" + key] = round(os.getloadavg()[0], 2)
            row[key] = timed_fit(make(), X, truth)
        emit(row)


def solvers(args, makers):
    """Burer-Monteiro against ADMM at small n (opt-in: ADMM is O(K n^3) a step)."""
    runs = [("sdp_kmeans", 150), ("sdp_kmeans", 300), ("ila_sdp", 90)]
    if not args.quick:
        runs.append(("ila_sdp", 150))  # ADMM: minutes on 2 cores
    for key, n in runs:
        X, truth = heterogeneous(n, 10, 5.0, 0)
        row = {"case": "solvers", "estimator": key, "n": n, "p": 10,
               "data": "heterogeneous sep 5, data seed 0"}
        for solver in ("bm", "admm"):
            if key == "sdp_kmeans":
                estimator = SDPKMeans(3, solver=solver, random_state=0)
            else:
                estimator = ILASDPClustering(3, solver=solver, random_state=0)
            row["load_1min_before_" + solver] = round(os.getloadavg()[0], 2)
            row[solver] = timed_fit(estimator, X, truth)
            row[solver]["final_objective"] = (
                float(estimator.sdp_objective_) if key == "sdp_kmeans"
                else row[solver].pop("objective")[-1])
        emit(row)


CASES = {"accuracy": accuracy, "real": real, "spread": spread, "scale": scale,
         "solvers": solvers}


# ------------------------------------------------------------------ tables


def _fmt(x):
    return f"{x:.3f}"


def markdown_tables(path):
    """Markdown tables (mean error over seeds, best per row in bold)."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    lines = []
    for case in ("accuracy", "real"):
        block = [r for r in rows if r.get("case") == case and r.get("summary")]
        if not block:
            continue
        columns = [(k, label) for k, label in METHODS if k in block[0]]
        lines += [f"**{case}** (mean mis-clustering error over seeds "
                  f"{block[0]['seeds']}; std in brackets)", "",
                  "| data | " + " | ".join(label for _, label in columns) + " |",
                  "|---|" + "---|" * len(columns)]
        for r in block:
            means = [r[k]["mean_error"] for k, _ in columns]
            best = min(round(m, 3) for m in means)
            cells = []
            for (k, _), m in zip(columns, means):
                cell = f"{_fmt(m)} ({r[k]['std_error']:.3f})"
                cells.append(f"**{cell}**" if round(m, 3) == best else cell)
            lines.append(f"| {r['description']} | " + " | ".join(cells) + " |")
        lines += ["", "Mean seconds per fit:", "",
                  "| data | " + " | ".join(label for _, label in columns) + " |",
                  "|---|" + "---|" * len(columns)]
        for r in block:
            lines.append(f"| {r['description']} | " + " | ".join(
                f"{r[k]['mean_seconds']:.2f}" for k, _ in columns) + " |")
        lines.append("")
    block = [r for r in rows if r.get("case") == "spread"]
    if block:
        lines += [f"**spread** ({block[0]['data']}, data seed 0, random_state "
                  f"{block[0]['random_states']})", "",
                  "| method | errors | mean | std | range | seconds |",
                  "|---|---|---|---|---|---|"]
        for r in block:
            lines.append(
                f"| {r['method']} | {', '.join(_fmt(e) for e in r['errors'])} | "
                f"{_fmt(r['mean_error'])} | {r['std_error']:.3f} | "
                f"{_fmt(r['range_error'])} | "
                f"{', '.join(f'{s:.1f}' for s in r['seconds'])} |")
        lines.append("")
    block = [r for r in rows if r.get("case") == "solvers"]
    if block:
        lines += ["**solvers** (p = 10, K = 3; seconds / error / final objective)", "",
                  "| estimator | n | bm | admm |", "|---|---|---|---|"]
        for r in block:
            cells = [f"{r[s]['seconds']:.3g} s / {_fmt(r[s]['error'])} / "
                     f"{r[s]['final_objective']:.6g}" for s in ("bm", "admm")]
            lines.append(f"| {r['estimator']} | {r['n']} | " + " | ".join(cells) + " |")
        lines.append("")
    block = [r for r in rows if r.get("case") == "scale"]
    if block:
        keys = [k for k in ("ila_sdp_bm", "sdp_kmeans_bm", "kmeans", "gmm_1")
                if k in block[0]]
        lines += ["**scale** (p = 10, K = 3; seconds / error)", "",
                  "| n | " + " | ".join(keys) + " | load (1 min) |",
                  "|---|" + "---|" * (len(keys) + 1)]
        for r in block:
            cells = []
            for k in keys:
                fit = r[k]
                cell = f"{fit['seconds']:.3g} s / {_fmt(fit['error'])}"
                if "n_iter" in fit and k == "ila_sdp_bm":
                    cell += f" ({fit['n_iter']} outer)"
                cells.append(cell)
            load = r.get("load_1min_before_ila_sdp_bm",
                         r.get("load_1min_before_kmeans"))
            lines.append(f"| {r['n']:,} | " + " | ".join(cells) + f" | {load} |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def code_fingerprint():
    """Short hashes of the estimator sources (the subpackage is still moving)."""
    import skkernel.cluster as pkg

    folder = os.path.dirname(pkg.__file__)
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as fh:
                out[name] = hashlib.sha256(fh.read()).hexdigest()[:12]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 seeds, 3 initialisations, n <= 10,000")
    parser.add_argument("--only", default="accuracy,real,spread,scale",
                        help="comma-separated cases: " + ",".join(CASES))
    parser.add_argument("--scale", action="store_true",
                        help="run the scale case only (same as --only scale)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per data set (default 5, --quick 2)")
    parser.add_argument("--inits", type=int, default=None,
                        help="random_state values of the spread case (default 5, "
                        "--quick 3)")
    parser.add_argument("--rows", default=None,
                        help="comma-separated substrings selecting accuracy rows")
    parser.add_argument("--max-n", type=int, default=None,
                        help="largest n of the scale case")
    parser.add_argument("--table", metavar="JSONL",
                        help="print markdown tables of a saved run and exit")
    args = parser.parse_args()
    if args.table:
        print(markdown_tables(args.table))
        return
    if args.seeds is None:
        args.seeds = 2 if args.quick else 5
    if args.inits is None:
        args.inits = 3 if args.quick else 5
    cases = ["scale"] if args.scale else args.only.split(",")
    emit({"case": "machine", **machine(), "quick": args.quick,
          "sources": code_fingerprint()})
    makers = factories()
    for name in cases:
        CASES[name](args, makers)


if __name__ == "__main__":
    main()
