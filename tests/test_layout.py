"""The layout holds its shape: the plugins never load the sandbox, no module imports itself
back through others, and no module of the product grows past 500 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ordoro_core", "ordoro_sandbox", "tap_ordoro", "target_ordoro")
MAX_MODULE_LINES = 500


def module_files() -> dict[str, Path]:
    """Every module of the product, by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _under_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The product modules ``name`` imports when it runs: at the top or inside a function.

    Imports under ``if TYPE_CHECKING:`` are left out: they never run.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _under_type_checking(node):
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module; `from module import name`, the
            # module.
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            candidates = [m for m in submodules if m in known] or [node.module]
        else:
            continue
        for candidate in candidates:
            # The module itself, else the package it names a member of.
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            # A module of a package loading that package's __init__ is how packages work (the
            # __init__ may load the package's modules in turn): not a circle.
            if candidate and candidate != name and not name.startswith(candidate + "."):
                found.add(candidate)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports():
    """The control: the graph finds edges the layout is known to have."""
    graph = import_graph()
    assert "ordoro_core.settings" in graph["ordoro_core.client"]
    assert "ordoro_core.client" in graph["tap_ordoro.client"]
    assert "ordoro_core.catalog" in graph["ordoro_sandbox.validation"]


def test_a_circle_is_found_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_anywhere():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("plugin", ["tap_ordoro", "target_ordoro"])
def test_the_plugins_never_import_the_sandbox(plugin):
    graph = import_graph()
    statically = sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.split(".")[0] == plugin
        for target in targets
        if target.split(".")[0] == "ordoro_sandbox"
    )
    assert statically == []
    # And at run time: loading every module of the plugin loads no sandbox module.
    modules = [name for name in module_files() if name.split(".")[0] == plugin]
    code = (
        f"import importlib, sys\nfor name in {modules!r}:\n    importlib.import_module(name)\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] == 'ordoro_sandbox'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == ""


def test_ordoro_core_needs_nothing_from_the_plugins_or_the_sandbox():
    graph = import_graph()
    outward = sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.split(".")[0] == "ordoro_core"
        for target in targets
        if target.split(".")[0] != "ordoro_core"
    )
    assert outward == []


def test_no_module_of_the_product_is_over_500_lines():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in module_files().items()
    }
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}
