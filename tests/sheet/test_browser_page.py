"""A referral's own page in Debian's Chromium: on a phone, on paper, and when its link is bad."""

from __future__ import annotations

import re

import pytest

from bot.content.source import content_source
from bot.db.database import database
from bot.referrals.links import Links
from bot.studio.checks.coverage import coverage
from tests.support.apps import make_app
from tests.support.browser import (
    CHROMIUM,
    PHONE,
    Console,
    accessibility_problems,
    require_chromium,
    served,
)
from tests.support.pages import PUBLIC_URL, japanese_fonts, office_cards, path_of, referral_in

MM = 96 / 25.4  # CSS pixels per millimetre
# A4 less the page's margins (sheet.css: @page { margin: 8mm 10mm }), in CSS pixels.
PRINTED = {"width": round((210 - 20) * MM), "height": round((297 - 16) * MM)}


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """Yield Debian's Chromium with a Japanese font, so pages are laid out as on a phone."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    env = japanese_fonts(tmp_path_factory.mktemp("fonts"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), env=env)
        yield browser
        browser.close()


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api, PUBLIC_URL=PUBLIC_URL)
    yield app
    database(app).dispose()


@pytest.fixture
def site(app):
    with served(app) as url:
        yield url


def open_page(chromium, site, path, viewport=PHONE):
    """Open a page as a phone would; return it, its problems and every address it asked for."""
    context = chromium.new_context(viewport=viewport, locale="ja-JP",
                                   bypass_csp=True)  # for axe-core, injected
    page = context.new_page()
    page.set_default_timeout(10_000)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    console = Console(page)
    response = page.goto(site + path)
    return page, response, console, asked


def test_browser_the_page_on_a_phone_shows_the_line_referral(chromium, site, line_user):
    page_url, _ = referral_in(line_user, "大仙市")
    cards = office_cards(line_user)
    page, response, console, asked = open_page(chromium, site, path_of(page_url))
    assert response.status == 200
    assert page.locator("#offices ~ ul h3").all_inner_texts() == [name for name, _ in cards]
    calls = page.locator("#offices ~ ul a.call")
    assert [calls.nth(i).get_attribute("href") for i in range(calls.count())] == [
        tel for _, tels in cards for tel in tels]
    assert page.locator(".counter dd").all_inner_texts() == [
        "ご本人", "40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい", "大仙市"]
    # Read on a phone: nothing wider than the screen, every call a finger's size.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert all(box["height"] >= 44 for box in (calls.nth(i).bounding_box()
                                              for i in range(calls.count())))
    assert accessibility_problems(page) == []
    # Everything it loaded came from the app itself (the page and its stylesheet).
    assert asked and all(url.startswith(site + "/r/") for url in asked), asked
    assert console.errors == []
    page.context.close()


def test_browser_the_longest_referral_prints_on_one_a4_sheet(chromium, site, app):
    content = content_source(app).current()
    longest = max(coverage(content).results,
                  key=lambda given: len(given.match.programmes) + len(given.match.offices))
    link = Links(app.config["TSUNAGU_SECRET_KEY"], PUBLIC_URL).page_url(
        content.bundle_id, longest.example)
    page, response, console, asked = open_page(chromium, site, path_of(link))
    assert response.status == 200
    assert page.locator("#offices ~ ul > li").count() == len(longest.match.offices) >= 10
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    # Measured too, as the printer lays it out: all of it within one sheet, with room.
    page.set_viewport_size(PRINTED)
    page.emulate_media(media="print")
    bottom = page.evaluate("document.querySelector('footer').getBoundingClientRect().bottom")
    assert bottom <= PRINTED["height"], f"{bottom:.0f}px of {PRINTED['height']}px"
    assert not page.locator(".share").is_visible()  # no buttons on paper
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PRINTED["width"]
    assert all(url.startswith(site + "/r/") for url in asked), asked
    assert console.errors == []
    page.context.close()


@pytest.mark.parametrize(("path", "status"), [("/r/altered.axdHtg.x", 404), ("/r/", 404)])
def test_browser_a_bad_link_gets_a_kind_page(chromium, site, path, status):
    page, response, console, asked = open_page(chromium, site, path)
    assert response.status == status
    assert "開けません" in page.locator("h1").inner_text()
    assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex"
    assert accessibility_problems(page) == []
    assert all(url.startswith(site + "/r/") for url in asked), asked
    # Chromium reports the page's own 404 status as a failed load; nothing else may fail.
    assert len(console.errors) <= 1 and all("404" in e for e in console.errors), console.errors
    page.context.close()
