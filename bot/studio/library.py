"""Where the editors' tools find a bundle: the draft (the files being edited) or a version.

`draft_files(root)` reads `root/content` and `root/flows`; without a root, the draft: the
configured folders, with the files editors saved in the console over them (`drafts`);
`read_draft(root)` reads the same draft for the commands that run without the app
(`tsunagu check`, `simulate`, `graph`) and says which files the console saved;
`version_files(app, number)` reads a published version from the database. All give the
bundle's files (name -> bytes); `bundle.parse` turns them into Content.

A database never upgraded (no `draft_files` table yet) has no console saves: the draft is
the folders. Any other database error is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot import settings
from bot.content import bundle
from bot.content.files import ContentError
from bot.content.schema import Content
from bot.db import versions
from bot.db.database import Database, database
from bot.db.models import DraftFile
from bot.studio import drafts

UNREADABLE = ("cannot read the files saved in the console from the database ({problem}): "
              "check DATABASE_URL, or give --root DIR to use a folder alone")


def folders(root: str | Path | None = None) -> tuple[Path, Path]:
    """Return the content and flows folders of a root (default: the configured ones)."""
    if root is not None:
        return Path(root) / "content", Path(root) / "flows"
    config = current_app.config if has_app_context() else settings.content_folders()
    return Path(config["CONTENT_DIR"]), Path(config["FLOWS_DIR"])


def saved_files(db: Database) -> dict[str, bytes]:
    """Return the files saved in the console; none if the database has no draft table yet."""
    try:
        return drafts.stored(db)
    except DBAPIError:
        if not _lacks_table(db, DraftFile.__tablename__):
            raise
        return {}  # never upgraded (or empty): nothing can have been saved in the console


def _lacks_table(db: Database, name: str) -> bool:
    try:
        return not inspect(db.engine).has_table(name)
    except SQLAlchemyError:
        return False  # cannot tell: the error that led here stands


def draft_files(root: str | Path | None = None) -> dict[str, bytes]:
    """Read the draft's files (raise ContentError naming a missing file)."""
    found = bundle.read_folders(*folders(root))
    if root is None and has_app_context():  # the console's saves, over the folders
        found = {**found, **saved_files(database(current_app))}
    return found


@dataclass(frozen=True)
class Draft:
    """The draft a command read: its files, its folders, and which files the console saved."""

    files: dict[str, bytes]
    folders: tuple[Path, Path]
    saved: tuple[str, ...] = ()  # the files saved in the console, read over the folders'

    def described(self) -> str:
        """Say which draft this is, for an editor who looks at the folders (one line)."""
        count = len(self.saved)
        return (f"{self.folders[0]} and {self.folders[1]}, with {count} "
                f"{'file' if count == 1 else 'files'} saved in the console over them "
                f"({', '.join(self.saved)}; `tsunagu draft export DIR` writes them out)")


def read_draft(root: str | Path | None = None, complete: bool = True) -> Draft:
    """Read the draft for `tsunagu check`, `simulate` or `graph`, with or without the app.

    With a root: that folder's files alone, no database. Without: the configured folders
    with the files saved in the console over them, as the console shows them: from the
    app's database inside the app, else from the database the settings name (DATABASE_URL),
    opened for this read alone. Those commands do not build the app, which refuses to start
    on a draft with errors, the very draft `tsunagu check` must report on. A database error
    other than "no draft table yet" is a click.ClickException saying so.
    """
    where = folders(root)
    found = bundle.read_folders(*where, complete=complete)
    if root is not None:
        return Draft(found, where)
    try:
        if has_app_context():
            saved = saved_files(database(current_app))
        else:
            saved = _saved_in_configured_database()
    except SQLAlchemyError as err:
        raise click.ClickException(UNREADABLE.format(problem=_first_line(err))) from err
    return Draft({**found, **saved}, where, tuple(sorted(saved)))


def _saved_in_configured_database() -> dict[str, bytes]:
    # The instance folder of create_app's Flask("bot"), where the default SQLite file lives.
    instance = Flask("bot", instance_relative_config=True).instance_path
    url = settings.from_env(instance)["DATABASE_URL"]
    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
        return {}  # no database yet, so nothing saved in the console (and none is made)
    db = Database(url)
    try:
        return saved_files(db)
    finally:
        db.dispose()


def _first_line(err: SQLAlchemyError) -> str:
    said = str(getattr(err, "orig", None) or err).strip()
    return (said.splitlines() or [type(err).__name__])[0]


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
