"""Anonymous referral counts for counselors: queries and the `tsunagu stats` command."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content.schema import Content
from bot.content.source import content_source
from bot.db.database import transaction
from bot.db.models import Referral, ReferralTarget
from bot.referrals.funnel import Stage, funnel
from bot.referrals.record import month_of


def _within(query, start: dt.date | None, end: dt.date | None):
    # Editors' tries on the staging account are never counted with real referrals.
    query = query.where(Referral.staging.is_(False))
    # Records keep only their month: a bound counts its whole month.
    if start:
        query = query.where(Referral.month >= month_of(start))
    if end:
        query = query.where(Referral.month <= month_of(end))
    return query


def _by_target(session: Session, kind: str, start, end) -> dict[str, int]:
    query = (select(ReferralTarget.code, func.count())
             .join(Referral, Referral.id == ReferralTarget.referral_id)
             .where(ReferralTarget.kind == kind).group_by(ReferralTarget.code))
    return dict(sorted(session.execute(_within(query, start, end)).all()))


def _by_answer(session: Session, field: str, start, end) -> dict[str, int]:
    value = Referral.answers[field].as_string()
    query = select(value, func.count()).where(value.is_not(None)).group_by(value)
    return dict(sorted(session.execute(_within(query, start, end)).all()))


def counts(session: Session, content: Content, start: dt.date | None = None,
           end: dt.date | None = None) -> dict:
    """Count referrals of the months from start to end (inclusive), in total and by each kind."""
    total = session.scalar(_within(select(func.count()).select_from(Referral), start, end))
    flows = _within(select(Referral.flow, func.count()).group_by(Referral.flow), start, end)
    # The flow's steps are the answer fields: a new question is counted with no code change.
    by_answer = {step.id: _by_answer(session, step.id, start, end)
                 for step in content.flow.steps}
    area = content.flow.area_step
    return {
        "referrals": total,
        "by_flow": dict(sorted(session.execute(flows).all())),
        "by_programme": _by_target(session, "programme", start, end),
        "by_office": _by_target(session, "office", start, end),
        "by_area": by_answer.get(area.id, {}) if area else {},
        "by_answer": by_answer,
    }


def _table(title: str, rows: dict[str, int], names: dict[str, str]) -> list[str]:
    lines = [f"\n{title}"]
    lines += [f"  {count:>6}  {names.get(code, code)}" for code, count in
              sorted(rows.items(), key=lambda item: (-item[1], item[0]))]
    return lines if rows else [*lines, "       0"]


def render_table(result: dict, content: Content) -> str:
    programmes = {p.id: f"{p.item} {p.name}" for p in content.programmes.values()}
    offices = {o.id: o.name for o in content.offices.values()}
    lines = [f"Referrals: {result['referrals']}"]
    lines += _table("By programme (取組)", result["by_programme"], programmes)
    lines += _table("By office", result["by_office"], offices)
    lines += _table("By area", result["by_area"], {})
    area = content.flow.area_step
    for step in content.flow.steps:
        if area is None or step.id != area.id:
            labels = {o.value: o.label for o in step.options}
            lines += _table(f"By answer: {step.id}", result["by_answer"][step.id], labels)
    return "\n".join(lines)


def render_funnel(stages: list[Stage], crisis: int, done: int, as_json: bool) -> str:
    """Return the funnel as a table (or JSON): each question, then the referrals."""
    if as_json:
        return json.dumps({"stages": [{**asdict(s), "stopped": s.stopped} for s in stages],
                           "crisis": crisis, "done": done}, ensure_ascii=False)
    lines = [f"{'question':<16}{'reached':>9}{'answered':>9}{'stopped':>9}{'back':>7}"
             f"{'restart':>9}"]
    lines += [f"{s.step:<16}{s.reached:>9}{s.answered:>9}{s.stopped:>9}{s.back:>7}"
              f"{s.restart:>9}" for s in stages]
    lines += [f"{'done':<16}{done:>9}", f"crisis replies given: {crisis}"]
    return "\n".join(lines)


@click.command("stats")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m", "%Y-%m-%d"]),
              help="First month, YYYY-MM (a day counts its whole month).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m", "%Y-%m-%d"]),
              help="Last month, YYYY-MM (a day counts its whole month).")
@click.option("--funnel", "show_funnel", is_flag=True,
              help="Print where people stop in the questionnaire instead.")
def stats_command(as_json: bool, start: dt.datetime | None, end: dt.datetime | None,
                  show_funnel: bool) -> None:
    """Print anonymous referral counts (or, with --funnel, the questionnaire's funnel)."""
    content = content_source(current_app).current()
    with transaction(current_app) as session:
        if show_funnel:
            stages, crisis, done = funnel(session, content, start and start.date(),
                                          end and end.date())
            click.echo(render_funnel(stages, crisis, done, as_json))
            return
        result = counts(session, content, start and start.date(), end and end.date())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(render_table(result, content))


def init_app(app: Flask) -> None:
    from bot.referrals.exports import export_group

    app.cli.add_command(stats_command)
    app.cli.add_command(export_group)
