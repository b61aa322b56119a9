"""The bots under test: gunicorn with the shipped gunicorn.conf.py, and what they cost."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "bench-channel-secret"
TOKEN = "bench-channel-access-token"
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789abcdef"
TSUNAGU_APP = "wsgi:app"
ECHO_APP = "bench.echo_bot:app"
SHIPPED_CONF = ROOT / "gunicorn.conf.py"
# Its own Redis database (the tests use 15), emptied per run.
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass(frozen=True)
class Target:
    name: str
    app: str  # gunicorn's APP_MODULE
    workers: int
    threads: int
    db: str | None = None  # "sqlite" or "postgresql" for tsunagu
    queue: bool = False  # tsunagu replying through Redis and `tsunagu send-replies`

    @property
    def echo(self) -> bool:
        return self.app == ECHO_APP

    @property
    def shape(self) -> str:
        return f"{self.workers}×{self.threads}"


def revision() -> str:
    """Return the commit checked out, noting uncommitted changes to what the bot runs."""
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "bot", "content", "flows", "wsgi.py",
                "gunicorn.conf.py")
    return f"commit {commit}" + (" + uncommitted changes to the bot" if dirty else "")


def with_queue(env: dict[str, str], queued: bool) -> dict[str, str]:
    """Point the environment at the benchmark's Redis if replies are queued, else at none."""
    env.pop("TSUNAGU_REDIS_URL", None)  # a developer's own setting must not leak in
    if queued:
        env["TSUNAGU_REDIS_URL"] = BENCH_REDIS_URL
    return env


def config_shape(conf: Path = SHIPPED_CONF, queued: bool = False) -> tuple[int, int]:
    """Return the (workers, threads) a gunicorn config gives here (it reads the environment)."""
    code = ("import runpy, sys; ns = runpy.run_path(sys.argv[1]); "
            "print(ns.get('workers', 1), ns.get('threads', 1))")
    env = with_queue(dict(os.environ), queued)
    out = subprocess.run([sys.executable, "-c", code, str(conf)], check=True, cwd=ROOT,
                         capture_output=True, text=True, env=env).stdout.split()
    return int(out[0]), int(out[1])


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(line_url: str, database_url: str | None = None) -> dict[str, str]:
    """Return the environment a bot runs with: production, pointed at the stand-in."""
    env = {**os.environ, "TSUNAGU_ENV": "production", "LINE_CHANNEL_SECRET": SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE_URL": line_url,
           "TSUNAGU_SECRET_KEY": SECRET_KEY, "TSUNAGU_TRUSTED_HOSTS": "127.0.0.1",
           "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class Gunicorn:
    """One `gunicorn -c gunicorn.conf.py APP` started, measured and stopped by us."""

    def __init__(self, target: Target, env: dict[str, str], log_path: Path,
                 conf: Path = SHIPPED_CONF) -> None:
        self.target = target
        self.conf = conf
        self.port = free_port()
        self.env = {**env, "TSUNAGU_BIND": f"127.0.0.1:{self.port}",
                    "TSUNAGU_WORKERS": str(target.workers),
                    "TSUNAGU_THREADS": str(target.threads)}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.master: psutil.Process | None = None
        self.sender: subprocess.Popen | None = None  # `tsunagu send-replies`, if queued
        with_queue(self.env, target.queue)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60.0) -> None:
        """Start gunicorn and wait until every worker is up and one answers HTTP."""
        command = [str(BIN / "gunicorn"), "-c", str(self.conf), self.target.app]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
            if self.target.queue:
                self.sender = subprocess.Popen([str(BIN / "tsunagu"), "send-replies"], cwd=ROOT,
                                               env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT)
        self.master = psutil.Process(self.process.pid)
        deadline = time.monotonic() + timeout
        while not (len(self.workers()) == self.target.workers and self._answers()
                   and await self._settled()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.target.name} did not start:\n{self.log_tail()}")
            await asyncio.sleep(0.2)

    async def _settled(self, interval: float = 0.5, busy: float = 0.02) -> bool:
        """Return whether every worker has finished loading the app (its CPU went flat).

        /healthz answers as soon as one worker is up; people who connected then would all
        stay on that worker (keep-alive), so wait for the others too.
        """
        before = self.worker_cpu()
        await asyncio.sleep(interval)
        after = self.worker_cpu()
        return len(after) == self.target.workers and all(
            pid in before and after[pid] - before[pid] < busy for pid in after)

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop gunicorn (and the sender) gracefully, or kill after 30 seconds; block meanwhile."""
        for process in (self.process, self.sender):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    async def close(self, timeout: float = 30.0) -> None:
        """Stop gunicorn, then the sender, while the event loop (and LINE's stand-in) runs."""
        for process in (self.process, self.sender):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        self.stop()

    def workers(self) -> list[psutil.Process]:
        """Return the live worker processes."""
        try:
            return self.master.children()
        except psutil.NoSuchProcess:
            return []

    def processes(self) -> list[psutil.Process]:
        """Return the workers and, if replies are queued, the sender."""
        live = self.workers()
        if self.sender is not None and self.sender.poll() is None:
            live.append(psutil.Process(self.sender.pid))
        return live

    def cpu_seconds(self) -> float:
        """Return user+sys CPU of the master, its live and reaped workers, and the sender."""
        times = self.master.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def worker_cpu(self) -> dict[int, float]:
        """Return user+sys CPU seconds of each live worker, by pid."""
        seconds = {}
        for worker in self.workers():
            try:
                times = worker.cpu_times()
            except psutil.NoSuchProcess:
                continue
            seconds[worker.pid] = times.user + times.system
        return seconds

    def worker_rss(self) -> list[int]:
        """Return the resident set size of each worker, in bytes."""
        sizes = []
        for worker in self.workers():
            try:
                sizes.append(worker.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        return sizes

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of gunicorn's log."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def log_problems(self) -> dict[str, int]:
        """Count warnings, errors and tracebacks in gunicorn's log."""
        counts = {"WARNING": 0, "ERROR": 0, "Traceback": 0}
        with open(self.log_path, errors="replace") as log:
            for line in log:
                for word in counts:
                    if word in line:
                        counts[word] += 1
        return {word: n for word, n in counts.items() if n}


def database_cpu_seconds() -> float:
    """Return user+sys CPU of the whole PostgreSQL server: postmaster, backends, ended ones.

    Backends come and go (a pool's overflow connections are closed when returned), so the
    postmaster's reaped-children counters are part of the sum.
    """
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != "postgres":
            continue
        try:
            if proc.parent() is not None and proc.parent().name() == "postgres":
                continue
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in proc.children():
                times = child.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def redis_cpu_seconds() -> float:
    """Return user+sys CPU of the Redis server (the reply queue)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "redis-server":
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def empty_bench_redis() -> None:
    """Empty the benchmark's Redis database."""
    import redis

    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
