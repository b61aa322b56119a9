"""The console in Debian's Chromium: log in, read and filter the dashboard, be refused, log out."""

from __future__ import annotations

import pytest

from bot import clock
from tests.support.browser import Console, served
from tests.support.console import PASSWORD, make_account

LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def site(app):
    make_account(app, "sato", "counselor")
    with served(app) as url:
        yield url


def open_page(browser, site, viewport):
    context = browser.new_context(viewport=viewport, base_url=site, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page, Console(page)


def log_in(page, name: str = "sato", password: str = PASSWORD) -> None:
    page.goto("/admin/")
    assert page.url.endswith("/admin/login?next=%2Fadmin%2F") or "/admin/login" in page.url
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_browser_log_in_filter_be_refused_and_log_out(browser, site, line_user):
    from playwright.sync_api import expect

    from tests.support.conversations import answer_up_to_area

    answer_up_to_area(line_user)
    line_user.say("秋田市")
    context, page, console = open_page(browser, site, LAPTOP)
    log_in(page)
    this_year = clock.fiscal_year(clock.japan_date())
    expect(page.locator("h1")).to_contain_text(clock.fiscal_label(this_year))
    expect(page.locator("#total")).to_have_text("1")
    expect(page.locator("#by-municipality")).to_contain_text("秋田市")
    assert page.locator("#by-programme svg.chart rect.bar").count() >= 1
    # Filter: last fiscal year has no referral; then this year's months again.
    page.select_option("#year", str(this_year - 1))
    page.click(".filter button")
    expect(page.locator("h1")).to_contain_text(clock.fiscal_label(this_year - 1))
    expect(page.locator("#total")).to_have_text("0")
    page.select_option("#year", str(this_year))
    page.select_option("#from", str(clock.japan_date().month))
    page.select_option("#to", str(clock.japan_date().month))
    page.click(".filter button")
    expect(page.locator("#total")).to_have_text("1")
    # A page of a higher role is refused, in Japanese.
    response = page.goto("/admin/accounts")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("このページは開けません")
    assert page.get_by_role("link", name="アカウント").count() == 0, "no link to it either"
    page.goto("/admin/")
    page.click(".logout button")
    expect(page.locator(".flash")).to_contain_text("ログアウトしました")
    page.goto("/admin/")
    assert "/admin/login" in page.url
    context.close()
    # Chromium logs the 403 as a failed resource: that one is expected.
    assert [e for e in console.errors if "status of 403" not in e] == []


def test_browser_a_wrong_password_then_the_tablet_layout(browser, site):
    from playwright.sync_api import expect

    context, page, console = open_page(browser, site, TABLET)
    log_in(page, password="not the password")
    expect(page.locator(".flash")).to_contain_text("名前かパスワードが違います")
    page.fill("#name", "sato")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#total")).to_be_visible()
    # A tablet's screen: the page never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    color = page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor")
    assert color != "rgba(0, 0, 0, 0)", "the console's own stylesheet is applied"
    context.close()
    assert [e for e in console.errors if "status of 401" not in e] == []


def test_browser_downloads_both_exports(browser, site, line_user, tmp_path):
    import io

    import openpyxl

    from tests.support.conversations import answer_up_to_area

    answer_up_to_area(line_user)
    line_user.say("秋田市")
    context, page, console = open_page(browser, site, LAPTOP)
    context.set_default_timeout(10_000)
    log_in(page)
    page.click("nav >> text=書き出し")
    # The exact 相談等件数 as CSV.
    page.select_option("#soudan-format", "csv")
    with page.expect_download() as done:
        page.click("#soudan button")
    exact = done.value.path().read_bytes()
    assert exact.startswith(b"\xef\xbb\xbf") and "相談等件数" in exact.decode("utf-8-sig")
    # The 公表用 as XLSX: the single referral is hidden.
    page.select_option("#soudan-format", "xlsx")
    page.check("#soudan input[name=public]")
    with page.expect_download() as done:
        page.click("#soudan button")
    sheet = openpyxl.load_workbook(io.BytesIO(done.value.path().read_bytes())).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "＊" in values and not any(isinstance(v, int) and 1 <= v <= 9 for v in values)
    # The monthly workbook.
    with page.expect_download() as done:
        page.click("#monthly button")
    assert done.value.suggested_filename.startswith("monthly_")
    context.close()
