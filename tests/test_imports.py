"""No import cycles among reportgen's modules.

A cycle works only as long as one side imports the other inside a function, so it breaks as soon as
someone moves an import to the top of a file; it also blurs which module is above which. The graph
counts every ``import`` that runs, at the top of a module or inside a function, and leaves out those
under ``if TYPE_CHECKING:`` (read by type checkers only).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reportgen"


def _module_name(path: Path) -> str:
    return "reportgen" if path.name == "__init__.py" else f"reportgen.{path.stem}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The reportgen modules a module imports at run time (anywhere but under ``if TYPE_CHECKING:``)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            if node.module in modules:
                found.add(node.module)
            # `from reportgen import archive` imports the submodule archive, not just the package.
            found.update(f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in modules)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.glob("*.py"))
    modules = {_module_name(path) for path in paths}
    return {_module_name(path): _imports(ast.parse(path.read_text(encoding="utf-8")), modules) - {_module_name(path)} for path in paths}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
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
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_a_cycle_through(component, graph) for component in components]


def _a_cycle_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first, back to start
        node = frontier.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                frontier.append(target)
    raise AssertionError("a strongly connected component always has a cycle")  # pragma: no cover


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking_ones() -> None:
    source = (
        "from typing import TYPE_CHECKING\nimport reportgen.errors\nfrom reportgen import archive\n"
        "if TYPE_CHECKING:\n    from reportgen.model import Problem\n"
        "def f():\n    from reportgen.pipeline import build\n"
    )
    modules = {"reportgen", "reportgen.errors", "reportgen.archive", "reportgen.model", "reportgen.pipeline"}
    assert _imports(ast.parse(source), modules) == {"reportgen.errors", "reportgen", "reportgen.archive", "reportgen.pipeline"}
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_reportgen_modules_import_each_other_without_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)
