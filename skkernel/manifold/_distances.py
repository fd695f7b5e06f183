"""Heat-geodesic dissimilarities (Huguet et al., 2023, Def. 4.1).

``d_t(x, y)^2 = -4t log H_t(x, y) + sigma 4t log((H_t(x, x) + H_t(y, y)) / 2)``

The first term is Varadhan's formula; the second is the Harnack (volume)
regularisation with ``sigma = harnack``, where ``H_t(x, x)`` estimates
``1 / V(x, sqrt t)``. Squared distances below zero are clipped, then
``d <- d ** power``. ``H`` below zero (round-off) is clipped, and ``1e-16``
is added inside the logarithm as in the reference code, which caps the
distances at ``sqrt(147 t)`` where the heat kernel underflows.
"""

import numpy as np
from numba import prange

from ..backend import Dispatch, jit

LOG_FLOOR = 1e-16


def heat_geodesic_reference(H, diag_rows, diag_cols, t, harnack, power, xp=np):
    """Readable formula on numpy or cupy arrays; returns a new array."""
    H = xp.clip(H, 0.0, None)
    sq = -4.0 * t * xp.log(H + LOG_FLOOR)
    if harnack != 0.0:
        volume = 0.5 * (diag_rows[:, None] + diag_cols[None, :])
        sq = sq + harnack * 4.0 * t * xp.log(xp.clip(volume, 0.0, None) + LOG_FLOOR)
    return xp.sqrt(xp.clip(sq, 0.0, None)) ** power


@jit(parallel=True)
def heat_geodesic_numba(H, diag_rows, diag_cols, t, harnack, power):
    """Numba twin of :func:`heat_geodesic_reference`, in place on ``H``."""
    n, m = H.shape
    for i in prange(n):
        for j in range(m):
            h = H[i, j]
            if h < 0.0:
                h = 0.0
            sq = -4.0 * t * np.log(h + 1e-16)
            if harnack != 0.0:
                v = 0.5 * (diag_rows[i] + diag_cols[j])
                if v < 0.0:
                    v = 0.0
                sq += harnack * 4.0 * t * np.log(v + 1e-16)
            if sq < 0.0:
                sq = 0.0
            H[i, j] = np.sqrt(sq) ** power
    return H


def _heat_geodesic_numba(H, diag_rows, diag_cols, t, harnack, power):
    return heat_geodesic_numba(H, diag_rows, diag_cols, float(t), float(harnack),
                               float(power))


#: Distances from heat-kernel values. The heat columns come back to the host,
#: so a cupy fit runs this step there with the numba kernel (in place on ``H``).
HEAT_GEODESIC = Dispatch("heat-geodesic distances", numpy=heat_geodesic_reference,
                         numba=_heat_geodesic_numba, cupy=_heat_geodesic_numba)


def triplet_denoise(D, D_ref_rows, rho, scale=1.0):
    """``(1 - rho) D + rho * scale * ||D_i. - D_ref_j.||`` (HeatGeo's denoising).

    Row ``i`` of ``D`` and row ``j`` of ``D_ref_rows`` both hold distances to
    the same reference samples. ``scale`` compensates for a subsample of
    references (``sqrt(n / n_references)`` with landmarks).
    """
    if rho == 0.0:
        return D
    sq = ((D * D).sum(axis=1)[:, None] + (D_ref_rows * D_ref_rows).sum(axis=1)[None, :]
          - 2.0 * D @ D_ref_rows.T)
    triplet = np.sqrt(np.clip(sq, 0.0, None))
    return (1.0 - rho) * D + rho * scale * triplet
