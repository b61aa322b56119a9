"""The benchmark's bookkeeping: rounds taking turns add up to one honest figure per target."""

from __future__ import annotations

from bench.load import LoadResult
from bench.measure import Measurement, merge
from bench.report import notes
from bench.servers import Target

ECHO = Target("echo", "bench.echo_bot:app", 2, 32)


def measured(events: int, cpu: float, webhook: float) -> Measurement:
    load = LoadResult(10.0)
    load.events, load.webhook, load.reply = events, [webhook] * events, [0.01] * events
    load.finished, load.client_cpu = events // 7, 0.5
    return Measurement(ECHO, load, window=10.0, server_cpu=cpu, machine_busy=12.0,
                       rss=[80 << 20, 90 << 20], worker_cpu=[cpu * 0.6, cpu * 0.4])


def test_rounds_add_up_to_totals_not_to_an_average_of_ratios():
    merged = merge([measured(1000, 4.0, 0.1), measured(3000, 6.0, 0.3)])
    assert merged.load.events == 4000 and merged.load.duration == 20.0
    assert merged.load.rate == 200
    assert merged.per_event(merged.server_cpu) == 2.5  # 10 s of CPU over 4,000 events
    assert sorted(merged.load.webhook)[-1] == 0.3 and len(merged.load.webhook) == 4000
    assert merged.round_cpu == [4.0, 2.0]
    assert merged.worker_cpu == [6.0, 4.0]
    assert "by round 4.00 / 2.00" in notes([merged])


def test_targets_compare_the_production_set_up_and_the_direct_one_with_the_issues_echo():
    from bench.run import parse_args, targets

    chosen = {t.name: t for t in targets(parse_args(["--db", "both", "--workers", "2"]))}
    assert set(chosen) == {"echo", "echo tuned", "tsunagu sqlite", "tsunagu postgresql",
                           "tsunagu sqlite direct", "tsunagu postgresql direct"}
    assert chosen["echo tuned"].shape == "2×40"  # the issue's tuned echo bot
    queued, direct = chosen["tsunagu postgresql"], chosen["tsunagu postgresql direct"]
    assert queued.queue and (queued.threads, queued.db) == (8, "postgresql")
    assert not direct.queue and direct.threads == 32
    assert chosen["echo"].shape == direct.shape


def test_the_console_benchmark_fills_a_database_and_times_every_page(capsys):
    from bench import console

    results = console.main(["--db", "sqlite", "--referrals", "300", "--repeat", "1"])
    printed = capsys.readouterr().out
    # Every page and download was timed, and the targets are met (not merely printed).
    measured = results["sqlite"]
    assert set(measured["pages"]) == set(console.PAGES)
    assert max(measured["pages"].values()) < console.PAGE_LIMIT
    assert max(measured["exports"].values()) < console.EXPORT_LIMIT
    assert "✅ each < 500 ms" in printed and "✅ 相談等件数 < 5 s" in printed
    assert "相談等件数 公表用 (xlsx)" in printed and "monthly workbook" in printed
