"""A referral's own page (/r/<token>): how long it takes to answer, in one process and on gunicorn.

    .venv/bin/python -m bench.sheet [--requests 300] [--db sqlite|postgresql] [--write-docs]

Three pages: the longest referral the shipped content gives (most programmes and offices, from
the check's coverage), a typical one (the persona of tests/support/conversations.py in 大仙市)
and an altered link (the kind page). First in one process through Flask's test client (the
app's own work: verify the link, match, render); then over HTTP, one keep-alive connection at
a time, to gunicorn with the shipped gunicorn.conf.py and production settings (what a phone
waits for on the server). Target: each p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import tempfile
import time
from pathlib import Path

from bench import report
from bench.databases import PG_ADMIN_URL, fresh
from bench.servers import SECRET_KEY, Gunicorn, Target, bot_env, revision

LIMIT = 0.050
# A public address the production settings accept for the bench's host (the share link's).
PUBLIC_URL = "https://127.0.0.1"
TYPICAL = {"subject": "self", "age": "40-44", "employment": "regular", "single_parent": "no",
           "hikikomori": "none", "wish": "talk", "area": "大仙市"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sheet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="per page and way (300)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--write-docs", action="store_true")
    return parser.parse_args(argv)


def pages() -> dict[str, tuple[str, int]]:
    """Return each page measured: its path and the status it answers with."""
    from bench.servers import ROOT
    from bot.content import bundle
    from bot.referrals.links import Links
    from bot.studio.checks.coverage import coverage

    content = bundle.load(ROOT / "content", ROOT / "flows")
    longest = max(coverage(content).results,
                  key=lambda given: len(given.match.programmes) + len(given.match.offices))
    links = Links(SECRET_KEY, "")
    path = lambda answers: links.page_url(content.bundle_id, answers)  # noqa: E731
    altered = path(TYPICAL)
    altered = altered[:-5] + ("A" if altered[-5] != "A" else "B") + altered[-4:]
    shown = (f"longest ({len(longest.match.programmes)} programmes, "
             f"{len(longest.match.offices)} offices)")
    return {shown: (path(longest.example), 200), "typical": (path(TYPICAL), 200),
            "altered link": (altered, 404)}


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50": statistics.median(ordered), "p95": ordered[int(len(ordered) * 0.95) - 1],
            "max": ordered[-1]}


def in_process(url: str, measured: dict[str, tuple[str, int]], n: int) -> dict[str, dict]:
    """Time each page through Flask's test client, after a warm-up."""
    from bot import create_app

    app = create_app({"DATABASE_URL": url, "TSUNAGU_SECRET_KEY": SECRET_KEY,
                      "PUBLIC_URL": PUBLIC_URL, "TRUSTED_HOSTS": ["localhost", "127.0.0.1"]},
                     webhook=False)
    client = app.test_client()
    found = {}
    for name, (path, status) in measured.items():
        for _ in range(5):
            assert client.get(path).status_code == status, (name, path)
        times = []
        for _ in range(n):
            started = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - started)
        found[name] = summary(times)
    return found


async def over_http(url: str, measured: dict[str, tuple[str, int]], n: int,
                    workdir: Path) -> dict[str, dict]:
    """Time each page from gunicorn (shipped config, production), one request at a time."""
    env = {**bot_env("http://127.0.0.1:9", url), "TSUNAGU_PUBLIC_URL": PUBLIC_URL}
    server = Gunicorn(Target("tsunagu", "wsgi:app", 1, 8), env, workdir / "gunicorn.log")
    await server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        found = {}
        for name, (path, status) in measured.items():
            times = []
            for i in range(n + 5):
                started = time.perf_counter()
                connection.request("GET", path, headers={"Host": "127.0.0.1"})
                response = connection.getresponse()
                response.read()
                if i >= 5:  # the first few warm the worker up
                    times.append(time.perf_counter() - started)
                assert response.status == status, (name, response.status)
            found[name] = summary(times)
        connection.close()
        return found
    finally:
        await server.close()


def table(results: dict[str, dict[str, dict]]) -> str:
    names = list(next(iter(results.values())))
    lines = ["| way | " + " | ".join(names) + " | target |",
             "|---|" + "---|" * len(names) + "---|"]
    for way, found in results.items():
        ok = max(t["p95"] for t in found.values()) < LIMIT
        cells = " | ".join(f"{t['p50'] * 1000:.1f} / {t['p95'] * 1000:.1f} / "
                           f"{t['max'] * 1000:.1f}" for t in found.values())
        lines.append(f"| {way} | {cells} | {'✅' if ok else '❌'} p95 < 50 ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Run the page benchmark; print (and with --write-docs, write) its table; return it."""
    args = parse_args(argv)
    measured = pages()
    with tempfile.TemporaryDirectory(prefix="tsunagu-sheet-") as tmp:
        url = fresh(args.db, Path(tmp), bot_env("http://127.0.0.1:9"), PG_ADMIN_URL)
        results = {"in one process (test client)": in_process(url, measured, args.requests),
                   "gunicorn over HTTP (1 worker)": asyncio.run(
                       over_http(url, measured, args.requests, Path(tmp)))}
    text = (f"{args.requests} requests per page and way on {args.db}, one at a time after a "
            "warm-up; milliseconds p50 / p95 / max. The page reads no table: the link is "
            "verified, the referral matched again from its answers against the version in "
            "memory, and the template rendered.\n\n" + table(results))
    print(text)
    if args.write_docs:
        section = report.dated("A referral's own page (issue 20)", "bench.sheet", revision(),
                               text)
        report.write_docs("sheet", section)
    return results


if __name__ == "__main__":
    main()
