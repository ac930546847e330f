"""The package's import graph: no module imports, at run time, a module that imports it back.

The graph is read from the source (ast), not from a running interpreter: every `import
dadong_qa…` and `from dadong_qa… import …` (and relative import), inside functions too, since a
deferred import is still a cycle, only a later one. Imports under `if TYPE_CHECKING:` are left
out (they never run). A package's `__init__` is not counted as imported by its modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "dadong_qa"


def _module_names() -> dict[str, Path]:
    out = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at run time."""
    modules = _module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the module's package, `level` steps up
                    package = name.split(".") if is_package else name.split(".")[:-1]
                    package = package[: len(package) - (node.level - 1)]
                    base = ".".join([*package, *([base] if base else [])])
                # `from pkg import sub` imports the module pkg.sub; `from mod import name` imports mod.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycle_through(graph: dict[str, set[str]], module: str) -> list[str] | None:
    """A shortest chain of imports from `module` back to itself, or None."""
    paths = {dep: [module, dep] for dep in graph[module]}
    frontier = sorted(graph[module])
    while frontier:
        nxt = []
        for m in frontier:
            if m == module:
                return paths[m]
            for dep in sorted(graph[m]):
                if dep not in paths:
                    paths[dep] = [*paths[m], dep]
                    nxt.append(dep)
        frontier = nxt
    return None


def test_the_graph_sees_deferred_and_relative_imports():
    graph = import_graph()
    assert cycle_through({"a": {"b"}, "b": {"c"}, "c": {"a", "b"}}, "a") == ["a", "b", "c", "a"]
    assert cycle_through({"a": {"b"}, "b": {"c"}, "c": {"b"}}, "a") is None
    assert "dadong_qa.index.errors" in graph["dadong_qa.index"]  # from .errors import …
    assert "dadong_qa.index" in graph["dadong_qa.ingestion.folder_sync"]  # from dadong_qa import index
    assert "dadong_qa.app.editor_ui" in graph["dadong_qa.app.server"]  # inside a function
    assert "dadong_qa.api" not in graph["dadong_qa.library"]  # only under TYPE_CHECKING


@pytest.mark.parametrize(
    "module",
    [
        "dadong_qa.retrieval.query",
        "dadong_qa.retrieval.expand",
        "dadong_qa.library",
        "dadong_qa.audit",
        "dadong_qa.app.audit",
        "dadong_qa.ingestion.folder_sync",
    ],
)
def test_no_import_cycle_through(module: str):
    graph = import_graph()
    if module not in graph:
        pytest.skip(f"{module} does not exist")
    assert cycle_through(graph, module) is None


@pytest.mark.parametrize(
    "module", ["dadong_qa.app.ui", "dadong_qa.app.ui_common", "dadong_qa.app.editor_ui", "dadong_qa.app.server"]
)
def test_no_import_cycle_through_the_web_pages(module: str):
    # What the chat and editor pages share lives in ui_common, below both and below server.
    graph = import_graph()
    assert module in graph
    assert cycle_through(graph, module) is None


def test_the_library_layer_never_imports_the_app():
    graph = import_graph()
    lower = [m for m in graph if not m.startswith("dadong_qa.app") and m != PACKAGE]
    reached = {m: sorted(d for d in graph[m] if d.startswith("dadong_qa.app")) for m in lower}
    assert {m: d for m, d in reached.items() if d} == {}
