"""The one clock: Japan's days, fiscal years from April, 令和 names and staff's times."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select

from bot import clock
from bot.db.models import UTCDateTime

UTC = dt.UTC


def test_now_is_aware_utc():
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0)
    assert abs(moment - dt.datetime.now(UTC)) < dt.timedelta(seconds=5)


def test_japan_is_nine_hours_ahead_all_year():
    for month in (1, 7):  # no daylight saving time
        assert dt.datetime(2026, month, 1, tzinfo=clock.JST).utcoffset() == dt.timedelta(hours=9)


@pytest.mark.parametrize(("moment", "day"), [
    (dt.datetime(2026, 11, 30, 14, 59, tzinfo=UTC), dt.date(2026, 11, 30)),  # 23:59 in Japan
    (dt.datetime(2026, 11, 30, 15, 0, tzinfo=UTC), dt.date(2026, 12, 1)),  # midnight in Japan
    (dt.datetime(2027, 3, 31, 15, 0, tzinfo=UTC), dt.date(2027, 4, 1)),  # a new fiscal year
    (dt.datetime(2026, 12, 1, 0, 30, tzinfo=clock.JST), dt.date(2026, 12, 1)),
])
def test_japan_date_turns_at_15_utc(moment, day):
    assert clock.japan_date(moment) == day


def test_japan_date_defaults_to_now():
    assert clock.japan_date() == dt.datetime.now(clock.JST).date()


@pytest.mark.parametrize(("day", "year"), [
    (dt.date(2026, 4, 1), 2026), (dt.date(2026, 12, 31), 2026), (dt.date(2027, 1, 1), 2026),
    (dt.date(2027, 3, 31), 2026), (dt.date(2027, 4, 1), 2027), (dt.date(2026, 3, 31), 2025),
])
def test_a_fiscal_year_starts_in_april(day, year):
    assert clock.fiscal_year(day) == year


@pytest.mark.parametrize(("year", "label"), [
    (2018, "2018年度"), (2019, "令和元年度"), (2020, "令和2年度"), (2026, "令和8年度"),
])
def test_fiscal_years_are_named_in_reiwa(year, label):
    assert clock.fiscal_label(year) == label


def test_a_fiscal_years_months_run_april_to_march():
    months = clock.fy_months(2026)
    assert len(months) == 12 and [m.month for m in months] == list(clock.FY_MONTHS)
    assert months[0] == dt.date(2026, 4, 1) and months[8] == dt.date(2026, 12, 1)
    assert months[9] == dt.date(2027, 1, 1) and months[-1] == dt.date(2027, 3, 1)
    assert all(clock.fiscal_year(m) == 2026 for m in months)


def test_month_start_and_period():
    assert clock.month_start(2026, 4) == dt.date(2026, 4, 1)
    assert clock.month_start(2026, 2) == dt.date(2027, 2, 1)
    assert clock.period(2026) == (dt.date(2026, 4, 1), dt.date(2027, 3, 1))
    assert clock.period(2026, 6, 9) == (dt.date(2026, 6, 1), dt.date(2026, 9, 1))
    assert clock.period(2026, 9, 6) == (dt.date(2026, 6, 1), dt.date(2026, 9, 1))


def test_staff_see_japans_time():
    aware = dt.datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert clock.staff_time(aware) == "2026-12-02 00:30"
    assert clock.staff_time(aware.astimezone(clock.JST)) == "2026-12-02 00:30"
    # SQLite gives back naive times: they were stored as UTC.
    assert clock.staff_time(aware.replace(tzinfo=None)) == "2026-12-02 00:30"
    assert clock.staff_time(None) == "-"


def test_the_clock_imports_nothing_of_bot():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(clock))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert not any(name == "bot" or name.startswith("bot.") for name in imported)


def test_the_column_type_gives_back_aware_utc_times_on_sqlite():
    engine = create_engine("sqlite://")
    table = Table("moments", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", UTCDateTime))
    table.metadata.create_all(engine)
    utc = dt.datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(table.insert(), [
            {"id": 1, "at": utc},
            {"id": 2, "at": utc.astimezone(clock.JST)},  # stored as the same moment in UTC
            {"id": 3, "at": utc.replace(tzinfo=None)},  # naive: taken as UTC
            {"id": 4, "at": None},
        ])
        rows = dict(conn.execute(select(table.c.id, table.c.at)).all())
        # Compared with an aware bound value, in SQL.
        later = conn.scalars(select(table.c.id).where(
            table.c.at > utc.astimezone(clock.JST) - dt.timedelta(minutes=1))).all()
    for key in (1, 2, 3):
        assert rows[key] == utc and rows[key].tzinfo is not None
        assert rows[key].utcoffset() == dt.timedelta(0)
    assert rows[4] is None
    assert sorted(later) == [1, 2, 3]
    engine.dispose()


def test_the_models_read_back_aware_times(app):
    from bot.db.database import transaction
    from bot.db.models import AuditEntry

    with transaction(app) as session:
        session.add(AuditEntry(who="test", action="test"))
    with transaction(app) as session:
        at = session.query(AuditEntry.at).one()[0]
    assert at.tzinfo is not None and at.utcoffset() == dt.timedelta(0)
    assert abs(clock.now() - at) < dt.timedelta(minutes=1)
