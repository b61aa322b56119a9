"""Each rule of `tsunagu check` alone, on content made in memory (no files, no full run)."""

from __future__ import annotations

from bot.content.bundle import load
from bot.content.files import ERROR, WARNING, Problem
from bot.studio.checks import Context, account, line_limits, meaning, warnings
from tests.support.paths import ROOT

CONTENT = load(ROOT / "content", ROOT / "flows")


def changed_office(office_id: str, **fields):
    office = CONTENT.offices[office_id].model_copy(update=fields)
    return CONTENT.model_copy(update={"offices": {**CONTENT.offices, office_id: office}})


def test_a_misspelt_area_is_found_by_its_rule_alone():
    found = list(meaning.offices_serve_real_areas(Context(changed_office(
        "hikikomori-center", areas=["大舘市"]))))
    assert [(p.item, p.severity) for p in found] == [("office 'hikikomori-center'", ERROR)]
    assert "did you mean '大館市'?" in found[0].fix


def test_the_shipped_content_passes_the_rule_alone():
    assert list(meaning.offices_serve_real_areas(Context(CONTENT))) == []


def test_a_formula_name_is_found_by_its_rule_alone():
    found = list(meaning.names_are_not_formulas(Context(changed_office(
        "saposute", name="=cmd|' /C calc'!A0"))))
    assert [p.item for p in found] == ["office 'saposute'"]


def test_an_office_without_phone_or_web_is_a_warning():
    content = changed_office("hikikomori-center", phone="", url="")
    found = [p for p in warnings.offices_can_be_contacted(Context(content))
             if p.item == "office 'hikikomori-center'"]
    assert [p.severity for p in found] == [WARNING]


def test_a_label_over_line_s_limit_is_found_by_its_rule_alone():
    step = CONTENT.flow.steps[0]
    options = [step.options[0].model_copy(update={"label": "あ" * 21}), *step.options[1:]]
    flow = CONTENT.flow.model_copy(update={"steps": [step.model_copy(
        update={"options": options}), *CONTENT.flow.steps[1:]]})
    found = list(line_limits.labels_fit_line(Context(CONTENT.model_copy(update={"flow": flow}))))
    assert len(found) == 1 and "21 characters" in found[0].message


def test_an_event_without_a_source_is_found_by_its_rule_alone():
    import datetime as dt

    from bot.content.schema import Event

    events = CONTENT.events.model_copy(update={"events": [Event(
        id="fair", title="就職面接会", date=dt.date(2027, 2, 10))]})
    found = list(account.events_have_a_date_and_a_source(
        Context(CONTENT.model_copy(update={"events": events}))))
    assert [p.item for p in found] == ["event 'fair'"]


def test_one_problem_type_reads_as_one_line():
    problem = Problem("content/offices.yaml", 3, "office 'x'", "is wrong", "fix it")
    assert problem.text() == "content/offices.yaml:3: error: office 'x': is wrong; fix it"
    assert problem.text(severity=False) == "content/offices.yaml:3: office 'x': is wrong; fix it"
