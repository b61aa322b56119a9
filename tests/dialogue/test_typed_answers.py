"""People answer the way they talk: ages as birth years or kanji numerals, through the webhook."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import clock
from tests.support.conversations import answer_up_to_area, state_of
from tests.support.personas import only_referral

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


# -- municipalities: readings, kana, 秋田県, and the former municipalities of the 2005 mergers

SOURCE = Path(__file__).resolve().parents[2] / "docs/sources/akita-municipalities-2005-mergers.md"


def merger_rows() -> list[tuple[str, str]]:
    """Return (former municipality, now part of) from the source's table (§2)."""
    text = SOURCE.read_text(encoding="utf-8")
    section = text.split("## 2.", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[2][:2] in ("20",):
            rows.append((cells[0], cells[3]))
    return rows


ROWS = merger_rows()


def test_the_source_s_table_is_read_whole():
    assert len(ROWS) == 59 and ("大曲市", "大仙市") in ROWS and ("象潟町", "にかほ市") in ROWS


def referred_to(app, line_user, typed: str) -> str | None:
    answer_up_to_area(line_user)
    line_user.say(typed)
    state = state_of(app)
    return only_referral(app).answers["area"] if state and state[0] == "done" else None


@pytest.mark.parametrize(("former", "now"), ROWS, ids=[f for f, _ in ROWS])
def test_each_former_municipality_of_the_table_is_understood(app, line_user, former, now):
    assert referred_to(app, line_user, former) == now


@pytest.mark.parametrize(("typed", "now"), [
    ("大曲", "大仙市"), ("角館", "仙北市"), ("田沢湖", "仙北市"), ("二ツ井", "能代市"),
    ("本荘", "由利本荘市"), ("象潟", "にかほ市"), ("鷹巣", "北秋田市"), ("森吉", "北秋田市"),
    ("旧大曲市", "大仙市"), ("西仙北", "大仙市"), ("よこてし", "横手市"), ("よこて", "横手市"),
    ("ヨコテシ", "横手市"), ("秋田県横手市", "横手市"), ("横手", "横手市"),
    ("ゆりほんじょうし", "由利本荘市"), ("かみこあにむら", "上小阿仁村"),
    ("秋田県仙北郡美郷町", "美郷町"), ("おおまがり", "大仙市"), ("大曲に住んでいます", "大仙市"),
])
def test_names_people_use_are_understood(app, line_user, typed, now):
    assert referred_to(app, line_user, typed) == now


@pytest.mark.parametrize(("typed", "choices"), [
    ("仙北", ["仙北市", "大仙市", "美郷町"]), ("せんぼく", ["仙北市", "大仙市", "美郷町"]),
    ("田代", ["大館市", "羽後町"]), ("山本", ["三種町", "八峰町", "藤里町"]),
    ("由利", ["由利本荘市", "にかほ市"]), ("雄勝", ["湯沢市", "羽後町", "東成瀬村"]),
])
def test_a_name_of_more_than_one_place_is_asked_back_never_guessed(app, line_user, typed,
                                                                    choices):
    answer_up_to_area(line_user)
    line_user.say(typed)
    assert f"「{typed}」は、いくつかの市町村にあります" in line_user.text
    assert [b for b in line_user.buttons if b not in ("戻る", "最初から")] == choices
    assert state_of(app)[0] == "area"  # nothing guessed
    line_user.tap(choices[1])
    assert only_referral(app).answers["area"] == choices[1]


def test_the_office_finder_asks_back_too(line_user):
    line_user.follow()
    line_user.say("窓口")
    line_user.say("仙北")
    assert "いくつかの市町村にあります" in line_user.text
    assert {"仙北市", "大仙市", "美郷町"} <= set(line_user.card_labels)
    line_user.tap_card("大仙市")
    assert "大仙市の方がご相談できる窓口です" in line_user.text


def test_a_place_outside_akita_is_asked_again_kindly(app, line_user):
    answer_up_to_area(line_user)
    line_user.say("東京都")
    assert "市町村がわかりませんでした" in line_user.text and state_of(app)[0] == "area"
