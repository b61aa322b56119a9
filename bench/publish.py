"""Publish benchmark: how soon every worker of two "hosts" answers with a new version.

    .venv/bin/python -m bench.publish [--db sqlite|postgresql|both] [--rounds 5] [--write-docs]

Two gunicorn masters (each with its own workers, as two hosts would have) share one database.
Each round keeps follow events going to both hosts (a new connection each time, so every
worker is asked), rewords the first question in a copy of the content and runs `tsunagu
publish`. The time from the command saying the version is live to the LAST answer still in
the old words is how long the slowest worker took; the issue's target is 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from bench import report
from bench.databases import PG_ADMIN_URL, fresh
from bench.events import EventFactory
from bench.servers import BIN, ROOT, SECRET, Gunicorn, Target, bot_env, revision
from bench.stand_in import LineStandIn

LIMIT = 5.0
QUESTION = "どなたについてのご相談ですか？"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=5, help="publishes per database")
    parser.add_argument("--workers", type=int, default=2, help="workers per host (default: 2)")
    parser.add_argument("--interval", type=float, default=0.01,
                        help="seconds between probes of one host (default: 0.01)")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/performance.md")
    return parser.parse_args(argv)


def draft_with(workdir: Path, question: str) -> Path:
    """Write a copy of the shipped content whose first question reads `question`."""
    root = workdir / "draft"
    shutil.rmtree(root, ignore_errors=True)
    for name in ("content", "flows"):
        shutil.copytree(ROOT / name, root / name)
    flow = root / "flows" / "questionnaire.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace(
        f'default: "{QUESTION}"', f'default: "{question}"', 1), encoding="utf-8")
    return root


async def first_question(session: aiohttp.ClientSession, host: Gunicorn,
                         line: LineStandIn, events: EventFactory) -> str:
    """Follow as a new person on one host; return the first question of the reply."""
    hook = events.follow(events.user_id())
    waiting = line.expect(hook.token)
    async with session.post(host.url + "/callback", data=hook.body,
                            headers={**hook.headers, "Connection": "close"}) as response:
        await response.read()
    reply = await asyncio.wait_for(waiting, 10)
    return reply.body["messages"][-1]["text"]


async def publish(root: Path, env: dict[str, str], note: str):
    """Start `tsunagu publish`; return the moment it said the version is live, and the process."""
    command = await asyncio.create_subprocess_exec(
        str(BIN / "tsunagu"), "publish", "--root", str(root), "--note", note, "--who", "bench",
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    # The command says so right after the pointer is written; exiting takes a while longer.
    line = await command.stdout.readline()
    said = time.monotonic()
    assert "公開しました".encode() in line, line
    return said, command


async def one_round(n: int, hosts: list[Gunicorn], line: LineStandIn, env: dict[str, str],
                    workdir: Path, interval: float) -> tuple[float, int]:
    """Publish once under steady traffic; return seconds from the publish to the last answer
    in the old words, and how many answers came in the old words after the publish."""
    old = QUESTION if n == 0 else f"{QUESTION}（{n}）"
    new = f"{QUESTION}（{n + 1}）"
    root = draft_with(workdir, new)
    events = EventFactory(SECRET)
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    # Every worker keeps answering throughout, so each one looks at the pointer on its own
    # schedule (an idle worker would look at its first request after the publish, at once).
    published: float | None = None
    last_old = {host.port: 0.0 for host in hosts}
    new_since: dict[int, float | None] = {host.port: None for host in hosts}
    late = 0

    async def probe(session: aiohttp.ClientSession, host: Gunicorn) -> None:
        nonlocal late
        while True:
            asked = time.monotonic()
            text = await first_question(session, host, line, events)
            if text == old:
                last_old[host.port] = asked
                new_since[host.port] = None
                late += published is not None and asked > published
            elif text == new:
                assert published is not None, "the new words before the publish"
                new_since[host.port] = new_since[host.port] or asked
                if asked - new_since[host.port] > 3.0:  # every worker has looked since
                    return
            else:
                raise AssertionError(f"unexpected first question {text!r}")
            if published is not None and asked - published > 30:
                raise AssertionError("a worker never answered with the new version")
            await asyncio.sleep(interval)

    async with aiohttp.ClientSession(connector=connector) as session:
        probes = [asyncio.create_task(probe(session, host)) for host in hosts]
        await asyncio.sleep(3.0)  # steady traffic first
        published, command = await publish(root, env, f"bench {n + 1}")
        await asyncio.gather(*probes)
        await command.wait()
    return max(0.0, max(last_old.values()) - published), late


async def run_db(kind: str, args: argparse.Namespace,
                 workdir: Path) -> list[tuple[float, int]]:
    """Measure `args.rounds` publishes on one kind of database."""
    line = LineStandIn(latency=0.0)
    line_url = await line.start()
    env = bot_env(line_url)
    env.pop("TSUNAGU_CONTENT_REFRESH_SECONDS", None)  # the shipped default
    url = fresh(kind, workdir, env, PG_ADMIN_URL)
    env["DATABASE_URL"] = url
    hosts = [Gunicorn(Target(f"host-{i}", "wsgi:app", args.workers, 4, kind), env,
                      workdir / f"host-{i}.log") for i in (1, 2)]
    try:
        for host in hosts:
            await host.start()
        return [await one_round(n, hosts, line, env, workdir, args.interval)
                for n in range(args.rounds)]
    finally:
        for host in hosts:
            await host.close()
        await line.stop()


def table(results: dict[str, list[tuple[float, int]]], args: argparse.Namespace) -> str:
    """Return the results as a Markdown table."""
    lines = ["| database | publishes | median | slowest | old answers after a publish (mean) "
             "| target |", "|---|---|---|---|---|---|"]
    for kind, rounds in results.items():
        seconds = [s for s, _ in rounds]
        worst = max(seconds)
        late = statistics.mean(n for _, n in rounds)
        lines.append(f"| {kind} | {len(seconds)} | {statistics.median(seconds):.2f} s | "
                     f"{worst:.2f} s | {late:.1f} | {'✅' if worst < LIMIT else '❌'} < "
                     f"{LIMIT:g} s |")
    return "\n".join([
        f"Two hosts × {args.workers} workers on one database; refresh period: the shipped "
        "default (TSUNAGU_CONTENT_REFRESH_SECONDS=2), under steady traffic to both hosts. Time "
        "from `tsunagu publish` saying the version is live to the last answer any worker gave "
        "in the old words.", "", *lines])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {}
    with tempfile.TemporaryDirectory(prefix="tsunagu-publish-") as tmp:
        for kind in kinds:
            results[kind] = asyncio.run(run_db(kind, args, Path(tmp)))
            print(kind, " ".join(f"{s:.2f}s/{n}" for s, n in results[kind]))
    text = table(results, args)
    print(text)
    if args.write_docs:
        section = report.dated("Publish reaches every worker", "bench.publish", revision(), text)
        report.write_docs("publish", section)


if __name__ == "__main__":
    main()
