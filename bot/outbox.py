"""Replies waiting for LINE: a Redis stream the webhook fills and `tsunagu send-replies` empties.

With TSUNAGU_REDIS_URL set, the webhook stores an event, puts its reply here and answers LINE at
once; one or more sender processes post the replies. Redis keeps an entry until a sender has
posted it (consumer group, acknowledged after LINE answered), so a sender that dies mid-reply
leaves its entries to the next one. Without Redis, or when Redis fails, the webhook replies
itself before answering, as before.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal
import socket
import time

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext

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


def init_app(app: Flask) -> None:
    if app.config.get("REDIS_URL") and app.config.get("LINE_CONNECTED"):
        app.extensions["tsunagu.outbox"] = Outbox(app.config["REDIS_URL"],
                                                  app.config["REPLY_STREAM"])
    app.cli.add_command(send_replies_command)


@click.command("send-replies")
@click.option("--concurrency", default=200, show_default=True,
              help="replies in flight at once")
@click.option("--once", is_flag=True, help="send what is waiting, then exit")
@click.option("--take-over-after", default=ABANDONED_AFTER_MS / 1000, show_default=True,
              help="seconds after which replies another sender took and never finished are "
                   "taken over (it is presumed dead)")
@with_appcontext
def send_replies_command(concurrency: int, once: bool, take_over_after: float) -> None:
    """Post queued replies to LINE until stopped (SIGTERM or Ctrl-C)."""
    from bot.sender import Sender

    config = current_app.config
    if not config.get("REDIS_URL"):
        raise click.ClickException("TSUNAGU_REDIS_URL is not set: there is no reply queue.")
    if not config.get("LINE_CONNECTED"):
        raise click.ClickException("LINE is not connected: set LINE_CHANNEL_SECRET and "
                                   "LINE_CHANNEL_ACCESS_TOKEN.")
    sender = Sender(config["REDIS_URL"], config["LINE_API_BASE_URL"],
                    config["LINE_CHANNEL_ACCESS_TOKEN"], concurrency=concurrency,
                    consumer=f"{socket.gethostname()}-{os.getpid()}",
                    stream=config["REPLY_STREAM"],
                    abandoned_after_ms=int(take_over_after * 1000))
    # Everything loaded so far (the SDK's models above all) lives as long as the process:
    # keep it out of the garbage collector's full passes, which otherwise stall every reply
    # for up to ~150 ms (measured).
    gc.freeze()
    _event_loop_runner()(_run_until_stopped(sender, once))


def _event_loop_runner():
    """Return uvloop's runner when it is installed (less CPU per reply), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


async def _run_until_stopped(sender, once: bool) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sender.stop)
    await sender.run(once=once)
