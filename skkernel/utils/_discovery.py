"""Find every public estimator in skkernel (like sklearn.utils.all_estimators)."""

import importlib
import inspect
import pkgutil
from operator import itemgetter

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

_TYPE_MIXINS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}


def _public_modules():
    import skkernel

    for info in pkgutil.walk_packages(skkernel.__path__, prefix="skkernel."):
        parts = info.name.split(".")
        if any(p.startswith("_") or p == "tests" for p in parts[1:]):
            continue
        # Subpackages that train through torch are listed only where it is.
        torch_missing = importlib.util.find_spec("torch") is None
        if parts[1] in ("neural", "causal") and torch_missing:
            continue
        yield importlib.import_module(info.name)


def all_estimators(type_filter=None):
    """List the public estimators of skkernel.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster"} or \
            list of those, default=None
        Keep only estimators of these kinds; ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name, one per public estimator
        class exported by a public skkernel subpackage.

    Examples
    --------
    >>> from skkernel.utils import all_estimators
    >>> "FastRP" in dict(all_estimators())
    True
    """
    found = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and not name.startswith("_")
                and obj.__module__ != "skkernel.base"  # the base, not an estimator
            ):
                found[name] = obj
    estimators = sorted(found.items(), key=itemgetter(0))
    if type_filter is None:
        return estimators
    filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = set(filters) - set(_TYPE_MIXINS)
    if unknown:
        raise ValueError(
            f"type_filter must be among {sorted(_TYPE_MIXINS)}, got {sorted(unknown)}."
        )
    return [
        (name, cls)
        for name, cls in estimators
        if any(issubclass(cls, _TYPE_MIXINS[f]) for f in filters)
    ]
