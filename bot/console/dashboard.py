"""The counselors' dashboard: a fiscal year's referrals, by 取組, office, area and answer.

The figures are `bot.referrals.stats.counts` for the chosen months, so they equal
`tsunagu stats --from --to` for the same period.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template

from bot import clock
from bot.console.auth import requires
from bot.console.charts import bar_chart
from bot.console.web import blueprint, number_arg
from bot.content.schema import Content
from bot.content.source import content_source
from bot.db.database import transaction
from bot.referrals.funnel import funnel, handoffs_by_day
from bot.referrals.stats import counts

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
    years = sorted({*range(this_year - YEARS_SHOWN + 1, this_year + 1), year}, reverse=True)
    return render_template(
        "console/dashboard.html", result=result, tables=tables(result, content), year=year,
        years=[(y, clock.fiscal_label(y)) for y in years], label=clock.fiscal_label(year),
        first=first, last=last, months=clock.FY_MONTHS, start=start, end=end,
        funnel=[(content.flow.step(s.step).question(None), s) for s in stages],
        crisis=crisis, done=done, handoffs=handoffs)
