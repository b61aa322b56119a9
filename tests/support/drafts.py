"""Editors' drafts for tests: a copy of the shipped content and flows, changed a little."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_QUESTION = "どなたについてのご相談ですか？"


def copy_draft(folder: Path) -> Path:
    """Copy content/ and flows/ into folder; return it (the --root of the copy)."""
    for name in ("content", "flows"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


def edit(root: Path, name: str, old: str, new: str) -> None:
    """Replace one text in one file of a draft (it must be there)."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def reword_first_question(root: Path, new: str) -> None:
    """Change the first question's text in a draft."""
    edit(root, "flows/questionnaire.yaml", f'default: "{FIRST_QUESTION}"', f'default: "{new}"')
