"""Global configuration for skkernel, thread-local like scikit-learn's."""

import threading
from contextlib import contextmanager

_global_config = {
    "backend": "auto",
    "working_memory": 1024,
}
_threadlocal = threading.local()

_VALID_BACKENDS = ("auto", "numpy", "numba", "cupy")


def _get_threadlocal_config():
    if not hasattr(_threadlocal, "global_config"):
        _threadlocal.global_config = _global_config.copy()
    return _threadlocal.global_config


def get_config():
    """Return the current skkernel configuration.

    Returns
    -------
    config : dict
        Keys are the parameter names accepted by :func:`set_config`.

    See Also
    --------
    config_context : Context manager for a temporary configuration.
    set_config : Set the configuration.

    Examples
    --------
    >>> import skkernel
    >>> skkernel.get_config()["backend"]
    'auto'
    """
    return _get_threadlocal_config().copy()


def set_config(backend=None, working_memory=None):
    """Set the skkernel configuration for the current thread.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "cupy"}, default=None
        Backend that estimators created with ``backend="auto"`` resolve to.
        ``"auto"`` keeps the automatic rule (cupy for cupy input, numba
        otherwise). ``None`` leaves the setting unchanged.
    working_memory : int, default=None
        Memory budget in MiB for the chunked kernels (row or column blocks
        are sized so that temporary buffers stay under it). ``None`` leaves
        the setting unchanged.

    See Also
    --------
    config_context : Context manager for a temporary configuration.
    get_config : Read the configuration.

    Examples
    --------
    >>> import skkernel
    >>> skkernel.set_config(backend="numpy")
    >>> skkernel.get_config()["backend"]
    'numpy'
    >>> skkernel.set_config(backend="auto")
    """
    local_config = _get_threadlocal_config()
    if backend is not None:
        if backend not in _VALID_BACKENDS:
            raise ValueError(
                f"backend must be one of {_VALID_BACKENDS}, got {backend!r}."
            )
        local_config["backend"] = backend
    if working_memory is not None:
        if not (isinstance(working_memory, int | float) and working_memory > 0):
            raise ValueError(
                "working_memory must be a positive number of MiB, "
                f"got {working_memory!r}."
            )
        local_config["working_memory"] = working_memory


@contextmanager
def config_context(*, backend=None, working_memory=None):
    """Temporarily change the skkernel configuration inside a ``with`` block.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "cupy"}, default=None
        Backend that ``backend="auto"`` resolves to inside the block.
    working_memory : int, default=None
        Memory budget in MiB for chunked kernels inside the block.

    Yields
    ------
    None
        The previous configuration is restored when the block exits.

    See Also
    --------
    get_config : Read the configuration.
    set_config : Set the configuration.

    Examples
    --------
    >>> import skkernel
    >>> with skkernel.config_context(backend="numpy"):
    ...     skkernel.get_config()["backend"]
    'numpy'
    >>> skkernel.get_config()["backend"]
    'auto'
    """
    old_config = get_config()
    set_config(backend=backend, working_memory=working_memory)
    try:
        yield
    finally:
        set_config(**old_config)
