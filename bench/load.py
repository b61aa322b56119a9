"""Closed-loop simulated people: each sends one webhook, reads the reply, then sends the next.

The driver runs in the same event loop as the LINE stand-in, so a person awaits the reply to
its reply token directly. People answer the questionnaire like the personas of
tests/dialogue/test_personas.py (tsunagu), or send as many text messages (the echo bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from bench.events import EventFactory, Webhook
from bench.stand_in import LineStandIn
from tests.support.personas import PERSONAS, Persona

GREETING = "こんにちは"


@dataclass
class LoadOptions:
    people: int = 50
    warmup: float = 5.0
    ramp: float = 1.0  # people start evenly spread over this many seconds of the warm-up
    duration: float = 30.0
    reply_wait: float = 3.0  # after the webhook's 200, how long the reply may still take
    request_timeout: float = 10.0
    drain: float = 15.0  # after the window, how long people may take to finish what they sent
    keepalive: bool = True  # reuse connections (False: a new connection per webhook)


@dataclass
class LoadResult:
    duration: float
    events: int = 0  # events sent in the window and answered 200 with their reply
    webhook: list[float] = field(default_factory=list)  # seconds, send → HTTP response
    reply: list[float] = field(default_factory=list)  # seconds, send → reply at the stand-in
    errors: Counter = field(default_factory=Counter)  # in the window
    warmup_errors: Counter = field(default_factory=Counter)
    finished: int = 0  # conversations whose last event was in the window
    abandoned: int = 0  # conversations given up because of an error, in the window
    client_cpu: float = 0.0  # seconds of this process's CPU in the window

    @property
    def rate(self) -> float:
        return self.events / self.duration

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Probe:
    """Hooks around the measured window; the default does nothing."""

    def begin(self) -> None:
        """Start measuring."""

    def sample(self) -> None:
        """Take a periodic sample during the window."""

    def end(self) -> None:
        """Stop measuring."""


class Driver:
    """Drive one bot with many people for a warm-up and a measured window."""

    def __init__(self, url: str, stand_in: LineStandIn, secret: str, options: LoadOptions,
                 echo: bool = False) -> None:
        self.url = url.rstrip("/") + "/callback"
        self.stand_in = stand_in
        self.factory = EventFactory(secret)
        self.options = options
        self.echo = echo
        self.result = LoadResult(options.duration)
        self.window = (float("inf"), float("inf"))
        self.session: aiohttp.ClientSession | None = None

    async def run(self, probe: Probe | None = None) -> LoadResult:
        """Warm up, measure for the set duration, let people finish, return the result."""
        probe = probe or Probe()
        opts = self.options
        reuse = {"keepalive_timeout": 3} if opts.keepalive else {"force_close": True}
        connector = aiohttp.TCPConnector(limit=opts.people, **reuse)
        timeout = aiohttp.ClientTimeout(total=opts.request_timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            self.session = session
            people = [asyncio.create_task(self._person(i)) for i in range(opts.people)]
            await asyncio.sleep(opts.warmup)
            await self._measure(probe)
            await self._finish(people)
        probe.end()
        return self.result

    async def _measure(self, probe: Probe) -> None:
        start = time.perf_counter()
        self.window = (start, start + self.options.duration)
        self.stand_in.reset_counts()
        probe.begin()
        cpu = time.process_time()
        while time.perf_counter() < self.window[1]:
            await asyncio.sleep(min(1.0, max(0.0, self.window[1] - time.perf_counter())))
            probe.sample()
        self.result.client_cpu = time.process_time() - cpu

    async def _finish(self, people: list[asyncio.Task]) -> None:
        _, pending = await asyncio.wait(people, timeout=self.options.drain)
        for task in pending:
            task.cancel()
        for task in people:
            with contextlib.suppress(asyncio.CancelledError):
                if (error := await task) is not None:
                    raise error
        errors = self.result.errors
        if pending:
            errors["person still waiting at the end"] += len(pending)
        if self.stand_in.unexpected:
            errors["reply to an unknown token"] += self.stand_in.unexpected
        if self.stand_in.duplicates:
            errors["duplicate reply"] += self.stand_in.duplicates

    def _stopping(self) -> bool:
        return time.perf_counter() >= self.window[1]

    async def _person(self, number: int) -> Exception | None:
        """Play conversations one after another until the window closes."""
        play = self._echo if self.echo else self._persona
        turn = number
        await asyncio.sleep(self.options.ramp * number / self.options.people)
        try:
            while not self._stopping():
                await play(PERSONAS[turn % len(PERSONAS)])
                turn += self.options.people
        except Exception as err:  # noqa: BLE001 - handed back to run(), which raises it
            return err
        return None

    async def _persona(self, persona: Persona) -> None:
        """Follow, then answer every question like the persona; count a finished referral."""
        user = self.factory.user_id()
        messages, sent = await self._send(self.factory.follow(user))
        for how, value in persona.answers:
            if messages is None or self._stopping():
                return self._abandon(messages, sent)
            webhook = self._answer(user, how, value, messages, sent)
            if webhook is None:
                return self._abandon(None, sent)
            messages, sent = await self._send(webhook)
        if messages is not None and not any(m.get("type") == "flex" for m in messages):
            self._error("no referral card at the end", sent)
            messages = None
        self._conclude(messages, sent)

    def _answer(self, user: str, how: str, value: str, messages: list[dict],
                sent: float) -> Webhook | None:
        if how == "say":
            return self.factory.text(user, value)
        items = (messages[-1].get("quickReply") or {}).get("items", []) if messages else []
        for item in items:
            if item["action"].get("label") == value:
                return self.factory.postback(user, item["action"]["data"])
        self._error(f"no button {value!r}", sent)
        return None

    async def _echo(self, persona: Persona) -> None:
        """Send as many text messages as the persona sends events; check each echo."""
        user = self.factory.user_id()
        messages, sent = None, 0.0
        for text in [GREETING, *(value for _, value in persona.answers)]:
            if self._stopping():
                return self._abandon(messages, sent)
            messages, sent = await self._send(self.factory.text(user, text))
            if messages is None:
                return self._abandon(None, sent)
            if messages[0].get("text") != text:
                self._error("wrong echo", sent)
                return self._abandon(None, sent)
        self._conclude(messages, sent)

    def _abandon(self, messages: list[dict] | None, sent: float) -> None:
        if messages is None and self._in_window(sent):
            self.result.abandoned += 1

    def _conclude(self, messages: list[dict] | None, sent: float) -> None:
        if messages is None:
            self._abandon(None, sent)
        elif self._in_window(sent):
            self.result.finished += 1

    def _in_window(self, moment: float) -> bool:
        return self.window[0] <= moment < self.window[1]

    def _error(self, kind: str, sent: float) -> None:
        counter = self.result.errors if sent >= self.window[0] else self.result.warmup_errors
        counter[kind] += 1

    async def _send(self, webhook: Webhook) -> tuple[list[dict] | None, float]:
        """Post one webhook, wait for its reply; return the reply's messages and send time."""
        waiter = self.stand_in.expect(webhook.token)
        sent = time.perf_counter()
        status = await self._post(webhook)
        answered = time.perf_counter()
        if status != 200:
            self.stand_in.forget(webhook.token)
            self._error(f"webhook answered {status}", sent)
            return None, sent
        try:
            reply = await asyncio.wait_for(waiter, self.options.reply_wait)
        except TimeoutError:
            self.stand_in.forget(webhook.token)
            self._error("reply never reached LINE", sent)
            return None, sent
        self._record(sent, answered - sent, reply.arrived - sent)
        return reply.body.get("messages", []), sent

    async def _post(self, webhook: Webhook) -> int | str:
        try:
            async with self.session.post(self.url, data=webhook.body,
                                         headers=webhook.headers) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            return type(err).__name__

    def _record(self, sent: float, webhook: float, reply: float) -> None:
        if self._in_window(sent):
            self.result.events += 1
            self.result.webhook.append(webhook)
            self.result.reply.append(reply)


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of values (nan if empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


async def drive(url: str, stand_in: LineStandIn, secret: str, options: LoadOptions,
                echo: bool = False, probe: Probe | None = None) -> LoadResult:
    """Drive one bot; see Driver."""
    return await Driver(url, stand_in, secret, options, echo).run(probe)

