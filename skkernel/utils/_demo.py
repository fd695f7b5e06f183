"""Registry for ``skkernel demo``: each subpackage contributes cases.

A subpackage adds a private module ``_demo.py`` with a function
``demo_cases()`` returning a list of :class:`DemoCase`. The CLI finds those
modules itself, so adding an estimator never touches the CLI.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoCase:
    """One row of the demo table.

    Parameters
    ----------
    estimator : str
        Estimator class name.
    dataset : str
        Built-in data set it runs on.
    metric : str
        Name of the quality figure (for example ``"Micro-F1 @10%"``).
    run : callable
        ``run(backend) -> float``: fits on the data set with that backend
        and returns the quality figure.
    """

    estimator: str
    dataset: str
    metric: str
    run: Callable[[str], float]


def discover_demo_cases():
    """Collect the demo cases of every skkernel subpackage.

    Returns
    -------
    cases : list of DemoCase
        In subpackage order.
    """
    import skkernel

    cases = []
    for info in sorted(pkgutil.iter_modules(skkernel.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in ("tests", "utils", "backend"):
            continue
        name = f"skkernel.{info.name}._demo"
        if importlib.util.find_spec(name) is None:
            continue
        cases.extend(importlib.import_module(name).demo_cases())
    return cases
