"""Markdown for the results: the table, the issue's targets, the machine, docs/performance.md."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import shlex
import sys
from importlib import metadata
from pathlib import Path

from bench.load import percentile
from bench.measure import Measurement

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
MB = 1024 * 1024

HEADER = """\
# Performance

What tsunagu costs per LINE event, next to the smallest bot the LINE SDK shows (its flask-echo
example), measured by `bench/` on one machine. The sections between `bench.*` markers are
written by the benchmark itself (`--write-docs`); the rest is by hand.

## How to reproduce

```sh
python3 -m venv .venv && .venv/bin/pip install -e '.[test]'
# PostgreSQL at 127.0.0.1:5432 (user postgres, no password): the run (re)creates database
# `bench`. Run from the repository root, on an otherwise idle machine.
.venv/bin/python -m bench.run --db both --write-docs       # load: echo, tuned echo, tsunagu
.venv/bin/python -m bench.memory --write-docs              # RSS: 1,000 vs 100,000 stored
.venv/bin/pip install py-spy                                 # then, to see where CPU goes:
.venv/bin/python -m bench.run --db both --profile /tmp/prof --write-docs
```

`--help` lists the knobs: people (50), `--duration` (30 s), `--warmup` (5 s), `--latency` of
LINE's stand-in (100 ms), `--workers`/`--threads` (default: what `gunicorn.conf.py` gives on
this machine), `--tuned-threads` (40), `--targets`, `--gunicorn-conf`, `--profile`.

## What is measured

- A LINE stand-in (aiohttp, in the benchmark's process) answers `POST /v2/bot/message/reply`
  after a fixed latency and notes when each reply arrived. No schema checks (the tests do that).
- Each bot runs under gunicorn with the shipped `gunicorn.conf.py` (gthread, access log on,
  production settings), pointed at the stand-in; tsunagu on a fresh database migrated with
  `tsunagu db upgrade` (a new SQLite file, or PostgreSQL database `bench`).
- "echo" is `bench/echo_bot.py`: line-bot-sdk's `examples/flask-echo/app_with_handler.py` on
  the v3 API (WebhookHandler, a new `ApiClient` per reply, `reply_message_with_http_info`),
  with the same workers and threads as tsunagu. "echo tuned" is the same bot with 40 threads
  per worker, the baseline the issue compares against.
- Simulated people (closed loop) post signed webhooks to 127.0.0.1 over keep-alive
  connections, starting over one second once every worker has loaded the app. On tsunagu each
  follows, then answers like a persona of `tests/dialogue/test_personas.py` (tapping the quick-reply
  button with the persona's label, or typing), one event at a time, waiting for both the
  webhook's answer and the reply before the next; a finished referral (Flex cards) starts a new
  person. On the echo bot they send as many text messages, one at a time.
- Only events sent in the measured window count. "webhook" is send → HTTP response; "reply at
  LINE" is send → the reply reaching the stand-in. Server CPU is user + sys of the gunicorn
  master and workers over the window, per event; "DB CPU" is the whole PostgreSQL server's
  (postmaster and backends, ended ones too). RSS is the largest worker's at the end. Errors
  are non-200 answers, replies that never came (3 s after the answer), unexpected or duplicate
  replies, and replies a persona could not read (a missing button, no result at the end).
- Other programs on the machine distort everything: the benchmark waits until they use under
  0.25 cores, measures again (3 tries at most) if they got busy meanwhile, and notes what they
  used in the last line of each target.
"""

START = "<!-- bench.{name}:start -->"
END = "<!-- bench.{name}:end -->"


def ms(seconds: float | None) -> str:
    """Format seconds as whole milliseconds."""
    if seconds is None or math.isnan(seconds):
        return "—"
    return f"{1000 * seconds:.0f}"


def number(value: float | None, digits: int = 2) -> str:
    """Format a number, or a dash for none."""
    return "—" if value is None else f"{value:.{digits}f}"


def load_table(rows: list[Measurement]) -> str:
    """Return the markdown table of a load run."""
    base = next((m for m in rows if m.target.echo), None)
    head = ("| target | workers×threads | events/s | webhook p50 / p99 ms | reply at LINE p50 / "
            "p99 ms | server CPU ms/event | ÷ echo | DB CPU ms/event | server CPU cores | "
            "worker RSS MB | errors | conversations |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for m in rows:
        lines.append(_row(m, base))
    return "\n".join(lines)


def _row(m: Measurement, base: Measurement | None) -> str:
    load = m.load
    cpu = m.per_event(m.server_cpu)
    base_cpu = base.per_event(base.server_cpu) if base else None
    ratio = cpu / base_cpu if cpu and base_cpu else None
    rss = max(m.rss, default=0) / MB
    cells = [
        m.target.name, m.target.shape, f"{load.rate:.0f}",
        f"{ms(percentile(load.webhook, 0.5))} / {ms(percentile(load.webhook, 0.99))}",
        f"{ms(percentile(load.reply, 0.5))} / {ms(percentile(load.reply, 0.99))}",
        number(cpu), number(ratio), number(m.per_event(m.database_cpu)),
        number(m.server_cpu / m.window if m.window else None), f"{rss:.0f}",
        str(load.error_count), _conversations(m),
    ]
    return "| " + " | ".join(cells) + " |"


def _conversations(m: Measurement) -> str:
    text = str(m.load.finished)
    return text + (f" ({m.load.abandoned} abandoned)" if m.load.abandoned else "")


def notes(rows: list[Measurement]) -> str:
    """Return the details behind the table: errors, logs, the load generator's share."""
    lines = []
    several = len({m.revision for m in rows}) > 1
    for m in rows:
        load = m.load
        client = 1000 * load.client_cpu / load.events if load.events else 0
        line = (f"- **{m.target.name}**: {load.events} events in {load.duration:.0f} s; "
                f"load generator {client:.2f} ms CPU/event; machine busy "
                f"{m.machine_busy / m.window:.2f} cores, of which other programs "
                f"{m.noise:.2f}")
        if len(m.round_cpu) > 1:
            line += ("; server CPU ms/event by round "
                     + " / ".join(f"{cpu:.2f}" for cpu in m.round_cpu))
        if len(m.worker_cpu) > 1:
            line += "; CPU by worker " + " / ".join(f"{s:.1f}" for s in m.worker_cpu) + " s"
        if load.errors:
            line += "; errors: " + _counts(load.errors)
        if load.warmup_errors:
            line += "; in the warm-up: " + _counts(load.warmup_errors)
        if m.log_problems:
            line += "; server log: " + _counts(m.log_problems)
        if several:
            line += f"; {m.revision}"
        lines.append(line + ".")
    return "\n".join(lines)


def _counts(counts: dict) -> str:
    return ", ".join(f"{kind} ×{n}" for kind, n in sorted(counts.items()))


def targets(rows: list[Measurement], latency: float, people: int) -> str:
    """Return the issue's targets for tsunagu, each with pass or miss."""
    echo = next((m for m in rows if m.target.echo and "tuned" not in m.target.name), None)
    tuned = next((m for m in rows if "tuned" in m.target.name), None)
    lines = []
    for m in (m for m in rows if not m.target.echo):
        lines += _target_lines(m, echo, tuned)
    head = (f"Targets from the issue (LINE latency {latency * 1000:.0f} ms, {people} people); "
            "✅ met, ❌ missed:\n")
    return head + "\n".join(lines) if lines else ""


def _target_lines(m: Measurement, echo: Measurement | None,
                  tuned: Measurement | None) -> list[str]:
    load, name = m.load, m.target.name
    checks = []
    cpu, echo_cpu = m.per_event(m.server_cpu), echo and echo.per_event(echo.server_cpu)
    if cpu and echo_cpu:
        ratio = cpu / echo_cpu
        checks.append((ratio <= 1.3, f"server CPU/event ≤ 1.3 × echo's: {ratio:.2f} ×"))
    webhook, reply = percentile(load.webhook, 0.99), percentile(load.reply, 0.99)
    checks.append((webhook <= 0.2, f"webhook p99 ≤ 200 ms: {ms(webhook)} ms"))
    checks.append((reply <= 0.2, f"reply-reaching-LINE p99 ≤ 200 ms: {ms(reply)} ms"))
    if tuned is not None:
        checks.append((load.rate >= tuned.load.rate,
                       f"events/s ≥ tuned echo's: {load.rate:.0f} vs {tuned.load.rate:.0f}"))
    checks.append((load.error_count == 0, f"zero errors: {load.error_count}"))
    checks.append((load.abandoned == 0, f"all conversations finish: {load.abandoned} abandoned"))
    return [f"- {name}: " + "; ".join(("✅ " if ok else "❌ ") + text for ok, text in checks)]


def machine() -> str:
    """Describe this machine and the software versions in one line."""
    model = _proc_value("/proc/cpuinfo", "model name") or platform.processor()
    memory = int((_proc_value("/proc/meminfo", "MemTotal") or "0 kB").split()[0]) / 1024**2
    versions = ", ".join(f"{name} {_version(name)}" for name in
                         ("gunicorn", "flask", "line-bot-sdk", "sqlalchemy", "psycopg"))
    return (f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}; {versions}")


def _proc_value(path: str, key: str) -> str | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def command_line(module: str) -> str:
    """Return the command that is running, as one would type it from the repository root."""
    return shlex.join([".venv/bin/python", "-m", module, *sys.argv[1:]])


def section(title: str, module: str, body: str, rows: list[Measurement]) -> str:
    """Return a dated section with the code measured, the machine and the exact command."""
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    revisions = list(dict.fromkeys(m.revision for m in rows))
    code = " / ".join(revisions) if len(revisions) < 3 else "several revisions (see notes)"
    return (f"## {title}\n\nMeasured {today} at {code} on {machine()}.\n\n"
            f"```sh\n{command_line(module)}\n```\n\n{body.strip()}\n")


def dated(title: str, module: str, code: str, body: str) -> str:
    """Return a section dated now, naming the code measured, the machine and the command."""
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"## {title}\n\nMeasured {today} at {code} on {machine()}.\n\n"
            f"```sh\n{command_line(module)}\n```\n\n{body.strip()}\n")


def write_docs(name: str, text: str, path: Path = DOCS) -> None:
    """Put text between this section's markers in docs/performance.md (create it if need be)."""
    start, end = START.format(name=name), END.format(name=name)
    block = f"{start}\n{text.strip()}\n{end}"
    current = path.read_text() if path.exists() else HEADER
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1]
        current = before + block + after
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current)
