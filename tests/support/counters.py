"""Reading the anonymous daily counters (`funnel_counts`) the way a test wants them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from bot.db.database import transaction
from bot.db.models import FunnelCount


def counters(app, step: str | None = None, prefix: str | None = None) -> Counter:
    """Return (step, event) -> count over every day and version (of one step, or a prefix)."""
    with transaction(app) as session:
        rows = session.scalars(select(FunnelCount)).all()
    found: Counter = Counter()
    for row in rows:
        if (step is None or row.step == step) and (prefix is None
                                                   or row.step.startswith(prefix)):
            found[row.step, row.event] += row.count
    return found


def feedback_counts(app) -> dict[str, int]:
    """Return each feedback answer's count."""
    return {event: n for (_, event), n in counters(app, step="feedback").items() if n}


def menu_counts(app) -> dict[str, int]:
    """Return each rich menu area's taps, by its counter's step ("menu:1" …)."""
    return {step: n for (step, _), n in counters(app, prefix="menu:").items() if n}


def feedback_rows(app) -> list[FunnelCount]:
    with transaction(app) as session:
        return list(session.scalars(select(FunnelCount).where(FunnelCount.step == "feedback")))
