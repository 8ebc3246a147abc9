"""Sphinx configuration for the skqg documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the repository root.
The build needs no network access. Environment variables read here and by the examples:

``SKQG_DOCS_QUICK=1``
    The gallery examples run on smaller problems (smaller lattices), for CI and quick checks.
``SKQG_DOCS_INTERSPHINX=1``
    Turn on intersphinx links to Python, NumPy, SciPy, scikit-learn and Matplotlib. Off by
    default, because the inventories are downloaded at build time and an offline ``-W`` build
    would fail.
``SKQG_DOCS_VALIDATE=1``
    Turn on numpydoc's docstring validation (off by default; its findings become warnings).

``-D plot_gallery=0`` on the Sphinx command line builds the gallery pages without running the
examples.
"""

import os
import sys
from datetime import date
from pathlib import Path

import matplotlib

import skqg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmarks_page

# The benchmarks page is generated from benchmarks/results/ at every build.
benchmarks_page.write()

matplotlib.use("agg")
os.environ.setdefault("MPLBACKEND", "agg")


def _flag(name):
    """True if the environment variable ``name`` is set to a true-looking value."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# -- Project information ---------------------------------------------------------------------

project = "skqg"
author = "The skqg developers"
copyright = f"{date.today().year}, {author}"
release = skqg.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "benchmarks_page.py"]
root_doc = "index"
language = "en"
default_role = "literal"

# -- autodoc / autosummary ---------------------------------------------------------------------

autosummary_generate = True  # writes one page per listed object into docs/generated/
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc documents types in the docstrings
autodoc_preserve_defaults = True  # show defaults as written, e.g. dtype=np.float64

# -- numpydoc ------------------------------------------------------------------------------------

numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
if _flag("SKQG_DOCS_VALIDATE"):
    # Everything except the checks that are a matter of taste for private helpers and
    # inherited scikit-learn methods.
    numpydoc_validation_checks = {"all", "ES01", "EX01", "SA01", "SS05", "RT02", "GL08"}
    numpydoc_validation_exclude = {r"\.__init__$", r"\._"}
else:
    numpydoc_validation_checks = set()

# -- MathJax -----------------------------------------------------------------------------------
# MathJax is loaded by the reader's browser from its CDN; nothing is fetched at build time.

# -- intersphinx (opt-in: needs the network at build time) ------------------------------------

if _flag("SKQG_DOCS_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# -- sphinx-gallery ----------------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "doc_module": ("skqg",),
    # Links from the example code to the API pages of skqg only (no remote inventories).
    "reference_url": {"skqg": None},
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "download_all_examples": False,
    "min_reported_time": 1,
    "capture_repr": ("_repr_html_", "__repr__"),
}

# -- HTML output -------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skqg {release}"
html_short_title = "skqg"
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    # Nothing here is fetched at build time: no version switcher, no remote logo or analytics,
    # no icon links that need external assets (the theme bundles Font Awesome).
    "logo": {"text": "skqg"},
    "check_switcher": False,
    "show_version_warning_banner": False,
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    "header_links_before_dropdown": 6,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
}
html_sidebars = {
    "install": [],
    "cli": [],
}
html_context = {"default_mode": "auto"}
