"""Editors change every kind of item of the draft in forms: read back, refused kindly, restored."""

from __future__ import annotations

import pytest

from bot.db.database import database
from bot.studio import drafts, library
from bot.studio.forms import KINDS
from tests.support.apps import make_app
from tests.support.console import csrf_of, log_in, make_account
from tests.support.forms import submit

SOURCE = "https://www.pref.akita.lg.jp/pages/archive/91508 (a page for the tests)"


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api)
    make_account(app, "suzuki", "editor")
    make_account(app, "tanaka", "editor")
    make_account(app, "sato", "counselor")
    yield app
    database(app).dispose()


def editor(app, name: str = "suzuki"):
    client = app.test_client()
    log_in(client, name)
    return client


def draft(app):
    with app.app_context():
        return library.draft()


def first_form(client, kind):
    """Return the address of a kind's first item's form (the kind's own for a kind of keys)."""
    if not kind.items:
        return f"/admin/draft/{kind.name}"
    page = client.get(f"/admin/draft/{kind.name}")
    assert page.status_code == 200
    import re
    return re.search(rf'href="(/admin/draft/{kind.name}/(?!new)[^"]+)"', page.text).group(1)


@pytest.mark.parametrize("kind_name", [k for k in KINDS if k != "events"])
def test_every_form_shows_its_item_and_saving_it_unchanged_changes_nothing(app, kind_name):
    client = editor(app)
    with app.app_context():
        before = library.draft_files()
    address = first_form(client, KINDS[kind_name])
    page = client.get(address)
    assert page.status_code == 200 and "下書きの確認" in page.text
    saved = submit(client, page, address)
    assert saved.status_code == 302, saved.text
    assert "変わったところはありませんでした" in client.get(saved.headers["Location"]).text
    with app.app_context():
        assert library.draft_files() == before
