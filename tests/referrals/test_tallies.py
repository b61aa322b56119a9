"""Monthly referral tallies: kept with each referral, equal to counting the records themselves."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text

from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import Base, Referral, ReferralTally, ReferralTarget
from bot.referrals import tallies
from bot.referrals.stats import counts
from tests.support.events import redelivered, tap_event
from tests.support.personas import PERSONAS, play
from tests.support.referrals import add_referral


def stored_tallies(app) -> dict[tuple, int]:
    with transaction(app) as session:
        return {tuple(getattr(t, k) for k in tallies.KEY): t.count
                for t in session.scalars(select(ReferralTally)) if t.count}


def counted_again(app) -> dict[tuple, int]:
    """Return the tallies as `rebuild` counts them from the records (then put the old back)."""
    before = stored_tallies(app)
    with transaction(app) as session:
        tallies.rebuild(session)
    after = stored_tallies(app)
    with transaction(app) as session:
        session.execute(ReferralTally.__table__.delete())
        session.execute(ReferralTally.__table__.insert(),
                        [{**dict(zip(tallies.KEY, key, strict=True)), "count": n}
                         for key, n in before.items()] or [])
    return after


def by_hand(app, start=None, end=None) -> dict:
    """Count the real referral records one by one, as a counselor would with the list."""
    with transaction(app) as session:
        found = session.scalars(select(Referral).where(Referral.staging.is_(False))).all()
    found = [r for r in found if (not start or r.month >= start) and (not end or r.month <= end)]
    named = Counter((t.kind, t.code) for r in found for t in r.targets)
    answers = Counter((field, value) for r in found for field, value in r.answers.items())
    return {"referrals": len(found),
            "programme": {c: n for (k, c), n in named.items() if k == "programme"},
            "office": {c: n for (k, c), n in named.items() if k == "office"},
            "answers": dict(answers)}


def test_conversations_keep_the_tallies_equal_to_their_records(app, make_user):
    for persona in PERSONAS:
        play(make_user(), persona)
    kept = stored_tallies(app)
    assert kept, "the referrals were tallied"
    assert kept == counted_again(app)
    with transaction(app) as session:
        referrals = session.scalar(select(func.count()).select_from(Referral))
    assert sum(n for key, n in kept.items() if key[5] == "referral") == referrals


def test_a_redelivered_or_double_tapped_last_answer_tallies_once(app, line_user):
    persona = PERSONAS[0]
    *first, (_, last) = persona.answers
    play(line_user, type(persona)(persona.name, first, set(), set()))
    event = tap_event(line_user, last)
    assert line_user.post(event).status_code == 200
    assert line_user.post(redelivered(event)).status_code == 200
    again = dict(event, webhookEventId=event["webhookEventId"][:-1] + "X",
                 replyToken=event["replyToken"] + "x")
    assert line_user.post(again).status_code == 200
    with transaction(app) as session:
        assert counts(session, content_source(app).current())["referrals"] == 1
    assert stored_tallies(app) == counted_again(app)


def test_staging_referrals_are_tallied_apart_and_never_counted(app):
    month = dt.date(2026, 6, 1)
    add_referral(app, month, {"subject": "self"}, ["hw-senmon"], ["hw-akita"], staging=True)
    add_referral(app, month, {"subject": "family"}, ["hw-senmon"], ["hw-akita"])
    with transaction(app) as session:
        result = counts(session, content_source(app).current())
    assert result["referrals"] == 1 and result["by_office"] == {"hw-akita": 1}
    assert result["by_answer"]["subject"] == {"family": 1}
    assert {key[2] for key in stored_tallies(app)} == {True, False}


OFFICES = ["hikikomori-center", "hw-akita", "saposute", "fukushi-kankyo-yokote"]
PROGRAMMES = ["hw-senmon", "saposute", "hikikomori-center"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.integers(0, 23),  # a month of two fiscal years
    st.sampled_from(["self", "family", "employer", None]),
    st.sampled_from(["秋田市", "大館市", "横手市", None]),
    st.lists(st.sampled_from(PROGRAMMES), unique=True, max_size=3),
    st.lists(st.sampled_from(OFFICES), unique=True, max_size=3),
    st.booleans()), max_size=12))
def test_stats_over_any_period_equal_counting_the_records(app, made):
    with transaction(app) as session:
        for table in (ReferralTarget, Referral, ReferralTally):
            session.query(table).delete()
    months = [dt.date(2025 + (m + 3) // 12, (m + 3) % 12 + 1, 1) for m in range(24)]
    for month, subject, area, programmes, offices, staging in made:
        answers = {k: v for k, v in (("subject", subject), ("area", area)) if v}
        add_referral(app, months[month], answers, programmes, offices, staging)
    content = content_source(app).current()
    for start, end in ((None, None), (months[0], months[11]), (months[5], months[5]),
                       (months[12], None)):
        with transaction(app) as session:
            result = counts(session, content, start, end)
        expected = by_hand(app, start, end)
        assert result["referrals"] == expected["referrals"]
        assert result["by_programme"] == expected["programme"]
        assert result["by_office"] == expected["office"]
        for (field, value), n in expected["answers"].items():
            assert result["by_answer"][field].get(value) == n
        assert sum(sum(v.values()) for v in result["by_answer"].values()) == sum(
            expected["answers"].values())


def test_rebuild_counts_again_after_records_changed_by_hand(app, runner):
    add_referral(app, dt.date(2026, 5, 1), {"subject": "self", "area": "秋田市"},
                 ["hw-senmon"], ["hw-akita"], n=3)
    with transaction(app) as session:
        session.execute(Referral.__table__.delete().where(
            Referral.id == select(func.min(Referral.id)).scalar_subquery()))
    result = runner.invoke(args=["stats", "--recount"])
    assert result.exit_code == 0, result.output
    assert "counted again" in result.output
    stats = runner.invoke(args=["stats", "--json"]).output
    assert '"referrals": 2' in stats


def test_the_upgrade_tallies_the_referrals_already_stored(app, database_url):
    from alembic import command

    from bot.db.database import alembic_config

    engine = create_engine(database_url)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    config = alembic_config(database_url)
    command.upgrade(config, "0006")
    with engine.begin() as conn:
        for i, (month, staging, answers) in enumerate((
                ("2026-04-01", False, '{"subject": "self", "area": "秋田市"}'),
                ("2026-04-01", False, '{"subject": "self", "area": "秋田市"}'),
                ("2026-05-01", True, '{"subject": "family"}'),
                ("2026-05-01", False, '{"area": "大館市"}')), start=1):
            conn.execute(text("INSERT INTO referrals (id, month, bundle_id, staging, flow, "
                              "answers) VALUES (:i, :m, 'v', :s, 'questionnaire', :a)"),
                         {"i": i, "m": month, "s": staging, "a": answers})
            conn.execute(text("INSERT INTO referral_targets VALUES (:i, 'office', 'hw-akita')"),
                         {"i": i})
    command.upgrade(config, "head")
    engine.dispose()
    database(app).dispose()
    upgraded = stored_tallies(app)
    assert upgraded == counted_again(app)
    april = (dt.date(2026, 4, 1), "v", False, "questionnaire", "self")
    assert upgraded[(*april, "referral", "", "")] == 2
    assert upgraded[(*april, "office", "", "hw-akita")] == 2
    assert upgraded[(*april, "answer", "area", "秋田市")] == 2
    assert upgraded[(dt.date(2026, 5, 1), "v", False, "questionnaire", "",
                     "with_office", "", "")] == 1


def test_a_referral_after_midnight_in_japan_counts_in_japans_month(app, line_user,
                                                                    monkeypatch):
    from bot.conversations import store
    from bot.db.models import FunnelCount

    # 1:30 on 1 December in Akita is still 30 November in UTC.
    moment = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(store.clock, "now", lambda: moment)
    play(line_user, PERSONAS[0])
    with transaction(app) as session:
        assert session.scalars(select(Referral.month)).all() == [dt.date(2026, 12, 1)]
        assert set(session.scalars(select(ReferralTally.month))) == {dt.date(2026, 12, 1)}
        assert set(session.scalars(select(FunnelCount.day))) == {dt.date(2026, 12, 1)}
