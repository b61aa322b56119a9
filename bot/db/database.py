"""The database: engines, sessions, migrations and the `tsunagu db` commands."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, autocommit: bool = False, reads: bool = False) -> Engine:
    """Create an engine with settings that suit many workers on one database."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        if not reads:  # a reader takes no write lock, so it never waits for a writer
            event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A database that accepts connections but never answers must cost a request seconds,
    # not forever: the webhook then answers 503 and LINE redelivers.
    # A fixed pool: an event holds a connection for about a millisecond, so 20 serve many
    # threads, and overflow connections opened and closed under load cost more than waiting.
    # No pre-ping round trip per event: a connection found dead is retried by
    # bot.conversations.store.handle, and the pool then replaces all connections of that age.
    # Events get a pool of their own that stays in autocommit: psycopg then sends no BEGIN
    # or COMMIT, and nothing needs resetting when a connection goes back to the pool.
    options = ({"pool_size": 20, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
               if autocommit else {"pool_size": 5})
    engine = create_engine(url, max_overflow=0, pool_timeout=5, connect_args={
        "connect_timeout": 2, "keepalives": 1, "keepalives_idle": 10}, **options)
    event.listen(engine, "connect", _postgresql_timeouts)
    return engine


def _postgresql_timeouts(dbapi_connection, _record) -> None:
    # No statement of ours takes a second; one stuck behind a lock must not hold a thread.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 5000")
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while one worker writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection) -> None:
    # pysqlite would otherwise commit at each savepoint release, and two workers reading
    # then writing would fail on SQLite's snapshot check; IMMEDIATE takes the write lock
    # up front, so events on SQLite simply queue (PostgreSQL is for real concurrency).
    # Straight to the driver: SQLAlchemy's execution layer around it cost more than BEGIN.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


class WriterQueue:
    """Queue the writers of one SQLite file: threads on a mutex, worker processes on flock."""

    # SQLite's own busy handler polls with sleeps that grow to 100 ms; a mutex and a
    # blocking flock wake the next writer as soon as the last one commits.
    def __init__(self, database: str | None) -> None:
        on_disk = database and database != ":memory:" and not database.startswith("file:")
        self.path = f"{database}.lock" if on_disk else None
        self.mutex = threading.Lock()
        self.fd: int | None = None
        self.pid = 0

    def __enter__(self) -> None:
        self.mutex.acquire()
        try:
            if self.path:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self.mutex.release()
            raise

    def __exit__(self, *exc) -> None:
        if self.path:
            fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        self.mutex.release()

    def _descriptor(self) -> int:
        # flock is shared by every process holding the same open file: open it per worker.
        if self.pid != os.getpid():
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self.pid = os.getpid()
        return self.fd


class Database:
    """The app's engines and sessions; reach it with `database(app)`."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        # PostgreSQL: events get their own engine whose statements commit alone.
        self.events_engine = None if self.sqlite else make_engine(url, autocommit=True)
        # Small reads that may happen while this thread's event holds SQLite's write lock
        # (which version is live): on SQLite a plain reader, which WAL lets go on.
        self.reads_engine = make_engine(url, reads=True) if self.sqlite else self.events_engine
        self.writers = WriterQueue(self.engine.url.database) if self.sqlite else nullcontext()
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose work is committed together, or not at all."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """Yield a connection in a write transaction (queued behind other writers on SQLite)."""
        with self.writers, self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection (after a fork, or to let a database go)."""
        for engine in {self.engine, self.events_engine, self.reads_engine} - {None}:
            if engine is not None:
                engine.dispose()


def database(app: Flask | None = None) -> Database:
    """Return the app's database."""
    return (app or current_app).extensions[_KEY]


def transaction(app: Flask | None = None):
    """Yield a session of the app's database whose work is committed together, or not at all."""
    return database(app).transaction()


_KEY = "tsunagu.db"


def alembic_config(url: str):
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(app: Flask) -> None:
    """Create or upgrade the schema to the newest migration."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # it narrates every plugin
    from alembic import command

    command.upgrade(alembic_config(app.config["DATABASE_URL"]), "head")


db_cli = AppGroup("db", help="Manage the database.")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Create or upgrade the database schema."""
    upgrade(current_app)
    click.echo("The database is up to date.")


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = Database(app.config["DATABASE_URL"])
    app.cli.add_command(db_cli)
