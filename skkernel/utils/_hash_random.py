"""Counter-based random numbers that every backend reproduces bit for bit.

Entry ``index`` of a stream with key ``seed`` is ``splitmix64(seed + (index + 1)
* golden)`` mapped to a double in ``[0, 1)``. Because an entry depends only on
``(seed, index)``, numpy, numba and cupy produce identical numbers without
sharing a generator state, and a kernel can make any block of a random matrix
on the fly instead of storing it.
"""

import numpy as np

from ..backend import jit

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TO_UNIT = 2.0**-53


def hash_uniform(seed, index, xp=np):
    """Uniform doubles in ``[0, 1)`` for integer counters ``index``.

    Parameters
    ----------
    seed : int
        Stream key in ``[0, 2**64)``.
    index : array of integers
        Counters (non-negative).
    xp : module, default=numpy
        ``numpy`` or ``cupy``; the result lives where ``index`` lives.

    Returns
    -------
    u : array of float64
        Same shape as ``index``.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.utils._hash_random import hash_uniform
    >>> u = hash_uniform(7, np.arange(3))
    >>> bool(((u >= 0) & (u < 1)).all())
    True
    """
    x = xp.asarray(index).astype(xp.uint64)
    x = xp.uint64(seed) + (x + xp.uint64(1)) * xp.uint64(_GOLDEN)
    x = (x ^ (x >> xp.uint64(30))) * xp.uint64(_MIX1)
    x = (x ^ (x >> xp.uint64(27))) * xp.uint64(_MIX2)
    x = x ^ (x >> xp.uint64(31))
    return (x >> xp.uint64(11)).astype(xp.float64) * _TO_UNIT


@jit
def hash_uniform_scalar(seed, index):
    """Numba twin of :func:`hash_uniform` for one counter."""
    x = np.uint64(seed) + (np.uint64(index) + np.uint64(1)) * np.uint64(_GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX1)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(_MIX2)
    x = x ^ (x >> np.uint64(31))
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


def sparse_sign_matrix(seed, n_rows, n_cols, sparsity, col_start=0, col_stop=None,
                       n_cols_total=None, xp=np):
    """Columns ``[col_start, col_stop)`` of a very sparse random sign matrix.

    Entry ``(i, j)`` is ``+sqrt(s / n_cols)`` with probability ``1/(2s)``,
    ``-sqrt(s / n_cols)`` with probability ``1/(2s)`` and ``0`` otherwise
    (Li, Hastie and Church 2006), with ``s = sparsity``. Each column has unit
    expected squared norm per row.

    Parameters
    ----------
    seed : int
        Stream key.
    n_rows : int
        Number of rows.
    n_cols : int
        Number of columns of the whole matrix (sets the scale).
    sparsity : float
        ``s >= 1``; ``s = 3`` is Achlioptas' sparse sign matrix.
    col_start, col_stop : int, default=0, None
        The column block to produce (``None`` means ``n_cols``).
    n_cols_total : int, default=None
        Row stride of the counter (defaults to ``n_cols``).
    xp : module, default=numpy
        ``numpy`` or ``cupy``.

    Returns
    -------
    block : array of shape (n_rows, col_stop - col_start)
        Dense block of the matrix.

    Examples
    --------
    >>> from skkernel.utils._hash_random import sparse_sign_matrix
    >>> sparse_sign_matrix(0, 4, 3, 3.0).shape
    (4, 3)
    """
    col_stop = n_cols if col_stop is None else col_stop
    stride = n_cols if n_cols_total is None else n_cols_total
    rows = xp.arange(n_rows, dtype=xp.int64)[:, None]
    cols = xp.arange(col_start, col_stop, dtype=xp.int64)[None, :]
    u = hash_uniform(seed, rows * stride + cols, xp=xp)
    half = 0.5 / sparsity
    value = np.sqrt(sparsity / n_cols)
    return xp.where(u < half, value, xp.where(u >= 1.0 - half, -value, 0.0))
