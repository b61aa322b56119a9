"""`tsunagu check` on the account's files: events, the office finder, talking to a person."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.studio.checks import ERROR, WARNING
from tests.studio.test_check import edit, found, the
from tests.support.paths import ROOT

EVENTS, FINDER, HANDOFF = "content/events.yaml", "content/finder.yaml", "content/handoff.yaml"
ONE_EVENT = """events:
  - id: mensetsukai
    title: 就職面接会
    date: 2027-02-10
    programme: hw-senmon
    office: hw-akita
    sources: [https://example.jp/mensetsukai]"""


@pytest.fixture
def root(tmp_path) -> Path:
    """Copy the shipped content and flows into a folder of this test's own."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    return tmp_path


def with_event(root, old: str = "", new: str = "") -> int:
    line = edit(root, EVENTS, "events: []", ONE_EVENT.replace(old, new) if old else ONE_EVENT)
    return line + 1  # the event's own line


def test_a_sourced_dated_event_is_fine(root):
    with_event(root)
    assert not [p for p in found(root).problems if p.file == EVENTS]


def test_an_event_without_a_date_is_an_error(root):
    line = with_event(root, "    date: 2027-02-10\n", "")
    problem = the(found(root), EVENTS, "has no date")
    assert (problem.severity, problem.line, problem.item) == (ERROR, line, "event 'mensetsukai'")
    assert "date: YYYY-MM-DD" in problem.fix


def test_an_event_without_a_source_is_an_error(root):
    with_event(root, "    sources: [https://example.jp/mensetsukai]", "")
    problem = the(found(root), EVENTS, "has no sources")
    assert problem.severity == ERROR and "page or leaflet" in problem.fix


def test_an_event_ending_before_it_begins(root):
    with_event(root, "    date: 2027-02-10", "    date: 2027-02-10\n    end_date: 2027-02-01")
    assert the(found(root), EVENTS, "ends (2027-02-01) before").severity == ERROR


def test_an_event_naming_an_unknown_programme_or_office(root):
    with_event(root, "programme: hw-senmon", "programme: hw-senmom")
    problem = the(found(root), EVENTS, "names programme 'hw-senmom'")
    assert "did you mean 'hw-senmon'" in problem.message
    edit(root, EVENTS, "office: hw-akita\n    sources", "office: nowhere\n    sources")
    assert the(found(root), EVENTS, "names office 'nowhere'").severity == ERROR


def test_too_many_event_cards(root):
    edit(root, EVENTS, "shown: 5", "shown: 13")
    assert the(found(root), EVENTS, "'shown' is 13").severity == ERROR


def test_a_past_event_is_no_problem(root):
    with_event(root)
    assert not [p for p in found(root, today=dt.date(2027, 3, 1)).problems if p.file == EVENTS]


def test_the_finder_names_unknown_offices(root):
    edit(root, FINDER, "saposute, hikikomori-center", "saposte, hikikomori-center")
    problem = the(found(root), FINDER, "names office 'saposte'")
    assert problem.severity == ERROR and "did you mean 'saposute'" in problem.message


def test_texts_filled_in_use_only_their_names(root):
    edit(root, FINDER, 'found: "{place}の方が', 'found: "{town}の方が')
    problem = the(found(root), FINDER, "uses {town}")
    assert problem.severity == ERROR and "{place}" in problem.fix
    edit(root, HANDOFF, 'with_contact: "{name}にご相談ください。"',
         'with_contact: "{name にご相談"')
    assert the(found(root), HANDOFF, "'{' or '}'").severity == ERROR


def test_a_contact_needs_a_name_and_a_source(root):
    edit(root, HANDOFF, '  hours: ""', '  hours: "平日 9時〜17時"')
    assert the(found(root), HANDOFF, "but no name").severity == ERROR
    edit(root, HANDOFF, '  name: ""', '  name: "相談窓口"')
    problem = the(found(root), HANDOFF, "has no sources")
    assert problem.severity == WARNING


def test_an_account_text_over_lines_limit(root):
    edit(root, HANDOFF, 'asked: "相談員におつなぎします。"', 'asked: "' + "あ" * 5001 + '"')
    problem = the(found(root), HANDOFF, "is 5001 characters")
    assert problem.severity == ERROR and problem.item == "handoff 'asked'"


def test_diff_shows_the_account_files_changes(root):
    from bot.content import bundle
    from bot.studio.diff import diff, summary

    before = bundle.load(ROOT / "content", ROOT / "flows")
    with_event(root)
    edit(root, HANDOFF, "handoff_hours: 24", "handoff_hours: 48")
    edit(root, "content/richmenu.yaml", "label: 緊急のとき", "label: きんきゅうのとき")
    shown = summary(diff(before, bundle.load(root / "content", root / "flows")))
    assert "+ イベント mensetsukai" in shown
    assert "~ 設定 handoff\n    handoff_hours: 24 → 48" in shown
    assert "~ メニューの区画 4\n    label: 緊急のとき → きんきゅうのとき" in shown


def test_a_result_over_lines_limits_is_one_error_naming_the_worst(root):
    edit(root, "content/programmes.yaml",
         "one_line: 専門窓口で、計画を立てて相談から就職後の定着まで続けて支援します。",
         "one_line: " + "長い説明" * 1300)
    problem = the(found(root), "content/rules.yaml", "results are longer than LINE's 5000")
    assert problem.severity == ERROR and "the longest" in problem.message
    assert "shorten the programmes' one_line" in problem.fix
