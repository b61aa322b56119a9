"""The check's problems in Japanese on the editors' pages, each with its own values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.content.files import Problem
from bot.studio.checks import examine
from bot.studio.checks.japanese import SAID, in_japanese
from bot.studio.library import draft_files
from tests.support.drafts import copy_draft, edit

ROOT = Path(__file__).resolve().parents[2]


def said(message: str, fix: str = "the fix") -> tuple[str, str]:
    return in_japanese(Problem("content/x.yaml", 1, "item", message, fix))


def test_the_shipped_content_s_warnings_read_in_japanese():
    report = examine(draft_files(ROOT))
    assert report.problems, "the shipped content has warnings to read"
    for problem in report.problems:
        message, fix = in_japanese(problem)
        assert message != problem.message and not message.isascii(), problem.message


@pytest.mark.parametrize(("message", "words"), [
    ("uses {name}, which the bot does not fill in this message", ["{name}"]),
    ("the button label 'ご本人のことについて相談したい方' is 21 characters; LINE shows at most 20 "
     "and the bot would cut it to 'x'", ["ご本人のことについて相談したい方", "21", "20"]),
    ("was last checked 2025-01-01, over 180 days ago", ["2025-01-01", "180"]),
    ("expects employment = 'part_time', which no answer gives", ["employment", "part_time"]),
    ("has a '{' or '}' that is not a {name}", ["中かっこ"]),
])
def test_a_problem_is_said_with_its_own_values(message, words):
    text, fix = said(message)
    assert all(w in text for w in words) and fix and not fix.isascii()


def test_a_problem_no_entry_reads_is_shown_as_the_check_says_it():
    assert said("something new the check says", "do this") == (
        "something new the check says", "do this")


def test_every_entry_formats():
    for pattern, message, fix in SAID:
        names = {n: "1" for n in re.compile(pattern).groupindex}
        message.format(**names), fix.format(**names)


def test_a_broken_message_reads_in_japanese_in_the_check_of_a_draft(tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "content/messages.yaml", 'result_intro: "お答えいただき',
         'result_intro: "{name}さん、お答えいただき')
    report = examine(draft_files(root))
    texts = [in_japanese(p)[0] for p in report.errors()]
    assert any("{name} を使っていますが" in t for t in texts), texts
