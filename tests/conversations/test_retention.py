"""Retention: idle conversations and old event ids are deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from bot import clock
from bot.conversations.retention import purge
from bot.db.database import database, transaction
from bot.db.models import Conversation, ProcessedEvent
from bot.dialogue.engine import DOUBLE_TAP_WINDOW
from tests.support.conversations import ENDED, answer_up_to_area, state_for


def age_everything(app, days: int) -> None:
    past = clock.now() - dt.timedelta(days=days)
    with transaction(app) as session:
        session.execute(update(Conversation).values(updated_at=past))
        session.execute(update(ProcessedEvent).values(received_at=past))


def rows(app, model) -> int:
    with transaction(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_purge_deletes_conversations_idle_for_30_days(app, runner, make_user):
    idle, active = make_user(), make_user()
    idle.follow()
    age_everything(app, 31)
    active.follow()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0
    assert "Deleted 1 idle or finished conversations" in result.output
    assert rows(app, Conversation) == 1


def test_purge_keeps_conversations_idle_for_less_than_30_days(app, line_user):
    line_user.follow()
    age_everything(app, 29)
    assert purge(database(app))[0] == 0
    assert rows(app, Conversation) == 1


def test_purge_deletes_what_a_referral_leaves_once_no_double_tap_can_come(app, make_user):
    finished, going_on = make_user(), make_user()
    answer_up_to_area(finished)
    finished.say("大仙市")
    going_on.follow()
    assert state_for(app, finished) == ENDED
    assert purge(database(app))[0] == 0  # a double tap may still come
    later = clock.now() + DOUBLE_TAP_WINDOW + dt.timedelta(seconds=1)
    assert purge(database(app), later)[0] == 1
    assert state_for(app, finished) is None
    assert state_for(app, going_on) == ("subject", {})  # a conversation goes on for 30 days


def test_purge_forgets_event_ids_after_7_days(app, line_user):
    line_user.follow()
    age_everything(app, 8)
    assert purge(database(app))[1] == 1
    assert rows(app, ProcessedEvent) == 0


def test_idle_conversation_starts_over_when_the_person_comes_back(app, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    age_everything(app, 31)
    texts = line_user.say("40〜44歳")
    assert texts[-1] == "どなたについてのご相談ですか？"
    with transaction(app) as session:
        conv = session.scalars(select(Conversation)).one()
        assert (conv.state, conv.answers) == ("subject", {})


def test_oversized_body_gets_413(app, client):
    body = b"{" + b" " * (app.config["MAX_CONTENT_LENGTH"] + 1) + b"}"
    response = client.post("/callback", data=body, headers={"X-Line-Signature": "x"})
    assert response.status_code == 413


def test_purge_forgets_a_handoff_once_its_silence_is_over_and_an_unfinished_finder(
        app, runner, make_user):
    asked, looking, going_on = make_user(), make_user(), make_user()
    asked.say("相談員と話したい")
    looking.say("窓口")
    going_on.follow()
    assert state_for(app, asked) == ("handoff", {})
    assert purge(database(app), clock.now() + dt.timedelta(hours=23))[0] == 0
    assert purge(database(app), clock.now() + dt.timedelta(hours=25))[0] == 2
    assert state_for(app, asked) is None and state_for(app, looking) is None
    assert state_for(app, going_on) == ("subject", {})


def test_the_purge_command_uses_the_contents_handoff_hours(app, runner, line_user):
    line_user.say("相談員と話したい")
    with transaction(app) as session:
        session.execute(update(Conversation).values(
            updated_at=clock.now() - dt.timedelta(hours=25)))
    assert "Deleted 1 idle or finished" in runner.invoke(args=["purge"]).output
