"""Post the replies queued in Redis to LINE, many at once, each acknowledged after LINE answered."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
import urllib.request

import aiohttp
import redis.asyncio as aioredis
from linebot.v3.messaging import AsyncApiClient, Configuration
from linebot.v3.messaging.exceptions import ApiException
from redis.exceptions import RedisError, ResponseError

from bot.line.client import reply_call, worth_retrying
from bot.line.outbox import ABANDONED_AFTER_MS, GROUP, STREAM

log = logging.getLogger(__name__)


def _line_client(config: Configuration) -> AsyncApiClient:
    """Return the SDK's async client, reading proxy settings once instead of per request."""
    # The SDK's aiohttp session trusts the environment, which makes aiohttp look up proxies
    # and ~/.netrc in a thread for every request: half the sender's CPU. Read them once.
    config.proxy = config.proxy or urllib.request.getproxies().get(
        urllib.parse.urlsplit(config.host).scheme)
    client = AsyncApiClient(config)
    rest = client.rest_client
    connector = rest.pool_manager.connector
    rest.pool_manager.detach()  # keep its connector (pool size, TLS settings) for ours
    rest.pool_manager = aiohttp.ClientSession(connector=connector, trust_env=False)
    return client


class Sender:
    """Read replies from the stream's consumer group and post them with the SDK's async client."""

    def __init__(self, redis_url: str, line_url: str, access_token: str, *,
                 concurrency: int = 200, consumer: str = "sender", attempts: int = 4,
                 stream: str = STREAM, group: str = GROUP,
                 abandoned_after_ms: int = ABANDONED_AFTER_MS,
                 request_timeout: float = 10.0, backoff: float = 0.5) -> None:
        self.redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2)
        self.line_config = Configuration(host=line_url, access_token=access_token)
        self.line_config.connection_pool_maxsize = concurrency
        self.concurrency = concurrency
        self.consumer = consumer
        self.attempts = attempts
        self.stream, self.group = stream, group
        self.abandoned_after_ms = abandoned_after_ms
        self.request_timeout = request_timeout
        self.backoff = backoff  # seconds before the 1st retry; 2x before the 2nd, ...
        self.gather = 0.005  # seconds between reads while busy
        self.ack_every = 0.1  # seconds between acknowledgements while busy
        self.last_ack = 0.0
        self.sent: list[bytes] = []  # entry ids to acknowledge and delete
        self.sending: dict[bytes, asyncio.Task] = {}  # entry id -> the task posting it
        self.stopping = False
        self.joined = False  # whether the consumer group is known to exist
        self.client: AsyncApiClient | None = None

    def stop(self) -> None:
        """Finish the replies in flight, then return from run()."""
        self.stopping = True

    async def run(self, once: bool = False, reclaim_every: float = 5.0) -> None:
        """Send replies until stop() is called (with once=True: until none are waiting)."""
        self.client = _line_client(self.line_config)
        try:
            next_reclaim = 0.0
            while not self.stopping:
                taken = 0
                if time.monotonic() >= next_reclaim:
                    taken += await self._reclaim()
                    next_reclaim = time.monotonic() + reclaim_every
                taken += await self._take_new(block_ms=50 if once else 500)
                if once and not taken and not self.sending:
                    break
                await self._acknowledge(force=once)
                # Each Redis round trip costs a system call or two: let a few replies gather
                # (a few ms of latency) rather than read and acknowledge them one by one.
                await asyncio.sleep(0 if once else self.gather)
            if self.sending:
                await asyncio.wait(list(self.sending.values()), timeout=30)
            await self._acknowledge(force=True)
        finally:
            await self.client.close()
            await self.redis.aclose()

    async def _join_group(self) -> None:
        """Create the stream and its consumer group unless they exist."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise
        self.joined = True

    async def _redis_away(self, err: RedisError) -> None:
        """Wait a moment after a Redis error; join the group again if it was lost."""
        if isinstance(err, ResponseError) and "NOGROUP" in str(err):
            self.joined = False  # the stream was deleted (e.g. Redis flushed): start again
            return
        log.warning("reply queue unavailable (%s); trying again", type(err).__name__)
        await asyncio.sleep(1.0)

    async def _take_new(self, block_ms: int) -> int:
        """Start sending new entries; return how many."""
        room = self.concurrency - len(self.sending)
        if room <= 0:
            await asyncio.wait(list(self.sending.values()),
                               return_when=asyncio.FIRST_COMPLETED)
            return 0
        try:
            if not self.joined:
                await self._join_group()
            answer = await self.redis.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                                 count=room, block=block_ms)
        except RedisError as err:
            await self._redis_away(err)
            return 0
        return sum(self._start(entries) for _stream, entries in answer or [])

    async def _reclaim(self) -> int:
        """Take over entries another sender took and never acknowledged (it died)."""
        try:
            if not self.joined:
                await self._join_group()
            if self.sending:
                # Claiming our own entries again resets their idle time: a reply that is slow
                # (LINE slow, retries) must not look abandoned to the other senders.
                await self.redis.xclaim(self.stream, self.group, self.consumer, 0,
                                        list(self.sending), justid=True)
            answer = await self.redis.xautoclaim(self.stream, self.group, self.consumer,
                                                 self.abandoned_after_ms, count=self.concurrency)
        except RedisError:
            return 0  # _take_new reports Redis being away and joins again
        return self._start(answer[1])

    def _start(self, entries) -> int:
        started = 0
        for entry_id, fields in entries:
            if entry_id in self.sending:
                continue  # already on its way
            if not fields:
                self.sent.append(entry_id)  # trimmed away meanwhile
                continue
            task = asyncio.create_task(self._send(entry_id, fields))
            self.sending[entry_id] = task
            task.add_done_callback(lambda _, entry_id=entry_id: self.sending.pop(entry_id))
            started += 1
        return started

    async def _acknowledge(self, force: bool = False) -> None:
        """Acknowledge and delete sent entries, in batches (now if force)."""
        due = time.monotonic() >= self.last_ack + self.ack_every
        if not self.sent or not (force or due or len(self.sent) >= 100):
            return
        self.last_ack = time.monotonic()
        done, self.sent = self.sent, []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.xack(self.stream, self.group, *done)
                pipe.xdel(self.stream, *done)
                await pipe.execute()
        except RedisError as err:
            # Unacknowledged entries are sent again later; LINE refuses a used reply token.
            log.warning("could not acknowledge %d replies (%s)", len(done), type(err).__name__)

    async def _send(self, entry_id: bytes, fields: dict) -> None:
        try:
            body = {"replyToken": fields[b"token"].decode(),
                    "messages": json.loads(fields[b"messages"])}
            expires = float(fields[b"expires"])
        except (KeyError, ValueError):
            log.error("dropped a malformed reply entry")
            self.sent.append(entry_id)
            return
        try:
            await self._post(body, expires)
        except Exception:  # noqa: BLE001 - a bug in one reply must not stop the others
            log.exception("could not send a reply")
        self.sent.append(entry_id)

    async def _post(self, body: dict, expires: float) -> bool:
        """Post one reply, retrying passing failures a few times while its token lives."""
        for attempt in range(1, self.attempts + 1):
            left = expires - time.time()
            if left <= 0.05:
                log.error("a reply's token expired before LINE took it")
                return False
            try:
                timeout = aiohttp.ClientTimeout(total=min(left, self.request_timeout))
                await self.client.call_api(**reply_call(body, timeout))
                return True
            except ApiException as err:
                if not worth_retrying(err, attempt):
                    return False
            except (TimeoutError, aiohttp.ClientError) as err:
                log.warning("LINE did not answer (attempt %d): %s", attempt, type(err).__name__)
            await asyncio.sleep(min(self.backoff * attempt, max(0.0, expires - time.time())))
        log.error("gave up on a reply after %d attempts", self.attempts)
        return False

