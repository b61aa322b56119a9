"""The editors' draft in the browser: offices found, their facts saved with a source, a worklist.

A save goes into the draft (`bot.studio.drafts`), never straight to the live bot: the diff, the
preview and publishing are one click away on every page. Every save runs the checks of
`tsunagu check` on the whole draft and shows the office's problems beside its form.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for

from bot import clock
from bot.console.auth import requires, who
from bot.console.web import blueprint, error_page
from bot.content import bundle
from bot.content.files import ContentError
from bot.db.audit import audit
from bot.db.database import database
from bot.studio import drafts, library
from bot.studio.checks import examine
from bot.studio.checks.framework import stale_after_days

FACT_LABELS = {"phone": "電話番号", "url": "ウェブのアドレス", "address": "住所",
               "hours": "受付時間", "verify": "二次的な出典（確認が必要）", "checked": "確かめた日"}


# Reports by (bundle id, day, stale days): a bundle id is its files' checksum, so a report
# never changes for one draft on one day; each page would otherwise run the whole check (~1 s).
_REPORTS: dict[tuple, object] = {}


def _draft():
    files = library.draft_files()
    key = (bundle.bundle_id(files), clock.japan_date(), stale_after_days())
    if key not in _REPORTS:
        if len(_REPORTS) >= 8:
            _REPORTS.pop(next(iter(_REPORTS)))
        _REPORTS[key] = examine(files)
    return files, _REPORTS[key]


def _summary(report) -> dict:
    cover = report.coverage
    return {"errors": len(report.errors()), "warnings": len(report.warnings),
            "coverage": (f"{cover.reached:,} / {cover.total:,}" if cover else "-")}


def _office_problems(report, office_id: str) -> dict[str, list[str]]:
    """Return the check's problems of one office, by the field they concern ("" for the office)."""
    found: dict[str, list[str]] = {}
    for problem in report.problems:
        if problem.item != f"office {office_id!r}":
            continue
        name = next((f for f in drafts.FIELDS if f in problem.message.split(":")[0]), "")
        if "phone and no web address" in problem.message:
            name = "phone"
        found.setdefault(name, []).append(f"{problem.message}（{problem.fix}）")
    return found


@blueprint.get("/draft/offices")
@requires("editor")
def list_offices():
    """List the draft's offices, searched by name and filtered by municipality or a gap."""
    files, report = _draft()
    content = report.content
    query, area, gap = (request.args.get(k, "").strip() for k in ("q", "area", "gap"))
    offices = list(content.offices.values()) if content else []
    if query:
        offices = [o for o in offices if query in o.name or query in o.id]
    if area:
        offices = [o for o in offices if area in o.areas or "*" in o.areas]
    if gap == "contact":
        offices = [o for o in offices if not (o.phone or o.url)]
    elif gap == "verify":
        offices = [o for o in offices if o.verify]
    return render_template("console/draft_offices.html", offices=offices, query=query,
                           area=area, gap=gap, summary=_summary(report),
                           municipalities=content.municipalities if content else [])


@blueprint.get("/draft/offices/<office_id>")
@requires("editor")
def show_office(office_id: str):
    """Show an office's form: its facts, its sources, and what the check says of it."""
    return _office_page(office_id)


def _office_page(office_id: str, form: drafts.OfficeForm | None = None, status: int = 200,
                 theirs=None):
    files, report = _draft()
    office = report.content.offices.get(office_id) if report.content else None
    if office is None:
        return error_page(404)
    item = drafts.office_item(office_id)
    # The revision the form is on: a refused form keeps the one it was opened at (so a newer
    # save is still seen); a new form, or one shown beside the other editor's save, the latest.
    current = drafts.revision(database(), item)
    revision = current if form is None or theirs else request.form.get("revision", current)
    values = form.values if form else {
        "phone": office.phone, "url": office.url, "address": office.address,
        "hours": office.hours, "verify": "1" if office.verify else "", "source": "",
        "checked": clock.japan_date().isoformat()}
    return render_template(
        "console/draft_office.html", office=office, values=values,
        errors=form.errors if form else {}, problems=_office_problems(report, office_id),
        revision=revision, theirs=theirs,
        history=drafts.history(database(), item, limit=10), summary=_summary(report),
        labels=FACT_LABELS), status


@blueprint.post("/draft/offices/<office_id>")
@requires("editor")
def save_office(office_id: str):
    """Save an office's facts into the draft, with their source; refuse a lost update."""
    form = drafts.read_office_form(request.form)
    if not form.fine:
        return _office_page(office_id, form, 400)
    try:
        base = int(request.form.get("revision", ""))
    except ValueError:
        return error_page(400)
    files = library.draft_files()
    try:
        bundle.parse(files)  # the draft reads: an office can be found in it
        saved = drafts.save_office(database(), files, office_id, form, base, who())
    except StopIteration:
        return error_page(404)
    except ContentError as err:
        return error_page(400, f"下書きのファイルが読めません: {err}")
    except drafts.Conflict as conflict:
        return _office_page(office_id, form, 409, theirs=conflict.theirs)
    if saved is None:
        flash("変わったところはありませんでした。")
    else:
        changed = ", ".join(f"{k}: {saved.before.get(k, '')!r} -> {v!r}"
                            for k, v in saved.after.items() if k != "checked")
        audit(who(), "draft_save", f"office {office_id}: {changed}")
        flash("下書きに保存しました。公開するまで、LINE の答えは変わりません。")
    return redirect(url_for("console.show_office", office_id=office_id))


@blueprint.get("/draft/worklist")
@requires("editor")
def show_worklist():
    """List what needs a person: offices with no contact, facts to verify, old checks."""
    _, report = _draft()
    content = report.content
    stale = clock.japan_date() - dt.timedelta(days=stale_after_days())
    rows = []
    for office in (content.offices.values() if content else []):
        why = []
        if not (office.phone or office.url):
            why.append("電話もウェブのアドレスもありません")
        if office.verify:
            why.append("二次的な出典の情報があります（公式の出典で確かめてください）")
        if office.checked is None or office.checked < stale:
            why.append(f"{stale_after_days()} 日より前に確かめたままです" if office.checked
                       else "確かめた日がありません")
        if why:
            rows.append((office, why))
    lines = [line for line in (content.safety.crisis_lines if content else []) if line.verify]
    return render_template("console/draft_worklist.html", rows=rows, crisis_lines=lines,
                           summary=_summary(report), stale_days=stale_after_days())

