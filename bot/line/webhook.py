"""The LINE webhook: verify, hand each event to its handler, reply, answer OK."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from flask import Blueprint, Flask, abort, current_app, g, request
from sqlalchemy.exc import OperationalError

from bot.content.source import LIVE, STAGING
from bot.conversations import retention
from bot.conversations.keys import user_key
from bot.conversations.retention import EVENT_MEMORY
from bot.conversations.store import Decision, Stored, conversations
from bot.db.database import database
from bot.dialogue.engine import Follow, OtherMessage, Postback, Text
from bot.line.client import LineClient, line_client
from bot.line.outbox import outbox
from bot.line.runtime import Runtime, runtimes
from bot.referrals.record import record

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)
Handler = Callable[[dict], None]
HANDLERS: dict[str, Handler] = {}
# An event is acted on only while its id is surely remembered (the replay of a captured body
# is refused by its id until then, and by its age after): a day less than the memory, which
# leaves LINE's redeliveries and any clock difference between LINE and us a day to spare.
MAX_EVENT_AGE_MS = int((EVENT_MEMORY - dt.timedelta(days=1)).total_seconds() * 1000)


def handles(event_type: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of one webhook event type."""
    def register(func: Handler) -> Handler:
        HANDLERS[event_type] = func
        return func
    return register


def _events(body: bytes) -> list:
    try:
        payload = json.loads(body)
        events = payload["events"]
    except (ValueError, KeyError, TypeError, RecursionError):
        abort(400, "malformed webhook body")
    if not isinstance(events, list):
        abort(400, "malformed webhook body")
    return events


@dataclass(frozen=True)
class Channel:
    """A LINE account the bot answers: the real one, or the editors' private staging one."""

    name: str  # LIVE or STAGING: which version its new conversations start on
    secret: bytes = field(repr=False)  # the channel secret: it signs every webhook body
    client: LineClient | None = None  # None: the app's own LINE client (or the reply queue)

    @property
    def staging(self) -> bool:
        return self.name == STAGING

    def signed(self, body: bytes, signature: str) -> bool:
        """Tell whether LINE signed these very bytes (HMAC-SHA256, compared in constant time)."""
        expected = base64.b64encode(hmac.new(self.secret, body, hashlib.sha256).digest())
        return hmac.compare_digest(expected, signature.encode("latin-1", "replace"))

    def key(self, user_id: str) -> str:
        """Return the keyed hash of a person on this account (staging's never meet real ones)."""
        prefix = "staging:" if self.staging else ""
        return user_key(current_app.config["TSUNAGU_SECRET_KEY"], prefix + user_id)


@bp.post("/callback")
def receive():
    if not current_app.config["LINE_CONNECTED"]:
        return {"message": "LINE is not connected; see the README to connect it."}, 503
    return _receive(current_app.extensions[_CHANNELS][LIVE])


@bp.post("/callback/staging")
def receive_staging():
    channel = current_app.extensions[_CHANNELS].get(STAGING)
    if channel is None:
        return {"message": "The staging account is not set up (LINE_STAGING_CHANNEL_SECRET "
                           "and LINE_STAGING_CHANNEL_ACCESS_TOKEN)."}, 404
    return _receive(channel)


def _receive(channel: Channel):
    body = request.get_data()
    if not channel.signed(body, request.headers.get("X-Line-Signature", "")):
        abort(400, "invalid signature")
    g.channel = channel
    g.reply_deadline = time.monotonic() + current_app.config["LINE_REPLY_BUDGET"]
    for event in _events(body):
        dispatch(event)
    return "OK"


@bp.get("/healthz")
def check_health():
    queue = outbox()
    if queue is None:
        return {"status": "ok"}
    # A count that keeps growing means no `tsunagu send-replies` is running.
    return {"status": "ok", "replies_waiting": queue.waiting()}


@bp.errorhandler(OperationalError)
def report_database_down(err):
    # 503 tells LINE to redeliver later; the event was not acted on.
    log.error("database unavailable: %s", type(err).__name__)
    return {"message": "temporarily unavailable"}, 503


def _user_id(event: dict) -> str | None:
    source = event.get("source")
    if not isinstance(source, dict) or source.get("type") != "user":
        return None  # groups and rooms are not for us
    user_id = source.get("userId")
    return user_id if isinstance(user_id, str) and user_id else None


def dispatch(event) -> None:
    """Hand an event from one person to its handler; ignore everything else."""
    if not isinstance(event, dict):
        return
    kind = event.get("type")
    handler = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None or _user_id(event) is None:
        return  # beacons, joins and unknown types are not for us
    if event.get("mode") == "standby":
        return  # another channel is answering this person
    if too_old(event):
        log.info("ignored an event older than %d days", MAX_EVENT_AGE_MS // 86_400_000)
        return
    handler(event)


def too_old(event: dict, now_ms: int | None = None) -> bool:
    """Tell whether an event is past the age at which its id is surely remembered."""
    stamp = event.get("timestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        return True  # LINE always says when; an event that does not cannot be aged
    return (now_ms or now_in_ms()) - stamp > MAX_EVENT_AGE_MS


def now_in_ms() -> int:
    """Return the time as LINE gives it in events: milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def _decide(runtime_of, inp, staging: bool = False) -> Callable[[Stored | None], Decision]:
    """Return the decision of one input, made with the bundle the conversation started on."""
    def decide(stored: Stored | None) -> Decision:
        runtime: Runtime = runtime_of(stored.bundle_id if stored else None)
        outcome = runtime.dialogue.respond(stored and (stored.state, stored.answers), inp,
                                           stored and stored.since)
        found = outcome.referral
        referral = found and record(runtime.content.flow, outcome.referral_answers,
                                    [p.id for p in found.programmes],
                                    [o.id for o in found.offices], staging=staging)
        # Editors' tries on the staging account move no counter of the real funnel.
        return Decision(outcome.state, outcome.answers, runtime.content.bundle_id,
                        outcome.changed, referral, payload=(runtime, outcome.says),
                        counts=() if staging else outcome.counts)
    return decide


def act(key: str, event_id: str | None, inp, channel: str = LIVE) -> Decision | None:
    """Decide one person's input and store it, once; None if the event was handled before."""
    app = current_app
    runtime_of = partial(runtimes(app).for_bundle, channel=channel)
    return conversations(app).handle(key, event_id,
                                     _decide(runtime_of, inp, staging=channel == STAGING))


def _respond(event: dict, inp) -> None:
    app = current_app
    channel: Channel = g.channel
    key = channel.key(_user_id(event))
    event_id = event.get("webhookEventId")
    decision = act(key, event_id if isinstance(event_id, str) else None, inp, channel.name)
    token = event.get("replyToken")
    if decision is None or not isinstance(token, str) or not token:
        return
    runtime, says = decision.payload
    if not says:  # a double tap (the first reply is enough), or a handoff's silence
        log.info("no reply (a double tap, or silent while a counselor answers)")
        return
    messages = runtime.renderer.render(says)
    if channel.client is not None:  # the staging account: few people, replied to at once
        channel.client.reply(token, messages, deadline=g.reply_deadline)
        return
    queue = outbox(app)
    if queue is not None and queue.put(token, messages):
        return  # a sender posts it; the webhook need not wait for LINE's reply API
    # Without the queue, the reply goes out before the webhook answers, as in the SDK's
    # examples. All events of one webhook share one time budget, so LINE gets its answer
    # in time even when its reply API hangs.
    line_client(app).reply(token, messages, deadline=g.reply_deadline)


@handles("follow")
def on_follow(event: dict) -> None:
    _respond(event, Follow())


@handles("unfollow")
def on_unfollow(event: dict) -> None:
    retention.forget(database(), g.channel.key(_user_id(event)))


@handles("message")
def on_message(event: dict) -> None:
    message = event.get("message")
    if not isinstance(message, dict):
        return
    text = message.get("text")
    if message.get("type") == "text" and isinstance(text, str):
        _respond(event, Text(text))
    else:
        _respond(event, OtherMessage())


@handles("postback")
def on_postback(event: dict) -> None:
    postback = event.get("postback")
    data = postback.get("data") if isinstance(postback, dict) else None
    if isinstance(data, str):
        _respond(event, Postback(data))


_CHANNELS = "tsunagu.channels"


def init_app(app: Flask) -> None:
    config = app.config
    channels = {LIVE: Channel(LIVE, (config["LINE_CHANNEL_SECRET"] or "-").encode())}
    if config.get("LINE_STAGING_CONNECTED"):
        client = LineClient(config["LINE_API_BASE_URL"],
                            config["LINE_STAGING_CHANNEL_ACCESS_TOKEN"],
                            budget=config["LINE_REPLY_BUDGET"], pool_size=4)
        channels[STAGING] = Channel(STAGING,
                                    config["LINE_STAGING_CHANNEL_SECRET"].encode(),
                                    client)
    app.extensions[_CHANNELS] = channels
    app.register_blueprint(bp)
