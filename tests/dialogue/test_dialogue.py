"""The engine alone (`Dialogue.respond`): double taps, the finder, a handoff, the menu, markers."""

from __future__ import annotations

import datetime as dt

from bot.content.bundle import load
from bot.content.flow import DONE
from bot.dialogue.account import FinderAsk, Note, OfficesFound, Upcoming
from bot.dialogue.engine import HANDLERS, Ask, Crisis, Result, Say
from bot.dialogue.turns import (
    FINDER_OPEN,
    FINDER_SHOWN,
    HANDOFF,
    LAST_STEP,
    MARKERS,
    MENU,
    REGION_SHOWN,
    Conversation,
)
from tests.support.dialogues import SOON, Chat
from tests.support.paths import ROOT

CONTENT = load(ROOT / "content", ROOT / "flows")
FIRST = CONTENT.flow.start
OPTIONS = {s.id: s.options[0].value for s in CONTENT.flow.steps if s.options}
NORTH = CONTENT.regions[0]


def up_to_area(chat: Chat) -> None:
    """Answer every question of a person (本人) up to the municipality."""
    chat.follow()
    chat.answer("subject", "self")
    while chat.state != "area":
        chat.answer(chat.state, OPTIONS[chat.state])


def test_the_table_reads_entry_points_then_states_then_the_fallback():
    names = [name for name, _ in HANDLERS]
    assert names[:2] == ["follow", "crisis words"]
    assert names.index("a handoff's silence") < names.index("the menu") < names.index(
        "the office finder") < names.index("a double tap") < names.index("a button")
    assert names[-1] == "anything else"


# -- double taps ----------------------------------------------------------------------------


def test_a_double_tap_of_an_answer_gets_no_reply_and_changes_nothing():
    chat = Chat(CONTENT)
    chat.follow()
    chat.answer(FIRST, "self")
    kept = chat.kept
    again = chat.answer(FIRST, "self", since=SOON)
    assert again.says == [] and again.changed is False and chat.kept == kept


def test_the_same_tap_later_is_an_old_button():
    chat = Chat(CONTENT)
    chat.follow()
    chat.answer(FIRST, "self")
    later = chat.answer(FIRST, "self")
    assert later.says[0] == Say("stale_button") and isinstance(later.says[1], Ask)


def test_a_double_tap_of_a_region_shows_its_municipalities_once():
    chat = Chat(CONTENT)
    up_to_area(chat)
    shown = chat.region("area", NORTH.name)
    assert shown.says == [Ask("area", "self", NORTH.name)]  # worded for 本人
    assert chat.region("area", NORTH.name, since=SOON).says == []


def test_the_last_answer_tapped_twice_makes_one_referral():
    chat = Chat(CONTENT)
    up_to_area(chat)
    first = chat.answer("area", "大仙市")
    assert first.referral is not None and chat.kept == (DONE, {LAST_STEP: "area"})
    again = chat.answer("area", "大仙市", since=SOON)
    assert again.says == [] and again.referral is None


def test_restart_tapped_twice_under_a_question_restarts_once():
    chat = Chat(CONTENT)
    chat.follow()
    chat.answer(FIRST, "self")
    restarted = chat.command("restart", "age")
    assert restarted.says == [Ask(FIRST)]
    assert chat.command("restart", "age", since=SOON).says == []


# -- the office finder ----------------------------------------------------------------------


def test_the_finder_in_a_questionnaire_shows_offices_then_asks_the_same_question():
    chat = Chat(CONTENT)
    chat.follow()
    chat.answer(FIRST, "self")
    answers = dict(chat.kept[1])
    assert chat.menu("finder").says == [FinderAsk()]
    assert chat.kept[1] == {**answers, FINDER_OPEN: "1"}
    found = chat.say("大仙市")
    assert isinstance(found.says[0], OfficesFound) and found.says[0].place == "大仙市"
    assert found.says[-1] == Ask("age", "self")  # the questionnaire goes on where it was
    kept = Conversation.stored(chat.kept)
    assert kept.answers == answers and kept.markers == {FINDER_SHOWN: "大仙市"}


def test_a_municipality_tapped_twice_in_the_finder_shows_its_offices_once():
    chat = Chat(CONTENT)
    chat.menu("finder")
    assert chat.state == MENU
    assert isinstance(chat.menu("finder", p="横手市").says[0], OfficesFound)
    assert chat.menu("finder", p="横手市", since=SOON).says == []


def test_a_word_the_finder_does_not_know_is_asked_again_kindly():
    chat = Chat(CONTENT)
    chat.menu("finder")
    said = chat.say("東京都")
    assert said.says == [Note(CONTENT.finder.not_understood), FinderAsk()]
    assert said.changed is False


def test_a_question_s_button_closes_the_finder():
    chat = Chat(CONTENT)
    chat.follow()
    chat.menu("finder")
    chat.answer(FIRST, "self")
    assert chat.state == "age" and FINDER_OPEN not in chat.kept[1]


# -- a handoff ------------------------------------------------------------------------------


def test_a_handoff_keeps_silent_but_answers_crisis_words_at_once():
    chat = Chat(CONTENT)
    chat.follow()
    asked = chat.say(CONTENT.handoff.words[0])
    assert chat.kept == (HANDOFF, {})
    assert asked.counts == (("", "handoff"),)
    assert chat.say("もしもし").says == []
    crisis = chat.say(CONTENT.safety.crisis_words[0])
    assert crisis.says == [Crisis()] and chat.state == HANDOFF


def test_restart_wakes_the_bot_from_a_handoff():
    chat = Chat(CONTENT)
    chat.menu("handoff")
    woken = chat.say("最初から")
    assert woken.says == [Note(CONTENT.handoff.resumed), Ask(FIRST)]
    assert chat.state == FIRST


def test_the_silence_ends_after_its_hours():
    chat = Chat(CONTENT)
    chat.menu("handoff")
    hours = dt.timedelta(hours=CONTENT.handoff.handoff_hours, minutes=1)
    after = chat.say("こんにちは", since=hours)
    assert after.says[:2] == [Say("greeting"), Say("privacy")]


# -- the menu -------------------------------------------------------------------------------


def test_the_menu_s_events_come_between_the_questions():
    chat = Chat(CONTENT)
    chat.follow()
    chat.answer(FIRST, "self")
    aside = chat.menu("events")
    assert aside.says == [Upcoming(), Note(CONTENT.finder.resume), Ask("age", "self")]
    assert aside.changed is False


def test_the_menu_s_questionnaire_starts_again_without_a_greeting():
    chat = Chat(CONTENT)
    chat.follow()
    chat.answer(FIRST, "self")
    assert chat.menu("questionnaire").says == [Ask(FIRST)]


# -- markers stay apart from answers -------------------------------------------------------


def test_a_stored_conversation_keeps_markers_apart_from_answers():
    kept = Conversation.stored(("area", {"subject": "self", REGION_SHOWN: "県北",
                                         FINDER_SHOWN: "大仙市"}))
    assert kept.answers == {"subject": "self"}
    assert kept.markers == {REGION_SHOWN: "県北", FINDER_SHOWN: "大仙市"}
    assert kept.kept() == {"subject": "self", REGION_SHOWN: "県北", FINDER_SHOWN: "大仙市"}


def test_a_referral_counts_answers_only_never_a_marker():
    chat = Chat(CONTENT)
    up_to_area(chat)
    chat.menu("finder")
    chat.say("横手市")  # the finder, in the middle of the questionnaire
    chat.region("area", NORTH.name)
    done = chat.answer("area", NORTH.municipalities[0])
    assert isinstance(done.says[0], Result)
    assert not set(done.referral_answers) & MARKERS
    assert done.referral_answers["area"] == NORTH.municipalities[0]
