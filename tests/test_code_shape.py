"""The shape of the code in `sender/`: no function or method over 80 lines.

A function is measured from its first decorator (or its `def` line when it has none) to its
last line, docstring, comments and blank lines included: what a reader scrolls through.
"""

from __future__ import annotations

import ast
from pathlib import Path

SENDER = Path(__file__).resolve().parent.parent / "sender"
MAX_LINES = 80


def function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first line, number of lines) of every function and method in `path`,
    nested ones included."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                assert child.end_lineno is not None
                found.append((f"{prefix}{child.name}", first, child.end_lineno - first + 1))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text("utf-8"), filename=str(path)), "")
    return found


def long_functions(root: Path, limit: int = MAX_LINES) -> list[str]:
    """`path:line name (n lines)` for each function of `root` longer than `limit` lines."""
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for name, line, length in function_lengths(path):
            if length > limit:
                offenders.append(f"{path.relative_to(root.parent)}:{line} {name} ({length} lines)")
    return offenders


def test_no_function_in_sender_is_over_80_lines():
    offenders = long_functions(SENDER)
    assert not offenders, f"functions over {MAX_LINES} lines: " + "; ".join(offenders)


def test_the_measure_counts_decorators_and_nested_functions(tmp_path: Path):
    package = tmp_path / "pkg"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(78))
    (package / "shape.py").write_text(
        "import functools\n\n\n"
        f"@functools.cache\ndef decorated():\n{body}\n\n\n"  # 2 + 78 = 80 lines: allowed
        f"@functools.cache\n@functools.cache\ndef longer():\n{body}\n\n\n"  # 81 lines
        "class Holder:\n"
        "    def method(self):\n"
        "        def inner():\n"
        + "\n".join(f"            y{i} = {i}" for i in range(80))
        + "\n        return inner\n"
    )
    lengths = {name: n for name, _, n in function_lengths(package / "shape.py")}
    assert lengths == {
        "decorated": 80, "longer": 81, "Holder.method": 83, "Holder.method.inner": 81,
    }
    assert long_functions(package) == [
        "pkg/shape.py:86 longer (81 lines)",  # the line of its first decorator
        "pkg/shape.py:170 Holder.method (83 lines)",
        "pkg/shape.py:171 Holder.method.inner (81 lines)",
    ]
