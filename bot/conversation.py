"""Conversations in the database: one transaction per event, acted on exactly once."""

from __future__ import annotations

import datetime as dt
import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import transaction
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


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _mark_processed(session: Session, event_id: str | None) -> None:
    if not event_id:
        return
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id))
    except IntegrityError as err:
        raise Duplicate(event_id) from err


def _load(session: Session, key: str) -> Conversation | None:
    conv = session.get(Conversation, key)
    if conv is not None and utcnow() - _aware(conv.updated_at) > IDLE_LIMIT:
        _delete(session, conv)
        return None
    return conv


def _delete(session: Session, conv: Conversation) -> None:
    result = session.execute(delete(Conversation).where(
        Conversation.user_key == conv.user_key, Conversation.revision == conv.revision))
    if result.rowcount != 1:
        raise Conflict(conv.user_key)


def _save(session: Session, key: str, conv: Conversation | None, outcome: Outcome,
          version: str) -> None:
    if outcome.state is None:
        if conv is not None:
            _delete(session, conv)
        return
    if conv is None:
        try:
            with session.begin_nested():
                session.add(Conversation(user_key=key, flow_version=version,
                                         state=outcome.state, answers=outcome.answers))
        except IntegrityError as err:
            raise Conflict(key) from err
        return
    result = session.execute(
        update(Conversation)
        .where(Conversation.user_key == key, Conversation.revision == conv.revision)
        .values(state=outcome.state, answers=outcome.answers, flow_version=version,
                revision=conv.revision + 1, updated_at=utcnow()))
    if result.rowcount != 1:
        raise Conflict(key)


def _record(session: Session, answers: dict[str, str], found: Match, version: str) -> None:
    """Store one anonymous referral: answers in bands and categories, never a user key."""
    targets = [ReferralTarget(kind="programme", code=p.id) for p in found.programmes]
    targets += [ReferralTarget(kind="office", code=o.id) for o in found.offices]
    session.add(Referral(
        day=dt.datetime.now(dt.UTC).date(), content_version=version,
        subject=answers.get("subject", ""), age_band=answers.get("age", ""),
        employment=answers.get("employment", ""),
        single_parent=answers.get("single_parent") == "yes",
        hikikomori=answers.get("hikikomori", ""), area=answers.get("area", ""),
        targets=targets))


def _attempt(engine: Engine, key: str, event_id: str | None, inp) -> Outcome:
    version = engine.content.version
    with transaction() as session:
        _mark_processed(session, event_id)
        conv = _load(session, key)
        current = (conv.state, dict(conv.answers)) if conv else None
        outcome = engine.respond(current, inp)
        if outcome.changed or (conv is not None and outcome.state is None):
            _save(session, key, conv, outcome, version)
        if outcome.referral is not None:
            _record(session, outcome.answers, outcome.referral, version)
    return outcome


def handle(engine: Engine, key: str, event_id: str | None, inp) -> Outcome | None:
    """Act on one event once; None if it was handled before."""
    for _ in range(ATTEMPTS):
        try:
            return _attempt(engine, key, event_id, inp)
        except Duplicate:
            log.info("skipped an event already handled")
            return None
        except Conflict:
            continue  # the other event won; read its result and answer from there
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
