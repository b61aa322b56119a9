"""A cheap local stand-in of LINE's Messaging API: answers replies after a set latency.

It does no schema validation (tests/line_api.py does that); it records, per reply token, the
moment the reply arrived and its body, and hands both to whoever awaits that token.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from aiohttp import web

REPLY_PATH = "/v2/bot/message/reply"


@dataclass(frozen=True)
class Reply:
    arrived: float  # time.perf_counter() when the request reached the stand-in
    body: dict


class LineStandIn:
    """Serve POST /v2/bot/message/reply on 127.0.0.1; every answer waits `latency` seconds."""

    def __init__(self, latency: float = 0.1) -> None:
        self.latency = latency
        self.url = ""
        self.waiters: dict[str, asyncio.Future] = {}
        self.answered: set[str] = set()
        self.unexpected = 0  # replies to tokens nobody was waiting for
        self.duplicates = 0  # second replies to one token
        self.other_calls = 0  # anything but a reply
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start listening on a free port of 127.0.0.1; return the base URL."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post(REPLY_PATH, self._reply)
        app.router.add_route("*", "/{tail:.*}", self._other)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def expect(self, token: str) -> asyncio.Future:
        """Return a future that gets the Reply sent with this reply token."""
        future = asyncio.get_running_loop().create_future()
        self.waiters[token] = future
        return future

    def forget(self, token: str) -> None:
        """Stop waiting for a reply token."""
        self.waiters.pop(token, None)

    def reset_counts(self) -> None:
        """Zero the counters of unexpected calls (at the start of a measurement)."""
        self.unexpected = self.duplicates = self.other_calls = 0
        self.answered.clear()

    async def _reply(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = json.loads(await request.read())
        self._record(body.get("replyToken", ""), Reply(arrived, body))
        await asyncio.sleep(self.latency)
        sent = [{"id": str(i), "quoteToken": "q"} for i in range(len(body.get("messages", ())))]
        return web.json_response({"sentMessages": sent})

    def _record(self, token: str, reply: Reply) -> None:
        if token in self.answered:
            self.duplicates += 1
            return
        self.answered.add(token)
        future = self.waiters.pop(token, None)
        if future is None:
            self.unexpected += 1
        elif not future.done():
            future.set_result(reply)

    async def _other(self, request: web.Request) -> web.Response:
        self.other_calls += 1
        await asyncio.sleep(self.latency)
        return web.json_response({})
