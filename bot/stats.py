"""Anonymous referral counts for counselors: queries and the `tsunagu stats` command."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import transaction
from bot.models import Referral, ReferralTarget


def _within(query, start: dt.date | None, end: dt.date | None):
    if start:
        query = query.where(Referral.day >= start)
    if end:
        query = query.where(Referral.day <= end)
    return query


def _by_target(session: Session, kind: str, start, end) -> dict[str, int]:
    query = (select(ReferralTarget.code, func.count())
             .join(Referral, Referral.id == ReferralTarget.referral_id)
             .where(ReferralTarget.kind == kind).group_by(ReferralTarget.code))
    return dict(sorted(session.execute(_within(query, start, end)).all()))


def counts(session: Session, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """Count referrals between two days (inclusive), in total and by programme, office, area."""
    total = session.scalar(_within(select(func.count()).select_from(Referral), start, end))
    areas = _within(select(Referral.area, func.count()).group_by(Referral.area), start, end)
    return {
        "referrals": total,
        "by_programme": _by_target(session, "programme", start, end),
        "by_office": _by_target(session, "office", start, end),
        "by_area": dict(sorted(session.execute(areas).all())),
    }


def _table(title: str, rows: dict[str, int], names: dict[str, str]) -> list[str]:
    lines = [f"\n{title}"]
    lines += [f"  {count:>6}  {names.get(code, code)}" for code, count in
              sorted(rows.items(), key=lambda item: (-item[1], item[0]))]
    return lines if rows else [*lines, "       0"]


def render_table(result: dict, content) -> str:
    programmes = {p.id: f"{p.item} {p.name}" for p in content.programmes.values()}
    offices = {o.id: o.name for o in content.offices.values()}
    lines = [f"Referrals: {result['referrals']}"]
    lines += _table("By programme (取組)", result["by_programme"], programmes)
    lines += _table("By office", result["by_office"], offices)
    lines += _table("By area", result["by_area"], {})
    return "\n".join(lines)


@click.command("stats")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
def stats_command(as_json: bool, start: dt.datetime | None, end: dt.datetime | None) -> None:
    """Print anonymous referral counts."""
    with transaction(current_app) as session:
        result = counts(session, start and start.date(), end and end.date())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(render_table(result, current_app.extensions["tsunagu.content"]))


def init_app(app: Flask) -> None:
    app.cli.add_command(stats_command)
