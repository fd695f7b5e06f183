"""Sphinx configuration for skkernel."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
import skkernel  # noqa: E402

project = "skkernel"
author = "skkernel developers"
release = version = skkernel.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "**/sg_execution_times.rst"]
html_theme = "pydata_sphinx_theme"
html_static_path = []
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
# The build runs offline: missing inventories must not turn into warnings.
intersphinx_timeout = 1
intersphinx_disabled_reftypes = ["*"]
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skkernel",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skkernel": None},
    "plot_gallery": "True",
}
suppress_warnings = ["config.cache"]
