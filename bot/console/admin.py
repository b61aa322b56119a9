"""The administrators' pages: accounts, and the audit log with its CSV export."""

from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot import clock
from bot.console import accounts
from bot.console.auth import requires, who
from bot.console.web import blueprint
from bot.db.audit import audit
from bot.db.database import transaction
from bot.db.models import AuditEntry
from bot.referrals.exports import csv_cell

SHOWN = 200  # audit entries on the page; the CSV has them all
# What each audit action is called on the page (the CSV keeps the codes, for filtering).
ACTIONS = {
    "login": "ログイン", "login_failed": "ログイン失敗", "logout": "ログアウト",
    "session_expired": "操作がなく終了", "publish": "公開", "rollback": "版を戻す",
    "export": "書き出し", "audit_export": "操作の記録の書き出し", "user_add": "アカウント作成",
    "user_disable": "アカウント無効化", "user_enable": "アカウント有効化",
    "user_passwd": "パスワード変更", "user_role": "役割の変更",
    "richmenu_deploy": "リッチメニューの配信", "draft_save": "下書きの保存",
    "draft_import": "下書きの読み込み",
}


@blueprint.get("/accounts")
@requires("admin")
def list_accounts():
    """List the accounts, with forms to add, disable and enable them."""
    return render_template("console/accounts.html", users=accounts.listing(),
                           roles=accounts.ROLES, role_names=accounts.ROLE_NAMES)


@blueprint.post("/accounts")
@requires("admin")
def add_account():
    """Create an account."""
    form = request.form
    try:
        accounts.add(form.get("name", "").strip(), form.get("role", ""),
                     form.get("password", ""), who())
    except accounts.AccountError as err:
        flash(err.message)
    else:
        flash(f"{form.get('name', '').strip()} を作りました。")
    return redirect(url_for("console.list_accounts"))


@blueprint.post("/accounts/<path:name>/disable")
@requires("admin")
def disable_account(name: str):
    """Disable an account; its sessions end with their next request."""
    if name == who():
        flash("自分のアカウントは無効にできません。")
        return redirect(url_for("console.list_accounts"))
    return _changed(lambda: accounts.set_disabled(name, True, who()), f"{name} を無効にしました。")


@blueprint.post("/accounts/<path:name>/enable")
@requires("admin")
def enable_account(name: str):
    """Enable a disabled account again."""
    return _changed(lambda: accounts.set_disabled(name, False, who()), f"{name} を有効にしました。")


def _changed(change, message: str):
    try:
        change()
    except accounts.AccountError as err:
        flash(err.message)
    else:
        flash(message)
    return redirect(url_for("console.list_accounts"))


def _entries(limit: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    with transaction() as session:
        return list(session.scalars(query.limit(limit) if limit else query))


@blueprint.get("/audit")
@requires("admin")
def show_audit():
    """Show the newest audit entries."""
    return render_template("console/audit.html", entries=_entries(SHOWN), actions=ACTIONS)


@blueprint.get("/audit.csv")
@requires("admin")
def export_audit():
    """Download the whole audit log as CSV (UTF-8 with BOM, as Excel expects)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "日時", "誰が", "操作", "内容"])
    for e in _entries():
        writer.writerow([e.id, clock.staff_time(e.at), csv_cell(e.who), csv_cell(e.action),
                         csv_cell(e.detail)])
    audit(who(), "audit_export", "audit_log.csv")
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit_log.csv"})
