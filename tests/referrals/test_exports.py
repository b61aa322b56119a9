"""`tsunagu export`: tables equal the referrals; published ones hide small counts safely."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.clock import FY_MONTHS, fiscal_year, fy_months, japan_date
from bot.content.source import content_source
from bot.db import versions
from bot.db.database import database, transaction
from bot.db.models import Referral, ReferralTally, ReferralTarget
from bot.referrals import exports
from bot.referrals.suppression import (
    MARK,
    grid_lines,
    merge_small,
    recomputable,
    suppress,
    unprotected,
)
from tests.support.personas import PERSONAS, play
from tests.support.referrals import add_referral

FAMILY_HIKIKOMORI = next(p for p in PERSONAS if p.name.startswith("family member, 45"))


def add(app, month: dt.date, subject: str = "self", offices=("hikikomori-center",),
        programmes=("hw-senmon",), area: str = "秋田市", staging: bool = False,
        bundle_id: str = "b1", n: int = 1) -> None:
    add_referral(app, month, {"subject": subject, "age": "40-44", "area": area}, programmes,
                 offices, staging, bundle_id, n=n)


def soudan(app, fy=2026, public=False, threshold=10):
    return exports.soudan(database(app), content_source(app).current(), fy, public=public,
                          threshold=threshold)


def row(table, name):
    return next(r for r in table.rows if r[0] == name)


def cell(table, name, column):
    names = [f"{g} {label}".strip() for g, label in table.columns]
    return row(table, name)[names.index(column)]


def numbers(values):
    return [v for v in values if isinstance(v, int)]


# -- 相談等件数 -------------------------------------------------------------------------------


def test_soudan_counts_the_fiscal_years_office_referrals_by_month_and_subject(app):
    add(app, dt.date(2026, 4, 1), "self", n=3)
    add(app, dt.date(2026, 4, 1), "family", n=2)
    add(app, dt.date(2026, 11, 1), "family", offices=("hikikomori-center", "fukushi-kankyo-odate"))
    add(app, dt.date(2027, 3, 1), "self", offices=("saposute",))
    add(app, dt.date(2026, 3, 1), "self")  # FY2025
    add(app, dt.date(2027, 4, 1), "self")  # FY2027
    add(app, dt.date(2026, 5, 1), "self", staging=True)  # an editor's try
    add(app, dt.date(2026, 5, 1), "employer", offices=("roudoukyoku-shokugyo-taisaku",),
        bundle_id="employers-only")
    table = soudan(app)
    center = "秋田県ひきこもり相談支援センター"
    assert cell(table, center, "4月 本人") == 3
    assert cell(table, center, "4月 家族") == 2
    assert cell(table, center, "5月 本人") == 0  # the staging one is not counted
    assert cell(table, center, "11月 家族") == 1
    assert cell(table, center, "合計 計") == 6
    assert cell(table, "大館福祉環境部（大館保健所・北福祉事務所）", "11月 家族") == 1
    assert cell(table, "地域若者サポートステーション（サポステ）", "3月 本人") == 1
    assert cell(table, "合計", "合計 計") == 8
    # Employers are left out, and a note says how many.
    assert not any(r[0] == "秋田労働局 職業対策課" for r in table.rows)
    assert any("事業主" in note and "1件" in note for note in table.notes)
    assert dict(table.meta)["年度"].startswith("令和8年度")
    assert dict(table.meta)["期間"] == "2026年4月〜2027年3月"
    assert dict(table.meta)["対象の版"] == "未公開（b1）"  # the counted referrals' versions only


def test_soudan_rows_start_with_the_centre_and_the_regional_offices_even_with_no_referral(app):
    add(app, dt.date(2026, 6, 1), "self", offices=("hw-akita",))
    names = [r[0] for r in soudan(app).rows]
    assert names[:3] == ["秋田県ひきこもり相談支援センター",
                         "大館福祉環境部（大館保健所・北福祉事務所）",
                         "お住まいの地域の 地域振興局 福祉環境部"]
    assert names[3:] == ["ハローワーク秋田", "合計"]
    assert row(soudan(app), "秋田県ひきこもり相談支援センター")[1:] == [0] * 27


def test_soudan_keeps_an_office_the_content_no_longer_has(app):
    add(app, dt.date(2026, 6, 1), "self", offices=("gone-office",))
    table = soudan(app)
    assert cell(table, "gone-office（現在の内容にない相談先）", "6月 本人") == 1


def test_soudan_rows_and_columns_sum_to_their_totals(app):
    for i, month in enumerate(fy_months(2026)):
        add(app, month, "self", offices=("hikikomori-center", "hw-akita"), n=i % 4)
        add(app, month, "family", offices=("fukushi-kankyo",), n=(i * 7) % 5)
    table = soudan(app)
    names = [f"{g} {label}".strip() for g, label in table.columns]
    for r in table.rows:
        for s in ("本人", "家族"):
            months = [r[names.index(f"{m}月 {s}")] for m in FY_MONTHS]
            assert sum(months) == r[names.index(f"合計 {s}")]
        both = r[names.index("合計 本人")] + r[names.index("合計 家族")]
        assert both == r[names.index("合計 計")]
    body = table.rows[:-1]
    for c in range(1, len(names)):
        assert sum(r[c] for r in body) == table.rows[-1][c]


def test_soudan_equals_referrals_made_through_the_webhook(app, make_user):
    play(make_user(), FAMILY_HIKIKOMORI)
    play(make_user(), FAMILY_HIKIKOMORI)
    month = japan_date().replace(day=1)
    table = soudan(app, fy=fiscal_year(month))
    column = f"{month.month}月 家族"
    assert cell(table, "秋田県ひきこもり相談支援センター", column) == 2
    assert cell(table, "大館福祉環境部（大館保健所・北福祉事務所）", column) == 2
    assert cell(table, "秋田県ひきこもり相談支援センター", "合計 本人") == 0
    bundle_id = content_source(app).current().bundle_id
    assert bundle_id in dict(table.meta)["対象の版"]


def test_soudan_names_the_published_versions_of_its_referrals(app):
    number = versions.add(database(app), {"a.yaml": b"x: 1\n"}, "pubbundle", "note", "me")
    add(app, dt.date(2026, 4, 1), bundle_id="pubbundle")
    add(app, dt.date(2026, 5, 1), bundle_id="draftonly")
    shown = dict(soudan(app).meta)["対象の版"]
    assert f"版{number}（pubbundle）" in shown
    assert "未公開（draftonly）" in shown


def test_public_soudan_shows_no_count_from_1_to_9_and_protects_them(app):
    add(app, dt.date(2026, 4, 1), "self", n=12)
    add(app, dt.date(2026, 4, 1), "family", n=3)
    add(app, dt.date(2026, 5, 1), "self", n=15, offices=("hw-akita",))
    add(app, dt.date(2026, 6, 1), "family", n=11, offices=("hw-akita",))
    internal, public = soudan(app), soudan(app, public=True)
    assert cell(internal, "秋田県ひきこもり相談支援センター", "4月 家族") == 3
    assert cell(public, "秋田県ひきこもり相談支援センター", "4月 家族") == MARK
    for r in public.rows:
        assert not any(0 < v < 10 for v in numbers(r[1:]))
    # The 合計 row would give 4月 家族 away (3 = 3 − 0 of the others): it is hidden there too,
    # or another cell of its column is.
    column = [r[[f"{g} {lb}".strip() for g, lb in public.columns].index("4月 家族")]
              for r in public.rows]
    assert column.count(MARK) >= 2
    assert any(MARK in note for note in public.notes)


# -- suppression, by brute force ----------------------------------------------------------


def table_values(inner: list[list[int]]) -> dict[tuple[int, int], int]:
    """Add a total column and a total row to an inner grid."""
    rows = [[*r, sum(r)] for r in inner]
    rows.append([sum(col) for col in zip(*rows, strict=True)])
    return {(r, c): v for r, line in enumerate(rows) for c, v in enumerate(line)}


def hidden_line_counts_are_safe(lines, hidden) -> bool:
    return all(sum(c in hidden for c in line) != 1 for line in lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6).flatmap(lambda rows: st.integers(1, 8).flatmap(
    lambda cols: st.lists(st.lists(st.one_of(st.integers(0, 12), st.integers(0, 60)),
                                   min_size=cols, max_size=cols),
                          min_size=rows, max_size=rows))),
       st.integers(2, 12))
def test_suppression_leaves_no_small_cell_and_nothing_recomputable(inner, threshold):
    values = table_values(inner)
    lines = grid_lines(len(inner) + 1, len(inner[0]) + 1)
    hidden = suppress(values, lines, threshold)
    for cell_, value in values.items():
        if cell_ not in hidden:
            assert not 0 < value < threshold
    # From any row or column with its total: hidden cells are 0 or at least 2 (a hidden total
    # counts among them, so "or the total is hidden" is the same rule).
    assert unprotected(lines, hidden) == []
    assert hidden_line_counts_are_safe(lines, hidden)
    # Nor from all the totals together, solved as equations.
    assert recomputable(lines, hidden) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), min_size=1, max_size=8))
def test_suppression_of_month_comparisons_protects_the_difference(rows):
    """A 当月 / 前月 / 増減 table: the difference binds each row's two counts too."""
    body = [[a, b, a - b] for a, b in rows]
    body.append([sum(r[0] for r in body), sum(r[1] for r in body), 0])
    body[-1][2] = body[-1][0] - body[-1][1]
    values = {(r, c): v for r, line in enumerate(body) for c, v in enumerate(line)}
    n = len(body)
    lines = [[(r, 1), (r, 2), (r, 0)] for r in range(n)]
    lines += [[(r, c) for r in range(n)] for c in range(3)]
    counts = [(r, c) for r in range(n) for c in (0, 1)]
    hidden = suppress(values, lines, 10, counts=counts)
    assert all(not 0 < values[c] < 10 for c in counts if c not in hidden)
    assert unprotected(lines, hidden) == []
    assert recomputable(lines, hidden) == []


def test_recomputable_finds_a_cell_the_totals_pin_down_together():
    # Two hidden rectangles (each safe) joined by one hidden cell: every row and column has
    # two or more hidden cells, yet the joining cell follows from the totals together.
    values = table_values([[5, 3, 20, 30], [4, 6, 7, 40], [50, 60, 2, 8], [70, 80, 9, 1]])
    lines = grid_lines(5, 5)
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)}
    assert unprotected(lines, hidden) == []
    assert recomputable(lines, hidden) == [(1, 2)]
    assert recomputable(lines, suppress(values, lines, 10)) == []


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["hikikomori-center", "fukushi-kankyo", "hw-akita",
                                           "saposute"]),
                          st.integers(0, 11), st.sampled_from(["self", "family"]),
                          st.integers(1, 12)), max_size=8))
def test_public_soudan_protects_every_line_of_the_real_table(app, groups):
    with transaction(app) as session:
        session.query(ReferralTarget).delete()
        session.query(Referral).delete()
        session.query(ReferralTally).delete()
    for office, month, subject, n in groups:
        add(app, fy_months(2026)[month], subject, offices=(office,), n=n)
    internal, public = soudan(app), soudan(app, public=True)
    names = [f"{g} {label}".strip() for g, label in public.columns]
    for r_public, r_internal in zip(public.rows, internal.rows, strict=True):
        assert not any(0 < v < 10 for v in numbers(r_public[1:]))
        for value, exact in zip(r_public[1:], r_internal[1:], strict=True):
            assert value in (MARK, exact)
        for s in ("本人", "家族"):
            line = [r_public[names.index(f"{m}月 {s}")] for m in FY_MONTHS]
            line.append(r_public[names.index(f"合計 {s}")])
            assert line.count(MARK) != 1
        line = [r_public[names.index(c)] for c in ("合計 本人", "合計 家族", "合計 計")]
        assert line.count(MARK) != 1
    for c in range(1, len(names)):
        assert [r[c] for r in public.rows].count(MARK) != 1
    # Nor do all the table's totals together, solved as equations, give a hidden cell away.
    rows = range(len(public.rows))
    lines = [[(r, names.index(f"{m}月 {s}")) for m in FY_MONTHS]
             + [(r, names.index(f"合計 {s}"))] for r in rows for s in ("本人", "家族")]
    lines += [[(r, names.index(c)) for c in ("合計 本人", "合計 家族", "合計 計")] for r in rows]
    lines += [[(r, c) for r in rows] for c in range(1, len(names))]
    hidden = {(r, c) for r in rows for c in range(1, len(names)) if public.rows[r][c] == MARK}
    assert recomputable(lines, hidden) == []


def test_small_municipalities_merge_into_their_region():
    regions = [("県北", ["能代市", "大館市", "小坂町"]), ("中央", ["秋田市", "男鹿市"])]
    rows = dict(merge_small({"能代市": [12, 10], "大館市": [3, 0], "小坂町": [1, 2],
                             "秋田市": [40, 31], "男鹿市": [0, 0], "県外": [2, 0]},
                            regions, 10))
    assert rows == {"能代市": [12, 10], "県北（上記以外の市町村）": [4, 2], "秋田市": [40, 31],
                    "その他・不明": [2, 0]}


# -- files --------------------------------------------------------------------------------


def test_csv_starts_with_the_bom_and_decodes_as_utf8(app):
    add(app, dt.date(2026, 4, 1), "self")
    data = exports.to_csv(soudan(app))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["相談等件数"]
    assert ["年度", "令和8年度（2026年度）"] in lines
    header = lines.index(next(line for line in lines if line and line[0] == "相談先"))
    assert lines[header][1] == "4月" and lines[header + 1][1:3] == ["本人", "家族"]


def test_xlsx_opens_with_the_fiscal_year_bold_header_and_frozen_panes(app):
    add(app, dt.date(2026, 4, 1), "self", n=2)
    book = load_workbook(io.BytesIO(exports.to_xlsx(soudan(app))))
    sheet = book.active
    assert sheet["A1"].value == "相談等件数"
    cells = [c.value for r in sheet.iter_rows(max_row=8) for c in r]
    assert "令和8年度（2026年度）" in cells
    header = next(r for r in sheet.iter_rows() if r[0].value == "相談先")
    assert header[0].font.bold and header[1].value == "4月"
    assert sheet.freeze_panes == f"B{header[0].row + 2}"
    center = next(r for r in sheet.iter_rows() if r[0].value == "秋田県ひきこもり相談支援センター")
    assert center[1].value == 2


# -- the command --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_soudan_writes_the_file(app, runner, tmp_path, fmt):
    add(app, dt.date(2026, 4, 1), "family", n=4)
    out = tmp_path / f"soudan.{fmt}"
    result = runner.invoke(args=["export", "soudan", "--fy", "2026", "--format", fmt,
                                 "--public", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        assert "公表用" in text and MARK in text and ",4," not in text
    else:
        assert load_workbook(io.BytesIO(data)).active["A1"].value == "相談等件数"


def test_export_soudan_uses_the_configured_threshold(app, runner, tmp_path):
    app.config["SUPPRESS_BELOW"] = 3
    add(app, dt.date(2026, 4, 1), "family", n=4)
    add(app, dt.date(2026, 5, 1), "family", n=5)
    out = tmp_path / "s.csv"
    runner.invoke(args=["export", "soudan", "--fy", "2026", "--format", "csv", "--public",
                        "-o", str(out)])
    line = next(r for r in csv.reader(io.StringIO(out.read_text("utf-8-sig")))
                if r and r[0] == "秋田県ひきこもり相談支援センター")
    assert line[2] == "4" and line[4] == "5"


def test_export_referrals_writes_one_row_per_record(app, runner, tmp_path, make_user):
    play(make_user(), FAMILY_HIKIKOMORI)
    add(app, dt.date(2020, 1, 1))  # outside the dates
    add(app, japan_date().replace(day=1), staging=True)
    today = japan_date()
    out = tmp_path / "r.csv"
    result = runner.invoke(args=["export", "referrals", "--from", today.replace(day=1)
                                 .isoformat(), "--to", today.isoformat(), "--format", "csv",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    header = next(line for line in lines if line and line[0] == "月")
    records = lines[lines.index(header) + 1:]
    records = records[:records.index([])] if [] in records else records
    assert len(records) == 1
    record = dict(zip(header, records[0], strict=True))
    assert record["subject"] == "family" and record["area"] == "鹿角市"
    assert "hikikomori-center" in record["相談先"].split()
    assert record["版の識別子"] == content_source(app).current().bundle_id
    xlsx = tmp_path / "r.xlsx"
    runner.invoke(args=["export", "referrals", "--from", "2020-01-01", "--to",
                        today.isoformat(), "--format", "xlsx", "-o", str(xlsx)])
    assert load_workbook(xlsx).active["A1"].value == "案内の記録（匿名）"


def test_export_monthly_compares_with_the_month_before(app, runner, tmp_path):
    add(app, dt.date(2026, 11, 1), offices=("saposute",), programmes=("saposute",), n=12,
        area="秋田市")
    add(app, dt.date(2026, 10, 1), offices=("saposute",), programmes=("saposute",), n=10,
        area="秋田市")
    add(app, dt.date(2026, 11, 1), offices=("hw-odate",), programmes=("hw-senmon",), n=2,
        area="大館市")
    add(app, dt.date(2026, 11, 1), area="能代市", staging=True, n=30)
    out = tmp_path / "m.xlsx"
    result = runner.invoke(args=["export", "monthly", "--month", "2026-11", "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["取組別", "相談先別", "市町村別", "進み方"]

    def rows(sheet):
        return {r[0]: list(r[1:]) for r in book[sheet].iter_rows(values_only=True) if r[0]}

    offices = rows("相談先別")
    assert offices["地域若者サポートステーション（サポステ）"] == [12, 10, 2]
    assert offices["ハローワーク大館"] == [2, 0, 2]
    assert offices["合計"] == [14, 10, 4]
    assert rows("取組別")["合計"] == [14, 10, 4]
    areas = rows("市町村別")
    # 県北's 2 is hidden; with 合計 = 秋田市 + 県北, 秋田市's 12 must go too (and the 増減).
    assert areas["秋田市"] == [MARK, 10, MARK]
    assert "大館市" not in areas  # 2: merged into its region, and hidden
    assert areas["県北（上記以外の市町村）"][0] == MARK
    assert "能代市" not in areas  # staging referrals are not counted
    for values in areas.values():
        assert not any(isinstance(v, int) and 0 < v < 10 for v in values[:2])
    internal = exports.area_table(database(app), content_source(app).current(),
                                  dt.date(2026, 11, 1), public=False)
    assert {r[0]: r[1:] for r in internal.rows} == {"秋田市": [12, 10, 2], "大館市": [2, 0, 2],
                                                    "合計": [14, 10, 4]}


def test_export_rejects_a_bad_month(runner, tmp_path):
    result = runner.invoke(args=["export", "monthly", "--month", "2026-13", "-o",
                                 str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0 and "--month" in result.output
