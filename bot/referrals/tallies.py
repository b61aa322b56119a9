"""Monthly referral tallies: the counts the console and the exports read, kept as records land.

Each referral adds one to a few rows (per month, version, account and questionnaire): itself,
each programme and office it named, each answer it kept; the conversation store adds them in
the referral's own write, so a redelivered event counts once and a tally never disagrees with
the records. `rebuild` counts them again from the records (after records were changed by hand).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import (
    CTE,
    Connection,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.db.models import Referral, ReferralTally, ReferralTarget

TALLIES = ReferralTally.__table__
GROUP = ["month", "bundle_id", "staging", "flow", "subject"]  # what a record's rows share
KEY = [*GROUP, "kind", "field", "value"]
SUBJECT = "subject"  # the question whose answer every tally is split by (本人・家族・事業主)

# SQLite: a referral's tallies in one driver call (SQLAlchemy's layer around a small
# executemany costs more than the statement; see the funnel's counters in the store).
ADD_SQLITE = (f"INSERT INTO {TALLIES.name} ({', '.join(KEY)}, count) "
              f"VALUES ({', '.join('?' * len(KEY))}, 1) "
              f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET count = count + 1")
ADD = postgresql.insert(TALLIES).on_conflict_do_update(
    index_elements=KEY, set_={"count": TALLIES.c.count + 1})
# The parameters of `added_after`: the group's (named as the columns of a `referrals` row and
# `subject`) and one array per column of the (kind, field, value) rows.
_GROUP_PARAMS = [bindparam(name, type_=TALLIES.c[name].type) for name in GROUP]
_ROWS = ("kind", "field", "value")


def subject_of(answers: dict[str, str]) -> str:
    """Return the answer every tally of a referral is split by ("" if it has none)."""
    return str(answers.get(SUBJECT) or "")


def tallies_of(answers: dict[str, str], targets) -> list[tuple[str, str, str]]:
    """Return the (kind, field, value) rows one referral adds one to, in one fixed order.

    The order is sorted so that two referrals written at once take their rows' locks in the
    same order (PostgreSQL would otherwise find a deadlock between them).
    """
    found = {("referral", "", ""), *((kind, "", code) for kind, code in targets),
             *(("answer", field, str(value)) for field, value in answers.items()
               if value is not None)}
    if any(kind == "office" for kind, _ in targets):
        found.add(("with_office", "", ""))
    return sorted(found)


def add(conn: Connection, row: dict, targets) -> None:
    """Add one referral (its `referrals` row's values and targets) to the tallies."""
    group = (row["month"], row["bundle_id"], bool(row["staging"]), row["flow"],
             subject_of(row["answers"]))
    found = tallies_of(row["answers"], targets)
    if conn.dialect.name == "sqlite":
        day = group[0].isoformat()  # as SQLAlchemy stores a Date in SQLite
        conn.exec_driver_sql(ADD_SQLITE, [(day, *group[1:], *tally) for tally in found])
    else:
        conn.execute(ADD, [{**dict(zip(KEY, (*group, *tally), strict=True)), "count": 1}
                           for tally in found])


def added_after(new) -> CTE:
    """Build the CTE that adds a referral to its tallies once `new` (a CTE) stored it.

    It adds one to each row of `added_values` if `new` has a row, and nothing otherwise.
    """
    tallied = func.unnest(*(bindparam(f"tally_{name}s", type_=ARRAY(String))
                            for name in _ROWS)).table_valued(*_ROWS).render_derived("tallied")
    rows = select(*_GROUP_PARAMS, tallied.c.kind, tallied.c.field, tallied.c.value,
                  literal(1)).select_from(new.join(tallied, true()))
    upsert = postgresql.insert(TALLIES).from_select([*KEY, "count"], rows)
    upsert = upsert.on_conflict_do_update(index_elements=KEY,
                                          set_={"count": TALLIES.c.count + 1})
    return upsert.cte("tallied")


def added_values(row: dict, targets) -> dict:
    """Return the values `added_after` takes for one referral (its row's values, targets)."""
    found = tallies_of(row["answers"], targets)
    return {**{name: row[name] for name in GROUP if name != SUBJECT},
            SUBJECT: subject_of(row["answers"]),
            **{f"tally_{name}s": [tally[i] for tally in found] for i, name in enumerate(_ROWS)}}


def counted(start: dt.date | None = None, end: dt.date | None = None) -> list:
    """Return the conditions of the real referrals of the months from start to end."""
    # Editors' tries on the staging account are never counted with real referrals.
    conditions = [ReferralTally.staging.is_(False)]
    if start:
        conditions.append(ReferralTally.month >= start.replace(day=1))
    if end:
        conditions.append(ReferralTally.month <= end.replace(day=1))
    return conditions


def summed(session: Session, columns: list, *conditions) -> list[tuple]:
    """Return each group of `columns` with its count, over the tallies meeting conditions."""
    query = (select(*columns, func.sum(ReferralTally.count)).where(*conditions)
             .group_by(*columns))
    return [(*found[:-1], int(found[-1])) for found in session.execute(query).all()]


def by_month(session: Session, start: dt.date | None = None,
             end: dt.date | None = None) -> dict[dt.date, dict[str, int]]:
    """Return each month's real referrals by the subject's answer (months with any)."""
    months: dict[dt.date, dict[str, int]] = {}
    for month, subject, n in summed(session, [ReferralTally.month, ReferralTally.subject],
                                    ReferralTally.kind == "referral", *counted(start, end)):
        months.setdefault(month, {})[subject] = n
    return dict(sorted(months.items()))


def rebuild(session: Session) -> int:
    """Count every tally again from the referral records; return how many rows were written."""
    session.execute(delete(ReferralTally))
    counts: Counter = Counter()
    referral = (Referral.month, Referral.bundle_id, Referral.staging, Referral.flow)
    subject = func.coalesce(Referral.answers[SUBJECT].as_string(), "")
    # Targets are counted by the database; answers, whose fields only the records know, here.
    for *group, kind, code, n in session.execute(
            select(*referral, subject, ReferralTarget.kind, ReferralTarget.code, func.count())
            .join(ReferralTarget, ReferralTarget.referral_id == Referral.id)
            .group_by(*referral, subject, ReferralTarget.kind, ReferralTarget.code)):
        counts[(*group, kind, "", code)] += n
    for *group, n in session.execute(
            select(*referral, subject, func.count())
            .where(Referral.id.in_(select(ReferralTarget.referral_id)
                                   .where(ReferralTarget.kind == "office")))
            .group_by(*referral, subject)):
        counts[(*group, "with_office", "", "")] += n
    for *group, answers in session.execute(
            select(*referral, Referral.answers).execution_options(yield_per=10_000)):
        key = (*group, subject_of(answers))
        counts[(*key, "referral", "", "")] += 1
        for field, value in answers.items():
            if value is not None:
                counts[(*key, "answer", field, str(value))] += 1
    rows = [{**dict(zip(KEY, key, strict=True)), "count": n} for key, n in counts.items()]
    for start in range(0, len(rows), 5_000):
        session.execute(insert(ReferralTally), rows[start:start + 5_000])
    return len(rows)
