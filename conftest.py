"""Shared pytest fixtures: the backend fixture (POT style) and the gpu marker."""

import os
import zlib

import numpy as np
import pytest

from skkernel.backend import available_backends, cupy_available


def pytest_configure(config):
    # Test processes share two cores (pytest -n 2): one torch thread each, as
    # joblib gives its workers. torch's default (one thread per core) made a
    # 100-epoch fit of a small MLP 10-50x slower under that contention.
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    if cupy_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs cupy and a usable CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip_gpu)


def _backend_params():
    params = []
    for name in ("numpy", "numba", "cupy"):
        marks = [pytest.mark.gpu] if name == "cupy" else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.fixture(params=_backend_params())
def backend(request):
    """Every concrete backend; the cupy case is skipped without a GPU."""
    if request.param not in available_backends():
        pytest.skip(f"backend {request.param!r} is not available here")
    return request.param


@pytest.fixture(params=[pytest.param("numba", id="numba"),
                        pytest.param("cupy", marks=[pytest.mark.gpu], id="cupy")])
def fast_backend(request):
    """The accelerated backends, to compare against the numpy reference."""
    if request.param not in available_backends():
        pytest.skip(f"backend {request.param!r} is not available here")
    return request.param


@pytest.fixture(autouse=True)
def _seed_global_rng(request):
    """Seed numpy's global RNG per test, from the test's name.

    Estimators built with ``random_state=None`` draw from the global RNG, so
    without this a test's draws would depend on which tests ran before it in
    the same worker. ``SKKERNEL_TEST_SEED=N`` shifts every test's seed: sweep
    it to look for tests that only pass for some draws.
    """
    shift = int(os.environ.get("SKKERNEL_TEST_SEED", "0"))
    # The legacy global RNG is what check_random_state(None) draws from.
    np.random.seed((zlib.crc32(request.node.nodeid.encode()) + shift) % 2**32)  # noqa: NPY002
