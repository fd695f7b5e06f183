"""ZZFeatureMapKernel / QuantumKernelSVC against qiskit-machine-learning.

Peer first, then ours, on the same data in the same run; one JSON line per
case on stdout. Every timed call runs in a fresh worker process so that its
peak resident memory can be reported (``peak_rss_mib``: the worker's peak,
``import_rss_mib``: its size after the imports, before the call).

Cases
-----
* ``kernel``: Gram matrix ``k(X)`` of the ZZ feature map (``reps=2``,
  Qiskit's default ``entanglement="full"``), data uniform in ``[0, 2 pi)``;
  the peer is ``FidelityStatevectorKernel(feature_map=zz_feature_map(n))``.
  Ours is timed after one small warm-up call (numba's cached compilation is
  loaded then); the first call is reported too.
* ``svc_ad_hoc``: the paper's experiment, ``make_ad_hoc(20, 5, 2 qubits,
  gap 0.3)``, fit and test score of qiskit-machine-learning's ``QSVC`` and of
  ``QuantumKernelSVC``.
* ``ad_hoc_seeds``: test accuracy of ``QuantumKernelSVC`` over 20 data seeds,
  exact and with 1024 shots (ours only; no timing).

Usage: ``python benchmarks/bench_quantum_kernel.py [--quick] [--skip-large]``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.abspath(__file__)
PEER_NAME = "qiskit-machine-learning FidelityStatevectorKernel"


def _rss_mib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(n_samples, n_qubits, seed=0):
    return np.random.RandomState(seed).uniform(0, 2 * np.pi, (n_samples, n_qubits))


# ------------------------------------------------------------------ workers


def _worker_kernel(impl, n_qubits, n_samples, out_path):
    X = _data(n_samples, n_qubits)
    if impl == "peer":
        import warnings

        from qiskit.circuit.library import zz_feature_map
        from qiskit_machine_learning.kernels import FidelityStatevectorKernel

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer = FidelityStatevectorKernel(feature_map=zz_feature_map(n_qubits))
        baseline = _rss_mib()
        start = time.perf_counter()
        K = peer.evaluate(X)
        seconds = time.perf_counter() - start
        result = {"seconds": seconds, "first_call_s": seconds}
    else:
        from skkernel.kernels import ZZFeatureMapKernel

        kernel = ZZFeatureMapKernel()
        baseline = _rss_mib()
        start = time.perf_counter()
        kernel(X[:3])
        first = time.perf_counter() - start
        repeats = 5 if n_samples * 2**n_qubits <= 2**22 else 1
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            K = kernel(X)
            times.append(time.perf_counter() - start)
        result = {"seconds": float(np.median(times)), "best_s": min(times),
                  "first_call_s": first + times[0]}
    np.save(out_path, K)
    result.update(peak_rss_mib=_rss_mib(), import_rss_mib=baseline)
    return result


def _worker_svc(impl, out_path):
    from skkernel.datasets import make_ad_hoc

    X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, n_qubits=2, gap=0.3,
                                                   random_state=0)
    if impl == "peer":
        import warnings

        from qiskit.circuit.library import zz_feature_map
        from qiskit_machine_learning.algorithms import QSVC
        from qiskit_machine_learning.kernels import FidelityStatevectorKernel

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = QSVC(quantum_kernel=FidelityStatevectorKernel(
                feature_map=zz_feature_map(2)))
    else:
        from skkernel.svm import QuantumKernelSVC

        QuantumKernelSVC().fit(X_train[:4], y_train[:4])  # warm-up
        clf = QuantumKernelSVC()
    baseline = _rss_mib()
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    accuracy = float(clf.score(X_test, y_test))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "accuracy": accuracy, "peak_rss_mib": _rss_mib(),
            "import_rss_mib": baseline}


def _run_worker(kind, impl, *args):
    out_path = f"/tmp/bench_quantum_kernel_{os.getpid()}_{impl}.npy"
    command = [sys.executable, HERE, "--worker", kind, impl, out_path,
               *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {kind}/{impl} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if kind == "kernel":
        result["K"] = np.load(out_path)
        os.remove(out_path)
    return result


# -------------------------------------------------------------------- cases


def _peer_available():
    try:
        import qiskit_machine_learning  # noqa: F401
    except ImportError:
        print("qiskit-machine-learning is not installed: peer cases skipped "
              "(pip install 'skkernel[bench]')", file=sys.stderr)
        return False
    return True


def bench_kernel(n_qubits, n_samples, with_peer):
    row = {"case": "kernel", "n_qubits": n_qubits, "n_samples": n_samples,
           "reps": 2, "entanglement": "full", "peer": PEER_NAME}
    peer = _run_worker("kernel", "peer", n_qubits, n_samples) if with_peer else None
    ours = _run_worker("kernel", "ours", n_qubits, n_samples)
    row.update(ours_s=round(ours["seconds"], 5), ours_best_s=round(ours["best_s"], 5),
               ours_first_call_s=round(ours["first_call_s"], 4),
               ours_peak_rss_mib=round(ours["peak_rss_mib"], 1),
               ours_import_rss_mib=round(ours["import_rss_mib"], 1))
    if peer is not None:
        row.update(peer_s=round(peer["seconds"], 4),
                   peer_peak_rss_mib=round(peer["peak_rss_mib"], 1),
                   peer_import_rss_mib=round(peer["import_rss_mib"], 1),
                   ratio=round(peer["seconds"] / ours["seconds"], 1),
                   max_abs_diff=float(np.abs(peer["K"] - ours["K"]).max()))
    else:
        row["peer_s"] = None
    return row


def bench_svc(with_peer):
    row = {"case": "svc_ad_hoc", "n_qubits": 2, "n_train": 40, "n_test": 10,
           "gap": 0.3, "peer": "qiskit-machine-learning QSVC"}
    if with_peer:
        peer = _run_worker("svc", "peer")
        row.update(peer_s=round(peer["seconds"], 4), peer_accuracy=peer["accuracy"])
    ours = _run_worker("svc", "ours")
    row.update(ours_s=round(ours["seconds"], 5), ours_accuracy=ours["accuracy"])
    if with_peer:
        row["ratio"] = round(peer["seconds"] / ours["seconds"], 1)
    return row


def bench_ad_hoc_seeds(n_seeds):
    from skkernel.datasets import make_ad_hoc
    from skkernel.svm import QuantumKernelSVC

    exact, shots = [], []
    for seed in range(n_seeds):
        X_train, y_train, X_test, y_test = make_ad_hoc(20, 5, random_state=seed)
        exact.append(QuantumKernelSVC(random_state=seed).fit(X_train, y_train)
                     .score(X_test, y_test))
        shots.append(QuantumKernelSVC(shots=1024, random_state=seed)
                     .fit(X_train, y_train).score(X_test, y_test))
    return {"case": "ad_hoc_seeds", "n_qubits": 2, "gap": 0.3, "n_seeds": n_seeds,
            "exact_mean_accuracy": float(np.mean(exact)),
            "exact_min_accuracy": float(np.min(exact)),
            "shots1024_mean_accuracy": float(np.mean(shots)),
            "shots1024_min_accuracy": float(np.min(shots))}


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba
    import numpy
    import scipy

    info = {"case": "machine", "cpu": model, "cores": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "load_avg": os.getloadavg()}
    try:
        import qiskit
        import qiskit_machine_learning

        info.update(qiskit=qiskit.__version__,
                    qiskit_machine_learning=qiskit_machine_learning.__version__)
    except ImportError:
        pass
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes only (a smoke run of a few seconds)")
    parser.add_argument("--skip-large", action="store_true",
                        help="skip the 16-qubit, 1,000-sample case")
    args = parser.parse_args(argv)
    with_peer = _peer_available()
    print(json.dumps(machine()), flush=True)
    sizes = [(4, 50)] if args.quick else [(8, 300), (4, 300), (12, 100)]
    for n_qubits, n_samples in sizes:
        print(json.dumps(bench_kernel(n_qubits, n_samples, with_peer)), flush=True)
    if not args.quick and not args.skip_large:
        # Qiskit's Statevector takes tens of seconds per 16-qubit state here,
        # so the peer runs on 2 samples only: enough to extrapolate, and to
        # compare values.
        print(json.dumps(bench_kernel(16, 2, with_peer)), flush=True)
        print("16 qubits x 1,000 samples: peer skipped (hours at the rate of "
              "the 2-sample row); ours only", file=sys.stderr)
        print(json.dumps(bench_kernel(16, 1000, False)), flush=True)
    print(json.dumps(bench_svc(with_peer)), flush=True)
    print(json.dumps(bench_ad_hoc_seeds(3 if args.quick else 20)), flush=True)
    print(json.dumps({"case": "machine_end", "load_avg": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, impl, out_path, *rest = sys.argv[2:]
        if kind == "kernel":
            result = _worker_kernel(impl, int(rest[0]), int(rest[1]), out_path)
        else:
            result = _worker_svc(impl, out_path)
        print(json.dumps(result))
    else:
        main()
