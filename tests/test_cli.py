"""The command line: demo table, info, bench, and the demo registry."""

import pytest

from skkernel import cli
from skkernel.utils import all_estimators
from skkernel.utils._demo import DemoCase, discover_demo_cases


def test_every_estimator_has_a_demo_case():
    demo_names = {case.estimator for case in discover_demo_cases()}
    missing = {name for name, _ in all_estimators()} - demo_names
    assert not missing, f"add a _demo.py case for {sorted(missing)}"


def test_demo_prints_a_table(monkeypatch, capsys):
    cases = [DemoCase("Fake", "toy", "accuracy", lambda backend: 0.5),
             DemoCase("Other", "toy 2", "R2", lambda backend: 0.25),
             DemoCase("Third", "toy 3", "error", lambda backend: 2.6e-9)]
    monkeypatch.setattr("skkernel.utils._demo.discover_demo_cases", lambda: cases)
    assert cli.main(["demo", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["estimator", "backend", "data", "set", "quality",
                              "seconds"]
    assert "accuracy = 0.5000" in out[2] and out[2].startswith("Fake")
    assert "R2 = 0.2500" in out[3] and "numpy" in out[3]
    assert "error = 2.60e-09" in out[4]


def test_demo_only_filters_and_rejects_unknown(monkeypatch, capsys):
    cases = [DemoCase("Fake", "toy", "accuracy", lambda backend: 1.0)]
    monkeypatch.setattr("skkernel.utils._demo.discover_demo_cases", lambda: cases)
    assert cli.main(["demo", "--only", "nothing"]) == 2
    assert "no demo case matches" in capsys.readouterr().err
    assert cli.main(["demo", "--only", "fake"]) == 0


def test_demo_refuses_unavailable_backend(monkeypatch, capsys):
    monkeypatch.setattr("skkernel.backend.available_backends",
                        lambda: ["numpy", "numba"])
    assert cli.main(["demo", "--backend", "cupy"]) == 2
    assert "not available here" in capsys.readouterr().err


def test_info_reports_threads_and_gpu(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for field in ("numba threads", "numba threading layer", "cupy sees a GPU",
                  "scikit-learn"):
        assert field in out


def test_bench_unknown_name_lists_available(capsys):
    assert cli.main(["bench", "no_such_benchmark"]) == 2
    assert "fastrp" in capsys.readouterr().err


def test_missing_command_is_an_error():
    with pytest.raises(SystemExit):
        cli.main([])
