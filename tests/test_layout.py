"""The layout's dependency rules, read from the source (every import: top-level, inside
functions, under TYPE_CHECKING): the gateway side and the centre know nothing of each
other, only the entry points assemble them, and the gateway's modules import in no circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import gateway

PACKAGE = Path(gateway.__file__).parent
GATEWAY_SIDE = ("gateway.channels", "gateway.application", "gateway.store", "gateway.sync")
CENTRE = ("gateway.central",)
# The entry points: they compose the sides (gateway/embedded_centre.py assembles the centre
# inside a gateway's process for them).
ENTRY_POINTS = ("gateway.app", "gateway.jobs", "gateway.cli", "gateway.commands",
                "gateway.embedded_centre")


def within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def resolve(name: str) -> str | None:
    """The module `name` is, or is in (`from gateway.x import y`: module x, or x.y)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports(module: str) -> frozenset[str]:
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(modules()[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(resolve(a.name) for a in node.names if a.name.startswith("gateway"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gateway"):
            found.update(resolve(f"{node.module}.{a.name}") for a in node.names)
    return frozenset(m for m in found if m not in (None, module, "gateway"))


def reached(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for name in imports(todo.pop()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def test_the_gateway_side_reaches_nothing_of_the_centre_nor_of_the_entry_points() -> None:
    side = [m for m in modules() if within(m, GATEWAY_SIDE)]
    assert len(side) > 20
    crossing = {m: sorted(n for n in reached(m) if within(n, CENTRE + ENTRY_POINTS))
                for m in side}
    assert {m: names for m, names in crossing.items() if names} == {}


def test_the_centre_reaches_nothing_of_the_gateway_side_nor_of_the_entry_points() -> None:
    centre = [m for m in modules() if within(m, CENTRE)]
    assert len(centre) > 10
    crossing = {m: sorted(n for n in reached(m) if within(n, GATEWAY_SIDE + ENTRY_POINTS))
                for m in centre}
    assert {m: names for m, names in crossing.items() if names} == {}


def test_no_import_circles_on_the_gateway_side_or_among_the_entry_points() -> None:
    area = [m for m in modules() if within(m, GATEWAY_SIDE + ENTRY_POINTS)]
    circles = sorted(m for m in area if m in reached(m))
    assert circles == []
