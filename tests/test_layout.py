"""The layout holds: which way imports go, no import circles, rooms of a readable size.

Read from the source with `ast`, every import counted (those inside functions too).
See docs/architecture.md for the picture these rules keep true.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = ("gateway.settings", "gateway.database", "gateway.privacy", "gateway.consultation")
GATEWAY_SIDE = ("gateway.channels", "gateway.application", "gateway.store", "gateway.sync")
CENTRE = ("gateway.central",)
# The entry points, above both sides: the web app, the RQ jobs, the console script and its
# commands.
ENTRY_POINTS = ("gateway.app", "gateway.jobs", "gateway.cli", "gateway.commands")
EMBEDDED_CENTRE = "gateway.embedded_centre"  # the one module that assembles the centre in
# The centre's own commands (central serve, publish, exports, officials' accounts, outreach).
CENTRE_COMMANDS = ("gateway.commands.central", "gateway.commands.officials",
                   "gateway.commands.outreach")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parse(path: Path) -> ast.Module:
    """`ast.parse`, tried again on Python 3.11's spurious "AST constructor recursion depth
    mismatch" (CPython gh-106905): its counter is shared by threads, and another test's
    thread may be formatting a traceback (which parses source) at the same moment."""
    for _ in range(2):
        try:
            return ast.parse(path.read_text(encoding="utf-8"))
        except SystemError:
            continue
    return ast.parse(path.read_text(encoding="utf-8"))


def modules() -> dict[str, ast.Module]:
    return {module_name(path): parse(path)
            for path in sorted((REPO / "gateway").rglob("*.py"))}


def imported(name: str, tree: ast.Module) -> Iterator[str]:
    """Every gateway module `name` imports (a `from package import module` names the
    module; a `from module import name`, the module)."""
    package = name if tree_is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                yield f"{base}.{alias.name}"
            yield base


def tree_is_package(name: str) -> bool:
    return (REPO / name.replace(".", "/") / "__init__.py").exists()


def in_(name: str, groups: tuple[str, ...]) -> bool:
    return any(name == group or name.startswith(group + ".") for group in groups)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: {target for target in imported(name, tree) if target in found}
            for name, tree in found.items()}


def crossings(graph: dict[str, set[str]], source: tuple[str, ...],
              target: tuple[str, ...]) -> list[str]:
    return sorted(f"{name} -> {other}" for name, imports in graph.items() if in_(name, source)
                  for other in imports if in_(other, target))


def test_the_core_imports_neither_side(graph: dict[str, set[str]]) -> None:
    above = GATEWAY_SIDE + CENTRE + ENTRY_POINTS + (EMBEDDED_CENTRE,)
    assert crossings(graph, CORE, above) == []


def test_the_centre_imports_nothing_of_the_gateway_side(graph: dict[str, set[str]]) -> None:
    assert crossings(graph, CENTRE, GATEWAY_SIDE + ENTRY_POINTS + (EMBEDDED_CENTRE,)) == []


def test_the_gateway_side_imports_nothing_of_the_centre(graph: dict[str, set[str]]) -> None:
    assert crossings(graph, GATEWAY_SIDE, CENTRE + ENTRY_POINTS + (EMBEDDED_CENTRE,)) == []


def test_only_the_embedded_centre_and_the_centres_commands_reach_into_it(
    graph: dict[str, set[str]],
) -> None:
    """The gateway's entry points (its app, its commands) use the centre only through
    the module that assembles the embedded one."""
    reaching = {name for name, imports in graph.items() if not in_(name, CENTRE)
                and any(in_(other, CENTRE) for other in imports)}
    assert reaching <= {EMBEDDED_CENTRE, *CENTRE_COMMANDS}, sorted(reaching)


def test_no_import_circles(graph: dict[str, set[str]]) -> None:
    assert circles(graph) == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def source_files() -> list[Path]:
    return sorted([*(REPO / "gateway").rglob("*.py"), *(REPO / "bench").rglob("*.py")])


def test_no_module_over_400_lines() -> None:
    long = {str(path.relative_to(REPO)): lines for path in source_files()
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_over_80_lines() -> None:
    long = {}
    for path in source_files():
        for node in ast.walk(parse(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO)}:{node.name}"] = lines
    assert long == {}
