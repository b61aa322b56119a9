"""Anonymous referral counts for counselors: queries and the `tsunagu stats` command."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import asdict

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from bot.content.schema import Content
from bot.content.source import content_source
from bot.db.database import transaction
from bot.db.models import ReferralTally
from bot.referrals.funnel import Stage, feedback, funnel, handoffs_by_day, menu_taps
from bot.referrals.tallies import counted, rebuild, summed


def counts(session: Session, content: Content, start: dt.date | None = None,
           end: dt.date | None = None) -> dict:
    """Count referrals of the months from start to end (inclusive), in total and by each kind."""
    found = summed(session, [ReferralTally.kind, ReferralTally.field, ReferralTally.value,
                             ReferralTally.flow], *counted(start, end))
    by_kind: dict[str, Counter] = defaultdict(Counter)
    by_field: dict[str, Counter] = defaultdict(Counter)
    for kind, field, value, flow, n in found:
        if kind == "referral":
            by_kind["flow"][flow] += n
        elif kind == "answer":
            by_field[field][value] += n
        else:
            by_kind[kind][value] += n
    # The flow's steps are the answer fields: a new question is counted with no code change.
    by_answer = {step.id: dict(sorted(by_field[step.id].items())) for step in content.flow.steps}
    area = content.flow.area_step
    return {
        "referrals": sum(by_kind["flow"].values()),
        "by_flow": dict(sorted(by_kind["flow"].items())),
        "by_programme": dict(sorted(by_kind["programme"].items())),
        "by_office": dict(sorted(by_kind["office"].items())),
        "by_area": by_answer.get(area.id, {}) if area else {},
        "by_answer": by_answer,
    }


def feedback_rows(content: Content, given: dict[str, int]) -> list[dict]:
    """Return each feedback answer of the live content with its label and count, then others
    counted (answers of earlier versions, with no label)."""
    labels = {a.value: a.label for a in content.feedback.answers}
    values = [*labels, *sorted(v for v in given if v not in labels)]
    return [{"answer": v, "label": labels.get(v), "count": given.get(v, 0)} for v in values]


def menu_rows(content: Content, taps: dict[int, int]) -> list[dict]:
    """Return each rich menu area by its number and its label in the live content, with its taps.

    Areas that open a page are left out (LINE sends no event for them); a number counted that
    the live menu no longer has is kept, with no label.
    """
    areas = dict(enumerate(content.richmenu.areas, 1))
    numbers = sorted({*(n for n, a in areas.items() if a.action != "uri"), *taps})
    return [{"area": n, "label": areas[n].label if n in areas else None, "taps": taps.get(n, 0)}
            for n in numbers]


def usage(session: Session, content: Content, start: dt.date | None = None,
          end: dt.date | None = None) -> dict:
    """Return the feedback answers and the menu taps of the months from start to end."""
    return {"feedback": feedback_rows(content, feedback(session, start, end)),
            "menu_taps": menu_rows(content, menu_taps(session, start, end))}


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


def render_usage(used: dict) -> str:
    """Return the feedback answers and the menu taps as lines of a table."""
    lines = ["\nWas the referral useful (feedback answers)"]
    lines += [f"  {row['count']:>6}  {row['answer']}" + (f" {row['label']}" if row["label"]
                                                          else "") for row in used["feedback"]]
    lines += ["\nRich menu taps (by area)"]
    lines += [f"  {row['taps']:>6}  {row['area']}" + (f" {row['label']}" if row["label"] else "")
              for row in used["menu_taps"]]
    return "\n".join(lines)


def render_funnel(stages: list[Stage], crisis: int, done: int, as_json: bool,
                  handoffs: dict[dt.date, int] | None = None,
                  answers: list[dict] | None = None) -> str:
    """Return the funnel as a table (or JSON): each question, then the referrals.

    `answers` are the feedback answers given to the referrals (`feedback_rows`).
    """
    handoffs = handoffs or {}
    answers = answers or []
    if as_json:
        return json.dumps({"stages": [{**asdict(s), "stopped": s.stopped} for s in stages],
                           "crisis": crisis, "done": done,
                           "handoffs": {day.isoformat(): n for day, n in handoffs.items()},
                           "feedback": answers},
                          ensure_ascii=False)
    lines = [f"{'question':<16}{'reached':>9}{'answered':>9}{'stopped':>9}{'back':>7}"
             f"{'restart':>9}"]
    lines += [f"{s.step:<16}{s.reached:>9}{s.answered:>9}{s.stopped:>9}{s.back:>7}"
              f"{s.restart:>9}" for s in stages]
    lines += [f"{'done':<16}{done:>9}", f"crisis replies given: {crisis}",
              f"asked to talk to a person: {sum(handoffs.values())}"]
    lines += [f"  {day.isoformat()}  {n:>6}" for day, n in handoffs.items()]
    lines += [f"feedback {row['answer']}: {row['count']}" for row in answers]
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
@click.option("--recount", is_flag=True,
              help="Count the monthly tallies again from the referral records first "
                   "(after records were changed by hand).")
def stats_command(as_json: bool, start: dt.datetime | None, end: dt.datetime | None,
                  show_funnel: bool, recount: bool) -> None:
    """Print anonymous referral counts (or, with --funnel, the questionnaire's funnel)."""
    content = content_source(current_app).current()
    if recount:
        with transaction(current_app) as session:
            rows = rebuild(session)
        click.echo(f"Tallies counted again from the referral records: {rows} rows.", err=True)
    with transaction(current_app) as session:
        if show_funnel:
            period = (start and start.date(), end and end.date())
            stages, crisis, done = funnel(session, content, *period)
            answers = feedback_rows(content, feedback(session, *period))
            click.echo(render_funnel(stages, crisis, done, as_json,
                                     handoffs_by_day(session, *period), answers))
            return
        period = (start and start.date(), end and end.date())
        result = counts(session, content, *period)
        used = usage(session, content, *period)
    if as_json:
        click.echo(json.dumps({**result, **used}, ensure_ascii=False))
    else:
        click.echo(render_table(result, content) + "\n" + render_usage(used))


def init_app(app: Flask) -> None:
    from bot.referrals.exports import export_group

    app.cli.add_command(stats_command)
    app.cli.add_command(export_group)
