"""Failure drills: LINE failing, the database going away, a worker killed, two workers at once."""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from bot.conversations.store import conversations
from bot.db.database import database
from bot.db.models import Conversation, Referral
from bot.line import client
from tests.support.apps import APP_SETTINGS, TEST_DATABASE_URL, twin_app
from tests.support.conversations import (
    AREA_ANSWERS,
    ENDED,
    answer_up_to_area,
    count,
    finish_while_line_fails,
    processed,
    state_for,
    state_of,
)
from tests.support.events import (
    post_as_line,
    redelivered,
    reply_calls,
    tap_event,
    text_event,
    timed_post,
    wait_until,
)
from tests.support.line_user import LineUser, sign
from tests.support.paths import ROOT
from tests.support.servers import free_port, serving

SHORT_BUDGET = "0.8"  # seconds: keeps the timeout drills quick; the bound is what matters
MARGIN = 1.0  # generous: this bounds the webhook's time, it does not measure its speed
MAX_ATTEMPTS = 3  # LineClient promises at most three calls per reply
STALL = 0.3  # a timed-out LINE answers this long after the bot has given up


@pytest.fixture(autouse=True)
def short_reply_budget(monkeypatch):
    """Shorten the reply budget through its environment variable, read when the app is made."""
    monkeypatch.setenv("LINE_REPLY_BUDGET", SHORT_BUDGET)


@pytest.fixture
def budget(app) -> float:
    """Return the seconds the app gives a reply, with its retries."""
    return app.config["LINE_REPLY_BUDGET"]


# --- helpers ------------------------------------------------------------------------------------










@pytest.fixture
def served(app):
    """Serve the app over HTTP from a thread, as a real server does; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()














# --- LINE failing -------------------------------------------------------------------------------

FAULTS = [500, 429, "timeout"]


def start_fault(line_api, fault, budget: float) -> None:
    """Make LINE fail every attempt of the bot's next reply, in this way."""
    if fault == "timeout":
        line_api.delay = budget + STALL
    else:
        line_api.fail_next(MAX_ATTEMPTS, fault)


def end_fault(line_api, token: str) -> list:
    """Let LINE answer again once it has seen this token; return the calls made with it."""
    if line_api.delay:
        # The stand-in serves one call at a time: wait out the stalled call, then let a retry
        # queued behind it through at once, so it is counted and the next test is not slowed.
        wait_until(lambda: reply_calls(line_api, token))
        line_api.delay = 0
        time.sleep(0.1)
    return reply_calls(line_api, token)


def post_during_fault(user: LineUser, line_api, fault, event: dict, budget: float) -> None:
    """Post one event while LINE fails; check the webhook's answer, its time and its calls."""
    start_fault(line_api, fault, budget)
    status, took = timed_post(user, event)
    calls = end_fault(line_api, event["replyToken"])
    assert status == 200, "LINE failing is no reason for LINE to redeliver"
    assert took < budget + MARGIN, f"the webhook took {took:.2f} s"
    # A timeout uses up the budget in one call; quick failures are retried to the bound.
    assert len(calls) == (1 if fault == "timeout" else MAX_ATTEMPTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_line_failing_loses_no_step_and_no_referral(app, line_user, line_api, fault, budget):
    fail = functools.partial(post_during_fault, line_user, line_api, fault, budget=budget)
    line_user.follow()
    # The person sees no replies while LINE fails, so after the first tap they type answers.
    fail(tap_event(line_user, "ご本人"))
    assert state_of(app) == ("age", {"subject": "self"})
    fail(text_event(line_user, "42"))
    assert state_of(app) == ("employment", {"subject": "self", "age": "40-44",
                                            "age_years": "42"})
    fail(text_event(line_user, "正社員"))
    assert state_of(app)[0] == "single_parent"
    # The fault clears: whatever the person writes next brings back the question they are at.
    assert line_user.say("？")[-1] == "ひとり親のご家庭ですか？"
    finish_while_line_fails(app, line_user, fail)
    assert state_of(app) == ("subject", {})
    assert count(app, Referral) == 1




@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_brief_fault_is_retried_and_the_reply_arrives(line_user, line_api, status):
    line_user.follow()
    line_api.fail_next(MAX_ATTEMPTS - 1, status)
    assert line_user.tap("ご本人")[0].startswith("年齢を教えてください")
    assert len(reply_calls(line_api, line_user.last_token)) == MAX_ATTEMPTS


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refusal_is_not_retried(app, line_user, line_api, status):
    line_user.follow()
    line_api.fail_next(1, status)
    assert line_user.tap("ご本人") == []
    assert len(reply_calls(line_api, line_user.last_token)) == 1
    assert state_of(app) == ("age", {"subject": "self"})


def test_giving_up_on_line_does_not_wait_after_the_last_attempt(line_user, line_api,
                                                                 monkeypatch):
    line_user.follow()
    waits = []
    monkeypatch.setattr(client, "time", SimpleNamespace(monotonic=time.monotonic,
                                                       sleep=waits.append))
    line_api.fail_next(MAX_ATTEMPTS, 500)
    assert line_user.tap("ご本人") == []
    assert len(reply_calls(line_api, line_user.last_token)) == MAX_ATTEMPTS
    assert len(waits) == MAX_ATTEMPTS - 1, f"waited {waits} around {MAX_ATTEMPTS} attempts"


def test_hanging_line_costs_the_event_no_more_than_its_budget(app, line_user, line_api,
                                                               budget):
    line_user.follow()
    line_api.delay = budget + MARGIN + 0.5  # far past the bound: only a timeout keeps within it
    # The test client closes the response, which sends the reply, so this times both.
    status, took = timed_post(line_user, tap_event(line_user, "ご本人"))
    assert len(end_fault(line_api, line_user.last_token)) == 1
    assert status == 200 and took < budget + MARGIN, f"the event took {took:.2f} s"
    assert state_of(app) == ("age", {"subject": "self"})


def test_webhook_with_several_events_keeps_to_the_budget_while_line_hangs(
        app, make_user, line_api, budget, served):
    users = [make_user() for _ in range(3)]
    for user in users:
        user.follow()
    # LINE puts events of several people (or several of one) into one webhook; each reply
    # has its own budget, so LINE must not wait for the replies one after another.
    events = [tap_event(user, "ご本人") for user in users]
    line_api.delay = budget + STALL
    status, took = post_as_line(served, *events)
    for event in events:
        end_fault(line_api, event["replyToken"])
    assert status == 200
    assert count(app, Conversation) == 3
    assert took < budget + MARGIN, f"LINE waited {took:.2f} s"


# --- the database going away --------------------------------------------------------------------


class TcpProxy:
    """Forward a local port to the database; stop() cuts it off like a crash, start() restores."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0  # picked by the first start, kept by restarts
        self.forward = True  # False: accept connections but never answer, like a hung host
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen (again, on the same port) and forward every connection."""
        listener = socket.create_server(("127.0.0.1", self.port))  # sets SO_REUSEADDR
        listener.settimeout(0.05)  # so the accept loop notices stop()
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def stop(self) -> None:
        """Close the listener and kill every connection through it."""
        listener, self._listener = self._listener, None
        if listener is not None:
            self._acceptor.join()  # its poll holds the socket, which would keep the port taken
            listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        """Take connections until this listener is stopped."""
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.add(client)
            if self.forward:
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        """Join a client to a new connection to the target, both ways."""
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets.add(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes."""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class SqliteOutage:
    """Take the database file away, so every connection the app opens fails, as on a lost disk."""

    def __init__(self, app) -> None:
        self.app = app
        self.path = Path(make_url(app.config["DATABASE_URL"]).database)
        self.away = self.path.with_name("away")

    def down(self) -> None:
        """Move the files away and block their path."""
        # Pooled connections would go on using the moved file, as open files do.
        database(self.app).dispose()
        self.away.mkdir()
        for file in self.path.parent.glob(self.path.name + "*"):  # with -wal and -shm, if any
            file.rename(self.away / file.name)
        self.path.mkdir()  # SQLite cannot open a directory: "unable to open database file"

    def up(self) -> None:
        """Put the files back."""
        self.path.rmdir()
        for file in self.away.iterdir():
            file.rename(self.path.parent / file.name)
        self.away.rmdir()


class PostgresOutage:
    """Reach PostgreSQL through a proxy that can be cut and restored."""

    def __init__(self, app) -> None:
        url = make_url(app.config["DATABASE_URL"])
        self.proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        self.proxy.start()
        proxied = url.set(host="127.0.0.1", port=self.proxy.port)
        self.app = twin_app(app, proxied.render_as_string(hide_password=False))

    def down(self) -> None:
        """Refuse connections and kill the open ones."""
        self.proxy.stop()

    def up(self) -> None:
        """Forward connections again, on the same port."""
        self.proxy.forward = True
        self.proxy.start()

    def hang(self) -> None:
        """Keep accepting connections but never answer them, like a hung host."""
        self.proxy.stop()
        self.proxy.forward = False
        self.proxy.start()

    def close(self) -> None:
        """Release the app's connections and the proxy."""
        database(self.app).dispose()
        self.proxy.stop()


@pytest.fixture
def outage(app, database_url):
    """Yield something with .app (the bot), .down() and .up() for its database."""
    if not database_url.startswith("postgresql"):
        yield SqliteOutage(app)
        return
    outage = PostgresOutage(app)
    yield outage
    outage.close()


def test_database_outage_answers_503_and_redelivery_counts_once(app, outage, line_api):
    user = LineUser(outage.app.test_client(), line_api)
    answer_up_to_area(user)
    user.tap("県南")
    last = tap_event(user, "大仙市")
    outage.down()
    for event in (last, redelivered(last)):  # LINE redelivers while the database is still down
        status, took = timed_post(user, event)
        assert status == 503, "503 asks LINE to redeliver"
        assert took < 2, f"the webhook took {took:.2f} s to give up"
    assert reply_calls(line_api, last["replyToken"]) == []
    outage.up()
    assert not processed(app, last["webhookEventId"])
    assert state_of(app)[0] == "area"
    for _ in range(2):  # redelivered once more, as LINE may: acted on once
        assert user.post(redelivered(last)).status_code == 200
    assert count(app, Referral) == 1
    assert state_of(app) == ENDED
    assert len(reply_calls(line_api, last["replyToken"])) == 1
    assert "相談先" in user.text
    # And it recovered by itself: anyone else is served as usual.
    assert LineUser(user.client, line_api).follow()[-1] == "どなたについてのご相談ですか？"


def test_database_restart_between_events_goes_unnoticed(app, outage, line_api):
    user = LineUser(outage.app.test_client(), line_api)
    user.follow()
    outage.down()  # pooled connections die while idle...
    outage.up()  # ...and the database is back before the next event
    assert user.tap("ご本人")[0].startswith("年齢を教えてください")
    assert state_of(app) == ("age", {"subject": "self"})


def test_database_lost_midway_through_a_webhook_acts_on_each_event_once(
        app, outage, line_api, monkeypatch):
    users = [LineUser(outage.app.test_client(), line_api) for _ in range(2)]
    for user in users:
        user.follow()
    events = [tap_event(user, "ご本人") for user in users]
    store = conversations(outage.app)
    handle, handled = store.handle, []

    def lose_database_at_second_event(*args):
        if handled:
            outage.down()
        handled.append(args)
        return handle(*args)

    monkeypatch.setattr(store, "handle", lose_database_at_second_event)
    assert users[0].post(*events).status_code == 503
    monkeypatch.undo()
    outage.up()
    assert users[0].post(*map(redelivered, events)).status_code == 200
    for user, event in zip(users, events, strict=True):
        assert state_for(app, user) == ("age", {"subject": "self"})
        assert len(reply_calls(line_api, event["replyToken"])) == 1


pg_only = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                             reason="needs PostgreSQL: set TEST_DATABASE_URL (see README)")


@pg_only
def test_connection_cut_mid_event_answers_503_and_redelivery_counts_once(
        app, outage, line_api, monkeypatch):
    user = LineUser(outage.app.test_client(), line_api)
    answer_up_to_area(user)
    user.tap("県南")
    last = tap_event(user, "大仙市")
    store = conversations(outage.app)
    write = store.write

    def cut_then_write(conn, change):
        outage.down()  # the event was read and decided; its one write statement never lands
        write(conn, change)

    monkeypatch.setattr(store, "write", cut_then_write)
    assert user.post(last).status_code == 503
    monkeypatch.undo()
    outage.up()
    assert not processed(app, last["webhookEventId"])
    assert state_of(app) == ("area", {**AREA_ANSWERS, "region_shown": "県南"})
    assert count(app, Referral) == 0
    assert user.post(redelivered(last)).status_code == 200
    assert count(app, Referral) == 1
    assert "相談先" in user.text


HUNG_LIMIT = 4.0  # seconds; LINE gives a webhook about 2 (gunicorn.conf.py)


@pg_only
def test_hung_database_answers_503_in_time(app, outage, line_api):
    user = LineUser(outage.app.test_client(), line_api)
    user.follow()
    event = tap_event(user, "ご本人")
    outage.hang()
    statuses = []
    worker = threading.Thread(target=lambda: statuses.append(user.post(event).status_code))
    worker.start()
    worker.join(HUNG_LIMIT)
    hung = worker.is_alive()
    outage.down()  # frees a stuck connection attempt, so the thread ends either way
    worker.join()
    assert not hung, f"the webhook was still waiting for the database after {HUNG_LIMIT} s"
    assert statuses == [503]


# --- a worker killed mid-event ------------------------------------------------------------------

# A worker that dies at the worst moment: the event's writes are sent, the worker is killed
# before it answers. SQLite has not committed yet; PostgreSQL's one statement has.
DYING_WORKER = """
import json, os, signal, sys
from bot import create_app
from bot.conversations.store import conversations

job = json.load(sys.stdin)
app = create_app(job["settings"])
store = conversations(app)

def then_die(write):
    def write_then_die(conn, change):
        write(conn, change)
        os.kill(os.getpid(), signal.SIGKILL)
    return write_then_die

store.write = then_die(store.write)
app.test_client().post("/callback", data=job["body"], content_type="application/json",
                       headers={"X-Line-Signature": job["signature"]})
sys.exit("the worker lived through the event")
"""


def run_dying_worker(app, event: dict) -> subprocess.CompletedProcess:
    """Hand the event to a separate worker process on the same database that dies in it."""
    body = json.dumps({"destination": "U0", "events": [event]})
    job = {"settings": {key: app.config[key] for key in APP_SETTINGS},
           "body": body, "signature": sign(body)}
    return subprocess.run([sys.executable, "-c", DYING_WORKER], input=json.dumps(job),
                          text=True, capture_output=True, cwd=ROOT, timeout=120)


def test_worker_killed_mid_event_leaves_nothing_half_written(app, line_user, line_api,
                                                            database_url):
    answer_up_to_area(line_user)
    line_user.tap("県南")
    last = tap_event(line_user, "大仙市")
    worker = run_dying_worker(app, last)
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    if database_url.startswith("postgresql"):  # all of the event landed
        assert processed(app, last["webhookEventId"])
        assert state_of(app) == ENDED
        assert count(app, Referral) == 1
    else:  # none of it did
        assert not processed(app, last["webhookEventId"])
        assert state_of(app) == ("area", {**AREA_ANSWERS, "region_shown": "県南"})
        assert count(app, Referral) == 0
    # LINE got no answer, so it redelivers: either way the referral is counted once.
    assert line_user.post(redelivered(last)).status_code == 200
    assert count(app, Referral) == 1


# --- two workers at once ------------------------------------------------------------------------


@pytest.fixture
def two_servers(app, tmp_path):
    """Start two gunicorn servers, two OS processes on the test's database; yield their URLs."""
    # Two servers of one worker each, not one of two workers, so the two taps of a pair are
    # sure to meet in different processes; `app` has created the schema they share.
    env = {**os.environ, **{key: str(app.config[key]) for key in APP_SETTINGS},
           "TSUNAGU_TRUSTED_HOSTS": "127.0.0.1"}
    servers = []
    for n in range(2):
        url, log = f"http://127.0.0.1:{free_port()}", tmp_path / f"gunicorn{n}.log"
        command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
                   "-b", url.removeprefix("http://"), "wsgi:app"]
        with log.open("w") as out:  # the child keeps its own copy of the file
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT)
        servers.append((url, process, log))
    try:
        for url, process, log in servers:
            wait_until(functools.partial(serving, url, process, log), timeout=30, step=0.1)
        yield [url for url, _, _ in servers]
    finally:
        for _, process, _ in servers:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for _, process, _ in servers:
            process.wait(timeout=30)


def post_pair(urls: list[str], events: list[dict]) -> list[int]:
    """Post two events at the same moment, each to its own server; return the statuses."""
    statuses = [0, 0]
    barrier = threading.Barrier(2)

    def post(index: int) -> None:
        body = json.dumps({"destination": "U0", "events": [events[index]]}).encode()
        connection = http.client.HTTPConnection(urlsplit(urls[index]).netloc, timeout=30)
        connection.connect()  # connect first, so the two requests leave together
        barrier.wait()
        connection.request("POST", "/callback", body=body, headers={
            "Content-Type": "application/json", "X-Line-Signature": sign(body.decode())})
        statuses[index] = connection.getresponse().status
        connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


ERROR_SAYS = ("前の質問のボタン", "このご案内は終わっています")  # stale button, ended button
TAPS = [("ご本人", "age"), ("40〜44歳", "employment"), ("正社員", "single_parent"),
        ("いいえ", "hikikomori"), ("とくにない", "wish"), ("まずは話を聞いてほしい", "area"),
        ("県南", "area"), ("大仙市", "done")]
ROUNDS = 10


def answers_to(line_api, events: list[dict]) -> list[list[dict]]:
    """Wait for the reply to each event (a server may reply after its 200); return them."""
    def replies():
        found = [line_api.reply_for(event["replyToken"]) for event in events]
        return found if all(found) else None
    return wait_until(replies)


def double_tap(user: LineUser, urls: list[str], label: str) -> list[list]:
    """Tap a button of the newest reply twice at once, on two servers; return each tap's
    reply calls (an unanswered tap has none)."""
    data = user.button_data(label)
    taps = [user.event("postback", postback={"data": data}) for _ in range(2)]
    assert post_pair(urls, taps) == [200, 200]
    # Each server replies before it answers 200, so every reply call has been made by now.
    wait_until(lambda: any(user.api.reply_for(t["replyToken"]) for t in taps))
    calls = [reply_calls(user.api, t["replyToken"]) for t in taps]
    # Read the next buttons from the reply the person got.
    user.last_token = next(t for t, c in zip(taps, calls, strict=True) if c)["replyToken"]
    return calls


def test_same_person_on_two_workers_advances_once(app, two_servers, line_api):
    for done in range(ROUNDS):
        urls = two_servers if done % 2 else two_servers[::-1]
        user = LineUser(None, line_api)
        follows = [user.event("follow", follow={"isUnblocked": False}) for _ in range(2)]
        assert post_pair(urls, follows) == [200, 200]
        answers_to(line_api, follows)
        assert state_for(app, user) == ("subject", {})
        for label, after in TAPS:
            before = state_for(app, user)
            calls = double_tap(user, urls, label)
            assert state_for(app, user)[0] == after, f"round {done}: {label}"
            # A button tapped twice (an answer or a region) is one tap: one reply, and no
            # reply call at all for the other.
            assert before is not None
            assert sorted(map(len, calls)) == [0, 1], (label, calls)
            texts = [m.get("text", m.get("altText", ""))
                     for made in calls for call in made for m in call.body["messages"]]
            assert not [t for t in texts if t.startswith(ERROR_SAYS)], (label, texts)
        assert count(app, Referral) == done + 1, "one referral per finished conversation"
        assert state_for(app, user) == ENDED
