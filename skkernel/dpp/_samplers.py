"""Sampling designs for weighted least squares (Nouy and Michel, 2023).

Every sampler returns a :class:`Design`: points, least-squares weights, the
pool indices for a finite basis, and the deviation ``||G - I||_2`` of the
weighted empirical Gram matrix ``G = (1/n) sum_i w_i psi(x_i) psi(x_i)^T``.
"""

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from ..backend import resolve_backend
from ._bases import OrthonormalBasis
from ._chain_rule import CHAIN_RULE

SAMPLINGS = (
    "iid_christoffel",
    "projection_dpp",
    "repeated_dpp",
    "volume_rescaled",
    "generalized_volume",
)


@dataclass
class Design:
    """A sampling design and its diagnostics.

    Parameters
    ----------
    points : ndarray of shape (n, dim)
        Sample points.
    weights : ndarray of shape (n,)
        Least-squares weights (``m / k_m`` except for volume-rescaled
        sampling, whose unbiased estimator is unweighted).
    indices : ndarray of shape (n,) or None
        Rows of the candidate pool for a finite basis, else ``None``.
    gram_deviation : float
        ``||G - I||_2`` of the weighted empirical Gram matrix.
    n_resamples : int, default=0
        Designs redrawn by conditioning before this one was kept.

    See Also
    --------
    sample_design : Draws a conditioned design.

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_repeated_dpp
    >>> design = sample_repeated_dpp(LegendreBasis(degree=2), 6, random_state=0)
    >>> design.points.shape, design.weights.shape, design.indices
    ((6, 1), (6,), None)
    """

    points: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    indices: np.ndarray | None = field(repr=False)
    gram_deviation: float
    n_resamples: int = 0


def gram_matrix(Psi, weights):
    """Weighted empirical Gram matrix ``(1/n) sum_i w_i psi_i psi_i^T``.

    Parameters
    ----------
    Psi : ndarray of shape (n, m)
        Orthonormal features at the points.
    weights : ndarray of shape (n,)
        Least-squares weights.

    Returns
    -------
    G : ndarray of shape (m, m)
        Its expectation is the identity under the optimal design.

    See Also
    --------
    gram_deviation : Its distance to the identity.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.dpp import gram_matrix
    >>> gram_matrix(np.eye(2) * np.sqrt(2), np.ones(2))
    array([[1., 0.],
           [0., 1.]])
    """
    return (Psi * weights[:, None]).T @ Psi / Psi.shape[0]


def gram_deviation(G):
    """Spectral norm ``||G - I||_2`` (1/2 or less: a stable design).

    Parameters
    ----------
    G : ndarray of shape (m, m)
        Symmetric Gram matrix.

    Returns
    -------
    deviation : float
        Largest absolute eigenvalue of ``G - I``.

    See Also
    --------
    sample_design : Redraws designs while the deviation is too large.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.dpp import gram_deviation
    >>> gram_deviation(np.diag([1.5, 0.8]))
    0.5
    """
    eigenvalues = np.linalg.eigvalsh(G - np.eye(G.shape[0]))
    return float(np.max(np.abs(eigenvalues)))


def _check_basis(basis):
    if not isinstance(basis, OrthonormalBasis):
        raise ValueError(
            "basis must be an OrthonormalBasis (for example LegendreBasis(...) or "
            f"FeatureMapBasis(...)), got {type(basis).__name__}."
        )
    return basis


def _check_n(n, basis):
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise ValueError(f"n_samples must be an integer, got {n!r}.")
    if n < basis.n_basis:
        raise ValueError(
            f"n_samples={n} is smaller than the number of basis functions "
            f"m={basis.n_basis}: weighted least squares needs n_samples >= m."
        )
    return int(n)


def _harmonic(k):
    return float(np.sum(1.0 / np.arange(1, k + 1))) if k > 0 else 0.0


def _draw_projection_dpps(basis, n_dpp, rng, backend):
    """``n_dpp`` independent projection-DPP samples of ``m`` points each.

    Returns a list of ``(points, indices, features)`` triples. Proposals for
    all samples are drawn in one batch (about ``1.3 m H_m`` each, enough for
    most runs); a sample that exhausts its share draws more on its own.
    """
    m = basis.n_basis
    chain_rule = CHAIN_RULE.implementation(backend)
    count = int(1.3 * m * _harmonic(m)) + 8
    X, idx, Psi = basis._propose(n_dpp * count, rng, "christoffel", backend)
    uniforms = rng.random_sample(n_dpp * count)
    samples = []
    for r in range(n_dpp):
        part = slice(r * count, (r + 1) * count)
        stream = (X[part], None if idx is None else idx[part], Psi[part],
                  uniforms[part])
        Q = np.zeros((m, m))
        t = 0
        chosen_parts = []
        while True:
            X_s, idx_s, Psi_s, u_s = stream
            chosen, t = chain_rule(Psi_s, np.einsum("ij,ij->i", Psi_s, Psi_s),
                                   u_s, Q, t)
            chosen_parts.append((X_s[chosen], None if idx_s is None else
                                 idx_s[chosen], Psi_s[chosen]))
            if t == m:
                break
            extra = int(1.3 * m * _harmonic(m - t)) + 8
            stream = (*basis._propose(extra, rng, "christoffel", backend),
                      rng.random_sample(extra))
        samples.append(_stack(chosen_parts))
    return samples


def _finish(points, indices, Psi, weights):
    return Design(points, weights, indices, gram_deviation(gram_matrix(Psi, weights)))


def _stack(parts):
    """Concatenate ``(points, indices, features)`` triples."""
    points = np.concatenate([p[0] for p in parts])
    indices = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
    return points, indices, np.concatenate([p[2] for p in parts])


def _permute(parts, rng):
    points, indices, Psi = _stack(parts)
    order = rng.permutation(points.shape[0])
    return points[order], None if indices is None else indices[order], Psi[order]


def _optimal_weights(basis, Psi):
    return basis.n_basis / np.einsum("ij,ij->i", Psi, Psi)


def _iid(basis, n, rng, backend):
    points, indices, Psi = basis._propose(n, rng, "christoffel", backend)
    return _finish(points, indices, Psi, _optimal_weights(basis, Psi))


def _projection(basis, n, rng, backend):
    points, indices, Psi = _draw_projection_dpps(basis, 1, rng, backend)[0]
    return _finish(points, indices, Psi, _optimal_weights(basis, Psi))


def _repeated(basis, n, rng, backend):
    m = basis.n_basis
    parts = _draw_projection_dpps(basis, n // m, rng, backend)
    if n % m:
        parts.append(basis._propose(n % m, rng, "christoffel", backend))
    points, indices, Psi = _stack(parts)
    return _finish(points, indices, Psi, _optimal_weights(basis, Psi))


def _volume(basis, n, rng, backend):
    parts = _draw_projection_dpps(basis, 1, rng, backend)
    if n > basis.n_basis:
        parts.append(basis._propose(n - basis.n_basis, rng, "measure"))
    points, indices, Psi = _permute(parts, rng)
    return _finish(points, indices, Psi, np.ones(n))


def _generalized(basis, n, rng, backend):
    parts = _draw_projection_dpps(basis, 1, rng, backend)
    if n > basis.n_basis:
        parts.append(basis._propose(n - basis.n_basis, rng, "christoffel", backend))
    points, indices, Psi = _permute(parts, rng)
    return _finish(points, indices, Psi, _optimal_weights(basis, Psi))


_SAMPLERS = {
    "iid_christoffel": _iid,
    "projection_dpp": _projection,
    "repeated_dpp": _repeated,
    "volume_rescaled": _volume,
    "generalized_volume": _generalized,
}


def _sample(sampling, basis, n, random_state, backend):
    basis = _check_basis(basis)
    n = basis.n_basis if sampling == "projection_dpp" and n is None else n
    n = _check_n(n, basis)
    return _SAMPLERS[sampling](basis, n, check_random_state(random_state),
                               resolve_backend(backend))


def sample_iid_christoffel(basis, n_samples, random_state=None):
    """I.i.d. optimal design: points from ``rho_m = (k_m / m) mu``.

    The weighted least-squares estimator with weights ``m / k_m`` is
    stable with high probability once ``n_samples`` is of order
    ``m log m`` (Cohen and Migliorati, 2017).

    Parameters
    ----------
    basis : OrthonormalBasis
        The approximation space.
    n_samples : int
        Number of points, at least ``basis.n_basis``.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    design : Design
        Points, weights ``m / k_m`` and ``||G - I||_2``.

    See Also
    --------
    sample_repeated_dpp : Fewer points for the same stability.

    References
    ----------
    .. [1] A. Cohen and G. Migliorati, "Optimal weighted least-squares
       methods", SMAI J. Comput. Math. 3 (2017) 181-203.

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_iid_christoffel
    >>> design = sample_iid_christoffel(LegendreBasis(degree=4), 50, random_state=0)
    >>> design.points.shape
    (50, 1)
    """
    return _sample("iid_christoffel", basis, n_samples, random_state, "numpy")


def sample_projection_dpp(basis, random_state=None, backend="auto"):
    """One sample of the projection DPP of the basis: ``m`` repulsive points.

    The joint density is ``det[psi_j(x_i)]^2 / m!`` with respect to
    ``mu^m``; every point has marginal ``rho_m``. Points are drawn by the
    chain rule of Hough, Krishnapur, Peres and Virag, each conditional by
    rejection from ``rho_m`` (continuous bases and finite pools alike).

    Parameters
    ----------
    basis : OrthonormalBasis
        The approximation space (its ``m`` sets the number of points).
    random_state : int, RandomState instance or None, default=None
        Seed. The numpy and numba backends give the same points.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Chain-rule and rejection implementation: the numpy reference or the
        numba kernels. The sampling is sequential and runs on the host;
        ``"cupy"`` runs the reference (a :class:`FeatureMapBasis` built with
        ``backend="cupy"`` has done its heavy orthonormalisation on the GPU).

    Returns
    -------
    design : Design
        ``m`` points with weights ``m / k_m``.

    See Also
    --------
    sample_repeated_dpp : Unions of independent DPP samples.

    Notes
    -----
    The expected number of proposals is ``m H_m ~ m log m`` and each costs
    ``O(m t)``, so a sample costs ``O(m^3 log m)`` after the basis is set up.
    On a finite pool this replaces the ``O(N m^2)`` sweep of the usual
    Gram-Schmidt sampler by rejection from the leverage scores.

    References
    ----------
    .. [1] J. B. Hough, M. Krishnapur, Y. Peres and B. Virag,
       "Determinantal processes and independence", Probab. Surveys 3 (2006).
    .. [2] A. Nouy and B. Michel, "Weighted least-squares approximation with
       determinantal point processes and generalized volume sampling",
       arXiv:2312.14057 (2023).

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_projection_dpp
    >>> design = sample_projection_dpp(LegendreBasis(degree=5), random_state=0)
    >>> design.points.shape
    (6, 1)
    """
    return _sample("projection_dpp", basis, None, random_state, backend)


def sample_repeated_dpp(basis, n_samples, random_state=None, backend="auto"):
    """Union of ``n_samples // m`` independent projection-DPP samples.

    Parameters
    ----------
    basis : OrthonormalBasis
        The approximation space.
    n_samples : int
        Number of points, at least ``m``. When it is not a multiple of
        ``m`` the remaining ``n_samples % m`` points are i.i.d. from
        ``rho_m``, which keeps every marginal equal to ``rho_m``.
    random_state : int, RandomState instance or None, default=None
        Seed.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Chain-rule implementation.

    Returns
    -------
    design : Design
        Points with weights ``m / k_m``.

    See Also
    --------
    sample_projection_dpp : One DPP sample.
    sample_design : With conditioning on ``||G - I||``.

    References
    ----------
    .. [1] Nouy, A. and Michel, B., "Weighted least-squares approximation
       with determinantal point processes and generalized volume sampling",
       arXiv:2312.14057 (2023).

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_repeated_dpp
    >>> design = sample_repeated_dpp(LegendreBasis(degree=4), 15, random_state=0)
    >>> design.points.shape
    (15, 1)
    """
    return _sample("repeated_dpp", basis, n_samples, random_state, backend)


def sample_volume_rescaled(basis, n_samples, random_state=None, backend="auto"):
    """Volume-rescaled sampling: density ``det(sum_i psi psi^T) prod mu``.

    By the Cauchy-Binet formula a draw is one projection-DPP sample placed at
    ``m`` uniformly random positions among ``n_samples``, the others i.i.d.
    from ``mu`` (Derezinski, Warmuth and Hsu). Plain (unweighted) least
    squares is unbiased under this law, so the weights are all 1.

    Parameters
    ----------
    basis : OrthonormalBasis
        The approximation space.
    n_samples : int
        Number of points, at least ``m``.
    random_state : int, RandomState instance or None, default=None
        Seed.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Chain-rule implementation.

    Returns
    -------
    design : Design
        Points with unit weights.

    See Also
    --------
    sample_generalized_volume : The weighted version of the paper.

    References
    ----------
    .. [1] M. Derezinski, M. K. Warmuth and D. Hsu, "Unbiased estimators for
       random design regression", JMLR 23(167) (2022).

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_volume_rescaled
    >>> design = sample_volume_rescaled(LegendreBasis(degree=3), 8, random_state=0)
    >>> design.weights.tolist() == [1.0] * 8
    True
    """
    return _sample("volume_rescaled", basis, n_samples, random_state, backend)


def sample_generalized_volume(basis, n_samples, random_state=None, backend="auto"):
    """Generalised volume-rescaled sampling with respect to ``rho_m``.

    Density ``det(sum_i w(x_i) psi(x_i) psi(x_i)^T) prod rho_m(dx_i)`` with
    ``w = m / k_m``: one projection-DPP sample at ``m`` random positions and
    ``n_samples - m`` i.i.d. points from ``rho_m``. Weighted least squares
    on it is unbiased for the ``L^2(mu)`` projection.

    Parameters
    ----------
    basis : OrthonormalBasis
        The approximation space.
    n_samples : int
        Number of points, at least ``m``.
    random_state : int, RandomState instance or None, default=None
        Seed.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Chain-rule implementation.

    Returns
    -------
    design : Design
        Points with weights ``m / k_m``.

    See Also
    --------
    sample_volume_rescaled : The same with respect to ``mu``.

    Notes
    -----
    The definition is derived from the abstract of [1]_ with the
    Cauchy-Binet identity; the paper's body was not available to us.

    References
    ----------
    .. [1] Nouy, A. and Michel, B., "Weighted least-squares approximation
       with determinantal point processes and generalized volume sampling",
       arXiv:2312.14057 (2023).

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_generalized_volume
    >>> basis = LegendreBasis(degree=3)
    >>> sample_generalized_volume(basis, 8, random_state=0).points.shape
    (8, 1)
    """
    return _sample("generalized_volume", basis, n_samples, random_state, backend)


def sample_design(basis, n_samples, sampling="repeated_dpp", stability_threshold=0.5,
                  max_resample=50, random_state=None, backend="auto"):
    """Draw a design, resampling while ``||G - I||_2 > stability_threshold``.

    Conditioning on a stable Gram matrix costs no function evaluations:
    ``G`` depends on the points only. After ``max_resample`` redraws the
    design with the smallest deviation is kept and a warning is issued.

    Parameters
    ----------
    basis : OrthonormalBasis
        The approximation space.
    n_samples : int
        Number of points, at least ``m`` (ignored for ``"projection_dpp"``).
    sampling : {"iid_christoffel", "projection_dpp", "repeated_dpp", \
            "volume_rescaled", "generalized_volume"}, default="repeated_dpp"
        The sampler.
    stability_threshold : float or None, default=0.5
        ``delta`` of the conditioning; ``None`` disables it.
    max_resample : int, default=50
        Most redraws.
    random_state : int, RandomState instance or None, default=None
        Seed.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        Chain-rule implementation.

    Returns
    -------
    design : Design
        The kept design; ``n_resamples`` counts the redraws.

    See Also
    --------
    sample_repeated_dpp, sample_iid_christoffel : The samplers.

    Notes
    -----
    The rule (redraw the whole design while the deviation exceeds ``delta``,
    default 1/2) follows the conditioned estimator of Cohen and Migliorati
    as implemented in Nouy's ApproximationToolbox; the exact rule of [1]_ was
    not available to us.

    References
    ----------
    .. [1] Nouy, A. and Michel, B., "Weighted least-squares approximation
       with determinantal point processes and generalized volume sampling",
       arXiv:2312.14057 (2023).

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, sample_design
    >>> design = sample_design(LegendreBasis(degree=4), 40, random_state=0)
    >>> design.gram_deviation <= 0.5
    True
    """
    if sampling not in SAMPLINGS:
        raise ValueError(
            f"sampling must be one of {list(SAMPLINGS)}, got {sampling!r}."
        )
    if stability_threshold is not None and (
        not isinstance(stability_threshold, numbers.Real)
        or not stability_threshold > 0
    ):
        raise ValueError(
            "stability_threshold must be a positive float or None, got "
            f"{stability_threshold!r}."
        )
    if (not isinstance(max_resample, numbers.Integral) or isinstance(max_resample, bool)
            or max_resample < 0):
        raise ValueError(f"max_resample must be an integer >= 0, got {max_resample!r}.")
    basis = _check_basis(basis)
    n = basis.n_basis if sampling == "projection_dpp" else _check_n(n_samples, basis)
    backend = resolve_backend(backend)
    rng = check_random_state(random_state)
    best = None
    for attempt in range(max_resample + 1):
        design = _SAMPLERS[sampling](basis, n, rng, backend)
        design.n_resamples = attempt
        if best is None or design.gram_deviation < best.gram_deviation:
            best = design
        if stability_threshold is None or design.gram_deviation <= stability_threshold:
            return design
    warnings.warn(
        f"No {sampling} design of {n} points reached ||G - I|| <= "
        f"{stability_threshold} in {max_resample + 1} draws; keeping the best "
        f"one (deviation {best.gram_deviation:.3g}). Increase n_samples or "
        "max_resample.",
        UserWarning,
        stacklevel=2,
    )
    best.n_resamples = max_resample
    return best
