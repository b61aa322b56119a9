"""Every console page and the preview in Chromium: axe-core's WCAG 2.1 A/AA rules, two widths."""

from __future__ import annotations

import pytest

from bot import clock
from tests.support.browser import accessibility_problems, served
from tests.support.console import PASSWORD, make_account
from tests.support.conversations import answer_up_to_area

WIDTHS = {"laptop": {"width": 1280, "height": 800}, "tablet": {"width": 768, "height": 1024}}
MONTH = clock.japan_date().strftime("%Y-%m")
# Every page a person opens in the console (the administrator sees them all), and the preview.
PAGES = ["/admin/login", "/admin/", "/admin/funnel", "/admin/exports", "/admin/versions",
         "/admin/versions/publish", "/admin/accounts", "/admin/audit", "/admin/nothing-here",
         "/admin/draft/offices", "/admin/draft/offices/hikikomori-center",
         "/admin/draft/worklist", "/admin/draft/scenarios", "/admin/draft/",
         "/admin/draft/history", "/admin/draft/problems", "/admin/draft/programmes",
         "/admin/draft/programmes/saposute",
         "/admin/draft/questions/employment", "/admin/draft/questions/age",
         "/admin/draft/rules/long-term-no-work-saposute", "/admin/draft/fallback",
         "/admin/draft/messages", "/admin/draft/crisis-lines/1", "/admin/draft/crisis-words",
         "/admin/draft/events", "/admin/draft/events/new", "/admin/draft/events-texts",
         "/admin/draft/finder", "/admin/draft/handoff", "/admin/draft/feedback",
         "/admin/draft/menu",
         "/admin/draft/menu-areas/1", "/preview"]


@pytest.fixture
def site(app, line_user):
    make_account(app, "admin1", "admin")
    answer_up_to_area(line_user)
    line_user.say("大仙市")  # so the dashboard has bars and tables to check
    line_user.tap("役に立ちそう")  # and the feedback, a menu tap, the months with counts
    line_user.postback("m=about&a=6")
    with served(app) as url:
        yield url


def logged_in(browser, site: str, viewport: dict):
    context = browser.new_context(viewport=viewport, base_url=site, locale="ja-JP",
                                  bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/login")
    page.fill("#name", "admin1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return context, page


@pytest.mark.parametrize("width", WIDTHS)
def test_every_console_page_and_the_preview_pass_wcag_aa(browser, site, width):
    context, page = logged_in(browser, site, WIDTHS[width])
    found = {}
    for path in PAGES:
        if path == "/admin/login":
            anonymous = browser.new_context(viewport=WIDTHS[width], base_url=site,
                                            bypass_csp=True).new_page()
            anonymous.goto(path)
            found[path] = accessibility_problems(anonymous)
            anonymous.context.close()
            continue
        page.goto(path)
        found[path] = accessibility_problems(page)
    context.close()
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(browser, site, width):
    context, page = logged_in(browser, site, WIDTHS[width])
    wide = {}
    for path in PAGES[1:]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide[path] = overflow
    context.close()
    assert wide == {}


def test_the_login_page_with_its_message_passes_wcag_aa(browser, site):
    context = browser.new_context(viewport=WIDTHS["laptop"], base_url=site, bypass_csp=True)
    page = context.new_page()
    page.goto("/admin/login")
    page.fill("#name", "admin1")
    page.fill("#password", "not the password!")
    page.click("button[type=submit]")
    page.wait_for_selector(".flash li")  # 名前かパスワードが違います
    problems = accessibility_problems(page)
    context.close()
    assert problems == []


def test_logging_in_works_from_the_keyboard(browser, site):
    context = browser.new_context(viewport=WIDTHS["laptop"], base_url=site)
    page = context.new_page()
    page.goto("/admin/login")
    page.focus("#name")
    page.keyboard.type("admin1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_preview_s_cards_and_buttons_pass_wcag_aa(browser, site, width):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=WIDTHS[width], base_url=site, bypass_csp=True)
    page = context.new_page()
    page.goto("/preview")
    expect(page.locator(".quick-reply").first).to_be_visible()
    page.fill("#text", "死にたい")  # the crisis card: call buttons of every kind
    page.press("#text", "Enter")
    expect(page.locator("#chat a.f-button").first).to_be_visible()
    page.fill("#text", "窓口")  # the office finder: a carousel of municipalities' buttons
    page.press("#text", "Enter")
    expect(page.locator("#chat .f-button.secondary").first).to_be_visible()
    problems = accessibility_problems(page)
    context.close()
    assert problems == []
