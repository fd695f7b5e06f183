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
# No intersphinx: the documentation must build offline without warnings.
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


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_*_request methods whose docstrings point into
    # scikit-learn's own documentation; they are documented there.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
