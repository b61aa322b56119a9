"""People answer the way they talk: ages as birth years or kanji numerals, through the webhook."""

from __future__ import annotations

import pytest

from bot import clock
from tests.support.conversations import state_of

THIS_YEAR = clock.japan_date().year


def at_age_question(line_user) -> None:
    line_user.follow()
    line_user.tap("ご本人")
    assert "年齢を教えてください" in line_user.text


def born(age: int) -> int:
    """Return the birth year of someone who turns `age` this year."""
    return THIS_YEAR - age


@pytest.mark.parametrize(("typed", "age"), [
    (f"{born(46)}年生まれ", 46), (f"{born(47)}年生まれです", 47), (f"{born(48)}", 48),
    (f"昭和{born(46) - 1925}年生まれ", 46), (f"昭和{born(48) - 1925}年", 48),
    (f"S{born(48) - 1925}", 48), (f"ｓ{born(46) - 1925}年生まれ", 46),
    (f"平成{born(36) - 1988}年生まれ", 36), (f"H{born(37) - 1988}", 37),
])
def test_a_birth_year_of_either_era_gives_this_year_s_age_band(app, line_user, typed, age):
    at_age_question(line_user)
    line_user.say(typed)
    band = {36: "35〜39歳", 37: "35〜39歳", 46: "45〜49歳", 47: "45〜49歳", 48: "45〜49歳"}[age]
    assert f"今年{age}歳です。「{band}」としてお答えします" in line_user.text
    assert "いまのお仕事の状況" in line_user.text  # and the next question is asked
    state, answers = state_of(app)
    assert state == "employment" and answers["age"] == band.replace("〜", "-").removesuffix("歳")


def test_a_birthday_that_moves_the_band_is_said_with_both(app, line_user):
    at_age_question(line_user)
    line_user.say(f"{born(45)}年生まれ")  # 44 before the birthday, 45 after
    assert "お誕生日の前は44歳（40〜44歳）、あとは45歳です。「45〜49歳」としてお答えします" in (
        line_user.text)
    assert "戻る" in line_user.text
    assert state_of(app)[1]["age"] == "45-49"


@pytest.mark.parametrize(("typed", "band"), [
    ("四十五歳", "45-49"), ("四十二", "40-44"), ("45才", "45-49"), ("三十八さい", "35-39"),
    ("５０歳です", "50-54"),
])
def test_kanji_numerals_and_sai_are_ages(app, line_user, typed, band):
    at_age_question(line_user)
    line_user.say(typed)
    state, answers = state_of(app)
    assert state == "employment" and answers["age"] == band


@pytest.mark.parametrize("typed", ["昭和70年", "平成40年生まれ", "1890年生まれ",
                                   f"{THIS_YEAR - 5}年生まれ", "百歳", "よんじゅう"])
def test_a_year_that_never_was_or_an_implausible_age_is_asked_again_kindly(app, line_user,
                                                                           typed):
    at_age_question(line_user)
    line_user.say(typed)
    assert "年齢がわかりませんでした" in line_user.text
    assert state_of(app)[0] == "age"
