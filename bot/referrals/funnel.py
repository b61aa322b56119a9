"""Where people go in the questionnaire: anonymous daily counters, summed over a period.

The conversation store adds them in each event's own write (so a redelivered event counts
once); they carry no user key, only the day, the version, the question and what happened.
The same counters keep how the account is used beside the questionnaire: the answers to the
question after a referral (step "feedback") and the taps of each rich menu area (step
"menu:<number>"); the funnel's questions and crisis replies leave those out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content.flow import DONE
from bot.content.schema import Content
from bot.db.models import FunnelCount

# The account's own counters (bot.dialogue.account: FEEDBACK_STEP, MENU_STEP, MENU_TAP).
FEEDBACK, MENU, TAP = "feedback", "menu:", "tap"


@dataclass(frozen=True)
class Stage:
    """One question of the funnel over a period."""

    step: str
    reached: int  # times people were brought to it by moving forward (or a start)
    answered: int
    back: int  # 戻る from it
    restart: int  # 最初から from it

    @property
    def stopped(self) -> int:
        """Return how many reached it but did not answer it (left, or are still there)."""
        return max(0, self.reached - self.answered)


def _last_day(month_end: dt.date) -> dt.date:
    following = (month_end.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return following - dt.timedelta(days=1)


def _within(query, start: dt.date | None, end: dt.date | None):
    """Keep the counters of the months from start to end (a bound counts its whole month)."""
    if start:
        query = query.where(FunnelCount.day >= start.replace(day=1))
    if end:
        query = query.where(FunnelCount.day <= _last_day(end))
    return query


HANDOFF = "handoff"  # the counter of people asking to talk to a person (bot.dialogue.account)


def _questionnaire(query):
    """Keep the counters of the questionnaire (and crisis replies, handoffs): no usage ones."""
    return query.where(FunnelCount.step != FEEDBACK, FunnelCount.step.notlike(f"{MENU}%"))


def handoffs_by_day(session: Session, start: dt.date | None = None,
                    end: dt.date | None = None) -> dict[dt.date, int]:
    """Return how many asked to talk to a person on each day of the months (days with any)."""
    query = _within(select(FunnelCount.day, func.sum(FunnelCount.count))
                    .where(FunnelCount.event == HANDOFF).group_by(FunnelCount.day)
                    .order_by(FunnelCount.day), start, end)
    return {day: int(n) for day, n in session.execute(_questionnaire(query)).all() if n}


def feedback(session: Session, start: dt.date | None = None, end: dt.date | None = None,
             bundle_ids: list[str] | None = None) -> dict[str, int]:
    """Return how many times each feedback answer was given in the months (or versions)."""
    query = _within(select(FunnelCount.event, func.sum(FunnelCount.count))
                    .where(FunnelCount.step == FEEDBACK).group_by(FunnelCount.event),
                    start, end)
    if bundle_ids is not None:
        query = query.where(FunnelCount.bundle_id.in_(bundle_ids))
    return {answer: int(n) for answer, n in session.execute(query).all() if n}


def menu_taps(session: Session, start: dt.date | None = None,
              end: dt.date | None = None) -> dict[int, int]:
    """Return how many times each rich menu area (by its number, from 1) was tapped."""
    query = _within(select(FunnelCount.step, func.sum(FunnelCount.count))
                    .where(FunnelCount.step.like(f"{MENU}%"), FunnelCount.event == TAP)
                    .group_by(FunnelCount.step), start, end)
    found: dict[int, int] = {}
    for step, n in session.execute(query).all():
        number = step.removeprefix(MENU)
        if number.isdigit() and n:
            found[int(number)] = int(n)
    return dict(sorted(found.items()))


def by_month(session: Session, start: dt.date | None = None,
             end: dt.date | None = None) -> dict[dt.date, dict[str, int]]:
    """Return each month's counts (months with any): "crisis" replies given, "handoff" asks,
    "menu" taps of any area, and "feedback:<answer>" for each feedback answer."""
    query = _within(select(FunnelCount.day, FunnelCount.step, FunnelCount.event,
                           func.sum(FunnelCount.count))
                    .where((FunnelCount.event.in_(("crisis", HANDOFF)))
                           | (FunnelCount.step == FEEDBACK)
                           | (FunnelCount.step.like(f"{MENU}%")))
                    .group_by(FunnelCount.day, FunnelCount.step, FunnelCount.event),
                    start, end)
    months: dict[dt.date, dict[str, int]] = {}
    for day, step, event, n in session.execute(query).all():
        if step == FEEDBACK:
            kind = f"feedback:{event}"
        elif step.startswith(MENU):
            kind = "menu"
        else:
            kind = event  # crisis or handoff, of the questionnaire's own steps
        month = months.setdefault(day.replace(day=1), {})
        month[kind] = month.get(kind, 0) + int(n)
    return dict(sorted(months.items()))


def funnel(session: Session, content: Content, start: dt.date | None = None,
           end: dt.date | None = None,
           bundle_ids: list[str] | None = None) -> tuple[list[Stage], int, int]:
    """Sum the counters of the months from start to end (or of some versions).

    Return each question in the flow's order (then the referral, "done"), the crisis replies
    given, and the referrals reached.
    """
    query = _within(_questionnaire(select(FunnelCount.step, FunnelCount.event,
                                          func.sum(FunnelCount.count)))
                    .group_by(FunnelCount.step, FunnelCount.event), start, end)
    if bundle_ids is not None:
        query = query.where(FunnelCount.bundle_id.in_(bundle_ids))
    found = {(step, event): int(n) for step, event, n in session.execute(query).all()}
    stages = [Stage(step.id, *(found.get((step.id, e), 0)
                               for e in ("reached", "answered", "back", "restart")))
              for step in content.flow.steps]
    crisis = sum(n for (_, event), n in found.items() if event == "crisis")
    return stages, crisis, found.get((DONE, "reached"), 0)
