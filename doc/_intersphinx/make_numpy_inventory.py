"""Write ``numpy.inv``, an intersphinx inventory of numpy's public API.

No numpy documentation package was at hand offline, so this inventory is built
from the installed numpy by introspection, with the page layout of
https://numpy.org/doc/stable/ (one generated page per function, class, method
and attribute; scalar types on ``arrays.scalars``, constants on ``constants``,
the random generators on their own pages). Run it from any directory::

    python doc/_intersphinx/make_numpy_inventory.py

Online, the published inventory can replace it (see README.md here).
"""

import importlib
import inspect
import zlib
from pathlib import Path

import numpy as np

GENERATED = "reference/generated/"
RANDOM = "reference/random/"
MODULE_PAGES = {
    "numpy": "reference/index.html",
    "numpy.linalg": "reference/routines.linalg.html",
    "numpy.fft": "reference/routines.fft.html",
    "numpy.random": RANDOM + "index.html",
}
CONSTANTS = ("e", "euler_gamma", "inf", "nan", "newaxis", "pi")


def _public(obj):
    return sorted(name for name in dir(obj) if not name.startswith("_"))


def _members(entries, owner, cls, page_prefix):
    """Methods and attributes of a class, one generated page each."""
    for attr in _public(cls):
        role = "method" if callable(getattr(cls, attr, None)) else "attribute"
        name = f"{owner}.{attr}"
        entries.append((name, f"py:{role}", f"{page_prefix}{name}.html#$"))


def _namespace(entries, module_name, names):
    module = importlib.import_module(module_name)
    for attr in names:
        obj = getattr(module, attr)
        name = f"{module_name}.{attr}"
        if inspect.ismodule(obj):
            continue
        if module_name == "numpy" and attr in CONSTANTS:
            entries.append((name, "py:data", "reference/constants.html#$"))
        elif isinstance(obj, type) and issubclass(obj, np.generic):
            entries.append((name, "py:class", "reference/arrays.scalars.html#$"))
        elif isinstance(obj, type):
            entries.append((name, "py:class", f"{GENERATED}{name}.html#$"))
            _members(entries, name, obj, GENERATED)
        elif callable(obj):
            entries.append((name, "py:function", f"{GENERATED}{name}.html#$"))


def build_entries():
    entries = [
        (module, "py:module", f"{page}#module-$")
        for module, page in MODULE_PAGES.items()
    ]
    _namespace(entries, "numpy", getattr(np, "__all__", None) or _public(np))
    _namespace(entries, "numpy.linalg", np.linalg.__all__)
    _namespace(entries, "numpy.fft", np.fft.__all__)
    random_pages = {
        "Generator": "generator.html",
        "default_rng": "generator.html",
        "RandomState": "legacy.html",
        "BitGenerator": "bit_generators/generated/numpy.random.BitGenerator.html",
        "SeedSequence": "bit_generators/generated/numpy.random.SeedSequence.html",
    }
    for attr in np.random.__all__:
        obj = getattr(np.random, attr)
        name = f"numpy.random.{attr}"
        if attr in random_pages:
            role = "py:function" if attr == "default_rng" else "py:class"
            entries.append((name, role, f"{RANDOM}{random_pages[attr]}#$"))
            if attr in ("Generator", "RandomState"):
                _members(entries, name, obj, RANDOM + "generated/")
        elif callable(obj) and not isinstance(obj, type):
            entries.append((name, "py:function", f"{RANDOM}generated/{name}.html#$"))
    entries.append(("array_like", "std:term", "glossary.html#term-array_like"))
    return sorted(set(entries))


def write_inventory(path):
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: NumPy\n"
        f"# Version: {np.__version__.rsplit('.', 1)[0]}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(
        f"{name} {role} {-1 if role.startswith('std') else 1} {uri} -\n"
        for name, role, uri in build_entries()
    )
    Path(path).write_bytes(header.encode() + zlib.compress(lines.encode(), 9))


if __name__ == "__main__":
    write_inventory(Path(__file__).with_name("numpy.inv"))
