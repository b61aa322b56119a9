"""The editors' draft in the browser: the check's report of it, the offices found, a worklist.

The forms that change the draft are `bot.console.editing`; every editor page shows the
summary of `tsunagu check` run on the whole draft (`draft_report`), and the diff, the preview
and publishing are one click away.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import NamedTuple

from flask import render_template, request

from bot import clock
from bot.console.auth import requires
from bot.console.web import blueprint
from bot.content import bundle
from bot.content.files import ContentError, Problem
from bot.db.database import database
from bot.studio import drafts, library
from bot.studio.checks import examine
from bot.studio.checks.framework import Report, stale_after_days
from bot.studio.checks.japanese import in_japanese, sentence
from bot.studio.forms import form_of

# Reports by (bundle id, day, stale days): a bundle id is its files' checksum, so a report
# never changes for one draft on one day. The whole check takes most of a second: it runs
# once per draft, in the worker that saves, which keeps it in the database for the others
# (`drafts.keep_report`); each worker remembers the few it read, and one request runs a
# check while the others of its worker wait for it.
_REPORTS: dict[str, Report] = {}
_CHECKING = threading.Lock()
_KEYS: dict[str, threading.Lock] = {}


class Counted(NamedTuple):
    """The coverage's counts, as the pages show them."""

    reached: int
    total: int


def draft_report():
    """Return the draft's files and the check's report of them (one per draft and day)."""
    try:
        files = library.draft_files()
    except ContentError as err:  # a file of the folders is missing: say so on every page
        said = list(err.issues) or [Problem("", None, "", str(err), "")]
        return {}, Report(problems=said, content=None)
    key = f"{bundle.bundle_id(files)}:{clock.japan_date().isoformat()}:{stale_after_days()}"
    if key not in _REPORTS:
        with _CHECKING:
            lock = _KEYS.setdefault(key, threading.Lock())
        with lock:
            if key not in _REPORTS:
                _remember(key, _report_of(key, files))
    return files, _REPORTS[key]


def _remember(key: str, report: Report) -> None:
    with _CHECKING:
        while len(_REPORTS) >= 8:
            old = next(iter(_REPORTS))
            _REPORTS.pop(old)
            _KEYS.pop(old, None)
        _REPORTS[key] = report


def _report_of(key: str, files) -> Report:
    """Return the report kept for this draft, or check it and keep the report."""
    db = database()
    body = drafts.kept_report(db, key)
    if body is not None:
        return Report(problems=[Problem(**p) for p in body["problems"]],
                      content=bundle.parse(files) if body["reads"] else None,
                      coverage=Counted(*body["coverage"]) if body["coverage"] else None,
                      scenarios=body["scenarios"])
    report = examine(files)
    cover = report.coverage
    drafts.keep_report(db, key, {
        "problems": [dataclasses.asdict(p) for p in report.problems],
        "reads": report.content is not None, "scenarios": report.scenarios,
        "coverage": [cover.reached, cover.total] if cover else None})
    return report


def summary(report) -> dict:
    cover = report.coverage
    return {"errors": len(report.errors()), "warnings": len(report.warnings),
            "coverage": (f"{cover.reached:,} / {cover.total:,}" if cover else "-"),
            "unreadable": [f"{p.file}: {sentence(p)}" for p in report.errors()[:3]]
            if report.content is None
            else []}


@blueprint.get("/draft/offices")
@requires("editor")
def list_offices():
    """List the draft's offices, searched by name and filtered by municipality or a gap."""
    files, report = draft_report()
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
                           area=area, gap=gap, summary=summary(report),
                           municipalities=content.municipalities if content else [])


@blueprint.get("/draft/worklist")
@requires("editor")
def show_worklist():
    """List what needs a person: offices with no contact, facts to verify, old checks."""
    _, report = draft_report()
    content = report.content
    stale = clock.japan_date() - dt.timedelta(days=stale_after_days())
    rows = []
    for office in (content.offices.values() if content else []):
        why = []
        if not (office.phone or office.url):
            why.append("電話もウェブのアドレスもありません")
        if office.verify:
            why.append("二次的な出典の情報があります（公式の出典で確かめてください）")
        if not office.sources:
            why.append("出典がありません")
        if office.checked is None or office.checked < stale:
            why.append(f"{stale_after_days()} 日より前に確かめたままです" if office.checked
                       else "確かめた日がありません")
        if why:
            rows.append((office, why))
    lines = [(n, line) for n, line in
             enumerate(content.safety.crisis_lines if content else [], 1) if line.verify]
    return render_template("console/draft_worklist.html", rows=rows, crisis_lines=lines,
                           summary=summary(report), stale_days=stale_after_days())



@blueprint.get("/draft/problems")
@requires("editor")
def list_problems():
    """List every problem the check finds in the draft, each linked to the form that mends it."""
    _, report = draft_report()
    rows = [(p, form_of(p, report.content)) for p in report.problems]
    return render_template("console/draft_problems.html", rows=rows, summary=summary(report),
                           in_japanese=in_japanese)
