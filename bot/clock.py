"""Tell the time the way the prefecture does: Japan's days, fiscal years and staff's clock.

It owns the one clock (`now`, timezone-aware UTC), Japan's zone (`JST`) and date of a moment
(`japan_date`), the fiscal year from April to March (`fiscal_year`, its months `FY_MONTHS`,
`fy_months`, `month_start`, `period`) and its name in the Japanese era (`fiscal_label`:
令和N年度), and how a stored time is shown to staff (`staff_time`). It imports nothing of bot,
so every room may use it.
"""

from __future__ import annotations

import datetime as dt

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # Japan keeps no daylight saving time
FIRST_MONTH = 4  # a fiscal year (年度) starts in April
FY_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)  # a fiscal year's months, in order
REIWA_FIRST = 2019  # 令和元年 (fiscal 2019 is 令和元年度)
STAFF_FORMAT = "%Y-%m-%d %H:%M"


def now() -> dt.datetime:
    """Return the moment now, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


def japan_date(moment: dt.datetime | None = None) -> dt.date:
    """Return the date in Japan at a moment (now by default): counts keep Japan's days."""
    return (moment or now()).astimezone(JST).date()


def fiscal_year(day: dt.date) -> int:
    """Return the fiscal year (by the calendar year it starts in): 2027-03-31 is 2026."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def fiscal_label(year: int) -> str:
    """Return a fiscal year's Japanese name: 2026 is 令和8年度, 2019 令和元年度, 2018 2018年度."""
    if year < REIWA_FIRST:
        return f"{year}年度"
    number = year - REIWA_FIRST + 1
    return f"令和{'元' if number == 1 else number}年度"


def month_start(year: int, month: int) -> dt.date:
    """Return the first day of a month of a fiscal year (January to March: the next year's)."""
    return dt.date(year if month >= FIRST_MONTH else year + 1, month, 1)


def fy_months(fy: int) -> list[dt.date]:
    """Return the first days of the fiscal year's twelve months, April first."""
    return [month_start(fy, month) for month in FY_MONTHS]


def period(year: int, first: int = 4, last: int = 3) -> tuple[dt.date, dt.date]:
    """Return the first days of the first and last months of a fiscal year's span."""
    start, end = month_start(year, first), month_start(year, last)
    return (start, end) if start <= end else (end, start)


def staff_time(moment: dt.datetime | None) -> str:
    """Show a stored time to staff in Japan's time; "-" for none, a naive time taken as UTC."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:  # SQLite gives back naive times; they were stored as UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JST).strftime(STAFF_FORMAT)
