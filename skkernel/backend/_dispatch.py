"""One dispatch table per computational step."""


class Dispatch:
    """The implementations of one computational step, keyed by backend.

    DESIGN's rule, written down once: the numpy reference is written against
    an array module ``xp`` and serves cupy unless a GPU kernel is given;
    numba kernels are CPU only, and a step without one runs the reference.
    A step whose data lives on the host even in a GPU fit (neighbour lists
    from scikit-learn, say) names its numba kernel as its ``cupy`` entry, with
    a comment saying so: the host's fastest kernel runs it there.
    An estimator calls ``step(backend, ...)`` instead of branching on the
    backend's name.

    Parameters
    ----------
    name : str
        The step, named in error messages.
    numpy : callable
        The reference implementation.
    numba : callable, default=None
        The CPU kernel; ``None`` falls back to ``numpy``.
    cupy : callable, default=None
        The GPU kernel; ``None`` falls back to ``numpy`` (run on cupy arrays
        through ``xp``).

    Examples
    --------
    >>> from skkernel.backend import Dispatch
    >>> double = Dispatch("double", numpy=lambda a: 2 * a)
    >>> double("numba", 3)
    6
    >>> double.implementation("cupy").__name__
    '<lambda>'
    """

    def __init__(self, name, *, numpy, numba=None, cupy=None):
        self.name = name
        self.table = {
            "numpy": numpy,
            "numba": numpy if numba is None else numba,
            "cupy": numpy if cupy is None else cupy,
        }

    def implementation(self, backend):
        """Return the function that runs this step on ``backend``."""
        try:
            return self.table[backend]
        except KeyError:
            raise ValueError(
                f"{self.name}: backend must be a resolved backend among "
                f"{sorted(self.table)}, got {backend!r}."
            ) from None

    def __call__(self, backend, *args, **kwargs):
        return self.implementation(backend)(*args, **kwargs)

    def __repr__(self):
        names = {k: getattr(f, "__name__", repr(f)) for k, f in self.table.items()}
        return f"Dispatch({self.name!r}, {names})"
