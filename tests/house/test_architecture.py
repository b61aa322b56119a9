"""The house: one room per concern, each importing only rooms below it, and no import cycle.

The layers are import-linter's contracts in pyproject.toml ([tool.importlinter]): the tests
here run them, and check what they do not: that each room's docstring names every module of
it, and that no chain of modules imports itself (through a package's own __init__ too).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import grimp
import pytest

from tests.support.paths import ROOT

BOT = ROOT / "bot"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    """Run the contracts of pyproject.toml on the `bot` package found in `where`."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo",
                           str(ROOT / "pyproject.toml")],
                          cwd=where, capture_output=True, text=True, timeout=300)


def test_the_rooms_keep_their_contracts():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """Return a folder holding a copy of bot/'s Python files, to break on purpose."""
    shutil.copytree(BOT, tmp_path / "bot", ignore=lambda folder, names: [
        name for name in names
        if not name.endswith(".py") and not (Path(folder) / name / "__init__.py").exists()])
    return tmp_path


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("db/models.py", "from bot.console import web", "bot.db.models -> bot.console.web"),
    ("content/schema.py", "from bot.db import models", "bot.content.schema -> bot.db.models"),
    ("line/render.py", "from bot.studio import diff", "bot.line.render -> bot.studio.diff"),
    # A referral's page reads the console's headers; the console never reads the page.
    ("console/web.py", "from bot.sheet import page", "bot.console.web -> bot.sheet.page"),
    ("clock.py", "from bot import settings", "bot.clock -> bot.settings"),
    ("referrals/stats.py", "from bot import create_app", "bot.referrals.stats -> bot"),
    ("extra.py", "", "bot.extra"),  # a module of bot/ on no level
])
def test_a_broken_contract_fails_with_the_import(house, module, line, broken):
    path = house / "bot" / module
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    # Inside a function, as create_app imports its rooms: the contracts see those too.
    path.write_text(f"{text}\n\ndef _upward():\n    {line or 'pass'}\n", encoding="utf-8")
    done = lint_imports(house)
    assert done.returncode == 1, done.stdout + done.stderr
    assert broken in done.stdout


def rooms() -> list[Path]:
    """Return every package of bot/ (the rooms and their sub-packages)."""
    return sorted(p.parent for p in BOT.rglob("__init__.py") if p.parent != BOT)


def modules_of(package: Path) -> set[str]:
    """Return the modules of a package: its .py files and the folders of Python in it."""
    return ({p.stem for p in package.glob("*.py") if p.stem != "__init__"}
            | {p.name for p in package.iterdir()
               if p.is_dir() and p.name != "__pycache__" and any(p.rglob("*.py"))})


def docstring(package: Path) -> str:
    return ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))


def test_every_room_says_what_it_owns():
    for room in (p for p in rooms() if p.parent == BOT):
        doc = docstring(room)
        assert doc and "room" in doc, f"bot/{room.name}/__init__.py: say what the room owns"


@pytest.mark.parametrize("package", rooms(), ids=lambda p: p.relative_to(BOT).as_posix())
def test_every_room_names_each_of_its_modules(package):
    # One line per module: "- `store`: what it owns".
    named = set(re.findall(r"^- `(\w+)(?:\.py|/)?`", docstring(package) or "", re.MULTILINE))
    missing = sorted(modules_of(package) - named)
    assert not missing, (f"bot/{package.relative_to(BOT).as_posix()}/__init__.py names no "
                         f"line '- `module`: ...' for {', '.join(missing)}")


def test_a_module_left_out_of_the_docstring_is_found(tmp_path):
    (tmp_path / "__init__.py").write_text('"""A room.\n\n- `kept`: named.\n"""\n')
    for name in ("kept.py", "forgotten.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "static").mkdir()  # no Python: not a module
    assert modules_of(tmp_path) - {"kept"} == {"forgotten"}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """Return each module of bot and the modules of bot it imports, as import-linter sees."""
    found = grimp.build_graph("bot", cache_dir=None)
    return {name: found.find_modules_directly_imported_by(name) for name in found.modules}


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
    # The contracts' acyclic_siblings sees cycles between siblings; this sees every cycle of
    # modules, one through a package's own __init__ too.
    assert find_cycle(graph) is None


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions(graph):
    # create_app imports its rooms inside the function, as Flask's tutorial does.
    assert "bot.line.webhook" in graph["bot"]
    assert "bot.line.sender" in graph["bot.line.commands"]
