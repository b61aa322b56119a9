"""Reading typed answers: ages, options and place names."""

import pytest

from bot.content.flow import Option, Step
from bot.dialogue.answers import match_option, match_place, normalise, parse_age


@pytest.mark.parametrize("text,age", [
    ("42", 42), ("４２歳", 42), ("42才", 42), ("42さい", 42), ("42歳です", 42), (" 42 ", 42),
    ("15", 15), ("99", 99), ("4", None), ("14", None), ("100", None), ("四十二", 42), ("百", None),
    ("42歳くらい", None), ("", None), ("abc", None),
])
def test_parse_age(text, age):
    assert parse_age(text) == age


STEP = Step(id="employment", ask={"default": "?"}, options=[
    Option(value="regular", label="正社員", words=["正規"]),
    Option(value="non_regular", label="パート・派遣・契約など", words=["パート", "派遣"]),
])


@pytest.mark.parametrize("text,value", [
    ("正社員", "regular"), ("正社員です", "regular"), ("せいしゃいん", None),
    ("パート", "non_regular"), ("パートです。", "non_regular"), ("ﾊﾟｰﾄ", "non_regular"),
    ("正社員ではない", None), ("パートと正社員", None), ("", None),
])
def test_match_option(text, value):
    option = match_option(STEP, text)
    assert (option.value if option else None) == value


@pytest.mark.parametrize("text,place", [
    ("秋田市", "秋田市"), ("秋田", "秋田市"), ("北秋田", "北秋田市"), ("秋田県大館市", "大館市"),
    ("小坂", "小坂町"), ("東京", None), ("秋田市に住んでいます", "秋田市"), ("秋田市役所", None),
])
def test_match_place(text, place):
    names = ["秋田市", "北秋田市", "大館市", "小坂町"]
    assert match_place(names, text) == place


def test_normalise_folds_width_and_space():
    assert normalise("ＡＢ　ｃ") == "abc"
