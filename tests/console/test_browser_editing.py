"""An editor in Debian's Chromium: fill an office's phone, reword a question, publish, roll back.

The whole way an editor who has never seen YAML works: find the office, be refused a
malformed phone and a phone without a source (the form kept), save it with its source, see
it leave the worklist, preview, publish; a person on LINE then gets the tap-to-call button.
Two editors on one office: the second is refused and loses nothing. Rolled back in the
browser, LINE answers as before.
"""

from __future__ import annotations

import pytest

from bot.content.source import content_source
from bot.db.database import database
from tests.support.apps import make_app
from tests.support.browser import Console, accessibility_problems, served
from tests.support.console import PASSWORD, make_account
from tests.support.events import wait_until
from tests.support.line_user import LineUser

LAPTOP = {"width": 1280, "height": 800}
OFFICE = "秋田県ひきこもり相談支援センター"
OFFICE_ID = "hikikomori-center"
PHONE = "018-831-3946"  # an example number for the tests (the draft is a test's)
SOURCE = "https://www.pref.akita.lg.jp/pages/archive/91508 (a page for the tests)"


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api, CONTENT_REFRESH_SECONDS=0.05)
    make_account(app, "suzuki", "editor")
    make_account(app, "tanaka", "editor")
    yield app
    database(app).dispose()


@pytest.fixture
def site(app):
    with served(app) as url:
        yield url


def editor_page(browser, site, name: str = "suzuki"):
    context = browser.new_context(viewport=LAPTOP, base_url=site, locale="ja-JP",
                                  bypass_csp=True)  # for axe-core, injected
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return context, page


def live_phone(app) -> str:
    with app.app_context():
        return content_source(app).current().offices[OFFICE_ID].phone


def call_buttons(app, line_api) -> list[str]:
    person = LineUser(app.test_client(), line_api)
    person.follow()
    person.say("窓口")
    person.say("秋田市")
    return [a["uri"] for a in person.card_actions if a.get("type") == "uri"]


def test_browser_an_editor_fills_a_phone_publishes_and_rolls_back(browser, site, app, line_api):
    from playwright.sync_api import expect

    context, page = editor_page(browser, site)
    console = Console(page)
    # The first version, as the prefecture would have it before the change.
    page.goto("/admin/versions/publish")
    page.fill("#note", "初版")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("版 1 を公開しました")
    # Find the office among those with no phone and no web address.
    page.click("nav >> text=下書きの編集")
    page.click("main ul.kinds a:text-is('相談先')")
    page.select_option("#gap", "contact")
    page.click(".filter button")
    page.click(f"main td a:text-is('{OFFICE}')")
    expect(page.locator("h1")).to_contain_text(OFFICE)
    # A malformed phone: refused beside the field, the rest as typed.
    page.fill("#phone", "018-83x")
    page.fill("#hours", "月〜金 9:00〜17:00")
    page.fill("#source", SOURCE)
    page.click("main form button[type=submit]")
    expect(page.locator("#phone-error")).to_contain_text("数字とハイフン")
    expect(page.locator("#hours")).to_have_value("月〜金 9:00〜17:00")
    assert page.locator("#phone").get_attribute("aria-invalid") == "true"
    assert accessibility_problems(page) == []  # the refused form too
    # A right phone with no source: refused.
    page.fill("#phone", PHONE)
    page.fill("#source", "")
    page.click("main form button[type=submit]")
    expect(page.locator("#source-error")).to_contain_text("出典")
    # With its source, from the official page (no longer a secondary source): saved,
    # from the keyboard (Enter in a field sends the form).
    page.fill("#source", SOURCE)
    page.uncheck("#verify")
    page.focus("#source")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("下書きに保存しました")
    expect(page.locator("main")).to_contain_text(SOURCE)  # among the office's sources
    page.click("main .summary a:text-is('確認が必要な情報')")
    expect(page.locator("main")).not_to_contain_text(OFFICE)
    assert live_phone(app) == ""  # the draft only: LINE is unchanged
    # The preview of the draft is one click away.
    page.click("main .summary a:text-is('下書きのプレビュー')")
    expect(page.locator("body")).to_contain_text("どなたについてのご相談ですか")
    page.go_back()
    # Publish: the diff shows the phone; a note is asked for.
    page.click("main .summary a:text-is('公開中の版との違いと公開')")
    expect(page.locator("main")).to_contain_text(PHONE)
    page.fill("#note", "ひきこもり相談支援センターの電話")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("版 2 を公開しました")
    wait_until(lambda: live_phone(app) == PHONE)
    assert "tel:0188313946" in call_buttons(app, line_api)
    # Rolled back to version 1 in the browser: LINE answers as before.
    page.goto("/admin/versions")
    page.click("#version-1 >> text=この版を公開する…")
    page.click("main form button[type=submit]")
    wait_until(lambda: live_phone(app) == "")
    assert "tel:0188313946" not in call_buttons(app, line_api)
    context.close()
    # Chromium logs the two refused forms (400) as failed resources: those are expected.
    assert [e for e in console.errors if "status of 400" not in e] == []


def test_browser_two_editors_on_one_office_lose_nothing(browser, site, app):
    from playwright.sync_api import expect

    first, first_page = editor_page(browser, site, "suzuki")
    second, second_page = editor_page(browser, site, "tanaka")
    address = f"/admin/draft/offices/{OFFICE_ID}"
    first_page.goto(address)
    second_page.goto(address)
    for page, phone in ((first_page, PHONE), (second_page, "018-000-0000")):
        page.fill("#phone", phone)
        page.fill("#source", SOURCE)
        page.click("main form button[type=submit]")
    expect(first_page.locator(".flash")).to_contain_text("下書きに保存しました")
    expect(second_page.locator("[role=alert]")).to_contain_text("ほかの方が先に保存しました")
    expect(second_page.locator("[role=alert]")).to_contain_text("suzuki")
    expect(second_page.locator("#phone")).to_have_value("018-000-0000")  # still typed
    with app.app_context():
        from bot.studio import library

        assert library.draft().offices[OFFICE_ID].phone == PHONE  # the first's save stands
    second_page.click("main form button[type=submit]")  # seen the change: save over it
    expect(second_page.locator(".flash")).to_contain_text("下書きに保存しました")
    first.close()
    second.close()


def test_browser_an_editor_rewords_a_question_and_adds_an_event(browser, site, app):
    from playwright.sync_api import expect

    context, page = editor_page(browser, site)
    page.goto("/admin/draft/")
    page.click("main ul.kinds a:text-is('質問')")
    page.click("text=employment")
    page.fill("#ask_default", "いまのお仕事の様子に、いちばん近いものを選んでください。")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("下書きに保存しました")
    expect(page.locator("#ask_default")).to_have_value(
        "いまのお仕事の様子に、いちばん近いものを選んでください。")
    page.goto("/admin/draft/events")
    page.click("text=イベント・セミナーを加える")
    page.fill("#id", "mensetsukai-2027-02")
    page.fill("#title", "就職面接会")
    page.fill("#date", "2027-02-10")
    page.fill("#place", "秋田市")
    page.select_option("#programme", "hw-senmon")
    page.fill("#source", SOURCE)
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("下書きに加えました")
    with app.app_context():
        from bot.studio import library

        draft = library.draft()
    assert draft.flow.step("employment").ask["default"].startswith("いまのお仕事の様子")
    assert [e.id for e in draft.events.events] == ["mensetsukai-2027-02"]
    context.close()


def test_browser_html_typed_by_an_editor_is_text_in_the_console_and_the_preview(browser, site):
    from playwright.sync_api import expect

    context, page = editor_page(browser, site)
    typed = '<img src=x onerror="window.hacked=1"><b>どなた</b>についてのご相談ですか？'
    page.goto("/admin/draft/questions/subject")
    page.fill("#ask_default", typed)
    page.click("main form button[type=submit]")
    expect(page.locator("#ask_default")).to_have_value(typed)
    assert page.locator("main img, main b").count() == 0
    page.click("main .summary a:text-is('下書きのプレビュー')")
    page.wait_for_selector("body[data-ready]")
    page.locator("#chat .row.bot", has_text="についてのご相談ですか").last.wait_for()
    expect(page.locator("#chat")).to_contain_text('<b>どなた</b>')  # shown as typed
    assert page.locator("#chat img, #chat b").count() == 0
    assert page.evaluate("window.hacked === undefined")
    context.close()
