"""The dashboard month by month: referrals by who asks, feedback, menu taps, crisis, handoffs.

A chart (SVG drawn on the server, with a text alternative naming every number) and a table
with row and column headers, for the chosen fiscal year and months; and the period's
feedback answers and menu taps with their labels.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.console.charts import month_chart
from tests.dialogue.test_feedback import referred
from tests.dialogue.test_menu_taps import area_data
from tests.referrals.test_usage import counted
from tests.support.console import log_in, make_account
from tests.support.referrals import add_referral

FY = 2026


@pytest.fixture
def counselor(app, client):
    make_account(app, "sato", "counselor")
    log_in(client, "sato")
    return client


def cell(html: str, cell_id: str) -> int:
    found = re.search(rf'<td class="num" id="{cell_id}">(\d+)</td>', html)
    assert found, f"no cell {cell_id}"
    return int(found.group(1))


def stored_year(app) -> None:
    """Referrals and counters of fiscal 2026: June, July and the next March."""
    june, july, march = dt.date(2026, 6, 1), dt.date(2026, 7, 1), dt.date(2027, 3, 1)
    add_referral(app, june, {"subject": "self"}, n=3)
    add_referral(app, june, {"subject": "family"})
    add_referral(app, july, {"subject": "employer"}, n=2)
    add_referral(app, march, {"subject": "self"})
    add_referral(app, dt.date(2026, 3, 1), {"subject": "self"}, n=9)  # fiscal 2025
    counted(app, (dt.date(2026, 6, 5), "feedback", "useful", 2),
            (dt.date(2026, 6, 9), "feedback", "not_useful", 1),
            (dt.date(2026, 7, 2), "feedback", "useful", 1),
            (dt.date(2026, 6, 5), "menu:2", "tap", 4), (dt.date(2026, 7, 2), "menu:1", "tap", 3),
            (dt.date(2026, 7, 3), "menu:6", "tap", 1),
            (dt.date(2026, 6, 5), "", "crisis", 1), (dt.date(2026, 7, 4), "age", "crisis", 2),
            (dt.date(2027, 3, 31), "", "handoff", 5),
            (dt.date(2026, 6, 5), "subject", "reached", 40))  # not shown month by month


def test_the_table_shows_each_month_of_the_fiscal_year(app, counselor):
    stored_year(app)
    html = counselor.get(f"/admin/?year={FY}").text
    assert cell(html, "month-2026-06-referrals-self") == 3
    assert cell(html, "month-2026-06-referrals-family") == 1
    assert cell(html, "month-2026-07-referrals-employer") == 2
    assert cell(html, "month-2027-03-referrals-self") == 1
    assert cell(html, "month-2026-06-feedback-useful") == 2
    assert cell(html, "month-2026-06-feedback-not_useful") == 1
    assert cell(html, "month-2026-07-feedback-useful") == 1
    assert cell(html, "month-2026-06-menu") == 4 and cell(html, "month-2026-07-menu") == 4
    assert cell(html, "month-2026-06-crisis") == 1 and cell(html, "month-2026-07-crisis") == 2
    assert cell(html, "month-2027-03-handoff") == 5
    assert cell(html, "month-2026-04-referrals-self") == 0  # every month, with or without
    assert cell(html, "month-total-referrals-self") == 4, "fiscal 2025's March left out"
    assert cell(html, "month-total-feedback-useful") == 3
    assert cell(html, "month-total-menu") == 8 and cell(html, "month-total-handoff") == 5
    months = re.findall(r'<th scope="row">(\d+)月</th>', html)
    assert months == ["4", "5", "6", "7", "8", "9", "10", "11", "12", "1", "2", "3"]
    for heading in ("ご本人", "ご家族", "企業・事業主の方", "役に立ちそう", "まだわからない",
                    "役に立たなそう", "メニューのタップ", "緊急の相談先をお伝えした",
                    "相談員と話したい"):
        assert f'<th scope="col">{heading}</th>' in html, heading
    assert '<th scope="colgroup" colspan="3">紹介</th>' in html


def test_the_chosen_months_only(app, counselor):
    stored_year(app)
    html = counselor.get(f"/admin/?year={FY}&from=7&to=7").text
    assert re.findall(r'<th scope="row">(\d+)月</th>', html) == ["7"]
    assert cell(html, "month-total-referrals-employer") == 2
    assert cell(html, "month-total-referrals-self") == 0
    assert cell(html, "month-total-menu") == 4


def test_the_chart_has_a_text_alternative_with_every_number(app, counselor):
    stored_year(app)
    html = counselor.get(f"/admin/?year={FY}").text
    chart = re.search(r'<svg class="chart months".*?</svg>', html, re.S).group(0)
    assert 'role="img"' in chart
    assert 'aria-labelledby="months-chart-title months-chart-desc"' in chart
    desc = re.search(r'<desc id="months-chart-desc">(.*?)</desc>', chart).group(1)
    assert "紹介: 4月 0、5月 0、6月 4、7月 2" in desc
    assert "役に立ちそう: 4月 0、5月 0、6月 2、7月 1" in desc
    assert "相談員と話したい: " in desc and "3月 5" in desc
    assert "<script" not in html


def test_the_period_s_feedback_and_menu_taps_are_shown_with_their_labels(app, counselor,
                                                                         make_user):
    user = make_user()
    referred(user)
    user.tap("まだわからない")
    user.postback(area_data(app)[2])  # イベント・セミナー
    html = counselor.get("/admin/").text
    feedback = html[html.index('id="used-feedback"'):html.index('id="used-menu"')]
    assert "このご案内は役に立ちそうですか？" in feedback
    assert '<td>まだわからない</td><td class="num">1</td>' in feedback
    menu = html[html.index('id="used-menu"'):html.index('id="funnel"')]
    assert '<td>3. イベント・セミナー</td><td class="num">1</td>' in menu
    assert '<td>1. 相談をはじめる</td><td class="num">0</td>' in menu


def test_without_counts_the_sections_say_so(app, counselor):
    html = counselor.get("/admin/").text
    assert "この期間のお答えはありません。" in html and "この期間のタップはありません。" in html
    assert cell(html, "month-total-crisis") == 0


def test_a_month_chart_scales_each_row_to_its_own_largest_month():
    chart = month_chart(["4月", "5月"], [("紹介", [2, 4]), ("緊急", [0, 1])], "推移", "c")
    heights = [int(h) for h in re.findall(r'<rect class="bar" [^>]*height="(\d+)"', chart)]
    assert heights == [13, 26, 0, 26]
    assert month_chart([], [], "推移", "c") == ""


def test_the_months_fit_a_tablet_s_768_pixels(app, browser):
    from tests.console.test_accessibility import WIDTHS, logged_in
    from tests.support.browser import served

    make_account(app, "admin1", "admin")
    stored_year(app)
    with served(app) as url:
        context, page = logged_in(browser, url, WIDTHS["tablet"])
        page.goto(f"/admin/?year={FY}")
        panel = page.locator("#by-month")
        overflow = panel.evaluate("p => p.scrollWidth - p.clientWidth")
        chart = page.locator("#by-month svg").bounding_box()
        context.close()
    assert overflow <= 0, "the table scrolls inside its panel"
    assert chart["width"] <= WIDTHS["tablet"]["width"]
