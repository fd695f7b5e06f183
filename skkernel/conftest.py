"""Shared pytest fixtures: the backend fixture (POT style) and the gpu marker."""

import pytest

from skkernel.backend import available_backends, cupy_available


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
