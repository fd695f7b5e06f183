"""Backend selection: numpy reference, numba CPU kernels, cupy GPU kernels."""

from ._backend import (
    CUPY_INSTALL_HINT,
    available_backends,
    cupy_available,
    get_array_module,
    get_namespace,
    is_cupy_array,
    is_device_array,
    like_input,
    numba_threads,
    resolve_backend,
    to_cpu,
    to_device,
)
from ._dispatch import Dispatch
from ._numba import jit

__all__ = [
    "CUPY_INSTALL_HINT",
    "Dispatch",
    "available_backends",
    "cupy_available",
    "get_array_module",
    "get_namespace",
    "is_cupy_array",
    "is_device_array",
    "like_input",
    "jit",
    "numba_threads",
    "resolve_backend",
    "to_cpu",
    "to_device",
]
