"""Every public function and class has a numpydoc docstring with an Examples section.

The examples themselves run as doctests (``--doctest-modules`` in pyproject.toml).
"""

import importlib
import inspect

import pytest

PUBLIC_MODULES = ["skqg", "skqg.cone", "skqg.datasets", "skqg.rg", "skqg.stats", "skqg.transport"]


def _public_objects():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj
    cli = importlib.import_module("skqg.cli")
    yield "skqg.cli.main", cli.main
    yield "skqg.cli.build_parser", cli.build_parser


PUBLIC_OBJECTS = list(_public_objects())


@pytest.mark.parametrize("name, obj", PUBLIC_OBJECTS, ids=[name for name, _ in PUBLIC_OBJECTS])
def test_public_object_has_summary_and_examples(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip() and doc.splitlines()[0].strip(), f"{name} has no summary line"
    heading = "\nExamples\n--------\n"
    assert heading in doc, f"{name} has no numpydoc Examples section"
    assert ">>>" in doc.split(heading, 1)[1], f"{name}'s Examples section has no doctest"


def test_every_module_lists_its_public_names():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        assert module.__all__, module_name
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.__all__ names a missing {name}"
