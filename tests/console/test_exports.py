"""The console's downloads: the same files as `tsunagu export`, for counselors, audited."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from bot.clock import fiscal_year, japan_date
from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import AuditEntry
from bot.referrals import exports
from tests.support.console import log_in, make_account
from tests.support.conversations import answer_up_to_area

TODAY = japan_date()
FY = fiscal_year(TODAY)
MONTH = TODAY.strftime("%Y-%m")


@pytest.fixture
def counselor(app, client):
    make_account(app, "sato", "counselor")
    log_in(client, "sato")
    return client


@pytest.fixture
def referrals(app, line_user):
    answer_up_to_area(line_user)
    line_user.say("大仙市")


def audited(app) -> list[tuple[str, str, str]]:
    with transaction(app) as session:
        return [(e.who, e.action, e.detail) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id))]


def test_the_exports_page_offers_every_download(counselor):
    page = counselor.get("/admin/exports")
    assert page.status_code == 200
    for action in ("/admin/exports/soudan", "/admin/exports/monthly",
                   "/admin/exports/referrals"):
        assert f'action="{action}"' in page.text


def test_soudan_csv_is_the_command_s_file_and_is_audited(app, counselor, referrals):
    response = counselor.get(f"/admin/exports/soudan?fy={FY}&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=soudan_{FY}_internal.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    expected = exports.to_csv(exports.soudan(database(app), content_source(app).current(), FY))
    assert response.data == expected
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert any("1" in row for row in rows), "the referral is counted"
    assert audited(app) == [("sato", "export", f"相談等件数 令和{FY - 2018}年度 内部用 csv")]


def test_the_public_soudan_hides_the_small_count(app, counselor, referrals):
    response = counselor.get(f"/admin/exports/soudan?fy={FY}&format=xlsx&public=1")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "＊" in values
    assert not any(isinstance(v, int) and 1 <= v <= 9 for v in values)
    assert "公表用" in audited(app)[0][2]


def test_the_monthly_workbook_and_the_records_download(app, counselor, referrals):
    monthly = counselor.get(f"/admin/exports/monthly?month={MONTH}")
    assert monthly.status_code == 200
    assert len(openpyxl.load_workbook(io.BytesIO(monthly.data)).sheetnames) == 4
    records = counselor.get(f"/admin/exports/referrals?from={MONTH}&to={MONTH}&format=csv")
    rows = list(csv.reader(io.StringIO(records.data.decode("utf-8-sig"))))
    assert len(rows) >= 2 and any("大仙市" in row for row in rows)
    assert [action for _, action, _ in audited(app)] == ["export", "export"]


@pytest.mark.parametrize("query", [
    "/admin/exports/soudan?fy=abc&format=csv",
    "/admin/exports/soudan?fy=2026&format=pdf",
    "/admin/exports/monthly?month=2026-13",
    "/admin/exports/referrals?from=2026-11&to=2026-04&format=csv",
])
def test_bad_choices_get_a_kind_page_and_no_file(app, counselor, query):
    response = counselor.get(query)
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert "ください" in response.text
    assert audited(app) == []


def test_downloads_need_a_login(client):
    response = client.get(f"/admin/exports/soudan?fy={FY}&format=csv")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_the_command_s_exports_are_audited_too(app, runner, tmp_path, referrals):
    out = tmp_path / "soudan.csv"
    result = runner.invoke(args=["export", "soudan", "--fy", str(FY), "--format", "csv",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    (who, action, detail), = audited(app)
    assert who.startswith("cli:") and action == "export"
    assert detail.startswith("相談等件数") and detail.endswith("soudan.csv")
