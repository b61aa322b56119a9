"""How long conversations and event ids are kept: `tsunagu purge` and forgetting on unfollow.

A conversation is kept while it goes on, for at most 30 days without an event. A finished one
leaves a marker (state `done`, no answers: only which step was answered last) so that a double
tap of its last button gets no reply; the marker does that for `DOUBLE_TAP_WINDOW` (10 s) and
is deleted at the person's next event or by the next `tsunagu purge`, whichever comes first.
A person who asked for a counselor is remembered (state `handoff`, no answers) only while the
bot keeps silent for them (`handoff_hours`); an office finder opened outside a questionnaire
(state `menu`) is kept a day.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, or_

from bot import clock
from bot.content.flow import DONE
from bot.content.source import content_source
from bot.conversations.store import IDLE_LIMIT
from bot.db.database import Database, database
from bot.db.models import Conversation, ProcessedEvent
from bot.dialogue.account import HANDOFF, MENU
from bot.dialogue.engine import DOUBLE_TAP_WINDOW
from bot.referrals.retention import purge_referrals

EVENT_MEMORY = dt.timedelta(days=7)  # LINE stops redelivering long before this
MENU_MEMORY = dt.timedelta(days=1)  # a finder nobody finished


def forget(db: Database, key: str) -> None:
    """Delete a person's conversation (unfollow)."""
    with db.transaction() as session:
        session.execute(delete(Conversation).where(Conversation.user_key == key))


def purge(db: Database, now: dt.datetime | None = None,
          handoff: dt.timedelta = dt.timedelta(hours=24)) -> tuple[int, int]:
    """Delete idle conversations, finished ones' markers and old event ids; count them."""
    now = now or clock.now()
    kept_for = {DONE: DOUBLE_TAP_WINDOW, HANDOFF: handoff, MENU: MENU_MEMORY}
    with db.transaction() as session:
        convs = session.execute(delete(Conversation).where(or_(
            Conversation.updated_at < now - IDLE_LIMIT,
            *((Conversation.state == state) & (Conversation.updated_at < now - kept)
              for state, kept in kept_for.items()),
        ))).rowcount
        events = session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.received_at < now - EVENT_MEMORY)).rowcount
    return convs, events


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete idle and finished conversations, old event ids and referrals kept long enough."""
    db = database(current_app)
    hours = content_source(current_app).current().handoff.handoff_hours
    convs, events = purge(db, handoff=dt.timedelta(hours=hours))
    years = current_app.config["KEEP_REFERRAL_YEARS"]
    referrals = purge_referrals(db, clock.japan_date(), years)
    click.echo(f"Deleted {convs} idle or finished conversations, {events} old event ids and "
               f"{referrals} referral records kept {years} fiscal years after their own.")


def init_app(app: Flask) -> None:
    app.cli.add_command(purge_command)
