"""An anonymous referral record: the month, the bundle, the answers as categories, the targets.

This module owns the statements that store a record (its `referrals` row, its
`referral_targets` and, through `tallies`, its tallies); the conversation store only runs
them in the event's own write: `write` in its transaction (SQLite), or the CTEs of
`stored_after` in its one statement with the values of `stored_values` (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import CTE, Connection, String, bindparam, func, insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from bot.content.flow import Flow
from bot.db.models import Referral, ReferralTarget
from bot.referrals import tallies

REFERRALS = Referral.__table__
TARGETS = ReferralTarget.__table__
# One parameter per column but the id, so a statement can be built once and reused.
ROW_PARAMS = {column.name: bindparam(column.name, type_=column.type)
              for column in REFERRALS.c if column.name != "id"}
INSERT_REFERRAL = insert(REFERRALS).values(ROW_PARAMS).returning(REFERRALS.c.id)
INSERT_TARGETS = insert(TARGETS)


@dataclass(frozen=True)
class Record:
    """One referral as it will be stored: no user key, nothing finer than the counts need."""

    flow: str
    answers: dict[str, str]
    targets: tuple[tuple[str, str], ...]  # (kind, code): ("programme", id) or ("office", id)
    staging: bool = False  # made on the staging account: kept apart from the real counts

    def row(self, day: dt.date, bundle_id: str) -> dict:
        """Return the values of its `referrals` row (made on this day: kept as its month)."""
        return {"month": month_of(day), "bundle_id": bundle_id, "staging": self.staging,
                "flow": self.flow, "answers": self.answers}


def month_of(day: dt.date) -> dt.date:
    """Return the first day of the day's month, as referral records keep time."""
    return day.replace(day=1)


def record(flow: Flow, answers: dict[str, str], programmes: Iterable[str],
           offices: Iterable[str], staging: bool = False) -> Record:
    """Make the record of a referral: the flow's answers as categories and what was named."""
    targets = (*(("programme", code) for code in programmes),
               *(("office", code) for code in offices))
    return Record(flow.flow, flow.counted(answers), targets, staging)


def write(conn: Connection, record: Record, row: dict) -> None:
    """Store one referral, what it named and its tallies (in the caller's transaction)."""
    referral_id = conn.execute(INSERT_REFERRAL, row).scalar_one()
    if record.targets:
        conn.execute(INSERT_TARGETS, [{"referral_id": referral_id, "kind": kind, "code": code}
                                      for kind, code in record.targets])
    tallies.add(conn, row, record.targets)


def stored_after(handled) -> list[CTE]:
    """Build the CTEs that store a record, its targets and its tallies, in one statement.

    `handled` is a CTE of the same statement with one row if the event was handled and none
    otherwise: the record is stored only then, so a redelivered event stores nothing.
    The statement takes the values `stored_values` returns.
    """
    new = (insert(REFERRALS).from_select(list(ROW_PARAMS),
                                         select(*ROW_PARAMS.values()).select_from(handled))
           .returning(REFERRALS.c.id).cte("referral"))
    named = func.unnest(bindparam("kinds", type_=ARRAY(String)),
                        bindparam("codes", type_=ARRAY(String))).table_valued(
        "kind", "code").render_derived("named")
    targets = insert(TARGETS).from_select(
        ["referral_id", "kind", "code"],
        select(new.c.id, named.c.kind, named.c.code).select_from(new.join(named, true())))
    return [targets.cte("targets"), tallies.added_after(new)]


def stored_values(record: Record, row: dict) -> dict:
    """Return the values the CTEs of `stored_after` take, for one record and its row."""
    targets = record.targets
    return {**row, "kinds": [kind for kind, _ in targets],
            "codes": [code for _, code in targets], **tallies.added_values(row, targets)}
