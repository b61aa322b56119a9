"""The counselors' downloads: 相談等件数, the referral records and the monthly workbook.

The files are those of `tsunagu export` (bot/referrals/exports.py), built by the same
functions; every download is written to the audit log.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, current_app, render_template, request

from bot import clock
from bot.console.auth import requires, who
from bot.console.web import (
    FIRST_YEAR,
    LAST_YEAR,
    BadRequest,
    blueprint,
    month_arg,
    number_arg,
)
from bot.content.source import content_source
from bot.db.audit import audit
from bot.db.database import database
from bot.referrals import exports

TYPES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
YEARS_SHOWN = 6


def _format() -> str:
    form = request.args.get("format", "xlsx")
    if form not in TYPES:
        raise BadRequest("ファイルの形式は xlsx か csv を選んでください。")
    return form


def _month(name: str) -> dt.date:
    return month_arg(name)


def _year() -> int:
    if not request.args.get("fy"):
        raise BadRequest("年度を選んでください。")
    return number_arg("fy", 0, FIRST_YEAR, LAST_YEAR, "年度")


def _file(data: bytes, form: str, name: str, detail: str) -> Response:
    audit(who(), "export", detail)
    return Response(data, mimetype=TYPES[form],
                    headers={"Content-Disposition": f"attachment; filename={name}.{form}"})


def _write(table_or_tables, form: str) -> bytes:
    if form == "csv":
        return exports.to_csv(table_or_tables)
    return exports.to_xlsx(table_or_tables)


def _threshold() -> int:
    return int(current_app.config.get("SUPPRESS_BELOW", exports.DEFAULT_SUPPRESS_BELOW))


@blueprint.get("/exports")
@requires("counselor")
def show_exports():
    """Show the downloads, with this fiscal year and last month chosen."""
    today = clock.japan_date()
    this_year = clock.fiscal_year(today)
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    years = [(y, clock.fiscal_label(y)) for y in range(this_year, this_year - YEARS_SHOWN, -1)]
    return render_template("console/exports.html", years=years, year=this_year,
                           month=last_month.strftime("%Y-%m"),
                           first=clock.month_start(this_year, 4).strftime("%Y-%m"),
                           threshold=_threshold())


@blueprint.get("/exports/soudan")
@requires("counselor")
def export_soudan():
    """Download a fiscal year's 相談等件数 (exact, or 公表用 with small cells hidden)."""
    fy, form, public = _year(), _format(), request.args.get("public") == "1"
    table = exports.soudan(database(), content_source().current(), fy, public=public,
                           threshold=_threshold())
    kind = "public" if public else "internal"
    return _file(_write(table, form), form, f"soudan_{fy}_{kind}",
                 f"相談等件数 {clock.fiscal_label(fy)} {'公表用' if public else '内部用'} {form}")


@blueprint.get("/exports/referrals")
@requires("counselor")
def export_referrals():
    """Download the anonymised referral records of the chosen months."""
    start, end, form = _month("from"), _month("to"), _format()
    if end < start:
        raise BadRequest("「まで」の月は「から」の月より後にしてください。")
    table = exports.referral_records(database(), content_source().current(), start, end)
    return _file(_write(table, form), form, f"referrals_{start:%Y%m}_{end:%Y%m}",
                 f"紹介の記録 {start:%Y-%m}〜{end:%Y-%m} {form}")


@blueprint.get("/exports/monthly")
@requires("counselor")
def export_monthly():
    """Download the platform meeting's workbook of a month."""
    month, public = _month("month"), request.args.get("public") == "1"
    tables = exports.monthly(database(), content_source().current(), month, public=public,
                             threshold=_threshold())
    return _file(exports.to_xlsx(tables), "xlsx", f"monthly_{month:%Y%m}",
                 f"月次報告 {month:%Y-%m}{' 公表用' if public else ''} xlsx")

