"""The package import graph of `sender/` follows the layers written in docs/architecture.md.

The graph is computed from the code (`ast`): every `import` and `from … import`, including the
lazy ones inside functions, between the top-level packages and modules of `sender/`. It must be
acyclic, and a package may import only from layers below its own.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "sender"
LAYERS_HEADING = "## Layers"

Edges = dict[str, dict[str, list[str]]]  # importer → imported → places ("file:line")


def top_level(path: Path, root: Path) -> str:
    """The top-level package or module of `root` that holds `path` (`cycle` for cycle.py)."""
    return path.relative_to(root).parts[0].removesuffix(".py")


def _module_parts(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported_modules(node: ast.AST, path: Path, root: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = _module_parts(path, root)
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - node.level + 1]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    if module == root.name:  # `from sender import schema`: each name is a module
        return [f"{module}.{alias.name}" for alias in node.names]
    return [module]


def import_graph(root: Path) -> Edges:
    """Package-level edges of the code under `root`, with where each import is."""
    edges: Edges = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        source = top_level(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for module in _imported_modules(node, path, root):
                parts = module.split(".")
                if parts[0] != root.name or len(parts) < 2 or parts[1] == source:
                    continue
                place = f"{path.relative_to(root.parent)}:{node.lineno}"
                edges[source][parts[1]].append(place)
    return edges


def find_cycle(edges: Edges) -> list[str] | None:
    """One import chain that comes back to where it started, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, {})):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (chain := visit(target)):
                return chain
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (chain := visit(node)):
            return chain
    return None


def describe_chain(chain: list[str], edges: Edges) -> str:
    steps = [f"{a} → {b} ({edges[a][b][0]})" for a, b in itertools.pairwise(chain)]
    return "; ".join(steps)


def read_layers(markdown: str) -> dict[str, int]:
    """`## Layers` of docs/architecture.md: a numbered list, lowest layer first, each item
    naming its packages in backquotes."""
    section = markdown.split(LAYERS_HEADING, 1)[1].split("\n## ", 1)[0]
    layers: dict[str, int] = {}
    for line in section.splitlines():
        match = re.match(r"^(\d+)\. (.*)$", line)
        if match:
            for name in re.findall(r"`([a-z_]+)`", match.group(2)):
                layers[name] = int(match.group(1))
    return layers


def layer_violations(edges: Edges, layers: dict[str, int]) -> list[str]:
    problems = []
    for source in sorted(edges):
        for target, places in sorted(edges[source].items()):
            if layers[target] >= layers[source]:
                problems.append(
                    f"{source} (layer {layers[source]}) imports {target} "
                    f"(layer {layers[target]}) at {places[0]}"
                )
    return problems


def packages(root: Path) -> set[str]:
    return {
        path.name.removesuffix(".py")
        for path in root.iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py")
        or (path.is_dir() and (path / "__init__.py").exists())
    }


@pytest.fixture(scope="module")
def graph() -> Edges:
    return import_graph(ROOT / PACKAGE)


@pytest.fixture(scope="module")
def layers() -> dict[str, int]:
    return read_layers((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))


def test_no_import_cycle_between_packages(graph):
    chain = find_cycle(graph)
    assert chain is None, f"boucle d'imports : {describe_chain(chain, graph)}"


def test_every_package_has_a_layer(layers):
    missing = packages(ROOT / PACKAGE) - set(layers)
    assert not missing, f"paquets sans couche dans docs/architecture.md : {sorted(missing)}"
    unknown = set(layers) - packages(ROOT / PACKAGE)
    assert not unknown, f"couches nommant des paquets inexistants : {sorted(unknown)}"


def test_no_lower_layer_imports_a_higher_one(graph, layers):
    assert layer_violations(graph, layers) == []


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / PACKAGE
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_planted_back_import_is_caught_with_its_chain(tmp_path):
    root = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "low/__init__.py": "",
            "low/a.py": "def f():\n    from sender.high.b import g\n",  # lazy back-import
            "high/__init__.py": "",
            "high/b.py": "from ..low import a\n",
            "top.py": "from sender import high\n",
        },
    )
    graph = import_graph(root)
    chain = find_cycle(graph)
    assert chain in (["high", "low", "high"], ["low", "high", "low"])
    assert "sender/low/a.py:2" in describe_chain(chain, graph)
    problems = layer_violations(graph, {"low": 1, "high": 2, "top": 3})
    assert problems == ["low (layer 1) imports high (layer 2) at sender/low/a.py:2"]


def test_the_command_line_is_the_top_layer(layers):
    assert layers["__main__"] == max(layers.values())
    assert layers["cli"] == max(layers.values()) - 1
