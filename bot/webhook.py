"""The LINE webhook: verify, hand each event to its handler, answer OK."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, abort, current_app, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)
from sqlalchemy.exc import OperationalError

from bot import conversation
from bot.engine import Engine, Follow, OtherMessage, Postback, Text
from bot.identity import user_key
from bot.replies import Renderer

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)
HANDLERS: dict[type, callable] = {}


def handles(event_type: type):
    """Register a function as the handler of one webhook event type."""
    def register(func):
        HANDLERS[event_type] = func
        return func
    return register


@bp.post("/callback")
def receive():
    if not current_app.config["LINE_CONNECTED"]:
        return {"message": "LINE is not connected; see the README to connect it."}, 503
    parser: WebhookParser = current_app.extensions["tsunagu.parser"]
    try:
        events = parser.parse(request.get_data(as_text=True),
                              request.headers.get("X-Line-Signature", ""))
    except InvalidSignatureError:
        abort(400, "invalid signature")
    except (ValueError, KeyError, TypeError):
        abort(400, "malformed webhook body")
    for event in events:
        dispatch(event)
    return "OK"


@bp.get("/healthz")
def check_health():
    return {"status": "ok"}


@bp.errorhandler(OperationalError)
def report_database_down(err):
    # 503 tells LINE to redeliver later; the event was not acted on.
    log.error("database unavailable: %s", type(err).__name__)
    return {"message": "temporarily unavailable"}, 503


def dispatch(event: Event) -> None:
    """Hand an event from one person to its handler; ignore everything else."""
    handler = HANDLERS.get(type(event))
    if handler is None or not isinstance(event.source, UserSource):
        return  # groups, rooms, beacons and unknown types are not for us
    if getattr(event, "mode", None) is not None and event.mode.value == "standby":
        return  # another channel is answering this person
    handler(event)


def _respond(event: Event, inp) -> None:
    app = current_app
    key = user_key(app.config["TSUNAGU_SECRET_KEY"], event.source.user_id)
    outcome = conversation.handle(app.extensions["tsunagu.engine"], key,
                                  event.webhook_event_id, inp)
    if outcome is None or not getattr(event, "reply_token", None):
        return
    messages = app.extensions["tsunagu.renderer"].render(outcome.says)
    app.extensions["tsunagu.line"].reply(event.reply_token, messages)


@handles(FollowEvent)
def on_follow(event: FollowEvent) -> None:
    _respond(event, Follow())


@handles(UnfollowEvent)
def on_unfollow(event: UnfollowEvent) -> None:
    conversation.forget(user_key(current_app.config["TSUNAGU_SECRET_KEY"],
                                 event.source.user_id))


@handles(MessageEvent)
def on_message(event: MessageEvent) -> None:
    if isinstance(event.message, TextMessageContent):
        _respond(event, Text(event.message.text))
    else:
        _respond(event, OtherMessage())


@handles(PostbackEvent)
def on_postback(event: PostbackEvent) -> None:
    _respond(event, Postback(event.postback.data))


def init_app(app: Flask) -> None:
    content = app.extensions["tsunagu.content"]
    app.extensions["tsunagu.engine"] = Engine(content)
    app.extensions["tsunagu.renderer"] = Renderer(content)
    app.extensions["tsunagu.parser"] = WebhookParser(app.config["LINE_CHANNEL_SECRET"] or "-")
    app.register_blueprint(bp)
