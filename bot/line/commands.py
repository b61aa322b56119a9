"""The LINE room's command: `tsunagu send-replies`, the reply queue's sender service."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot.line.outbox import ABANDONED_AFTER_MS


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
    from bot.line.sender import Sender  # the SDK's async client takes a second to import

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


def init_app(app: Flask) -> None:
    """Register `tsunagu send-replies`."""
    app.cli.add_command(send_replies_command)
