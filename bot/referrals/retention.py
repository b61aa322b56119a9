"""How long referral records are kept: a number of fiscal years (April to March) after their own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from bot.clock import fiscal_year
from bot.db.database import Database
from bot.db.models import Referral, ReferralTally


def first_kept_month(today: dt.date, keep_years: int) -> dt.date:
    """Return the oldest month kept: a record stays keep_years fiscal years after its own."""
    return dt.date(fiscal_year(today) - keep_years, 4, 1)


def purge_referrals(db: Database, today: dt.date, keep_years: int) -> int:
    """Delete referral records kept long enough, with their targets and tallies; count them."""
    first = first_kept_month(today, keep_years)
    with db.transaction() as session:
        # The tallies of those months go with them, so the counts keep equalling the records.
        session.execute(delete(ReferralTally).where(ReferralTally.month < first))
        # Their targets go with them (ON DELETE CASCADE).
        return session.execute(delete(Referral).where(Referral.month < first)).rowcount
