"""How long conversations and event ids are kept: `tsunagu purge` and forgetting on unfollow.

A conversation is kept while it goes on, for at most 30 days without an event. A finished one
leaves a marker (state `done`, no answers: only which step was answered last) so that a double
tap of its last button gets no reply; the marker does that for `DOUBLE_TAP_WINDOW` (10 s) and
is deleted at the person's next event or by the next `tsunagu purge`, whichever comes first.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, or_

from bot.content.flow import DONE
from bot.conversations.store import IDLE_LIMIT
from bot.db.database import Database, database
from bot.db.models import Conversation, ProcessedEvent, utcnow
from bot.dialogue.engine import DOUBLE_TAP_WINDOW
from bot.referrals.retention import purge_referrals

EVENT_MEMORY = dt.timedelta(days=7)  # LINE stops redelivering long before this


def forget(db: Database, key: str) -> None:
    """Delete a person's conversation (unfollow)."""
    with db.transaction() as session:
        session.execute(delete(Conversation).where(Conversation.user_key == key))


def purge(db: Database, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete idle conversations, finished ones' markers and old event ids; count them."""
    now = now or utcnow()
    with db.transaction() as session:
        convs = session.execute(delete(Conversation).where(or_(
            Conversation.updated_at < now - IDLE_LIMIT,
            (Conversation.state == DONE) & (Conversation.updated_at < now - DOUBLE_TAP_WINDOW),
        ))).rowcount
        events = session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.received_at < now - EVENT_MEMORY)).rowcount
    return convs, events


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete idle and finished conversations, old event ids and referrals kept long enough."""
    db = database(current_app)
    convs, events = purge(db)
    years = current_app.config["KEEP_REFERRAL_YEARS"]
    referrals = purge_referrals(db, utcnow().date(), years)
    click.echo(f"Deleted {convs} idle or finished conversations, {events} old event ids and "
               f"{referrals} referral records kept {years} fiscal years after their own.")


def init_app(app: Flask) -> None:
    app.cli.add_command(purge_command)
