"""Database tables: conversations in progress, handled events, anonymous referrals and counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.clock import now


class UTCDateTime(TypeDecorator):
    """A moment stored in UTC and read back timezone-aware in UTC, on every database.

    The column stays DateTime(timezone=True); SQLite keeps no zone and gives back naive
    times, so a naive time read (or written) is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """A questionnaire in progress, keyed by a keyed hash of the LINE user id."""

    __tablename__ = "conversations"

    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(32))  # the content bundle it started on
    state: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Optimistic lock: an update only lands if nobody else advanced the conversation.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now,
                                                    index=True)


class ProcessedEvent(Base):
    """A webhook event already acted on, so a redelivery is not acted on again."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now,
                                                     index=True)


class Referral(Base):
    """One completed referral; it carries no user key and nothing derived from one."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The first day of the month it was made in: the counts need no finer time, and a day
    # with a small municipality and a few answers could point to one household.
    month: Mapped[dt.date] = mapped_column(Date, index=True)
    bundle_id: Mapped[str] = mapped_column(String(32))  # the content version it was made under
    # Made on the staging account (editors trying a version): never counted with real ones.
    staging: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flow: Mapped[str] = mapped_column(String(32))  # which questionnaire (its `flow:` name)
    # Each step's answer as its option value (an age band, never the age typed): the step ids
    # of the flow are the keys, so a new question is counted without a migration.
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    targets: Mapped[list[ReferralTarget]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", lazy="selectin")


class ReferralTarget(Base):
    """A programme or office named in a referral."""

    __tablename__ = "referral_targets"

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"),
                                             primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "programme" | "office"
    code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    referral: Mapped[Referral] = relationship(back_populates="targets")


class ContentVersion(Base):
    """A published (or staged) content bundle: its files exactly, never changed once stored."""

    __tablename__ = "content_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(32), index=True)  # the files' checksum
    # Each file's name and text (YAML, UTF-8): the bundle, byte for byte.
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class ContentPointer(Base):
    """Which version a channel answers with: "live" (the real account) or "staging"."""

    __tablename__ = "content_pointers"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[int] = mapped_column(ForeignKey("content_versions.number"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    changed_by: Mapped[str] = mapped_column(String(128), default="")


class ConsoleUser(Base):
    """A counselor, editor or administrator of the web console (/admin)."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, never the password
    role: Mapped[str] = mapped_column(String(16))  # "counselor" | "editor" | "admin"
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Part of every session's id: raised at logout, a new password or disabling, so a copied
    # session cookie stops working then (a signed cookie cannot be taken back otherwise).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One thing a console user or an operator did; never holds a LINE user id."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    who: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class LoginAttempt(Base):
    """A failed console login, kept for the throttle window (in the database: workers agree)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)


class FunnelCount(Base):
    """How many times, on one day and version, people reached, answered or left a question.

    Anonymous daily counters (no user key): `event` is reached, answered, back, restart or
    crisis (a crisis reply given, never its text); `step` is the question's id ("done": the
    referral, "": no question). The account's use is counted beside them: step "feedback" with
    the feedback answer as its event, and step "menu:<number>" with "tap" for a rich menu area.
    """

    __tablename__ = "funnel_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReferralTally(Base):
    """How many referrals of one month and version named one target or gave one answer.

    Kept in each referral's own write, so the console and the exports add a few hundred rows
    instead of reading every record. `kind` is "referral" (each referral once), "with_office"
    (each referral naming an office, once), "programme" or "office" (`value`: its id) or
    "answer" (`field`: the question's id, `value`: the answer). `subject` is the answer to
    "subject" (本人・家族・事業主): the 相談等件数 splits every office's count by it.
    """

    __tablename__ = "referral_tallies"

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staging: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RichMenuDeployment(Base):
    """A rich menu `tsunagu richmenu deploy` created at LINE, and when it deleted it again."""

    __tablename__ = "richmenu_deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rich_menu_id: Mapped[str] = mapped_column(String(128), unique=True)  # LINE's richMenuId
    # SHA-256 of the rich menu object sent and of the image: the same menu deploys once.
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    bundle_id: Mapped[str] = mapped_column(String(32), default="")  # the content it came from
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    deployed_by: Mapped[str] = mapped_column(String(128), default="")
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DraftFile(Base):
    """One file of the editors' draft as edited in the console (the content folders seed it)."""

    __tablename__ = "draft_files"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)  # content/offices.yaml
    text: Mapped[str] = mapped_column(Text)


class DraftReport(Base):
    """The check's report of one draft (by its bundle id) on one day, for every worker.

    A check of the whole draft takes most of a second: the worker that saves runs it once and
    keeps it here, and the editors' pages of every worker read it.
    """

    __tablename__ = "draft_reports"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # bundle id, day, stale days
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    body: Mapped[dict] = mapped_column(JSON)  # the problems and the coverage's counts


class DraftSave(Base):
    """One save of one item of the draft: its id is the draft's revision after it."""

    __tablename__ = "draft_saves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    who: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(128))
    item: Mapped[str] = mapped_column(String(128), index=True)  # e.g. "office:hw-akita"
    before: Mapped[dict] = mapped_column(JSON)  # the fields it changed, as they were
    after: Mapped[dict] = mapped_column(JSON)  # and as they became
