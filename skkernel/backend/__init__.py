"""Backend selection: numpy reference, numba CPU kernels, cupy GPU kernels."""

from ._backend import (
    CUPY_INSTALL_HINT,
    available_backends,
    cupy_available,
    get_array_module,
    is_cupy_array,
    numba_threads,
    resolve_backend,
    to_cpu,
    to_device,
)
from ._numba import jit

__all__ = [
    "CUPY_INSTALL_HINT",
    "available_backends",
    "cupy_available",
    "get_array_module",
    "is_cupy_array",
    "jit",
    "numba_threads",
    "resolve_backend",
    "to_cpu",
    "to_device",
]
