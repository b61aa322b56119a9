"""Whole conversations for a table of personas: the referral the plan gives each of them."""

from __future__ import annotations

import json

import pytest

from bot.content.source import content_source
from tests.support.personas import PERSONAS, only_referral, play


@pytest.mark.parametrize("persona", PERSONAS, ids=[p.name for p in PERSONAS])
def test_persona_gets_the_plans_referral(app, line_user, persona):
    play(line_user, persona)
    referral = only_referral(app)
    programmes = {t.code for t in referral.targets if t.kind == "programme"}
    offices = {t.code for t in referral.targets if t.kind == "office"}
    assert persona.programmes <= programmes
    assert persona.offices <= offices
    assert not programmes & persona.not_programmes
    assert not offices & persona.not_offices

    content = content_source(app).current()
    reply = line_user.text
    for code in programmes:
        assert content.programmes[code].title in reply
    cards = next(m for m in line_user.messages if m["type"] == "flex")
    names = [b["body"]["contents"][0]["text"] for b in cards["contents"]["contents"]]
    assert set(names) == {content.offices[code].name for code in offices}
    assert "最初から" in line_user.buttons


def test_referral_records_the_answers_and_no_one(app, line_user):
    play(line_user, PERSONAS[0])
    referral = only_referral(app)
    assert referral.answers == {"subject": "self", "age": "40-44", "employment": "non_regular",
                                "single_parent": "no", "hikikomori": "none", "wish": "talk",
                                "area": "秋田市"}
    assert referral.flow == "questionnaire"
    assert referral.bundle_id == content_source(app).current().bundle_id


def persona(name_start: str):
    return next(p for p in PERSONAS if p.name.startswith(name_start))


@pytest.mark.parametrize(("name", "note"), [("30-year-old", "それより若い方も"),
                                            ("62-year-old", "それより上の年代の方も")])
def test_a_person_outside_the_generations_ages_is_told_honestly(line_user, name, note):
    play(line_user, persona(name))
    assert note in line_user.texts[0]


def test_the_generations_own_ages_get_no_such_note(line_user):
    play(line_user, PERSONAS[0])
    assert "就職氷河期世代（いま" not in line_user.text


def test_a_programme_the_plan_lists_twice_is_shown_once(line_user):
    play(line_user, persona("single parent worried about living costs"))
    assert line_user.texts[0].count("資格取得中の費用・生活費の貸付") == 1


def test_an_employer_is_asked_only_the_employers_questions_and_counted_apart(app, runner,
                                                                             line_user):
    asked = "ご相談の内容に、いちばん近いものを選んでください。"
    line_user.follow()
    assert line_user.tap("企業・事業主の方")[0] == asked
    assert "事業所のある市町村" in line_user.tap("試しに雇ってみたい")[0]
    assert line_user.tap("戻る")[0] == asked
    line_user.tap("試しに雇ってみたい")
    line_user.tap("県北")
    line_user.tap("能代市")
    assert line_user.texts[0].startswith("お答えいただき、ありがとうございました。事業主の方")
    referral = only_referral(app)
    assert referral.answers == {"subject": "employer", "employer_need": "trial", "area": "能代市"}
    assert {t.code for t in referral.targets if t.kind == "programme"} == {"subsidy-trial"}
    counts = json.loads(runner.invoke(args=["stats", "--json"]).output)
    assert counts["by_answer"]["subject"] == {"employer": 1}
    assert counts["by_answer"]["employer_need"] == {"trial": 1}


def test_answers_of_a_branch_left_by_going_back_are_not_kept(app, line_user):
    line_user.follow()
    for label in ("ご本人", "40〜44歳", "正社員"):
        line_user.tap(label)
    for _ in range(3):
        line_user.tap("戻る")
    line_user.tap("企業・事業主の方")
    line_user.tap("氷河期世代を採用したい")
    line_user.say("秋田市")
    assert only_referral(app).answers == {"subject": "employer", "employer_need": "hire",
                                          "area": "秋田市"}
