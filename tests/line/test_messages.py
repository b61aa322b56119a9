"""The message builder: plain JSON as LINE takes it, texts cut as LINE counts them."""

from __future__ import annotations

import json

from bot.content.bundle import load
from bot.dialogue.account import Note
from bot.dialogue.engine import Ask, Crisis
from bot.line import messages
from bot.line.limits import MAX_ALT_TEXT, MAX_LABEL, MAX_TEXT
from bot.line.render import Renderer
from tests.support.line_api import limit_problems
from tests.support.paths import ROOT

CONTENT = load(ROOT / "content", ROOT / "flows")
EMOJI = "😀"  # two UTF-16 code units


def test_units_count_as_line_does():
    assert messages.units("あいう") == 3
    assert messages.units(EMOJI * 3) == 6


def test_a_cut_keeps_whole_characters_within_the_units():
    assert messages.cut("あいう", 2) == "あい"
    cut = messages.cut(EMOJI * 3000, MAX_TEXT)
    assert cut == EMOJI * 2500 and messages.units(cut) == MAX_TEXT
    # Never half of an emoji: one unit short of a pair leaves the pair out.
    assert messages.cut("a" + EMOJI, 2) == "a"


def test_a_long_note_is_cut_to_line_s_limit_in_utf16_units():
    note = "お知らせ" + EMOJI * 4000  # 8004 units in 4004 characters
    message, = Renderer(CONTENT).render([Note(note)])
    assert messages.units(message["text"]) <= MAX_TEXT
    assert message["text"].startswith("お知らせ😀")


def test_the_crisis_card_s_text_for_notifications_is_cut_to_its_limit():
    lines = CONTENT.safety.crisis_lines
    long = lines[0].model_copy(update={"note": EMOJI * 1000})
    content = CONTENT.model_copy(update={"safety": CONTENT.safety.model_copy(
        update={"crisis_lines": [long, *lines[1:]]})})
    text, card = messages.crisis(content)
    assert messages.units(card["altText"]) <= MAX_ALT_TEXT
    assert messages.units(text["text"]) <= MAX_TEXT


def test_messages_are_plain_json_that_line_takes():
    step = CONTENT.flow.steps[0]
    built = [messages.question(CONTENT, Ask(step.id), "t"), *messages.crisis(CONTENT),
             *messages.finder_ask(CONTENT)]
    assert json.loads(json.dumps(built)) == built  # nothing but dicts, lists and scalars
    assert list(limit_problems({"replyToken": "x", "messages": built[:5]})) == []


def test_a_question_s_buttons_are_its_options_then_back_and_restart():
    step = CONTENT.flow.steps[1]
    message = messages.question(CONTENT, Ask(step.id), "t")
    labels = [item["action"]["label"] for item in message["quickReply"]["items"]]
    assert labels == [o.label[:MAX_LABEL] for o in step.options] + [
        CONTENT.message("back_button"), CONTENT.message("start_button")]
    assert message["text"] == step.question(None)


def test_an_office_without_phone_or_web_says_so_on_its_card():
    office = next(o for o in CONTENT.offices.values() if not (o.phone or o.url))
    card = messages.office_card(CONTENT, office)
    assert "footer" not in card
    assert card["body"]["contents"][-1]["text"] == CONTENT.message("office_contact_unknown")


def test_a_card_s_footer_puts_the_main_button_first():
    footer = messages.footer(CONTENT, "018-000-0000", "https://example.jp/", main="web")
    assert [b["action"]["type"] for b in footer["contents"]] == ["uri", "uri"]
    assert footer["contents"][0]["action"]["uri"] == "https://example.jp/"
    assert footer["contents"][0]["style"] == "primary"
    assert footer["contents"][1]["action"]["uri"] == "tel:0180000000"


def test_the_renderer_serves_what_the_builder_builds():
    renderer = Renderer(CONTENT)
    assert renderer.render([Crisis()]) == [
        *messages.crisis(CONTENT)[:1],
        {**messages.crisis(CONTENT)[1], "quickReply": messages.quick_reply(
            [messages.start_button(CONTENT)])}]
