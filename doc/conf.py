"""Sphinx configuration for skkernel."""

import os
import sys
from pathlib import Path

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
    # MathJax 3 copied into _static: formulas render without a network.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
# "fit()" rather than "SketchedLinearRegression.fit()" in the page contents.
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "sg_execution_times.rst", "**/sg_execution_times.rst"]
html_theme = "pydata_sphinx_theme"
html_title = f"skkernel {version}"
html_static_path = ["_static"]
html_css_files = ["skkernel.css"]
# The landing and install pages have no section to navigate: no left sidebar.
html_sidebars = {"index": [], "install": []}
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}

# Intersphinx from inventories shipped in _intersphinx/ (provenance in its
# README.md): the links point at the published sites, but the build reads the
# local files and never the network.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", "_intersphinx/python.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "_intersphinx/numpy.inv"),
    "scipy": ("https://docs.scipy.org/doc/scipy/", "_intersphinx/scipy.inv"),
    "sklearn": ("https://scikit-learn.org/stable/", "_intersphinx/sklearn.inv"),
}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skkernel",),
    "backreferences_dir": "gen_modules/backreferences",
    # Links from code in the examples to skkernel's API pages and, through
    # the inventories above, to scikit-learn, NumPy and SciPy.
    "reference_url": {"skkernel": None},
    "plot_gallery": "True",
    "min_reported_time": 1,
}
suppress_warnings = ["config.cache"]

# The user guide's pages in reading order, by topic. A page not named here
# still appears (before the Dask page), so a new page is never left out.
USER_GUIDE_ORDER = [
    "sketched_regression",
    "dpp_weighted_least_squares",
    "heat_geodesic",
    "fastrp",
    "quantum_kernel_svc",
    "ila_sdp",
    "private_kernel_density",
    "matrix_completion",
    "neural",
]
USER_GUIDE_LAST = ["scaling_with_dask"]
USER_GUIDE_PLACEHOLDER = "   USER_GUIDE_PAGES"


def _user_guide_pages(srcdir):
    pages = sorted(
        path.stem for path in Path(srcdir, "user_guide").glob("*.rst")
        if path.stem != "index"
    )
    named = USER_GUIDE_ORDER + USER_GUIDE_LAST
    return ([page for page in USER_GUIDE_ORDER if page in pages]
            + [page for page in pages if page not in named]
            + [page for page in USER_GUIDE_LAST if page in pages])


def _fill_user_guide_toctree(app, docname, source):
    if docname == "user_guide/index":
        entries = "\n".join(f"   {page}" for page in _user_guide_pages(app.srcdir))
        source[0] = source[0].replace(USER_GUIDE_PLACEHOLDER, entries)


def _reread_user_guide_index(app, env, added, changed, removed):
    # Its toctree depends on which pages exist, not on its own text.
    return ["user_guide/index"]


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_*_request methods whose docstrings point into
    # scikit-learn's own documentation; they are documented there.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("source-read", _fill_user_guide_toctree)
    app.connect("env-get-outdated", _reread_user_guide_index)
