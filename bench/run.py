"""Load benchmark: tsunagu vs the SDK's echo bot, behind a LINE stand-in, on 127.0.0.1 only.

    .venv/bin/python -m bench.run --db both [--duration 30] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench import report
from bench.databases import PG_ADMIN_URL
from bench.load import LoadOptions
from bench.measure import Measurement, Settings, measure_quietly, merge, say
from bench.servers import ECHO_APP, SHIPPED_CONF, TSUNAGU_APP, Target, config_shape
from bench.stand_in import LineStandIn

TARGETS = ("echo", "echo-tuned", "tsunagu", "tsunagu-direct")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite",
                        help="database(s) tsunagu runs on (default: sqlite)")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help=f"comma-separated subset of {', '.join(TARGETS)} (default: all)")
    add_load_args(parser)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every target this many times, taking turns, and add the "
                             "rounds up, so a machine that speeds up or slows down during the "
                             "run weighs on every target alike (default: 1)")
    parser.add_argument("--tuned-threads", type=int, default=40,
                        help="threads per worker of the tuned echo bot, which has 2 workers as "
                             "in the issue (default: 40)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record py-spy profiles of every worker in DIR (pip install py-spy)")
    parser.add_argument("--profile-mode", choices=("gil", "cpu", "wall"), default="gil",
                        help="what py-spy samples: threads holding the GIL (gil: Python's CPU), "
                             "threads it deems running (cpu: counts some waits), or all threads "
                             "(wall) (default: gil)")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/performance.md")
    return parser.parse_args(argv)


def add_load_args(parser: argparse.ArgumentParser) -> None:
    """Add the options shared with bench.memory."""
    parser.add_argument("--people", type=int, default=50, help="concurrent people (default: 50)")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="measured seconds (default: 30)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="unmeasured seconds first (default: 5)")
    parser.add_argument("--latency", type=float, default=0.1,
                        help="seconds LINE's stand-in takes to answer (default: 0.1)")
    parser.add_argument("--workers", type=int,
                        help="gunicorn workers (default: what the gunicorn config says here)")
    parser.add_argument("--threads", type=int,
                        help="threads per worker (default: what the gunicorn config says here)")
    parser.add_argument("--no-keepalive", action="store_true",
                        help="open a new connection per webhook (default: keep-alive)")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL,
                        help=f"PostgreSQL URL to create the bench database from "
                             f"(default: {PG_ADMIN_URL})")
    parser.add_argument("--workdir", type=Path,
                        help="where SQLite files and gunicorn logs go (default: a new temp dir)")
    parser.add_argument("--gunicorn-conf", type=Path, default=SHIPPED_CONF,
                        help="gunicorn config for every target (default: the shipped one)")
    parser.add_argument("--noise-limit", type=float, default=0.25,
                        help="cores other programs may use while measuring; if they use more, "
                             "wait for quiet and measure again, 3 tries (default: 0.25)")


def targets(args: argparse.Namespace) -> list[Target]:
    """Return the targets to measure, in order."""
    wanted = {name.strip() for name in args.targets.split(",") if name.strip()}
    unknown = wanted - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")
    w, t = shape(args)
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    chosen = []
    if "echo" in wanted:
        chosen.append(Target("echo", ECHO_APP, w, t))
    if "echo-tuned" in wanted:
        chosen.append(Target("echo tuned", ECHO_APP, 2, args.tuned_threads))
    if "tsunagu" in wanted:
        qw, qt = shape(args, queued=True)
        chosen += [Target(f"tsunagu {db}", TSUNAGU_APP, qw, qt, db, queue=True) for db in dbs]
    if "tsunagu-direct" in wanted:
        chosen += [Target(f"tsunagu {db} direct", TSUNAGU_APP, w, t, db) for db in dbs]
    return chosen


def shape(args: argparse.Namespace, queued: bool = False) -> tuple[int, int]:
    """Return workers and threads: as given, else as the gunicorn config has them."""
    workers, threads = config_shape(args.gunicorn_conf.resolve(), queued)
    return args.workers or workers, args.threads or threads


def settings(args: argparse.Namespace) -> Settings:
    """Return the settings of this run."""
    options = LoadOptions(people=args.people, warmup=args.warmup, duration=args.duration,
                          keepalive=not args.no_keepalive)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tsunagu-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    return Settings(options, workdir, args.pg_admin_url, getattr(args, "profile", None),
                    getattr(args, "profile_mode", "gil"), noise_limit=args.noise_limit,
                    gunicorn_conf=args.gunicorn_conf.resolve())


async def run_all(chosen: list[Target], config: Settings, latency: float,
                  rounds: int = 1) -> list[Measurement]:
    """Measure the targets in turn behind one LINE stand-in, round after round."""
    stand_in = LineStandIn(latency)
    await stand_in.start()
    results: dict[str, list[Measurement]] = {target.name: [] for target in chosen}
    try:
        for number in range(rounds):
            # Each round starts with a different target, so none is always first or last.
            for target in chosen[number % len(chosen):] + chosen[:number % len(chosen)]:
                say(f"round {number + 1}/{rounds}: measuring {target.name} ({target.shape}) ...")
                results[target.name].append(await measure_quietly(target, stand_in, config))
    finally:
        await stand_in.stop()
    return [merge(results[target.name]) for target in chosen]


def run_loop(coroutine):
    """Run a coroutine on uvloop when it is installed (cheaper), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: list[str] | None = None) -> None:
    """Run the load benchmark and print (and optionally write) the results."""
    args = parse_args(argv)
    config = settings(args)
    say(f"logs and databases in {config.workdir}")
    rows = run_loop(run_all(targets(args), config, args.latency, args.rounds))
    body = "\n\n".join(part for part in (
        f"{args.people} people{' (a new connection per webhook)' if args.no_keepalive else ''}"
        f", LINE latency {args.latency * 1000:.0f} ms, "
        f"{args.warmup:.0f} s warm-up, {args.duration:.0f} s measured"
        + (f", {args.rounds} rounds taking turns (figures add the rounds up)."
           if args.rounds > 1 else "."),
        report.load_table(rows), report.targets(rows, args.latency, args.people),
        report.notes(rows)) if part)
    print(body)
    profile = profile_text(rows, args.profile_mode) if config.profile_dir else ""
    if profile:
        print("\n" + profile)
    if args.write_docs and profile:  # profiled numbers are a little slower: keep them apart
        report.write_docs("profile", report.section("Where the CPU goes", "bench.run",
                                                    f"{body}\n\n{profile}", rows))
    elif args.write_docs:
        report.write_docs("run", report.section("Load", "bench.run", body, rows))
        say(f"wrote {report.DOCS}")


def profile_text(rows: list[Measurement], mode: str) -> str:
    """Return where each target's server CPU went, per stage, in ms per event."""
    from bench.profile import stage_table

    columns = [(m.target.name, [p for p in m.profiles if p.exists()],
                m.per_event(m.server_cpu)) for m in rows]
    what = {"cpu": "running threads", "gil": "threads holding the GIL",
            "wall": "all threads, waiting included"}[mode]
    return (f"py-spy samples of every worker at 100 Hz over the measured window ({what}); each "
            "target's server CPU per event split in proportion to its samples, in ms per event "
            "(CPU that py-spy does not see, such as the kernel's share of socket calls, is "
            "spread in the same proportion).\n\n" + stage_table(columns))


if __name__ == "__main__":
    main()
