"""The account beyond the questionnaire: office finder, events, a person, through the webhook."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.clock import japan_date
from bot.db.database import database, transaction
from bot.db.models import Conversation, FunnelCount, Referral
from tests.support.apps import make_app
from tests.support.conversations import state_for
from tests.support.drafts import copy_draft, edit
from tests.support.line_user import LineUser
from tests.support.personas import PERSONAS, play

FIRST_QUESTION = "どなたについてのご相談ですか？"
AKITA_CITY = PERSONAS[0]  # referred to hw-senmon, among others
FINDER_ASK = "お住まいの地域を選んでください。"


def offices_shown(user: LineUser) -> str:
    """Return the text of the office cards of the newest reply (their alt text)."""
    return "\n".join(m["altText"] for m in user.messages if m.get("type") == "flex")


# --- the office finder ---


def test_the_finder_from_the_menu_finds_a_citys_offices_in_two_taps(app, line_user):
    line_user.menu("finder")
    assert FINDER_ASK in line_user.text[:40]
    assert {"大仙市", "美郷町", "上小阿仁村"} <= set(line_user.card_labels)
    line_user.tap_card("大仙市")
    assert "大仙市の方がご相談できる窓口です。" in line_user.texts[0]
    shown = offices_shown(line_user)
    assert "ハローワーク大曲" in shown and "ハローワーク秋田" not in shown.split("■")[1]
    # A finder alone keeps only which municipality was shown, for a double tap of its button.
    assert state_for(app, line_user) == ("menu", {"finder_shown": "大仙市"})


def test_a_town_tapped_and_a_name_typed(app, line_user):
    line_user.say("相談窓口")
    line_user.tap_card("美郷町")
    assert "美郷町の方がご相談できる窓口です。" in line_user.text
    line_user.say("窓口")
    line_user.say("にかほ")  # a municipality typed, without 市
    assert "にかほ市の方がご相談できる窓口です。" in line_user.text


def test_the_finder_in_the_middle_of_a_questionnaire_lets_it_go_on(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    line_user.tap("40〜44歳")  # now at the employment question
    before = state_for(app, line_user)
    line_user.menu("finder")
    line_user.say("横手市")
    assert "横手市の方がご相談できる窓口です。" in line_user.texts[0]
    assert "質問の続きはこちらです。" in line_user.text
    assert "正社員" in line_user.buttons, "the question it interrupted, asked again"
    state, answers = state_for(app, line_user)
    assert (state, {k: v for k, v in answers.items() if k != "finder_shown"}) == before
    for label in ("正社員", "いいえ", "とくにない", "まずは話を聞いてほしい", "中央", "秋田市"):
        line_user.tap(label)
    with transaction(app) as session:
        referral = session.scalars(select(Referral)).one()
    assert referral.answers["age"] == "40-44" and referral.answers["area"] == "秋田市"
    assert "finder" not in referral.answers


def test_the_finder_asks_again_kindly_and_a_question_button_closes_it(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    age_button = line_user.button_data("40〜44歳")
    line_user.say("窓口")
    line_user.say("東京都")
    assert "市町村がわかりませんでした" in line_user.text and "大仙市" in line_user.card_labels
    line_user.postback(age_button)  # the age question's button, still there: the finder closes
    assert "正社員" in line_user.buttons
    state, answers = state_for(app, line_user)
    assert state == "employment" and "finder" not in answers


def test_an_unknown_place_in_a_finder_button_changes_nothing(app, line_user):
    line_user.menu("finder", p="どこか")
    assert "市町村がわかりませんでした" in line_user.text
    assert state_for(app, line_user) is None


# --- events ---


@pytest.fixture
def events_app(database_url, line_api, tmp_path):
    root = copy_draft(tmp_path)
    today = japan_date()
    events = "\n".join([
        "events:",
        "  - id: soon",
        "    title: 就職面接会（テスト）",
        f"    date: {today + dt.timedelta(days=10)}",
        "    time: 13:30〜16:00",
        "    place: 秋田市",
        "    programme: hw-senmon",
        "    office: hw-akita",
        "    url: https://example.jp/mensetsukai",
        "    sources: [https://example.jp/mensetsukai]",
        "  - id: today-last",
        "    title: 就職支援講座（最終日）",
        f"    date: {today - dt.timedelta(days=2)}",
        f"    end_date: {today}",
        "    programme: long-term-training",
        "    sources: [https://example.jp/kouza]",
        "  - id: over",
        "    title: 終わったセミナー",
        f"    date: {today - dt.timedelta(days=1)}",
        "    programme: hw-senmon",
        "    sources: [https://example.jp/over]",
        "  - id: for-employers",
        "    title: 企業向けセミナー（テスト）",
        f"    date: {today + dt.timedelta(days=3)}",
        "    programme: subsidy-career-up",
        "    sources: [https://example.jp/kigyou]",
    ])
    edit(root, "content/events.yaml", "events: []", events)
    app = make_app(database_url, line_api, CONTENT_DIR=str(root / "content"),
                   FLOWS_DIR=str(root / "flows"))
    yield app
    database(app).dispose()


def test_the_menu_shows_upcoming_events_only(events_app, line_api):
    user = LineUser(events_app.test_client(), line_api)
    user.menu("events")
    assert user.texts[0] == "これからのイベント・セミナーです。"
    shown = user.text
    assert "企業向けセミナー（テスト）" in shown and "就職面接会（テスト）" in shown
    assert "就職支援講座（最終日）" in shown, "shown on its last day"
    assert "終わったセミナー" not in shown, "a past event disappears by itself"
    assert shown.index("企業向けセミナー") < shown.index("就職面接会"), "soonest first"


def test_a_referral_naming_a_programme_shows_its_events(events_app, line_api):
    user = LineUser(events_app.test_client(), line_api)
    play(user, AKITA_CITY)  # hw-senmon and long-term-training, not the employers' subsidy
    shown = user.text
    assert "ご案内した取組のイベントがあります。" in shown
    assert "就職面接会（テスト）" in shown and "就職支援講座（最終日）" in shown
    assert "企業向けセミナー" not in shown and "終わったセミナー" not in shown


def test_without_events_the_menu_says_so_and_referrals_have_no_event_card(app, line_user):
    line_user.menu("events")
    assert line_user.texts == ["いまご案内できるイベント・セミナーはありません。"
                               "相談窓口では、いつでもご相談いただけます。"]
    play(line_user, AKITA_CITY)
    assert "イベントがあります" not in line_user.text


# --- talking to a person ---


def handoffs(app) -> int:
    with transaction(app) as session:
        return sum(session.scalars(select(FunnelCount.count).where(
            FunnelCount.event == "handoff")))


def test_asking_for_a_person_silences_the_bot_but_not_the_crisis_answer(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    age_button = line_user.button_data("40〜44歳")
    line_user.say("相談員と話したい")
    assert "相談員におつなぎします。" in line_user.text
    assert "ボットはお休みします" in line_user.text
    assert handoffs(app) == 1
    assert line_user.say("もしもし、聞こえますか") == [], "the counselor answers, not the bot"
    assert line_user.postback(age_button) == []
    line_user.say("もう死にたい")
    assert "つらいお気持ち" in line_user.text, "crisis words are always answered"
    assert line_user.say("まだですか") == [], "and the silence goes on"
    line_user.say("最初から")
    assert "ボットの案内を再開します。" in line_user.text and FIRST_QUESTION in line_user.text
    assert handoffs(app) == 1


def test_the_menu_wakes_the_bot(app, line_user):
    line_user.menu("handoff")
    assert line_user.say("こんにちは") == []
    line_user.menu("finder")
    assert "ボットの案内を再開します。" in line_user.text and FINDER_ASK in line_user.text


def test_the_referrals_button_names_its_offices(app, line_user):
    play(line_user, AKITA_CITY)
    assert "相談員と話したい" in line_user.buttons
    line_user.tap("相談員と話したい")
    assert "ご案内した窓口の相談員にご相談いただけます。" in line_user.text
    shown = offices_shown(line_user)
    assert "ハローワーク秋田" in shown
    assert handoffs(app) == 1


def test_the_silence_ends_by_itself(app, line_user):
    line_user.say("相談員と話したい")
    with transaction(app) as session:  # a day and an hour later
        session.execute(update(Conversation).values(
            updated_at=clock.now() - dt.timedelta(hours=25)))
    line_user.say("こんにちは")
    assert FIRST_QUESTION in line_user.text


def test_without_silence_the_questionnaire_goes_on(database_url, line_api, tmp_path):
    root = copy_draft(tmp_path)
    edit(root, "content/handoff.yaml", "silence: true", "silence: false")
    app = make_app(database_url, line_api, CONTENT_DIR=str(root / "content"),
                   FLOWS_DIR=str(root / "flows"))
    user = LineUser(app.test_client(), line_api)
    user.follow()
    user.tap("ご本人")
    user.say("相談員と話したい")
    assert "相談員におつなぎします。" in user.text and "お休みします" not in user.text
    assert "40〜44歳" in user.buttons, "the question asked again"
    user.tap("40〜44歳")
    assert "正社員" in user.buttons
    database(app).dispose()


def test_a_handoff_keeps_no_answers(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    line_user.say("相談員と話したい")
    assert state_for(app, line_user) == ("handoff", {})


# --- the other areas of the menu ---


def test_the_menus_other_areas(app, line_user):
    line_user.menu("about")
    assert "お名前やLINEのIDは記録しません" in line_user.text
    line_user.menu("crisis")
    assert "つらいお気持ち" in line_user.text
    line_user.menu("questionnaire")
    assert FIRST_QUESTION in line_user.text
    line_user.menu("nothing-like-this")
    assert line_user.last_response.status_code == 200


def test_counselors_see_how_many_asked_for_a_person_each_day(app, runner, client, make_user):
    import json

    from bot.content.source import content_source
    from bot.referrals.exports import funnel_table
    from tests.support.console import log_in, make_account

    for _ in range(2):
        make_user().say("相談員と話したい")
    found = json.loads(runner.invoke(args=["stats", "--funnel", "--json"]).output)
    assert list(found["handoffs"].values()) == [2]
    assert "asked to talk to a person: 2" in runner.invoke(args=["stats", "--funnel"]).output
    make_account(app, "sato", "counselor")
    log_in(client, "sato")
    assert '<strong id="handoff-total">2</strong>' in client.get("/admin/").text
    month = japan_date().replace(day=1)
    table = funnel_table(database(app), content_source(app).current(), month)
    assert next(r for r in table.rows if r[0] == "相談員と話したいと希望した")[1] == 2
    with transaction(app) as session:
        kept = session.scalars(select(FunnelCount)).all()
    assert {(c.step, c.event) for c in kept} == {("", "handoff")}, "no text, no one's id"


def test_a_versions_funnel_beside_the_one_before(database_url, line_api, tmp_path):
    from bot.content.source import content_source
    from bot.db import versions
    from tests.support.console import log_in, make_account
    from tests.support.drafts import reword_first_question
    from tests.support.events import wait_until

    app = make_app(database_url, line_api, CONTENT_REFRESH_SECONDS=0.05)
    runner, client = app.test_cli_runner(), app.test_client()
    root = copy_draft(tmp_path / "draft")
    assert runner.invoke(args=["publish", "--root", str(root), "--note", "1"]).exit_code == 0
    for _ in range(2):  # two people under version 1: one stops at the age question
        user = LineUser(client, line_api)
        user.follow()
    user.tap("ご本人")
    reword_first_question(root, "ご相談は、どなたについてですか？")
    assert runner.invoke(args=["publish", "--root", str(root), "--note", "2"]).exit_code == 0
    live = versions.pointer(database(app), versions.LIVE).bundle_id
    with app.app_context():  # the workers' next look at the live pointer finds version 2
        wait_until(lambda: content_source(app).current().bundle_id == live)
    LineUser(client, line_api).follow()  # one person under version 2, who stops at once
    make_account(app, "sato", "counselor")
    log_in(client, "sato")
    page = client.get("/admin/funnel").text
    assert "版2" in page and "版1（その前の版）" in page
    first = page.split("<tbody>")[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in first.split('class="num">')[1:]]
    # 版2: 1 reached, 1 stopped (100%); 版1: 2 reached, 1 stopped (50%); +50 points.
    assert cells == ["1", "1", "100.0%", "2", "1", "50.0%", "+50.0"]
    assert "ご相談は、どなたについてですか？" in first
    older = client.get("/admin/funnel?version=1").text
    assert "この版の前に公開された版はありません" in older
    assert client.get("/admin/funnel?version=abc").status_code == 400
    assert client.get("/admin/funnel?version=9").status_code == 404
    database(app).dispose()


def test_the_funnel_page_before_anything_is_published(app, client, line_user):
    from tests.support.console import log_in, make_account

    line_user.follow()
    make_account(app, "sato", "counselor")
    log_in(client, "sato")
    page = client.get("/admin/funnel").text
    assert "まだ公開された版はありません" in page and "下書き" in page


def test_a_double_tap_of_a_municipality_shows_its_offices_once(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    line_user.menu("finder")
    data = line_user.card_data("湯沢市")
    first = line_user.event("postback", postback={"data": data})
    assert line_user.post(first).status_code == 200
    assert "湯沢市の方がご相談できる窓口です。" in line_user.text
    age_button = line_user.button_data("40〜44歳")  # the question, asked again below
    again = line_user.event("postback", postback={"data": data})
    assert line_user.post(again).status_code == 200 and line_user.messages == []
    line_user.postback(age_button)  # the questionnaire goes on, and the marker goes
    state, answers = state_for(app, line_user)
    assert state == "employment" and "finder_shown" not in answers
