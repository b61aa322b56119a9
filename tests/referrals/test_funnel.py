"""The questionnaire's funnel: anonymous daily counters of where people go and stop."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select

from bot.clock import japan_date
from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import FunnelCount
from bot.referrals.funnel import funnel
from tests.support.conversations import answer_up_to_area
from tests.support.events import redelivered, tap_event

ANSWERED_UP_TO_AREA = ("subject", "age", "employment", "single_parent", "hikikomori", "wish")


def stages(app) -> tuple[dict, int, int]:
    with transaction(app) as session:
        found, crisis, done = funnel(session, content_source(app).current())
    return {s.step: s for s in found}, crisis, done


def test_a_whole_conversation_moves_each_question_once(app, line_user):
    answer_up_to_area(line_user)
    line_user.tap("県南")
    line_user.tap("大仙市")
    by_step, crisis, done = stages(app)
    for step in (*ANSWERED_UP_TO_AREA, "area"):
        assert (by_step[step].reached, by_step[step].answered) == (1, 1), step
        assert by_step[step].stopped == 0
    assert done == 1 and crisis == 0
    assert by_step["employer_need"].reached == 0, "a branch not taken is not reached"


def test_where_people_stop_goes_back_and_restart(app, make_user):
    first, second = make_user(), make_user()
    first.follow()
    first.tap("ご本人")  # stops at the age question
    second.follow()
    second.tap("ご家族")
    second.tap("戻る")  # back from age to subject
    second.tap("最初から")  # restart from subject
    by_step, _, done = stages(app)
    assert by_step["subject"].reached == 2 and by_step["subject"].answered == 2
    assert by_step["age"].reached == 2 and by_step["age"].stopped == 2
    assert by_step["age"].back == 1 and by_step["subject"].restart == 1
    assert done == 0


def test_crisis_replies_are_counted_and_their_text_kept_nowhere(app, line_user):
    line_user.follow()
    line_user.say("もう死にたい")
    _, crisis, _ = stages(app)
    assert crisis == 1
    with transaction(app) as session:
        rows = session.scalars(select(FunnelCount)).all()
    assert not any("死" in f"{r.step}{r.event}" for r in rows)
    columns = {c["name"] for c in inspect(database(app).engine).get_columns("funnel_counts")}
    assert columns == {"day", "bundle_id", "step", "event", "count"}, "no user key, no text"


def test_a_redelivered_event_and_a_double_tap_count_once(app, line_user):
    line_user.follow()
    event = tap_event(line_user, "ご本人")
    assert line_user.post(event).status_code == 200
    assert line_user.post(redelivered(event)).status_code == 200
    again = dict(event, webhookEventId=event["webhookEventId"][:-1] + "X",
                 replyToken=event["replyToken"] + "x")
    assert line_user.post(again).status_code == 200  # the same button at once: a double tap
    by_step, _, _ = stages(app)
    assert by_step["subject"].answered == 1 and by_step["age"].reached == 1


def test_stats_prints_the_funnel(app, runner, line_user):
    answer_up_to_area(line_user)
    result = runner.invoke(args=["stats", "--funnel", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [s["step"] for s in found["stages"]][:2] == ["subject", "age"]
    area = next(s for s in found["stages"] if s["step"] == "area")
    assert (area["reached"], area["answered"], area["stopped"]) == (1, 0, 1)
    table = runner.invoke(args=["stats", "--funnel"]).output
    assert table.splitlines()[0].split() == ["question", "reached", "answered", "stopped",
                                             "back", "restart"]


def test_the_dashboard_shows_the_funnel(app, client, line_user):
    from tests.support.console import log_in, make_account

    answer_up_to_area(line_user)
    line_user.say("死にたい")
    make_account(app, "sato", "counselor")
    log_in(client, "sato")
    page = client.get("/admin/").text
    assert "質問ごとの進み方" in page and "どなたについてのご相談ですか？" in page
    assert '<strong id="crisis">1</strong>' in page
    assert '<td class="num" id="funnel-done">0</td>' in page


def test_the_monthly_workbook_has_the_funnel(app, line_user):

    from bot.referrals.exports import funnel_table

    answer_up_to_area(line_user)
    month = japan_date().replace(day=1)
    table = funnel_table(database(app), content_source(app).current(), month)
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["会話を始めた"][0] == 1 and rows["最後まで答えた（ご案内）"][0] == 0
    assert any(label.startswith("止まった: ") and cells[0] == 1 for label, cells in rows.items())
    public = funnel_table(database(app), content_source(app).current(), month, public=True)
    counts = [c for row in public.rows for c in row[1:3]]  # 当月 and 前月, not 増減
    assert "＊" in counts and not any(isinstance(c, int) and 1 <= c <= 9 for c in counts)
