"""Where people go in the questionnaire: anonymous daily counters, summed over a period.

The conversation store adds them in each event's own write (so a redelivered event counts
once); they carry no user key, only the day, the version, the question and what happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content.flow import DONE
from bot.content.schema import Content
from bot.db.models import FunnelCount


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


def handoffs_by_day(session: Session, start: dt.date | None = None,
                    end: dt.date | None = None) -> dict[dt.date, int]:
    """Return how many asked to talk to a person on each day of the months (days with any)."""
    query = _within(select(FunnelCount.day, func.sum(FunnelCount.count))
                    .where(FunnelCount.event == HANDOFF).group_by(FunnelCount.day)
                    .order_by(FunnelCount.day), start, end)
    return {day: int(n) for day, n in session.execute(query).all() if n}


def funnel(session: Session, content: Content, start: dt.date | None = None,
           end: dt.date | None = None,
           bundle_ids: list[str] | None = None) -> tuple[list[Stage], int, int]:
    """Sum the counters of the months from start to end (or of some versions).

    Return each question in the flow's order (then the referral, "done"), the crisis replies
    given, and the referrals reached.
    """
    query = _within(select(FunnelCount.step, FunnelCount.event, func.sum(FunnelCount.count))
                    .group_by(FunnelCount.step, FunnelCount.event), start, end)
    if bundle_ids is not None:
        query = query.where(FunnelCount.bundle_id.in_(bundle_ids))
    found = {(step, event): int(n) for step, event, n in session.execute(query).all()}
    stages = [Stage(step.id, *(found.get((step.id, e), 0)
                               for e in ("reached", "answered", "back", "restart")))
              for step in content.flow.steps]
    crisis = sum(n for (_, event), n in found.items() if event == "crisis")
    return stages, crisis, found.get((DONE, "reached"), 0)
