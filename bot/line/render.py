"""Render what the engine says as LINE messages, built by `bot.line.messages` and kept per version.

The renderer only picks the builder of each thing the engine says and keeps what never changes
for one content version (questions, fixed texts, office cards); every message itself is made
in `bot.line.messages`.
"""

from __future__ import annotations

from bot.clock import japan_date
from bot.content.schema import Content, Office
from bot.dialogue.account import (
    Contact,
    FinderAsk,
    HandoffOffices,
    Note,
    OfficesFound,
    Upcoming,
)
from bot.dialogue.engine import Ask, Crisis, Result, Say, version_tag
from bot.line import messages
from bot.line.limits import MAX_MESSAGES
from bot.line.messages import Message, event_when, tel_uri
from bot.referrals.links import Links

__all__ = ["Renderer", "event_when", "tel_uri"]


class Renderer:
    """Turn the engine's says into at most five LINE messages, as the JSON LINE takes."""

    def __init__(self, content: Content, values: dict[str, str] | None = None,
                 links: Links | None = None) -> None:
        self.content = content
        # Facts of this deployment that messages may name, e.g. {keep_years} in the privacy note.
        self.values = values or {}
        # With a public address (TSUNAGU_PUBLIC_URL), each referral links to a page of its own.
        self.links = links
        self.tag = version_tag(content)  # answer buttons say which version made them
        # Questions and fixed texts never change for one content version: build each once.
        # The cached dicts are shared, so nothing may modify a rendered message.
        self._cache: dict[object, list[Message]] = {}
        self._start_reply = messages.quick_reply([messages.start_button(content)])
        # The question after each referral (content/feedback.yaml), unless editors turned it off.
        self._asks = content.feedback.ask and bool(content.feedback.answers)

    def render(self, says: list) -> list[Message]:
        found: list[Message] = []
        for say in says:
            found.extend(self._cached(say))
            if self._asks and isinstance(say, Result):  # asked on the referral's last message
                found[-1] = messages.with_feedback(self.content, found[-1], self.tag)
        found = found[:MAX_MESSAGES]
        if "quickReply" not in found[-1]:
            found[-1] = {**found[-1], "quickReply": self._start_reply}
        return found

    def _cached(self, say) -> list[Message]:
        if isinstance(say, Result):  # the only messages made for one person
            page = (self.links.page_url(self.content.bundle_id, dict(say.answers))
                    if self.links is not None and say.answers else None)
            return messages.result(self.content, say.match, say.wording, japan_date(),
                                   self._card, page)
        if isinstance(say, Upcoming):  # they change with the day
            return messages.upcoming(self.content, japan_date())
        if say not in self._cache:
            self._cache[say] = self._one(say)
        return self._cache[say]

    def _one(self, say) -> list[Message]:
        content = self.content
        if isinstance(say, Say):
            return [messages.text(content.message(say.key, **self.values, **dict(say.fields)))]
        if isinstance(say, Ask):
            return [messages.question(content, say, self.tag)]
        if isinstance(say, Crisis):
            return messages.crisis(content)
        if isinstance(say, Note):
            return [messages.text(say.text)]
        if isinstance(say, FinderAsk):
            return messages.finder_ask(content, say.choices, say.typed)
        if isinstance(say, OfficesFound):
            return messages.offices_found(content, say.place, say.offices, self._card)
        if isinstance(say, HandoffOffices):
            return [messages.office_cards(content, messages.known_offices(content, say.offices),
                                          self._card)]
        if isinstance(say, Contact):
            return [messages.contact(content)]
        raise TypeError(f"cannot render {say!r}")

    def _card(self, office: Office) -> dict:
        """Return an office's card, built once per version (the same for everyone)."""
        key = ("card", office.id)
        if key not in self._cache:
            self._cache[key] = messages.office_card(self.content, office)
        return self._cache[key]
