"""After each referral: 「このご案内は役に立ちそうですか？」, answered by a tap, counted once.

The answers are quick-reply buttons on the referral's last message. A tap is thanked and adds
one to an anonymous daily counter (day, version, answer; no user key, no text) in the event's
own write: once under LINE's redelivery, once under a double tap (the referral's conversation
keeps which answer it got, for as long as it is kept), once on two workers. A tap after the
conversation was purged, or on a worker that just started, still counts; a button of another
version is thanked but not counted (its answers are that version's, and the count is per
version).
"""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import parse_qs

from sqlalchemy import delete

from bot.clock import japan_date
from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import Conversation
from bot.dialogue.engine import feedback_data, version_tag
from bot.dialogue.turns import FEEDBACK_GIVEN, LAST_STEP
from tests.dialogue.test_double_tap import tap_twice
from tests.support.apps import make_app, twin_app
from tests.support.conversations import ENDED, answer_up_to_area, move_back, state_of
from tests.support.counters import feedback_counts, feedback_rows
from tests.support.drafts import copy_draft, edit
from tests.support.events import post_as_line, redelivered, reply_calls, tap_event, wait_until
from tests.support.line_user import LineUser
from tests.support.servers import gunicorn

QUESTION = "このご案内は役に立ちそうですか？"
ANSWERS = ["役に立ちそう", "まだわからない", "役に立たなそう"]
THANKS = "お答えいただき、ありがとうございます。これからのご案内に役立てます。"


def referred(user: LineUser) -> None:
    """Answer every question: the reply is a referral, asking whether it helps."""
    answer_up_to_area(user)
    user.tap("県南")
    user.tap("大仙市")


def test_the_referral_asks_on_its_last_message_with_three_buttons(app, line_user):
    referred(line_user)
    last = line_user.messages[-1]
    assert last["type"] == "text" and last["text"].endswith(f"\n\n{QUESTION}")
    assert line_user.buttons == [*ANSWERS, "相談員と話したい", "最初から"]
    data = parse_qs(line_user.button_data("役に立ちそう"))
    tag = version_tag(content_source(app).current())
    assert data == {"f": ["useful"], "b": [tag]}, "the answer and the version that asked"
    assert len(line_user.messages) <= 5  # one more question, no more messages


def test_under_the_page_s_card_the_question_joins_the_card(database_url, line_api):
    from tests.support.pages import PUBLIC_URL

    app = make_app(database_url, line_api, PUBLIC_URL=PUBLIC_URL)
    user = LineUser(app.test_client(), line_api)
    referred(user)
    last = user.messages[-1]  # the card with the page's and the share link's buttons
    assert last["type"] == "flex" and last["altText"].endswith(f"\n{QUESTION}")
    assert last["contents"]["body"]["contents"][-1]["text"] == QUESTION
    assert user.buttons == [*ANSWERS, "相談員と話したい", "最初から"]
    assert user.tap("役に立ちそう") == [THANKS]
    assert feedback_counts(app) == {"useful": 1}
    database(app).dispose()


def test_an_answer_is_thanked_and_counted_per_day_version_and_answer(app, line_user):
    referred(line_user)
    assert line_user.tap("役に立ちそう") == [THANKS]
    assert line_user.buttons == ["最初から"]
    row, = feedback_rows(app)
    assert (row.day, row.bundle_id, row.event, row.count) == (
        japan_date(), content_source(app).current().bundle_id, "useful", 1)
    # The referral's conversation keeps which answer it got (never who), as long as it is kept.
    assert state_of(app) == ("done", {LAST_STEP: "area", FEEDBACK_GIVEN: "useful"})


def test_a_redelivered_answer_counts_once(app, line_user, line_api):
    referred(line_user)
    event = tap_event(line_user, "まだわからない")
    assert line_user.post(event).status_code == 200
    assert line_user.post(redelivered(event)).status_code == 200
    assert feedback_counts(app) == {"unsure": 1}
    assert len(reply_calls(line_api, event["replyToken"])) == 1


def test_a_double_tap_counts_once_and_is_thanked_once(app, line_user, line_api):
    referred(line_user)
    first, again = tap_twice(line_user, "役に立たなそう")
    assert feedback_counts(app) == {"not_useful": 1}
    assert len(reply_calls(line_api, first["replyToken"])) == 1
    assert reply_calls(line_api, again["replyToken"]) == [], "no second thanks"


def test_a_double_tap_reaching_a_second_worker_counts_once(app, line_user, line_api):
    other = twin_app(app)
    there = LineUser(other.test_client(), line_api, user_id=line_user.user_id)
    referred(line_user)
    first, again = tap_twice(line_user, "役に立ちそう", second=there)
    assert feedback_counts(app) == {"useful": 1}
    assert reply_calls(line_api, again["replyToken"]) == []
    database(other).dispose()


def test_another_answer_later_is_thanked_but_not_counted_again(app, line_user):
    referred(line_user)
    button = line_user.button_data("まだわからない")
    line_user.tap("役に立ちそう")
    move_back(app)  # a minute later, an old message's button
    assert line_user.postback(button) == [THANKS]
    assert feedback_counts(app) == {"useful": 1}


def test_a_tap_after_the_conversation_was_purged_still_counts_once(app, line_user, line_api):
    referred(line_user)
    button = line_user.button_data("役に立ちそう")
    with transaction(app) as session:  # `tsunagu purge` the next night
        session.execute(delete(Conversation))
    first = line_user.event("postback", postback={"data": button})
    again = dict(first, webhookEventId=first["webhookEventId"][:-1] + "X",
                 replyToken=first["replyToken"] + "x")
    assert line_user.send(first) == [THANKS]
    assert line_user.post(again).status_code == 200
    assert feedback_counts(app) == {"useful": 1}
    assert reply_calls(line_api, again["replyToken"]) == []
    assert state_of(app) == ("done", {FEEDBACK_GIVEN: "useful"})  # kept only for a double tap


def test_a_tap_on_a_worker_that_just_started_counts(app, line_user, line_api):
    referred(line_user)
    restarted = twin_app(app)  # a new process: no memory of the version or the person
    there = LineUser(restarted.test_client(), line_api, user_id=line_user.user_id)
    there.last_token = line_user.last_token
    assert there.tap("まだわからない") == [THANKS]
    assert feedback_counts(app) == {"unsure": 1}
    database(restarted).dispose()


def test_a_button_of_another_version_is_thanked_but_not_counted(app, line_user):
    referred(line_user)
    move_back(app)
    assert line_user.postback(feedback_data("useful", "0ldv3rs1")) == [THANKS]
    with transaction(app) as session:
        session.execute(delete(Conversation))
    assert line_user.postback(feedback_data("useful", "0ldv3rs1")) == [THANKS]
    assert line_user.postback(feedback_data("no-such-answer",
                                            version_tag(content_source(app).current()))) == [
        THANKS]
    assert feedback_counts(app) == {}


def test_a_tap_after_starting_again_counts_and_the_question_goes_on(app, line_user):
    referred(line_user)
    button = line_user.button_data("役に立ちそう")
    line_user.tap("最初から")
    texts = line_user.postback(button)
    assert texts[0] == THANKS and texts[-1] == "どなたについてのご相談ですか？"
    assert feedback_counts(app) == {"useful": 1}
    assert line_user.tap("ご本人")[0].startswith("年齢を教えてください")  # it goes on


def test_turned_off_in_the_content_it_is_not_asked(database_url, line_api, tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "content/feedback.yaml", "ask: true", "ask: false")
    app = make_app(database_url, line_api, CONTENT_DIR=str(root / "content"),
                   FLOWS_DIR=str(root / "flows"))
    user = LineUser(app.test_client(), line_api)
    referred(user)
    assert user.buttons == ["相談員と話したい", "最初から"]
    assert QUESTION not in user.text
    assert state_of(app) == ENDED
    database(app).dispose()


# --- two gunicorn workers --------------------------------------------------------------------

ROUNDS = 4


def post_together(url: str, events: list[dict]) -> list[int]:
    """Post events at one moment, each on its own connection; return the statuses."""
    statuses = [0] * len(events)
    barrier = threading.Barrier(len(events))

    def post(index: int) -> None:
        barrier.wait()
        statuses[index] = post_as_line(url, events[index])[0]

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def walk_to_referral(url: str, user: LineUser) -> None:
    event = user.event("follow", follow={"isUnblocked": False})
    assert post_as_line(url, event)[0] == 200
    for label in ("ご本人", "40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい",
                  "県南", "大仙市"):
        tap = user.event("postback", postback={"data": user.button_data(label)})
        assert post_as_line(url, tap)[0] == 200
        wait_until(lambda: user.messages)


def test_double_taps_and_redeliveries_on_two_workers_count_once(app, line_api, tmp_path):
    with gunicorn(app, tmp_path / "gunicorn.log", workers=2) as (url, _):
        for done in range(ROUNDS):
            user = LineUser(None, line_api)
            walk_to_referral(url, user)
            data = user.button_data("役に立ちそう")
            taps = [user.event("postback", postback={"data": data}) for _ in range(2)]
            assert post_together(url, taps) == [200, 200]
            # LINE redelivers the first (no answer reached it in time), twice at once.
            assert post_together(url, [redelivered(taps[0])] * 2) == [200, 200]
            assert feedback_counts(app) == {"useful": done + 1}, f"round {done}"
            calls = sorted(len(reply_calls(line_api, t["replyToken"])) for t in taps)
            assert calls == [0, 1], "one thanks for the two taps"


def test_the_counter_keeps_only_day_version_answer_and_count(app, line_user):
    referred(line_user)
    line_user.tap("役に立ちそう")
    row, = feedback_rows(app)
    kept = {c.name: getattr(row, c.name) for c in row.__table__.c}
    assert set(kept) == {"day", "bundle_id", "step", "event", "count"}
    assert isinstance(kept["day"], dt.date) and line_user.user_id not in str(kept)


# --- the engine alone ------------------------------------------------------------------------


def test_the_engine_counts_an_answer_once_and_keeps_only_the_marker(app):
    from bot.dialogue.turns import Postback
    from tests.support.dialogues import LATER, SOON, Chat

    chat = Chat(content_source(app).current())
    chat.kept = ENDED  # a referral was just made
    tapped = Postback(feedback_data("unsure", chat.tag))
    first = chat.send(tapped, SOON)
    assert first.counts == (("feedback", "unsure"),) and chat.kinds() == ["Note"]
    assert chat.kept == ("done", {LAST_STEP: "area", FEEDBACK_GIVEN: "unsure"})
    assert chat.send(tapped, SOON).says == [] and chat.last.counts == ()  # a double tap
    assert chat.send(tapped, LATER).counts == () and chat.kinds() == ["Note"]  # thanked again
