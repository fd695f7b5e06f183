"""The one place where numba compilation flags live."""

import inspect
import os

import numba
from llvmlite import binding as _llvm_binding
from llvmlite import ir as _ir
from numba import types as _types
from numba.extending import intrinsic as _intrinsic

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


# LLVM 15 made pointers opaque, which renamed the intrinsic (numba >= 0.61
# ships LLVM >= 15; numba 0.59-0.60 ship LLVM 14).
_PREFETCH = ("llvm.prefetch.p0" if _llvm_binding.llvm_version_info >= (15,)
             else "llvm.prefetch.p0i8")


@_intrinsic
def _prefetch_element(typingctx, array, index):
    """Hint the CPU to bring ``array.flat[index]``'s cache line in for reading
    (``llvm.prefetch``: read, high locality, data cache). A hint only: it
    changes no value, and x86 drops it rather than fault."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p = _ir.IntType(8).as_pointer()
        i32 = _ir.IntType(32)
        fnty = _ir.FunctionType(_ir.VoidType(), [i8p, i32, i32, i32])
        try:
            fn = builder.module.get_global(_PREFETCH)
        except KeyError:
            fn = _ir.Function(builder.module, fnty, name=_PREFETCH)
        address = builder.bitcast(builder.gep(data, [args[1]]), i8p)
        builder.call(fn, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return _types.void(array, index), codegen


@jit
def prefetch(array, index):
    """Prefetch the cache line of ``array.flat[index]`` (a hint: no value
    changes, and an index one past the end does not fault)."""
    _prefetch_element(array, index)


# Cache lines prefetched at the head of a row; the hardware prefetcher streams
# the rest. Paired medians of 8 interleaved calls of one FastRP product (2
# cores): 3e5 nodes, d = 128, float64 0.506 s without prefetching, 0.449 s with
# 1 line, 0.443 s with 8, 0.440 s with all 16; float32 0.387 / 0.326 / 0.264 /
# 0.272 s; BlogCatalog, d = 512 (64 lines a row) 0.075 / 0.072 / 0.064 /
# 0.076 s.
PREFETCH_LINES = 8


@jit
def prefetch_row(X, row):
    """Prefetch the first cache lines of row ``row`` of the C-contiguous 2-D ``X``.

    Sparse-dense products gather rows at random; asking for the row a few
    stored entries ahead overlaps its memory latency with the current row's
    arithmetic (measured in ``skkernel.graph``'s FastRP products). At most
    ``PREFETCH_LINES`` lines: prefetching all 64 lines of BlogCatalog's 4 KB
    rows made its fit slower than no prefetching (0.37 s against 0.29 s).
    """
    width = X.shape[1]
    step = max(1, 64 // X.itemsize)
    base = row * width
    for c in range(0, min(width, PREFETCH_LINES * step), step):
        _prefetch_element(X, base + c)
