"""Fixtures: an app on a fresh database per test, a LINE stand-in, and a person on LINE."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from bot.db.database import database
from tests.support.apps import TEST_DATABASE_URL, make_app
from tests.support.browser import launch_chromium
from tests.support.line_api import LineApi
from tests.support.line_user import TOKEN, LineUser


@pytest.fixture
def database_url(tmp_path):
    """Yield the URL of an empty database that lives only for this test."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def line_api(httpserver):
    api = LineApi(httpserver, token=TOKEN)
    yield api
    assert api.violations == [], "the bot sent LINE a request it would reject"


@pytest.fixture
def app(database_url, line_api, tmp_path):
    app = make_app(database_url, line_api)
    yield app
    database(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def line_user(client, line_api) -> LineUser:
    return LineUser(client, line_api)


@pytest.fixture
def make_user(client, line_api):
    return lambda: LineUser(client, line_api)


@pytest.fixture(scope="module")
def browser():
    """Yield Debian's Chromium (the browser tests fail, not skip, when it is missing)."""
    yield from launch_chromium()
