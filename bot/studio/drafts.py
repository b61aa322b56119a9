"""The editors' draft in the database: its files, and saving an office's facts with their source.

The draft is one bundle of the same files as the content folders, which seed it: until the
first save in the console, the draft is the folders; after it, the files saved here (every
file not saved is still read from the folders). Each save changes one item (an office) and is
kept (`draft_saves`: who, when, which fields, before and after), so a save made on an older
revision of that item is refused (`Conflict`) and nothing is lost. The facts a save gives
(phone, web address, address, hours) are only taken with a source and the date it was checked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bot import clock
from bot.content import bundle
from bot.content.bundle import OFFICES
from bot.db.database import Database
from bot.db.models import DraftFile, DraftSave

FACTS = ("phone", "url", "address", "hours")  # what a source must back
FIELDS = (*FACTS, "verify", "checked")
PHONE = re.compile(r"\+?[0-9][0-9-]{7,14}[0-9]")  # 018-896-1531, 0120-061-338
MAX_FACT = 300


class Conflict(Exception):
    """Another editor saved the same item after the form was opened; nothing was saved."""

    def __init__(self, theirs: DraftSave) -> None:
        super().__init__(f"{theirs.item} was saved by {theirs.who} meanwhile")
        self.theirs = theirs


@dataclass
class OfficeForm:
    """What an editor typed into an office's form, read and checked field by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)  # field -> a Japanese message

    @property
    def fine(self) -> bool:
        return not self.errors


def stored(db: Database) -> dict[str, bytes]:
    """Return the files saved in the console (none until the first save)."""
    with db.transaction() as session:
        return {f.name: f.text.encode("utf-8") for f in session.scalars(select(DraftFile))}


def files(db: Database, folders: Mapping[str, bytes]) -> dict[str, bytes]:
    """Return the draft: the files saved in the console over the folders' files."""
    return {**folders, **stored(db)}


def revision(db: Database, item: str) -> int:
    """Return the revision an item was last saved at (0: never saved in the console)."""
    with db.transaction() as session:
        return session.scalar(select(func.max(DraftSave.id)).where(DraftSave.item == item)) or 0


def history(db: Database, item: str | None = None, limit: int = 50) -> list[DraftSave]:
    """Return the newest saves (of one item, if given)."""
    query = select(DraftSave).order_by(DraftSave.id.desc()).limit(limit)
    if item is not None:
        query = query.where(DraftSave.item == item)
    with db.transaction() as session:
        return list(session.scalars(query))


def office_item(office_id: str) -> str:
    return f"office:{office_id}"


def read_office_form(form: Mapping[str, str], today: dt.date | None = None) -> OfficeForm:
    """Read an office form; say beside each field what cannot be taken, keeping what was typed."""
    today = today or clock.japan_date()
    values = {name: (form.get(name) or "").strip() for name in (*FACTS, "source", "checked")}
    values["verify"] = "1" if form.get("verify") else ""
    errors: dict[str, str] = {}
    phone = values["phone"].replace(" ", "")
    if phone and not PHONE.fullmatch(phone):
        errors["phone"] = "電話番号は 018-896-1531 のように、数字とハイフンで入れてください。"
    values["phone"] = phone
    if values["url"] and not re.fullmatch(r"https://[^\s\"'<>]+", values["url"]):
        errors["url"] = "ウェブのアドレスは https:// で始まるものだけ入れられます。"
    for name in FACTS:
        if len(values[name]) > MAX_FACT:
            errors[name] = f"{MAX_FACT} 文字までにしてください。"
    if not values["source"]:
        errors["source"] = ("出典（ページのアドレスか、資料の名前）を入れてください。"
                            "出典のない情報は保存できません。")
    try:
        checked = dt.date.fromisoformat(values["checked"])
    except ValueError:
        errors["checked"] = "確かめた日を 2026-12-07 のように入れてください。"
    else:
        if checked > today:
            errors["checked"] = "確かめた日に、先の日付は入れられません。"
    return OfficeForm(values, errors)


def save_office(db: Database, draft: Mapping[str, bytes], office_id: str, form: OfficeForm,
                base: int, who: str) -> DraftSave | None:
    """Save an office's facts into the draft; None if nothing changed.

    `base` is the item's revision the form was opened at: a newer save of the same office
    raises Conflict and nothing is written.
    """
    docs, _ = bundle.documents({OFFICES: draft[OFFICES]}, (OFFICES,))
    doc = docs[OFFICES]
    offices = doc.data["offices"]
    index = next(i for i, o in enumerate(offices) if o.get("id") == office_id)
    office = dict(offices[index])
    changes = _changes(office, form)
    if not changes:
        return None
    before = {name: office.get(name, "" if name != "verify" else False) for name in changes}
    office.update(changes)
    facts = [name for name in FACTS if name in changes]
    if facts:
        office.setdefault("sources", [])
        office["sources"] = [*office["sources"], f"{', '.join(facts)}: {form.values['source']} "
                             f"(checked {form.values['checked']}; entered in the console by "
                             f"{who})"]
    text = _with_item(draft[OFFICES].decode("utf-8"), doc, index, len(offices), office)
    item = office_item(office_id)
    with db.writing() as conn:
        latest = conn.execute(select(func.max(DraftSave.id))
                              .where(DraftSave.item == item)).scalar() or 0
        if latest != base:
            theirs = conn.execute(select(DraftSave).where(DraftSave.id == latest)).one()
            raise Conflict(DraftSave(**theirs._mapping))
        _put(conn, OFFICES, text)
        saved = {"at": clock.now(), "who": who, "file": OFFICES, "item": item,
                 "before": _plain(before), "after": _plain(changes)}
        new_id = conn.execute(DraftSave.__table__.insert().values(**saved)).inserted_primary_key[0]
    return DraftSave(id=new_id, **saved)


def _put(conn, name: str, text: str) -> None:
    """Write one file of the draft (in the caller's transaction)."""
    table = DraftFile.__table__
    if conn.execute(select(table.c.name).where(table.c.name == name)).first():
        conn.execute(table.update().where(table.c.name == name).values(text=text))
    else:
        conn.execute(table.insert().values(name=name, text=text))


def _changes(office: dict, form: OfficeForm) -> dict[str, object]:
    wanted: dict[str, object] = {name: form.values[name] for name in FACTS}
    wanted["verify"] = bool(form.values["verify"])
    changes = {name: value for name, value in wanted.items()
               if value != office.get(name, False if name == "verify" else "")}
    if changes:  # a save says the facts were checked against the source that day
        changes["checked"] = dt.date.fromisoformat(form.values["checked"])
    return changes


def _plain(values: Mapping[str, object]) -> dict[str, object]:
    return json.loads(json.dumps(values, default=str))


def _with_item(text: str, doc, index: int, count: int, office: dict) -> str:
    """Return the file's text with one office's block written anew (the rest as it was)."""
    lines = text.splitlines(keepends=True)
    start = doc.line("offices", index) - 1
    end = doc.line("offices", index + 1) - 1 if index + 1 < count else len(lines)
    # Blank and comment lines before the next office belong to it, not to this one.
    while end > start + 1 and (not lines[end - 1].strip()
                               or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    block = yaml.safe_dump([office], allow_unicode=True, sort_keys=False, width=10_000,
                           default_flow_style=False)
    indented = "".join("  " + line if line.strip() else line
                       for line in block.splitlines(keepends=True))
    return "".join([*lines[:start], indented, *lines[end:]])


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
    (folder / MARK).write_text(f"{revision_now}\n", encoding="utf-8")
    return sorted(draft)


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
        for name in changed:
            _put(conn, name, incoming[name].decode("utf-8"))
        conn.execute(DraftSave.__table__.insert().values(
            at=clock.now(), who=who, file=", ".join(changed), item="draft:import",
            before={}, after={"files": changed}))
    return changed
