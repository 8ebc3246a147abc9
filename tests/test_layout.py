"""The size limits of the house: estimator modules under 600 lines, functions under 60 lines.

Function lengths count lines of code, without blank lines, comments and docstrings, so
documentation never counts against a function; a function past the limit is split into named
steps.
"""

import ast
import io
import tokenize
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skqg"
MAX_ESTIMATOR_LINES = 600
MAX_FUNCTION_CODE_LINES = 60

_NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def _docstring_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines_per_function(source):
    """``(name, first line, lines of code)`` for every function defined in ``source``."""
    tree = ast.parse(source)
    docstrings = _docstring_lines(tree)
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            code.update(range(token.start[0], token.end[0] + 1))
    code -= docstrings
    return [
        (node.name, node.lineno, len({n for n in code if node.lineno <= n <= node.end_lineno}))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def test_the_counter_skips_docstrings_comments_and_blank_lines():
    source = 'def f(x):\n    """Doc.\n\n    More.\n    """\n    # why\n\n    y = x\n    return y\n'
    assert code_lines_per_function(source) == [("f", 1, 3)]


@pytest.mark.parametrize(
    "path",
    sorted([*PACKAGE.glob("*/_estimator.py"), PACKAGE / "transport" / "_plan_density.py"]),
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_estimator_modules_stay_under_600_lines(path):
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= MAX_ESTIMATOR_LINES, f"{path}: {n_lines} lines"


def test_no_function_has_more_than_60_lines_of_code():
    too_long = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {name} ({count} lines of code)"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, line, count in code_lines_per_function(path.read_text())
        if count > MAX_FUNCTION_CODE_LINES
    ]
    assert not too_long, "\n".join(too_long)
