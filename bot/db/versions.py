"""Stored content versions and the version each channel answers with.

This module keeps files and numbers only; parsing and checking them is the content and
studio rooms' work. A version is never changed or deleted once stored: publishing adds one,
rolling back moves a channel's pointer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot import clock
from bot.db.database import Database
from bot.db.models import ContentPointer, ContentVersion, ReferralTally

LIVE = "live"
STAGING = "staging"
CHANNELS = (LIVE, STAGING)


@dataclass(frozen=True)
class Pointer:
    """The version a channel answers with."""

    number: int
    bundle_id: str


MAX_NUMBER = 2**31 - 1  # version numbers are INTEGER columns


def add(db: Database, files: Mapping[str, bytes], bundle_id: str, note: str,
        author: str, channel: str | None = None) -> int:
    """Store a bundle's files as a new version (and point a channel at it); return its number."""
    texts = {name: data.decode("utf-8") for name, data in files.items()}
    with db.transaction() as session:
        version = ContentVersion(bundle_id=bundle_id, files=texts, note=note, author=author,
                                 created_at=clock.now())
        session.add(version)
        session.flush()
        if channel is not None:
            _point(session, channel, version.number, author)
        return version.number


def point(db: Database, channel: str, number: int, who: str) -> None:
    """Make a channel answer with version `number` (raise LookupError if there is none)."""
    with db.transaction() as session:
        if session.get(ContentVersion, number) is None:
            raise LookupError(f"there is no version {number}")
        _point(session, channel, number, who)


def unpoint(db: Database, channel: str) -> None:
    """Let a channel answer as live again (staging with no version of its own)."""
    with db.transaction() as session:
        if (found := session.get(ContentPointer, channel)) is not None:
            session.delete(found)


def _point(session, channel: str, number: int, who: str) -> None:
    pointer = session.get(ContentPointer, channel)
    if pointer is None:
        session.add(ContentPointer(channel=channel, number=number, changed_at=clock.now(),
                                   changed_by=who))
    else:
        pointer.number, pointer.changed_at, pointer.changed_by = number, clock.now(), who


def pointer(db: Database, channel: str) -> Pointer | None:
    """Return the version a channel answers with, or None (none published, or no table yet)."""
    query = (select(ContentPointer.number, ContentVersion.bundle_id)
             .join(ContentVersion, ContentVersion.number == ContentPointer.number)
             .where(ContentPointer.channel == channel))
    try:
        with db.reads_engine.connect() as conn:
            row = conn.execute(query).first()
    except SQLAlchemyError:  # a database not yet upgraded has no versions: use the folders
        return None
    return Pointer(*row) if row else None


def files_of(db: Database, *, number: int | None = None,
             bundle_id: str | None = None) -> dict[str, bytes] | None:
    """Return the files of a version by number or checksum, or None if there is none."""
    if number is not None and not 0 < number <= MAX_NUMBER:
        return None  # no such version, and a number no database column could hold
    query = select(ContentVersion.files)
    if number is not None:
        query = query.where(ContentVersion.number == number)
    else:
        query = query.where(ContentVersion.bundle_id == bundle_id).order_by(
            ContentVersion.number).limit(1)
    try:
        with db.reads_engine.connect() as conn:
            texts = conn.execute(query).scalar()
    except SQLAlchemyError:
        return None
    return {name: text.encode("utf-8") for name, text in texts.items()} if texts else None


@dataclass(frozen=True)
class Listed:
    """One version as `tsunagu versions` shows it."""

    number: int
    bundle_id: str
    note: str
    author: str
    created_at: object
    channels: tuple[str, ...]  # the channels answering with it
    referrals: int  # referral records made under it (real and staging)


def listing(db: Database) -> list[Listed]:
    """Return every version, newest first."""
    with db.transaction() as session:
        pointers: dict[int, list[str]] = {}
        for channel, number in session.execute(
                select(ContentPointer.channel, ContentPointer.number)).all():
            pointers.setdefault(number, []).append(channel)
        counts = dict(session.execute(
            select(ReferralTally.bundle_id, func.sum(ReferralTally.count))
            .where(ReferralTally.kind == "referral").group_by(ReferralTally.bundle_id)).all())
        versions = session.scalars(
            select(ContentVersion).order_by(ContentVersion.number.desc())).all()
        return [Listed(v.number, v.bundle_id, v.note, v.author, v.created_at,
                       tuple(sorted(pointers.get(v.number, []))), int(counts.get(v.bundle_id, 0)))
                for v in versions]
