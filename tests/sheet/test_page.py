"""A referral's own page, opened from the button under it: the same referral, nothing kept."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import event

from bot.console.web import SECURITY_HEADERS
from bot.content.source import content_source
from bot.db.database import database
from bot.db.models import Conversation, Referral
from bot.referrals import links
from bot.referrals.links import MAX_AGE, Links
from tests.support.apps import make_app
from tests.support.conversations import count
from tests.support.pages import (
    PUBLIC_URL,
    office_cards,
    path_of,
    programme_titles,
    referral_in,
    shared_text,
)


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api, PUBLIC_URL=PUBLIC_URL)
    yield app
    database(app).dispose()


def page_link(app, answers: dict, bundle_id: str | None = None) -> str:
    """Return the path of the page for these answers, signed as the bot signs it."""
    bundle_id = bundle_id or content_source(app).current().bundle_id
    return path_of(Links(app.config["TSUNAGU_SECRET_KEY"], PUBLIC_URL).page_url(bundle_id,
                                                                                answers))


def texts_of(page: str) -> str:
    """Return a page's text without its tags, as one line per element."""
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


@pytest.fixture
def statements(app):
    """Count the SQL statements the app runs while the test reads them."""
    seen: list[str] = []
    engine = database(app).engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731 (the statement)
    event.listen(engine, "before_cursor_execute", listener)
    yield seen
    event.remove(engine, "before_cursor_execute", listener)


def test_the_page_shows_the_referral_the_line_message_gave(app, client, line_user):
    page_url, share = referral_in(line_user, "大仙市")
    cards = office_cards(line_user)
    titles = programme_titles(line_user)
    response = client.get(path_of(page_url))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    shown = texts_of(body)
    # The same offices, in the same order, each with the same tap-to-call.
    offices = body.split('id="offices"')[1]
    assert [html.unescape(n) for n in re.findall(r"<h3>([^<]+)</h3>", offices)] == [
        name for name, _ in cards]
    for _, calls in cards:
        for tel in calls:
            assert f'href="{tel}"' in body
    for title in titles:
        assert title in shown
    # What to show at the counter: the answers' categories, in the questions' words.
    assert "窓口でお見せください" in shown
    for label in ("ご本人", "40〜44歳", "正社員", "まずは話を聞いてほしい", "大仙市"):
        assert f"<dd>{label}</dd>" in body
    # The page's own share link sends what the LINE button sends.
    assert html.unescape(re.search(r'<a class="line" href="([^"]+)"', body)[1]) == share
    assert shared_text(share).endswith(page_url)
    assert "何も記録していません" in shown and "お答えの区分" in shown


def test_opening_the_page_reads_and_writes_no_table(app, client, line_user, statements):
    page_url, _ = referral_in(line_user)
    kept = count(app, Referral), count(app, Conversation)
    statements.clear()
    for _ in range(3):
        assert client.get(path_of(page_url)).status_code == 200
    assert statements == []
    assert (count(app, Referral), count(app, Conversation)) == kept


def test_the_page_sends_the_console_s_security_headers_and_noindex(app, client):
    response = client.get(page_link(app, {"subject": "self", "area": "秋田市"}))
    assert response.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in body
    # Nothing loaded from elsewhere: the one stylesheet is the app's, and there is no script.
    loads = re.findall(r'<(?:link|script|img|iframe)\b[^>]*(?:href|src)="([^"]+)"', body)
    assert loads == ["/r/assets/icon.svg", "/r/assets/sheet.css"]
    assert "<script" not in body and "style=" not in body
    css = client.get("/r/assets/sheet.css")
    assert css.status_code == 200 and "@page { size: A4;" in css.get_data(as_text=True)
    assert "url(" not in css.get_data(as_text=True)  # no font or image from anywhere


def test_an_employer_s_page_speaks_to_the_employer(app, client):
    body = client.get(page_link(app, {"subject": "employer", "employer_need": "hire",
                                      "area": "横手市"})).get_data(as_text=True)
    assert "事業主の方が使える支援" in body and "<dd>企業・事業主の方</dd>" in body
    assert "<dd>氷河期世代を採用したい</dd>" in body and "<dd>横手市</dd>" in body


@pytest.mark.parametrize("path", [
    "/r/not-a-token", "/r/", "/r/a/b", "/r/.eJwljU0KwjAUhO_y1m40BrGXCWn7kqb5K4mlhNKNHsV.axdHtg.x",
])
def test_a_link_that_is_not_ours_gets_the_kind_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert_kind(response, "開けません")


def test_an_altered_link_gets_the_kind_page(app, client):
    path = page_link(app, {"subject": "self", "area": "秋田市"})
    altered = path[:10] + ("A" if path[10] != "A" else "B") + path[11:]
    response = client.get(altered)
    assert response.status_code == 404
    assert_kind(response, "開けません")


def test_a_link_older_than_90_days_gets_the_kind_page(app, client, monkeypatch):
    path = page_link(app, {"subject": "self", "area": "秋田市"})
    moment = links.clock.now() + MAX_AGE + dt.timedelta(hours=1)
    monkeypatch.setattr(links.clock, "now", lambda: moment)
    response = client.get(path)
    assert response.status_code == 410
    assert_kind(response, "有効期限が切れています")
    assert "90日" in response.get_data(as_text=True)


def assert_kind(response, words: str) -> None:
    """Check a kind page: Japanese, noindex, the security headers, no script."""
    body = response.get_data(as_text=True)
    assert words in body and '<html lang="ja">' in body
    assert '<meta name="robots" content="noindex">' in body
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS[
        "Content-Security-Policy"]
    assert "<script" not in body and "Traceback" not in body


def test_a_version_no_longer_here_answers_with_the_live_one_and_says_so(app, client):
    body = client.get(page_link(app, {"subject": "self", "area": "能代市"},
                                bundle_id="0000000000000000")).get_data(as_text=True)
    assert "いまの内容でご案内しています" in body
    assert "ハローワーク能代" in body


def test_the_page_says_when_it_was_made_and_until_when_it_opens(app, client):
    body = client.get(page_link(app, {"subject": "self", "area": "秋田市"})).get_data(
        as_text=True)
    made = links.clock.japan_date()
    until = (links.clock.now() + MAX_AGE).astimezone(links.clock.JST).date()
    assert f"{made.year}年{made.month}月{made.day}日に作られ" in body
    assert f"{until.year}年{until.month}月{until.day}日まで開けます" in body


def test_without_a_public_address_a_link_made_before_still_opens(database_url, line_api):
    app = make_app(database_url, line_api)  # TSUNAGU_PUBLIC_URL unset since the link was made
    path = page_link(app, {"subject": "self", "area": "秋田市"})
    response = app.test_client().get(path)
    assert response.status_code == 200
    share = html.unescape(re.search(r'<a class="line" href="([^"]+)"',
                                    response.get_data(as_text=True))[1])
    assert shared_text(share).endswith(PUBLIC_URL + path)  # the address it was opened at
    database(app).dispose()
