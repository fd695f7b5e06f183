"""Private kernel density (Backurs et al., ICLR 2024) and the exact KDE, against peers.

One JSON line per case on stdout (peer first, then ours, same data):

* ``exact``: scikit-learn's ``KernelDensity`` (tree, ``atol = rtol = 0``,
  single-threaded) against ``ExactKernelDensity`` (numba, on its default
  threads and on one thread) on ``n`` Gaussian points in d = 10, Gaussian
  kernel, bandwidth 1, paired and alternating over ``--repeats``; wall and
  CPU seconds of each, largest difference of the log-densities from
  scikit-learn's and from a log-sum-exp oracle (scipy, explicit
  differences) on the first 500 queries.
* ``exact_d64``: the same at d = 64, bandwidth 0.15 (every kernel value
  underflows); queries where each answer is off the oracle
  (scipy's log-sum-exp on explicit distances) by more than 1e-6.
* ``error``: mean absolute error of ``PrivateKernelDensity.query`` against
  the exact average similarity, Gaussian kernel, for epsilon in
  {0.1, 1, 10}, n in {1e3, 1e4, 1e5}, methods ``rff`` and ``jl_rff``
  (k = 32) on d = 64 data (Gaussian, scale 1/sqrt(d), bandwidth 1).
* ``speed_d2048``: the random-feature baseline against the paper's JL
  method at d = 2048 (n = 10,000, epsilon = 10), query time for 2,000 queries
  and error, over a grid of m (baseline) and (k, m) (ours).
* ``defaults_d2048``: the same data at epsilon = 1 with the default feature
  count and a bandwidth of half the median distance: error and query time of
  the baseline against the JL method at k = 64, 128, 256, 512 (3 seeds).
* ``throughput_d64``: queries per second of the default ``PrivateKernelDensity``
  at d = 64 (n = 1e5 fit, 1e5 queries), on numba's default threads and on
  one thread, wall and CPU seconds.
* ``classification``: accuracy on digits (pixels / 16) and breast_cancer
  (``log1p`` of the features; fixed maps, no budget spent on scaling) at
  epsilon in {0.5, 1, 2, 8}, 5 seeds: ours (Gaussian kernel; defaults, i.e.
  the private median bandwidth, and a fixed bandwidth), the non-private
  class-mean similarity classifier at that fixed bandwidth, and
  diffprivlib's ``LogisticRegression`` and ``GaussianNB`` run in their own
  environment (``/work/venv-diffprivlib`` or ``$DIFFPRIVLIB_PYTHON``, made by
  ``benchmarks/setup_diffprivlib_env.sh``: diffprivlib 0.6, scikit-learn
  1.7.2; skipped with a message when absent). A d = 2048 case passes
  digits through a fixed random Fourier map (2048 features, seed 0) as a
  stand-in for the paper's CIFAR-10 embeddings.

Usage::

    python benchmarks/bench_private_kde.py --quick     # 1e3 queries for exact
    python benchmarks/bench_private_kde.py             # the issue's 1e4 queries
    python benchmarks/bench_private_kde.py --only exact,classification
    python benchmarks/bench_private_kde.py --only throughput_d64 --repeats 5
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from scipy.special import logsumexp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import emit, machine  # noqa: E402

from skkernel.density import (  # noqa: E402
    ExactKernelDensity,
    PrivateKernelClassifier,
    PrivateKernelDensity,
    exact_mean_similarity,
)

DIFFPRIVLIB_PYTHON = os.environ.get("DIFFPRIVLIB_PYTHON",
                                    "/work/venv-diffprivlib/bin/python")
EPSILONS = (0.5, 1.0, 2.0, 8.0)


def timed(fn):
    """``(result, wall seconds, CPU seconds of this process)``."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def _log_sum_exp_oracle(X, Y, h):
    """scipy's log-sum-exp on explicit squared differences (scikit-learn's
    normalisation), blocks of 10 queries."""
    n, d = X.shape
    out = np.empty(len(Y))
    for start in range(0, len(Y), 10):
        block = Y[start:start + 10]
        r2 = ((block[:, None, :] - X[None]) ** 2).sum(-1)
        out[start:start + 10] = logsumexp(-0.5 * r2 / h**2, axis=1)
    return out - np.log(n) - 0.5 * d * np.log(2 * np.pi) - d * np.log(h)


def case_exact(quick, repeats):
    """Paired, alternating: scikit-learn (one thread, as it runs), then ours
    on numba's default threads (2 here) and on one thread."""
    import numba
    from sklearn.neighbors import KernelDensity

    rng = np.random.RandomState(7)
    n, m, d = 100_000, 1_000 if quick else 10_000, 10
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    ExactKernelDensity().fit(X[:100]).score_samples(Y[:5])  # numba cache warm
    oracle = _log_sum_exp_oracle(X, Y[:500], 1.0)
    threads = numba.get_num_threads()
    for repeat in range(repeats):
        load_before = machine()["load_1min"]
        theirs, t_peer, c_peer = timed(
            lambda: KernelDensity(bandwidth=1.0).fit(X).score_samples(Y))
        ours, t_ours, c_ours = timed(
            lambda: ExactKernelDensity(bandwidth=1.0).fit(X).score_samples(Y))
        numba.set_num_threads(1)
        try:
            ours_1, t_ours_1, c_ours_1 = timed(
                lambda: ExactKernelDensity(bandwidth=1.0).fit(X).score_samples(Y))
        finally:
            numba.set_num_threads(threads)
        emit({"case": "exact", "repeat": repeat, "n": n, "queries": m, "d": d,
              "peer_s": round(t_peer, 2), "peer_cpu_s": round(c_peer, 2),
              "ours_s": round(t_ours, 2), "ours_cpu_s": round(c_ours, 2),
              "ours_threads": threads, "speedup": round(t_peer / t_ours, 1),
              "ours_1thread_s": round(t_ours_1, 2),
              "ours_1thread_cpu_s": round(c_ours_1, 2),
              "speedup_1thread": round(t_peer / t_ours_1, 1),
              "speedup_cpu_1thread": round(c_peer / c_ours_1, 1),
              "max_abs_diff_vs_peer": float(np.max(np.abs(theirs - ours))),
              "max_abs_diff_vs_oracle_500": float(np.max(np.abs(ours[:500] - oracle))),
              "max_abs_diff_1thread_vs_oracle_500":
                  float(np.max(np.abs(ours_1[:500] - oracle))),
              "load_1min_before": load_before, **machine()})


def case_exact_d64():
    from sklearn.neighbors import KernelDensity

    rng = np.random.RandomState(8)
    n, m, d, h = 10_000, 200, 64, 0.15
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    r2 = np.array([((X - y) ** 2).sum(axis=1) for y in Y])
    oracle = (logsumexp(-0.5 * r2 / h**2, axis=1) - np.log(n)
              - 0.5 * d * np.log(2 * np.pi) - d * np.log(h))
    theirs, t_peer, _ = timed(
        lambda: KernelDensity(bandwidth=h).fit(X).score_samples(Y))
    ours, t_ours, _ = timed(
        lambda: ExactKernelDensity(bandwidth=h).fit(X).score_samples(Y))
    emit({"case": "exact_d64", "n": n, "queries": m, "d": d, "bandwidth": h,
          "peer_wrong": int(np.sum(~np.isclose(theirs, oracle, rtol=0, atol=1e-6))),
          "ours_wrong": int(np.sum(~np.isclose(ours, oracle, rtol=0, atol=1e-6))),
          "peer_s": round(t_peer, 2), "ours_s": round(t_ours, 2), **machine()})


def case_error():
    rng = np.random.RandomState(9)
    d = 64
    X_all = rng.normal(size=(100_000, d)) / np.sqrt(d)
    Y = rng.normal(size=(200, d)) / np.sqrt(d)
    for n in (1_000, 10_000, 100_000):
        X = X_all[:n]
        exact = exact_mean_similarity(X, Y, "gaussian", 1.0)
        for epsilon in (0.1, 1.0, 10.0):
            for method in ("rff", "jl_rff"):
                errors = [np.mean(np.abs(
                    PrivateKernelDensity(epsilon=epsilon, method=method,
                                         n_components=32, random_state=s)
                    .fit(X).query(Y) - exact)) for s in range(3)]
                emit({"case": "error", "n": n, "d": d, "epsilon": epsilon,
                      "method": method, "mean_abs_error": round(float(np.mean(errors)),
                                                                5),
                      "mean_similarity": round(float(exact.mean()), 4),
                      **machine()})


def case_speed_d2048():
    rng = np.random.RandomState(10)
    n, d, q = 10_000, 2048, 2_000
    # Points near a 20-dimensional subspace, as embeddings are.
    basis = rng.normal(size=(20, d)) / np.sqrt(20)
    X = rng.normal(size=(n, 20)) @ basis + 0.05 * rng.normal(size=(n, d)) / np.sqrt(d)
    Y = rng.normal(size=(q, 20)) @ basis + 0.05 * rng.normal(size=(q, d)) / np.sqrt(d)
    exact = exact_mean_similarity(X, Y, "gaussian", 1.0)
    grid = [("rff", None, m) for m in (256, 512, 1024, 2048)] + [
        ("jl_rff", k, m) for k in (64, 128, 256) for m in (256, 512, 1024, 2048)]
    for method, k, m in grid:
        kde = PrivateKernelDensity(epsilon=10.0, method=method, n_components=k or 1,
                                   n_random_features=m, random_state=0).fit(X)
        kde.query(Y[:10])
        answer, seconds, _ = timed(lambda kde=kde: kde.query(Y))
        emit({"case": "speed_d2048", "method": method, "k": k, "m": m, "n": n, "d": d,
              "queries": q, "query_s": round(seconds, 3),
              "mean_abs_error": round(float(np.mean(np.abs(answer - exact))), 5),
              **machine()})


def case_defaults_d2048():
    """The same subspace data at the regime DP users meet: epsilon = 1,
    n = 10,000, default feature count, a bandwidth of half the median
    distance (mean similarity about 0.15), 3 seeds; each method at its
    default m against the JL method at k = 64..512."""
    from scipy.spatial.distance import cdist

    rng = np.random.RandomState(10)
    n, d, q = 10_000, 2048, 2_000
    basis = rng.normal(size=(20, d)) / np.sqrt(20)
    X = rng.normal(size=(n, 20)) @ basis + 0.05 * rng.normal(size=(n, d)) / np.sqrt(d)
    Y = rng.normal(size=(q, 20)) @ basis + 0.05 * rng.normal(size=(q, d)) / np.sqrt(d)
    h = float(np.median(cdist(X[:500], Y[:500]))) / 2.0
    exact = exact_mean_similarity(X, Y, "gaussian", h)
    for method, k in [("rff", None), ("jl_rff", 64), ("jl_rff", 128),
                      ("jl_rff", 256), ("jl_rff", 512)]:
        errors, seconds = [], []
        for seed in range(3):
            kde = PrivateKernelDensity(bandwidth=h, epsilon=1.0, method=method,
                                       n_components=k or 1,
                                       random_state=seed).fit(X)
            kde.query(Y[:10])
            answer, s, _ = timed(lambda kde=kde: kde.query(Y))
            errors.append(float(np.mean(np.abs(answer - exact))))
            seconds.append(s)
        emit({"case": "defaults_d2048", "method": method, "k": k,
              "m": kde.n_random_features_, "n": n, "d": d, "queries": q,
              "epsilon": 1.0, "bandwidth": round(h, 3),
              "mean_similarity": round(float(exact.mean()), 4),
              "query_s_min": round(min(seconds), 4),
              "mean_abs_error": round(float(np.mean(errors)), 5),
              "mean_abs_error_seeds": [round(e, 5) for e in errors], **machine()})


def case_throughput_d64(repeats):
    """Default PrivateKernelDensity, 1e5 queries, on numba's default threads
    (2 here) and on one thread, alternating."""
    import numba

    rng = np.random.RandomState(11)
    X = rng.normal(size=(100_000, 64)) / 8.0
    Y = rng.normal(size=(100_000, 64)) / 8.0
    kde = PrivateKernelDensity(random_state=0).fit(X)
    kde.query(Y[:10])
    kde.query(Y[:1000])  # both code paths compiled
    threads = numba.get_num_threads()
    for repeat in range(repeats):
        for n_threads in (threads, 1):
            numba.set_num_threads(n_threads)
            try:
                _, seconds, cpu = timed(lambda: kde.query(Y))
            finally:
                numba.set_num_threads(threads)
            emit({"case": "throughput_d64", "repeat": repeat, "threads": n_threads,
                  "n": 100_000, "d": 64, "queries": 100_000,
                  "m": kde.n_random_features_, "method": kde.method_,
                  "query_s": round(seconds, 3), "query_cpu_s": round(cpu, 3),
                  "queries_per_s": round(1e5 / seconds),
                  "queries_per_cpu_s": round(1e5 / cpu), **machine()})


def _datasets():
    from sklearn.datasets import load_breast_cancer, load_digits

    digits_X, digits_y = load_digits(return_X_y=True)
    cancer_X, cancer_y = load_breast_cancer(return_X_y=True)
    rng = np.random.RandomState(0)
    omega = rng.normal(size=(64, 2048)) / 2.0
    phase = rng.uniform(0, 2 * np.pi, 2048)
    features = np.sqrt(2.0 / 2048) * np.cos(digits_X / 16.0 @ omega + phase) * 8.0
    # name, X, y, a fixed bandwidth (the old default 1; 2 for the feature
    # map), diffprivlib bounds (public, from the data's definition).
    return [("digits", digits_X / 16.0, digits_y, 1.0, (0.0, 1.0)),
            ("breast_cancer", np.log1p(cancer_X), cancer_y, 1.0, (0.0, 9.0)),
            ("digits_rff2048", features, digits_y, 2.0, (-0.5, 0.5))]


def _diffprivlib(X_train, y_train, X_test, y_test, epsilon, seed, bounds):
    if not os.path.exists(DIFFPRIVLIB_PYTHON):
        return None
    script = (
        "import sys, json, numpy as np, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from diffprivlib.models import LogisticRegression, GaussianNB\n"
        "d = np.load(sys.argv[1]); eps, seed, lo, hi = map(float, sys.argv[2:6])\n"
        "Xtr, ytr, Xte, yte = d['a'], d['b'], d['c'], d['e']\n"
        "norm = float(np.sqrt(Xtr.shape[1]) * max(abs(lo), abs(hi)))\n"
        "lr = LogisticRegression(epsilon=eps, data_norm=norm, random_state=int(seed))\n"
        "nb = GaussianNB(epsilon=eps, bounds=(lo, hi), random_state=int(seed))\n"
        "print(json.dumps({'lr': lr.fit(Xtr, ytr).score(Xte, yte),\n"
        "                  'nb': nb.fit(Xtr, ytr).score(Xte, yte)}))\n")
    path = f"/tmp/bench_private_kde_{os.getpid()}.npz"
    np.savez(path, a=X_train, b=y_train, c=X_test, e=y_test)
    result = subprocess.run([DIFFPRIVLIB_PYTHON, "-c", script, path, str(epsilon),
                             str(seed), str(bounds[0]), str(bounds[1])],
                            capture_output=True, text=True, check=False)
    os.remove(path)
    if result.returncode != 0:
        print(f"diffprivlib failed: {result.stderr[-500:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout)


def case_classification(seeds):
    from sklearn.model_selection import train_test_split

    if not os.path.exists(DIFFPRIVLIB_PYTHON):
        print(f"diffprivlib peers skipped: {DIFFPRIVLIB_PYTHON} not found (run "
              "benchmarks/setup_diffprivlib_env.sh, or set DIFFPRIVLIB_PYTHON)",
              file=sys.stderr)
    for name, X, y, h, bounds in _datasets():
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0,
                                                            stratify=y)
        classes = np.unique(y_train)
        scores = np.column_stack([
            exact_mean_similarity(X_train[y_train == c], X_test, "gaussian", h)
            for c in classes])
        nonprivate = float(np.mean(classes[scores.argmax(axis=1)] == y_test))
        for epsilon in EPSILONS:
            ours, fixed, peers, bandwidths, features = [], [], [], [], []
            for seed in range(seeds):
                clf = PrivateKernelClassifier(epsilon=epsilon, random_state=seed)
                ours.append(clf.fit(X_train, y_train).score(X_test, y_test))
                bandwidths.append(clf.bandwidth_)
                features.append(clf.n_random_features_)
                clf = PrivateKernelClassifier(bandwidth=h, epsilon=epsilon,
                                              random_state=seed)
                fixed.append(clf.fit(X_train, y_train).score(X_test, y_test))
                peers.append(_diffprivlib(X_train, y_train, X_test, y_test, epsilon,
                                          seed, bounds))
            record = {"case": "classification", "data": name, "d": X.shape[1],
                      "epsilon": epsilon, "seeds": seeds,
                      "nonprivate_class_mean_similarity": round(nonprivate, 3),
                      "nonprivate_bandwidth": h,
                      "ours": round(float(np.mean(ours)), 3),
                      "ours_std": round(float(np.std(ours)), 3),
                      "ours_bandwidth_median": round(float(np.median(bandwidths)), 3),
                      "ours_m": sorted(set(features)),
                      "fixed_bandwidth": h,
                      "ours_fixed_bandwidth": round(float(np.mean(fixed)), 3),
                      "ours_fixed_bandwidth_std": round(float(np.std(fixed)), 3)}
            if all(p is not None for p in peers):
                lr = float(np.mean([p["lr"] for p in peers]))
                nb = float(np.mean([p["nb"] for p in peers]))
                record.update(diffprivlib_lr=round(lr, 3), diffprivlib_nb=round(nb, 3),
                              beats_diffprivlib=bool(np.mean(ours) > max(lr, nb)))
            emit({**record, **machine()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="exact,exact_d64,error,speed_d2048,"
                        "defaults_d2048,throughput_d64,classification")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3,
                        help="paired repeats of exact and throughput_d64")
    args = parser.parse_args()
    cases = args.only.split(",")
    if "exact" in cases:
        case_exact(args.quick, args.repeats)
    if "exact_d64" in cases:
        case_exact_d64()
    if "error" in cases:
        case_error()
    if "speed_d2048" in cases:
        case_speed_d2048()
    if "defaults_d2048" in cases:
        case_defaults_d2048()
    if "throughput_d64" in cases:
        case_throughput_d64(args.repeats)
    if "classification" in cases:
        case_classification(args.seeds)


if __name__ == "__main__":
    main()
