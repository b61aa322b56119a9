"""Conversations in the database: each event is read, decided and written once, atomically.

The store does not know the questionnaire: the caller passes `decide`, which turns the stored
conversation (or None) into a Decision; the store writes it, with its referral record, or
nothing at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import clock
from bot.db.database import Database, database
from bot.db.models import Conversation, FunnelCount, ProcessedEvent, UTCDateTime
from bot.referrals import record as records
from bot.referrals.record import Record

log = logging.getLogger(__name__)

IDLE_LIMIT = dt.timedelta(days=30)
ATTEMPTS = 5


class Duplicate(Exception):
    """The event was acted on already."""


class Conflict(Exception):
    """Another event of the same person changed the conversation first."""


@dataclass(frozen=True)
class Stored:
    """A conversation as the store read it."""

    state: str
    answers: dict[str, str]
    bundle_id: str  # the content bundle it started on
    since: dt.timedelta | None = None  # how long ago it last changed, by this server's clock


@dataclass(frozen=True)
class Decision:
    """What one event changes, decided from the stored conversation."""

    state: str | None  # None: keep no conversation
    answers: dict[str, str]
    bundle_id: str
    changed: bool = True  # False: the conversation stays as it was
    referral: Record | None = None
    payload: Any = None  # what the caller needs afterwards (its reply); the store never looks
    counts: tuple[tuple[str, str], ...] = ()  # anonymous funnel counters (step, event) to add


Decide = Callable[[Stored | None], Decision]

CONVERSATIONS = Conversation.__table__
EVENTS = ProcessedEvent.__table__

# Statements are built once: building them per event costs more than running them.
NOW = bindparam("now", type_=UTCDateTime())
_ONE = select(literal_column("1").label("one")).subquery("one")
READ = (select(CONVERSATIONS.c.state, CONVERSATIONS.c.answers, CONVERSATIONS.c.revision,
               CONVERSATIONS.c.updated_at, CONVERSATIONS.c.bundle_id,
               exists().where(EVENTS.c.event_id == bindparam("e")).label("seen"))
        .select_from(_ONE.outerjoin(CONVERSATIONS, CONVERSATIONS.c.user_key == bindparam("k"))))
_SAME_REVISION = (CONVERSATIONS.c.user_key == bindparam("k"),
                  CONVERSATIONS.c.revision == bindparam("r"))
_NEW_VALUES = {"state": bindparam("new_state", type_=String),
               "answers": bindparam("new_answers", type_=JSON),
               "bundle_id": bindparam("bundle", type_=String), "updated_at": NOW}
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
FUNNEL = FunnelCount.__table__
_FUNNEL_KEY = ["day", "bundle_id", "step", "event"]
DAY = bindparam("day", type_=Date)
# SQLite: the event's counters in one driver call, in its transaction, straight to the
# driver: SQLAlchemy's layer around this small statement cost more than the statement.
COUNT = (f"INSERT INTO {FUNNEL.name} ({', '.join(_FUNNEL_KEY)}, count) VALUES (?, ?, ?, ?, 1) "
         f"ON CONFLICT ({', '.join(_FUNNEL_KEY)}) DO UPDATE SET count = count + 1")


@dataclass(frozen=True)
class Change:
    """What one event writes, decided before anything is written."""

    kind: str  # "keep" (only mark the event handled), "insert", "update" or "delete"
    params: dict
    referral: Record | None = None
    row: dict = field(default_factory=dict)  # the referral's row, if any
    counts: tuple[tuple[str, str], ...] = ()


def _event_key(event_id: str | None) -> str:
    if not event_id:  # LINE always sends one; without it the event cannot be deduplicated
        return f"local-{uuid.uuid4().hex}"
    # LINE's ids are 26-character ULIDs; never fail on a longer one, or on one a database
    # cannot store as it is (a NUL character, a lone surrogate): keep its hash instead.
    if len(event_id) > 64 or not (event_id.isascii() and event_id.isprintable()):
        return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return event_id


def _current(row, now: dt.datetime) -> Stored | None:
    """Return the conversation to continue; one idle too long starts afresh."""
    if row.state is None:
        return None
    since = now - row.updated_at  # read back aware (UTCDateTime)
    if since > IDLE_LIMIT:
        return None
    return Stored(row.state, dict(row.answers), row.bundle_id, since)


def _kind(row, decision: Decision) -> str:
    stored = row.revision is not None
    if decision.state is None:
        return "delete" if stored else "keep"
    if not decision.changed:
        return "keep"
    return "update" if stored else "insert"


def _plan(key: str, event_id: str, row, decision: Decision, now) -> Change:
    params = {"k": key, "r": row.revision, "e": event_id, "now": now,
              "new_state": decision.state, "new_answers": decision.answers,
              "bundle": decision.bundle_id, "day": clock.japan_date(now)}
    referral = decision.referral
    # Counters in one order: two events at once then lock their rows in the same order.
    counts = tuple(sorted(decision.counts))
    if referral is None:
        return Change(_kind(row, decision), params, counts=counts)
    return Change(_kind(row, decision), params, referral,
                  referral.row(clock.japan_date(now), decision.bundle_id), counts)


def _write_in_transaction(conn: Connection, change: Change) -> None:
    """Write an event's change statement by statement, inside the caller's transaction."""
    conn.execute(MARK, change.params)
    if change.kind != "keep":
        if conn.execute(WRITE_CONVERSATION[change.kind], change.params).first() is None:
            raise Conflict(change.kind)
    if change.referral is not None:
        records.write(conn, change.referral, change.row)
    if change.counts:
        day, bundle = change.params["day"].isoformat(), change.params["bundle"]
        conn.exec_driver_sql(COUNT, [(day, bundle, step, event)
                                     for step, event in change.counts])


def _counted(marked):
    """Build the CTE that adds an event's funnel counters once the event is marked handled."""
    counted = func.unnest(bindparam("steps", type_=ARRAY(String)),
                          bindparam("events", type_=ARRAY(String))).table_valued(
        "step", "event").render_derived("counted")
    rows = select(DAY, bindparam("bundle", type_=String), counted.c.step, counted.c.event,
                  literal(1)).select_from(marked.join(counted, true()))
    upsert = postgresql.insert(FUNNEL).from_select([*_FUNNEL_KEY, "count"], rows)
    upsert = upsert.on_conflict_do_update(index_elements=_FUNNEL_KEY,
                                          set_={"count": FUNNEL.c.count + 1})
    return upsert.cte("funnel")


def _at_once(kind: str, referral: bool, counts: bool = False):
    """Build the one PostgreSQL statement that writes all of an event's change."""
    handled = select(bindparam("e", type_=String), NOW)
    if kind != "keep":
        # The event counts as handled only if its conversation write landed.
        handled = handled.select_from(WRITE_CONVERSATION[kind].cte("conversation"))
    marked = insert(EVENTS).from_select(["event_id", "received_at"], handled)
    marked = marked.returning(EVENTS.c.event_id).cte("marked")
    statement = select(func.count()).select_from(marked)
    if counts:
        statement = statement.add_cte(_counted(marked))
    if referral:  # the referrals room's statements, stored only if the event was marked
        statement = statement.add_cte(*records.stored_after(marked))
    return statement


AT_ONCE = {(kind, referral, counts): _at_once(kind, referral, counts)
           for kind in ("keep", *WRITE_CONVERSATION) for referral in (False, True)
           for counts in (False, True)}


def _write_at_once(conn: Connection, change: Change) -> None:
    """Write an event's change in one statement: one round trip, atomic without BEGIN."""
    params = change.params
    if change.referral is not None:
        params = {**params, **records.stored_values(change.referral, change.row)}
    if change.counts:
        params = {**params, "steps": [step for step, _ in change.counts],
                  "events": [event for _, event in change.counts]}
    statement = AT_ONCE[change.kind, change.referral is not None, bool(change.counts)]
    if not conn.execute(statement, params).scalar_one():
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


class Conversations:
    """The app's conversation store: `conversations(app).handle(key, event_id, decide)`.

    `read` and `write` are the two database steps of an event; failure drills wrap them to
    lose a race or the database at the worst moment.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        # PostgreSQL: a read that takes no lock, then one statement that writes only over the
        # revision read. SQLite: all of it under the writer queue, one thread at a time, which
        # measured cheaper there than reading outside it (docs/performance.md).
        self.at_once = db.events_engine is not None
        self.write = _write_at_once if self.at_once else _write_in_transaction

    def read(self, conn: Connection, key: str, event_id: str):
        """Read the conversation and whether the event was handled; raise Duplicate if so."""
        row = conn.execute(READ, {"k": key, "e": event_id}).one()
        if row.seen:
            raise Duplicate(event_id)
        return row

    def handle(self, key: str, event_id: str | None, decide: Decide) -> Decision | None:
        """Act on one event once; None if it was handled before."""
        event_id = _event_key(event_id)
        reconnected = False
        for _ in range(ATTEMPTS):
            try:
                return self._attempt(key, event_id, decide)
            except Duplicate:
                log.info("skipped an event already handled")
                return None
            except Conflict:
                continue  # the other event won; read its result and decide again from there
            except DBAPIError as err:
                if reconnected or not err.connection_invalidated:
                    raise  # the webhook answers 503 and LINE redelivers
                reconnected = True
                # A connection died under us (database restarted); the pool has dropped it
                # and its siblings, and nothing was committed, so the next attempt starts clean.
                log.warning("database connection lost; retrying the event once more")
        raise RuntimeError("conversation kept changing under us; giving up on this event")

    def _attempt(self, key: str, event_id: str, decide: Decide) -> Decision:
        """Act on one event: read, decide, and store everything it changes or none of it."""
        db = self.db
        try:
            with db.events_engine.connect() if self.at_once else db.writing() as conn:
                row = self.read(conn, key, event_id)
                now = clock.now()
                decision = decide(_current(row, now))
                self.write(conn, _plan(key, event_id, row, decision, now))
        except IntegrityError as err:
            raise _clash(err) from None
        return decision


_KEY = "tsunagu.conversations"


def conversations(app: Flask | None = None) -> Conversations:
    """Return the app's conversation store."""
    return (app or current_app).extensions[_KEY]


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = Conversations(database(app))
