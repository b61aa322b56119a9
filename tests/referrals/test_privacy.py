"""What the bot keeps is exactly what its privacy note says it keeps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, select

from bot.clock import fiscal_year, japan_date
from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import FunnelCount, Referral, ReferralTally, ReferralTarget
from bot.referrals import links
from bot.referrals.retention import first_kept_month, purge_referrals
from bot.studio.checks import problems
from tests.support.apps import make_app
from tests.support.line_user import LineUser
from tests.support.pages import PUBLIC_URL, path_of, referral_in
from tests.support.personas import PERSONAS, only_referral, play
from tests.support.referrals import add_referral

# How the note names each column a referral record keeps ("answers" holds one value per
# question; the flow's `counted_as` names each). A new column fails here until it is named.
NAMED = {"month": "ご案内した月", "bundle_id": "質問の種類と版", "flow": "質問の種類と版",
         "answers": None,
         # Which account the referral was made on: false for everyone on the real one (true
         # only for editors trying a version on the staging account), so it tells nothing of
         # the person and the note need not name it.
         "staging": None}
TARGETS_NAMED = "ご案内した支援と相談先"
# How the note names the daily counters kept of the account's use beside the questionnaire:
# the feedback question's answers and the menu areas tapped, by day and nothing else.
COUNTERS_NAMED = ("ご案内が役に立ちそうかのお答え", "押されたメニューの区画", "日ごとの回数だけ")


def note(line_user) -> str:
    texts = line_user.follow()
    return next(t for t in texts if t.startswith("【個人情報について】"))


def test_the_note_names_every_column_a_referral_keeps(app, line_user):
    said = note(line_user)
    columns = {c.name for c in Referral.__table__.c} - {"id"}
    assert columns == set(NAMED), "name the new column in the note and in NAMED"
    for column, words in NAMED.items():
        assert words is None or words in said, column
    assert {c.name for c in ReferralTarget.__table__.c} == {"referral_id", "kind", "code"}
    assert TARGETS_NAMED in said
    for step in content_source(app).current().flow.steps:
        assert step.counted_as and step.counted_as in said, step.id


def test_the_note_says_how_long_each_thing_is_kept(app, line_user):
    said = note(line_user)
    assert "30日間やりとりがないとき" in said and "ブロックされたとき" in said
    assert "5年度" in said and "{" not in said
    assert "LINEのIDは記録しません" in said


def test_the_note_follows_the_configured_years(database_url, line_api):
    app = make_app(database_url, line_api, KEEP_REFERRAL_YEARS=3)
    assert "3年度" in note(LineUser(app.test_client(), line_api))
    database(app).dispose()


def test_a_referral_keeps_each_answer_as_its_option_and_only_the_month(app, line_user):
    play(line_user, PERSONAS[0])  # types its age: "42"
    referral = only_referral(app)
    assert referral.month == japan_date().replace(day=1)
    assert "42" not in str(referral.answers.values()) and referral.answers["age"] == "40-44"
    kept = {c["name"] for c in inspect(database(app).engine).get_columns("referrals")}
    assert kept - {"id"} == set(NAMED)


def test_check_fails_when_the_note_leaves_an_answer_out(app):
    content = content_source(app).current()
    messages = {**content.messages, "privacy": content.messages["privacy"].replace(
        "ひとり親かどうか、", "")}
    found = problems(content.model_copy(update={"messages": messages}))
    assert any("does not name 'ひとり親かどうか'" in p for p in found)


def test_fiscal_years_run_from_april():
    assert fiscal_year(dt.date(2027, 3, 31)) == 2026
    assert fiscal_year(dt.date(2026, 4, 1)) == 2026
    # Made in FY2026 and kept 5 fiscal years after it: gone from April 2032.
    assert first_kept_month(dt.date(2032, 3, 31), 5) == dt.date(2026, 4, 1)
    assert first_kept_month(dt.date(2032, 4, 1), 5) == dt.date(2027, 4, 1)


def test_purge_deletes_referrals_kept_long_enough_with_their_targets(app):
    for month in (dt.date(2027, 3, 1), dt.date(2027, 4, 1)):
        add_referral(app, month, {"area": "秋田市"}, offices=["hw-akita"])
    assert purge_referrals(database(app), dt.date(2032, 4, 1), 5) == 1
    with transaction(app) as session:
        assert session.scalars(select(Referral.month)).all() == [dt.date(2027, 4, 1)]
        assert len(session.scalars(select(ReferralTarget)).all()) == 1
        # The counts of the month deleted go too: they keep equalling the records.
        assert set(session.scalars(select(ReferralTally.month))) == {dt.date(2027, 4, 1)}


def test_the_purge_command_deletes_old_referrals(app, runner):
    add_referral(app, dt.date(2001, 4, 1), {"area": "秋田市"})
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "1 referral records kept 5 fiscal years" in result.output
    with transaction(app) as session:
        assert session.scalars(select(Referral)).all() == []


def test_a_referral_s_page_keeps_nothing_and_its_link_only_what_the_record_keeps(
        database_url, line_api):
    app = make_app(database_url, line_api, PUBLIC_URL=PUBLIC_URL)
    person = LineUser(app.test_client(), line_api)
    page, _ = referral_in(person)
    referral = only_referral(app)
    signed = links.Links(app.config["TSUNAGU_SECRET_KEY"], PUBLIC_URL).read(
        path_of(page).removeprefix(links.PAGE_PATH))
    # The link holds the categories the record keeps, and nothing of the person.
    assert signed.answers == referral.answers and signed.bundle_id == referral.bundle_id
    assert app.test_client().get(path_of(page)).status_code == 200
    assert only_referral(app).id == referral.id  # opening it wrote nothing
    database(app).dispose()


def test_the_note_names_the_feedback_and_menu_counts_which_keep_no_one(app, line_user):
    said = note(line_user)
    for words in COUNTERS_NAMED:
        assert words in said, words
    # The counters hold a day, a version, what was counted and how often: no user, no text.
    assert {c.name for c in FunnelCount.__table__.c} == {"day", "bundle_id", "step", "event",
                                                         "count"}
    play(line_user, PERSONAS[0])
    line_user.tap("役に立ちそう")
    line_user.postback("m=about&a=6")
    with transaction(app) as session:
        kept = [(r.step, r.event) for r in session.scalars(select(FunnelCount))]
    assert ("feedback", "useful") in kept and ("menu:6", "tap") in kept
    assert line_user.user_id not in str(kept)
