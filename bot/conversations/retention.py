"""How long conversations and event ids are kept: `tsunagu purge` and forgetting on unfollow."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete

from bot.conversations.store import IDLE_LIMIT
from bot.db.database import Database, database
from bot.db.models import Conversation, ProcessedEvent, utcnow

EVENT_MEMORY = dt.timedelta(days=7)  # LINE stops redelivering long before this


def forget(db: Database, key: str) -> None:
    """Delete a person's conversation (unfollow)."""
    with db.transaction() as session:
        session.execute(delete(Conversation).where(Conversation.user_key == key))


def purge(db: Database, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete idle conversations and old event ids; return how many of each."""
    now = now or utcnow()
    with db.transaction() as session:
        convs = session.execute(delete(Conversation).where(
            Conversation.updated_at < now - IDLE_LIMIT)).rowcount
        events = session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.received_at < now - EVENT_MEMORY)).rowcount
    return convs, events


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete conversations idle for 30 days and event ids older than 7 days."""
    convs, events = purge(database(current_app))
    click.echo(f"Deleted {convs} idle conversations and {events} old event ids.")


def init_app(app: Flask) -> None:
    app.cli.add_command(purge_command)
