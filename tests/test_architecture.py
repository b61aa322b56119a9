"""The house: one room per concern, each importing only rooms below it, and no import cycle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.paths import ROOT

BOT = ROOT / "bot"
# Bottom to top, as docs/architecture.md draws them; rooms on one level import neither other.
LEVELS = [{"db", "content"}, {"dialogue"}, {"referrals"}, {"conversations"}, {"line"},
          {"studio"}, {"console"}]
LEVEL_OF = {room: level for level, rooms in enumerate(LEVELS) for room in rooms}
# Modules of bot/ itself (not rooms): the app factory, the CLI and the server sit above every
# room; settings sits below them all.
TOP, BOTTOM = {"bot", "bot.cli", "bot.server"}, {"bot.settings", "bot.clock"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_modules() -> dict[str, Path]:
    return {module_name(p): p for p in BOT.rglob("*.py") if "migrations" not in p.parts}


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Return the bot modules a module imports, at any depth of its code."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            # `from bot.x import y` may name a module y or a name in x.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = bot_modules()
    known = set(modules)
    return {name: imports(path, name, known) for name, path in modules.items()}


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LEVEL_OF else None


def test_every_room_says_what_it_owns():
    for name in LEVEL_OF:
        init = BOT / name / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "room" in doc, f"bot/{name}/__init__.py: say what the room owns"


def test_rooms_are_the_folders_of_bot():
    folders = {p.name for p in BOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LEVEL_OF), "a new folder of bot/ needs a level in this test and docs"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Return every import of a module at or above the importer's level (another room)."""
    wrong = []
    for module, targets in graph.items():
        for target in targets:
            if module in TOP or target in BOTTOM:
                continue
            if target in TOP:
                wrong.append(f"{module} imports {target}, which builds the app")
                continue
            here, there = room(module), room(target)
            if module in BOTTOM or (here != there and LEVEL_OF[there] >= LEVEL_OF[here]):
                wrong.append(f"{module} imports {target}")
    return wrong


def test_no_room_imports_a_room_above_it(graph):
    assert upward_imports(graph) == []


def test_an_upward_import_is_found():
    assert upward_imports({"bot.content.schema": {"bot.dialogue.matching"},
                           "bot.db.models": {"bot.content.flow"},
                           "bot.line.webhook": {"bot.dialogue.engine", "bot.settings"}}) == [
        "bot.content.schema imports bot.dialogue.matching",
        "bot.db.models imports bot.content.flow"]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], path[len(path):] = 1, [node]
        for nxt in sorted(graph.get(node, ())):
            if state[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            if state[nxt] == 0 and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if state[node] == 0 and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle(graph):
    assert find_cycle(graph) is None


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions(graph):
    # create_app imports its rooms inside the function, as Flask's tutorial does.
    assert "bot.line.webhook" in graph["bot"]
    assert "bot.line.sender" in graph["bot.line.commands"]
