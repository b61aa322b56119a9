"""The LINE webhook: verify, hand each event to its handler, reply, answer OK."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, g, request
from linebot.v3 import SignatureValidator
from sqlalchemy.exc import OperationalError

from bot import conversation
from bot.engine import Engine, Follow, OtherMessage, Postback, Text
from bot.identity import user_key
from bot.replies import Renderer

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)
Handler = Callable[[dict], None]
HANDLERS: dict[str, Handler] = {}


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


@bp.post("/callback")
def receive():
    if not current_app.config["LINE_CONNECTED"]:
        return {"message": "LINE is not connected; see the README to connect it."}, 503
    body = request.get_data()
    validator: SignatureValidator = current_app.extensions["tsunagu.signature"]
    if not validator.validate(body.decode("utf-8", "replace"),
                              request.headers.get("X-Line-Signature", "")):
        abort(400, "invalid signature")
    g.reply_deadline = time.monotonic() + current_app.config["LINE_REPLY_BUDGET"]
    for event in _events(body):
        dispatch(event)
    return "OK"


@bp.get("/healthz")
def check_health():
    outbox = current_app.extensions.get("tsunagu.outbox")
    if outbox is None:
        return {"status": "ok"}
    # A count that keeps growing means no `tsunagu send-replies` is running.
    return {"status": "ok", "replies_waiting": outbox.waiting()}


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
    handler(event)


def _respond(event: dict, inp) -> None:
    app = current_app
    key = user_key(app.config["TSUNAGU_SECRET_KEY"], _user_id(event))
    event_id = event.get("webhookEventId")
    outcome = conversation.handle(app.extensions["tsunagu.engine"], key,
                                  event_id if isinstance(event_id, str) else None, inp)
    token = event.get("replyToken")
    if outcome is None or not isinstance(token, str) or not token:
        return
    messages = app.extensions["tsunagu.renderer"].render(outcome.says)
    outbox = app.extensions.get("tsunagu.outbox")
    if outbox is not None and outbox.put(token, messages):
        return  # a sender posts it; the webhook need not wait for LINE's reply API
    # Without the queue, the reply goes out before the webhook answers, as in the SDK's
    # examples. All events of one webhook share one time budget, so LINE gets its answer
    # in time even when its reply API hangs.
    app.extensions["tsunagu.line"].reply(token, messages, deadline=g.reply_deadline)


@handles("follow")
def on_follow(event: dict) -> None:
    _respond(event, Follow())


@handles("unfollow")
def on_unfollow(event: dict) -> None:
    conversation.forget(user_key(current_app.config["TSUNAGU_SECRET_KEY"], _user_id(event)))


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


def init_app(app: Flask) -> None:
    content = app.extensions["tsunagu.content"]
    app.extensions["tsunagu.engine"] = Engine(content)
    app.extensions["tsunagu.renderer"] = Renderer(content)
    app.extensions["tsunagu.signature"] = SignatureValidator(
        app.config["LINE_CHANNEL_SECRET"] or "-")
    app.register_blueprint(bp)
