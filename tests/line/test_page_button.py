"""Under each referral, a button to its own page and a LINE share link (TSUNAGU_PUBLIC_URL)."""

from __future__ import annotations

import pytest

from bot.clock import japan_date
from bot.content.source import content_source
from bot.db.database import database
from bot.dialogue.matching import match
from bot.line.limits import MAX_URI
from bot.line.messages import LINE_SHARE, result
from bot.referrals.links import Links
from bot.studio.checks.framework import Context
from bot.studio.checks.line_limits import LONGEST_PUBLIC_URL, longest_answers, page_links_fit_line
from tests.support.apps import make_app
from tests.support.conversations import answer_up_to_area
from tests.support.line_user import LineUser
from tests.support.pages import PUBLIC_URL, page_links, path_of, referral_in, shared_text
from tests.support.personas import only_referral


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api, PUBLIC_URL=PUBLIC_URL)
    yield app
    database(app).dispose()


def test_a_referral_ends_with_its_page_and_a_share_link(app, line_user):
    page, share = referral_in(line_user)
    closing = line_user.messages[-1]
    assert closing["type"] == "flex" and closing["altText"].startswith("気になるところに")
    assert line_user.buttons[-2:] == ["相談員と話したい", "最初から"]  # still under it
    assert len(page) <= MAX_URI and len(share) <= MAX_URI
    sent = shared_text(share)
    assert sent.endswith("\n" + page) and "相談案内" in sent
    # The link says the answers as the referral record keeps them, and the version.
    signed = Links(app.config["TSUNAGU_SECRET_KEY"], PUBLIC_URL).read(
        path_of(page).removeprefix("/r/"))
    referral = only_referral(app)
    assert signed.answers == referral.answers and signed.bundle_id == referral.bundle_id
    assert line_user.user_id not in page


def test_a_typed_age_goes_into_the_link_as_its_band(app, line_user):
    line_user.follow()
    for how, value in (("say", "ご本人"), ("say", "昭和55年生まれ"), ("tap", "正社員"),
                       ("tap", "いいえ"), ("tap", "とくにない"),
                       ("tap", "まずは話を聞いてほしい"), ("say", "大曲")):
        (line_user.say if how == "say" else line_user.tap)(value)
    page, _ = page_links(line_user)
    answers = Links(app.config["TSUNAGU_SECRET_KEY"], PUBLIC_URL).read(
        path_of(page).removeprefix("/r/")).answers
    assert answers["area"] == "大仙市" and answers["age"].count("-") == 1
    assert not any(key.endswith("_years") for key in answers) and "1980" not in str(answers)


def test_without_a_public_address_there_is_no_button(database_url, line_api):
    app = make_app(database_url, line_api)
    person = LineUser(app.test_client(), line_api)
    answer_up_to_area(person)
    person.say("大仙市")
    assert person.messages[-1]["type"] == "text"
    assert not [a for a in person.card_actions if a.get("uri", "").startswith(LINE_SHARE)]
    database(app).dispose()


def test_a_link_too_long_for_line_leaves_the_button_out(app):
    content = content_source(app).current()
    answers = {"subject": "self", "area": "大仙市"}
    found = match(content, answers)
    page = Links("k", LONGEST_PUBLIC_URL).page_url(content.bundle_id, answers)
    too_long = page + "x" * (MAX_URI - len(page) + 1)
    closing = result(content, found, None, japan_date(), page=too_long)
    assert closing[-1]["type"] == "text"


def test_the_shipped_content_fits_line_with_the_longest_answers(app):
    content = content_source(app).current()
    assert list(page_links_fit_line(Context(content))) == []
    links = Links("k", LONGEST_PUBLIC_URL)
    longest = max(len(links.page_url(content.bundle_id, a)) for a in longest_answers(content))
    assert longest < MAX_URI - 500  # room for the share text's Japanese, 9 characters each


def test_check_refuses_a_share_text_or_a_label_line_would_not_take(app):
    content = content_source(app).current()
    messages = {**content.messages, "share_text": "ご案内です。" * 40 + "{url}",
                "page_button": "このご案内をウェブのページで開いてゆっくり見る"}
    found = [str(p) for p in page_links_fit_line(Context(
        content.model_copy(update={"messages": messages})))]
    assert any("message 'share_text'" in p and "at most 1000" in p for p in found), found
    assert any("message 'page_button'" in p and "at most 20" in p for p in found), found
    no_url = {**content.messages, "share_text": "ご案内です。"}
    found = [str(p) for p in page_links_fit_line(Context(
        content.model_copy(update={"messages": no_url})))]
    assert any("has no {url}" in p for p in found), found
