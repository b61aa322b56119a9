"""Reading what the store kept, and walking a person through the questionnaire."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from bot import clock
from bot.content.flow import DONE
from bot.conversations.keys import user_key
from bot.db.database import transaction
from bot.db.models import Conversation, ProcessedEvent, Referral
from bot.dialogue.engine import DOUBLE_TAP_WINDOW, LAST_STEP
from tests.support.events import text_event
from tests.support.line_user import LineUser

# What a referral leaves of a conversation, for a double tap of its last button: which step
# was answered last (the area), none of the answers.
ENDED = (DONE, {LAST_STEP: "area"})
# Long after any double tap: a button tapped this late is an old button.
LATER = dt.timedelta(minutes=2)
assert LATER > DOUBLE_TAP_WINDOW


def count(app, model) -> int:
    with transaction(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def state_of(app) -> tuple[str, dict] | None:
    with transaction(app) as session:
        conv = session.scalars(select(Conversation)).one_or_none()
        return (conv.state, dict(conv.answers)) if conv else None


def move_back(app, by: dt.timedelta = LATER) -> None:
    """Make every conversation's last change look this much older, as when time passes."""
    with transaction(app) as session:
        session.execute(update(Conversation).values(updated_at=clock.now() - by))


def answer_up_to_area(line_user):
    line_user.follow()
    for label in ("ご本人", "40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい"):
        line_user.tap(label)


def processed(app, event_id: str) -> bool:
    """Tell whether the event id is recorded as acted on."""
    with transaction(app) as session:
        return session.get(ProcessedEvent, event_id) is not None


def state_for(app, user: LineUser) -> tuple[str, dict] | None:
    """Return one person's conversation state and answers, or None."""
    with transaction(app) as session:
        conv = session.get(Conversation, user_key(app.config["TSUNAGU_SECRET_KEY"],
                                                  user.user_id))
        return (conv.state, dict(conv.answers)) if conv else None


AREA_ANSWERS = {"subject": "self", "age": "40-44", "age_years": "", "employment": "regular",
                "wish": "talk",
                "single_parent": "no", "hikikomori": "none"}


def finish_while_line_fails(app, user: LineUser, fail) -> None:
    """Answer the rest, the area while LINE fails: one referral, then the person starts over."""
    user.tap("いいえ")
    user.tap("とくにない")
    user.tap("まずは話を聞いてほしい")
    fail(text_event(user, "大仙市"))
    assert count(app, Referral) == 1
    assert state_for(app, user) == ENDED
    assert user.say("こんにちは")[-1] == "どなたについてのご相談ですか？"
