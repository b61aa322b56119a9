"""The counts the prefecture aggregates, as tables and files (CSV, XLSX): `tsunagu export`.

Each table is built by a pure function of the database and the content (`soudan`,
`referral_records`, `monthly`), and written by `to_csv` / `to_xlsx`, so the web console can
serve the same files. Staging referrals are never counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import and_, or_, select

from bot.clock import fiscal_label, fiscal_year, fy_months, japan_date
from bot.content.schema import Content
from bot.content.source import content_source
from bot.db import versions
from bot.db.audit import audit
from bot.db.database import Database, database
from bot.db.models import Referral, ReferralTally
from bot.referrals.funnel import funnel, handoffs_by_day
from bot.referrals.suppression import MARK, merge_small, suppress
from bot.referrals.tallies import counted, summed

Value = int | str | None

SUBJECTS = (("self", "本人"), ("family", "家族"))
DEFAULT_SUPPRESS_BELOW = 10
# A spreadsheet runs a cell that starts so as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """Tell whether a spreadsheet would take this text for a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: Value) -> Value:
    """Return a CSV cell's value that no spreadsheet runs: a formula-like text gets a "'"."""
    return f"'{value}" if isinstance(value, str) and looks_like_formula(value) else value


@dataclass
class Table:
    """A table as the files show it: a title, a header block, columns, rows and notes."""

    title: str
    sheet: str  # the XLSX sheet's name (at most 31 characters)
    meta: list[tuple[str, str]] = field(default_factory=list)  # (label, value) above the table
    # Each column as (group, label): a group spans the columns after it with the same group
    # ("4月" over 本人 and 家族); a column with group "" has only its label.
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[Value]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label_columns: int = 1  # the leading columns that name the row (frozen in XLSX)

    @property
    def header_rows(self) -> list[list[str]]:
        """Return the column header as one row, or two when columns are grouped."""
        if not any(group for group, _ in self.columns):
            return [[label for _, label in self.columns]]
        top, previous = [], None
        for group, label in self.columns:
            top.append(group if group and group != previous else (label if not group else ""))
            previous = group
        return [top, [label if group else "" for group, label in self.columns]]

    def column(self, name: str) -> list[Value]:
        """Return the cells of the column with this label (or group and label, "4月 本人")."""
        names = [f"{g} {label}".strip() for g, label in self.columns]
        index = names.index(name) if name in names else [lb for _, lb in self.columns].index(name)
        return [row[index] for row in self.rows]


# -- writers ------------------------------------------------------------------------------


def _lines(table: Table) -> list[list[Value]]:
    lines: list[list[Value]] = [[table.title]]
    lines += [[label, value] for label, value in table.meta]
    lines.append([])
    lines += table.header_rows
    lines += table.rows
    if table.notes:
        lines.append([])
        lines += [[f"注：{note}"] for note in table.notes]
    return lines


def to_csv(table: Table) -> bytes:
    """Write a table as CSV in UTF-8 with a BOM, so Excel in Japanese opens it correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for line in _lines(table):
        writer.writerow(["" if cell is None else csv_cell(cell) for cell in line])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(tables: Table | Sequence[Table]) -> bytes:
    """Write a table (or several, one sheet each) as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    tables = [tables] if isinstance(tables, Table) else list(tables)
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.sheet[:31])
        _append(sheet, [table.title])
        sheet.cell(1, 1).font = Font(bold=True, size=14)
        for label, value in table.meta:
            _append(sheet, [label, value])
            sheet.cell(sheet.max_row, 1).font = bold
        sheet.append([])
        first_header = sheet.max_row + 1
        for header in table.header_rows:
            _append(sheet, header)
            for cell in sheet[sheet.max_row]:
                cell.font = bold
                cell.alignment = Alignment(horizontal="center", wrap_text=True)
        if len(table.header_rows) == 2:
            _merge_groups(sheet, table, first_header)
        first_data = sheet.max_row + 1
        for row in table.rows:
            _append(sheet, row)
            for cell in sheet[sheet.max_row][table.label_columns:]:
                if cell.value == MARK:
                    cell.alignment = Alignment(horizontal="right")
        for note in table.notes:
            _append(sheet, [f"注：{note}"])
        sheet.freeze_panes = sheet.cell(first_data, table.label_columns + 1)
        sheet.column_dimensions["A"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet, values: Sequence[Value]) -> None:
    """Append a row whose texts stay texts: openpyxl would store "=..." as a formula."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True  # and Excel keeps it a text when someone edits the cell


def _merge_groups(sheet, table: Table, row: int) -> None:
    start = 0
    for index in range(1, len(table.columns) + 1):
        group = table.columns[start][0]
        if index == len(table.columns) or table.columns[index][0] != group:
            if group and index - start > 1:
                sheet.merge_cells(start_row=row, start_column=start + 1, end_row=row,
                                  end_column=index)
            start = index


# -- shared pieces --------------------------------------------------------------------------


def _counted():
    # Editors' tries on the staging account are never counted with real referrals.
    return Referral.staging.is_(False)


UNKNOWN_AREA = "その他・不明"


def version_range(db: Database, bundle_ids: Sequence[str]) -> str:
    """Say which content versions the counted referrals were made under (numbers if published)."""
    if not bundle_ids:
        return "なし"
    numbers: dict[str, list[int]] = defaultdict(list)
    for listed in versions.listing(db):
        numbers[listed.bundle_id].append(listed.number)
    parts = []
    for bundle_id in sorted(bundle_ids, key=lambda b: (min(numbers.get(b, [10**9])), b)):
        found = sorted(numbers.get(bundle_id, []))
        name = "・".join(f"版{n}" for n in found) if found else "未公開"
        parts.append(f"{name}（{bundle_id}）")
    return "、".join(parts)


def _show(value: int, hidden: bool) -> Value:
    return MARK if hidden else value


def _suppression_note(threshold: int) -> str:
    return (f"「{MARK}」は1〜{threshold - 1}件の数、またはそれを合計から逆算できないように"
            "伏せた数です（秘匿処理）。")


# -- 相談等件数 (plan item 4(5)) ---------------------------------------------------------------


def _office_rows(content: Content, named: set[str]) -> list[tuple[str, str]]:
    """Return (code, name) of the rows: ひきこもり相談支援センター, 福祉環境部, then the rest."""
    offices = list(content.offices.values())
    first = [o for o in offices if o.kind == "hikikomori-center"]
    regional = [o for o in offices if o.kind == "fukushi-kankyo"]
    fixed = {o.id for o in first + regional}
    rest = [o for o in offices if o.id in named and o.id not in fixed]
    rows = [(o.id, o.name) for o in first + regional + rest]
    # An office a past version named but the current content no longer has: its referrals
    # are real, so it keeps a row, under its id.
    unknown = sorted(named - set(content.offices))
    return rows + [(code, f"{code}（現在の内容にない相談先）") for code in unknown]


def soudan(db: Database, content: Content, fy: int, public: bool = False,
           threshold: int = DEFAULT_SUPPRESS_BELOW) -> Table:
    """Build the 相談等件数 table of a fiscal year: offices × months, 本人 / 家族."""
    months = fy_months(fy)
    in_year = counted(months[0], months[-1])
    subjects = [s for s, _ in SUBJECTS]
    T = ReferralTally
    with db.transaction() as session:
        found = summed(session, [T.value, T.month, T.subject], T.kind == "office", *in_year)
        bundle_ids = session.scalars(
            select(T.bundle_id).distinct()
            .where(*in_year, T.kind == "with_office", T.subject.in_(subjects))).all()
        left_out = sum(n for *_, n in summed(
            session, [T.kind], *in_year, T.kind == "with_office", T.subject.not_in(subjects)))
    counts: Counter = Counter()
    for code, month, who, n in found:
        if who in dict(SUBJECTS):
            counts[code, month, who] += n
    named = {code for code, *_ in counts}
    offices = _office_rows(content, named)

    # values[(row, column)]: rows are the offices then the 合計 row; columns are each month's
    # 本人 and 家族, then 合計 本人, 合計 家族, 計.
    n_months, n_rows = len(months), len(offices) + 1
    values: dict[tuple[int, int], int] = {}
    for r, (code, _) in enumerate(offices):
        for m, month in enumerate(months):
            for s, (who, _) in enumerate(SUBJECTS):
                values[r, 2 * m + s] = counts[code, month, who]
    total_self, total_family, total = 2 * n_months, 2 * n_months + 1, 2 * n_months + 2
    for r in range(len(offices)):
        for s, column in enumerate((total_self, total_family)):
            values[r, column] = sum(values[r, 2 * m + s] for m in range(n_months))
        values[r, total] = values[r, total_self] + values[r, total_family]
    last = n_rows - 1
    for c in range(total + 1):
        values[last, c] = sum(values[r, c] for r in range(len(offices)))

    hidden: set = set()
    if public:
        lines: list[list[tuple[int, int]]] = []
        for r in range(n_rows):
            for s, column in enumerate((total_self, total_family)):
                lines.append([(r, 2 * m + s) for m in range(n_months)] + [(r, column)])
            lines.append([(r, total_self), (r, total_family), (r, total)])
        lines += [[(r, c) for r in range(n_rows)] for c in range(total + 1)]
        totals = {(last, c) for c in range(total + 1)} | {
            (r, c) for r in range(n_rows) for c in (total_self, total_family, total)}
        hidden = suppress(values, lines, threshold, totals=totals)

    columns = [("", "相談先")]
    columns += [(f"{month.month}月", label) for month in months for _, label in SUBJECTS]
    columns += [("合計", label) for _, label in SUBJECTS] + [("合計", "計")]
    rows = [[name] + [_show(values[r, c], (r, c) in hidden) for c in range(total + 1)]
            for r, (_, name) in enumerate([*offices, ("", "合計")])]
    notes = ["件数は、チャットボットの案内でその相談先を示した件数です（1件の案内で複数の相談先を"
             "示すと、それぞれに数えます。合計行は各相談先の件数の和です）。",
             "「本人」「家族」は、最初の質問「どなたについてのご相談ですか？」への回答です。",
             "事業主の方への案内（およびこの回答のない案内）"
             f"{_show_count(left_out, public, threshold)}件は、この表に含めていません。",
             "テスト用アカウント（ステージング）での案内は数えていません。"]
    if public:
        notes.append(_suppression_note(threshold))
    first, end = months[0], months[-1]
    return Table(
        title="相談等件数",
        sheet=f"相談等件数 {fiscal_label(fy)}" + ("（公表用）" if public else ""),
        meta=[("年度", f"{fiscal_label(fy)}（{fy}年度）"),
              ("期間", f"{first.year}年{first.month}月〜{end.year}年{end.month}月"),
              ("対象の版", version_range(db, bundle_ids)),
              ("区分", "公表用（秘匿処理済み）" if public else "内部用（実数）")],
        columns=columns, rows=rows, notes=notes)


def _show_count(n: int, public: bool, threshold: int) -> str:
    return MARK if public and 0 < n < threshold else str(n)


# -- one row per referral record -----------------------------------------------------------


def referral_records(db: Database, content: Content, start: dt.date, end: dt.date) -> Table:
    """Build the table of anonymised referral records of the months from start to end."""
    first, last = start.replace(day=1), end.replace(day=1)
    with db.transaction() as session:
        referrals = session.scalars(
            select(Referral).where(_counted(), Referral.month >= first, Referral.month <= last)
            .order_by(Referral.month, Referral.id)).all()
        records = [(r.month, r.flow, r.bundle_id, dict(r.answers),
                    [t.code for t in r.targets if t.kind == "programme"],
                    [t.code for t in r.targets if t.kind == "office"]) for r in referrals]
    numbers: dict[str, list[int]] = defaultdict(list)
    for listed in versions.listing(db):
        numbers[listed.bundle_id].append(listed.number)
    # The current flow's steps in order, then any answer an older version asked.
    steps = [step.id for step in content.flow.steps]
    steps += sorted({key for *_, answers, _, _ in records for key in answers} - set(steps))
    columns = [("", "月"), ("", "質問票"), ("", "版"), ("", "版の識別子")]
    columns += [("", step) for step in steps] + [("", "取組"), ("", "相談先")]
    rows = [[month.strftime("%Y-%m"), flow,
             "・".join(str(n) for n in sorted(numbers.get(bundle_id, []))), bundle_id,
             *(answers.get(step, "") for step in steps),
             " ".join(sorted(programmes)), " ".join(sorted(offices))]
            for month, flow, bundle_id, answers, programmes, offices in records]
    return Table(
        title="案内の記録（匿名）", sheet="案内の記録",
        meta=[("期間", f"{first.year}年{first.month}月〜{last.year}年{last.month}月"),
              ("件数", str(len(rows)))],
        columns=columns, rows=rows, label_columns=1,
        notes=["記録には利用者を識別する情報はありません（月、質問票と版、各質問への回答の"
               "区分、案内した取組と相談先の識別子だけです）。",
               "テスト用アカウント（ステージング）での案内は含めていません。"])


# -- the platform meeting's monthly workbook -----------------------------------------------


def _previous(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def _month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"


def _target_counts(session, kind: str, month: dt.date) -> Counter:
    return Counter(dict(summed(session, [ReferralTally.value], ReferralTally.kind == kind,
                               *counted(month, month))))


def _comparison(title: str, sheet: str, label: str, rows: list[tuple[str, list[int]]],
                month: dt.date, public: bool, threshold: int, notes: list[str]) -> Table:
    """Build a 当月 / 前月 / 増減 table with a 合計 row (suppressed when public)."""
    body = [[cur, prev, cur - prev] for _, (cur, prev) in rows]
    body.append([sum(r[0] for r in body), sum(r[1] for r in body), 0])
    body[-1][2] = body[-1][0] - body[-1][1]
    values = {(r, c): v for r, line in enumerate(body) for c, v in enumerate(line)}
    hidden: set = set()
    if public:
        n = len(body)
        # Each row: 前月 + 増減 = 当月; each column: its rows sum to 合計 (a line's last cell
        # is the sum of the others).
        lines = [[(r, 1), (r, 2), (r, 0)] for r in range(n)]
        lines += [[(r, c) for r in range(n)] for c in range(3)]
        counts = [(r, c) for r in range(n) for c in (0, 1)]  # a 増減 is not a count of people
        totals = {(n - 1, c) for c in range(3)} | {(r, 2) for r in range(n)}
        hidden = suppress(values, lines, threshold, counts=counts, totals=totals)
    names = [name for name, _ in rows] + ["合計"]
    table_rows = [[name] + [_show(values[r, c], (r, c) in hidden) for c in range(3)]
                  for r, name in enumerate(names)]
    if public:
        notes = [*notes, _suppression_note(threshold)]
    return Table(
        title=title, sheet=sheet,
        meta=[("当月", _month_label(month)), ("前月", _month_label(_previous(month))),
              ("区分", "公表用（秘匿処理済み）" if public else "内部用（実数）")],
        columns=[("", label), ("", "当月"), ("", "前月"), ("", "増減")],
        rows=table_rows, notes=notes)


def area_table(db: Database, content: Content, month: dt.date, public: bool = True,
               threshold: int = DEFAULT_SUPPRESS_BELOW) -> Table:
    """Build referrals by municipality, this month and the month before (merged if public)."""
    area = content.flow.area_step
    prev = _previous(month)
    by_area: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    if area is not None:
        T = ReferralTally
        with db.transaction() as session:
            found = summed(session, [T.kind, T.field, T.value, T.month], *counted(prev, month),
                           or_(T.kind == "referral", and_(T.kind == "answer",
                                                          T.field == area.id)))
        for kind, _, name, when, n in found:
            column = int(when != month)  # 0: this month, 1: the month before
            # Each referral is unknown until its answer (if it has one) names its municipality.
            by_area[UNKNOWN_AREA][column] += n if kind == "referral" else -n
            if kind == "answer":
                by_area[name or UNKNOWN_AREA][column] += n
        if not any(by_area.get(UNKNOWN_AREA, [0, 0])):
            by_area.pop(UNKNOWN_AREA, None)
    regions = [(region.name, region.municipalities) for region in content.regions]
    if public:
        rows = merge_small(dict(by_area), regions, threshold)
    else:
        known = [m for _, ms in regions for m in ms]
        rows = [(m, by_area[m]) for m in known if any(by_area.get(m, [0, 0]))]
        rows += [(m, v) for m, v in sorted(by_area.items()) if m not in known and any(v)]
    notes = ["市町村は、質問「お住まいの市町村」への回答です（事業主の方は事業所の所在地）。"]
    if public:
        notes.append(f"1〜{threshold - 1}件の市町村は、地域（県北・中央・県南）ごとにまとめて"
                     "います（最小集計単位）。")
    return _comparison("市町村別の案内件数", "市町村別", "市町村",
                       [(name, list(v)) for name, v in rows], month, public, threshold, notes)


def monthly(db: Database, content: Content, month: dt.date, public: bool = False,
            threshold: int = DEFAULT_SUPPRESS_BELOW) -> list[Table]:
    """Build the platform meeting's tables of a month: by 取組, by office, by area."""
    month, prev = month.replace(day=1), _previous(month.replace(day=1))
    with db.transaction() as session:
        tables = []
        for kind, title, sheet, label, names in (
                ("programme", "取組別の案内件数", "取組別", "取組",
                 {p.id: f"{p.item} {p.name}" for p in content.programmes.values()}),
                ("office", "相談先別の案内件数", "相談先別", "相談先",
                 {o.id: o.name for o in content.offices.values()})):
            cur, before = _target_counts(session, kind, month), _target_counts(session, kind, prev)
            order = [code for code in names if cur[code] or before[code]]
            order += sorted((set(cur) | set(before)) - set(names))
            rows = [(names.get(code, code), [cur[code], before[code]]) for code in order]
            tables.append((title, sheet, label, rows))
    notes = ["1件の案内で複数を示すと、それぞれに数えます。",
             "テスト用アカウント（ステージング）での案内は数えていません。"]
    result = [_comparison(title, sheet, label, rows, month, public, threshold, notes)
              for title, sheet, label, rows in tables]
    result.append(area_table(db, content, month, public=True, threshold=threshold))
    result.append(funnel_table(db, content, month, public, threshold))
    return result


def funnel_table(db: Database, content: Content, month: dt.date, public: bool = False,
                 threshold: int = DEFAULT_SUPPRESS_BELOW) -> Table:
    """Build the month's conversations and where people stopped, against the month before."""
    month, prev = month.replace(day=1), _previous(month.replace(day=1))
    with db.transaction() as session:
        now, before = (funnel(session, content, m, m) for m in (month, prev))
        asked = [sum(handoffs_by_day(session, m, m).values()) for m in (month, prev)]
    lines = []
    for label, pick in (("会話を始めた", lambda f: f[0][0].reached if f[0] else 0),
                        ("最後まで答えた（ご案内）", lambda f: f[2]),
                        ("緊急の相談先をお伝えした", lambda f: f[1]),
                        ("「戻る」を押した", lambda f: sum(s.back for s in f[0])),
                        ("「最初から」を押した", lambda f: sum(s.restart for s in f[0]))):
        lines.append((label, pick(now), pick(before)))
    lines.append(("相談員と話したいと希望した", *asked))
    for i, step in enumerate(content.flow.steps):
        lines.append((f"止まった: {step.question(None)[:40]}", now[0][i].stopped,
                      before[0][i].stopped))
    # No line here sums the others, so hiding the small cells alone reveals nothing.
    rows = [[label, *(_show(n, public and 0 < n < threshold) for n in (cur, old, cur - old))]
            for label, cur, old in lines]
    if public:
        rows = [[*row[:3], MARK if MARK in row[1:3] else row[3]] for row in rows]
    notes = ["どなたのものかわからない、日ごとの数を月で足しています"
             "（テスト用アカウントは数えません）。",
             "「止まった」は、その質問に進んだのに答えなかった回数です"
             "（途中でやめた方と、まだ答えている方）。"]
    if public:
        notes.append(_suppression_note(threshold))
    return Table(title="会話と質問ごとの進み方", sheet="進み方",
                 meta=[("当月", _month_label(month)), ("前月", _month_label(prev)),
                       ("区分", "公表用（秘匿処理済み）" if public else "内部用（実数）")],
                 columns=[("", "項目"), ("", "当月"), ("", "前月"), ("", "増減")],
                 rows=rows, notes=notes)


# -- tsunagu export ------------------------------------------------------------------------


def _threshold() -> int:
    return int(current_app.config.get("SUPPRESS_BELOW", DEFAULT_SUPPRESS_BELOW))


def _write(path: str, data: bytes, detail: str) -> None:
    Path(path).write_bytes(data)
    # Exports leave the building: the audit log says who wrote which (as the console's do).
    audit(f"cli:{getpass.getuser()}", "export", f"{detail} -> {Path(path).name}")
    click.echo(f"wrote {path} ({len(data)} bytes)")


@click.group("export")
def export_group() -> None:
    """Write the counts the prefecture aggregates as files (CSV or XLSX)."""


FORMAT = click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx",
                      show_default=True, help="File format.")
OUTPUT = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                      help="The file to write.")


@export_group.command("soudan")
@with_appcontext
@click.option("--fy", type=click.IntRange(2000, 2100), default=lambda: fiscal_year(
    japan_date()), help="Fiscal year (April to March): 2026 is 令和8年度.")
@FORMAT
@click.option("--public", is_flag=True,
              help="公表用: hide counts below TSUNAGU_SUPPRESS_BELOW (and what reveals them).")
@OUTPUT
def soudan_command(fy: int, fmt: str, public: bool, output: str) -> None:
    """Write the 相談等件数 of a fiscal year by office, month and 本人 / 家族."""
    table = soudan(database(current_app), content_source(current_app).current(), fy,
                   public=public, threshold=_threshold())
    _write(output, to_xlsx(table) if fmt == "xlsx" else to_csv(table),
           f"相談等件数 {fiscal_label(fy)} {'公表用' if public else '内部用'} {fmt}")


@export_group.command("referrals")
@with_appcontext
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m"]),
              help="First month (a day counts its whole month).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m"]),
              help="Last month (a day counts its whole month).")
@FORMAT
@OUTPUT
def referrals_command(start: dt.datetime, end: dt.datetime, fmt: str, output: str) -> None:
    """Write one row per anonymised referral record of the months from --from to --to."""
    table = referral_records(database(current_app), content_source(current_app).current(),
                             start.date(), end.date())
    _write(output, to_xlsx(table) if fmt == "xlsx" else to_csv(table),
           f"紹介の記録 {start:%Y-%m}〜{end:%Y-%m} {fmt}")


@export_group.command("monthly")
@with_appcontext
@click.option("--month", required=True, type=click.DateTime(["%Y-%m"]), help="YYYY-MM.")
@click.option("--public", is_flag=True, help="Hide small counts in every table, not only areas.")
@OUTPUT
def monthly_command(month: dt.datetime, public: bool, output: str) -> None:
    """Write the platform meeting's workbook: by 取組, office and area, against last month."""
    tables = monthly(database(current_app), content_source(current_app).current(),
                     month.date(), public=public, threshold=_threshold())
    _write(output, to_xlsx(tables), f"月次報告 {month:%Y-%m}{' 公表用' if public else ''} xlsx")
