"""Where the editors' tools find a bundle: the draft (the files being edited) or a version.

`draft_files(root)` reads `root/content` and `root/flows`; without a root, the draft: the
configured folders, with the files editors saved in the console over them (`drafts`);
`version_files(app, number)` reads a published version from the database. Both give the
bundle's files (name -> bytes); `bundle.parse` turns them into Content.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_app_context

from bot import settings
from bot.content import bundle
from bot.content.files import ContentError
from bot.content.schema import Content
from bot.db import versions
from bot.db.database import database
from bot.studio import drafts


def folders(root: str | Path | None = None) -> tuple[Path, Path]:
    """Return the content and flows folders of a root (default: the configured ones)."""
    if root is not None:
        return Path(root) / "content", Path(root) / "flows"
    config = current_app.config if has_app_context() else settings.content_folders()
    return Path(config["CONTENT_DIR"]), Path(config["FLOWS_DIR"])


def draft_files(root: str | Path | None = None) -> dict[str, bytes]:
    """Read the draft's files (raise ContentError naming a missing file)."""
    found = bundle.read_folders(*folders(root))
    if root is None and has_app_context():  # the console's saves, over the folders
        found = drafts.files(database(current_app), found)
    return found


def draft(root: str | Path | None = None) -> Content:
    """Read and parse the draft."""
    return bundle.parse(draft_files(root))


def version_files(app: Flask, number: int) -> dict[str, bytes]:
    """Return the files of published version `number` (raise ContentError if there is none)."""
    files = versions.files_of(database(app), number=number)
    if files is None:
        raise ContentError(f"there is no version {number}; `tsunagu versions` lists them")
    return files


def version(app: Flask, number: int) -> Content:
    """Return published version `number`, parsed."""
    return bundle.parse(version_files(app, number))
