"""`tsunagu simulate`: the questionnaire in a terminal, through the engine and messages of LINE."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.content.bundle import FLOW_FILE, bundle_id
from bot.db import versions
from bot.db.database import database
from bot.dialogue.matching import match
from bot.line.render import tel_uri
from bot.studio import library
from bot.studio.simulate import UNKNOWN_NUMBER, button_lines, message_lines
from tests.support.paths import ROOT

ECHO = re.compile(r"^> .*$", re.M)


@pytest.fixture(scope="module")
def content():
    return library.draft()


@pytest.fixture
def no_app(monkeypatch):
    """Make building the app fail, so a command that runs shows it needs none."""
    monkeypatch.setenv("TSUNAGU_ENV", "production")
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "TSUNAGU_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def simulate(runner: CliRunner, lines, args=()) -> str:
    """Play answer lines, one a line as a script would; return the output (it must exit 0)."""
    result = runner.invoke(cli, ["simulate", *args], input="".join(f"{line}\n" for line in lines))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def play(no_app):
    """Return a function that plays answer lines without any app, LINE settings or database."""
    return lambda *lines, args=(): simulate(CliRunner(), lines, args)


def replies(output: str) -> list[str]:
    """Split a transcript into what was shown before the first answer and after each answer."""
    return [part.strip("\n") for part in ECHO.split(output)]


# Button numbers, in the order the renderer lays the buttons out (the echo checks the label).
def tap(content, step_id: str, label: str) -> str:
    return str([o.label for o in content.flow.step(step_id).options].index(label) + 1)


def region(content, name: str) -> str:
    return str([r.name for r in content.regions].index(name) + 1)


def town(content, name: str) -> str:
    found = next(r for r in content.regions if name in r.municipalities)
    return str(found.municipalities.index(name) + 1)


def control(content, step_id: str, which: str) -> str:
    step = content.flow.step(step_id)
    count = len(content.regions) if step.kind == "area" else len(step.options)
    has_back = content.flow.previous(step_id) is not None
    return str(count + 1 + (which == "restart" and has_back))


def self_to_akita(content) -> list[str]:
    """Return the answers of a person, 42, out of work over a year, in Akita city."""
    return [tap(content, "subject", "ご本人"), "42",
            tap(content, "employment", "1年以上働いていない"),
            tap(content, "single_parent", "いいえ"), tap(content, "hikikomori", "とくにない"),
            tap(content, "wish", "仕事を探したい"), region(content, "中央"),
            town(content, "秋田市")]


SELF_TO_AKITA = {"subject": "self", "age": "40-44", "age_years": "42",
                 "employment": "not_working_long", "single_parent": "no",
                 "hikikomori": "none", "wish": "work", "area": "秋田市"}


def test_a_whole_conversation_ends_in_its_referral(play, content):
    output = play(*self_to_akita(content))
    parts = replies(output)
    assert len(parts) == 9
    first = parts[0]
    assert content.message("greeting") in first
    assert content.message("privacy", keep_years="5") in first  # as LINE shows it
    assert "1) ご本人" in first and "4) 最初から" in first
    assert "> 1（ご本人）" in output and "\n> 42\n" in output  # a typed age has no label
    assert content.flow.step("employment").question(None) in parts[2]
    result = parts[-1]
    found = match(content, SELF_TO_AKITA)
    assert found.programmes and found.offices
    for programme in found.programmes:
        assert f"■{programme.title}" in result, programme.title
    for office in found.offices:
        assert f"■ {office.name}" in result, office.name
        if office.phone:
            assert f"TEL {tel_uri(office.phone).removeprefix('tel:')}" in result
        if office.url:
            assert office.url in result
        if not (office.phone or office.url):
            assert content.message("office_contact_unknown") in result
        if office.address:
            assert office.address in result
    assert "TEL " in result  # someone there can be called
    answers = "".join(f"  {n}) {a.label}\n" for n, a in enumerate(content.feedback.answers, 1))
    assert result.rstrip().endswith(
        f"{content.message('result_closing')}\n\n{content.feedback.question}\n{answers}"
        f"  4) {content.handoff.button}\n  5) 最初から")


def test_it_shows_exactly_what_the_webhook_sends(runner, content, line_user):
    answers = self_to_akita(content)
    output = simulate(runner, answers)
    line_user.follow()
    shown = [line_user.messages]
    for answer in answers:  # the same numbers, tapped on LINE (or typed, as 42 is)
        buttons = line_user.quick_replies
        if int(answer) <= len(buttons):
            line_user.postback(buttons[int(answer) - 1]["action"]["data"])
        else:
            line_user.say(answer)
        shown.append(line_user.messages)
    for part, messages in zip(replies(output), shown, strict=True):
        expected = "\n\n".join("\n".join(message_lines(m)) for m in messages)
        buttons = (messages[-1].get("quickReply") or {}).get("items", [])
        assert part.endswith(expected + "\n" + "\n".join(button_lines(buttons))), part


def test_back_and_restart_work_as_on_line(play, content):
    back = control(content, "age", "back")
    parts = replies(play(tap(content, "subject", "ご本人"), "戻る",
                         tap(content, "subject", "ご家族"), back, "2",
                         control(content, "age", "restart"), "最初から"))
    subject = content.flow.step("subject").question(None)
    age = content.flow.step("age")
    assert age.question(None) in parts[1]
    assert parts[2].startswith(subject)  # 戻る typed
    assert age.question("family") in parts[3]
    assert parts[4].startswith(subject)  # 戻る tapped
    assert age.question("family") in parts[5]
    assert parts[6].startswith(subject) and parts[7].startswith(subject)  # 最初から, twice
    assert all(content.message("greeting") not in part for part in parts[1:])


def test_restart_button_label_is_echoed(play, content):
    output = play(tap(content, "subject", "ご本人"), control(content, "age", "restart"))
    assert f"> {control(content, 'age', 'restart')}（最初から）" in output


@pytest.mark.parametrize("typed", ["42", "42歳", "４２", "42才"])
def test_a_typed_age_answers_the_age_question(play, content, typed):
    parts = replies(play(tap(content, "subject", "ご本人"), typed))
    assert parts[2].startswith(content.flow.step("employment").question(None))


def test_a_small_number_at_the_age_question_taps_its_button(play, content):
    output = play(tap(content, "subject", "ご本人"), "3")
    assert "> 3（40〜44歳）" in output
    assert replies(output)[2].startswith(content.flow.step("employment").question(None))


def test_words_that_are_no_age_are_asked_again(play, content):
    parts = replies(play(tap(content, "subject", "ご本人"), "よくわからない"))
    assert parts[2].startswith(content.message("age_not_understood"))


def answers_to_area(content) -> list[str]:
    return self_to_akita(content)[:6]


def test_a_typed_municipality_answers_the_area_question(play, content):
    parts = replies(play(*answers_to_area(content), "東京都", "中央", "秋田市"))
    assert parts[7].startswith(content.message("area_not_understood"))
    assert content.message("area_pick", region="中央") in parts[8]  # a region typed
    result = parts[9]
    for office in match(content, SELF_TO_AKITA).offices:
        assert f"■ {office.name}" in result


def test_a_typed_municipality_gives_that_place_its_offices(play, content):
    result = replies(play(*answers_to_area(content), "横手市"))[-1]
    found = match(content, {**SELF_TO_AKITA, "area": "横手市"})
    for office in found.offices:
        assert f"■ {office.name}" in result
    assert found.offices != match(content, SELF_TO_AKITA).offices  # the place matters


def test_an_unknown_number_is_explained_and_the_options_shown_again(play, content):
    parts = replies(play("9", "0", tap(content, "subject", "ご本人")))
    for part, number in ((parts[1], "9"), (parts[2], "0")):
        assert part.startswith(UNKNOWN_NUMBER.format(number=number, count=4))
        assert part.endswith("  1) ご本人\n  2) ご家族\n  3) 企業・事業主の方\n  4) 最初から")
    assert parts[3].startswith(content.flow.step("age").question(None))  # still on track


def test_a_family_member_is_asked_about_in_the_family_wording(play, content):
    answers = self_to_akita(content)
    answers[0] = tap(content, "subject", "ご家族")
    parts = replies(play(*answers))
    for part, step in zip(parts[1:7], ["age", "employment", "single_parent", "hikikomori",
                                       "wish", "area"], strict=True):
        wording = content.flow.step(step).question("family")
        assert wording != content.flow.step(step).question(None)
        assert part.startswith(wording), step
    assert parts[-1].startswith(content.message("result_intro_family"))


def test_an_employer_takes_the_employers_path(play, content):
    parts = replies(play(tap(content, "subject", "企業・事業主の方"),
                         tap(content, "employer_need", "氷河期世代を採用したい"), "秋田市"))
    assert parts[1].startswith(content.flow.step("employer_need").question(None))
    assert parts[2].startswith(content.flow.step("area").question("employer"))
    result = parts[3]
    assert result.startswith(content.message("result_intro_employer"))
    found = match(content, {"subject": "employer", "employer_need": "hire", "area": "秋田市"})
    assert found.programmes and all(p.audience == "employers" for p in found.programmes)
    for programme in found.programmes:
        assert f"■{programme.title}" in result
    for office in found.offices:
        assert f"■ {office.name}" in result


def test_after_a_referral_more_lines_go_on_as_on_line(play, content):
    # Under the result: 1) to 3) the feedback question's answers, 4) 相談員と話したい, 5) 最初から.
    parts = replies(play(*self_to_akita(content), "5", tap(content, "subject", "ご本人")))
    assert parts[9].startswith(content.flow.step("subject").question(None))  # 最初から
    assert content.message("greeting") not in parts[9]
    assert parts[10].startswith(content.flow.step("age").question(None))


def test_a_crisis_word_gets_the_crisis_lines_at_once(play, content):
    parts = replies(play(tap(content, "subject", "ご本人"), content.safety.crisis_words[0]))
    assert parts[2].startswith(content.message("crisis"))
    for line in content.safety.crisis_lines:
        assert f"■ {line.name}" in parts[2]  # the Flex bubble, one box a line
        assert f"TEL {tel_uri(line.phone).removeprefix('tel:')}" in parts[2]
    assert content.message("crisis_after") in parts[2]
    assert content.flow.step("age").question(None) in parts[2]  # the question it was at


def copy_root(tmp_path: Path) -> Path:
    for folder in ("content", "flows"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_root_plays_that_copy(play, tmp_path):
    root = copy_root(tmp_path)
    flow = root / "flows" / "questionnaire.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace(
        "どなたについてのご相談ですか？", "（試し）どなたのご相談でしょうか？"), encoding="utf-8")
    output = play("1", args=("--root", str(root)))
    assert "（試し）どなたのご相談でしょうか？" in output
    assert "どなたについてのご相談ですか？" not in output
    assert str(root / "flows") in output  # says what it plays
    assert "どなたについてのご相談ですか？" in play()  # the draft itself is untouched


def test_root_with_content_that_fails_the_checks_says_so(play, tmp_path):
    root = copy_root(tmp_path)
    flow = root / "flows" / "questionnaire.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace(
        "    counted_as: 市町村\n", ""), encoding="utf-8")
    assert "`tsunagu check` の指摘が1件" in play(args=("--root", str(root)))


def test_version_plays_a_stored_version(app, runner):
    files = library.draft_files()
    files[FLOW_FILE] = files[FLOW_FILE].decode("utf-8").replace(
        "どなたについてのご相談ですか？", "（版）どなたのご相談ですか？").encode("utf-8")
    number = versions.add(database(app), files, bundle_id(files), "try", "tester")
    result = runner.invoke(cli, ["simulate", "--version", str(number)], input="1\n")
    assert result.exit_code == 0, result.output
    assert "（版）どなたのご相談ですか？" in result.output
    assert f"公開した版 {number}" in result.output and bundle_id(files) in result.output
    assert "> 1（ご本人）" in result.output


def test_an_unknown_version_is_named(app, runner):
    result = runner.invoke(cli, ["simulate", "--version", "99"], input="")
    assert result.exit_code != 0
    assert "there is no version 99" in str(result.exception)


def test_root_and_version_together_are_refused(no_app):
    result = CliRunner().invoke(cli, ["simulate", "--root", str(ROOT), "--version", "1"])
    assert result.exit_code == 2 and "not both" in result.output


def test_at_a_terminal_it_prompts_and_ends_on_ctrl_d(no_app):
    pty = pytest.importorskip("pty")
    main, other = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()",
                                "simulate"], cwd=ROOT, stdin=other, stdout=other,
                               stderr=other, env=os.environ.copy())
    os.close(other)
    seen = b""

    def read_until(wanted: bytes, times: int = 1, timeout: float = 20) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while seen.count(wanted) < times and time.monotonic() < end:
            if select.select([main], [], [], 0.2)[0]:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
        assert wanted in seen, seen.decode(errors="replace")

    try:
        read_until(b"Ctrl-D")
        read_until(b"4) " + "最初から".encode() + b"\r\n> ")
        os.write(main, b"1\n")
        read_until("年齢を教えてください".encode())
        read_until(b"\r\n> ", times=2)  # the next prompt: Ctrl-D before it would be lost
        os.write(main, b"\x04")
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        os.close(main)
    assert "（ご本人）".encode() not in seen  # the person's own typing is not echoed again
