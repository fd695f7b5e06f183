"""Dense linear-algebra helpers shared by the sketches and the linear models.

Everything here is written against an array module ``xp`` (numpy or cupy),
so the same lines run on the CPU and on the GPU.
"""

import functools
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

from ..backend import to_cpu

# Relative singular-value threshold below which a direction counts as null,
# as a multiple of numpy's ``max(shape) * eps``.
RANK_RTOL_FACTOR = 10.0


@contextmanager
def small_factorization():
    """One BLAS thread for QR/SVD of small or skinny matrices.

    Threaded LAPACK QR of an ``m x d`` sketch or a tall ``n x 20`` matrix is
    dominated by thread synchronisation: on 2 shared cores we measured it
    5-10x slower than one thread. The big level-2/3 work elsewhere keeps all
    threads.
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """One scan of the loaded BLAS libraries per process (about 9 ms);
    limits set through it afterwards cost microseconds."""
    return ThreadpoolController()


# Entries of A below which a row block is not worth a thread of its own.
_GRAM_BLOCK_MIN_ENTRIES = 2**20
# n d^2 below which one threaded syrk is kept: the blocks' fixed costs on a
# first call (the library scan, a new thread, its BLAS buffers: 10-30 ms)
# outweighed the gain at 100,000 x 200 (first fits in fresh processes,
# paired: 0.185-0.205 s against 0.173-0.177 s).
_GRAM_BLOCK_MIN_FLOPS = 2e10


def gram(A, xp=np):
    """``A^T A``; on the CPU, row blocks in parallel, one BLAS thread each.

    OpenBLAS threads one ``syrk`` over blocks of the ``d x d`` output and
    synchronises them; on 2 cores it ran at 1.6x one thread, and in about
    one process in five at 1.2x (200,000 x 500: 0.65 s, or 0.84-0.90 s,
    against 1.04 s). Summing the Grams of ``T`` row blocks, each computed by
    a one-thread ``syrk`` in its own Python thread (numpy releases the GIL),
    took 0.55-0.61 s in every process, the slow ones included (first fits:
    0.94-1.01 s against 1.12-1.20 s, paired). Below ``n d^2 = 2e10`` one
    ``syrk`` is kept (see ``_GRAM_BLOCK_MIN_FLOPS``). ``T`` is the
    number of BLAS threads in force, so a user's ``threadpool_limits(1)``
    keeps one thread. The sum's rounding differs from one ``syrk``'s by
    about ``eps ||A||^2``.
    """
    n, d = A.shape
    if xp is not np or n < 2 * d or n * d * d < _GRAM_BLOCK_MIN_FLOPS:
        return A.T @ A
    controller = _blas_controller().select(user_api="blas")
    threads = max((info["num_threads"] for info in controller.info()), default=1)
    n_blocks = int(min(threads, n * d // _GRAM_BLOCK_MIN_ENTRIES, n // d))
    if n_blocks < 2:
        return A.T @ A
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    blocks = [A[start:stop] for start, stop in zip(edges[:-1], edges[1:])]
    with controller.limit(limits=1), ThreadPoolExecutor(n_blocks - 1) as pool:
        others = [pool.submit(_block_gram, block) for block in blocks[1:]]
        G = _block_gram(blocks[0])
        for future in others:
            G += future.result()
    return G


def _block_gram(block):
    return block.T @ block  # numpy calls syrk for this product


def rank_cutoff(shape):
    """Relative cut-off ``max(shape) * eps * RANK_RTOL_FACTOR`` of the rank."""
    return max(shape) * np.finfo(np.float64).eps * RANK_RTOL_FACTOR


def numerical_rank(singular_values, shape):
    """Number of singular values above ``s_max * rank_cutoff(shape)``.

    numpy's ``matrix_rank`` rule with a margin of ``RANK_RTOL_FACTOR``;
    ``singular_values`` are in decreasing order (host or device).
    """
    s = to_cpu(singular_values)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.count_nonzero(s > s[0] * rank_cutoff(shape)))


def range_basis_factor(A, xp):
    """``P`` (d x k) with ``A P`` an orthonormal basis of ``range(A)``.

    From ``A = Q R`` and ``R = U S V^T``: ``P = V_k / S_k`` with ``k`` the
    numerical rank, so rank deficiency is handled.
    """
    with small_factorization():
        R = xp.linalg.qr(A, mode="r")
        _, s, Vt = xp.linalg.svd(R, full_matrices=False)
    k = numerical_rank(s, A.shape)
    return Vt[:k].T / s[:k]


def exact_leverage_scores(A, xp):
    """Leverage scores: squared row norms of an orthonormal basis of ``range(A)``."""
    if A.shape[0] == 0:
        return xp.zeros(0)
    Z = A @ range_basis_factor(A, xp)
    return (Z * Z).sum(axis=1)
