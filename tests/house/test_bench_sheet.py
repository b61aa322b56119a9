"""The page benchmark runs: the longest, a typical and an altered link, in process and HTTP."""

from __future__ import annotations

import math

from bench import sheet


def test_the_page_benchmark_times_each_page_both_ways(capsys):
    results = sheet.main(["--requests", "3"])
    printed = capsys.readouterr().out
    # Numbers, not timings: each page answered with its status (the benchmark checks it).
    assert set(results) == {"in one process (test client)", "gunicorn over HTTP (1 worker)"}
    for found in results.values():
        assert len(found) == 3 and any(name.startswith("longest (") for name in found)
        assert all(math.isfinite(t["max"]) and t["max"] > 0 for t in found.values())
    assert "| gunicorn over HTTP (1 worker) |" in printed and "altered link" in printed
