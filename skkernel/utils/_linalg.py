"""Dense linear-algebra helpers shared by the sketches and the linear models.

Everything here is written against an array module ``xp`` (numpy or cupy),
so the same lines run on the CPU and on the GPU.
"""

from contextlib import contextmanager

import numpy as np
from threadpoolctl import threadpool_limits

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
    with threadpool_limits(limits=1, user_api="blas"):
        yield


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
