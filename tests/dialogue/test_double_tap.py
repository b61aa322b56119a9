"""A double tap is one tap: the button just answered, tapped again at once, gets no reply.

People double-tap on slow phones. The second tap of the button just answered, arriving within
DOUBLE_TAP_WINDOW of the conversation's last change (by the server's clock, against the
stored `updated_at`), changes nothing and gets no reply call at all; the same button tapped
minutes later is an old button and gets the gentle re-ask. All of it lives in the database,
so it holds when the two taps reach two workers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from bot.conversations.store import conversations
from bot.db.database import database, transaction
from bot.db.models import Conversation, Referral
from tests.support.apps import twin_app
from tests.support.conversations import (
    ENDED,
    answer_up_to_area,
    count,
    move_back,
    state_for,
    state_of,
)
from tests.support.events import reply_calls, tap_event
from tests.support.line_user import LineUser

WISH_QUESTION = "いちばん受けたい支援に近いもの"
STALE = "前の質問のボタンのようです。いまの質問にお答えください。"
ENDED_SAYS = "このご案内は終わっています"


def tap_twice(user: LineUser, label: str, second: LineUser | None = None) -> list[dict]:
    """Tap a button of the newest reply, then the same button again at once (as `second`,
    another worker's view of the same person, if given); return both events."""
    first = tap_event(user, label)
    again = dict(first, webhookEventId=first["webhookEventId"][:-1] + "X",
                 replyToken=first["replyToken"] + "x")  # LINE sends a second event of its own
    assert user.post(first).status_code == 200
    assert (second or user).post(again).status_code == 200
    user.last_token = first["replyToken"]  # the person still sees the first tap's reply
    return [first, again]


def test_a_double_tap_of_an_answer_moves_once_and_gets_one_reply(app, line_user, line_api):
    line_user.follow()
    first, again = tap_twice(line_user, "ご本人")
    assert state_of(app) == ("age", {"subject": "self"})
    assert len(reply_calls(line_api, first["replyToken"])) == 1
    assert reply_calls(line_api, again["replyToken"]) == [], "no second copy of the question"
    assert len(line_user.texts) == 1 and line_user.texts[0].startswith("年齢を教えてください")
    # The person goes on from the reply they saw.
    assert line_user.tap("40〜44歳")[0].startswith("いまのお仕事の状況")
    assert state_of(app)[0] == "employment"


def test_a_double_tap_of_any_answer_gets_one_reply(app, line_user, line_api):
    line_user.follow()
    for label in ("ご家族", "45〜49歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい"):
        before = len(line_api.replies)
        tap_twice(line_user, label)
        assert len(line_api.replies) == before + 1, label
    assert state_of(app)[0] == "area"


def test_a_double_tap_of_the_last_answer_counts_one_referral_and_gets_one_reply(
        app, line_user, line_api):
    answer_up_to_area(line_user)
    line_user.tap("県南")
    first, again = tap_twice(line_user, "大仙市")
    assert count(app, Referral) == 1
    assert "相談先" in line_user.text
    assert reply_calls(line_api, again["replyToken"]) == [], f"no 「{ENDED_SAYS}」 after it"
    assert state_of(app) == ENDED


def test_the_button_just_answered_tapped_minutes_later_is_asked_again_gently(app, line_user):
    line_user.follow()
    button = line_user.button_data("ご本人")
    line_user.postback(button)
    before = state_of(app)
    move_back(app)
    texts = line_user.postback(button)
    assert texts[0] == STALE and texts[1].startswith("年齢を教えてください")
    assert state_of(app) == before


def test_the_last_button_tapped_minutes_later_says_the_guidance_has_ended(app, line_user):
    answer_up_to_area(line_user)
    line_user.tap("県南")
    button = line_user.button_data("大仙市")
    line_user.postback(button)
    move_back(app)
    assert ENDED_SAYS in line_user.postback(button)[0]
    assert count(app, Referral) == 1
    assert count(app, Conversation) == 0  # the marker is gone with the window


def test_after_the_window_a_finished_conversation_is_no_conversation(app, line_user):
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    move_back(app)
    texts = line_user.say("こんにちは")
    assert "友だち追加" in texts[0] and texts[-1] == "どなたについてのご相談ですか？"
    assert state_of(app) == ("subject", {})


def test_other_input_right_after_a_referral_is_answered_as_before(app, line_user):
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    # Within the window: only the last question's buttons are swallowed.
    assert line_user.tap("最初から") == ["どなたについてのご相談ですか？"]
    assert state_of(app) == ("subject", {})


def test_a_different_old_button_at_once_is_still_asked_again(app, line_user):
    line_user.follow()
    other = line_user.button_data("ご家族")
    line_user.tap("ご本人")
    texts = line_user.postback(other)  # not the button just answered: not a double tap
    assert texts[0] == STALE
    assert state_of(app) == ("age", {"subject": "self"})


def test_a_double_tap_of_a_region_shows_its_municipalities_once(app, line_user, line_api):
    answer_up_to_area(line_user)
    first, again = tap_twice(line_user, "県南")
    assert line_user.texts[0].startswith("県南の市町村を選んでください")
    assert reply_calls(line_api, again["replyToken"]) == []
    # A region tapped after going back and answering again is shown again.
    line_user.tap("戻る")
    line_user.tap("まずは話を聞いてほしい")
    assert line_user.tap("県南")[0].startswith("県南の市町村を選んでください")
    line_user.tap("大仙市")
    with transaction(app) as session:
        referral = session.scalars(select(Referral)).one()
    assert "region_shown" not in referral.answers, "the region shown is not counted"


def test_a_double_tap_of_back_goes_back_one_question(app, line_user, line_api):
    answer_up_to_area(line_user)
    first, again = tap_twice(line_user, "戻る")
    assert state_of(app)[0] == "wish"
    assert reply_calls(line_api, again["replyToken"]) == []
    assert line_user.texts[0].startswith(WISH_QUESTION)
    # Two taps of two 戻る buttons, one under each question, go back twice.
    line_user.tap("戻る")
    assert state_of(app)[0] == "hikikomori"


def test_a_double_tap_of_start_again_starts_once(app, line_user, line_api):
    line_user.follow()
    line_user.tap("ご本人")
    first, again = tap_twice(line_user, "最初から")
    assert state_of(app) == ("subject", {})
    assert reply_calls(line_api, again["replyToken"]) == []


def test_a_double_tap_of_start_again_under_the_result_starts_once(app, line_user, line_api):
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    first, again = tap_twice(line_user, "最初から")
    assert len(reply_calls(line_api, first["replyToken"])) == 1
    assert reply_calls(line_api, again["replyToken"]) == []
    assert state_of(app) == ("subject", {})


def test_start_again_on_the_first_question_asks_it_again(app, line_user):
    line_user.follow()
    assert line_user.tap("最初から") == ["どなたについてのご相談ですか？"]


# --- two workers ---------------------------------------------------------------------------


@pytest.fixture
def other_worker(app):
    """Yield another app on the same database: a second worker with no memory of the first."""
    twin = twin_app(app)
    yield twin
    database(twin).dispose()


def test_a_double_tap_reaching_two_workers_is_one_tap(app, other_worker, line_user, line_api):
    there = LineUser(other_worker.test_client(), line_api, user_id=line_user.user_id)
    line_user.follow()
    for label in ("ご本人", "40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい"):
        first, again = tap_twice(line_user, label, second=there)
        assert len(reply_calls(line_api, first["replyToken"])) == 1, label
        assert reply_calls(line_api, again["replyToken"]) == [], label
    line_user.tap("県南")
    button = line_user.button_data("大仙市")
    first, again = tap_twice(line_user, "大仙市", second=there)
    assert count(app, Referral) == 1
    assert reply_calls(line_api, again["replyToken"]) == []
    assert state_for(app, line_user) == ENDED
    # Minutes later the other worker knows the button is old, from the database alone.
    move_back(app)
    assert ENDED_SAYS in there.postback(button)[0]


# --- each event is still one atomic write --------------------------------------------------


def test_every_kind_of_write_is_still_one_atomic_write(app, line_user, monkeypatch):
    store = conversations(app)
    engine = store.db.events_engine or store.db.engine
    statements, commits, events = [], [], []

    def statement(conn, cursor, sql, *args):
        statements.append(sql)

    def commit(conn):
        commits.append(conn)

    write, handle = store.write, store.handle

    def counted_write(conn, change):
        before = len(statements)
        write(conn, change)
        events[-1]["write"] = (change.kind, change.referral is not None)
        events[-1]["statements"] = len(statements) - before

    def counted_handle(*args):
        events.append({})
        before = len(commits)
        try:
            return handle(*args)
        finally:
            events[-1]["commits"] = len(commits) - before

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    monkeypatch.setattr(store, "write", counted_write)
    monkeypatch.setattr(store, "handle", counted_handle)
    try:
        answer_up_to_area(line_user)  # insert, then updates
        line_user.tap("県南")  # update: the region shown, for a double tap of it
        button = line_user.button_data("大仙市")
        tap_twice(line_user, "大仙市")  # update with the referral, then keep (the double tap)
        move_back(app)
        line_user.postback(button)  # delete: the marker, for an old button
        line_user.say("こんにちは")  # insert: a new conversation
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert [e["write"] for e in events] == [
        ("insert", False), *[("update", False)] * 7, ("update", True),
        ("keep", False), ("delete", False), ("insert", False)]
    if store.at_once:  # PostgreSQL: one statement writes all of an event, without BEGIN
        assert [e["statements"] for e in events] == [1] * len(events)
    else:  # SQLite: one transaction per event, under the writer queue
        assert [e["commits"] for e in events] == [1] * len(events)
