"""`tsunagu check` on the question after a referral (content/feedback.yaml): was it useful?"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import bundle
from bot.studio.checks import ERROR
from tests.studio.test_check import edit, found, line_of, the
from tests.support.paths import ROOT

FEEDBACK = "content/feedback.yaml"


@pytest.fixture
def root(tmp_path) -> Path:
    """Copy the shipped content and flows into a folder of this test's own."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    return tmp_path


def test_the_shipped_question_is_fine(root):
    report = found(root)
    assert not [p.text() for p in report.problems if p.file == FEEDBACK]
    assert [a.value for a in report.content.feedback.answers] == ["useful", "unsure",
                                                                 "not_useful"]


def test_a_version_without_the_file_still_loads_and_asks_the_default(root):
    (root / FEEDBACK).unlink()  # as every version published before it
    report = found(root)
    assert report.errors() == []
    assert report.content.feedback.ask
    assert report.content.feedback.question == "このご案内は役に立ちそうですか？"


def test_a_label_over_line_s_limit_is_an_error_on_its_line(root):
    edit(root, FEEDBACK, "label: まだわからない", "label: " + "わ" * 21)
    problem = the(found(root), FEEDBACK, "the button label")
    assert problem.severity == ERROR and "21 characters" in problem.message
    assert problem.line == line_of(root, FEEDBACK, "label: わ")
    assert problem.item == "feedback answer 'unsure'"


def test_an_answer_counted_by_a_name_the_counter_cannot_hold_is_an_error(root):
    edit(root, FEEDBACK, "value: not_useful", "value: Not useful at all, really")
    problem = the(found(root), FEEDBACK, "is not a name it can be counted by")
    assert problem.severity == ERROR and "at most 16 characters" in problem.fix


def test_two_answers_counted_by_one_name_are_an_error(root):
    edit(root, FEEDBACK, "value: unsure", "value: useful")
    assert the(found(root), FEEDBACK, "its value is used 2 times").severity == ERROR


def test_asking_without_a_question_or_answers_is_an_error(root):
    edit(root, FEEDBACK, 'question: "このご案内は役に立ちそうですか？"', 'question: ""')
    assert the(found(root), FEEDBACK, "has no question").severity == ERROR
    edit(root, FEEDBACK, "ask: true", "ask: false")
    assert not [p for p in found(root).problems if p.file == FEEDBACK]


def test_the_file_is_an_optional_account_file():
    assert FEEDBACK in bundle.ACCOUNT_FILES and FEEDBACK in bundle.OPTIONAL
