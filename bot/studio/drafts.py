"""The editors' draft in the database: its files, and saving one item of it with its source.

The draft is one bundle of the same files as the content folders, which seed it: until the
first save in the console, the draft is the folders; after it, the files saved here (every
file not saved is still read from the folders). Each save changes one item (an office, a
question, the messages …; `bot.studio.forms` says which) and is kept (`draft_saves`: who,
when, which fields, before and after), so a save made on an older revision of that item is
refused (`Conflict`) and nothing is lost, and an earlier state of an item can be restored.
Only the item's own lines of its file are written anew: the rest, comments too, stays.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy import text as text_sql
from sqlalchemy.dialects import postgresql, sqlite

from bot import clock
from bot.content import bundle
from bot.content.files import ContentError, read_document
from bot.content.schema import Content
from bot.db.database import Database
from bot.db.models import DraftFile, DraftReport, DraftSave
from bot.studio.forms import CONFIRM, KINDS, NEW, REMOVE, Field, Form, Kind, changed, get, put, read

RESTORED = "restored"  # in a save's `after`: the id of the save whose earlier state it restored


class Conflict(Exception):
    """Another editor saved the same item after the form was opened; nothing was saved."""

    def __init__(self, theirs: DraftSave) -> None:
        super().__init__(f"{theirs.item} was saved by {theirs.who} meanwhile")
        self.theirs = theirs


class Taken(Exception):
    """A new item's id is given already; nothing was saved."""


def stored(db: Database) -> dict[str, bytes]:
    """Return the files saved in the console (none until the first save)."""
    with db.transaction() as session:
        return {f.name: f.text.encode("utf-8") for f in session.scalars(select(DraftFile))}


IMPORT = "draft:import"  # a save of whole files: every item of them may have changed


def revision(db: Database, item: str) -> int:
    """Return the revision an item was last saved at, by a form or an import (0: never)."""
    with db.transaction() as session:
        return session.scalar(select(func.max(DraftSave.id))
                              .where(DraftSave.item.in_((item, IMPORT)))) or 0


def saves_since(db: Database, item: str, base: int) -> list[DraftSave]:
    """Return the saves of an item (and imports) made after revision `base`, oldest first."""
    with db.transaction() as session:
        return list(session.scalars(select(DraftSave).where(
            DraftSave.item.in_((item, IMPORT)), DraftSave.id > base).order_by(DraftSave.id)))


def history(db: Database, item: str | None = None, limit: int = 50) -> list[DraftSave]:
    """Return the newest saves (of one item, if given)."""
    query = select(DraftSave).order_by(DraftSave.id.desc()).limit(limit)
    if item is not None:
        query = query.where(DraftSave.item == item)
    with db.transaction() as session:
        return list(session.scalars(query))


def one_save(db: Database, save_id: int) -> DraftSave | None:
    with db.transaction() as session:
        return session.get(DraftSave, save_id)


def office_item(office_id: str) -> str:
    return KINDS["offices"].item_of(office_id)


# -- one item of the draft -----------------------------------------------------------------

def entries(draft: Mapping[str, bytes], kind: Kind) -> tuple[object, dict, list]:
    """Return a kind's file read (its Document), its data, and its entries (if a list)."""
    docs, problems = bundle.documents({kind.file: draft.get(kind.file, b"{}\n")},
                                      (kind.file,))
    if kind.file not in docs:
        raise ContentError.of(problems)
    doc = docs[kind.file]
    data = doc.data if isinstance(doc.data, dict) else {}
    return doc, data, (data.get(kind.items) or []) if kind.items else []


def keys(kind: Kind, items: list) -> list[str]:
    """Return how each entry of a list kind is named in an address."""
    return [str(entry.get(kind.key, "")) if kind.key else str(n)
            for n, entry in enumerate(items, 1)]


def find(draft: Mapping[str, bytes], kind: Kind, key: str) -> tuple[int, dict] | None:
    """Return an item's position and its data (the file's own for a kind of keys)."""
    _, data, items = entries(draft, kind)
    if not kind.items:
        return -1, dict(data)
    names = keys(kind, items)
    if key not in names:
        return None
    index = names.index(key)
    return index, dict(items[index])


def fields_of(kind: Kind, item: Mapping, content: Content) -> list[Field]:
    return kind.fields(item, content)


def save_item(db: Database, draft: Mapping[str, bytes], kind: Kind, key: str, form: Form,
              fields: list[Field], base: int, who: str) -> DraftSave | None:
    """Save what a form read into one item of the draft; None if nothing changed.

    `base` is the item's revision the form was opened at: a newer save of the same item
    raises Conflict and nothing is written.
    """
    index, item = find(draft, kind, key) or (None, None)
    if item is None:
        raise KeyError(key)
    names = changed(fields, item, form.values)
    if not names:
        return None
    by_name = {f.name: f for f in fields}
    updated = copy.deepcopy(item)
    lists = []  # the lists an entry is added to or taken out of: kept whole in the history
    for name in names:
        value = form.values[name]
        path, new, leaf = name.partition(f".{NEW}.")
        if new:
            _new_entry(updated, path, leaf, value)
            lists.append(path)
        elif name == CONFIRM:
            continue
        elif name.endswith(f".{REMOVE}"):
            lists.append(name.split(".")[0])
            put(updated, name, value)
        else:
            put(updated, name, value, drop=by_name[name].drop_empty and value in ("", [], None))
    for path in dict.fromkeys(lists):
        kept = [e for e in get(updated, path) if not e.pop(REMOVE, False)]
        for entry in kept:
            entry.pop("_new", None)
        put(updated, path, kept)
    facts = [name for name in names if by_name[name].fact and name != CONFIRM]
    cited = bool(facts) or CONFIRM in names
    if cited:
        named = facts or [f.name for f in fields if f.fact and f.name != CONFIRM
                          and get(item, f.name)]
        _cite(updated, kind, named or ["facts"], form, who,
              "" if facts else "confirmed unchanged: ")
    names = [name for name in names if name != CONFIRM]
    plain = [n for n in names if f".{NEW}." not in n and not n.endswith(f".{REMOVE}")
             and not any(n.startswith(f"{p}.") for p in lists)]
    touched = [*plain, *dict.fromkeys(lists), *([kind.sources] if cited else []),
               *([kind.checked] if cited and kind.checked else [])]
    before = {name: get(item, name) for name in touched}
    after = {name: get(updated, name) for name in touched}
    return _write(db, draft, kind, key, index, updated, base, who, before, after)


def _new_entry(item: dict, path: str, leaf: str, value) -> None:
    """Put one field of the entry a form adds into the list at path (made by its first)."""
    entries = get(item, path)
    if not entries or not entries[-1].get("_new"):
        entries.append({"_new": True})
    entries[-1][leaf] = value


def add_item(db: Database, draft: Mapping[str, bytes], kind: Kind, key: str, form: Form,
             fields: list[Field], who: str) -> tuple[str, DraftSave]:
    """Add a new entry to a list kind; return its key and the save (Taken if the id is)."""
    item: dict = {kind.key: key} if kind.key else {}
    by_name = {f.name: f for f in fields}
    for name, value in form.values.items():
        if value not in ("", [], None) or not by_name[name].drop_empty:
            put(item, name, value)
    facts = [name for name, value in form.values.items()
             if by_name[name].fact and value not in ("", None)]
    if facts:
        _cite(item, kind, facts, form, who)
    saved = _write(db, draft, kind, key, -1, item, 0, who, {}, item, adding=True)
    return saved.item.partition(":")[2], saved


def restore(db: Database, draft: Mapping[str, bytes], save: DraftSave, base: int,
            who: str) -> DraftSave | None:
    """Put an item back as it was before a save; None if it is so already."""
    kind_name, _, key = save.item.partition(":")
    kind = KINDS[kind_name]
    index, item = find(draft, kind, key) or (None, None)
    if item is None:
        raise KeyError(save.item)
    updated = copy.deepcopy(item)
    names = [name for name in save.before if name != RESTORED]
    for name in names:
        value = _revive(save.before[name])
        if name == kind.sources:  # take out only the sources this save added: later ones stay
            added = [s for s in save.after.get(name) or [] if s not in (value or [])]
            value = [s for s in get(item, name) or [] if s not in added]
        put(updated, name, value, drop=value is None)
    before = {name: get(item, name) for name in names}
    after = {name: get(updated, name) for name in names}
    if _plain(before) == _plain(after):
        return None
    return _write(db, draft, kind, key, index, updated, base, who, before,
                  {**after, RESTORED: save.id})


def as_before(item: Mapping, saves: list[DraftSave]) -> dict:
    """Return an item as it was before these saves (oldest first) changed it."""
    was = copy.deepcopy(dict(item))
    for save in reversed(saves):
        for name, value in save.before.items():
            if name != RESTORED:
                put(was, name, _revive(value), drop=value is None)
    return was


def _cite(item: dict, kind: Kind, facts: list[str], form: Form, who: str,
          how: str = "") -> None:
    """Add the source of the facts a save gives to the item's sources (and the date)."""
    cited = how + ", ".join(name.rsplit(".", 1)[-1] for name in facts)
    sources = list(get(item, kind.sources) or [])
    sources.append(f"{cited}: {form.typed['source']} (checked {form.typed['checked']}; "
                   f"entered in the console by {who})")
    put(item, kind.sources, sources)
    if kind.checked:
        put(item, kind.checked, dt.date.fromisoformat(form.typed["checked"]))


DRAFT_LOCK = 0x7473_6472  # PostgreSQL advisory lock of the draft's files ("tsdr")


def _write(db: Database, draft: Mapping[str, bytes], kind: Kind, key: str, index: int,
           updated: dict, base: int, who: str, before: dict, after: dict,
           adding: bool = False) -> DraftSave:
    """Write one item into its file as the database has it now, unless it was saved since.

    The file is read again under the draft's lock: another editor may have saved another
    item of the same file since this form's draft was read, and that save must stay.
    """
    _, data, _ = entries(draft, kind)
    keys_changed = {} if kind.items else {k: v for k, v in updated.items() if data.get(k) != v}
    with db.writing() as conn:
        _lock(conn)
        text = _stored_text(conn, kind.file) or draft.get(kind.file, b"").decode("utf-8")
        doc = read_document(kind.file, text.encode("utf-8"))
        items = ((doc.data or {}).get(kind.items) or []) if kind.items else []
        if adding:
            if kind.key and key in keys(kind, items):
                raise Taken(key)
            key, index = (key if kind.key else str(len(items) + 1)), len(items)
        item = kind.item_of(key)
        latest = conn.execute(select(func.max(DraftSave.id))
                              .where(DraftSave.item.in_((item, IMPORT)))).scalar() or 0
        if latest != base:
            theirs = conn.execute(select(DraftSave).where(DraftSave.id == latest)).one()
            raise Conflict(DraftSave(**theirs._mapping))
        if not kind.items:
            text = _with_keys(text, doc, keys_changed)
        elif index >= len(items):
            text = _with_entry(text, doc, kind.items, len(items), updated)
        else:
            text = _with_item(text, doc, kind.items, index, len(items), updated)
        _put(conn, kind.file, text)
        saved = {"at": clock.now(), "who": who, "file": kind.file, "item": item,
                 "before": _plain(before), "after": _plain(after)}
        new_id = conn.execute(DraftSave.__table__.insert().values(**saved)).inserted_primary_key[0]
    return DraftSave(id=new_id, **saved)


def _lock(conn) -> None:
    """Take the draft's lock for this transaction (SQLite: its write lock is the lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text_sql("SELECT pg_advisory_xact_lock(:key)"), {"key": DRAFT_LOCK})


def _stored_text(conn, name: str) -> str | None:
    table = DraftFile.__table__
    return conn.execute(select(table.c.text).where(table.c.name == name)).scalar()


def read_office_form(form: Mapping[str, str], today: dt.date | None = None) -> dict:
    """Return an office form as typed (read against the office by `save_office`)."""
    return {**form, "today": today}


def save_office(db: Database, draft: Mapping[str, bytes], office_id: str, typed: Mapping,
                base: int, who: str) -> DraftSave | None:
    """Save an office's facts as its form in the console would (ValueError if refused)."""
    kind = KINDS["offices"]
    content = bundle.parse(draft)
    _, item = find(draft, kind, office_id)
    fields = fields_of(kind, item, content)
    shown = {f.name: get(item, f.name, "") for f in fields}
    form = read(kind, fields, item, {**shown, **typed}, content, today=typed.get("today"))
    if not form.fine:
        raise ValueError(form.errors)
    return save_item(db, draft, kind, office_id, form, fields, base, who)


def _put(conn, name: str, text: str) -> None:
    """Write one file of the draft (in the caller's transaction)."""
    table = DraftFile.__table__
    if conn.execute(select(table.c.name).where(table.c.name == name)).first():
        conn.execute(table.update().where(table.c.name == name).values(text=text))
    else:
        conn.execute(table.insert().values(name=name, text=text))


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _revive(value):
    """Return a value kept in a save's JSON as the file had it (a date as a date)."""
    if isinstance(value, str) and DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    return value


def _plain(values: Mapping[str, object]) -> dict[str, object]:
    return json.loads(json.dumps(values, default=str))


def _dump(value) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=10_000,
                          default_flow_style=False)


def _block_end(lines: list[str], start: int, end: int) -> int:
    # Blank and comment lines before the next entry or key belong to it, not to this one.
    while end > start + 1 and (not lines[end - 1].strip()
                               or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _indented(value: list, like: str) -> str:
    indent = " " * (len(like) - len(like.lstrip(" ")))
    return "".join(indent + line if line.strip() else line
                   for line in _dump(value).splitlines(keepends=True))


def _with_item(text: str, doc, items: str, index: int, count: int, entry: dict) -> str:
    """Return the file's text with one entry of a list written anew (the rest as it was)."""
    lines = text.splitlines(keepends=True)
    start = doc.line(items, index) - 1
    end = doc.line(items, index + 1) - 1 if index + 1 < count else _end_of(doc, items, lines)
    end = _block_end(lines, start, end)
    return "".join([*lines[:start], _indented([entry], lines[start]), *lines[end:]])


def _with_entry(text: str, doc, items: str, count: int, entry: dict) -> str:
    """Return the file's text with one more entry at the end of a list."""
    if count == 0:
        return _with_keys(text, doc, {items: [entry]})
    lines = text.splitlines(keepends=True)
    start = doc.line(items, count - 1) - 1
    end = _block_end(lines, start, _end_of(doc, items, lines))
    if not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join([*lines[:end], _indented([entry], lines[start]), *lines[end:]])


def _end_of(doc, key: str, lines: list[str]) -> int:
    """Return the line index just past a top-level key's block."""
    start = doc.line(key)
    later = [n for n in (doc.line(k) for k in (doc.data or {})) if n and n > start]
    return min(later) - 1 if later else len(lines)


def _with_keys(text: str, doc, updates: Mapping[str, object]) -> str:
    """Return the file's text with some of its top-level keys written anew."""
    for key, value in updates.items():
        lines = text.splitlines(keepends=True)
        block = _dump({key: value})
        start = doc.line(key)
        if start is None:
            text = "".join(lines) + ("" if not lines or lines[-1].endswith("\n") else "\n")
            text += block
        else:
            end = _block_end(lines, start - 1, _end_of(doc, key, lines))
            text = "".join([*lines[:start - 1], block, *lines[end:]])
        doc = read_document(doc.name, text.encode("utf-8"))
    return text


# -- the check's report of a draft, kept for every worker ------------------------------------

REPORTS_KEPT = dt.timedelta(days=2)  # older reports are of drafts long gone


def kept_report(db: Database, key: str) -> dict | None:
    """Return the report kept under a key (bundle id, day, stale days), if any."""
    with db.transaction() as session:
        found = session.get(DraftReport, key)
        return dict(found.body) if found is not None else None


def keep_report(db: Database, key: str, body: dict) -> None:
    """Keep a report for every worker (a worker that kept it first wins: they are the same)."""
    table = DraftReport.__table__
    with db.writing() as conn:
        conn.execute(table.delete().where(table.c.made_at < clock.now() - REPORTS_KEPT))
        # Two workers may check one draft at once: the second's insert does nothing.
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
        conn.execute(insert(table).values(key=key, made_at=clock.now(), body=body)
                     .on_conflict_do_nothing(index_elements=["key"]))


# -- the draft as files: `tsunagu draft export` and `import` --------------------------------

MARK = ".tsunagu-draft"  # in an exported folder: the draft's revision it was exported at


def latest(db: Database) -> int:
    """Return the draft's revision: the id of its newest save (0: none)."""
    with db.transaction() as session:
        return session.scalar(select(func.max(DraftSave.id))) or 0


def export(draft: Mapping[str, bytes], folder: Path, revision_now: int) -> list[str]:
    """Write the draft's files under folder (content/, flows/); return the names written."""
    for name, data in draft.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)  # as saved: the comments of untouched files stay
    mark(folder, revision_now)
    return sorted(draft)


def mark(folder: Path, revision_now: int) -> None:
    """Say in a folder which revision of the draft it holds (export, or a whole import)."""
    (folder / MARK).write_text(f"{revision_now}\n", encoding="utf-8")


def exported_at(folder: Path) -> int | None:
    """Return the revision a folder was exported at (None: not exported by tsunagu)."""
    try:
        return int((folder / MARK).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def import_files(db: Database, draft: Mapping[str, bytes], incoming: Mapping[str, bytes],
                 who: str) -> list[str]:
    """Make the incoming files the draft's (those that differ); return their names."""
    changed = sorted(name for name, data in incoming.items() if draft.get(name) != data)
    if not changed:
        return []
    with db.writing() as conn:
        _lock(conn)
        for name in changed:
            _put(conn, name, incoming[name].decode("utf-8"))
        conn.execute(DraftSave.__table__.insert().values(
            at=clock.now(), who=who, file=", ".join(changed), item=IMPORT,
            before={}, after={"files": changed}))
    return changed
