"""The editors' pages: the versions, what each changes from live, publishing and rolling back.

Publishing and rolling back call what `tsunagu publish` and `tsunagu rollback` call
(`publishing.store`, `versions.point`), after a page that shows the diff and asks.
"""

from __future__ import annotations

import click
from flask import abort, current_app, flash, redirect, render_template, request, url_for

from bot.console.auth import requires, who
from bot.console.drafting import draft_report
from bot.console.web import blueprint
from bot.content import bundle
from bot.content.files import ContentError
from bot.db import versions
from bot.db.audit import audit
from bot.db.database import database
from bot.studio import library, publishing
from bot.studio.diff import KINDS, diff


@blueprint.context_processor
def _kinds() -> dict:
    # The diff's kinds of item in Japanese, and where the preview is (if this app has one).
    preview = "preview.page" in current_app.view_functions
    return {"kinds": KINDS, "preview_url": url_for("preview.page") if preview else None}


def _live():
    return publishing.live_content(current_app)


@blueprint.get("/versions")
@requires("editor")
def list_versions():
    """List every version with what it changes from the live one."""
    live_number, live = _live()
    listed = []
    for v in versions.listing(database(current_app)):
        changes = [] if v.number == live_number else diff(live, library.version(current_app,
                                                                                v.number))
        listed.append((v, changes))
    return render_template("console/versions.html", listed=listed, live_number=live_number)


def _draft():
    try:
        return library.draft_files(), None
    except ContentError as err:
        return None, str(err)


@blueprint.get("/versions/publish")
@requires("editor")
def confirm_publish():
    """Show what publishing the draft changes, and ask for a note."""
    files, error = _draft()
    live_number, live = _live()
    changes, same = [], False
    if files is not None:
        checked, report = draft_report()  # the check of this draft, kept for every worker
        files = checked or files
        errors = [problem.text() for problem in report.errors()]
        error = "\n".join(errors) if errors else None
        same = live_number is not None and bundle.bundle_id(files) == live.bundle_id
        if not error:
            changes = diff(live, bundle.parse(files))
    return render_template("console/publish.html", changes=changes, error=error, same=same,
                           live_number=live_number,
                           bundle_id=bundle.bundle_id(files) if files is not None else "")


@blueprint.post("/versions/publish")
@requires("editor")
def publish_draft():
    """Check the draft and make it live, as `tsunagu publish` does."""
    note = request.form.get("note", "").strip()
    if not note:
        flash("何を変えたかを「メモ」に書いてください。")
        return redirect(url_for("console.confirm_publish"))
    files, error = _draft()
    shown = request.form.get("bundle")
    if shown is not None and files is not None and shown != bundle.bundle_id(files):
        flash("この画面を開いたあとに、下書きが変わりました。違いを見直してから公開してください。")
        return redirect(url_for("console.confirm_publish"))
    try:
        if error:
            raise click.ClickException(error)
        number = publishing.store(current_app, files, note, who(), versions.LIVE)
    except click.ClickException as err:
        flash(err.message)
        return redirect(url_for("console.confirm_publish"))
    audit(who(), "publish", f"version {number} ({bundle.bundle_id(files)}): {note}")
    flash(f"版 {number} を公開しました。")
    return redirect(url_for("console.list_versions"))


def _version_or_404(number: int):
    try:
        return library.version(current_app, number)
    except ContentError:
        abort(404)


@blueprint.get("/versions/<int:number>/rollback")
@requires("editor")
def confirm_rollback(number: int):
    """Show what making version N live changes, and ask."""
    target = _version_or_404(number)
    live_number, live = _live()
    return render_template("console/rollback.html", number=number, live_number=live_number,
                           changes=diff(live, target))


@blueprint.post("/versions/<int:number>/rollback")
@requires("editor")
def roll_back(number: int):
    """Make version N live again, as `tsunagu rollback` does."""
    _version_or_404(number)
    live_number, _ = _live()
    if live_number == number:
        flash(f"版 {number} はすでに公開中です。")
        return redirect(url_for("console.list_versions"))
    versions.point(database(current_app), versions.LIVE, number, who())
    audit(who(), "rollback", f"version {live_number} -> {number}")
    flash(f"版 {number} を公開しました。")
    return redirect(url_for("console.list_versions"))
