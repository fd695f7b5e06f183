"""The one place where numba compilation flags live."""

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
    decorator = numba.njit(cache=_CACHE, parallel=parallel, fastmath=fastmath)
    return decorator if func is None else decorator(func)


@jit(parallel=True)
def touch_parallel(n):
    """Run a trivial parallel loop so numba picks its threading layer."""
    total = 0
    for i in numba.prange(n):
        total += i
    return total
