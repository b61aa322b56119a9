"""The editors' benchmark runs: gunicorn, logins, saves through the forms, every page timed."""

from __future__ import annotations

import math

from bench import editor


def test_the_editor_benchmark_saves_through_the_forms_and_times_every_page(capsys, tmp_path):
    (run,) = editor.main(["--database", "sqlite", "--saves", "3", "--editors", "2",
                          "--pages-per-save", "1", "--repeat", "1", "--think", "0",
                          "--quiet-wait", "0", "--workdir", str(tmp_path)])
    printed = capsys.readouterr().out
    measured = run.results
    # Numbers, not timings: every save went through (as a browser posts the form) and was
    # seen on the page it redirected to; every page was opened with no saves meanwhile.
    assert len(measured.saves) == 3 and measured.errors == {}
    assert all(seconds > 0 and math.isfinite(seconds) for seconds in measured.saves)
    assert set(measured.idle) == set(editor.PAGES)
    assert editor.OFFICE_FORM in measured.busy
    assert not run.log_problems, run.log_problems
    assert "| sqlite | 3 |" in printed and "save + its check" in printed
    for name in editor.PAGES:
        assert f"| {name} |" in printed
