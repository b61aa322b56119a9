"""Fresh databases for a run: a new SQLite file or a new PostgreSQL database, migrated."""

from __future__ import annotations

import datetime as dt
import secrets
import subprocess
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

from bench.servers import BIN, ROOT

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "bench"
ANSWERS = {"subject": "self", "age": "40-44"}


def sqlite_url(workdir: Path, name: str) -> str:
    """Return the URL of a new, empty SQLite file in workdir."""
    path = workdir / f"{name}.sqlite"
    for leftover in workdir.glob(f"{name}.sqlite*"):
        leftover.unlink()
    return f"sqlite:///{path}"


def postgresql_url(admin_url: str = PG_ADMIN_URL, name: str = PG_DATABASE) -> str:
    """Drop and create the PostgreSQL database `name`; return its SQLAlchemy URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def fresh(kind: str, workdir: Path, env: dict[str, str], admin_url: str = PG_ADMIN_URL) -> str:
    """Create an empty database of this kind, run `tsunagu db upgrade`; return its URL."""
    url = sqlite_url(workdir, "tsunagu") if kind == "sqlite" else postgresql_url(admin_url)
    subprocess.run([str(BIN / "tsunagu"), "db", "upgrade"], cwd=ROOT, check=True,
                   env={**env, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)
    return url


def bundle_id() -> str:
    """Return the id of the shipped content bundle, as tsunagu stores it."""
    from bot.content import bundle

    return bundle.load(ROOT / "content", ROOT / "flows").bundle_id


def fill_conversations(url: str, count: int, batch: int = 10_000) -> None:
    """Insert `count` conversations in progress straight into the conversations table."""
    from bot.db.models import Conversation

    bundle = bundle_id()
    engine = create_engine(url)
    with engine.begin() as conn:
        for start in range(0, count, batch):
            now = dt.datetime.now(dt.UTC)
            rows = [{"user_key": secrets.token_hex(32), "bundle_id": bundle,
                     "state": "employment", "answers": ANSWERS, "revision": 1,
                     "updated_at": now} for _ in range(min(batch, count - start))]
            conn.execute(Conversation.__table__.insert(), rows)
    engine.dispose()

