"""The emulator's modules import one another in one direction only: no circle, not even one
hidden behind TYPE_CHECKING or inside a function."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import bot.emulator

PACKAGE = Path(bot.emulator.__file__).parent


def emulator_imports(path: Path) -> set[str]:
    """The emulator modules a file imports anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.startswith("bot.emulator."))
    return found


def test_the_emulator_modules_form_no_import_circle():
    graph = {
        f"bot.emulator.{path.stem}": emulator_imports(path)
        for path in PACKAGE.glob("*.py")
        if path.stem != "__init__"
    }
    assert "bot.emulator.wire" in graph and not graph["bot.emulator.wire"]
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import circle: {error.args[1]}") from None
    assert order.index("bot.emulator.world") < order.index("bot.emulator.server")
