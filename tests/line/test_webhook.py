"""The webhook as LINE drives it: signatures, redelivery, double taps, privacy, samples."""

from __future__ import annotations

import copy
import json
import logging
import threading

import pytest
from sqlalchemy import select, text

from bot import create_app
from bot.conversations import store
from bot.conversations.store import conversations
from bot.db.database import database, transaction
from bot.db.models import Conversation, ProcessedEvent, Referral
from bot.dialogue.engine import Follow, Text
from bot.line.webhook import act, now_in_ms
from tests.support.conversations import ENDED, answer_up_to_area, count, state_of
from tests.support.events import reply_calls
from tests.support.line_user import TOKEN, LineUser, sign
from tests.support.paths import SAMPLES


def test_bad_signature_is_refused_and_nothing_happens(app, line_user, line_api):
    response = line_user.post(line_user.event("follow"), signature="bm9wZQ==")
    assert response.status_code == 400
    response = line_user.post(line_user.event("follow"), signature="")
    assert response.status_code == 400
    assert line_api.requests == []
    assert count(app, ProcessedEvent) == 0 and count(app, Conversation) == 0


def test_verification_call_with_no_events_gets_200(client, line_api):
    body = json.dumps({"destination": "U0", "events": []})
    response = client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code == 200
    assert line_api.requests == []


def test_malformed_body_with_valid_signature_gets_400(client):
    for body in ("{not json", json.dumps({"destination": "U0"}), "[]"):
        response = client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)})
        assert response.status_code == 400, body


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_redelivered_event_is_acted_on_once(app, line_user, line_api):
    answer_up_to_area(line_user)
    line_user.tap("県南")
    last = line_user.event("postback", postback={"data": line_user.button_data("大仙市")})
    assert line_user.post(last).status_code == 200
    replies = len(line_api.replies)
    again = copy.deepcopy(last)
    again["deliveryContext"]["isRedelivery"] = True
    assert line_user.post(again).status_code == 200
    assert len(line_api.replies) == replies
    assert count(app, Referral) == 1


def test_redelivered_answer_does_not_advance_twice(app, line_user, line_api):
    line_user.follow()
    event = line_user.event("postback", postback={"data": line_user.button_data("ご本人")})
    line_user.post(event)
    line_user.post(event)
    assert state_of(app)[0] == "age"
    assert len(line_api.replies) == 2  # the greeting and one answer


def post_together(app, events: list[dict]) -> list[int]:
    """Post each event in its own thread, all at the same moment; return the statuses."""
    barrier = threading.Barrier(len(events))
    statuses: list[int] = []

    def post(event):
        body = json.dumps({"destination": "U0", "events": [event]})
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/callback", data=body,
                                    headers={"X-Line-Signature": sign(body)}).status_code)

    threads = [threading.Thread(target=post, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_double_tap_advances_once(app, line_user, line_api):
    line_user.follow()
    data = line_user.button_data("ご本人")
    taps = [line_user.event("postback", postback={"data": data}) for _ in range(2)]
    assert post_together(app, taps) == [200, 200]
    assert state_of(app) == ("age", {"subject": "self"})
    calls = [reply_calls(line_api, e["replyToken"]) for e in taps]
    assert sorted(map(len, calls)) == [0, 1], "the second tap gets no reply at all"
    answer = next(made for made in calls if made)[0].body["messages"]
    assert len(answer) == 1 and answer[0]["text"].startswith("年齢を教えてください")


def test_double_tap_on_the_last_question_counts_once(app, line_user, line_api):
    answer_up_to_area(line_user)
    line_user.tap("県北")
    data = line_user.button_data("能代市")
    taps = [line_user.event("postback", postback={"data": data}) for _ in range(4)]
    assert post_together(app, taps) == [200] * 4
    assert count(app, Referral) == 1
    assert state_of(app) == ENDED
    assert sorted(len(reply_calls(line_api, e["replyToken"])) for e in taps) == [0, 0, 0, 1]


def test_first_messages_of_a_new_person_together_start_one_conversation(app, line_user):
    hello = {"type": "text", "text": "はじめまして", "quoteToken": "q"}
    events = [line_user.event("message", message={"id": str(i), **hello}) for i in range(3)]
    assert post_together(app, events) == [200] * 3
    assert state_of(app) == ("subject", {})


def test_unfollow_deletes_the_conversation(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    assert count(app, Conversation) == 1
    assert line_user.unfollow().status_code == 200
    assert count(app, Conversation) == 0


@pytest.mark.parametrize("words", ["死にたい", "もう消えたいです", "自殺を考えています",
                                   "しにたい"])
def test_crisis_message_is_answered_with_crisis_lines_and_not_stored(app, line_user, caplog,
                                                                   words):
    caplog.set_level(logging.DEBUG)
    line_user.follow()
    line_user.tap("ご本人")
    before = state_of(app)
    texts = line_user.say(words)
    listing = texts[0]
    # The free 24-hour line comes first with its hours; the paid ナビダイヤル last, said to be so.
    assert listing.index("0120-279-338（無料・24時間）") < listing.index("0570-064-556")
    assert "0570-064-556（通話料がかかります）" in listing
    assert listing.count("通話料がかかります") == 1
    assert "0120-735-256" in listing  # the Akita line
    cards = line_user.messages[1]
    buttons = [c for box in cards["contents"]["body"]["contents"] for c in box["contents"]
               if c["type"] == "button"]
    uris = [b["action"]["uri"] for b in buttons]
    assert uris[0] == "tel:0120279338" and uris[-1] == "tel:0570064556"
    assert all(len(b["action"]["label"]) <= 20 for b in buttons)
    assert texts[-1].startswith("年齢を教えてください")  # the questionnaire can go on
    assert state_of(app) == before
    assert words not in caplog.text
    assert words not in dump_database(app)


def test_crisis_message_before_any_conversation(app, line_user):
    texts = line_user.say("死にたい")
    assert texts[0].index("0120-279-338（無料・24時間）") < texts[0].index("0570-064-556")
    assert "通話料がかかります" in texts[0]
    assert count(app, Conversation) == 0


def dump_database(app) -> str:
    """Return every value stored in every table, as text."""
    rows = []
    with transaction(app) as session:
        for table in ("conversations", "processed_events", "referrals", "referral_targets"):
            rows += [str(tuple(r)) for r in session.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(rows)


def test_user_id_is_stored_and_logged_nowhere(app, line_user, caplog):
    caplog.set_level(logging.DEBUG)
    answer_up_to_area(line_user)
    other = LineUser(line_user.client, line_user.api)
    other.follow()
    line_user.say("秋田市")
    stored = dump_database(app)
    for user in (line_user, other):
        assert user.user_id not in stored
        assert user.user_id not in caplog.text
        assert user.user_id.lower() not in stored.lower()
    with transaction(app) as session:
        keys = session.scalars(select(Conversation.user_key)).all()
    # The other person's conversation, and what the referral left for a double tap.
    assert len(keys) == 2 and all(len(key) == 64 for key in keys)


def test_standby_events_get_no_reply(app, line_user, line_api):
    event = line_user.event("message", message={"id": "1", "type": "text", "text": "本人",
                                                 "quoteToken": "q"})
    event["mode"] = "standby"
    del event["replyToken"]
    assert line_user.post(event).status_code == 200
    assert line_api.requests == []
    assert count(app, Conversation) == 0


def test_group_and_room_messages_are_ignored(line_user, line_api):
    for source in ({"type": "group", "groupId": "G1", "userId": line_user.user_id},
                   {"type": "room", "roomId": "R1", "userId": line_user.user_id}):
        event = line_user.event("message", message={"id": "1", "type": "text",
                                                     "text": "こんにちは", "quoteToken": "q"})
        event["source"] = source
        assert line_user.post(event).status_code == 200
    assert line_api.requests == []


def test_every_sample_event_from_line_is_answered_200(app, client, line_api):
    sample = json.loads(SAMPLES.read_text())
    for index, event in enumerate(sample["events"]):
        # The samples are from 2016: as LINE sends them now, they are of now.
        event = dict(event, webhookEventId=f"sample{index:03d}", timestamp=now_in_ms())
        if "replyToken" in event:
            event["replyToken"] = f"token{index:03d}"
        body = json.dumps({"destination": sample["destination"], "events": [event]})
        response = client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)})
        assert response.status_code == 200, event["type"]
    sample["events"] = [dict(e, timestamp=now_in_ms()) for e in sample["events"]]
    body = json.dumps(sample)  # and all of them at once, as LINE's SDK test sends them
    assert client.post("/callback", data=body,
                       headers={"X-Line-Signature": sign(body)}).status_code == 200
    assert line_api.requests, "the user-sourced text and follow events get answers"


def test_development_mode_without_credentials(tmp_path, monkeypatch):
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "TSUNAGU_ENV",
                 "TSUNAGU_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite'}"})
    assert app.config["LINE_CONNECTED"] is False
    response = app.test_client().post("/callback", data="{}")
    assert response.status_code == 503
    assert "not connected" in response.json["message"]
    database(app).dispose()


def test_database_down_gets_503_so_line_redelivers(app, line_user, monkeypatch):
    line_user.follow()

    def broken(*args, **kwargs):
        from sqlalchemy.exc import OperationalError
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(conversations(app), "read", broken)
    assert line_user.post(line_user.event("message", message={
        "id": "1", "type": "text", "text": "本人", "quoteToken": "q"})).status_code == 503


def test_token_is_sent_as_bearer(line_user, line_api):
    line_user.follow()
    assert line_api.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def stale_reads(app, monkeypatch, times: int) -> None:
    """Make the next reads miss what another worker wrote just before: a lost race."""
    store_ = conversations(app)
    read, first = store_.read, []

    def stale(conn, key, event_id):
        if len(first) < times:
            first.append(event_id)
            return conn.execute(store.READ, {"k": "nobody", "e": "never"}).one()
        return read(conn, key, event_id)

    monkeypatch.setattr(store_, "read", stale)


def test_event_handled_by_another_worker_between_read_and_write_is_a_duplicate(
        app, monkeypatch):
    with app.app_context():
        assert act("k1", "E1", Follow()) is not None
        stale_reads(app, monkeypatch, 1)  # the read misses event E1 and the conversation
        assert act("k1", "E1", Follow()) is None
    assert count(app, Conversation) == 1


def test_first_messages_racing_on_two_workers_start_one_conversation(app, monkeypatch):
    with app.app_context():
        assert act("k1", "E1", Follow()) is not None
        stale_reads(app, monkeypatch, 1)  # E2 was decided as if no conversation existed yet
        outcome = act("k1", "E2", Text("本人"))
    # The insert clashed, E2 was decided again over the stored conversation, and advanced it.
    assert outcome.state == "age"
    assert state_of(app) == ("age", {"subject": "self"})


@pytest.mark.parametrize("event_id", ["\x00", "01AB\x00CD", "\ud800", "０１ＡＢ"])
def test_an_event_id_no_database_can_store_is_kept_as_its_hash(app, line_user, event_id):
    event = line_user.event("follow", follow={"isUnblocked": False})
    event["webhookEventId"] = event_id
    assert line_user.post(event).status_code == 200
    assert line_user.texts[-1] == "どなたについてのご相談ですか？"
    again = dict(event, replyToken=event["replyToken"] + "x")
    assert line_user.post(again).status_code == 200  # a redelivery: handled once
