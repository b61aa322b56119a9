"""Store referral records as the conversation store does (with their tallies), for count tests."""

from __future__ import annotations

import datetime as dt

from bot.db.database import database
from bot.referrals import record as records


def add_referral(app, month: dt.date, answers: dict[str, str], programmes=(), offices=(),
                 staging: bool = False, bundle_id: str = "v", flow: str = "questionnaire",
                 n: int = 1) -> None:
    """Store n referrals of the month (a day counts its month) naming programmes and offices."""
    made = records.Record(flow, dict(answers),
                          (*(("programme", p) for p in programmes),
                           *(("office", o) for o in offices)), staging)
    with database(app).writing() as conn:
        for _ in range(n):
            records.write(conn, made, made.row(month, bundle_id))
