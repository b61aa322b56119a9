"""`tsunagu stats`: anonymous referral counts, as JSON and as a table."""

from __future__ import annotations

import datetime as dt
import json

from tests.support import referrals as stored
from tests.support.personas import PERSONAS, play


def add_referral(app, day: dt.date, area: str, programmes: list[str], offices: list[str]):
    stored.add_referral(app, day, {"subject": "self", "age": "40-44", "employment": "regular",
                                   "single_parent": "no", "hikikomori": "none", "area": area},
                        programmes, offices)


def stats(runner, *args) -> dict:
    result = runner.invoke(args=["stats", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_stats_counts_by_programme_office_and_area(app, runner):
    add_referral(app, dt.date(2026, 4, 1), "秋田市", ["hw-senmon"], ["hw-akita"])
    add_referral(app, dt.date(2026, 4, 2), "秋田市", ["hw-senmon", "saposute"], ["saposute"])
    add_referral(app, dt.date(2026, 5, 1), "大館市", ["saposute"], ["saposute", "hw-odate"])
    found = stats(runner)
    # How the account was used beside the referrals (tests/referrals/test_usage.py).
    assert found.pop("feedback")[0] == {"answer": "useful", "label": "役に立ちそう", "count": 0}
    assert found.pop("menu_taps")[0] == {"area": 1, "label": "相談をはじめる", "taps": 0}
    assert found == {
        "referrals": 3,
        "by_flow": {"questionnaire": 3},
        "by_programme": {"hw-senmon": 2, "saposute": 2},
        "by_office": {"hw-akita": 1, "hw-odate": 1, "saposute": 2},
        "by_area": {"大館市": 1, "秋田市": 2},
        "by_answer": {"subject": {"self": 3}, "age": {"40-44": 3},
                      "employment": {"regular": 3}, "single_parent": {"no": 3},
                      "hikikomori": {"none": 3}, "wish": {}, "employer_need": {},
                      "area": {"大館市": 1, "秋田市": 2}},
    }


def test_stats_filters_by_inclusive_dates(app, runner):
    for day in (dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 4, 30),
                dt.date(2026, 5, 1)):
        add_referral(app, day, "秋田市", ["hw-senmon"], ["hw-akita"])
    assert stats(runner, "--from", "2026-04-01", "--to", "2026-04-30")["referrals"] == 2
    assert stats(runner, "--from", "2026-05-01")["referrals"] == 1
    assert stats(runner, "--to", "2026-03-31")["referrals"] == 1


def test_stats_rejects_a_bad_date_clearly(runner):
    result = runner.invoke(args=["stats", "--from", "2026-13-01"])
    assert result.exit_code != 0
    assert "--from" in result.output


def test_stats_table_is_readable(app, runner):
    add_referral(app, dt.date(2026, 4, 1), "秋田市", ["hw-senmon"], ["hw-akita"])
    result = runner.invoke(args=["stats"])
    assert "Referrals: 1" in result.output
    assert "2(1)ア ハローワーク専門窓口による支援" in result.output
    assert "ハローワーク秋田" in result.output


def test_a_finished_conversation_raises_the_count_by_exactly_one(app, runner, make_user):
    assert stats(runner)["referrals"] == 0
    play(make_user(), PERSONAS[0])
    after = stats(runner)
    assert after["referrals"] == 1
    assert after["by_area"] == {"秋田市": 1}
    assert after["by_programme"]["hw-senmon"] == 1
    play(make_user(), PERSONAS[1])
    assert stats(runner)["referrals"] == 2
