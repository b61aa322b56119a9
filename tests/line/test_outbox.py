"""Replies through the Redis queue: the webhook answers first, `tsunagu send-replies` posts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from bot.db.database import database
from bot.db.models import Referral
from bot.line.sender import Sender
from bot.settings import ConfigError
from tests.support.apps import make_app
from tests.support.conversations import count, finish_while_line_fails, state_of
from tests.support.events import reply_calls, tap_event, text_event, wait_until
from tests.support.line_user import SECRET, TOKEN, LineUser
from tests.support.personas import PERSONAS, only_referral, play

# CI has Redis at this address (README); another can be given with TEST_REDIS_URL.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def stream():
    """Yield a stream name of this test's own on the test Redis; delete it afterwards."""
    server = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        server.ping()
    except redis.RedisError as err:
        pytest.fail(f"the reply-queue tests need Redis at {TEST_REDIS_URL} ({err}); start it "
                    "or set TEST_REDIS_URL")
    name = f"test:replies:{uuid.uuid4().hex}"
    yield name
    server.delete(name)
    server.close()


def queued(database_url, line_api, stream, redis_url=TEST_REDIS_URL):
    """Create the app with its replies queued on this stream."""
    return make_app(database_url, line_api, REDIS_URL=redis_url, REPLY_STREAM=stream)


@pytest.fixture
def queued_app(database_url, line_api, stream):
    app = queued(database_url, line_api, stream)
    yield app
    database(app).dispose()


def sender_for(line_api, stream, **options) -> Sender:
    return Sender(TEST_REDIS_URL, line_api.url, TOKEN, stream=stream, **options)


def send_waiting(line_api, stream, **options) -> None:
    """Run a sender until every waiting reply is sent, as `tsunagu send-replies --once`."""
    options.setdefault("backoff", 0.01)  # the tests count retries, not their pauses
    asyncio.run(sender_for(line_api, stream, **options).run(once=True))


def waiting(stream) -> int:
    """Return how many entries the stream still holds (sent ones are deleted)."""
    return redis.Redis.from_url(TEST_REDIS_URL).xlen(stream)


class QueuedLineUser(LineUser):
    """A person whose replies arrive once a sender has run."""

    def __init__(self, client, api, stream) -> None:
        super().__init__(client, api)
        self.stream = stream

    def send(self, event: dict) -> list[str]:
        response = self.post(event)
        assert response.status_code == 200, response.data
        send_waiting(self.api, self.stream)
        return self.texts


def test_webhook_answers_before_the_reply_goes_out(queued_app, line_api, stream):
    person = LineUser(queued_app.test_client(), line_api)
    person.follow()
    assert person.messages == [], "the webhook should leave the reply to the sender"
    assert waiting(stream) == 1
    health = queued_app.test_client().get("/healthz").json
    assert health == {"status": "ok", "replies_waiting": 1}

    send_waiting(line_api, stream)
    assert "ご本人" in person.buttons  # the first question, as LINE received it
    assert waiting(stream) == 0, "a sent reply should not stay in Redis"
    assert queued_app.test_client().get("/healthz").json["replies_waiting"] == 0
    pending = redis.Redis.from_url(TEST_REDIS_URL).xpending(stream, "senders")
    assert pending["pending"] == 0


@pytest.mark.parametrize("persona", PERSONAS[:2], ids=[p.name for p in PERSONAS[:2]])
def test_whole_conversation_through_the_queue(queued_app, line_api, stream, persona):
    person = QueuedLineUser(queued_app.test_client(), line_api, stream)
    play(person, persona)
    referral = only_referral(queued_app)
    assert persona.programmes <= {t.code for t in referral.targets if t.kind == "programme"}
    assert any(m["type"] == "flex" for m in person.messages)
    assert len(line_api.replies) == len(persona.answers) + 1  # one reply per event, no more


def test_redis_down_means_the_webhook_replies_itself(database_url, line_api, stream):
    app = queued(database_url, line_api, stream, redis_url="redis://127.0.0.1:1/0")
    try:
        person = LineUser(app.test_client(), line_api)
        person.follow()
        assert "ご本人" in person.buttons
        assert app.test_client().get("/healthz").json["replies_waiting"] is None
    finally:
        database(app).dispose()


def test_passing_failures_are_retried(queued_app, line_api, stream):
    person = LineUser(queued_app.test_client(), line_api)
    person.follow()
    line_api.fail_next(2, 429)
    line_api.fail_next(1, 500)
    send_waiting(line_api, stream)
    assert "ご本人" in person.buttons
    assert waiting(stream) == 0


def test_sender_gives_up_after_its_attempts(queued_app, line_api, stream):
    person = LineUser(queued_app.test_client(), line_api)
    person.follow()
    line_api.fail_next(10, 500)
    send_waiting(line_api, stream, attempts=3)
    assert person.messages == []
    assert len(line_api.requests) == 3, "the reply should be tried a bounded number of times"
    assert waiting(stream) == 0, "a reply given up on should not be tried forever"


def test_hanging_line_is_given_up_on_after_bounded_attempts(queued_app, line_api, stream):
    person = LineUser(queued_app.test_client(), line_api)
    person.follow()
    line_api.delay = 0.5
    started = time.monotonic()
    send_waiting(line_api, stream, attempts=2, request_timeout=0.2)
    assert time.monotonic() - started < 3
    assert waiting(stream) == 0
    line_api.delay = 0
    # The stand-in finishes the calls it was still sleeping in.
    wait_until(lambda: len(line_api.requests) >= 2)
    assert len(line_api.requests) == 2
    # A call that timed out may still have reached LINE; then the retry's token is used up.
    # That is the price of retrying a timeout, and harmless: LINE shows the reply once.
    assert all("already used" in v for v in line_api.violations)
    line_api.violations.clear()
    person.say("42")  # the conversation goes on; its state never depended on LINE
    send_waiting(line_api, stream)
    assert person.messages


def test_refused_reply_is_not_retried(queued_app, line_api, stream):
    LineUser(queued_app.test_client(), line_api).follow()
    line_api.fail_next(1, 400)
    send_waiting(line_api, stream)
    assert len(line_api.requests) == 1
    assert waiting(stream) == 0


def put_raw(stream, **fields) -> None:
    redis.Redis.from_url(TEST_REDIS_URL).xadd(stream, fields)


def test_expired_reply_is_dropped_unsent(line_api, stream):
    put_raw(stream, token="t" * 32, messages=json.dumps([{"type": "text", "text": "遅い"}]),
            expires=f"{time.time() - 1:.3f}")
    send_waiting(line_api, stream)
    assert line_api.requests == []
    assert waiting(stream) == 0


def test_malformed_entry_is_dropped(line_api, stream):
    put_raw(stream, token="t" * 32, messages="{not json", expires="soon")
    put_raw(stream, nothing="here")
    send_waiting(line_api, stream)
    assert line_api.requests == []
    assert waiting(stream) == 0


def test_replies_a_dead_sender_took_are_sent_by_another(queued_app, line_api, stream):
    person = LineUser(queued_app.test_client(), line_api)
    person.follow()
    server = redis.Redis.from_url(TEST_REDIS_URL)
    server.xgroup_create(stream, "senders", id="0")
    taken = server.xreadgroup("senders", "dead-sender", {stream: ">"}, count=10)
    assert len(taken[0][1]) == 1  # taken, never acknowledged: that sender died

    send_waiting(line_api, stream)  # too soon to call it abandoned
    assert person.messages == []
    send_waiting(line_api, stream, abandoned_after_ms=0)
    assert "ご本人" in person.buttons
    assert len(line_api.replies) == 1
    assert waiting(stream) == 0


def test_stopping_finishes_the_replies_in_flight(queued_app, line_api, stream):
    people = [LineUser(queued_app.test_client(), line_api) for _ in range(5)]
    for person in people:
        person.follow()
    sender = sender_for(line_api, stream)

    async def stop_soon():
        task = asyncio.create_task(sender.run())
        while len(line_api.requests) < 5 and not task.done():
            await asyncio.sleep(0.01)
        sender.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(stop_soon())
    assert all(person.buttons for person in people)
    assert waiting(stream) == 0


def test_send_replies_command_sends_and_explains(queued_app, line_api, stream, app):
    LineUser(queued_app.test_client(), line_api).follow()
    result = queued_app.test_cli_runner().invoke(args=["send-replies", "--once"])
    assert result.exit_code == 0, result.output
    assert len(line_api.replies) == 1

    result = app.test_cli_runner().invoke(args=["send-replies", "--once"])
    assert result.exit_code != 0
    assert "TSUNAGU_REDIS_URL" in result.output


def test_redis_url_is_checked(database_url, line_api, stream):
    with pytest.raises(ConfigError, match="TSUNAGU_REDIS_URL"):
        queued(database_url, line_api, stream, redis_url="localhost:6379")


@pytest.mark.parametrize("status", [500, 429])
def test_line_failing_for_the_sender_loses_no_step_and_no_referral(queued_app, line_api,
                                                                   stream, status):
    person = QueuedLineUser(queued_app.test_client(), line_api, stream)

    def while_line_fails(event: dict) -> None:
        line_api.fail_next(4, status)  # every attempt of this reply
        assert person.post(event).status_code == 200
        send_waiting(line_api, stream)
        assert len(reply_calls(line_api, event["replyToken"])) == 4
        assert waiting(stream) == 0

    person.follow()
    while_line_fails(tap_event(person, "ご本人"))
    assert state_of(queued_app) == ("age", {"subject": "self"})
    while_line_fails(text_event(person, "42"))
    assert state_of(queued_app)[0] == "employment"
    person.say("正社員")
    finish_while_line_fails(queued_app, person, while_line_fails)
    assert count(queued_app, Referral) == 1


def test_sender_starts_before_the_stream_exists_and_survives_a_flush(queued_app, line_api, stream):
    first, second = (LineUser(queued_app.test_client(), line_api) for _ in range(2))
    sender = sender_for(line_api, stream)
    server = redis.Redis.from_url(TEST_REDIS_URL)

    async def scenario():
        task = asyncio.create_task(sender.run())
        first.follow()
        while not first.messages:
            await asyncio.sleep(0.01)
        server.delete(stream)  # the stream and its group are gone, as after FLUSHDB
        second.follow()
        while not second.messages and not task.done():
            await asyncio.sleep(0.01)
        sender.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert "ご本人" in second.buttons


def start_sender(line_api, stream, database_url, *options: str) -> subprocess.Popen:
    """Start `tsunagu send-replies` as its own process, as in production."""
    env = {**os.environ, "TSUNAGU_REDIS_URL": TEST_REDIS_URL, "TSUNAGU_REPLY_STREAM": stream,
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_API_BASE_URL": line_api.url, "TSUNAGU_SECRET_KEY": "test-secret-key",
           "DATABASE_URL": database_url}
    tool = Path(sys.executable).with_name("tsunagu")
    return subprocess.Popen([str(tool), "send-replies", *options], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def running(process: subprocess.Popen) -> bool:
    """Return True while the process runs; fail with its output once it has exited."""
    if process.poll() is not None:
        pytest.fail(process.stdout.read().decode())
    return True


def test_sender_process_sends_and_stops_on_sigterm(queued_app, line_api, stream, database_url):
    process = start_sender(line_api, stream, database_url)
    try:
        person = LineUser(queued_app.test_client(), line_api)
        person.follow()
        wait_until(lambda: running(process) and person.messages, timeout=30)
        assert "ご本人" in person.buttons
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=10)[0].decode()
    assert process.returncode == 0, output
    assert waiting(stream) == 0


def test_sender_killed_mid_reply_leaves_its_replies_to_the_next(queued_app, line_api, stream,
                                                                database_url):
    people = [LineUser(queued_app.test_client(), line_api) for _ in range(5)]
    line_api.delay = 1.0  # LINE is slow: the replies are in flight when the sender dies
    first = start_sender(line_api, stream, database_url)
    server = redis.Redis.from_url(TEST_REDIS_URL)
    for person in people:
        person.follow()
    try:
        wait_until(lambda: running(first) and taken(server, stream) == len(people), timeout=30)
    finally:
        first.kill()  # SIGKILL: no goodbye, nothing acknowledged
        first.wait()
    line_api.delay = 0
    second = start_sender(line_api, stream, database_url, "--take-over-after", "0.5")
    try:
        # Well before the default 10 s: the option, not the default, took them over.
        wait_until(lambda: running(second) and all(person.messages for person in people)
                   and waiting(stream) == 0, timeout=6)
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=10)
    assert len(line_api.replies) == len(people), "each person gets exactly one reply"
    # Requests the dead sender had sent still reached LINE; their retries find the token
    # used, which LINE refuses without showing anything twice.
    assert all("already used" in v for v in line_api.violations)
    line_api.violations.clear()


def taken(server: redis.Redis, stream: str) -> int:
    """Return how many entries senders have taken and not acknowledged."""
    try:
        return server.xpending(stream, "senders")["pending"]
    except redis.ResponseError:
        return 0  # no sender has created the group yet


def test_slow_reply_is_not_taken_for_abandoned(queued_app, line_api, stream):
    person = LineUser(queued_app.test_client(), line_api)
    person.follow()
    line_api.delay = 1.0  # each post takes 1 s, far past the 0.1 s take-over time below
    busy = sender_for(line_api, stream, abandoned_after_ms=100, backoff=0.01)
    other = sender_for(line_api, stream, abandoned_after_ms=100, backoff=0.01,
                       consumer="other")

    async def both():
        first = asyncio.create_task(busy.run(once=True, reclaim_every=0.05))
        while not busy.sending:
            await asyncio.sleep(0.01)
        second = asyncio.create_task(other.run(reclaim_every=0.05))  # keeps looking
        await first
        other.stop()
        await second

    asyncio.run(asyncio.wait_for(both(), 10))
    assert len(line_api.requests) == 1, "a reply still being sent was posted again"
    assert "ご本人" in person.buttons


def test_slow_reply_keeps_its_claim_fresh(queued_app, line_api, stream):
    LineUser(queued_app.test_client(), line_api).follow()
    line_api.delay = 1.0
    busy = sender_for(line_api, stream)  # takes over only after the default 10 s
    server = redis.Redis.from_url(TEST_REDIS_URL)
    idle: list[int] = []

    async def watch():
        task = asyncio.create_task(busy.run(once=True, reclaim_every=0.05))
        await asyncio.sleep(0.7)  # the post is still waiting for LINE
        idle.extend(e["time_since_delivered"]
                    for e in server.xpending_range(stream, "senders", "-", "+", 10))
        await task

    asyncio.run(watch())
    assert idle and max(idle) < 300, "a reply being sent should not look idle to others"
