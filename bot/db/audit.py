"""The audit log: who did what in the console or with an account command, and when.

Any room may call `audit(who, action, detail)`: exports, publishing, account changes. The
detail names what was done (a version, an account, a period), never a LINE user id.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from bot import clock
from bot.db.database import transaction
from bot.db.models import AuditEntry


def record(session: Session, who: str, action: str, detail: str = "") -> None:
    """Add an audit entry to a session's transaction (kept only if that work is)."""
    session.add(AuditEntry(at=clock.now(), who=who[:128], action=action[:64], detail=detail))


def audit(who: str, action: str, detail: str = "", app: Flask | None = None) -> None:
    """Write an audit entry in a transaction of its own."""
    with transaction(app) as session:
        record(session, who, action, detail)
