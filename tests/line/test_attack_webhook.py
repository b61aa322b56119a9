"""Replays and forged signatures: a captured webhook body never acts twice, however late."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot import clock
from bot.conversations.retention import EVENT_MEMORY, purge
from bot.db.database import database
from bot.db.models import Conversation, Referral
from bot.line import webhook
from bot.line.webhook import MAX_EVENT_AGE_MS, too_old
from tests.support.conversations import answer_up_to_area, count
from tests.support.line_user import sign

DAY_MS = 86_400_000


@pytest.fixture
def captured(line_user):
    """Record every event the person sends, as an attacker on the path would."""
    sent = []
    post = line_user.post

    def recording(*events, **kwargs):
        sent.extend(events)
        return post(*events, **kwargs)

    line_user.post = recording
    return sent


def test_a_conversation_replayed_after_purge_makes_no_new_referral(app, line_user, captured,
                                                                    monkeypatch):
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    assert count(app, Referral) == 1
    replies = len(line_user.api.requests)

    # A week and a day later, purge has forgotten the event ids; the bodies are replayed.
    later = clock.now() + EVENT_MEMORY + dt.timedelta(days=1)
    purge(database(app), now=later)
    monkeypatch.setattr(webhook, "now_in_ms", lambda: int(later.timestamp() * 1000))
    for event in list(captured):
        assert line_user.post(event).status_code == 200  # LINE is told it arrived
    assert count(app, Referral) == 1
    assert count(app, Conversation) == 0
    assert len(line_user.api.requests) == replies  # and nobody is answered


def test_a_replay_within_the_week_is_refused_by_its_id(app, line_user, captured):
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    replies = len(line_user.api.requests)
    for event in list(captured):
        assert line_user.post(event).status_code == 200
    assert count(app, Referral) == 1
    assert len(line_user.api.requests) == replies


def test_an_event_is_acted_on_until_a_day_before_its_id_is_forgotten():
    now = 1_800_000_000_000
    memory_ms = EVENT_MEMORY.total_seconds() * 1000
    assert MAX_EVENT_AGE_MS == memory_ms - DAY_MS
    assert not too_old({"timestamp": now - MAX_EVENT_AGE_MS}, now)
    assert too_old({"timestamp": now - MAX_EVENT_AGE_MS - 1}, now)
    assert not too_old({"timestamp": now + 60_000}, now)  # LINE's clock a minute ahead


@pytest.mark.parametrize("stamp", [None, "1800000000000", 1.8e12, True])
def test_an_event_without_a_whole_number_timestamp_is_not_acted_on(line_user, stamp):
    event = line_user.event("follow", follow={"isUnblocked": False})
    if stamp is None:
        del event["timestamp"]
    else:
        event["timestamp"] = stamp
    assert line_user.post(event).status_code == 200
    assert line_user.api.requests == []


def test_an_event_delivered_late_but_within_the_week_is_answered(line_user):
    event = line_user.event("follow", follow={"isUnblocked": False})
    event["timestamp"] -= 5 * DAY_MS  # LINE redelivered it after an outage
    event["deliveryContext"]["isRedelivery"] = True
    assert line_user.post(event).status_code == 200
    assert line_user.api.requests  # the greeting


def test_the_signature_is_over_the_body_s_bytes(client, line_user):
    # A body whose text holds U+FFFD, signed by LINE; the attacker swaps those bytes for
    # invalid UTF-8, which a lossy decode would turn back into the signed text.
    event = line_user.event("message", message={"id": "1", "type": "text", "text": "\ufffd",
                                                "quoteToken": "q"})
    text = json.dumps({"destination": "U0", "events": [event]}, ensure_ascii=False)
    signature = sign(text)
    forged = text.encode().replace("\ufffd".encode(), b"\xff")
    response = client.post("/callback", data=forged, content_type="application/json",
                           headers={"X-Line-Signature": signature})
    assert response.status_code == 400
    assert b"invalid signature" in response.data
    assert client.post("/callback", data=text.encode(), content_type="application/json",
                       headers={"X-Line-Signature": signature}).status_code == 200


@pytest.mark.parametrize("signature", ["", "A" * 44, "署名", "\u00ff" * 44])
def test_a_wrong_or_odd_signature_is_refused_with_400(client, line_user, signature):
    event = line_user.event("follow", follow={"isUnblocked": False})
    body = json.dumps({"destination": "U0", "events": [event]})
    response = client.post("/callback", data=body, content_type="application/json",
                           headers={"X-Line-Signature": signature.encode().decode("latin-1")})
    assert response.status_code == 400
    assert line_user.api.requests == []
