"""Toy manifolds with ground-truth geodesics (the heat-geodesic paper's data).

Both generators reproduce the HeatGeo experiment classes draw for draw from
one ``RandomState`` (``SwissRollStretch`` and ``TreePhate`` in the authors'
``experiments/datasets/toy_dataset.py``, which seed numpy's global state).
"""

from numbers import Integral, Real

import numpy as np
from scipy.stats import special_ortho_group
from sklearn.utils import check_random_state

from ..base import Interval, validate_parameter_constraints


def make_stretched_swiss_roll(n_samples=2000, *, noise=0.1, width=5.0,
                              n_features=10, random_state=42):
    """Swiss roll whose ground truth accounts for the stretching of ``t``.

    ``t ~ U(3 pi / 2, 9 pi / 2)``, ``h ~ U(0, width)``, points
    ``(t cos t, h, t sin t)`` rotated into ``n_features`` dimensions (a
    random rotation) plus Gaussian noise of standard deviation ``noise``.
    The true geodesic distance between two points is the Euclidean distance
    between their rows of ``unrolled``. This is the stretched Swiss roll of
    the heat-geodesic paper's experiments (Huguet et al., NeurIPS 2023).

    Parameters
    ----------
    n_samples : int, default=2000
        Number of points.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added in every dimension.
    width : float, default=5.0
        Width of the roll (range of ``h``).
    n_features : int, default=10
        Dimension of the data (at least 3); the roll is rotated at random
        into it when it is not 3.
    random_state : int, RandomState instance or None, default=42
        Seed (42 reproduces the paper's data).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Noisy data.
    unrolled : ndarray of shape (n_samples, 2)
        ``(arc length of t, h)``: Euclidean distances between these rows
        are the true geodesic distances.
    t : ndarray of shape (n_samples,)
        Position along the roll (for colouring).

    See Also
    --------
    make_dla_tree : A branching manifold with ground truth.
    sklearn.datasets.make_swiss_roll : The unstretched Swiss roll in 3-D.

    Examples
    --------
    >>> from skkernel.datasets import make_stretched_swiss_roll
    >>> X, unrolled, t = make_stretched_swiss_roll(500, random_state=0)
    >>> X.shape, unrolled.shape
    ((500, 10), (500, 2))
    """
    validate_parameter_constraints(
        {"n_samples": [Interval(Integral, 1, None)],
         "noise": [Interval(Real, 0, None, closed="left")],
         "width": [Interval(Real, 0, None, closed="neither")],
         "n_features": [Interval(Integral, 3, None)]},
        {"n_samples": n_samples, "noise": noise, "width": width,
         "n_features": n_features}, "make_stretched_swiss_roll",
    )
    rng = check_random_state(random_state)
    t = 3 * np.pi / 2 * (1 + 2 * rng.rand(1, n_samples))
    h = width * rng.rand(1, n_samples)
    X = np.concatenate((t * np.cos(t), h, t * np.sin(t))).T
    if n_features != 3:
        rotation = special_ortho_group.rvs(n_features, random_state=rng)[:3]
        X = X @ rotation
    X = X + noise * rng.randn(n_samples, n_features)
    t = t.ravel()
    arc = 0.5 * (np.sqrt(t**2 + 1) * t + np.arcsinh(t))
    return X, np.column_stack([arc, h.ravel()]), t


def make_dla_tree(n_branches=5, branch_length=500, *, n_features=10, noise=1.0,
                  random_state=42):
    """PHATE's diffusion-limited-aggregation tree with noise ``10 * noise``.

    Each branch is a cumulative sum of ``U(-1, 1)`` steps starting from a
    random point of the first branch (``phate.tree.gen_dla`` with
    ``sigma=0``), then Gaussian noise of standard deviation ``10 * noise``
    is added, as in the heat-geodesic paper's ``TreePhate`` (its sweep uses
    ``noise`` 0.1, 0.5 and 1). The ground-truth geodesics are the shortest
    paths of a nearest-neighbour graph of the noiseless tree ``X_clean``,
    for instance ``Isomap(n_neighbors=10).fit(X_clean).dist_matrix_``.

    Parameters
    ----------
    n_branches : int, default=5
        Number of branches.
    branch_length : int, default=500
        Points per branch.
    n_features : int, default=10
        Dimension of the data.
    noise : float, default=1.0
        The noise's standard deviation is ``10 * noise``.
    random_state : int, RandomState instance or None, default=42
        Seed (42 reproduces the paper's data).

    Returns
    -------
    X : ndarray of shape (n_branches * branch_length, n_features)
        Noisy data.
    X_clean : ndarray of the same shape
        The noiseless tree, from which the true geodesics are computed.
    labels : ndarray of shape (n_branches * branch_length,)
        Branch of each point.

    See Also
    --------
    make_stretched_swiss_roll : A manifold with closed-form geodesics.

    Examples
    --------
    >>> from skkernel.datasets import make_dla_tree
    >>> X, X_clean, labels = make_dla_tree(3, 100, noise=0.1, random_state=0)
    >>> X.shape, int(labels.max())
    ((300, 10), 2)
    """
    validate_parameter_constraints(
        {"n_branches": [Interval(Integral, 1, None)],
         "branch_length": [Interval(Integral, 1, None)],
         "n_features": [Interval(Integral, 1, None)],
         "noise": [Interval(Real, 0, None, closed="left")]},
        {"n_branches": n_branches, "branch_length": branch_length,
         "n_features": n_features, "noise": noise}, "make_dla_tree",
    )
    rng = check_random_state(random_state)
    M = np.cumsum(-1 + 2 * rng.rand(branch_length, n_features), 0)
    for _ in range(n_branches - 1):
        start = rng.randint(branch_length)
        branch = np.cumsum(-1 + 2 * rng.rand(branch_length, n_features), 0)
        M = np.concatenate([M, branch + M[start, :]])
    M = M + rng.normal(0, 0, M.shape)  # gen_dla's sigma=0 draw, kept for parity
    X = M + rng.normal(0, 10 * noise, M.shape)
    labels = np.repeat(np.arange(n_branches), branch_length)
    return X, M, labels
