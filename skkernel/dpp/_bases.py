"""Orthonormal bases and their inverse Christoffel functions.

A basis ``phi_1..phi_m`` is orthonormal in ``L^2(mu)``; its inverse
Christoffel function is ``k_m(x) = sum_j phi_j(x)^2`` and integrates to ``m``
against ``mu``. The optimal sampling density of Cohen and Migliorati is
``rho_m = (k_m / m) mu`` and the matching least-squares weights are
``m / k_m``. Continuous bases are tensor products of a univariate family
(Legendre, Hermite, trigonometric) over an index set; a finite basis is a
user-supplied feature map orthonormalised on a candidate pool.
"""

import functools
import math
import numbers

import numpy as np
import scipy.linalg
from sklearn.utils import check_random_state

from ..backend import Dispatch, get_array_module, resolve_backend, to_cpu, to_device
from ._rejection_kernels import ratio_numba

EXTRAPOLATIONS = ("error", "constant", "continue")

# ----------------------------------------------------------- univariate families


def _ratio_reference(family, x, ks):
    return family.ratio(x, ks)


def _ratio_numba(family, x, ks):
    return ratio_numba(family.name, x, ks)


# The density ratios of the rejection samplers: numpy's evaluate every
# function up to max(ks) at each proposal, numba's only up to its own k.
_DENSITY_RATIO = Dispatch("rejection density ratio", numpy=_ratio_reference,
                          numba=_ratio_numba)


def _rejection(ks, rng, family, backend="numpy", draws_per_round=4):
    """One draw from ``phi_k^2 mu`` for every ``k`` in ``ks`` (exact rejection).

    ``family.propose(ks, rng)`` draws from a proposal law ``g_k``,
    ``family.ratio(x, ks)`` is the density ratio ``phi_k^2 mu / g_k`` (its
    numba twin in ``_rejection_kernels`` on the numba backend) and
    ``family.bound(ks)`` bounds it; a proposal is kept with probability
    ``ratio / bound``. Every pending item gets ``draws_per_round`` proposals
    per round and keeps the first accepted one. All backends consume the
    same random numbers.
    """
    ratio = _DENSITY_RATIO.implementation(backend)
    ks = np.asarray(ks, dtype=np.int64)
    out = np.empty(ks.shape[0])
    pending = np.arange(ks.shape[0])
    while pending.size:
        k = np.repeat(ks[pending], draws_per_round)
        x = family.propose(k, rng)
        ok = rng.random_sample(k.size) * family.bound(k) < ratio(family, x, k)
        ok = ok.reshape(-1, draws_per_round)
        x = x.reshape(-1, draws_per_round)
        hit = ok.any(axis=1)
        first = ok.argmax(axis=1)
        out[pending[hit]] = x[hit, first[hit]]
        pending = pending[~hit]
    return out


def _pick(values, ks):
    """``values[i, ks[i]]`` for every row."""
    return values[np.arange(ks.shape[0]), ks]


class _Legendre:
    """Orthonormal Legendre polynomials ``sqrt(2k+1) P_k`` for ``dt/2`` on [-1, 1]."""

    name = "legendre"
    bounded = True

    @staticmethod
    def degree_of(j):
        return np.asarray(j)

    @staticmethod
    def n_functions(degree):
        return degree + 1

    @staticmethod
    def evaluate(t, n):
        out = np.empty((n, t.shape[0]))  # rows are contiguous: fill, transpose
        p_prev, p = np.zeros_like(t), np.ones_like(t)
        for k in range(n):
            np.multiply(np.sqrt(2 * k + 1), p, out=out[k])
            p_prev, p = p, ((2 * k + 1) * t * p - k * p_prev) / (k + 1)
        return out.T

    @staticmethod
    def sample_measure(n, rng):
        return rng.uniform(-1.0, 1.0, n)

    # Draws from p_k^2 dt/2 use the arcsine law dt / (pi sqrt(1 - t^2)) as
    # proposal. By Bernstein's inequality sqrt(1 - t^2) P_k(t)^2 <= 2 / (pi k),
    # so the ratio is at most (2k + 1) / k for k >= 1, and pi / 2 for k = 0.
    @staticmethod
    def propose(ks, rng):
        return np.cos(np.pi * rng.random_sample(ks.shape[0]))

    @classmethod
    def ratio(cls, t, ks):
        values = cls.evaluate(t, int(ks.max()) + 1)
        return _pick(values, ks) ** 2 * np.pi * np.sqrt(1 - t * t) / 2

    @staticmethod
    def bound(ks):
        return np.where(ks == 0, np.pi / 2, (2 * ks + 1) / np.maximum(ks, 1))


class _Trigonometric:
    """``1, sqrt2 cos(2 pi q t), sqrt2 sin(2 pi q t)`` for ``dt`` on [0, 1)."""

    name = "trigonometric"
    bounded = True

    @staticmethod
    def degree_of(j):
        return (np.asarray(j) + 1) // 2

    @staticmethod
    def n_functions(degree):
        return 2 * degree + 1

    @staticmethod
    def evaluate(t, n):
        out = np.empty((n, t.shape[0]))
        out[0] = 1.0
        for j in range(1, n):
            q = (j + 1) // 2
            wave = np.cos if j % 2 else np.sin
            out[j] = np.sqrt(2.0) * wave(2 * np.pi * q * t)
        return out.T

    @staticmethod
    def sample_measure(n, rng):
        return rng.random_sample(n)

    # Draws from phi_k^2 dt: uniform proposals, ratio phi_k^2 <= 2.
    @staticmethod
    def propose(ks, rng):
        return rng.random_sample(ks.shape[0])

    @classmethod
    def ratio(cls, t, ks):
        return _pick(cls.evaluate(t, int(ks.max()) + 1), ks) ** 2

    @staticmethod
    def bound(ks):
        return np.where(ks == 0, 1.0, 2.0)


@functools.cache
def _hermite_bound(k):
    """Sup of ``h_k^2 phi / Cauchy(0, sqrt(k+1))``, on a fine grid, plus 10 %.

    Beyond the grid the Gaussian tail of the target falls faster than the
    Cauchy proposal, so the supremum lies inside it; the grid spacing is a
    small fraction of the oscillation wavelength ``~ pi / sqrt(k)``.
    """
    half_width = 2.0 * np.sqrt(k + 1.0) + 12.0
    x = np.linspace(-half_width, half_width, 40001)
    return 1.1 * float(np.max(_Hermite.ratio(x, np.full(x.shape, k))))


class _Hermite:
    """Orthonormal probabilists' Hermite ``He_k / sqrt(k!)`` for the N(0, 1) law."""

    name = "hermite"
    bounded = False

    @staticmethod
    def degree_of(j):
        return np.asarray(j)

    @staticmethod
    def n_functions(degree):
        return degree + 1

    @staticmethod
    def evaluate(t, n):
        out = np.empty((n, t.shape[0]))
        h_prev, h = np.zeros_like(t), np.ones_like(t)
        for k in range(n):
            out[k] = h
            h_prev, h = h, (t * h - np.sqrt(k) * h_prev) / np.sqrt(k + 1)
        return out.T

    @staticmethod
    def sample_measure(n, rng):
        return rng.standard_normal(n)

    @staticmethod
    def hermite_functions(x, n):
        """``h_k(x) sqrt(phi(x))`` for ``k < n``: no overflow in the bulk."""
        out = np.empty((n, x.shape[0]))
        g_prev = np.zeros_like(x)
        g = np.exp(-x * x / 4) / (2 * np.pi) ** 0.25
        for k in range(n):
            out[k] = g
            g_prev, g = g, (x * g - np.sqrt(k) * g_prev) / np.sqrt(k + 1)
        return out.T

    # Draws from h_k^2 dN(0, 1) use a Cauchy(0, sqrt(k + 1)) proposal; the
    # bound on the ratio is computed once per k (see _hermite_bound).
    @staticmethod
    def propose(ks, rng):
        return np.sqrt(ks + 1.0) * rng.standard_cauchy(ks.shape[0])

    @classmethod
    def ratio(cls, x, ks):
        g = _pick(cls.hermite_functions(x, int(ks.max()) + 1), ks)
        scale = np.sqrt(ks + 1.0)
        cauchy = 1.0 / (np.pi * scale * (1 + (x / scale) ** 2))
        return g * g / cauchy

    @staticmethod
    def bound(ks):
        return np.array([_hermite_bound(int(k)) for k in ks]) if ks.size < 64 else (
            np.vectorize(_hermite_bound, otypes=[float])(ks)
        )


_FAMILIES = {
    "legendre": _Legendre,
    "hermite": _Hermite,
    "trigonometric": _Trigonometric,
}
INDEX_SETS = ("total_degree", "tensor", "hyperbolic_cross")
_MAX_BASIS = 100_000


class TooManyBasisFunctions(ValueError):
    """An index set with more than ``_MAX_BASIS`` functions was requested."""


def multi_indices(n_functions_1d, degree_of, dim, degree, index_set):
    """Multi-indices ``alpha`` (rows) of a tensor basis, graded by degree.

    Parameters
    ----------
    n_functions_1d : int
        Number of univariate functions available per coordinate.
    degree_of : callable
        Degree of univariate function ``j`` (array in, array out).
    dim : int
        Number of coordinates.
    degree : int
        Maximal degree ``p``.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}
        ``sum(deg) <= p``, ``max(deg) <= p`` or ``prod(deg + 1) <= p + 1``.

    Returns
    -------
    alpha : ndarray of shape (m, dim)
        Univariate function indices of each basis function.
    """
    # Built one coordinate at a time; the three sets are downward closed, so
    # pruning partial indices by their cost never drops an admissible one.
    degrees = np.asarray(degree_of(np.arange(n_functions_1d)), dtype=np.int64)
    if index_set == "total_degree":
        init, combine, limit = 0, np.add, degree
    elif index_set == "tensor":
        init, combine, limit = 0, np.maximum, degree
    else:
        init, combine, limit = 1, lambda cost, deg: cost * (deg + 1), degree + 1
    alpha = np.zeros((1, 0), dtype=np.int64)
    cost = np.full(1, init, dtype=np.int64)
    for _ in range(dim):
        new_cost = combine(cost[:, None], degrees[None, :])
        rows, cols = np.nonzero(new_cost <= limit)
        alpha = np.column_stack([alpha[rows], cols])
        cost = new_cost[rows, cols]
        if alpha.shape[0] > _MAX_BASIS:
            raise TooManyBasisFunctions(
                f"index_set={index_set!r} with dim={dim} and degree={degree} has "
                f"more than {_MAX_BASIS} basis functions; lower degree or dim."
            )
    order = np.lexsort((*alpha.T[::-1], degrees[alpha].sum(axis=1)))
    return alpha[order]


def count_basis_functions(family, degree, dim, index_set):
    """Number of functions ``m`` of ``TensorProductBasis(family, degree, dim)``.

    Parameters
    ----------
    family : {"legendre", "hermite", "trigonometric"}
        Univariate family.
    degree : int
        Maximal degree ``p``.
    dim : int
        Number of variables.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}
        Multi-indices kept.

    Returns
    -------
    m : int or float
        The count; ``inf`` above the largest basis that is built.
    """
    fam = _FAMILIES[family]
    try:
        return multi_indices(fam.n_functions(degree), fam.degree_of, dim, degree,
                             index_set).shape[0]
    except TooManyBasisFunctions:
        return math.inf


# --------------------------------------------------------------------- bases


class OrthonormalBasis:
    """Common interface of the bases used by the DPP samplers.

    Subclasses provide ``n_basis``, ``dim``, :meth:`evaluate`,
    :meth:`check_points`, :meth:`sample_measure` and
    :meth:`sample_christoffel`; the inverse Christoffel function and the
    optimal weights follow from :meth:`evaluate`.

    Attributes
    ----------
    n_basis : int
        Number of basis functions ``m``.
    dim : int
        Number of variables.

    See Also
    --------
    TensorProductBasis, FeatureMapBasis : The concrete bases.

    Examples
    --------
    >>> from skkernel.dpp import LegendreBasis, OrthonormalBasis
    >>> isinstance(LegendreBasis(degree=3), OrthonormalBasis)
    True
    """

    n_basis = 0
    dim = 0

    def evaluate(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def christoffel(self, X):
        """Inverse Christoffel function ``k_m(x) = sum_j phi_j(x)^2``.

        Parameters
        ----------
        X : array-like of shape (n_points, dim)
            Points in the basis' domain.

        Returns
        -------
        k : ndarray of shape (n_points,)
            Values of ``k_m``; ``k_m / m`` is the optimal sampling density
            with respect to the reference measure.
        """
        Psi = self.evaluate(X)
        return np.einsum("ij,ij->i", Psi, Psi)

    def optimal_weights(self, X):
        """Least-squares weights ``m / k_m(x)`` of the optimal design.

        Parameters
        ----------
        X : array-like of shape (n_points, dim)
            Points in the basis' domain.

        Returns
        -------
        w : ndarray of shape (n_points,)
            Weights; ``w * rho_m`` is the reference measure.
        """
        k = self.christoffel(X)
        if np.any(k <= 0):
            raise ValueError(
                "The inverse Christoffel function vanishes at some points of X: "
                "every basis function is zero there, so the optimal weights "
                "m / k_m are undefined."
            )
        return self.n_basis / k

    def _propose(self, n, rng, law, backend="numpy"):
        """``n`` i.i.d. draws as ``(points, pool indices or None, features)``."""
        if law == "christoffel":
            X = self._christoffel_points(n, rng, backend)
        else:
            X = self._measure_points(n, rng)
        return X, None, self._evaluate_checked(X)

    def sample_measure(self, n, random_state=None):
        """Draw ``n`` i.i.d. points from the reference measure ``mu``.

        Parameters
        ----------
        n : int
            Number of points.
        random_state : int, RandomState instance or None, default=None
            Seed.

        Returns
        -------
        X : ndarray of shape (n, dim)
            The points.
        """
        n = _check_count(n, "n", 1)
        return self._propose(n, check_random_state(random_state), "measure")[0]

    def sample_christoffel(self, n, random_state=None):
        """Draw ``n`` i.i.d. points from ``rho_m = (k_m / m) mu``.

        Parameters
        ----------
        n : int
            Number of points.
        random_state : int, RandomState instance or None, default=None
            Seed.

        Returns
        -------
        X : ndarray of shape (n, dim)
            The points.
        """
        n = _check_count(n, "n", 1)
        return self._propose(n, check_random_state(random_state), "christoffel")[0]


def _check_count(value, name, min_val):
    if (not isinstance(value, numbers.Integral) or isinstance(value, bool)
            or value < min_val):
        raise ValueError(f"{name} must be an integer >= {min_val}, got {value!r}.")
    return int(value)


def _number(value):
    """The shortest text that reads back as ``value`` (``1``, ``1.0000000001``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _check_points_array(X, dim, name="X"):
    X = np.asarray(to_cpu(X), dtype=np.float64)
    if X.ndim == 1 and dim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != dim:
        raise ValueError(
            f"{name} must have shape (n_points, {dim}) for a basis of dimension "
            f"{dim}, got shape {X.shape}."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return X


class TensorProductBasis(OrthonormalBasis):
    """Tensor products of a univariate orthonormal family over an index set.

    Basis function ``alpha`` is ``prod_i phi_{alpha_i}(x_i)``; it is
    orthonormal for the product measure ``mu = mu_1 x ... x mu_d``.

    Parameters
    ----------
    family : {"legendre", "hermite", "trigonometric"}
        Univariate family: Legendre polynomials for the uniform measure on
        ``domain``, Hermite polynomials for the standard Gaussian, or
        sines and cosines for the uniform measure on one period ``domain``.
    degree : int, default=9
        Maximal (total, tensor or hyperbolic-cross) degree ``p``; for the
        trigonometric family it bounds the frequency.
    dim : int, default=1
        Number of variables ``d``.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}, \
            default="total_degree"
        Which multi-indices ``alpha`` are kept.
    domain : tuple of float, array-like of shape (dim, 2) or None, \
            default=None
        For the bounded families, ``(a, b)`` in every coordinate or one row
        ``(a_i, b_i)`` per coordinate (``None``: ``(-1, 1)``); must be
        ``None`` for ``"hermite"``.

    Attributes
    ----------
    n_basis : int
        Number of basis functions ``m``.
    multi_indices : ndarray of shape (n_basis, dim)
        Univariate function index of each basis function per coordinate.
    bounds : ndarray of shape (dim, 2) or None
        The domain of each coordinate (``None`` for ``"hermite"``).

    See Also
    --------
    LegendreBasis, HermiteBasis, TrigonometricBasis : The named families.
    FeatureMapBasis : A user feature map on a finite candidate pool.

    Examples
    --------
    >>> from skkernel.dpp import TensorProductBasis
    >>> basis = TensorProductBasis("legendre", degree=3, dim=2)
    >>> basis.n_basis
    10
    """

    def __init__(self, family, degree=9, dim=1, index_set="total_degree", domain=None):
        if family not in _FAMILIES:
            raise ValueError(
                f"basis must be one of {sorted(_FAMILIES)} or a callable, got "
                f"{family!r}."
            )
        self.family = family
        self._family = _FAMILIES[family]
        self.degree = _check_count(degree, "degree", 0)
        self.dim = _check_count(dim, "dim", 1)
        if index_set not in INDEX_SETS:
            raise ValueError(
                f"index_set must be one of {list(INDEX_SETS)}, got {index_set!r}."
            )
        self.index_set = index_set
        self.domain, self.bounds = self._check_domain(domain)
        self._n1 = self._family.n_functions(self.degree)
        self.multi_indices = multi_indices(
            self._n1, self._family.degree_of, self.dim, self.degree, index_set
        )
        self.n_basis = self.multi_indices.shape[0]

    def _check_domain(self, domain):
        """``domain`` as given (normalised) and as a ``(dim, 2)`` array."""
        if not self._family.bounded:
            if domain is not None:
                raise ValueError(
                    f"basis={self.family!r} is orthonormal for the standard "
                    "Gaussian on the whole real line: domain must be None, got "
                    f"{domain!r} (standardise X instead)."
                )
            return None, None
        if domain is None:
            domain = (-1.0, 1.0)
        message = (
            "domain must be a pair (a, b) of finite floats with a < b, or an "
            f"array of shape (dim, 2) = ({self.dim}, 2) of such pairs, got "
            f"{domain!r}."
        )
        try:
            bounds = np.asarray(to_cpu(domain), dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if bounds.shape not in ((2,), (self.dim, 2)):
            raise ValueError(message)
        if not (np.all(np.isfinite(bounds))
                and np.all(bounds[..., 0] < bounds[..., 1])):
            raise ValueError(message)
        if bounds.ndim == 1:
            return (float(bounds[0]), float(bounds[1])), np.tile(bounds, (self.dim, 1))
        return tuple(map(tuple, bounds.tolist())), bounds

    def __repr__(self):
        return (
            f"{type(self).__name__}(family={self.family!r}, degree={self.degree}, "
            f"dim={self.dim}, index_set={self.index_set!r}, domain={self.domain})"
        )

    # Coordinates: x in the domain <-> t in the family's reference interval.
    def _to_reference(self, X):
        if self.bounds is None:
            return X
        a, b = self.bounds[:, 0], self.bounds[:, 1]
        if self._family is _Trigonometric:
            return (X - a) / (b - a)
        return (2 * X - (a + b)) / (b - a)

    def _from_reference(self, T):
        if self.bounds is None:
            return T
        a, b = self.bounds[:, 0], self.bounds[:, 1]
        if self._family is _Trigonometric:
            return a + (b - a) * T
        return (a + b) / 2 + (b - a) / 2 * T

    def check_points(self, X, name="X"):
        """Validate points: shape ``(n, dim)``, finite, inside the domain.

        Parameters
        ----------
        X : array-like of shape (n_points, dim)
            Points (a 1-D array is read as a column when ``dim == 1``).
        name : str, default="X"
            Name used in error messages.

        Returns
        -------
        X : ndarray of shape (n_points, dim)
            The points as float64.
        """
        X = _check_points_array(X, self.dim, name)
        if self.bounds is None or not X.size:
            return X
        a, b = self.bounds[:, 0], self.bounds[:, 1]
        slack = 1e-12 * (b - a)  # rounding of a rescaled point on the boundary
        outside = np.any((X < a - slack) | (X > b + slack), axis=0)
        if np.any(outside):
            j = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{name} has values outside the domain [{_number(a[j])}, "
                f"{_number(b[j])}] of feature {j} of basis={self.family!r}: found "
                f"values in [{_number(X[:, j].min())}, {_number(X[:, j].max())}]. "
                "Rescale X or set domain."
            )
        return X

    def _evaluate_checked(self, X):
        T = self._to_reference(X)
        out = np.ones((X.shape[0], self.n_basis))
        for i in range(self.dim):
            values = self._family.evaluate(T[:, i], self._n1)
            out *= values[:, self.multi_indices[:, i]]
        return out

    def evaluate(self, X, extrapolation="error"):
        """Evaluate the orthonormal basis functions at ``X``.

        Parameters
        ----------
        X : array-like of shape (n_points, dim)
            Points in the domain.
        extrapolation : {"error", "constant", "continue"}, default="error"
            Points outside the domain of a bounded family: ``"error"``
            refuses them, ``"constant"`` moves each coordinate to the nearest
            end of its interval, ``"continue"`` evaluates the functions'
            formulas there (polynomials grow, sines and cosines repeat).

        Returns
        -------
        Phi : ndarray of shape (n_points, n_basis)
            ``Phi[i, j] = phi_j(x_i)``.
        """
        if extrapolation == "error" or self.bounds is None:
            return self._evaluate_checked(self.check_points(X))
        X = _check_points_array(X, self.dim)
        if extrapolation == "constant":
            X = np.clip(X, self.bounds[:, 0], self.bounds[:, 1])
        elif extrapolation != "continue":
            raise ValueError(
                f"extrapolation must be one of {list(EXTRAPOLATIONS)}, got "
                f"{extrapolation!r}."
            )
        return self._evaluate_checked(X)

    def _measure_points(self, n, rng):
        T = np.column_stack(
            [self._family.sample_measure(n, rng) for _ in range(self.dim)]
        )
        return self._from_reference(T)

    def _christoffel_points(self, n, rng, backend="numpy"):
        # rho_m is the uniform mixture over alpha of prod_i phi_{alpha_i}^2 mu_i:
        # pick a basis function, then each coordinate from its own density.
        rows = rng.randint(self.n_basis, size=n)
        T = _rejection(self.multi_indices[rows].ravel(), rng, self._family, backend)
        return self._from_reference(T.reshape(n, self.dim))


class LegendreBasis(TensorProductBasis):
    """Orthonormal Legendre polynomials for the uniform measure on a box.

    Parameters
    ----------
    degree : int, default=9
        Maximal degree ``p`` (``m = p + 1`` functions in one dimension).
    dim : int, default=1
        Number of variables.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}, \
            default="total_degree"
        Multi-indices kept in several dimensions.
    domain : tuple of float, array-like of shape (dim, 2) or None, \
            default=None
        ``(a, b)`` for every coordinate, or one row ``(a_i, b_i)`` per
        coordinate; ``None`` is ``(-1, 1)``.

    Attributes
    ----------
    n_basis : int
        Number of basis functions ``m``.
    multi_indices : ndarray of shape (n_basis, dim)
        Polynomial degree per coordinate of each basis function.

    See Also
    --------
    TensorProductBasis : The general tensor-product construction.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.dpp import LegendreBasis
    >>> basis = LegendreBasis(degree=4)
    >>> float(basis.christoffel(np.array([[1.0]]))[0])  # sum of 2k+1
    25.0
    """

    def __init__(self, degree=9, dim=1, index_set="total_degree", domain=None):
        super().__init__("legendre", degree, dim, index_set, domain)


class HermiteBasis(TensorProductBasis):
    """Orthonormal Hermite polynomials for the standard Gaussian measure.

    Parameters
    ----------
    degree : int, default=9
        Maximal degree ``p``.
    dim : int, default=1
        Number of variables.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}, \
            default="total_degree"
        Multi-indices kept in several dimensions.

    Attributes
    ----------
    n_basis : int
        Number of basis functions ``m``.
    multi_indices : ndarray of shape (n_basis, dim)
        Polynomial degree per coordinate of each basis function.

    See Also
    --------
    TensorProductBasis : The general tensor-product construction.

    Examples
    --------
    >>> from skkernel.dpp import HermiteBasis
    >>> HermiteBasis(degree=2, dim=2).n_basis
    6
    """

    def __init__(self, degree=9, dim=1, index_set="total_degree"):
        super().__init__("hermite", degree, dim, index_set, None)


class TrigonometricBasis(TensorProductBasis):
    """Sines and cosines, orthonormal for the uniform measure on one period.

    In one dimension the basis is ``1, sqrt(2) cos(2 pi q t),
    sqrt(2) sin(2 pi q t)`` for ``q = 1..degree`` with ``t = (x - a) / (b -
    a)``; its inverse Christoffel function is the constant ``m``, so the
    optimal density is the reference measure itself.

    Parameters
    ----------
    degree : int, default=9
        Highest frequency (``m = 2 degree + 1`` functions in one dimension).
    dim : int, default=1
        Number of variables.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}, \
            default="total_degree"
        Multi-indices kept, by frequency, in several dimensions.
    domain : tuple of float, array-like of shape (dim, 2) or None, \
            default=None
        One period ``(a, b)`` for every coordinate, or one row per
        coordinate; ``None`` is ``(-1, 1)``.

    Attributes
    ----------
    n_basis : int
        Number of basis functions ``m``.
    multi_indices : ndarray of shape (n_basis, dim)
        Univariate function index of each basis function per coordinate.

    See Also
    --------
    TensorProductBasis : The general tensor-product construction.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.dpp import TrigonometricBasis
    >>> basis = TrigonometricBasis(degree=3)
    >>> np.allclose(basis.christoffel(np.array([[0.1], [0.7]])), 7)
    True
    """

    def __init__(self, degree=9, dim=1, index_set="total_degree", domain=None):
        super().__init__("trigonometric", degree, dim, index_set, domain)


def _gram_blocks(Phi, xp, block=4096):
    """``Phi^T Phi`` accumulated over row blocks (far faster than one call)."""
    G = xp.zeros((Phi.shape[1], Phi.shape[1]))
    for start in range(0, Phi.shape[0], block):
        B = Phi[start : start + block]
        G += B.T @ B
    return G


def _rank_error(m, n):
    return ValueError(
        f"The feature map has numerical rank below m={m} on the {n} "
        "candidates: some features are (nearly) linearly dependent there. "
        "Remove redundant features or enlarge the candidate pool."
    )


def _cholesky_factor(Y, xp):
    """Upper factor of ``Y^T Y / n`` and its diagonal ratio (None if it fails)."""
    G = _gram_blocks(Y, xp) / Y.shape[0]
    try:
        L = xp.linalg.cholesky(G)
    except Exception:  # numpy raises LinAlgError; cupy may return NaN instead
        return None, 0.0
    if not bool(xp.all(xp.isfinite(L))):
        return None, 0.0
    diag = xp.abs(xp.diag(L))
    return L.T, float(diag.min() / diag.max())


def _row_norms_after(Phi, R_inv, xp, block=4096):
    """``||phi_i^T R^-1||^2`` for every row, one block of rows at a time."""
    out = xp.empty(Phi.shape[0])
    for start in range(0, Phi.shape[0], block):
        Y = Phi[start : start + block] @ R_inv
        out[start : start + block] = (Y * Y).sum(axis=1)
    return out


def orthonormalize_pool(Phi, xp=np):
    """Upper-triangular ``R`` making ``Phi R^-1`` orthonormal on the pool.

    The pool's measure is uniform, ``mu = (1/N) sum_i delta_i``, so
    ``(1/N) (Phi R^-1)^T (Phi R^-1) = I``. Cholesky QR on a Gram matrix
    accumulated over row blocks (level-3 BLAS, no ``N x m`` temporary); its
    loss of orthogonality is about ``eps cond(Phi)^2``, so a second pass
    (CholeskyQR2) runs when ``cond(R) > 1e4``, and features with
    ``cond(Phi) > ~1e6`` fall back to Householder QR.

    Parameters
    ----------
    Phi : array of shape (n_candidates, m)
        Features of the pool (numpy or cupy).
    xp : module, default=numpy
        ``numpy`` or ``cupy``.

    Returns
    -------
    R : ndarray of shape (m, m)
        Upper-triangular factor (numpy).
    leverage : ndarray of shape (n_candidates,)
        ``k_m(x_i) = ||R^-T phi(x_i)||^2`` (numpy); sums to ``N m``.
    """
    n, m = Phi.shape
    R, ratio = _cholesky_factor(Phi, xp)
    if R is not None and ratio > 1e-6:
        R_inv = xp.linalg.inv(R)
        if np.linalg.cond(to_cpu(R)) > 1e4:  # m x m: on the host
            R2, _ = _cholesky_factor(Phi @ R_inv, xp)
            if R2 is None:
                raise _rank_error(m, n)
            R = R2 @ R
            R_inv = R_inv @ xp.linalg.inv(R2)
    else:
        R = xp.linalg.qr(Phi / np.sqrt(n), mode="r")
        diag = xp.abs(xp.diag(R))
        if not float(diag.min()) > 1e-10 * float(diag.max()):
            raise _rank_error(m, n)
        R_inv = xp.linalg.inv(R)
    return to_cpu(R), to_cpu(_row_norms_after(Phi, R_inv, xp))


class FeatureMapBasis(OrthonormalBasis):
    """A user feature map, orthonormalised on a finite pool of candidates.

    The reference measure is uniform on the ``N`` candidates. The features
    ``phi(x)`` are made orthonormal, ``psi(x) = R^-T phi(x)``, from the pool
    alone, so ``psi`` and ``k_m`` can also be evaluated at new points.

    Parameters
    ----------
    feature_map : callable
        ``feature_map(X) -> ndarray of shape (n_points, m)``.
    candidates : array-like of shape (n_candidates, dim)
        The pool; every sampler draws points among these.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"cupy"`` runs the ``O(N m^2)`` orthonormalisation on the GPU; the
        other backends run it with numpy/BLAS.

    Attributes
    ----------
    n_basis : int
        Number of features ``m``.
    n_candidates : int
        Pool size ``N``.
    leverage : ndarray of shape (n_candidates,)
        ``k_m`` at each candidate (``N`` times the leverage scores).

    See Also
    --------
    TensorProductBasis : Continuous bases with exact samplers.

    Examples
    --------
    >>> import numpy as np
    >>> from skkernel.dpp import FeatureMapBasis
    >>> pool = np.linspace(0, 1, 200)[:, None]
    >>> basis = FeatureMapBasis(lambda X: np.hstack([X**0, X, X**2]), pool)
    >>> round(float(basis.leverage.mean()), 6)
    3.0
    """

    def __init__(self, feature_map, candidates, backend="auto"):
        if not callable(feature_map):
            raise ValueError(
                f"feature_map must be callable, got {type(feature_map).__name__}."
            )
        self.feature_map = feature_map
        # Resolved before the copy to the host, so that "auto" sees a device pool.
        backend = resolve_backend(backend, candidates)
        candidates = np.asarray(to_cpu(candidates), dtype=np.float64)
        if candidates.ndim == 1:
            candidates = candidates[:, None]
        if candidates.ndim != 2 or candidates.shape[0] == 0:
            raise ValueError(
                "candidates must be a non-empty array of shape (n_candidates, "
                f"dim), got shape {candidates.shape}."
            )
        if not np.all(np.isfinite(candidates)):
            raise ValueError("candidates contains NaN or infinity.")
        self.candidates = candidates
        self.dim = candidates.shape[1]
        self.n_candidates = candidates.shape[0]
        Phi = self._features(candidates, "candidates")
        self.n_basis = Phi.shape[1]
        if self.n_basis > self.n_candidates:
            raise ValueError(
                f"The feature map has m={self.n_basis} basis functions but there "
                f"are only {self.n_candidates} candidates; need at least m "
                "candidates."
            )
        xp, _ = get_array_module(backend)
        self._R, self.leverage = orthonormalize_pool(to_device(Phi, backend), xp)
        self._R_inv = scipy.linalg.solve_triangular(self._R, np.eye(self.n_basis))
        self._Phi = Phi
        self._cdf = np.cumsum(self.leverage)

    def __repr__(self):
        return (
            f"FeatureMapBasis(n_basis={self.n_basis}, "
            f"n_candidates={self.n_candidates})"
        )

    def _features(self, X, name):
        Phi = np.asarray(to_cpu(self.feature_map(X)), dtype=np.float64)
        if Phi.ndim != 2 or Phi.shape[0] != X.shape[0]:
            raise ValueError(
                f"feature_map must return an array of shape (n_points, m); on "
                f"{name} of shape {X.shape} it returned shape {Phi.shape}."
            )
        if self.n_basis and Phi.shape[1] != self.n_basis:
            raise ValueError(
                f"feature_map returned {Phi.shape[1]} features on {name}, but "
                f"{self.n_basis} on the candidates."
            )
        if not np.all(np.isfinite(Phi)):
            raise ValueError(f"feature_map returned NaN or infinity on {name}.")
        return Phi

    def check_points(self, X, name="X"):
        """Validate points: shape ``(n, dim)`` and finite values.

        Parameters
        ----------
        X : array-like of shape (n_points, dim)
            Points.
        name : str, default="X"
            Name used in error messages.

        Returns
        -------
        X : ndarray of shape (n_points, dim)
            The points as float64.
        """
        return _check_points_array(X, self.dim, name)

    def evaluate(self, X, extrapolation="error"):
        """Orthonormalised features ``R^-T phi(x)`` at ``X``.

        Parameters
        ----------
        X : array-like of shape (n_points, dim)
            Points where the feature map is defined.
        extrapolation : str, default="error"
            Unused: a feature map has no domain (kept so that every basis
            takes the same arguments).

        Returns
        -------
        Psi : ndarray of shape (n_points, n_basis)
            Features orthonormal for the uniform measure on the pool.
        """
        X = self.check_points(X)
        return self._features(X, "X") @ self._R_inv

    def _evaluate_checked(self, X):
        return self.evaluate(X)

    def _propose(self, n, rng, law, backend="numpy"):
        if law == "christoffel":
            u = rng.random_sample(n) * self._cdf[-1]
            idx = np.minimum(np.searchsorted(self._cdf, u, side="right"),
                             self.n_candidates - 1)
        else:
            idx = rng.randint(self.n_candidates, size=n)
        return self.candidates[idx], idx, self._Phi[idx] @ self._R_inv


def make_basis(basis, degree=9, dim=1, index_set="total_degree", domain=None,
               candidates=None, backend="auto"):
    """Build a basis object from the estimator-style description.

    Parameters
    ----------
    basis : {"legendre", "hermite", "trigonometric"}, callable or \
            OrthonormalBasis
        A family name, a feature map (needs ``candidates``) or a ready basis
        (returned unchanged).
    degree : int, default=9
        Maximal degree, as in :class:`TensorProductBasis`.
    dim : int, default=1
        Number of variables.
    index_set : {"total_degree", "tensor", "hyperbolic_cross"}, \
            default="total_degree"
        Multi-indices kept in several dimensions.
    domain : tuple of float, array-like of shape (dim, 2) or None, \
            default=None
        Box of the bounded families: ``(a, b)`` for every coordinate or one
        row per coordinate (``None``: ``(-1, 1)``).
    candidates : array-like of shape (n_candidates, dim), default=None
        The pool for a callable ``basis``.
    backend : str, default="auto"
        Backend of the pool orthonormalisation.

    Returns
    -------
    basis : OrthonormalBasis
        The basis.

    See Also
    --------
    skkernel.linear_model.DPPWeightedLeastSquares : Builds its basis with it.

    Examples
    --------
    >>> from skkernel.dpp import make_basis
    >>> make_basis("hermite", degree=3).n_basis
    4
    """
    if isinstance(basis, OrthonormalBasis):
        return basis
    if callable(basis):
        if candidates is None:
            raise ValueError(
                "basis is a callable feature map, which is orthonormalised on a "
                "finite pool: pass candidates (array of shape (n_candidates, "
                "n_features))."
            )
        return FeatureMapBasis(basis, candidates, backend=backend)
    if isinstance(basis, str) and basis == "trig":
        basis = "trigonometric"
    return TensorProductBasis(basis, degree, dim, index_set, domain)
