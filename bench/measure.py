"""Measure one target: fresh database, gunicorn, load, and the server's CPU and memory."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import databases
from bench.load import LoadOptions, LoadResult, Probe, drive
from bench.servers import (
    BIN,
    SECRET,
    SHIPPED_CONF,
    Gunicorn,
    Target,
    bot_env,
    database_cpu_seconds,
    empty_bench_redis,
    redis_cpu_seconds,
    revision,
)
from bench.stand_in import LineStandIn


@dataclass
class Settings:
    options: LoadOptions
    workdir: Path
    pg_admin_url: str = databases.PG_ADMIN_URL
    profile_dir: Path | None = None  # record py-spy profiles of the workers here
    profile_mode: str = "gil"  # gil: GIL holders; cpu: running threads; wall: all threads
    noise_limit: float = 0.25  # cores other programs may use during a measurement
    quiet_wait: float = 300.0  # seconds to wait for them to calm down before measuring
    attempts: int = 3  # measurements of a target at most, while others were too busy
    gunicorn_conf: Path = SHIPPED_CONF


@dataclass
class Measurement:
    target: Target
    load: LoadResult
    window: float = 0.0  # seconds from the window's start until people had finished
    server_cpu: float = 0.0  # seconds, gunicorn master + workers
    database_cpu: float | None = None  # seconds, the whole PostgreSQL server
    machine_busy: float = 0.0  # seconds of CPU busy on the whole machine
    rss: list[int] = field(default_factory=list)  # bytes per worker at the end
    peak_rss: int = 0  # largest worker RSS seen during the window
    worker_cpu: list[float] = field(default_factory=list)  # seconds per worker, largest first
    log_problems: dict[str, int] = field(default_factory=dict)
    log_path: Path | None = None
    profiles: list[Path] = field(default_factory=list)
    revision: str = ""  # the code the server started with
    round_cpu: list[float] = field(default_factory=list)  # server CPU ms/event of each round

    @property
    def noise(self) -> float:
        """Return the cores other programs used during the window."""
        if not self.window:
            return 0.0
        ours = self.server_cpu + self.load.client_cpu + (self.database_cpu or 0.0)
        return max(0.0, self.machine_busy - ours) / self.window

    def per_event(self, seconds: float | None) -> float | None:
        """Return milliseconds of CPU per measured event."""
        if seconds is None or not self.load.events:
            return None
        return 1000 * seconds / self.load.events


class ServerProbe(Probe):
    """Read the server's CPU and RSS at the window's edges, and RSS peaks in between."""

    def __init__(self, server: Gunicorn, measurement: Measurement, settings: Settings) -> None:
        self.server = server
        self.m = measurement
        self.settings = settings
        self.start: tuple[float, float, float | None, float] | None = None
        self.spies: list[subprocess.Popen] = []
        self.workers: dict[int, float] = {}

    def begin(self) -> None:
        """Snapshot CPU counters; start profilers if asked."""
        self.start = (time.perf_counter(), self.server.cpu_seconds(), self._database(),
                      _machine_busy())
        self.workers = self.server.worker_cpu()
        self._spy()

    def sample(self) -> None:
        """Keep the largest worker RSS."""
        self.m.peak_rss = max([self.m.peak_rss, *self.server.worker_rss()])

    def end(self) -> None:
        """Take the CPU deltas and the final RSS."""
        began, cpu, database, busy = self.start
        self.m.window = time.perf_counter() - began
        self.m.server_cpu = self.server.cpu_seconds() - cpu
        if database is not None:
            self.m.database_cpu = self._database() - database
        self.m.machine_busy = _machine_busy() - busy
        self.m.rss = self.server.worker_rss()
        now = self.server.worker_cpu()
        self.m.worker_cpu = sorted((now[pid] - self.workers[pid] for pid in now
                                    if pid in self.workers), reverse=True)
        self.sample()

    async def wait_for_profiles(self, timeout: float = 60.0) -> None:
        """Wait for py-spy to write its profiles, without blocking LINE's stand-in."""
        deadline = time.monotonic() + timeout
        while any(spy.poll() is None for spy in self.spies) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    def _database(self) -> float | None:
        seconds = redis_cpu_seconds() if self.m.target.queue else None
        if self.m.target.db == "postgresql":
            seconds = (seconds or 0.0) + database_cpu_seconds()
        return seconds

    def _spy(self) -> None:
        folder = self.settings.profile_dir
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        seconds = max(1, int(self.settings.options.duration))
        for worker in self.server.processes():
            path = folder / f"{slug(self.m.target.name)}-{worker.pid}.txt"
            self.m.profiles.append(path)
            self.spies.append(subprocess.Popen(
                [str(BIN / "py-spy"), "record", "-p", str(worker.pid), "-d", str(seconds),
                 "-r", "100", "-f", "raw", "-o", str(path), "--nonblocking",
                 *PROFILE_FLAGS[self.settings.profile_mode]],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


PROFILE_FLAGS = {"cpu": [], "gil": ["--gil"], "wall": ["--idle"]}


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def slug(name: str) -> str:
    """Turn a target's name into a file name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


async def measure(target: Target, stand_in: LineStandIn, settings: Settings,
                  prefill: int = 0, attempt: int = 1) -> Measurement:
    """Start the target on a fresh database, drive it, and return what it cost."""
    env = bot_env(stand_in.url)
    if target.db:
        url = databases.fresh(target.db, settings.workdir, env, settings.pg_admin_url)
        if prefill:
            databases.fill_conversations(url, prefill)
        env["DATABASE_URL"] = url
    if target.queue:
        empty_bench_redis()
    log = settings.workdir / f"{slug(target.name)}-{attempt}.log"
    server = Gunicorn(target, env, log, settings.gunicorn_conf)
    await server.start()
    measurement = Measurement(target, LoadResult(settings.options.duration),
                              log_path=server.log_path, revision=revision())
    try:
        probe = ServerProbe(server, measurement, settings)
        measurement.load = await drive(server.url, stand_in, SECRET, settings.options,
                                       echo=target.echo, probe=probe)
        await probe.wait_for_profiles()
    finally:
        await server.close()  # replies still in flight get their answers meanwhile
    measurement.log_problems = server.log_problems()
    return measurement


async def quiet(settings: Settings) -> float:
    """Wait until other programs use under the noise limit (or the wait runs out)."""
    me = psutil.Process()
    deadline = time.monotonic() + settings.quiet_wait
    while True:
        busy, mine, began = _machine_busy(), sum(me.cpu_times()[:2]), time.monotonic()
        await asyncio.sleep(2.0)
        others = (_machine_busy() - busy - (sum(me.cpu_times()[:2]) - mine))
        others /= time.monotonic() - began
        if others < settings.noise_limit or time.monotonic() > deadline:
            return others
        say(f"  other programs use {others:.2f} cores; waiting for quiet ...")


async def measure_quietly(target: Target, stand_in: LineStandIn, settings: Settings,
                          prefill: int = 0) -> Measurement:
    """Measure when the machine is quiet; again if others got busy meanwhile; keep the best."""
    best: Measurement | None = None
    for attempt in range(1, settings.attempts + 1):
        await quiet(settings)
        m = await measure(target, stand_in, settings, prefill, attempt)
        if best is None or m.noise < best.noise:
            best = m
        if m.noise < settings.noise_limit:
            break
        if attempt < settings.attempts:
            say(f"  other programs used {m.noise:.2f} cores meanwhile; measuring again")
    return best


def merge(rounds: list[Measurement]) -> Measurement:
    """Add up one target's measurements of several rounds into one."""
    first = rounds[0]
    load = LoadResult(sum(m.load.duration for m in rounds))
    for m in rounds:
        load.events += m.load.events
        load.webhook += m.load.webhook
        load.reply += m.load.reply
        load.errors.update(m.load.errors)
        load.warmup_errors.update(m.load.warmup_errors)
        load.finished += m.load.finished
        load.abandoned += m.load.abandoned
        load.client_cpu += m.load.client_cpu
    databases = [m.database_cpu for m in rounds if m.database_cpu is not None]
    problems: dict[str, int] = {}
    for m in rounds:
        for kind, n in m.log_problems.items():
            problems[kind] = problems.get(kind, 0) + n
    return Measurement(
        first.target, load, window=sum(m.window for m in rounds),
        server_cpu=sum(m.server_cpu for m in rounds),
        database_cpu=sum(databases) if databases else None,
        machine_busy=sum(m.machine_busy for m in rounds),
        rss=max((m.rss for m in rounds), key=lambda r: max(r, default=0)),
        peak_rss=max(m.peak_rss for m in rounds),
        worker_cpu=[sum(c) for c in zip(*(m.worker_cpu for m in rounds), strict=False)],
        log_problems=problems, log_path=first.log_path,
        profiles=[p for m in rounds for p in m.profiles],
        revision=first.revision,
        round_cpu=[m.per_event(m.server_cpu) or 0.0 for m in rounds])


def say(text: str) -> None:
    """Tell the person running the benchmark what is happening."""
    print(text, file=sys.stderr, flush=True)
