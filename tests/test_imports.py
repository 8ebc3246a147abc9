"""Import paths: what users import keeps working, and the package imports itself one way.

The public paths come from ``docs/api.rst`` (each ``autosummary`` entry under its
``currentmodule``) plus the module paths users already have. The layout rule is checked on the
source (an AST scan of every ``skqg/**/*.py``, imports inside functions included):

* no relative imports;
* no module imports a private name from another family. A family is the first component under
  ``skqg`` (``rbm``, ``transport``, ``wishart``, ``cli``, ``cone``, ``stats``, ``rg``,
  ``datasets``, ``__init__``, ``__main__``); the shared homes ``_validation``, ``_spd``,
  ``_parallel``, ``_batching``, ``_warnings``, ``_wishart_law``, ``_ising`` and ``_kernels`` are
  families of their own that anyone may import, at ``skqg.<home>`` only. Within its own family
  a module imports anything. From another family, the target's path may hold an underscore-led
  component only as the shared home right under ``skqg``, and no imported name may be
  underscore-led (importing a shared home itself, ``from skqg import _spd``, is allowed). A
  submodule imported by name from its package counts as the submodule's path
  (``from skqg.rbm import _layers`` is ``skqg.rbm._layers``). Dunder names such as
  ``__version__`` are public;
* the kernels are imported one way: outside ``skqg/_kernels/`` only
  ``from skqg._kernels import <module>`` (no ``as``), inside it
  ``from skqg._kernels.<module> import <names>``.
"""

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skqg

PACKAGE = Path(skqg.__file__).resolve().parent
API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
SHARED_HOMES = frozenset(
    {
        "_validation",
        "_spd",
        "_parallel",
        "_batching",
        "_warnings",
        "_wishart_law",
        "_ising",
        "_kernels",
    }
)
KERNELS = "skqg._kernels"


# --- public import paths ---------------------------------------------------------------------


def documented_objects(text):
    """``(module, name)`` for every autosummary entry of ``text``, under its ``currentmodule``."""
    entries, module, in_list = [], None, False
    for line in text.splitlines():
        directive = re.match(r"\.\. (\w+)::\s*(\S*)", line)
        if directive:
            in_list = directive.group(1) == "autosummary"
            if directive.group(1) == "currentmodule":
                module = directive.group(2)
        elif in_list and line.strip() and not line.startswith(" "):
            in_list = False
        elif in_list and line.strip() and not line.strip().startswith(":"):
            assert module is not None, f"autosummary entry {line.strip()!r} before currentmodule"
            entries.append((module, line.strip()))
    return entries


def documented_modules(text):
    return re.findall(r"^\.\. automodule:: (\S+)", text, flags=re.MULTILINE)


API_TEXT = API_RST.read_text(encoding="utf-8") if API_RST.exists() else ""
DOCUMENTED = documented_objects(API_TEXT)
needs_docs = pytest.mark.skipif(not API_TEXT, reason="docs/api.rst is not available")

# Paths users have (the top level re-exports the estimators).
USER_PATHS = [
    ("skqg", "RBMCoarseGrainer"),
    ("skqg", "MongeAmpereTransport"),
    ("skqg", "WishartCovarianceModel"),
    ("skqg", "__version__"),
    ("skqg.rbm", "RBMCoarseGrainer"),
    ("skqg.transport", "MongeAmpereTransport"),
    ("skqg.transport", "auto_epsilon"),
    ("skqg.wishart", "WishartCovarianceModel"),
    ("skqg.cli", "main"),
    ("skqg.cli", "build_parser"),
    ("skqg.datasets", "make_ising"),
]


@needs_docs
def test_the_api_page_is_parsed():
    """The parser finds the page's sections (an empty list would make the next test vacuous)."""
    assert ("skqg.datasets", "make_ising") in DOCUMENTED
    assert ("skqg", "WishartCovarianceModel") in DOCUMENTED
    assert ("skqg.transport", "auto_epsilon") in DOCUMENTED
    assert ("skqg.stats", "spd_margins") in DOCUMENTED
    modules = {module for module, _ in DOCUMENTED}
    assert {"skqg", "skqg.datasets", "skqg.rg", "skqg.cone", "skqg.stats"} <= modules
    assert len(DOCUMENTED) == len(set(DOCUMENTED)) >= 30


@needs_docs
@pytest.mark.parametrize(("module", "name"), DOCUMENTED, ids=[f"{m}.{n}" for m, n in DOCUMENTED])
def test_documented_object_imports_from_its_module(module, name):
    obj = getattr(importlib.import_module(module), name)
    assert callable(obj)
    assert obj.__name__ == name
    exported = getattr(importlib.import_module(module), "__all__", None)
    assert exported is None or name in exported, f"{name} is missing from {module}.__all__"


@needs_docs
@pytest.mark.parametrize("module", documented_modules(API_TEXT))
def test_documented_module_imports(module):
    assert importlib.import_module(module).__doc__


@pytest.mark.parametrize(("module", "name"), USER_PATHS, ids=[f"{m}.{n}" for m, n in USER_PATHS])
def test_user_import_path(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_the_same_objects_under_every_path():
    import skqg.cli
    import skqg.rbm
    import skqg.transport
    import skqg.wishart

    assert skqg.RBMCoarseGrainer is skqg.rbm.RBMCoarseGrainer
    assert skqg.MongeAmpereTransport is skqg.transport.MongeAmpereTransport
    assert skqg.WishartCovarianceModel is skqg.wishart.WishartCovarianceModel
    assert isinstance(skqg.__version__, str) and re.match(r"\d+\.\d+", skqg.__version__)
    assert skqg.cli.build_parser().prog


def test_python_m_skqg_version():
    done = subprocess.run(
        [sys.executable, "-m", "skqg", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"skqg {skqg.__version__}"


# --- the layout rule -------------------------------------------------------------------------


def _module_name(relative):
    """``skqg/rbm/_layers.py`` -> ``skqg.rbm._layers``; a package's ``__init__`` is the package."""
    parts = list(Path(relative).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _family(module):
    """First component under ``skqg`` (``skqg.rbm._layers``: ``rbm``; ``skqg``: ``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_module(dotted, package_dir):
    """Whether ``dotted`` (``skqg.x.y``) is a module or package of the source tree."""
    path = package_dir.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _targets(node, package_dir):
    """``(module path, imported name or None)`` for each thing an import brings in.

    ``from P import n`` where ``P.n`` is a module is that module (name None).
    """
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    out = []
    for alias in node.names:
        submodule = f"{node.module}.{alias.name}"
        if alias.name != "*" and _is_module(submodule, package_dir):
            out.append((submodule, None))
        else:
            out.append((node.module, alias.name))
    return out


def _privacy_problem(importer_family, target, name):
    if _family(target) == importer_family:
        return None
    parts = target.split(".")[1:]
    for depth, part in enumerate(parts):
        if _private(part) and not (depth == 0 and part in SHARED_HOMES):
            return f"private module {target} of another family"
    if name is not None and _private(name):
        return f"private name {name} of another family"
    return None


def _kernel_problem(node, in_kernels, package_dir):
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        if any(name == KERNELS or name.startswith(KERNELS + ".") for name in names):
            return "kernels imported with 'import'"
        return None
    module = node.module
    if in_kernels:
        if module == KERNELS or (
            module == "skqg" and any(a.name == "_kernels" for a in node.names)
        ):
            return "inside skqg/_kernels use 'from skqg._kernels.<module> import <names>'"
        if module.startswith(KERNELS + ".") and module.count(".") != 2:
            return "inside skqg/_kernels use 'from skqg._kernels.<module> import <names>'"
        return None
    if module == "skqg" and any(alias.name == "_kernels" for alias in node.names):
        return "use 'from skqg._kernels import <module>'"
    if module.startswith(KERNELS + "."):
        return "a kernel's names imported directly; use 'from skqg._kernels import <module>'"
    if module == KERNELS:
        for alias in node.names:
            if not _is_module(f"{KERNELS}.{alias.name}", package_dir):
                return f"{alias.name} is not a kernel module"
            if alias.asname is not None:
                return f"kernel module aliased 'as {alias.asname}'"
    return None


def scan_source(source, relative, package_dir=PACKAGE):
    """The layout-rule violations of one file, as ``"relative:line: import  (reason)"``."""
    importer = _module_name(relative)
    family = _family(importer)
    in_kernels = family == "_kernels"
    problems = []
    imports = [
        node
        for node in ast.walk(ast.parse(source, filename=str(relative)))
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    for node in sorted(imports, key=lambda node: (node.lineno, node.col_offset)):
        reasons = []
        if isinstance(node, ast.ImportFrom) and node.level:
            reasons.append("relative import")
        else:
            targets = [
                t for t in _targets(node, package_dir) if t[0] == "skqg" or t[0].startswith("skqg.")
            ]
            if not targets:
                continue
            for target, name in targets:
                reason = _privacy_problem(family, target, name)
                if reason:
                    reasons.append(reason)
            reason = _kernel_problem(node, in_kernels, package_dir)
            if reason:
                reasons.append(reason)
        if reasons:
            problems.append(
                f"{relative}:{node.lineno}: {ast.unparse(node)}  ({'; '.join(reasons)})"
            )
    return problems


def test_package_imports_follow_the_layout_rule():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20 and PACKAGE / "_kernels" / "gibbs_sampling.py" in sources
    problems = []
    for path in sources:
        relative = Path("skqg") / path.relative_to(PACKAGE)
        problems += scan_source(path.read_text(encoding="utf-8"), relative)
    assert not problems, f"{len(problems)} import(s) break the layout rule:\n" + "\n".join(problems)


# --- the scanner catches what it should, and only that ---------------------------------------

FLAGGED = [
    ("skqg/rbm/_layers.py", "from . import _training"),
    ("skqg/rbm/_layers.py", "from ._training import fit_epoch"),
    ("skqg/cone.py", "from .stats import wishart_fit"),
    ("skqg/cone.py", "from skqg.stats import _private"),
    ("skqg/rbm/_layers.py", "from skqg.transport._sinkhorn import x"),
    ("skqg/rbm/_layers.py", "from skqg.transport import _sinkhorn"),
    ("skqg/rbm/_layers.py", "import skqg.transport._sinkhorn"),
    ("skqg/cli/__init__.py", "from skqg.rbm._estimator import RBMCoarseGrainer"),
    ("skqg/stats.py", "from skqg._ising._sampler import IsingOptions"),
    ("skqg/stats.py", "from skqg._ising import _sampler"),
    ("skqg/stats.py", "from skqg._spd import _helper"),
    ("skqg/_spd.py", "from skqg._ising._exact import log_partition"),
    ("skqg/rbm/_layers.py", "from skqg._kernels.gibbs_sampling import sample_layer"),
    ("skqg/rbm/_layers.py", "from skqg._kernels import gibbs_sampling as g"),
    ("skqg/rbm/_layers.py", "import skqg._kernels.gibbs_sampling as g"),
    ("skqg/rbm/_layers.py", "import skqg._kernels.gibbs_sampling"),
    ("skqg/rbm/_layers.py", "from skqg import _kernels"),
    ("skqg/rbm/_layers.py", "from skqg._kernels import not_a_kernel_module"),
    ("skqg/_spd.py", "from skqg._kernels.spd_linalg import cholesky"),
    ("skqg/_kernels/gibbs_sampling.py", "from skqg._kernels import random_streams"),
    ("skqg/_kernels/gibbs_sampling.py", "import skqg._kernels.random_streams"),
    # Nested in a function, and a relative import from inside a package's __init__.
    ("skqg/rg.py", "def f():\n    from skqg.rbm._partition import log_z\n    return log_z"),
    ("skqg/wishart/__init__.py", "from ._estimator import WishartCovarianceModel"),
]

ALLOWED = [
    ("skqg/rbm/_layers.py", "from skqg.rbm._training import fit_epoch"),
    ("skqg/rbm/__init__.py", "from skqg.rbm._estimator import RBMCoarseGrainer"),
    ("skqg/rbm/_estimator.py", "from skqg.rbm import _layers"),
    ("skqg/rg.py", "from skqg.rbm import RBMCoarseGrainer"),
    ("skqg/cli/__init__.py", "from skqg import __version__"),
    ("skqg/cli/_demo.py", "from skqg import RBMCoarseGrainer, WishartCovarianceModel"),
    ("skqg/cli/_demo.py", "import skqg"),
    ("skqg/__init__.py", "from skqg.transport import MongeAmpereTransport"),
    ("skqg/__main__.py", "from skqg.cli import main"),
    ("skqg/datasets.py", "from skqg._ising import IsingOptions, sample_dataset"),
    ("skqg/stats.py", "from skqg import _ising"),
    ("skqg/stats.py", "from skqg import _spd, _validation"),
    ("skqg/stats.py", "import skqg._spd"),
    ("skqg/cone.py", "from skqg._spd import sqrtm"),
    ("skqg/_ising/_dataset.py", "from skqg._ising._sampler import sample_ising"),
    ("skqg/_ising/__init__.py", "from skqg._ising._dataset import IsingOptions"),
    ("skqg/rbm/_layers.py", "from skqg._kernels import gibbs_sampling"),
    ("skqg/_spd.py", "from skqg._kernels import spd_linalg"),
    ("skqg/_kernels/gibbs_sampling.py", "from skqg._kernels.random_streams import uniform"),
    ("skqg/rbm/_layers.py", "import numpy as np\nfrom numba import njit, prange"),
    ("skqg/rg.py", "def f():\n    from skqg.rbm import RBMCoarseGrainer\n    return 1"),
]


@pytest.mark.parametrize(("relative", "source"), FLAGGED)
def test_scanner_flags(relative, source):
    problems = scan_source(source, relative)
    assert len(problems) == 1, problems
    line = source.splitlines().index(next(s for s in source.splitlines() if "import" in s)) + 1
    assert problems[0].startswith(f"{relative}:{line}: "), problems


@pytest.mark.parametrize(("relative", "source"), ALLOWED)
def test_scanner_allows(relative, source):
    assert scan_source(source, relative) == []


def test_scanner_reports_every_violation_with_its_line():
    source = "import numpy\nfrom . import x\n\nfrom skqg.stats import _private, public\n"
    assert scan_source(source, "skqg/cone.py") == [
        "skqg/cone.py:2: from . import x  (relative import)",
        "skqg/cone.py:4: from skqg.stats import _private, public  "
        "(private name _private of another family)",
    ]
