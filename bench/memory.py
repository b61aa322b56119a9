"""Memory check: a worker's RSS with 1,000 and with 100,000 stored conversations.

    .venv/bin/python -m bench.memory [--db sqlite|postgresql] [--write-docs]

Each size gets a fresh database filled straight through the conversations table, then a short
load (the same people as bench.run) against one gunicorn worker; the worker's RSS is read at the
end. The issue's target: RSS with 100,000 within 10 % of RSS with 1,000.
"""

from __future__ import annotations

import argparse

from bench import report
from bench.measure import Measurement, Settings, measure_quietly, say
from bench.run import add_load_args, run_loop, settings, shape
from bench.servers import TSUNAGU_APP, Target
from bench.stand_in import LineStandIn

LIMIT = 1.10
MB = 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="database tsunagu runs on (default: sqlite)")
    parser.add_argument("--sizes", default="1000,100000",
                        help="stored conversations, comma-separated (default: 1000,100000)")
    add_load_args(parser)
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/performance.md")
    parser.set_defaults(workers=1, duration=10.0, warmup=3.0)
    return parser.parse_args(argv)


async def run_sizes(args: argparse.Namespace, config: Settings) -> list[tuple[int, Measurement]]:
    """Measure one fresh, pre-filled database per size."""
    stand_in = LineStandIn(args.latency)
    await stand_in.start()
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            target = Target(f"tsunagu {args.db}, {size:,} stored", TSUNAGU_APP,
                            *shape(args, queued=True), args.db, queue=True)
            say(f"measuring {target.name} ({target.shape}) ...")
            results.append((size, await measure_quietly(target, stand_in, config, size)))
    finally:
        await stand_in.stop()
    return results


def table(results: list[tuple[int, Measurement]]) -> str:
    """Return the markdown table and the verdict."""
    lines = ["| stored conversations | worker RSS after load MB | peak RSS MB | events/s | "
             "errors |", "|---|---|---|---|---|"]
    for size, m in results:
        lines.append(f"| {size:,} | {max(m.rss, default=0) / MB:.1f} | {m.peak_rss / MB:.1f} | "
                     f"{m.load.rate:.0f} | {m.load.error_count} |")
    return "\n".join(lines) + "\n\n" + verdict(results)


def verdict(results: list[tuple[int, Measurement]]) -> str:
    """Compare the largest size's RSS with the smallest's."""
    (small, first), (large, last) = results[0], results[-1]
    if small == large:
        return ""
    ratio = max(last.rss, default=0) / max(max(first.rss, default=0), 1)
    mark = "✅" if ratio <= LIMIT else "❌"
    return (f"{mark} RSS with {large:,} stored ÷ RSS with {small:,}: {ratio:.3f} "
            f"(target ≤ {LIMIT:.2f}).")


def main(argv: list[str] | None = None) -> None:
    """Run the memory check and print (and optionally write) the results."""
    args = parse_args(argv)
    config = settings(args)
    say(f"logs and databases in {config.workdir}")
    results = run_loop(run_sizes(args, config))
    workers, threads = shape(args, queued=True)
    body = (f"{workers} worker(s) × {threads} threads, replies queued, {args.people} people, "
            f"{args.warmup:.0f} s "
            f"warm-up + {args.duration:.0f} s of load, {args.db}.\n\n{table(results)}\n\n"
            f"{report.notes([m for _, m in results])}")
    print(body)
    if args.write_docs:
        report.write_docs("memory", report.section("Memory", "bench.memory", body,
                                                          [m for _, m in results]))
        say(f"wrote {report.DOCS}")


if __name__ == "__main__":
    main()
