"""The generation's ages move with the years: the notes and rules follow today's date."""

from __future__ import annotations

import pytest

from bot import clock
from bot.content.schema import AgeRange, Generation
from bot.dialogue.matching import bounds
from bot.studio.checks import examine
from bot.studio.library import draft_files
from tests.support.drafts import copy_draft, edit

YEAR = clock.japan_date().year
SHIPPED = Generation(left_school=(1993, 2004), leaving_ages=(18, 22))


@pytest.mark.parametrize(("year", "ages"), [(2024, (38, 53)), (2026, (40, 55)), (2030, (44, 59))])
def test_the_generation_is_the_years_its_members_left_school(year, ages):
    assert SHIPPED.ages(year) == ages


def test_younger_and_older_follow_the_year(app):
    from bot.content.source import content_source

    with app.app_context():
        content = content_source(app).current()
    assert bounds(content, AgeRange(generation="younger"), 2026) == (0, 39)
    assert bounds(content, AgeRange(generation="older"), 2026) == (56, 200)
    assert bounds(content, AgeRange(generation="younger"), 2030) == (0, 43)


def answer_age(line_user, age: str) -> None:
    line_user.follow()
    line_user.tap("ご本人")
    line_user.say(age)
    for label in ("正社員", "いいえ", "とくにない", "まずは話を聞いてほしい"):
        line_user.tap(label)
    line_user.say("秋田市")


def test_a_37_year_old_is_told_the_generation_s_ages_of_this_year(line_user):
    youngest, oldest = SHIPPED.ages(YEAR)
    answer_age(line_user, "37")
    assert f"就職氷河期世代（いまおおむね{youngest}〜{oldest}歳の方）" in line_user.text
    assert "それより若い方も" in line_user.text and "30代後半" not in line_user.text


def test_a_58_year_old_is_older_than_the_generation(line_user):
    answer_age(line_user, "58")
    assert "それより上の年代の方も" in line_user.text


def test_an_age_inside_the_generation_gets_no_note(line_user):
    answer_age(line_user, str(sum(SHIPPED.ages(YEAR)) // 2))
    assert "就職氷河期世代（いま" not in line_user.text


def test_check_warns_when_a_note_s_fixed_ages_disagree_with_this_year(tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "content/rules.yaml", "      age: {generation: younger}\n", "      age: {max: 34}\n")
    report = examine(draft_files(root))
    youngest, oldest = SHIPPED.ages(YEAR)
    said = [p.message for p in report.warnings if "note_younger" in p.message]
    assert said == [f"says 'note_younger' from a fixed age (max 34), but this year the "
                    f"generation is {youngest}–{oldest}"]


def test_a_rule_about_the_generation_needs_the_generation_defined(tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "content/rules.yaml", "generation:\n  left_school: [1993, 2004]\n"
         "  leaving_ages: [18, 22]\n", "")
    text = (root / "content/rules.yaml").read_text(encoding="utf-8")
    (root / "content/rules.yaml").write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("  source: \"https"))
        + "\n", encoding="utf-8")
    report = examine(draft_files(root))
    assert any("rules.yaml defines no generation" in p.message for p in report.errors())
