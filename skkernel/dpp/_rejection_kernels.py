"""Numba twins of the density ratios used by the univariate rejection samplers.

Each kernel computes, for proposal ``x[i]`` and function index ``ks[i]``, the
ratio of the target ``phi_k^2 mu`` to the family's proposal density, by the
same recurrences as the numpy reference in ``_bases.py`` but only up to
``ks[i]`` for each proposal (the reference evaluates all functions up to
``max(ks)`` at every proposal).
"""

import numpy as np

from ..backend import jit


@jit
def _legendre_ratio(t, ks, out):
    # (2k + 1) P_k(t)^2 / 2 over the arcsine density 1 / (pi sqrt(1 - t^2)).
    for i in range(t.shape[0]):
        k = ks[i]
        p_prev, p = 0.0, 1.0
        for j in range(k):
            p_prev, p = p, ((2 * j + 1) * t[i] * p - j * p_prev) / (j + 1)
        out[i] = (2 * k + 1) * p * p * np.pi * np.sqrt(1.0 - t[i] * t[i]) / 2


@jit
def _hermite_ratio(x, ks, out):
    # h_k(x)^2 phi(x) over the Cauchy(0, sqrt(k + 1)) density, through the
    # Hermite functions h_k sqrt(phi).
    for i in range(x.shape[0]):
        k = ks[i]
        g_prev = 0.0
        g = np.exp(-x[i] * x[i] / 4) / (2 * np.pi) ** 0.25
        for j in range(k):
            g_prev, g = g, (x[i] * g - np.sqrt(j) * g_prev) / np.sqrt(j + 1)
        scale = np.sqrt(k + 1.0)
        cauchy = 1.0 / (np.pi * scale * (1 + (x[i] / scale) ** 2))
        out[i] = g * g / cauchy


@jit
def _trigonometric_ratio(t, ks, out):
    # phi_k(t)^2 over the uniform density.
    for i in range(t.shape[0]):
        k = ks[i]
        if k == 0:
            out[i] = 1.0
        else:
            angle = 2 * np.pi * ((k + 1) // 2) * t[i]
            wave = np.cos(angle) if k % 2 else np.sin(angle)
            out[i] = 2.0 * wave * wave


_KERNELS = {
    "legendre": _legendre_ratio,
    "hermite": _hermite_ratio,
    "trigonometric": _trigonometric_ratio,
}


def ratio_numba(family_name, x, ks):
    """Density ratios of ``family_name`` at proposals ``x`` for indices ``ks``.

    Parameters
    ----------
    family_name : {"legendre", "hermite", "trigonometric"}
        Univariate family.
    x : ndarray of shape (n,)
        Proposals in the family's reference interval.
    ks : ndarray of int64, shape (n,)
        Function index of each proposal.

    Returns
    -------
    ratio : ndarray of shape (n,)
        Same values as the family's numpy ``ratio``, up to rounding.
    """
    out = np.empty(x.shape[0])
    _KERNELS[family_name](np.ascontiguousarray(x, dtype=np.float64),
                          np.ascontiguousarray(ks, dtype=np.int64), out)
    return out
