"""Which rich menu areas are used: each tap counted per day and area, once, with no user key.

A rich menu area's postback carries its number (`a=<n>`, `tsunagu richmenu deploy` puts it
there); card buttons carry the same `m=` without one, so they are not menu taps. The count is
an anonymous daily counter written in the event's own write.
"""

from __future__ import annotations

from bot.content.source import content_source
from bot.dialogue.engine import menu_area_data
from bot.operator.richmenu import request_body
from tests.support.counters import counters, menu_counts
from tests.support.events import redelivered
from tests.support.line_user import LineUser


def area_data(app) -> list[str]:
    """Return each area's postback data as LINE gets it from `tsunagu richmenu deploy`."""
    menu = content_source(app).current().richmenu
    return [area["action"].get("data", "") for area in request_body(menu)["areas"]]


def tap_area(user: LineUser, data: str) -> list[str]:
    return user.postback(data)


def test_each_area_s_tap_is_counted_per_area(app, line_user):
    data = area_data(app)
    assert data[:2] == ["m=questionnaire&a=1", "m=finder&a=2"]
    tap_area(line_user, data[1])  # 相談窓口をさがす
    tap_area(line_user, data[2])  # イベント・セミナー
    tap_area(line_user, data[1])
    assert "どなたについて" in tap_area(line_user, data[0])[-1]  # 相談をはじめる: as before
    assert menu_counts(app) == {"menu:1": 1, "menu:2": 2, "menu:3": 1}
    assert set(counters(app, prefix="menu:")) == {("menu:1", "tap"), ("menu:2", "tap"),
                                                  ("menu:3", "tap")}


def test_a_redelivered_tap_counts_once(app, line_user):
    event = line_user.event("postback", postback={"data": area_data(app)[5]})  # about
    assert line_user.post(event).status_code == 200
    assert line_user.post(redelivered(event)).status_code == 200
    assert menu_counts(app) == {"menu:6": 1}


def test_the_crisis_area_counts_its_tap_and_its_crisis_reply(app, line_user):
    tap_area(line_user, area_data(app)[3])
    assert counters(app)[("menu:4", "tap")] == 1
    assert counters(app)[("", "crisis")] == 1


def test_a_tap_while_the_bot_keeps_silent_for_a_counselor_is_counted(app, line_user):
    data = area_data(app)
    tap_area(line_user, data[4])  # 相談員と話したい: the bot keeps silent after
    assert tap_area(line_user, data[4]) == []  # the same tap again at once: no second answer
    tap_area(line_user, data[1])  # the menu wakes the bot
    assert menu_counts(app) == {"menu:5": 2, "menu:2": 1}
    assert counters(app)[("", "handoff")] == 1


def test_card_buttons_and_typed_words_are_not_menu_taps(app, line_user):
    line_user.say("窓口")  # the finder's word
    line_user.tap_card("大仙市")  # a municipality's button: m=finder&p=…
    line_user.say("相談員と話したい")
    assert menu_counts(app) == {}


def test_a_number_that_is_no_area_is_not_counted(app, line_user):
    for number in ("0", "21", "x", "１"):
        line_user.postback(f"m=about&a={number}")
    line_user.postback(menu_area_data("about", 20))
    assert menu_counts(app) == {"menu:20": 1}
