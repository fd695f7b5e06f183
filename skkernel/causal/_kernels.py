"""Balancing kernels and the balancing statistics of the weight dual.

Two computational steps, each one dispatch table:

* ``KERNEL_GRAM``: ``k(x_i, c_j)`` between rows and centres, for the Gaussian
  kernel ``exp(-gamma ||x - c||^2)`` and the exponential kernel
  ``exp(-gamma ||x - c||)`` (Euclidean norm, as the authors' code; not
  scikit-learn's L1 ``laplacian_kernel``);
* ``TILTED_STATISTICS``: the value and gradient of the entropy-balancing dual,
  ``log sum_i exp(b_i + a_i . lam)`` and the tilted mean of ``a_i``.
"""

import math

import numpy as np
from numba import prange

from ..backend import Dispatch, get_namespace, jit

KERNELS = ("rbf", "exponential")


def kernel_gram_reference(X, centers, kernel, gamma):
    """``k(x_i, c_j)`` written against the array's namespace (numpy, cupy)."""
    xp = get_namespace(X)
    squared = (xp.sum(X * X, axis=1)[:, None]
               + xp.sum(centers * centers, axis=1)[None, :] - 2.0 * (X @ centers.T))
    squared = xp.maximum(squared, 0.0)  # rounding can make a zero distance negative
    distance = squared if kernel == "rbf" else xp.sqrt(squared)
    return xp.exp(-gamma * distance)


@jit(parallel=True)
def _gram_numba(X, centers, exponential, gamma):
    n, d = X.shape
    m = centers.shape[0]
    out = np.empty((n, m))
    for i in prange(n):
        for j in range(m):
            squared = 0.0
            for t in range(d):
                diff = X[i, t] - centers[j, t]
                squared += diff * diff
            out[i, j] = math.exp(-gamma * (math.sqrt(squared) if exponential
                                           else squared))
    return out


def kernel_gram_numba(X, centers, kernel, gamma):
    return _gram_numba(np.ascontiguousarray(X, dtype=np.float64),
                       np.ascontiguousarray(centers, dtype=np.float64),
                       kernel == "exponential", float(gamma))


KERNEL_GRAM = Dispatch("kernel_gram", numpy=kernel_gram_reference,
                       numba=kernel_gram_numba)


def tilted_statistics_reference(A, b, lam):
    """Value ``log sum_i exp(b_i + A_i . lam)`` and its gradient.

    The gradient is the mean of the rows of ``A`` under the tilted weights
    ``softmax(b + A lam)``: for the balancing dual, ``A`` holds the centred
    kernel features of the observed rows and the gradient is the imbalance.
    """
    logits = b + A @ lam
    top = np.max(logits)
    tilted = np.exp(logits - top)
    total = np.sum(tilted)
    return top + np.log(total), (tilted / total) @ A


@jit
def tilted_statistics_numba(A, b, lam):
    n, m = A.shape
    logits = np.empty(n)
    top = -np.inf
    for i in range(n):
        value = b[i]
        for j in range(m):
            value += A[i, j] * lam[j]
        logits[i] = value
        top = max(top, value)
    total = 0.0
    gradient = np.zeros(m)
    for i in range(n):
        tilted = math.exp(logits[i] - top)
        total += tilted
        for j in range(m):
            gradient[j] += tilted * A[i, j]
    return top + math.log(total), gradient / total


TILTED_STATISTICS = Dispatch("tilted_statistics", numpy=tilted_statistics_reference,
                             numba=tilted_statistics_numba,
                             # the dual is solved on the host by scipy: the
                             # host's fastest kernel serves a GPU fit too
                             cupy=tilted_statistics_numba)
