"""The one place where numba compilation flags live."""

import inspect
import os

import numba

# Caching compiled kernels on disk cuts the first call from seconds to a
# fraction of one. SKKERNEL_NUMBA_CACHE=0 turns it off (read-only installs).
_CACHE = os.environ.get("SKKERNEL_NUMBA_CACHE", "1") != "0"


def jit(func=None, *, parallel=False, fastmath=False):
    """Compile ``func`` lazily with skkernel's numba flags.

    Parameters
    ----------
    func : callable, default=None
        Function to compile; ``None`` returns a decorator.
    parallel : bool, default=False
        Enable ``prange`` loops. Only for kernels where threads pay off.
    fastmath : bool, default=False
        Only where NaN and inf cannot occur (inputs are validated first).

    Returns
    -------
    dispatcher : numba dispatcher or decorator
        Compiled on first call (no signatures at import).

    Examples
    --------
    >>> from skkernel.backend import jit
    >>> @jit
    ... def add(a, b):
    ...     return a + b
    >>> add(1, 2)
    3
    """
    def decorate(f):
        # numba's on-disk cache needs a source file: functions typed at a
        # prompt or in a doctest compile uncached instead of raising.
        cache = _CACHE and _has_source_file(f)
        return numba.njit(cache=cache, parallel=parallel, fastmath=fastmath)(f)

    return decorate if func is None else decorate(func)


def _has_source_file(func):
    try:
        path = inspect.getfile(func)
    except TypeError:
        return False
    return not (path.startswith("<") and path.endswith(">"))


@jit(parallel=True)
def touch_parallel(n):
    """Run a trivial parallel loop so numba picks its threading layer."""
    total = 0
    for i in numba.prange(n):
        total += i
    return total
