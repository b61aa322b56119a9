"""The editors' forms in the browser: any item of the draft shown, saved, added and restored.

Which items there are and their fields is `bot.studio.forms`; saving them is
`bot.studio.drafts`. A save goes into the draft, never to the live bot. It is refused beside
the field when a value cannot be taken (the form kept as typed), refused with the other
editor's change when it was made on an older revision, audited, and checked with the whole
draft: the check's problems are shown beside the fields they concern.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from bot import clock
from bot.console.auth import requires, who
from bot.console.drafting import draft_report, summary
from bot.console.web import blueprint, error_page
from bot.content import bundle
from bot.content.files import ContentError
from bot.db.audit import audit
from bot.db.database import database
from bot.studio import drafts, library
from bot.studio.checks.japanese import sentence
from bot.studio.forms import (
    KINDS,
    NEW_KEY,
    SHOWN_LABELS,
    Form,
    Kind,
    label_of,
    problems_by_field,
    read,
    typed_values,
)


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    return kind


@blueprint.get("/draft/")
@requires("editor")
def show_draft():
    """List what editors can change in the draft, with the check's summary."""
    _, report = draft_report()
    return render_template("console/draft_home.html", kinds=KINDS.values(),
                           summary=summary(report))


@blueprint.get("/draft/<kind_name>")
@requires("editor")
def list_items(kind_name: str):
    """List the entries of a kind (searched by name), or show the form of a kind of keys."""
    kind = _kind(kind_name)
    if not kind.items:
        return _item_page(kind, "")
    files, report = draft_report()
    try:
        _, _, items = drafts.entries(files, kind)
    except ContentError as err:
        return error_page(400, f"下書きのファイルが読めません: {err}")
    query = request.args.get("q", "").strip()
    rows = [(key, _name_of(kind, entry)) for key, entry in zip(drafts.keys(kind, items), items,
                                                               strict=True)]
    if query:
        rows = [(key, name) for key, name in rows if query in name or query in key]
    return render_template("console/draft_items.html", kind=kind, rows=rows, query=query,
                           summary=summary(report))


def _name_of(kind: Kind, entry) -> str:
    for name in ("name", "title", "plain_name", "label", "id"):
        if entry.get(name):
            text = str(entry[name])
            if name == "id" and kind.name == "questions":
                ask = entry.get("ask") or {}
                return f"{text}: {ask.get('default', '')}"
            return text
    return "（名前なし）"


@blueprint.get("/draft/<kind_name>/<key>")
@requires("editor")
def show_item(kind_name: str, key: str):
    """Show an item's form: its values, its sources, and what the check says of it."""
    kind = _kind(kind_name)
    if key == "new" and kind.can_add:
        return _new_page(kind)
    return _item_page(kind, key)


@blueprint.post("/draft/<kind_name>", defaults={"key": ""})
@blueprint.post("/draft/<kind_name>/<key>")
@requires("editor")
def save_item(kind_name: str, key: str):
    """Save an item's form into the draft; refuse bad values and a lost update."""
    kind = _kind(kind_name)
    if bool(key) != bool(kind.items):
        abort(404)
    if key == "new" and kind.can_add:
        return _add(kind)
    files, content, item, index = _loaded(kind, key)
    fields = drafts.fields_of(kind, item, content)
    form = _read(kind, fields, item, content)
    if not form.fine:
        return _item_page(kind, key, form, 400)
    try:
        base = int(request.form.get("revision", ""))
    except ValueError:
        return error_page(400)
    try:
        saved = drafts.save_item(database(), files, kind, key, form, fields, base, who())
    except drafts.Conflict as conflict:
        return _item_page(kind, key, form, 409, theirs=conflict.theirs)
    _said(kind, key, saved)
    draft_report()  # check the saved draft here, once, for the page it goes to (any worker)
    return redirect(_address(kind, key))


def _read(kind: Kind, fields, item, content) -> Form:
    return read(kind, fields, item, request.form, content, getlist=request.form.getlist)


def _said(kind: Kind, key: str, saved) -> None:
    if saved is None:
        flash("変わったところはありませんでした。")
        return
    changes = ", ".join(f"{name}: {saved.before.get(name, '')!r} -> {value!r}"
                        for name, value in saved.after.items())
    audit(who(), "draft_save", f"{kind.item_of(key)}: {changes}")
    flash("下書きに保存しました。公開するまで、LINE の答えは変わりません。")


def _address(kind: Kind, key: str) -> str:
    if not kind.items:
        return url_for("console.list_items", kind_name=kind.name)
    return url_for("console.show_item", kind_name=kind.name, key=key)


def _loaded(kind: Kind, key: str):
    """Return the draft's files, content, the item and its position (404 if there is none)."""
    files = library.draft_files()
    try:  # the files alone (a few tens of ms): the check runs once the save is made
        content = bundle.parse(files)
    except ContentError:
        abort(409)
    found = drafts.find(files, kind, key)
    if found is None:
        abort(404)
    index, item = found
    return files, content, item, index


def _item_page(kind: Kind, key: str, form: Form | None = None, status: int = 200,
               theirs=None):
    files, report = draft_report()
    if report.content is None:
        return _unreadable(report)
    found = drafts.find(files, kind, key)
    if found is None:
        return error_page(404)
    index, item = found
    fields = drafts.fields_of(kind, item, report.content)
    name = kind.item_of(key)
    current = drafts.revision(database(), name)
    # A refused form keeps the revision it was opened at (so a newer save is still seen);
    # a new form, or one shown beside the other editor's save, the latest.
    revision = current if form is None or theirs else request.form.get("revision", current)
    doc, _, _ = drafts.entries(files, kind)
    typed, both = dict(form.typed) if form else {}, []
    if theirs is not None:
        typed, both = _merged(kind, key, item, fields, typed)
    return render_template(
        "console/draft_item.html", kind=kind, key=key, item=item, fields=fields,
        values={**typed_values(item, fields), **typed}, both=both,
        errors=form.errors if form else {}, revision=revision, theirs=theirs,
        problems={name: [sentence(p) for p in found] for name, found in problems_by_field(
            report.problems, kind, doc, index, key, fields).items()},
        history=drafts.history(database(), name, limit=10), summary=summary(report),
        sources=(item.get("sources") if kind.sources == "sources"
                 else (item.get("contact") or {}).get("sources")) or [],
        choices={f.name: f.choices(report.content) for f in fields if f.choices},
        action=_address(kind, key), labels={**{n: label_of(n) for n in ("sources", "checked")},
                                            **{f.name: f.label for f in fields}},
        today=clock.japan_date().isoformat(), shown_labels=SHOWN_LABELS), status


def _merged(kind: Kind, key: str, item, fields, typed: dict) -> tuple[dict, list[str]]:
    """Return the form with the other editor's changes in the fields this one left alone.

    A field this editor did not touch shows the value saved meanwhile (so saving again keeps
    it); a field both changed keeps what this editor typed, and is named (`both`).
    """
    try:
        base = int(request.form.get("revision", ""))
    except ValueError:
        return typed, []
    saves = drafts.saves_since(database(), kind.item_of(key), base)
    if any(s.item == drafts.IMPORT for s in saves):
        return typed, []  # whole files changed: nothing says which fields
    was = drafts.as_before(item, saves)
    now_shown, was_shown = typed_values(item, fields), typed_values(was, fields)
    both = []
    for name, value in typed.items():
        if name not in was_shown or was_shown[name] == now_shown[name]:
            continue  # nobody else changed it
        if value == was_shown[name]:
            typed[name] = now_shown[name]  # left as it was: take theirs
        else:
            both.append(name)
    return typed, both


def _unreadable(report):
    first = "; ".join(p.text() for p in report.errors()[:3])
    return error_page(409, f"下書きのファイルが読めないため、編集できません: {first}")


def _new_page(kind: Kind, form: Form | None = None, status: int = 200):
    files, report = draft_report()
    if report.content is None:
        return _unreadable(report)
    fields = drafts.fields_of(kind, {}, report.content)
    return render_template(
        "console/draft_item.html", kind=kind, key="new", item={}, fields=fields,
        values={**typed_values({}, fields), **(form.typed if form else {})},
        errors=form.errors if form else {}, revision=0, theirs=None, problems={},
        history=[], summary=summary(report), sources=[],
        choices={f.name: f.choices(report.content) for f in fields if f.choices},
        action=url_for("console.save_item", kind_name=kind.name, key="new"),
        labels={f.name: f.label for f in fields}, today=clock.japan_date().isoformat()), status


def _add(kind: Kind):
    files, report = draft_report()
    if report.content is None:
        return _unreadable(report)
    fields = drafts.fields_of(kind, {}, report.content)
    form = _read(kind, fields, {}, report.content)
    new_key = (request.form.get("id") or "").strip()
    form.typed["id"] = new_key
    if kind.key and not NEW_KEY.fullmatch(new_key):
        form.errors["id"] = ("id は mensetsukai-2027-02 のように、半角の小文字・数字・ハイフンで"
                             "入れてください（2〜40 文字）。")
    if not form.fine:
        return _new_page(kind, form, 400)
    try:
        key, saved = drafts.add_item(database(), files, kind, new_key, form, fields, who())
    except drafts.Taken:
        form.errors["id"] = "この id はもう使われています。ほかの id にしてください。"
        return _new_page(kind, form, 400)
    audit(who(), "draft_save", f"{kind.item_of(key)}: added")
    draft_report()
    flash("下書きに加えました。公開するまで、LINE の答えは変わりません。")
    return redirect(_address(kind, key))


@blueprint.get("/draft/history")
@requires("editor")
def show_history():
    """List the draft's saves, newest first, each with a way back to before it."""
    _, report = draft_report()
    saves = drafts.history(database(), limit=200)
    revisions = {s.item: drafts.revision(database(), s.item) for s in saves}
    return render_template("console/draft_history.html", saves=saves, summary=summary(report),
                           kinds=KINDS, revisions=revisions, label_of=label_of)


@blueprint.post("/draft/history/<int:save_id>/restore")
@requires("editor")
def restore_save(save_id: int):
    """Put an item back as it was before one save (refused if it was saved since)."""
    save = drafts.one_save(database(), save_id)
    if save is None or save.item.partition(":")[0] not in KINDS:
        return error_page(404)
    try:
        base = int(request.form.get("revision", ""))
    except ValueError:
        return error_page(400)
    kind = KINDS[save.item.partition(":")[0]]
    key = save.item.partition(":")[2]
    files = library.draft_files()
    try:
        restored = drafts.restore(database(), files, save, base, who())
    except KeyError:
        return error_page(404)
    except drafts.Conflict:
        flash("このページを開いたあとに、この項目が保存されました。記録を開き直して、"
              "確かめてからもう一度戻してください。")
        return redirect(url_for("console.show_history"))
    if restored is None:
        flash("すでにその保存の前と同じです。")
    else:
        audit(who(), "draft_restore", f"{save.item}: before save {save_id}")
        draft_report()
        flash("保存の前の状態に戻しました（下書きです。公開するまで LINE は変わりません）。")
    return redirect(_address(kind, key))
