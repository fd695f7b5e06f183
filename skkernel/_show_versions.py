"""Report versions, numba threading and GPU availability (``skkernel info``)."""

import importlib.metadata
import platform
import sys

_DEPENDENCIES = (
    "numpy", "scipy", "scikit-learn", "numba", "joblib", "threadpoolctl",
    "cupy-cuda12x", "torch", "dask", "networkx", "tqdm",
)


def _system_info():
    import numba

    from .backend import cupy_available

    try:
        # The layer is only known after a parallel region has run.
        from .backend._numba import touch_parallel

        touch_parallel(2)
        layer = numba.threading_layer()
    except ValueError:
        layer = "not initialised"
    gpu = "no"
    if cupy_available():
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        gpu = f"yes ({props['name'].decode()})"
    return {
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "numba threads": numba.get_num_threads(),
        "numba threading layer": layer,
        "cupy sees a GPU": gpu,
    }


def _dependency_versions():
    versions = {}
    for name in _DEPENDENCIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def show_versions():
    """Print skkernel, dependency and machine information.

    Shows the versions of skkernel and its dependencies, numba's thread
    count and threading layer, and whether cupy sees a usable GPU.

    Examples
    --------
    >>> import skkernel
    >>> skkernel.show_versions()  # doctest: +SKIP
    """
    from . import __version__

    print(f"skkernel {__version__}\n\nSystem:")
    for key, value in _system_info().items():
        print(f"{key:>24}: {value}")
    print("\nDependencies:")
    for key, value in _dependency_versions().items():
        print(f"{key:>24}: {value if value is not None else 'not installed'}")
