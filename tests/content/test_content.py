"""The shipped content: it loads, every reference resolves, everyone gets a place to go."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import create_app
from bot.content.bundle import load as load_content
from bot.content.files import ContentError
from bot.dialogue.engine import Crisis, Result
from bot.dialogue.matching import match, offices_for
from bot.line.limits import MAX_BUBBLES, MAX_LABEL
from bot.line.render import Renderer
from bot.studio.checks import problems
from bot.studio.flowdoc import render
from tests.support.paths import FACT_FILES, ROOT


@pytest.fixture(scope="module")
def content():
    return load_content(ROOT / "content", ROOT / "flows")


def test_every_programme_of_the_plan_is_content(content):
    items = {p.item for p in content.programmes.values()}
    for item in ("1(1)", "1(2)", "2(1)ア", "2(1)イ", "2(2)ア", "2(2)イ", "2(3)ア", "2(3)イ",
                 "2(4)", "3(1)", "3(2)", "3(3)", "4(1)", "4(2)", "4(3)", "4(4)ア", "4(4)イ",
                 "4(5)"):
        assert item in items
    assert len(content.programmes) == 36


def test_rules_name_only_programmes_and_offices_that_exist(content):
    for rule in [*content.rules.rules, content.rules.fallback]:
        for code in rule.programmes:
            assert code in content.programmes, (rule.id, code)
        for ref in rule.offices:
            if not ref.startswith("nearest:"):
                assert ref in content.offices, (rule.id, ref)
            else:
                kind = ref.removeprefix("nearest:")
                assert any(o.kind == kind for o in content.offices.values()), (rule.id, ref)


def test_office_areas_are_real_municipalities(content):
    for office in content.offices.values():
        for area in office.areas:
            assert area == "*" or area in content.municipalities, (office.id, area)
    assert len(content.municipalities) == 25


def test_everyone_gets_a_programme_and_a_place_to_go(content):
    steps = {s.id: s for s in content.flow.steps}
    values = [[o.value for o in steps[f].options] for f in
              ("subject", "age", "employment", "single_parent", "hikikomori")]
    for combo in itertools.product(*values, content.municipalities):
        answers = dict(zip(["subject", "age", "employment", "single_parent", "hikikomori",
                            "area"], combo, strict=True))
        found = match(content, answers)
        assert found.programmes and found.offices, answers
        assert all(p.audience == "citizens" for p in found.programmes), answers


def every_answer_combination(content, subjects=("self", "family")):
    """Yield every combination of the options on each way through the flow, and all places."""
    for branch in content.flow.branches():
        values = [content.municipalities if v is None else v for _, v in branch]
        for combo in itertools.product(*values):
            answers = dict(zip([s.id for s, _ in branch], combo, strict=True))
            if answers.get("subject") in subjects:
                yield answers


def test_everyone_gets_an_office_with_a_phone_or_web_button(content):
    total, unreachable = 0, []
    for answers in every_answer_combination(content):
        total += 1
        shown = match(content, answers).offices[:MAX_BUBBLES]  # the cards LINE shows
        if not any(o.phone or o.url for o in shown):
            unreachable.append(answers)
    assert total >= 88200  # 2 × 7 × 7 × 2 × 3 × 6 × 25 today; questions only gain options
    assert not unreachable, (f"{len(unreachable)} of {total} combinations reach no office "
                             f"with a phone or url, e.g. {unreachable[:3]}")


def test_every_municipality_has_a_window_to_call(content):
    for place in content.municipalities:
        windows = offices_for(content, "nearest:jiritsu-soudan", place)
        assert [o for o in windows if o.phone and place in o.areas], place


def test_the_plans_offices_stay_beside_the_reachable_ones(content):
    """The rules add reachable offices; the offices the plan names are still given."""
    answers = {"subject": "self", "age": "35-39", "employment": "non_regular",
               "single_parent": "yes", "hikikomori": "self", "area": "仙北市"}
    given = [o.id for o in match(content, answers).offices]
    for office in ("hw-akita-senmon", "hw-kakunodate", "mothers-corner", "single-parent-center",
                   "hikikomori-center", "fukushi-kankyo", "semboku-soudan", "kenshakyo",
                   "boshi-kafu-rengokai"):
        assert office in given, office
    assert len(given) <= MAX_BUBBLES


def test_an_office_with_no_contact_says_how_to_reach_it_instead(content):
    answers = {"subject": "self", "age": "40-44", "employment": "job_seeking",
               "single_parent": "no", "hikikomori": "none", "area": "北秋田市"}
    found = match(content, answers)
    assert [o.id for o in found.offices] == ["hw-akita-senmon", "hw-takanosu",
                                              "kitaakita-kurashi"]
    messages = Renderer(content).render([Result(found, None)])
    cards = next(m for m in messages if m["type"] == "flex")["contents"]["contents"]
    hint = content.message("office_contact_unknown")
    assert "準備中" not in hint
    for card, office in zip(cards, found.offices, strict=True):
        texts = [c.get("text") for c in card["body"]["contents"]]
        if office.phone or office.url:
            assert hint not in texts and card["footer"]["contents"], office.id
        else:
            assert hint in texts and "footer" not in card, office.id


def test_nearest_prefers_the_local_office(content):
    assert [o.id for o in offices_for(content, "nearest:fukushi-kankyo", "大館市")] == [
        "fukushi-kankyo-odate"]
    assert [o.id for o in offices_for(content, "nearest:fukushi-kankyo", "秋田市")] == [
        "fukushi-kankyo"]


def test_buttons_fit_lines_limits(content):
    for step in content.flow.steps:
        assert len(step.options) + 2 <= 13, step.id
        for option in step.options:
            assert len(option.label) <= 20, (step.id, option.label)
    for region in content.regions:
        assert len(region.municipalities) + 2 <= 13, region.name


def test_no_contact_detail_is_invented(content):
    """Every phone number and address shipped is one the facts files give."""
    facts = "\n".join(path.read_text(encoding="utf-8") for path in FACT_FILES)
    for office in content.offices.values():
        if office.phone:
            assert office.phone in facts, office.id
            assert office.sources, office.id
        if office.address:
            assert office.address.split("（")[0] in facts, office.id
        # Hours only as a facts file gives them: every time of day in them is there too.
        times = re.findall(r"\d{1,2}:\d{2}", office.hours)
        assert not office.hours or (times and all(t in facts for t in times)), office.id
    for line in content.safety.crisis_lines:
        assert line.phone in facts, line.name
        assert line.sources, line.name


def test_crisis_reply_gives_the_free_lines_first_and_says_which_is_charged(content):
    lines = content.safety.crisis_lines
    assert lines[0].free and lines[0].hours  # the first line is free and says when it answers
    costs = [line.free for line in lines]
    assert costs == sorted(costs, key=lambda free: {True: 0, None: 1, False: 2}[free])
    charged = [line for line in lines if line.free is False]
    assert [line.phone for line in charged] == ["0570-064-556"]  # a paid ナビダイヤル
    text, card = Renderer(content).render([Crisis()])
    listing = text["text"]
    assert listing.index("0120-279-338") < listing.index("0570-064-556")
    assert "0120-279-338（無料・24時間）" in listing
    assert "0570-064-556（通話料がかかります）" in listing
    assert "IP電話" in listing
    boxes = card["contents"]["body"]["contents"]
    buttons = [c for box in boxes for c in box["contents"] if c["type"] == "button"]
    assert [b["action"]["uri"] for b in buttons] == [
        "tel:" + line.phone.replace("-", "") for line in lines]
    assert all(len(b["action"]["label"]) <= MAX_LABEL for b in buttons)


def test_broken_content_is_reported_with_the_file(tmp_path):
    for name in ("programmes", "offices", "areas", "rules", "messages", "safety"):
        (tmp_path / f"{name}.yaml").write_text((ROOT / "content" / f"{name}.yaml").read_text())
    (tmp_path / "offices.yaml").write_text("offices:\n  - id: x\n    name: [unclosed\n")
    with pytest.raises(ContentError, match=r"offices.yaml:\d+"):
        load_content(tmp_path, ROOT / "flows")
    (tmp_path / "offices.yaml").write_text("offices:\n  - id: x\n")
    with pytest.raises(ContentError, match="offices.yaml:2: office 'x': 'name' is missing"):
        load_content(tmp_path, ROOT / "flows")


def copy_content(tmp_path: Path) -> tuple[Path, Path]:
    content_dir, flows_dir = tmp_path / "content", tmp_path / "flows"
    for source, target in ((ROOT / "content", content_dir), (ROOT / "flows", flows_dir)):
        target.mkdir()
        for path in source.glob("*.yaml"):
            (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return content_dir, flows_dir


def test_check_command_accepts_the_shipped_content(runner):
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "36 programmes" in result.output
    assert re.search(r"\b(\d+) of \1 citizens' answer combinations reach an office with a "
                     r"phone or web button", result.output), result.output
    # Employers are shown apart: their 担当 have no sourced contact yet.
    assert re.search(r"\b\d+ of \d+ employers' answer combinations do", result.output)


def test_check_reports_answers_that_reach_no_office_to_call(tmp_path):
    content_dir, flows_dir = copy_content(tmp_path)
    offices = (content_dir / "offices.yaml").read_text(encoding="utf-8")
    (content_dir / "offices.yaml").write_text(
        re.sub(r"(?m)^    (phone|url): .*\n", "", offices), encoding="utf-8")
    found = problems(load_content(content_dir, flows_dir))
    unreachable = [p for p in found if "no office with a phone or web button" in p]
    assert len(unreachable) == 1, found
    assert re.search(r"rules\.yaml: error: (\d+) of \1 citizens' answer combinations get no "
                     r"office", unreachable[0])
    assert "the largest gaps: every answer" in unreachable[0]
    assert "nearest:jiritsu-soudan" in unreachable[0]


def test_check_names_the_file_the_item_and_the_fix(tmp_path):
    content_dir, flows_dir = copy_content(tmp_path)
    rules = (content_dir / "rules.yaml").read_text(encoding="utf-8")
    (content_dir / "rules.yaml").write_text(
        rules.replace("programmes: [mothers-corner, single-parent-center]",
                      "programmes: [mothers-corner, no-such-programme]")
             .replace('single_parent: ["yes"]', 'single_parent: ["maybe"]'), encoding="utf-8")
    flow = (flows_dir / "questionnaire.yaml").read_text(encoding="utf-8")
    (flows_dir / "questionnaire.yaml").write_text(
        flow.replace("label: 正社員", "label: 正社員として長く働いているフルタイムの仕事"),
        encoding="utf-8")
    found = problems(load_content(content_dir, flows_dir))
    assert any("rule 'single-parent': names programme 'no-such-programme'" in p for p in found)
    assert any("expects single_parent = 'maybe'" in p for p in found)
    assert any("characters; LINE shows at most 20" in p for p in found)


def test_app_refuses_to_start_on_broken_content(tmp_path, database_url):
    content_dir, flows_dir = copy_content(tmp_path)
    flow = (flows_dir / "questionnaire.yaml").read_text(encoding="utf-8")
    (flows_dir / "questionnaire.yaml").write_text(flow.replace("next: area", "next: nowhere"),
                                                  encoding="utf-8")
    with pytest.raises(ContentError, match="goes next to 'nowhere'"):
        create_app({"DATABASE_URL": database_url, "CONTENT_DIR": str(content_dir),
                    "FLOWS_DIR": str(flows_dir)}, webhook=False)


def test_flow_document_is_up_to_date(content):
    """docs/flow.md is generated; regenerate it with `tsunagu flow --write docs/flow.md`."""
    assert (ROOT / "docs" / "flow.md").read_text(encoding="utf-8") == render(content)


def test_broken_flow_file_is_reported_like_content(tmp_path):
    content_dir, flows_dir = copy_content(tmp_path)
    (flows_dir / "questionnaire.yaml").write_text("flow: q\nsteps: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"questionnaire.yaml:\d+: not valid YAML"):
        load_content(content_dir, flows_dir)


def run_check(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `tsunagu check` as an editor would, in a shell with the given settings."""
    tool = Path(sys.executable).with_name("tsunagu")
    return subprocess.run([str(tool), "check", *args], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_check_runs_without_database_or_line_settings():
    # In production without LINE settings the app refuses to start; checking content is
    # still possible, and a folder alone (--root) touches no database.
    result = run_check("--root", str(ROOT), TSUNAGU_ENV="production", LINE_CHANNEL_SECRET="",
                       DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.returncode == 0, result.stderr
    assert "is fine: 36 programmes" in result.stdout


def test_check_names_each_problem_and_exits_1(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    messages = content / "messages.yaml"
    messages.write_text("\n".join(line for line in messages.read_text().splitlines()
                                  if not line.startswith("greeting:")), encoding="utf-8")
    result = run_check(TSUNAGU_CONTENT_DIR=str(content))
    assert result.returncode == 1
    assert "content/messages.yaml: error: message 'greeting': is missing" in result.stdout


def test_a_person_outside_the_generations_ages_is_told_so_honestly(content):
    answers = {"subject": "self", "employment": "regular", "single_parent": "no",
               "hikikomori": "none", "area": "秋田市"}
    assert match(content, {**answers, "age": "u35"}).says == ("note_younger",)
    assert match(content, {**answers, "age": "60+"}).says == ("note_older",)
    assert match(content, {**answers, "age": "40-44"}).says == ()
    assert match(content, {**answers, "age": "35-39", "age_years": "34"}).says == (
        "note_younger",)


def test_a_rule_naming_a_missing_message_is_refused(content):
    rules = content.rules.model_copy(update={"rules": [
        *content.rules.rules, content.rules.rules[0].model_copy(update={"say": "no_such"})]})
    found = problems(content.model_copy(update={"rules": rules}))
    assert any("says 'no_such', which is not in messages.yaml" in p for p in found)


def test_every_employers_answer_gets_the_plans_employer_programmes(content):
    given = set()
    for answers in every_answer_combination(content, subjects=("employer",)):
        found = match(content, answers)
        assert found.offices and all(p.audience == "employers" for p in found.programmes), answers
        given |= {p.id for p in found.programmes}
    assert given == {p.id for p in content.programmes.values() if p.audience == "employers"}
