"""Console benchmark: the dashboard and the 相談等件数 export over 1,000,000 referral records.

    .venv/bin/python -m bench.console [--db sqlite|postgresql|both] [--referrals 1000000]
                                      [--write-docs]

Fills a fresh database (migrated by `tsunagu db upgrade`) with referral records spread over
two fiscal years, each naming two programmes and two offices, with their monthly tallies
(counted from the records by `tallies.rebuild`), plus a year of funnel counters;
then, in one process through Flask's test client, times the counselors' dashboard page and a
fiscal year's 相談等件数 export (internal and 公表用). Targets: page < 500 ms, export < 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench import report
from bench.databases import PG_ADMIN_URL, fresh
from bench.servers import ROOT, bot_env, revision

PAGE_LIMIT, EXPORT_LIMIT = 0.5, 5.0
FY = 2026
PASSWORD = "kanto-matsuri-lanterns-1234"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true")
    return parser.parse_args(argv)


def rows(content, n: int, seed: int = 1):
    """Yield (referral row, targets) for n referrals over FY-1 and FY."""
    rng = random.Random(seed)
    flow = content.flow
    months = [dt.date(y, m, 1) for y, m in
              [(FY - 1 + (m < 4), m) for m in (*range(4, 13), 1, 2, 3)] +
              [(FY + (m < 4), m) for m in (*range(4, 13), 1, 2, 3)]]
    area = flow.area_step
    places = list(content.municipalities)
    values = {s.id: [o.value for o in s.options] for s in flow.steps if s.options}
    programmes, offices = list(content.programmes), list(content.offices)
    bundle = content.bundle_id
    for i in range(n):
        answers = {step: rng.choice(options) for step, options in values.items()
                   if step != "employer_need"}
        if area is not None:
            answers[area.id] = rng.choice(places)
        yield ((i + 1, rng.choice(months), bundle, False, flow.flow, answers),
               [(i + 1, "programme", p) for p in rng.sample(programmes, 2)]
               + [(i + 1, "office", o) for o in rng.sample(offices, 2)])


def fill(url: str, content, n: int) -> float:
    """Insert n referrals with their targets (and a year of funnel counters); return seconds."""
    import json

    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    from bot.db.models import FunnelCount, Referral, ReferralTarget
    from bot.referrals import tallies

    started = time.perf_counter()
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            # Two COPYs cannot interleave on one connection: write referrals, then targets.
            targets: list[tuple] = []
            with conn.cursor() as cur, cur.copy(
                    "COPY referrals (id, month, bundle_id, staging, flow, answers) "
                    "FROM STDIN") as ref_copy:
                for row, named in rows(content, n):
                    ref_copy.write_row((*row[:5], json.dumps(row[5], ensure_ascii=False)))
                    targets.extend(named)
            with conn.cursor() as cur, cur.copy(
                    "COPY referral_targets (referral_id, kind, code) FROM STDIN") as tcopy:
                for target in targets:
                    tcopy.write_row(target)
            conn.execute("SELECT setval(pg_get_serial_sequence('referrals', 'id'), %s)", (n,))
            conn.execute("ANALYZE")
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            batch, named_batch = [], []
            keys = ("id", "month", "bundle_id", "staging", "flow", "answers")
            for row, named in rows(content, n):
                batch.append(dict(zip(keys, row, strict=True)))
                named_batch.extend({"referral_id": a, "kind": b, "code": c}
                                   for a, b, c in named)
                if len(batch) >= 20_000:
                    conn.execute(insert(Referral), batch)
                    conn.execute(insert(ReferralTarget), named_batch)
                    batch, named_batch = [], []
            if batch:
                conn.execute(insert(Referral), batch)
                conn.execute(insert(ReferralTarget), named_batch)
        engine.dispose()
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        # The monthly tallies the store keeps with each referral, counted from the records.
        tallies.rebuild(session)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE referral_tallies")
    with engine.begin() as conn:  # a year of counters: every day, question and event
        day0 = dt.date(FY, 4, 1)
        conn.execute(insert(FunnelCount), [
            {"day": day0 + dt.timedelta(days=d), "bundle_id": content.bundle_id,
             "step": step.id, "event": event, "count": 100}
            for d in range(365) for step in content.flow.steps
            for event in ("reached", "answered", "back", "restart")])
    engine.dispose()
    return time.perf_counter() - started


def timed(func, repeat: int) -> float:
    """Return the median seconds of `repeat` calls (after one warm-up call)."""
    func()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# The console's pages that read referrals or their counts, and the other pages a counselor or
# an administrator opens (each must answer in under 500 ms).
PAGES = {"dashboard": f"/admin/?year={FY}",
         "dashboard (one month)": f"/admin/?year={FY}&from=5&to=5",
         "exports page": "/admin/exports", "versions": "/admin/versions",
         "accounts": "/admin/accounts", "audit log": "/admin/audit"}


def _get(client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)


def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    """Time the console's pages, the 相談等件数 exports and the monthly workbook."""
    from bot import create_app
    from bot.console import accounts
    from bot.content.source import content_source
    from bot.db.database import database
    from bot.referrals import exports

    app = create_app({"DATABASE_URL": url, "TESTING": True, "TSUNAGU_SECRET_KEY": "k" * 32})
    with app.app_context():
        accounts.add("bench", "admin", PASSWORD, "bench")
    client = app.test_client()
    form = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/admin/login", data={"name": "bench", "password": PASSWORD,
                                      "csrf_token": token})
    page = client.get(f"/admin/?year={FY}")
    assert page.status_code == 200 and "紹介の合計" in page.text, page.status_code
    content = content_source(app).current()
    db = database(app)
    month = dt.date(FY, 11, 1)
    result = {
        "pages": {name: timed(lambda path=path: _get(client, path), repeat)
                  for name, path in PAGES.items()},
        "exports": {
            "相談等件数 (xlsx)": timed(
                lambda: exports.to_xlsx(exports.soudan(db, content, FY)), repeat),
            "相談等件数 公表用 (xlsx)": timed(lambda: exports.to_xlsx(
                exports.soudan(db, content, FY, public=True)), repeat),
            "monthly workbook": timed(lambda: exports.to_xlsx(
                exports.monthly(db, content, month)), repeat)},
    }
    db.dispose()
    return result


def main(argv: list[str] | None = None) -> dict:
    """Run the console benchmark; print (and with --write-docs, write) its tables; return them."""
    args = parse_args(argv)
    from bot.content import bundle

    content = bundle.load(ROOT / "content", ROOT / "flows")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {}
    with tempfile.TemporaryDirectory(prefix="tsunagu-console-") as tmp:
        for kind in kinds:
            env = bot_env("http://127.0.0.1:9")
            url = fresh(kind, Path(tmp), env, PG_ADMIN_URL)
            filled = fill(url, content, args.referrals)
            results[kind] = {"fill": filled, **measure(url, args.repeat)}
            print(kind, results[kind])
    lines = [f"{args.referrals:,} referral records (each naming 2 programmes and 2 offices) "
             "over two fiscal years, with their monthly tallies, and a year of funnel "
             f"counters; medians of {args.repeat} after a warm-up, in one process (Flask's test "
             "client, logged in as an administrator).", "",
             "| database | " + " | ".join(PAGES) + " | targets |",
             "|---|" + "---|" * len(PAGES) + "---|"]
    for kind, r in results.items():
        ok = max(r["pages"].values()) < PAGE_LIMIT
        shown = " | ".join(f"{v * 1000:.0f} ms" for v in r["pages"].values())
        lines.append(f"| {kind} | {shown} | {'✅' if ok else '❌'} each < 500 ms |")
    names = list(next(iter(results.values()))["exports"])
    lines += ["", "| database | " + " | ".join(names) + " | target |",
              "|---|" + "---|" * len(names) + "---|"]
    for kind, r in results.items():
        soudan = [v for name, v in r["exports"].items() if name.startswith("相談等件数")]
        ok = max(soudan) < EXPORT_LIMIT
        shown = " | ".join(f"{v:.2f} s" for v in r["exports"].values())
        lines.append(f"| {kind} | {shown} | {'✅' if ok else '❌'} 相談等件数 < 5 s |")
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        section = report.dated("The console over a million referrals", "bench.console",
                               revision(), text)
        report.write_docs("console", section)
    return results


if __name__ == "__main__":
    main()
