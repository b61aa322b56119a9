"""Conversations in the database: one transaction per event, acted on exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from bot.db import transaction, writing
from bot.engine import Engine, Outcome
from bot.matching import Match
from bot.models import Conversation, ProcessedEvent, Referral, ReferralTarget, utcnow

log = logging.getLogger(__name__)

IDLE_LIMIT = dt.timedelta(days=30)
EVENT_MEMORY = dt.timedelta(days=7)  # LINE stops redelivering long before this
ATTEMPTS = 5


class Duplicate(Exception):
    """The event was acted on already."""


class Conflict(Exception):
    """Another event of the same person changed the conversation first."""


CONVERSATIONS = Conversation.__table__
EVENTS = ProcessedEvent.__table__
REFERRALS = Referral.__table__
TARGETS = ReferralTarget.__table__


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _insert_new(table, dialect: str):
    """Return an INSERT that skips an existing key and returns the key of a new row."""
    module = postgresql if dialect == "postgresql" else sqlite
    key = table.primary_key.columns[0]
    # rowcount is not reliable for INSERT on every driver; a returned row is.
    return module.insert(table).on_conflict_do_nothing().returning(key)


# Statements are built once: building them per event costs more than running them.
INSERT_NEW = {(table.name, dialect): _insert_new(table, dialect)
              for table in (EVENTS, CONVERSATIONS) for dialect in ("postgresql", "sqlite")}
LOAD = select(CONVERSATIONS.c.state, CONVERSATIONS.c.answers, CONVERSATIONS.c.revision,
              CONVERSATIONS.c.updated_at).where(CONVERSATIONS.c.user_key == bindparam("k"))
SAME_REVISION = (CONVERSATIONS.c.user_key == bindparam("k"),
                 CONVERSATIONS.c.revision == bindparam("r"))
DELETE = delete(CONVERSATIONS).where(*SAME_REVISION)
UPDATE = update(CONVERSATIONS).where(*SAME_REVISION)
INSERT_REFERRAL = insert(REFERRALS).returning(REFERRALS.c.id)
INSERT_TARGETS = insert(TARGETS)


def _inserted(conn: Connection, table, **values) -> bool:
    """Insert a row unless its key exists; tell whether it was inserted, without raising."""
    statement = INSERT_NEW[table.name, "postgresql" if conn.dialect.name == "postgresql"
                           else "sqlite"]
    return conn.execute(statement, values).first() is not None


def _mark_processed(conn: Connection, event_id: str | None) -> None:
    if not event_id:
        return
    if len(event_id) > 64:  # LINE's ids are 26-character ULIDs; never fail on a longer one
        event_id = hashlib.sha256(event_id.encode()).hexdigest()
    if not _inserted(conn, EVENTS, event_id=event_id, received_at=utcnow()):
        raise Duplicate(event_id)


def _load(conn: Connection, key: str):
    row = conn.execute(LOAD, {"k": key}).first()
    if row is not None and utcnow() - _aware(row.updated_at) > IDLE_LIMIT:
        _delete(conn, key, row.revision)
        return None
    return row


def _delete(conn: Connection, key: str, revision: int) -> None:
    if conn.execute(DELETE, {"k": key, "r": revision}).rowcount != 1:
        raise Conflict(key)


def _save(conn: Connection, key: str, row, outcome: Outcome, version: str) -> None:
    """Write the outcome, but only over the revision we read (optimistic locking)."""
    if outcome.state is None:
        _delete(conn, key, row.revision)
        return
    values = {"state": outcome.state, "answers": outcome.answers, "flow_version": version,
              "updated_at": utcnow()}
    if row is None:
        saved = _inserted(conn, CONVERSATIONS, user_key=key, revision=1, **values)
    else:
        saved = conn.execute(UPDATE, {"k": key, "r": row.revision,
                                      "revision": row.revision + 1, **values}).rowcount == 1
    if not saved:
        raise Conflict(key)


def _record(conn: Connection, answers: dict[str, str], found: Match, version: str) -> None:
    """Store one anonymous referral: answers in bands and categories, never a user key."""
    referral_id = conn.execute(INSERT_REFERRAL, {
        "day": dt.datetime.now(dt.UTC).date(), "content_version": version,
        "subject": answers.get("subject", ""), "age_band": answers.get("age", ""),
        "employment": answers.get("employment", ""),
        "single_parent": answers.get("single_parent") == "yes",
        "hikikomori": answers.get("hikikomori", ""), "area": answers.get("area", "")},
    ).scalar_one()
    targets = [{"referral_id": referral_id, "kind": "programme", "code": p.id}
               for p in found.programmes]
    targets += [{"referral_id": referral_id, "kind": "office", "code": o.id}
                for o in found.offices]
    conn.execute(INSERT_TARGETS, targets)


def _attempt(engine: Engine, key: str, event_id: str | None, inp) -> Outcome:
    """Act on one event in one transaction: all of it is stored, or none of it."""
    version = engine.content.version
    with writing() as conn:
        _mark_processed(conn, event_id)
        row = _load(conn, key)
        outcome = engine.respond((row.state, dict(row.answers)) if row else None, inp)
        if outcome.changed or (row is not None and outcome.state is None):
            _save(conn, key, row, outcome, version)
        if outcome.referral is not None:
            _record(conn, outcome.answers, outcome.referral, version)
    return outcome


def handle(engine: Engine, key: str, event_id: str | None, inp) -> Outcome | None:
    """Act on one event once; None if it was handled before."""
    reconnected = False
    for _ in range(ATTEMPTS):
        try:
            return _attempt(engine, key, event_id, inp)
        except Duplicate:
            log.info("skipped an event already handled")
            return None
        except Conflict:
            continue  # the other event won; read its result and answer from there
        except DBAPIError as err:
            if reconnected or not err.connection_invalidated:
                raise  # the webhook answers 503 and LINE redelivers
            reconnected = True
            # A connection died under us (database restarted); the pool has dropped it and
            # its siblings, and nothing was committed, so the next attempt starts clean.
            log.warning("database connection lost; retrying the event once more")
    raise RuntimeError("conversation kept changing under us; giving up on this event")


def forget(key: str) -> None:
    """Delete a person's conversation (unfollow)."""
    with transaction() as session:
        session.execute(delete(Conversation).where(Conversation.user_key == key))


def purge(app: Flask | None = None, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete idle conversations and old event ids; return how many of each."""
    now = now or utcnow()
    with transaction(app) as session:
        convs = session.execute(delete(Conversation).where(
            Conversation.updated_at < now - IDLE_LIMIT)).rowcount
        events = session.execute(delete(ProcessedEvent).where(
            ProcessedEvent.received_at < now - EVENT_MEMORY)).rowcount
    return convs, events


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete conversations idle for 30 days and event ids older than 7 days."""
    convs, events = purge(current_app)
    click.echo(f"Deleted {convs} idle conversations and {events} old event ids.")


def init_app(app: Flask) -> None:
    app.cli.add_command(purge_command)
