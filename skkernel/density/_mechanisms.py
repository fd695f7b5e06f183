"""Privacy engineering in one place: sensitivities, noise scales, samplers.

Every private release of :mod:`skkernel.density` is a vector of **integer**
statistics (tree counts, or random features rounded to a public grid and
summed) plus integer noise:

* ``delta == 0``: the discrete Laplace (two-sided geometric) mechanism of
  Ghosh, Roughgarden and Sundararajan, ``P(Z = z) ~ exp(-|z| / t)`` with
  ``t = l1_sensitivity / epsilon``: pure epsilon-DP.
* ``delta > 0``: the discrete Gaussian of Canonne, Kamath and Steinke,
  ``P(Z = z) ~ exp(-z^2 / (2 sigma^2))``, calibrated through zero-concentrated
  DP: ``rho = l2_sensitivity^2 / (2 sigma^2)`` and
  ``epsilon = rho + 2 sqrt(rho log(1/delta))`` (Bun and Steinke, Prop. 1.3).

Why integers: Mironov (CCS 2012) showed that the textbook floating-point
Laplace mechanism leaks its input through the set of doubles it can output.
Here the output is ``statistic + noise`` on the integers, whose support does
not depend on the data, so there is nothing of that kind to read; the public
grid turns the integers back into real values. The samplers draw geometric
variables with numpy (inversion with float logarithms), so their probabilities
are exact only to about 1e-16 relative, unlike OpenDP's exact samplers; the
module is the one place to swap in such a sampler.

Neighbouring data sets differ by *replacing* one point (the number of points
``n`` is public); every sensitivity below is for that relation.
"""

import math

import numpy as np

#: Bits of the public grid random features are rounded to: a feature of
#: magnitude ``<= bound`` becomes an integer of magnitude ``<= 2**FEATURE_BITS``
#: (the rounding error, ``bound / 2**21``, is far below any noise).
FEATURE_BITS = 20


def zcdp_rho(epsilon, delta):
    """The largest rho such that rho-zCDP implies (epsilon, delta)-DP.

    Solves ``epsilon = rho + 2 sqrt(rho log(1/delta))`` for ``rho``.
    """
    log_inv_delta = math.log(1.0 / delta)
    root = math.sqrt(log_inv_delta + epsilon) - math.sqrt(log_inv_delta)
    return root * root


def noise_scale(epsilon, delta, l1_sensitivity, l2_sensitivity):
    """The mechanism and its noise scale for one release.

    Parameters
    ----------
    epsilon : float
        Privacy budget of the release (> 0).
    delta : float
        0 for pure DP (discrete Laplace), else the Gaussian mechanism's delta.
    l1_sensitivity, l2_sensitivity : float
        Largest change of the integer statistic, in l1 and l2 norm, when one
        point is replaced.

    Returns
    -------
    mechanism : {"laplace", "gaussian"}
    scale : float
        Laplace ``t`` (``P ~ exp(-|z|/t)``) or Gaussian ``sigma``.
    """
    if delta == 0:
        return "laplace", l1_sensitivity / epsilon
    return "gaussian", l2_sensitivity / math.sqrt(2.0 * zcdp_rho(epsilon, delta))


def noise_std(mechanism, scale):
    """Standard deviation of one noise coordinate (about ``sqrt(2) t``, ``sigma``)."""
    if mechanism == "laplace":
        q = math.exp(-1.0 / scale)
        return math.sqrt(2.0 * q) / (1.0 - q)
    return scale


def discrete_laplace(scale, size, rng):
    """Integers with ``P(z) ~ exp(-|z| / scale)``: difference of two geometrics."""
    p = -math.expm1(-1.0 / scale)
    return rng.geometric(p, size=size) - rng.geometric(p, size=size)


def discrete_gaussian(sigma, size, rng):
    """Integers with ``P(z) ~ exp(-z^2 / (2 sigma^2))`` (CKS, Algorithm 3).

    Rejection from a discrete Laplace of scale ``floor(sigma) + 1``; the
    acceptance test uses a floating-point uniform.
    """
    t = math.floor(sigma) + 1.0
    out = np.empty(int(np.prod(size)), dtype=np.int64)
    filled = 0
    while filled < out.size:
        want = max(16, int(1.5 * (out.size - filled)))
        y = discrete_laplace(t, want, rng)
        accept = rng.random_sample(want) < np.exp(
            -((np.abs(y) - sigma * sigma / t) ** 2) / (2.0 * sigma * sigma))
        y = y[accept][: out.size - filled]
        out[filled:filled + y.size] = y
        filled += y.size
    return out.reshape(size)


def release(statistic, epsilon, delta, l1_sensitivity, l2_sensitivity, rng):
    """``statistic + noise``: the one private release of an estimator.

    Parameters
    ----------
    statistic : ndarray of int64
        The exact integer statistic.
    epsilon, delta, l1_sensitivity, l2_sensitivity : float
        As in :func:`noise_scale`.
    rng : numpy.random.RandomState
        Source of the noise.

    Returns
    -------
    noisy : ndarray of int64
        Same shape as ``statistic``.
    """
    mechanism, scale = noise_scale(epsilon, delta, l1_sensitivity, l2_sensitivity)
    sampler = discrete_laplace if mechanism == "laplace" else discrete_gaussian
    return statistic + sampler(scale, statistic.shape, rng)


def check_radius(X, data_radius, clip, norm, name):
    """Refuse (or, with ``clip=True``, project) points outside the declared domain.

    ``norm="l2"``: the ball ``||x||_2 <= R`` (points are scaled onto it);
    ``norm="linf"``: the box ``|x_j| <= R`` (coordinates are clipped).
    Either projection maps each point on its own, so it keeps the guarantee.
    """
    if data_radius is None:
        return X
    if norm == "l2":
        norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    else:
        norms = np.abs(X).max(axis=1)
    if not np.any(norms > data_radius):
        return X
    if not clip:
        raise ValueError(
            f"{name}: X has points outside data_radius={data_radius} (largest "
            f"{'l2 norm' if norm == 'l2' else 'absolute coordinate'} "
            f"{norms.max():.4g}). The privacy guarantee is stated for data in "
            "that domain: rescale X, declare a larger data_radius (never one "
            "read off the private data), or pass clip=True to project each "
            "point onto the domain."
        )
    if norm == "l2":
        return X * np.minimum(1.0, data_radius / np.maximum(norms, 1e-300))[:, None]
    return np.clip(X, -data_radius, data_radius)


def median_distance_range(data_radius):
    """Public range ``[lo, hi]`` of ``log2`` distances for the private median.

    ``log2(2R) - 20`` to ``log2(2R)`` with a declared radius ``R`` (no
    distance exceeds ``2R``), else ``-10`` to ``10`` (distances from about
    1e-3 to 1e3).
    """
    if data_radius is not None:
        hi = math.log2(2.0 * data_radius)
        return hi - 20.0, hi
    return -10.0, 10.0


def private_median_distance(X, epsilon, data_radius, rng):
    """An epsilon-DP median of the distances between disjoint pairs of points.

    The points are paired by a public random permutation, so each point is
    in one pair and replacing it changes one of the ``N = n // 2``
    distances. Their ``log2``, clipped to :func:`median_distance_range`,
    go through the exponential mechanism for quantiles (Smith, STOC 2011;
    Gillenwater, Joseph and Kulesza, ICML 2021): the gap between the
    ``i``-th and ``i+1``-th sorted value is drawn with probability
    proportional to its length times ``exp(-epsilon |i - N/2| / 2)`` (the
    rank utility has sensitivity 1), and the output is uniform in it. The
    two ends of the range are also candidates, atoms of weight one octave
    with the same utility, so distances beyond the range give its end
    rather than a uniform draw.

    Returns
    -------
    median : float
        The private median distance.
    """
    lo, hi = median_distance_range(data_radius)
    n_pairs = X.shape[0] // 2
    order = rng.permutation(X.shape[0])[: 2 * n_pairs]
    diff = X[order[0::2]] - X[order[1::2]]
    with np.errstate(divide="ignore"):
        logs = np.sort(np.clip(np.log2(np.sqrt(np.einsum("ij,ij->i", diff, diff))),
                               lo, hi))
    edges = np.concatenate([[lo], logs, [hi]])
    # Utility of a value v: -max(0, #below v - N/2, #above v - N/2). The open
    # gaps have weight (length) x exp(epsilon u / 2); the two ends are atoms
    # of weight one octave, so distances beyond the range pick an end (and
    # the caller warns) instead of a uniform draw over the range.
    half = n_pairs / 2.0
    gap_utility = -np.abs(np.arange(n_pairs + 1) - half)
    at_lo = np.searchsorted(logs, lo, side="right")
    at_hi = n_pairs - np.searchsorted(logs, hi, side="left")
    end_utility = -np.maximum(0.0, np.array([n_pairs - at_lo, n_pairs - at_hi]) - half)
    with np.errstate(divide="ignore"):
        logits = np.concatenate([np.log(np.diff(edges)), [0.0, 0.0]]) + 0.5 * epsilon \
            * np.concatenate([gap_utility, end_utility])
    weights = np.exp(logits - logits.max())
    pick = int(rng.choice(weights.size, p=weights / weights.sum()))
    if pick == n_pairs + 1:
        return float(2.0**lo)
    if pick == n_pairs + 2:
        return float(2.0**hi)
    return float(2.0 ** rng.uniform(edges[pick], edges[pick + 1]))
