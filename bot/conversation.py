"""Conversations in the database: each event is read, decided and written once, atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.db import get_autocommit_engine, transaction, writing
from bot.engine import Engine, Outcome
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

# Statements are built once: building them per event costs more than running them.
NOW = bindparam("now", type_=DateTime(timezone=True))
_ONE = select(literal_column("1").label("one")).subquery("one")
READ = (select(CONVERSATIONS.c.state, CONVERSATIONS.c.answers, CONVERSATIONS.c.revision,
               CONVERSATIONS.c.updated_at,
               exists().where(EVENTS.c.event_id == bindparam("e")).label("seen"))
        .select_from(_ONE.outerjoin(CONVERSATIONS, CONVERSATIONS.c.user_key == bindparam("k"))))
_SAME_REVISION = (CONVERSATIONS.c.user_key == bindparam("k"),
                  CONVERSATIONS.c.revision == bindparam("r"))
_NEW_VALUES = {"state": bindparam("new_state", type_=String),
               "answers": bindparam("new_answers", type_=JSON),
               "flow_version": bindparam("version", type_=String), "updated_at": NOW}
# Each returns the key of the row it wrote: no row means another event got there first.
WRITE_CONVERSATION = {
    "insert": insert(CONVERSATIONS).values(user_key=bindparam("k"), revision=1, **_NEW_VALUES),
    "update": update(CONVERSATIONS).where(*_SAME_REVISION).values(
        revision=CONVERSATIONS.c.revision + 1, **_NEW_VALUES),
    "delete": delete(CONVERSATIONS).where(*_SAME_REVISION),
}
WRITE_CONVERSATION = {kind: statement.returning(CONVERSATIONS.c.user_key)
                      for kind, statement in WRITE_CONVERSATION.items()}
MARK = insert(EVENTS).values(event_id=bindparam("e"), received_at=NOW)
_REFERRAL_VALUES = {column.name: bindparam(column.name, type_=column.type)
                    for column in REFERRALS.c if column.name != "id"}
INSERT_REFERRAL = insert(REFERRALS).values(_REFERRAL_VALUES).returning(REFERRALS.c.id)
INSERT_TARGETS = insert(TARGETS)


@dataclass(frozen=True)
class Change:
    """What one event writes, decided before anything is written."""

    kind: str  # "keep" (only mark the event handled), "insert", "update" or "delete"
    params: dict
    referral: dict | None = None
    targets: list[tuple[str, str]] = field(default_factory=list)  # (kind, code)


def _event_key(event_id: str | None) -> str:
    if not event_id:  # LINE always sends one; without it the event cannot be deduplicated
        return f"local-{uuid.uuid4().hex}"
    if len(event_id) > 64:  # LINE's ids are 26-character ULIDs; never fail on a longer one
        return hashlib.sha256(event_id.encode()).hexdigest()
    return event_id


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _read(conn: Connection, key: str, event_id: str):
    row = conn.execute(READ, {"k": key, "e": event_id}).one()
    if row.seen:
        raise Duplicate(event_id)
    return row


def _current(row, now: dt.datetime) -> tuple[str, dict] | None:
    """Return the conversation the engine continues; one idle too long starts afresh."""
    if row.state is None or now - _aware(row.updated_at) > IDLE_LIMIT:
        return None
    return row.state, dict(row.answers)


def _kind(row, outcome: Outcome) -> str:
    stored = row.revision is not None
    if outcome.state is None:
        return "delete" if stored else "keep"
    if not outcome.changed:
        return "keep"
    return "update" if stored else "insert"


def _plan(key: str, event_id: str, row, outcome: Outcome, version: str, now) -> Change:
    params = {"k": key, "r": row.revision, "e": event_id, "now": now,
              "new_state": outcome.state, "new_answers": outcome.answers, "version": version}
    found = outcome.referral
    if found is None:
        return Change(_kind(row, outcome), params)
    answers = outcome.answers  # stored in bands and categories, never with a user key
    referral = {"day": now.date(), "content_version": version,
                "subject": answers.get("subject", ""), "age_band": answers.get("age", ""),
                "employment": answers.get("employment", ""),
                "single_parent": answers.get("single_parent") == "yes",
                "hikikomori": answers.get("hikikomori", ""), "area": answers.get("area", "")}
    targets = [("programme", p.id) for p in found.programmes]
    targets += [("office", o.id) for o in found.offices]
    return Change(_kind(row, outcome), params, referral, targets)


def _write_in_transaction(conn: Connection, change: Change) -> None:
    """Write an event's change statement by statement, inside the caller's transaction."""
    conn.execute(MARK, change.params)
    if change.kind != "keep":
        if conn.execute(WRITE_CONVERSATION[change.kind], change.params).first() is None:
            raise Conflict(change.kind)
    if change.referral is not None:
        _record(conn, change)


def _record(conn: Connection, change: Change) -> None:
    """Store one anonymous referral and the programmes and offices it named."""
    referral_id = conn.execute(INSERT_REFERRAL, change.referral).scalar_one()
    conn.execute(INSERT_TARGETS, [{"referral_id": referral_id, "kind": kind, "code": code}
                                  for kind, code in change.targets])


def _at_once(kind: str, referral: bool):
    """Build the one PostgreSQL statement that writes all of an event's change."""
    handled = select(bindparam("e", type_=String), NOW)
    if kind != "keep":
        # The event counts as handled only if its conversation write landed.
        handled = handled.select_from(WRITE_CONVERSATION[kind].cte("conversation"))
    marked = insert(EVENTS).from_select(["event_id", "received_at"], handled)
    marked = marked.returning(EVENTS.c.event_id).cte("marked")
    statement = select(func.count()).select_from(marked)
    if not referral:
        return statement
    new = (insert(REFERRALS).from_select(list(_REFERRAL_VALUES),
                                         select(*_REFERRAL_VALUES.values()).select_from(marked))
           .returning(REFERRALS.c.id).cte("referral"))
    named = func.unnest(bindparam("kinds", type_=ARRAY(String)),
                        bindparam("codes", type_=ARRAY(String))).table_valued(
        "kind", "code").render_derived("named")
    targets = insert(TARGETS).from_select(
        ["referral_id", "kind", "code"],
        select(new.c.id, named.c.kind, named.c.code).select_from(new.join(named, true())))
    return statement.add_cte(targets.cte("targets"))


AT_ONCE = {(kind, referral): _at_once(kind, referral)
           for kind in ("keep", *WRITE_CONVERSATION) for referral in (False, True)}


def _write_at_once(conn: Connection, change: Change) -> None:
    """Write an event's change in one statement: one round trip, atomic without BEGIN."""
    params = change.params
    if change.referral is not None:
        params = {**params, **change.referral, "kinds": [kind for kind, _ in change.targets],
                  "codes": [code for _, code in change.targets]}
    if not conn.execute(AT_ONCE[change.kind, change.referral is not None], params).scalar_one():
        raise Conflict(change.kind)


def _clash(err: IntegrityError) -> Exception:
    """Tell a redelivered event or a raced first message from a real integrity error."""
    table = getattr(getattr(err.orig, "diag", None), "table_name", None)  # PostgreSQL
    if table is None:  # SQLite: "UNIQUE constraint failed: processed_events.event_id"
        table = str(err.orig).rpartition(": ")[2].partition(".")[0]
    if table == EVENTS.name:
        return Duplicate()
    if table == CONVERSATIONS.name:
        return Conflict("insert")
    return err


def _attempt(engine: Engine, key: str, event_id: str, inp) -> Outcome:
    """Act on one event: read, decide, and store everything it changes or none of it."""
    autocommit = get_autocommit_engine()
    at_once = autocommit is not None
    # PostgreSQL: a read that takes no lock, then one statement that writes only over the
    # revision read. SQLite: all of it under the writer queue, one thread at a time, which
    # measured cheaper there than reading outside it (docs/performance.md).
    try:
        with autocommit.connect() if at_once else writing() as conn:
            row = _read(conn, key, event_id)
            now = utcnow()
            outcome = engine.respond(_current(row, now), inp)
            change = _plan(key, event_id, row, outcome, engine.content.version, now)
            (_write_at_once if at_once else _write_in_transaction)(conn, change)
    except IntegrityError as err:
        raise _clash(err) from None
    return outcome


def handle(engine: Engine, key: str, event_id: str | None, inp) -> Outcome | None:
    """Act on one event once; None if it was handled before."""
    event_id = _event_key(event_id)
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
