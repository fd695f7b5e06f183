"""skkernel.neural against skorch 1.4: the same MLP, data, epochs and start.

Both wrappers train one network from the same initial weights (one state dict
copied into both), with Adam, the same learning rate, batch size and number of
epochs, shuffled batches, no validation split, on the same float32 data. The
peer runs first, then ours, and the pair is repeated (``--repeat``) with the
order kept, so both see the same machine load. Printed per case, one JSON
line: seconds per epoch (median over epochs and repeats, from each wrapper's
own history ``dur``), the whole fit's wall time, and the final training loss
of each (they differ only by the batch order each wrapper draws).

Cases: a 5-class classifier and a regressor on ``make_classification`` /
``make_regression`` data (20,000 x 50 by default), an MLP 50-256-256-out;
``--device cuda`` runs on a GPU when torch sees one.

``--checks`` instead runs scikit-learn's ``check_estimator`` on both
wrappers with default training settings (skorch with ``train_split=None``
and a ``LazyLinear`` MLP, so one module fits every check's width; ours with
default parameters) and prints the failed checks of each.

Usage: ``python benchmarks/bench_neural.py [--quick] [--repeat R]
[--threads T] [--device cpu|cuda] [--checks]``. skorch missing: its rows are skipped
with a message (``pip install skorch==1.4.0``).
"""

import argparse
import statistics
import time

import numpy as np
import torch
from _common import emit, machine


def make_module(torch, n_in, n_out, width):
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, width), torch.nn.ReLU(),
        torch.nn.Linear(width, width), torch.nn.ReLU(),
        torch.nn.Linear(width, n_out),
    )


def data(kind, n, p, seed=0):
    from sklearn.datasets import make_classification, make_regression
    from sklearn.preprocessing import StandardScaler

    if kind == "classifier":
        X, y = make_classification(n, p, n_informative=20, n_classes=5,
                                   random_state=seed)
    else:
        X, y = make_regression(n, p, n_informative=20, noise=5.0, random_state=seed)
        y = ((y - y.mean()) / y.std()).astype(np.float32)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def run_skorch(kind, module, X, y, args, torch):
    try:
        import skorch
    except ImportError:
        return None
    cls = (skorch.NeuralNetClassifier if kind == "classifier"
           else skorch.NeuralNetRegressor)
    criterion = torch.nn.CrossEntropyLoss if kind == "classifier" else torch.nn.MSELoss
    net = cls(module, criterion=criterion, optimizer=torch.optim.Adam, lr=args.lr,
              batch_size=args.batch_size, max_epochs=args.epochs, train_split=None,
              iterator_train__shuffle=True, device=args.device, verbose=0)
    y_in = y if kind == "classifier" else y.reshape(-1, 1)
    start = time.perf_counter()
    net.fit(X, y_in)
    wall = time.perf_counter() - start
    return {"epoch_s": [h["dur"] for h in net.history], "wall_s": wall,
            "final_loss": float(net.history[-1, "train_loss"])}


def run_ours(kind, module, X, y, args):
    from skkernel.neural import NeuralNetClassifier, NeuralNetRegressor

    cls = NeuralNetClassifier if kind == "classifier" else NeuralNetRegressor
    net = cls(module, optimizer="adam", lr=args.lr, batch_size=args.batch_size,
              max_epochs=args.epochs, device=args.device, random_state=0)
    start = time.perf_counter()
    net.fit(X, y)
    wall = time.perf_counter() - start
    return {"epoch_s": net.history_[:, "dur"], "wall_s": wall,
            "final_loss": float(net.loss_)}


def estimator_checks():
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    from skkernel.neural import NeuralNetClassifier, NeuralNetRegressor

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    wrappers = {"skkernel": (NeuralNetClassifier(), NeuralNetRegressor())}
    try:
        import skorch
    except ImportError:
        emit({"skipped": "skorch is not installed: pip install skorch==1.4.0"})
    else:
        wrappers["skorch"] = (
            skorch.NeuralNetClassifier(LazyMLP, criterion=torch.nn.CrossEntropyLoss,
                                       optimizer=torch.optim.Adam, lr=0.01,
                                       max_epochs=20, train_split=None, verbose=0),
            skorch.NeuralNetRegressor(LazyMLP, module__n_out=1,
                                      optimizer=torch.optim.Adam, lr=0.01,
                                      max_epochs=20, train_split=None, verbose=0),
        )
    for name, estimators in wrappers.items():
        for est in estimators:
            results = check_estimator(est, on_fail=None)
            failed = sorted({r["check_name"] for r in results
                             if r["status"] == "failed"})
            emit({"wrapper": name, "estimator": type(est).__name__,
                  "checks": len(results), "failed": failed})


class LazyMLP(torch.nn.Module):
    """For skorch under check_estimator: the input width is inferred."""

    def __init__(self, n_out=10):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.LazyLinear(64), torch.nn.ReLU(),
                                       torch.nn.Linear(64, n_out))

    def forward(self, X):
        return self.net(X.float())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for both (default: torch's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--checks", action="store_true")
    args = parser.parse_args()
    if args.checks:
        return estimator_checks()
    if args.quick:
        args.n, args.epochs, args.repeat = 2_000, 3, 1

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        emit({"skipped": f"device={args.device}: torch sees no CUDA device"})
        return
    emit({"machine": machine(), "torch": torch.__version__,
          "torch_threads": torch.get_num_threads(), "device": args.device})
    for kind in ("classifier", "regressor"):
        X, y = data(kind, args.n, 50)
        n_out = 5 if kind == "classifier" else 1
        torch.manual_seed(0)
        start_weights = make_module(torch, X.shape[1], n_out, 256).state_dict()
        results = {"skorch": [], "skkernel": []}
        for _ in range(args.repeat):
            for name in ("skorch", "skkernel"):
                module = make_module(torch, X.shape[1], n_out, 256)
                module.load_state_dict(start_weights)
                out = (run_skorch(kind, module, X, y, args, torch) if name == "skorch"
                       else run_ours(kind, module, X, y, args))
                if out is not None:
                    results[name].append(out)
        record = {"case": kind, "n": args.n, "p": 50, "epochs": args.epochs,
                  "batch_size": args.batch_size, "repeat": args.repeat,
                  "load_1min": machine()["load_1min"]}
        for name, runs in results.items():
            if not runs:
                record[name] = "skipped: skorch is not installed"
                continue
            record[name] = {
                "s_per_epoch": round(statistics.median(
                    d for r in runs for d in r["epoch_s"]), 4),
                "wall_s": round(statistics.median(r["wall_s"] for r in runs), 3),
                "final_loss": [round(r["final_loss"], 5) for r in runs],
            }
        if all(isinstance(record[k], dict) for k in results):
            record["speedup_per_epoch"] = round(
                record["skorch"]["s_per_epoch"] / record["skkernel"]["s_per_epoch"], 2)
        emit(record)


if __name__ == "__main__":
    main()
