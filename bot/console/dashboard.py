"""The counselors' dashboard: a fiscal year's referrals, by 取組, office, area and answer.

The figures are `bot.referrals.stats.counts` for the chosen months, so they equal
`tsunagu stats --from --to` for the same period; beside them, whether the referrals seemed
useful and which menu areas were tapped (`stats.usage`), and the period month by month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, render_template

from bot import clock
from bot.console.auth import requires
from bot.console.charts import bar_chart, month_chart
from bot.console.web import blueprint, number_arg
from bot.content.schema import Content
from bot.content.source import content_source
from bot.db.database import transaction
from bot.referrals import tallies
from bot.referrals.funnel import by_month, funnel, handoffs_by_day
from bot.referrals.stats import counts, usage

YEARS_SHOWN = 6  # fiscal years in the selector, this one and those before
# The answers shown as tables of their own: (step id, heading).
ANSWERS = (("age", "年代"), ("subject", "相談する方（本人・家族・事業主）"),
           ("employment", "お仕事の状況"))


@dataclass(frozen=True)
class Table:
    """One table of the dashboard: its rows (label, count, note) and their chart."""

    key: str
    title: str
    rows: list[tuple[str, int, str]]

    @property
    def chart(self):
        return bar_chart([(name, count) for name, count, _ in self.rows], self.title)

    @property
    def noted(self) -> bool:
        return any(note for _, _, note in self.rows)


def _ranked(counted: dict[str, int], names: dict[str, str],
            notes: dict[str, str] | None = None) -> list[tuple[str, int, str]]:
    rows = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [(names.get(code, code), count, (notes or {}).get(code, "")) for code, count in rows]


def _regions(by_area: dict[str, int], content: Content) -> dict[str, int]:
    region_of = {m: r.name for r in content.regions for m in r.municipalities}
    totals: dict[str, int] = {}
    for municipality, count in by_area.items():
        region = region_of.get(municipality, "その他")
        totals[region] = totals.get(region, 0) + count
    return totals


def tables(result: dict, content: Content) -> list[Table]:
    """Return the dashboard's tables of a stats.counts result."""
    programmes = content.programmes.values()
    found = [
        Table("programme", "取組", _ranked(result["by_programme"],
                                           {p.id: f"{p.item} {p.title}" for p in programmes},
                                           {p.id: p.kpi for p in programmes})),
        Table("office", "相談先", _ranked(result["by_office"],
                                          {o.id: o.name for o in content.offices.values()})),
        Table("region", "地域", _ranked(_regions(result["by_area"], content), {})),
        Table("municipality", "市町村", _ranked(result["by_area"], {})),
    ]
    for step_id, title in ANSWERS:
        step = content.flow.step(step_id)
        if step is not None:
            labels = {o.value: o.label for o in step.options}
            found.append(Table(step_id, title, _ranked(result["by_answer"].get(step_id, {}),
                                                       labels)))
    return found


def usage_tables(used: dict) -> list[Table]:
    """Return the tables of the feedback answers and of the menu areas' taps."""
    return [Table("feedback", "ご案内は役に立ちそうか",
                  [(row["label"] or row["answer"], row["count"], "")
                   for row in used["feedback"]]),
            Table("menu", "メニューのボタン",
                  [(f"{row['area']}. {row['label'] or '（いまのメニューにない区画）'}",
                    row["taps"], "") for row in used["menu_taps"]])]


@dataclass(frozen=True)
class Column:
    """One column of the month by month table: what it counts, under which heading."""

    key: str  # referrals:<subject>, feedback:<answer>, menu, crisis or handoff
    group: str
    heading: str


@dataclass(frozen=True)
class Months:
    """The chosen months one by one: referrals by who asks, feedback, menu taps, crisis
    replies and asks to talk to a person."""

    months: list[dt.date]
    columns: list[Column]
    counted: dict[tuple[dt.date, str], int]

    def value(self, month: dt.date, key: str) -> int:
        return self.counted.get((month, key), 0)

    def total(self, key: str) -> int:
        return sum(self.value(month, key) for month in self.months)

    @property
    def groups(self) -> list[tuple[str, int]]:
        """Return each group's heading and how many columns it spans, in order."""
        found: dict[str, int] = {}
        for column in self.columns:
            found[column.group] = found.get(column.group, 0) + 1
        return list(found.items())

    def series(self) -> list[tuple[str, list[int]]]:
        """Return the chart's rows: all referrals, each feedback answer, the rest."""
        referrals = [c.key for c in self.columns if c.key.startswith("referrals:")]
        rows = [("紹介", [sum(self.value(m, k) for k in referrals) for m in self.months])]
        rows += [(c.heading, [self.value(m, c.key) for m in self.months])
                 for c in self.columns if c.key not in referrals]
        return rows

    @property
    def chart(self):
        return month_chart([f"{m.month}月" for m in self.months], self.series(),
                           "月ごとの推移", "months-chart")


REFERRALS, FEEDBACK, OTHERS = "紹介", "ご案内は役に立ちそうか", "そのほかの数"
OTHER_COLUMNS = (("menu", "メニューのタップ"), ("crisis", "緊急の相談先をお伝えした"),
                 ("handoff", "相談員と話したい"))


def months_of(session, content: Content, start: dt.date, end: dt.date) -> Months:
    """Return the months from start to end with their counts."""
    months = [m for m in clock.fy_months(clock.fiscal_year(start)) if start <= m <= end]
    counted: dict[tuple[dt.date, str], int] = {}
    subjects: dict[str, None] = {}
    for month, by_subject in tallies.by_month(session, start, end).items():
        for subject, n in by_subject.items():
            counted[month, f"referrals:{subject}"] = n
            subjects[subject] = None
    answers: dict[str, None] = {}
    for month, found in by_month(session, start, end).items():
        for kind, n in found.items():
            counted[month, kind] = n
            if kind.startswith("feedback:"):
                answers[kind.removeprefix("feedback:")] = None
    step = content.flow.step(tallies.SUBJECT)
    who = {o.value: o.label for o in step.options} if step is not None else {}
    labels = {a.value: a.label for a in content.feedback.answers}
    columns = [Column(f"referrals:{value}", REFERRALS, who.get(value) or "（答えなし）")
               for value in [*who, *(s for s in subjects if s not in who)]]
    columns += [Column(f"feedback:{value}", FEEDBACK, labels.get(value, value))
                for value in [*labels, *(a for a in answers if a not in labels)]]
    columns += [Column(key, OTHERS, heading) for key, heading in OTHER_COLUMNS]
    return Months(months, columns, counted)


@blueprint.get("/")
@requires("counselor")
def show_dashboard():
    """Show a fiscal year's referral counts (or some of its months)."""
    this_year = clock.fiscal_year(clock.japan_date())
    year = number_arg("year", this_year, clock.REIWA_FIRST, this_year + 1, "年度")
    first, last = number_arg("from", 4, 1, 12, "月"), number_arg("to", 3, 1, 12, "月")
    start, end = clock.period(year, first, last)
    content = content_source(current_app).current()
    with transaction() as session:
        result = counts(session, content, start, end)
        stages, crisis, done = funnel(session, content, start, end)
        handoffs = handoffs_by_day(session, start, end)
        used = usage_tables(usage(session, content, start, end))
        months = months_of(session, content, start, end)
    years = sorted({*range(this_year - YEARS_SHOWN + 1, this_year + 1), year}, reverse=True)
    return render_template(
        "console/dashboard.html", result=result, tables=tables(result, content), year=year,
        years=[(y, clock.fiscal_label(y)) for y in years], label=clock.fiscal_label(year),
        first=first, last=last, months=clock.FY_MONTHS, start=start, end=end,
        funnel=[(content.flow.step(s.step).question(None), s) for s in stages],
        crisis=crisis, done=done, handoffs=handoffs, used=used, by_month=months,
        question=content.feedback.question)
