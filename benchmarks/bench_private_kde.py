"""Private kernel density (Backurs et al., ICLR 2024) and the exact KDE, against peers.

One JSON line per case on stdout (peer first, then ours, same data):

* ``exact``: scikit-learn's ``KernelDensity`` (tree, ``atol = rtol = 0``)
  against ``ExactKernelDensity`` (numba) on ``n`` Gaussian points in d = 10,
  Gaussian kernel, bandwidth 1; largest difference of the log-densities.
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
* ``throughput_d64``: queries per second of the default ``PrivateKernelDensity``
  at d = 64 (n = 1e5 fit, 1e5 queries).
* ``classification``: accuracy on digits (pixels / 16) and breast_cancer
  (``log1p`` of the features; fixed maps, no budget spent on scaling) at
  epsilon in {0.5, 1, 2, 8}, 5 seeds: ours (Gaussian kernel), the
  non-private class-mean similarity classifier, and diffprivlib's
  ``LogisticRegression`` and ``GaussianNB`` run in their own environment
  (``/work/venv-diffprivlib``, scikit-learn 1.7.2; skipped with a message
  when absent). A d = 2048 case passes digits through a fixed random
  Fourier map (2048 features, seed 0) as a stand-in for the paper's
  CIFAR-10 embeddings.

Usage::

    python benchmarks/bench_private_kde.py --quick     # 1e3 queries for exact
    python benchmarks/bench_private_kde.py             # the issue's 1e4 queries
    python benchmarks/bench_private_kde.py --only exact,classification
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

DIFFPRIVLIB_PYTHON = "/work/venv-diffprivlib/bin/python"
EPSILONS = (0.5, 1.0, 2.0, 8.0)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def case_exact(quick):
    from sklearn.neighbors import KernelDensity

    rng = np.random.RandomState(7)
    n, m, d = 100_000, 1_000 if quick else 10_000, 10
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    ExactKernelDensity().fit(X[:100]).score_samples(Y[:5])  # numba cache warm
    theirs, t_peer = timed(lambda: KernelDensity(bandwidth=1.0).fit(X).score_samples(Y))
    ours, t_ours = timed(lambda: ExactKernelDensity(bandwidth=1.0).fit(X)
                         .score_samples(Y))
    emit({"case": "exact", "n": n, "queries": m, "d": d, "peer_s": round(t_peer, 2),
          "ours_s": round(t_ours, 2), "speedup": round(t_peer / t_ours, 1),
          "max_abs_diff": float(np.max(np.abs(theirs - ours))), **machine()})


def case_exact_d64():
    from sklearn.neighbors import KernelDensity

    rng = np.random.RandomState(8)
    n, m, d, h = 10_000, 200, 64, 0.15
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    r2 = np.array([((X - y) ** 2).sum(axis=1) for y in Y])
    oracle = (logsumexp(-0.5 * r2 / h**2, axis=1) - np.log(n)
              - 0.5 * d * np.log(2 * np.pi) - d * np.log(h))
    theirs, t_peer = timed(lambda: KernelDensity(bandwidth=h).fit(X).score_samples(Y))
    ours, t_ours = timed(lambda: ExactKernelDensity(bandwidth=h).fit(X)
                         .score_samples(Y))
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
        answer, seconds = timed(lambda kde=kde: kde.query(Y))
        emit({"case": "speed_d2048", "method": method, "k": k, "m": m, "n": n, "d": d,
              "queries": q, "query_s": round(seconds, 3),
              "mean_abs_error": round(float(np.mean(np.abs(answer - exact))), 5),
              **machine()})


def case_throughput_d64():
    rng = np.random.RandomState(11)
    X = rng.normal(size=(100_000, 64)) / 8.0
    Y = rng.normal(size=(100_000, 64)) / 8.0
    kde = PrivateKernelDensity(random_state=0).fit(X)
    kde.query(Y[:10])
    _, seconds = timed(lambda: kde.query(Y))
    emit({"case": "throughput_d64", "n": 100_000, "d": 64, "queries": 100_000,
          "m": kde.n_random_features_, "method": kde.method_,
          "query_s": round(seconds, 3), "queries_per_s": round(1e5 / seconds),
          **machine()})


def _datasets():
    from sklearn.datasets import load_breast_cancer, load_digits

    digits_X, digits_y = load_digits(return_X_y=True)
    cancer_X, cancer_y = load_breast_cancer(return_X_y=True)
    rng = np.random.RandomState(0)
    omega = rng.normal(size=(64, 2048)) / 2.0
    phase = rng.uniform(0, 2 * np.pi, 2048)
    features = np.sqrt(2.0 / 2048) * np.cos(digits_X / 16.0 @ omega + phase) * 8.0
    # name, X, y, bandwidth, diffprivlib bounds (public, from the data's definition)
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
        print(f"diffprivlib peers skipped: {DIFFPRIVLIB_PYTHON} not found (make a "
              "venv there with scikit-learn==1.7.2 and diffprivlib==0.6.6)",
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
            ours, peers = [], []
            for seed in range(seeds):
                clf = PrivateKernelClassifier(bandwidth=h, epsilon=epsilon,
                                              random_state=seed)
                ours.append(clf.fit(X_train, y_train).score(X_test, y_test))
                peers.append(_diffprivlib(X_train, y_train, X_test, y_test, epsilon,
                                          seed, bounds))
            record = {"case": "classification", "data": name, "d": X.shape[1],
                      "epsilon": epsilon, "seeds": seeds,
                      "nonprivate_class_mean_similarity": round(nonprivate, 3),
                      "ours": round(float(np.mean(ours)), 3),
                      "ours_std": round(float(np.std(ours)), 3)}
            if all(p is not None for p in peers):
                record["diffprivlib_lr"] = round(float(np.mean([p["lr"] for p in
                                                                 peers])), 3)
                record["diffprivlib_nb"] = round(float(np.mean([p["nb"] for p in
                                                                 peers])), 3)
            emit({**record, **machine()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="exact,exact_d64,error,speed_d2048,"
                        "throughput_d64,classification")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    cases = args.only.split(",")
    if "exact" in cases:
        case_exact(args.quick)
    if "exact_d64" in cases:
        case_exact_d64()
    if "error" in cases:
        case_error()
    if "speed_d2048" in cases:
        case_speed_d2048()
    if "throughput_d64" in cases:
        case_throughput_d64()
    if "classification" in cases:
        case_classification(args.seeds)


if __name__ == "__main__":
    main()
