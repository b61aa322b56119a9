"""A version's funnel beside the version before: did a published change help people go on?

Both come from the anonymous daily counters (`funnel_counts`), which name the version they were
counted under; questions are matched by their id, so a question added or removed shows as one
side only.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, render_template

from bot.console.auth import requires
from bot.console.web import blueprint, number_arg
from bot.content.schema import Content
from bot.db import versions
from bot.db.database import database, transaction
from bot.referrals.funnel import Stage, funnel
from bot.studio import library, publishing


@dataclass(frozen=True)
class Side:
    """One version's funnel: its number (None: the draft, nothing published yet) and stages."""

    number: int | None
    stages: dict[str, Stage]
    done: int

    @property
    def started(self) -> int:
        return max((s.reached for s in self.stages.values()), default=0)


@dataclass(frozen=True)
class Row:
    question: str
    now: Stage | None
    before: Stage | None

    def change(self) -> str:
        """Return how the share who stopped here moved, in percentage points ("" if unknown)."""
        if not (self.now and self.before and self.now.reached and self.before.reached):
            return ""
        points = 100 * (self.now.stopped / self.now.reached
                        - self.before.stopped / self.before.reached)
        return f"{points:+.1f}"


def stopped_share(stage: Stage | None) -> str:
    """Return the share of those who reached a question and stopped there, as a percentage."""
    if stage is None or not stage.reached:
        return ""
    return f"{100 * stage.stopped / stage.reached:.1f}%"


def _side(session, content: Content, number: int | None, bundle_id: str) -> Side:
    stages, _, done = funnel(session, content, bundle_ids=[bundle_id])
    return Side(number, {s.step: s for s in stages}, done)


def _rows(content: Content, before_content: Content | None, now: Side,
          before: Side | None) -> list[Row]:
    rows = [Row(step.question(None), now.stages.get(step.id),
                before.stages.get(step.id) if before else None) for step in content.flow.steps]
    if before_content is not None and before is not None:
        known = {step.id for step in content.flow.steps}
        rows += [Row(f"{step.question(None)}（この版にない質問）", None, before.stages[step.id])
                 for step in before_content.flow.steps if step.id not in known]
    return rows


@blueprint.get("/funnel")
@requires("counselor")
def compare_funnels():
    """Show a version's funnel beside the one published before it."""
    app = current_app
    listed = versions.listing(database(app))  # newest first
    live_number, live = publishing.live_content(app)
    asked = number_arg("version", 0, 1, versions.MAX_NUMBER, "版")
    chosen = next((v for v in listed if v.number == (asked or live_number)), None)
    if asked and chosen is None:
        abort(404)  # a version past the last (or deleted)
    before = before_content = None
    with transaction() as session:
        if chosen is None:  # nothing published: the draft alone
            content = live
            now = _side(session, content, None, content.bundle_id)
        else:
            content = library.version(app, chosen.number)
            now = _side(session, content, chosen.number, chosen.bundle_id)
            earlier = next((v for v in listed if v.number < chosen.number
                            and v.bundle_id != chosen.bundle_id), None)
            if earlier is not None:
                before_content = library.version(app, earlier.number)
                before = _side(session, before_content, earlier.number, earlier.bundle_id)
    return render_template("console/funnel.html", listed=listed, now=now, before=before,
                           rows=_rows(content, before_content, now, before),
                           stopped_share=stopped_share)
