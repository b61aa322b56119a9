"""Replies waiting for LINE: a Redis stream the webhook fills and `tsunagu send-replies` empties.

With TSUNAGU_REDIS_URL set, the webhook stores an event, puts its reply here and answers LINE at
once; one or more sender processes post the replies. Redis keeps an entry until a sender has
posted it (consumer group, acknowledged after LINE answered), so a sender that dies mid-reply
leaves its entries to the next one. Without Redis, or when Redis fails, the webhook replies
itself before answering, as before.
"""

from __future__ import annotations

import json
import logging
import time

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

STREAM = "tsunagu:replies"
GROUP = "senders"
# LINE takes a reply token for about a minute; a reply older than this is not sent.
TOKEN_LIFE = 50.0
# An entry a sender took but did not acknowledge for this long is taken over by another one.
ABANDONED_AFTER_MS = 10_000


class Outbox:
    """Put replies on the Redis stream; say False when Redis cannot take them."""

    def __init__(self, url: str, stream: str = STREAM, maxlen: int = 100_000) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5,
                                          max_connections=256)
        self.stream = stream
        self.maxlen = maxlen

    def put(self, reply_token: str, messages: list[dict]) -> bool:
        """Queue one reply; return whether Redis has it."""
        fields = {"token": reply_token, "messages": json.dumps(messages, ensure_ascii=False),
                  "expires": f"{time.time() + TOKEN_LIFE:.3f}"}
        try:
            # Entries are deleted once sent; the cap only bounds a backlog nobody sends.
            self.redis.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)
            return True
        except redis.RedisError as err:
            log.warning("reply queue unavailable (%s); replying directly", type(err).__name__)
            return False

    def waiting(self) -> int | None:
        """Return how many replies wait for a sender (None if Redis cannot say)."""
        try:
            return self.redis.xlen(self.stream)
        except redis.RedisError:
            return None


_KEY = "tsunagu.outbox"


def outbox(app: Flask | None = None) -> Outbox | None:
    """Return the app's reply queue, or None when replies go out from the webhook."""
    return (app or current_app).extensions.get(_KEY)


def init_app(app: Flask) -> None:
    if app.config.get("REDIS_URL") and app.config.get("LINE_CONNECTED"):
        app.extensions[_KEY] = Outbox(app.config["REDIS_URL"], app.config["REPLY_STREAM"])
