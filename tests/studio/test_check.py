"""`tsunagu check`: broken copies of the content, each refused with its file, line, item, fix."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.content import bundle
from bot.content.files import ContentError
from bot.dialogue.engine import Crisis, Result
from bot.dialogue.matching import match
from bot.line import messages
from bot.line.limits import MAX_ALT_TEXT, MAX_BUBBLES, MAX_TEXT
from bot.line.render import Renderer
from bot.studio import checks
from bot.studio.checks import ERROR, WARNING, Problem, check_command, examine, require_fine
from tests.support.paths import ROOT

OFFICES, RULES, FLOW = "content/offices.yaml", "content/rules.yaml", "flows/questionnaire.yaml"
PROGRAMMES, SCENARIOS = "content/programmes.yaml", "content/scenarios.yaml"


@pytest.fixture
def root(tmp_path) -> Path:
    """Copy the shipped content and flows into a folder of this test's own."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    return tmp_path


def edit(root: Path, name: str, old: str, new: str, count: int = 1) -> int:
    """Replace text in one file of the copy; return the line (from 1) the change starts on."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def line_of(root: Path, name: str, text: str, after: str = "") -> int:
    """Return the line (from 1) where `text` first appears in a file (after `after`)."""
    content = (root / name).read_text(encoding="utf-8")
    start = content.index(after) if after else 0
    return content[:content.index(text, start)].count("\n") + 1


def found(root: Path, today: dt.date | None = None) -> checks.Report:
    return examine(bundle.read_folders(root / "content", root / "flows"), today=today)


def the(report: checks.Report, file: str, message: str, **fields) -> Problem:
    """Return the one problem in this file whose message has these words (and these fields)."""
    hits = [p for p in report.problems if p.file == file and message in p.message
            and all(getattr(p, k) == v for k, v in fields.items())]
    assert len(hits) == 1, "\n".join(p.text() for p in report.problems)
    return hits[0]


def run(root: Path, *args: str):
    return CliRunner().invoke(check_command, ["--root", str(root), *args])


@pytest.fixture(scope="module")
def shipped() -> checks.Report:
    return examine(bundle.read_folders(ROOT / "content", ROOT / "flows"))


# ---- The shipped content ------------------------------------------------------------------

def test_the_shipped_content_has_no_errors_and_every_scenario_passes(shipped):
    assert shipped.errors() == [], "\n".join(p.text() for p in shipped.errors())
    assert shipped.scenarios >= 20
    assert not [p for p in shipped.problems if p.file == SCENARIOS]
    # Every rule (and the fallback) is what some scenario gets.
    assert not [p for p in shipped.problems if "no scenario gets this rule" in p.message]
    assert shipped.coverage.total == shipped.coverage.reached >= 88200


def test_the_command_accepts_the_shipped_content():
    result = run(ROOT)
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output and "is fine: 36 programmes" in result.output
    assert "scenarios played" in result.output
    assert re.search(r"\b(\d+) of \1 citizens' answer combinations reach an office with a "
                     r"phone or web button", result.output)
    assert re.search(r"\b\d+ of \d+ employers' answer combinations do", result.output)


def test_the_command_is_fast_and_needs_no_database_or_line_settings():
    tool = Path(sys.executable).with_name("tsunagu")
    env = {"PATH": "/usr/bin:/bin", "TSUNAGU_ENV": "production", "LINE_CHANNEL_SECRET": "",
           "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    start = time.monotonic()
    # --root: a folder alone (without it, check reads the console's saves from the database).
    result = subprocess.run([str(tool), "check", "--root", str(ROOT)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    took = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is fine" in result.stdout
    assert took < 10, took  # about 1.5 s on a quiet machine; this catches a runaway


def test_warnings_fail_only_with_strict(root):
    assert run(root).exit_code == 0
    strict = run(root, "--strict")
    assert strict.exit_code == 1
    assert "warning: office 'hw-akita': has no phone and no web address" in strict.output


def test_json_output_has_every_field(root):
    line = edit(root, OFFICES, "    areas: [秋田市]\n", "    areas: [秋田]\n")
    result = run(root, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["fine"] is False and data["errors"] >= 1 and data["warnings"] >= 1
    for problem in data["problems"]:
        assert set(problem) == {"severity", "file", "line", "item", "message", "fix"}
        assert problem["severity"] in (ERROR, WARNING)
    wrong = [p for p in data["problems"] if "'秋田'" in p["message"]]
    assert wrong == [{"severity": ERROR, "file": OFFICES, "line": line,
                      "item": "office 'hw-akita'", "message": wrong[0]["message"],
                      "fix": wrong[0]["fix"]}]
    citizens = data["coverage"]["citizens"]
    assert citizens["combinations"] == citizens["reached"] >= 88200
    # Since the labour bureau's web address (docs/sources/, 2026-12-02) every employer too.
    employers = data["coverage"]["employers"]
    assert employers["combinations"] == employers["reached"] == 125
    assert employers["gaps"] == []


def test_text_output_is_one_line_per_problem_then_the_summary(root):
    line = edit(root, OFFICES, "    areas: [秋田市]\n", "    areas: [秋田]\n")
    result = run(root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (f"{OFFICES}:{line}: error: office 'hw-akita': serves '秋田', which is not a "
            "municipality in areas.yaml; fix the name (did you mean '秋田市'?) or use \"*\" "
            "for the whole prefecture") in lines
    summary = next(i for i, text in enumerate(lines) if re.match(r"\d+ errors, \d+ warnings", text))
    assert all(": error: " in text or ": warning: " in text for text in lines[:summary])
    assert "needs fixing" in lines[summary]


# ---- Layer 1: the files -------------------------------------------------------------------

def test_yaml_syntax_is_reported_with_its_line(root):
    line = edit(root, OFFICES, "    name: ハローワーク秋田\n", "    name: [ハローワーク秋田\n")
    report = found(root)
    problem = the(report, OFFICES, "not valid YAML")
    assert line <= problem.line <= line + 2
    assert report.content is None  # the other layers wait for the files to read


def test_a_schema_error_names_the_field_and_what_is_expected(root):
    line = edit(root, PROGRAMMES, "    audience: citizens\n", "    audience: citizen\n")
    problem = the(found(root), PROGRAMMES, "'audience' should be one of")
    assert problem.line == line and problem.item == "programme 'hw-consultation'"
    assert "'citizens', 'employers' or 'awareness'" in problem.message
    assert "'citizen'" in problem.message


def test_schema_errors_of_every_file_are_all_reported(root):
    misspelt = edit(root, OFFICES, "    kind: hellowork\n", "    knid: hellowork\n")
    date = edit(root, OFFICES, "checked: 2026-12-01", "checked: 2026-13-01")
    flow = edit(root, FLOW, "      - {value: \"35-39\", label: \"35〜39歳\", min: 35, max: 39}",
                "      - {value: \"35-39\", label: \"35〜39歳\", min: 35, max: many}")
    rule = edit(root, RULES, "age: {max: 49}", "age: 49")
    yaml = edit(root, "content/areas.yaml", "  - name: 県南\n", "  - name: 県南\n x: [\n")
    report = found(root)
    assert the(report, OFFICES, "'knid' is not a known field").line == misspelt
    assert "the fields are: id, name, kind" in the(report, OFFICES, "'knid'").fix
    assert the(report, OFFICES, "'kind' is missing").item == "office 'hw-akita'"
    assert the(report, OFFICES, "'checked' should be a date").line == date
    assert the(report, FLOW, "'max' should be a whole number").line == flow
    assert the(report, FLOW, "'max'").item == "question 'age', option '35-39'"
    problem = the(report, RULES, "'age' should be a list such as [a, b] or "
                  "{min: ..., max: ..., generation: ...}")
    assert problem.line == rule and problem.item == "rule 'long-term-no-work-saposute'"
    assert the(report, "content/areas.yaml", "not valid YAML").line >= yaml


def test_a_missing_file_is_an_error(root):
    (root / "content" / "safety.yaml").unlink()
    result = run(root)
    assert result.exit_code == 1
    assert "safety.yaml: error: file is missing" in result.output


def test_a_duplicate_id_names_both_lines(root):
    first = line_of(root, OFFICES, "  - id: hw-noshiro\n")
    second = edit(root, OFFICES, "  - id: hw-odate\n", "  - id: hw-noshiro\n")
    problem = the(found(root), OFFICES, "is used 2 times")
    assert problem.item == "office 'hw-noshiro'" and problem.line == second
    assert f"lines {first} and {second}" in problem.message


def test_duplicate_rule_ids_option_values_and_keys_are_errors(root):
    rule = edit(root, RULES, "  - id: hikikomori\n", "  - id: single-parent\n")
    option = edit(root, FLOW, "      - value: family\n        label: ご家族",
                  "      - value: self\n        label: ご家族")
    key = edit(root, "content/messages.yaml", "office_web:", "office_call: 電話\noffice_web:")
    report = found(root)
    assert the(report, RULES, "is used 2 times").line == rule
    assert the(report, FLOW, "is used 2 times").item == "question 'subject', option 'self'"
    assert the(report, FLOW, "is used 2 times").line == option
    assert the(report, "content/messages.yaml", "'office_call' is given twice").line == key


def test_the_bot_refuses_to_load_what_check_refuses(root):
    edit(root, OFFICES, "    kind: hellowork\n", "    knid: hellowork\n")
    with pytest.raises(ContentError, match=r"content/offices.yaml:\d+: office 'hw-akita': "
                                           r"'kind' is missing"):
        bundle.load(root / "content", root / "flows")


# ---- Layer 2: what the content means ------------------------------------------------------

def test_a_next_that_points_nowhere(root):
    line = edit(root, FLOW, "    next: area\n", "    next: nowhere\n")
    problem = the(found(root), FLOW, "goes next to 'nowhere', which is not a question")
    assert problem.item == "question 'wish'" and problem.line == line
    assert "'done'" in problem.fix


def test_a_question_no_path_reaches(root):
    edit(root, FLOW, "    next: single_parent\n", "    next: hikikomori\n")
    problem = the(found(root), FLOW, "is never asked")
    assert problem.item == "question 'single_parent'"
    assert problem.line == line_of(root, FLOW, "  - id: single_parent")


def test_a_loop_that_never_ends_in_a_referral(root):
    line = edit(root, FLOW, "    next: area\n", "    next: employment\n")
    problem = the(found(root), FLOW, "go round in a circle")
    assert "employment → single_parent → hikikomori → wish → employment" in problem.message
    assert problem.item == "question 'wish'" and problem.line == line


def test_a_rule_naming_a_missing_programme_or_office(root):
    line = edit(root, RULES, "programmes: [mothers-corner, single-parent-center]",
                "programmes: [mothers-corner, single-parent-centre]")
    office = edit(root, RULES, '"nearest:fukushi-kankyo"', '"nearest:fukushi-kanko"')
    hw = edit(root, RULES, "offices: [hw-akita-senmon,", "offices: [hw-akita-senmn,")
    report = found(root)
    problem = the(report, RULES, "names programme 'single-parent-centre'")
    assert problem.item == "rule 'single-parent'" and problem.line == line
    assert "did you mean 'single-parent-center'?" in problem.fix
    assert the(report, RULES, "no office in offices.yaml has kind 'fukushi-kanko'").line == office
    assert the(report, RULES, "names office 'hw-akita-senmn'").line == hw


def test_an_office_serving_no_area(root):
    edit(root, OFFICES, "    areas: [秋田市]\n", "    areas: []\n")
    problem = the(found(root), OFFICES, "serves no area")
    assert problem.item == "office 'hw-akita'"
    assert problem.line == line_of(root, OFFICES, "    areas: []")


def test_an_unknown_answer_value_in_a_rule(root):
    line = edit(root, RULES, 'single_parent: ["yes"]', 'single_parent: ["maybe"]')
    report = found(root)
    problem = the(report, RULES, "expects single_parent = 'maybe', which no answer gives")
    assert problem.item == "rule 'single-parent'" and problem.line == line
    assert "use one of yes, no" in problem.fix
    assert the(report, RULES, "fits no answers anyone can give").severity == WARNING
    # Nobody is a single parent any more: the programmes only that rule gave are unreached.
    assert the(report, PROGRAMMES, "no answers lead to it", item="programme 'mothers-corner'")


def test_answers_that_match_no_programme_or_give_no_office(root):
    line = line_of(root, RULES, "fallback:")
    edit(root, RULES, "  programmes: [akita-job-center, hw-consultation]\n"
         "  offices: [akita-job-center, \"nearest:hellowork\", \"nearest:jiritsu-soudan\"]",
         "  programmes: []\n  offices: []")
    report = found(root)
    nothing = the(report, RULES, "answer combinations get no programme")
    assert nothing.item == "fallback rule 'everyone'" and nothing.line == line
    assert "e.g. ご本人, " in nothing.message
    assert the(report, RULES, "answer combinations get no office, e.g.").item == (
        "fallback rule 'everyone'")


def test_a_rule_on_a_question_that_does_not_exist(root):
    edit(root, RULES, "      wish: [money]\n", "      wishes: [money]\n")
    problem = the(found(root), RULES, "asks for the answer 'wishes'")
    assert "did you mean 'wish'?" in problem.fix


def test_a_message_with_a_name_the_bot_cannot_fill(root):
    line = edit(root, "content/messages.yaml", 'area_pick: "{region}の', 'area_pick: "{place}の')
    problem = the(found(root), "content/messages.yaml", "uses {place}")
    assert problem.item == "message 'area_pick'" and problem.line == line


def _without_contact(root: Path, *ids: str) -> None:
    """Take the phone and url out of these offices in the copy."""
    text = (root / OFFICES).read_text(encoding="utf-8")
    for office in ids:
        start = text.index(f"  - id: {office}\n")
        end = text.find("\n  - id:", start + 1)
        end = len(text) if end < 0 else end
        block = re.sub(r"(?m)^    (phone|url): .*\n", "", text[start:end])
        text = text[:start] + block + text[end:]
    (root / OFFICES).write_text(text, encoding="utf-8")


def test_a_name_in_a_message_shown_as_written_is_an_error(root):
    line = edit(root, "content/messages.yaml", 'result_intro: "', 'result_intro: "{keep_years}')
    problem = the(found(root), "content/messages.yaml", "uses {keep_years}")
    assert problem.item == "message 'result_intro'" and problem.line == line
    assert "shown as written" in problem.fix


def test_a_control_label_too_long_names_its_message(root):
    line = edit(root, "content/messages.yaml", 'back_button: "戻る"',
                'back_button: "ひとつ前の質問に戻って、答えをもう一度やり直します"')
    problem = the(found(root), "content/messages.yaml", "LINE shows at most 20")
    assert problem.item == "message 'back_button'" and problem.line == line


def test_answers_that_reach_no_office_to_call_are_grouped_in_plain_words(root):
    # 北秋田市's own window loses its phone; so do the prefecture-wide offices with one.
    _without_contact(root, "kitaakita-kurashi", "kenshakyo", "boshi-kafu-rengokai",
                     "single-parent-center")
    result = run(root)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    problem = [line for line in lines
               if "citizens' answer combinations get no office with a phone" in line]
    assert len(problem) == 1 and problem[0].startswith(f"{RULES}: error: ")
    assert "the largest gaps: 北秋田市 (3528)" in problem[0]
    assert re.search(r"^(\d+) of (\d+) citizens' answer combinations reach", result.output,
                     re.MULTILINE)
    assert ("  北秋田市: no office with a phone or web button (3528 of 3528 combinations)"
            in lines)


def test_a_partial_gap_says_how_many_of_its_answers_lack_a_contact(root):
    # Only 北秋田市's window loses its phone: there, a rule adding the 県社協 or the
    # single-parent operator still gives some people a number to call.
    _without_contact(root, "kitaakita-kurashi")
    cover = found(root).coverage
    gap = cover.gaps[0]
    assert gap.where.startswith("北秋田市, ") and 0 < gap.combinations < gap.of
    assert all(answers["area"] == "北秋田市" for answers in cover.unreachable)


def test_coverage_counts_as_match_does(root):
    edit(root, OFFICES, "    phone: ", "    fax: ", count=3)
    edit(root, OFFICES, "    fax: ", "    phone: ", count=3)  # no change: the same bundle
    content = bundle.load(root / "content", root / "flows")
    offices = content.offices | {"kenshakyo": content.offices["kenshakyo"].model_copy(
        update={"phone": "", "url": ""})}
    broken = content.model_copy(update={"offices": offices, "bundle_id": "no-kenshakyo"})
    cover = checks.coverage(broken)
    unreachable = 0
    for given in cover.results:
        assert match(broken, given.example).offices == given.match.offices
    for answers in _every_citizens_combination(broken):
        shown = match(broken, answers).offices[:MAX_BUBBLES]
        unreachable += not any(o.phone or o.url for o in shown)
    assert len(cover.unreachable) == unreachable


def _every_citizens_combination(content):
    import itertools

    for branch in content.flow.branches():
        values = [content.municipalities if v is None else v for _, v in branch]
        for combo in itertools.product(*values):
            answers = dict(zip([s.id for s, _ in branch], combo, strict=True))
            if answers.get("subject") != "employer":
                yield answers


# ---- Layer 3: LINE's limits ---------------------------------------------------------------

def test_a_label_too_long(root):
    line = edit(root, FLOW, "label: 正社員\n",
                "label: 正社員として長く働くフルタイムの仕事です。\n")
    report = found(root)
    problem = the(report, FLOW, "is 21 characters; LINE shows at most 20")
    assert problem.item == "question 'employment', option 'regular'" and problem.line == line
    # The scenarios tap what LINE shows: the label cut to 20 characters.
    assert the(report, SCENARIOS, "taps '正社員', but the bot shows no such button",
               item="scenario '34歳と入力する正社員の方（大潟村）'")


def test_too_many_options(root):
    extra = "".join(f"      - value: more{i}\n        label: ほか{i}\n" for i in range(6))
    edit(root, FLOW, "    next: area\n\n  - id: employer_need", extra + "    next: area\n\n"
         "  - id: employer_need")
    problem = the(found(root), FLOW, "has 12 options")
    assert "14 buttons, and LINE shows at most 13" in problem.message
    assert problem.item == "question 'wish'"


def test_postback_data_too_long(root):
    value = "x" * 290
    line = edit(root, FLOW, "      - value: talk\n", f"      - value: {value}\n")
    problem = the(found(root), FLOW, "bytes of data; LINE takes at most 300")
    assert problem.item == f"question 'wish', option '{value}'"
    assert problem.line == line + 1  # the option's label line


def test_text_too_long(root):
    line = edit(root, FLOW, '      default: "いちばん受けたい支援',
                '      default: "' + "あ" * 5000 + "いちばん受けたい支援")
    long_message = edit(root, "content/messages.yaml", 'result_closing: "',
                        'result_closing: "' + "い" * 5000)
    report = found(root)
    problem = the(report, FLOW, "LINE takes at most 5000")
    assert problem.item == "question 'wish' (default)" and problem.line == line
    assert the(report, "content/messages.yaml", "LINE takes at most 5000").line == long_message


def test_an_office_url_line_cannot_open(root):
    line = edit(root, OFFICES, "    url: https://", "    url: www.", count=1)
    assert the(found(root), OFFICES, "does not start with https://").line == line


# ---- Scenarios ----------------------------------------------------------------------------

def test_a_scenario_mismatch_names_the_scenario_and_its_line(root):
    line = edit(root, SCENARIOS, "      programmes: [hikikomori-local]\n",
                "      programmes: [hikikomori-local, saposute]\n")
    problem = the(found(root), SCENARIOS, "does not get programme 'saposute'")
    assert problem.severity == ERROR and problem.line == line
    assert problem.item == "scenario '自分のひきこもりのことで「はい」と入力（能代市）'"
    assert "rules: hikikomori" in problem.message


def test_a_scenario_that_gets_what_it_must_not(root):
    line = edit(root, SCENARIOS, "    must_not_get:\n      programmes: [akita-job-center]\n",
                "    must_not_get:\n      programmes: [hikikomori-local]\n")
    problem = the(found(root), SCENARIOS, "gets programme 'hikikomori-local', which it must not")
    assert problem.line == line + 1
    assert "take 'hikikomori-local' out of must_not_get" in problem.fix


def test_a_scenario_tapping_a_button_the_bot_does_not_show(root):
    line = edit(root, SCENARIOS, "      - tap: 試しに雇ってみたい\n",
                "      - tap: 試しに雇いたい\n")
    problem = the(found(root), SCENARIOS, "taps '試しに雇いたい', but the bot shows no such button")
    assert problem.line == line and "試しに雇ってみたい" in problem.message


def test_a_rule_no_scenario_gets_is_a_warning(root):
    text = (root / SCENARIOS).read_text(encoding="utf-8")
    start = text.index("  - name: 試しに雇ってみたい事業主")
    end = text.index("  - name:", start + 1)
    (root / SCENARIOS).write_text(text[:start] + text[end:], encoding="utf-8")
    report = found(root)
    problem = the(report, RULES, "no scenario gets this rule")
    assert problem.severity == WARNING and problem.item == "rule 'employer-tries-someone-out'"
    assert report.errors() == []


def test_a_scenario_schema_error_is_a_file_error(root):
    line = edit(root, SCENARIOS, "      - tap: 試しに雇ってみたい\n",
                "      - tap: 試しに雇ってみたい\n        say: はい\n")
    problem = the(found(root), SCENARIOS, "give either 'tap: <button label>' or 'say: <text>'")
    assert problem.line == line
    assert problem.item.startswith("scenario '試しに雇ってみたい事業主（大館市）'")


def test_the_scenarios_are_part_of_the_bundle(root):
    files = bundle.read_folders(root / "content", root / "flows")
    assert bundle.SCENARIOS_FILE in files
    without = {k: v for k, v in files.items() if k != bundle.SCENARIOS_FILE}
    assert bundle.bundle_id(without) != bundle.bundle_id(files)  # a version keeps its own
    assert bundle.parse(without).flow == bundle.parse(files).flow  # optional for the bot
    report = examine(without)
    assert report.errors() == []
    assert the(report, SCENARIOS, "there are no scenarios").severity == WARNING


# ---- Warnings -----------------------------------------------------------------------------

def test_a_stale_checked_date_is_a_warning(root):
    line = edit(root, OFFICES, "    checked: 2026-12-01\n", "    checked: 2020-04-01\n")
    edit(root, PROGRAMMES, "    repost_of: \"\"\n",
         "    repost_of: \"\"\n    source: \"https://www.pref.akita.lg.jp/\"\n"
         "    checked: 2020-04-01\n")
    report = found(root, today=dt.date(2026, 12, 1))
    problem = the(report, OFFICES, "was last checked 2020-04-01, over 180 days ago")
    assert problem.severity == WARNING and problem.line == line
    assert problem.item == "office 'hw-akita-senmon'"
    assert the(report, PROGRAMMES, "was last checked 2020-04-01").item == (
        "programme 'declaration-publicity'")
    assert report.errors() == [] and problem in report.errors(strict=True)
    fresh = found(root, today=dt.date(2020, 9, 28))  # 180 days after 2020-04-01
    assert not [p for p in fresh.problems if "was last checked" in p.message]


def test_tsunagu_facts_stale_days_sets_when_a_fact_is_old(root, monkeypatch):
    edit(root, OFFICES, "    checked: 2026-12-01\n", "    checked: 2026-10-01\n")
    assert not [p for p in found(root, today=dt.date(2026, 12, 7)).problems
                if "was last checked" in p.message]  # 67 days: fresh by the default 180
    monkeypatch.setenv("TSUNAGU_FACTS_STALE_DAYS", "30")
    stale = [p for p in found(root, today=dt.date(2026, 12, 7)).problems
             if "was last checked 2026-10-01, over 30 days ago" in p.message]
    assert [p.item for p in stale] == ["office 'hw-akita-senmon'"]


def test_a_long_bubble_and_an_office_with_no_sources_are_warnings(root):
    edit(root, "content/messages.yaml", 'result_closing: "', 'result_closing: "' + "あ" * 400)
    line = line_of(root, "content/messages.yaml", "result_closing:")
    text = (root / OFFICES).read_text(encoding="utf-8")
    text = re.sub(r"(  - id: hw-akita-senmon\n(?:    .*\n)*?)    sources:\n(?:      - .*\n)+",
                  r"\1    sources: []\n", text, count=1)
    (root / OFFICES).write_text(text, encoding="utf-8")
    report = found(root)
    # (The shipped privacy note is long too: a warning of its own, which the note's editors see.)
    long = the(report, "content/messages.yaml", "long for one bubble",
               item="message 'result_closing'")
    assert long.severity == WARNING and long.line == line
    assert the(report, OFFICES, "has no sources").item == "office 'hw-akita-senmon'"
    assert report.errors() == []


def test_a_programme_with_no_summary_is_a_warning(root):
    text = (root / PROGRAMMES).read_text(encoding="utf-8")
    start = text.index("  - id: store-publicity")
    summary = text.index("    summary: ", start)
    end = text.index("\n", summary)
    (root / PROGRAMMES).write_text(text[:summary] + '    summary: ""' + text[end:],
                                   encoding="utf-8")
    problem = the(found(root), PROGRAMMES, "has no summary")
    assert problem.severity == WARNING and problem.item == "programme 'store-publicity'"


# ---- Every problem, all at once -----------------------------------------------------------

def test_every_problem_is_reported_when_there_are_many(root):
    text = (root / OFFICES).read_text(encoding="utf-8")
    broken = 0

    def misname(m: re.Match) -> str:
        nonlocal broken
        if broken == 30 or m.group(0) == '"*"':
            return m.group(0)
        broken += 1
        return f"どこか{broken}市"

    text = re.sub(r"(?m)^    areas: \[.*\]$",
                  lambda line: re.sub(r'[^\[\], ]+', misname, line.group(0)[len("    areas: "):])
                  .join(["    areas: ", ""]), text)
    assert broken == 30
    (root / OFFICES).write_text(text, encoding="utf-8")
    report = found(root)
    wrong = [p for p in report.errors() if "which is not a municipality" in p.message]
    assert len(wrong) == 30
    assert {re.search(r"'(どこか\d+市)'", p.message).group(1) for p in wrong} == {
        f"どこか{i}市" for i in range(1, 31)}
    result = run(root)
    assert sum("which is not a municipality" in line for line in result.output.splitlines()) == 30
    assert "more" not in result.output.split("errors,")[0]


def test_every_schema_error_is_reported_when_there_are_many(root):
    text = (root / PROGRAMMES).read_text(encoding="utf-8")
    text = text.replace("    new: false\n", "    new: perhaps\n", 30)
    (root / PROGRAMMES).write_text(text, encoding="utf-8")
    report = found(root)
    assert len([p for p in report.errors() if "'new' should be true or false" in p.message]) == 30


# ---- The API the other tools use ----------------------------------------------------------

def test_examine_and_the_command_agree(root):
    edit(root, FLOW, "    next: area\n", "    next: nowhere\n")
    report = found(root)
    result = run(root)
    for problem in report.problems:
        assert problem.text() in result.output.splitlines()


def test_the_check_plays_the_scenarios_without_the_line_sdk(root):
    edit(root, SCENARIOS, "      programmes: [hikikomori-local]\n",
         "      programmes: [hikikomori-local, saposute]\n")
    script = ("import json, sys\n"
              "from bot.content import bundle\n"
              "from bot.studio import checks\n"
              f"files = bundle.read_folders({str(root / 'content')!r}, {str(root / 'flows')!r})\n"
              "report = checks.examine(files)\n"
              "print(json.dumps({'imported_the_sdk': 'linebot' in sys.modules,\n"
              "                  'problems': [p.text() for p in report.problems]}))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    played = json.loads(result.stdout)
    # The messages are built as plain JSON: checking them needs none of the SDK's models.
    assert played["imported_the_sdk"] is False
    assert any("does not get programme 'saposute'" in p for p in played["problems"])


def test_require_fine_refuses_errors_only_and_remembers(shipped):
    content = shipped.content
    require_fine(content)  # warnings do not stop the bot
    rules = content.rules.model_copy(update={"rules": [
        *content.rules.rules, content.rules.rules[0].model_copy(update={"say": "no_such"})]})
    broken = content.model_copy(update={"rules": rules, "bundle_id": "broken-say"})
    with pytest.raises(ContentError, match="says 'no_such', which is not in messages.yaml"):
        require_fine(broken)
    assert "broken-say" in checks._CHECKED


def test_the_check_measures_the_texts_the_renderer_sends(shipped):
    content = shipped.content
    renderer = Renderer(content)
    for given in shipped.coverage.results[:: max(1, len(shipped.coverage.results) // 200)]:
        for wording in given.wordings:
            text, cards, _ = renderer.render([Result(given.match, wording)])
            assert text["text"] == messages.cut(
                messages.result_text(content, given.match, wording), MAX_TEXT)
            shown = given.match.offices[:MAX_BUBBLES]
            assert cards["altText"] == messages.cut(messages.offices_text(content, shown),
                                                    MAX_ALT_TEXT)
    crisis = renderer.render([Crisis()])[0]["text"]
    assert crisis == messages.cut(messages.crisis_text(content), MAX_TEXT)
    # One builder: the checker measures with the very functions the renderer sends with.
    assert checks.result_text is messages.result_text
    assert checks.crisis_text is messages.crisis_text
