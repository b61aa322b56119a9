"""How the account is used, beside the questionnaire: feedback answers and rich menu taps.

Both are anonymous daily counters (`funnel_counts`, steps "feedback" and "menu:<n>"):
`tsunagu stats --json` shows them under `feedback` and `menu_taps` (each area by its number
and its label in the live content), `stats --funnel` shows the feedback, and the funnel's
questions, crisis replies and handoffs never count them.
"""

from __future__ import annotations

import datetime as dt
import json

from bot.content.source import content_source
from bot.db.database import transaction
from bot.db.models import FunnelCount
from bot.referrals import tallies
from bot.referrals.funnel import by_month, feedback, funnel, handoffs_by_day, menu_taps
from bot.referrals.stats import menu_rows
from tests.dialogue.test_feedback import referred
from tests.dialogue.test_menu_taps import area_data
from tests.support.referrals import add_referral


def counted(app, *rows: tuple[dt.date, str, str, int]) -> None:
    """Store daily counters as the conversation store would have: (day, step, event, n)."""
    bundle = content_source(app).current().bundle_id
    with transaction(app) as session:
        session.add_all(FunnelCount(day=day, bundle_id=bundle, step=step, event=event, count=n)
                        for day, step, event, n in rows)


def test_stats_json_has_the_feedback_and_the_menu_taps(app, runner, make_user):
    first, second = make_user(), make_user()
    referred(first)
    first.tap("役に立ちそう")
    referred(second)
    second.tap("まだわからない")
    data = area_data(app)
    for user, taps in ((first, (1, 1, 2)), (second, (5,))):
        for index in taps:
            user.postback(data[index])
    result = runner.invoke(args=["stats", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["referrals"] == 2
    assert found["feedback"] == [
        {"answer": "useful", "label": "役に立ちそう", "count": 1},
        {"answer": "unsure", "label": "まだわからない", "count": 1},
        {"answer": "not_useful", "label": "役に立たなそう", "count": 0}]
    assert found["menu_taps"] == [
        {"area": 1, "label": "相談をはじめる", "taps": 0},
        {"area": 2, "label": "相談窓口をさがす", "taps": 2},
        {"area": 3, "label": "イベント・セミナー", "taps": 1},
        {"area": 4, "label": "緊急のとき", "taps": 0},
        {"area": 5, "label": "相談員と話したい", "taps": 0},
        {"area": 6, "label": "このサービスについて", "taps": 1}]
    table = runner.invoke(args=["stats"]).output
    assert "Was the referral useful" in table and "       1  useful 役に立ちそう" in table
    assert "       2  2 相談窓口をさがす" in table


def test_stats_funnel_shows_the_feedback(app, runner, line_user):
    referred(line_user)
    line_user.tap("役に立たなそう")
    found = json.loads(runner.invoke(args=["stats", "--funnel", "--json"]).output)
    assert {"answer": "not_useful", "label": "役に立たなそう", "count": 1} in found["feedback"]
    assert [s["step"] for s in found["stages"]] == [
        s.id for s in content_source(app).current().flow.steps], "no feedback 'question'"
    assert "feedback not_useful: 1" in runner.invoke(args=["stats", "--funnel"]).output


def test_the_funnel_s_questions_crisis_and_handoffs_leave_the_usage_counters_out(app):
    today = dt.date(2026, 6, 3)
    counted(app, (today, "subject", "reached", 3), (today, "", "crisis", 1),
            (today, "", "handoff", 2),
            # Usage counters whose names could be taken for the funnel's own.
            (today, "feedback", "crisis", 5), (today, "feedback", "handoff", 7),
            (today, "menu:4", "tap", 9))
    content = content_source(app).current()
    with transaction(app) as session:
        stages, crisis, done = funnel(session, content)
        assert crisis == 1 and done == 0
        assert handoffs_by_day(session) == {today: 2}
        assert [s.step for s in stages] == [s.id for s in content.flow.steps]
        assert feedback(session) == {"crisis": 5, "handoff": 7}
        assert menu_taps(session) == {4: 9}


def test_counts_are_by_month_and_period(app):
    june, july = dt.date(2026, 6, 30), dt.date(2026, 7, 1)
    counted(app, (june, "feedback", "useful", 2), (july, "feedback", "useful", 1),
            (june, "menu:1", "tap", 4), (july, "menu:2", "tap", 3), (july, "menu:1", "tap", 1),
            (june, "age", "crisis", 1), (july, "", "crisis", 2), (july, "", "handoff", 1),
            (july, "subject", "reached", 8))
    add_referral(app, dt.date(2026, 6, 1), {"subject": "self"})
    add_referral(app, dt.date(2026, 7, 1), {"subject": "family"})
    add_referral(app, dt.date(2026, 7, 1), {"subject": "family"})
    with transaction(app) as session:
        assert by_month(session) == {
            dt.date(2026, 6, 1): {"feedback:useful": 2, "menu": 4, "crisis": 1},
            dt.date(2026, 7, 1): {"feedback:useful": 1, "menu": 4, "crisis": 2, "handoff": 1}}
        assert by_month(session, dt.date(2026, 7, 1)) == {
            dt.date(2026, 7, 1): {"feedback:useful": 1, "menu": 4, "crisis": 2, "handoff": 1}}
        assert menu_taps(session, dt.date(2026, 6, 1), dt.date(2026, 6, 1)) == {1: 4}
        assert tallies.by_month(session) == {dt.date(2026, 6, 1): {"self": 1},
                                             dt.date(2026, 7, 1): {"family": 2}}


def test_an_area_the_live_menu_no_longer_has_keeps_its_number_without_a_label(app):
    content = content_source(app).current()
    rows = menu_rows(content, {2: 1, 9: 3})
    assert rows[-1] == {"area": 9, "label": None, "taps": 3}
    assert {"area": 2, "label": "相談窓口をさがす", "taps": 1} in rows
