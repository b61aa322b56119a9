"""Fiscal years (April to March) as the prefecture names them: 令和N年度."""

from __future__ import annotations

import datetime as dt

FIRST_MONTH = 4
MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)  # a fiscal year's months, in order
REIWA_FIRST = 2019  # 令和元年 (fiscal 2019 is 令和元年度)


def fiscal_year(day: dt.date) -> int:
    """Return the fiscal year (by the calendar year it starts in) a day belongs to."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def label(year: int) -> str:
    """Return a fiscal year's Japanese name, e.g. 令和8年度 (2019: 令和元年度)."""
    if year < REIWA_FIRST:
        return f"{year}年度"
    number = year - REIWA_FIRST + 1
    return f"令和{'元' if number == 1 else number}年度"


def month_start(year: int, month: int) -> dt.date:
    """Return the first day of a month of a fiscal year."""
    return dt.date(year if month >= FIRST_MONTH else year + 1, month, 1)


def period(year: int, first: int = 4, last: int = 3) -> tuple[dt.date, dt.date]:
    """Return the first days of the first and last months of a fiscal year's span."""
    start, end = month_start(year, first), month_start(year, last)
    return (start, end) if start <= end else (end, start)
