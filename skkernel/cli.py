"""Command line: ``skkernel demo``, ``skkernel info``, ``skkernel bench``."""

import argparse
import runpy
import sys
import time
from pathlib import Path


def _run_demo(args):
    from .backend import available_backends
    from .utils import progress_bar
    from .utils._demo import discover_demo_cases

    cases = discover_demo_cases()
    if args.only:
        wanted = {name.lower() for name in args.only}
        cases = [c for c in cases if c.estimator.lower() in wanted]
        if not cases:
            print(f"no demo case matches {args.only}", file=sys.stderr)
            return 2
    backend = args.backend
    if backend not in available_backends():
        print(f"backend {backend!r} is not available here "
              f"(available: {available_backends()})", file=sys.stderr)
        return 2
    rows = []
    with progress_bar(len(cases), "skkernel demo", verbose=1) as bar:
        for case in cases:
            bar.set_postfix_str(case.estimator)
            start = time.perf_counter()
            quality = case.run(backend)
            seconds = time.perf_counter() - start
            rows.append((case.estimator, backend, case.dataset,
                         f"{case.metric} = {_format_quality(quality)}",
                         f"{seconds:.1f}"))
            bar.update()
    header = ("estimator", "backend", "data set", "quality", "seconds")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    return 0


def _format_quality(value):
    """Four decimals, or scientific notation for small errors (2.6e-09)."""
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.4f}"
    return f"{value:.2e}"


def _run_info(args):
    from . import show_versions

    show_versions()
    return 0


def _run_bench(args):
    root = Path(__file__).resolve().parent.parent / "benchmarks"
    script = root / f"bench_{args.name}.py"
    if not script.exists():
        available = sorted(p.stem[6:] for p in root.glob("bench_*.py"))
        print(f"no benchmark {args.name!r} in {root} (available: {available}); "
              "benchmarks live in a source checkout", file=sys.stderr)
        return 2
    sys.argv = [str(script), *args.bench_args]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def build_parser():
    """Return the argument parser of the ``skkernel`` command."""
    parser = argparse.ArgumentParser(
        prog="skkernel", description="skkernel command line."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run every estimator on built-in data")
    demo.add_argument("--backend", default="numba",
                      choices=["numpy", "numba", "cupy"])
    demo.add_argument("--only", nargs="+", metavar="ESTIMATOR",
                      help="run only these estimators")
    demo.set_defaults(func=_run_demo)
    info = sub.add_parser("info", help="versions, numba threads, GPU availability")
    info.set_defaults(func=_run_info)
    bench = sub.add_parser("bench", help="run benchmarks/bench_NAME.py")
    bench.add_argument("name")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_run_bench)
    return parser


def main(argv=None):
    """Entry point of the ``skkernel`` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
