"""A person talking to the engine itself: no LINE, no database, the clock in the test's hands."""

from __future__ import annotations

import datetime as dt

from bot.content.schema import Content
from bot.dialogue.engine import Dialogue, Follow, Outcome, Postback, Text
from bot.dialogue.turns import answer_data, command_data, menu_data, region_data, version_tag

SOON = dt.timedelta(seconds=1)  # within the double-tap window
LATER = dt.timedelta(minutes=2)  # long after it


class Chat:
    """One conversation with `Dialogue.respond`, kept as the store would keep it."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self.dialogue = Dialogue(content)
        self.tag = version_tag(content)
        self.kept: tuple[str, dict] | None = None
        self.last: Outcome | None = None

    def send(self, inp, since: dt.timedelta | None = LATER) -> Outcome:
        self.last = self.dialogue.respond(self.kept, inp, since)
        if self.last.changed or self.last.state is None:
            self.kept = (None if self.last.state is None
                         else (self.last.state, dict(self.last.answers)))
        return self.last

    def follow(self) -> Outcome:
        return self.send(Follow(), None)

    def say(self, text: str, since: dt.timedelta | None = LATER) -> Outcome:
        return self.send(Text(text), since)

    def answer(self, step: str, value: str, since: dt.timedelta | None = LATER) -> Outcome:
        return self.send(Postback(answer_data(step, value, self.tag)), since)

    def region(self, step: str, name: str, since: dt.timedelta | None = LATER) -> Outcome:
        return self.send(Postback(region_data(step, name, self.tag)), since)

    def command(self, command: str, step: str | None = None,
                since: dt.timedelta | None = LATER) -> Outcome:
        return self.send(Postback(command_data(command, step)), since)

    def menu(self, action: str, since: dt.timedelta | None = LATER, **more: str) -> Outcome:
        return self.send(Postback(menu_data(action, **more)), since)

    @property
    def state(self) -> str | None:
        return self.kept[0] if self.kept else None

    def kinds(self) -> list[str]:
        """Return the kinds of what the last reply says (Say, Ask, Note, ...)."""
        return [type(say).__name__ for say in self.last.says]
