"""Backend resolution, array-module helpers and numba thread control."""

import functools
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from .._config import _VALID_BACKENDS, get_config

CUPY_INSTALL_HINT = 'pip install "skkernel[cuda12]"'


@functools.cache
def _cupy_usable():
    """Whether cupy imports *and* sees a usable CUDA device."""
    try:
        import cupy
    except ImportError:
        return False
    try:
        return bool(cupy.is_available())
    except Exception:  # driver or runtime errors mean "not usable"
        return False


def cupy_available():
    """Return True when cupy is installed and a CUDA GPU is usable.

    An ``import cupy`` succeeds on machines without a GPU; only
    ``cupy.is_available()`` tells, and that is what is checked here.

    Returns
    -------
    available : bool
        True when the ``"cupy"`` backend can run.

    Examples
    --------
    >>> from skkernel.backend import cupy_available
    >>> isinstance(cupy_available(), bool)
    True
    """
    return _cupy_usable()


def available_backends():
    """List the concrete backends usable on this machine.

    Returns
    -------
    backends : list of str
        ``["numpy", "numba"]``, plus ``"cupy"`` when a GPU is usable.

    Examples
    --------
    >>> from skkernel.backend import available_backends
    >>> available_backends()[:2]
    ['numpy', 'numba']
    """
    backends = ["numpy", "numba"]
    if cupy_available():
        backends.append("cupy")
    return backends


def is_cupy_array(a):
    """Return True if ``a`` is a cupy dense array or cupyx sparse matrix.

    Parameters
    ----------
    a : object
        Any object.

    Returns
    -------
    is_cupy : bool
        True for cupy arrays and cupyx sparse matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.backend import is_cupy_array
    >>> is_cupy_array(np.zeros(3))
    False
    """
    module = type(a).__module__
    return module.startswith("cupy") or module.startswith("cupyx")


def resolve_backend(backend, *arrays):
    """Turn a ``backend`` parameter into a concrete backend name.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "cupy"}
        The estimator's ``backend`` parameter. ``"auto"`` follows the global
        configuration (:func:`skkernel.config_context`); if that is also
        ``"auto"``, it picks ``"cupy"`` when any of ``arrays`` lives on the
        GPU and ``"numba"`` otherwise.
    *arrays : array-like
        The inputs of the call, used by ``"auto"``.

    Returns
    -------
    backend : {"numpy", "numba", "cupy"}
        The resolved backend.

    Raises
    ------
    ValueError
        If ``backend`` is not one of the known names.
    RuntimeError
        If ``"cupy"`` is requested but cupy is missing or sees no GPU.

    Examples
    --------
    >>> from skkernel.backend import resolve_backend
    >>> resolve_backend("numpy")
    'numpy'
    >>> resolve_backend("auto")
    'numba'
    """
    if not isinstance(backend, str) or backend not in _VALID_BACKENDS:
        raise ValueError(
            f"backend must be one of {list(_VALID_BACKENDS)}, got {backend!r}."
        )
    if backend == "auto":
        backend = get_config()["backend"]
    if backend == "auto":
        backend = "cupy" if any(is_cupy_array(a) for a in arrays) else "numba"
    if backend == "cupy" and not cupy_available():
        raise RuntimeError(
            "backend='cupy' needs cupy and a usable CUDA GPU, but "
            + (
                "cupy is not installed"
                if not _cupy_importable()
                else "cupy.is_available() is False (no usable GPU)"
            )
            + f". Install it with: {CUPY_INSTALL_HINT}, or use backend='numba'."
        )
    return backend


def _cupy_importable():
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


def get_array_module(backend):
    """Return the dense and sparse array modules for a resolved backend.

    Parameters
    ----------
    backend : {"numpy", "numba", "cupy"}
        A resolved backend.

    Returns
    -------
    xp : module
        ``numpy`` or ``cupy``.
    xsp : module
        ``scipy.sparse`` or ``cupyx.scipy.sparse``.

    Examples
    --------
    >>> from skkernel.backend import get_array_module
    >>> xp, xsp = get_array_module("numba")
    >>> xp.__name__, xsp.__name__
    ('numpy', 'scipy.sparse')
    """
    if backend == "cupy":
        import cupy
        import cupyx.scipy.sparse

        return cupy, cupyx.scipy.sparse
    return np, sp


def is_device_array(a):
    """Return True for arrays numpy cannot read without an explicit copy.

    That is cupy arrays and sparse matrices, and any other object of the
    array API standard (``__array_namespace__``) that is not a numpy array,
    such as ``array_api_strict`` arrays on a non-CPU device, which CI uses to
    stand in for a GPU.

    Parameters
    ----------
    a : object
        Any object.

    Returns
    -------
    is_device : bool
        True when ``np.asarray(a)`` is not the way to read ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.backend import is_device_array
    >>> is_device_array(np.zeros(3)), is_device_array([1.0])
    (False, False)
    """
    if is_cupy_array(a):
        return True
    host = isinstance(a, np.ndarray | np.generic)
    return hasattr(a, "__array_namespace__") and not host


def to_cpu(a):
    """Copy a device array (cupy, or another array-API array) to the host.

    Parameters
    ----------
    a : array-like or sparse matrix
        Array on any device; host objects pass through unchanged.

    Returns
    -------
    a_cpu : ndarray or scipy sparse matrix
        The same values in host memory.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.backend import to_cpu
    >>> to_cpu(np.ones(2))
    array([1., 1.])
    """
    if is_cupy_array(a):
        return a.get()
    if is_device_array(a):
        # DLPack reads the buffer explicitly; np.asarray would be refused by
        # a device array (as cupy and array_api_strict on a device do).
        return np.from_dlpack(a)
    return a


def get_namespace(a):
    """Return the array module of ``a``: cupy, an array-API namespace, or numpy.

    Parameters
    ----------
    a : array
        Any array.

    Returns
    -------
    xp : module
        ``cupy`` for cupy arrays, ``a.__array_namespace__()`` for other device
        arrays, else ``numpy``.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.backend import get_namespace
    >>> get_namespace(np.ones(2)).__name__
    'numpy'
    """
    if is_cupy_array(a):
        import cupy

        return cupy
    if is_device_array(a):
        return a.__array_namespace__()
    return np


def like_input(result, reference):
    """Return ``result`` (host) in the array type and device of ``reference``.

    Outputs follow the input's array type: cupy in, cupy out; an array-API
    array in, the same namespace and device out; anything else, numpy.

    Parameters
    ----------
    result : ndarray
        A host result.
    reference : array-like
        The input the result was computed from.

    Returns
    -------
    result : array
        ``result`` moved into ``reference``'s namespace and device.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.backend import like_input
    >>> like_input(np.ones(2), [0.0, 1.0])
    array([1., 1.])
    """
    if is_device_array(result) and not is_device_array(reference):
        return to_cpu(result)  # a GPU fit's result for host input goes home
    if not is_device_array(reference) or is_device_array(result):
        return result
    if np.asarray(result).dtype.kind not in "biufc":
        return result  # labels such as strings have no device representation
    if is_cupy_array(reference):
        import cupy

        return cupy.asarray(result)
    namespace = reference.__array_namespace__()
    return namespace.asarray(np.ascontiguousarray(result), device=reference.device)


def to_device(a, backend):
    """Move a host array (dense or scipy sparse) to the backend's device.

    Parameters
    ----------
    a : ndarray or sparse matrix
        Host or device array.
    backend : {"numpy", "numba", "cupy"}
        A resolved backend.

    Returns
    -------
    a_dev : array
        ``a`` itself for CPU backends, a cupy array for ``"cupy"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.backend import to_device
    >>> to_device(np.ones(2), "numpy")
    array([1., 1.])
    """
    if backend != "cupy" or is_cupy_array(a):
        return a
    import cupy
    import cupyx.scipy.sparse

    if sp.issparse(a):
        return cupyx.scipy.sparse.csr_matrix(sp.csr_matrix(a))
    return cupy.asarray(a)


@contextmanager
def numba_threads(n_jobs):
    """Run a block with numba's thread count set from ``n_jobs``.

    The previous thread count is restored on exit, so a fit leaves no
    global state changed.

    Parameters
    ----------
    n_jobs : int or None
        ``None`` keeps the current count; ``-1`` means all of numba's
        threads; ``-2`` all but one, and so on (joblib's convention).
        Values above ``numba.config.NUMBA_NUM_THREADS`` are capped.

    Yields
    ------
    n_threads : int
        The thread count in force inside the block.

    Examples
    --------
    >>> from skkernel.backend import numba_threads
    >>> with numba_threads(1) as n:
    ...     n
    1
    """
    import numba

    previous = numba.get_num_threads()
    maximum = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        n_threads = previous
    elif n_jobs < 0:
        n_threads = max(1, maximum + 1 + n_jobs)
    else:
        n_threads = min(max(1, int(n_jobs)), maximum)
    numba.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        numba.set_num_threads(previous)
