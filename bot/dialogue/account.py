"""The account beyond the questionnaire: the office finder, events, a person, what this is.

These answer the rich menu's areas (postbacks `m=<action>`) and a few typed words, from any
point of a conversation; a questionnaire in progress waits and goes on afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.content.schema import Content, Event, Office

# Reserved conversation answers (never on the questionnaire's path, so never in a referral).
FINDER_OPEN = "finder"  # the finder waits for a municipality typed (or tapped)
# The municipality whose offices were just shown, so that a double tap of its button shows
# them once (for the double-tap window; the next answer or the purge drops it).
FINDER_SHOWN = "finder_shown"
# The state of a conversation that is only the finder (no questionnaire in progress), and of
# one whose person asked for a counselor: the bot keeps silent while it lasts.
MENU, HANDOFF = "menu", "handoff"
HANDOFF_EVENT = "handoff"  # what the anonymous daily counter of people asking for one is called
OFFICES_SEP = ","  # between office ids in a handoff button's data
MAX_HANDOFF_OFFICES = 6


# Outputs, rendered for LINE by bot.line.render.
@dataclass(frozen=True)
class Note:
    """A text of the account's own files (finder, events, handoff, rich menu)."""

    text: str


@dataclass(frozen=True)
class FinderAsk:
    """Ask for the municipality: every region's municipalities as buttons."""


@dataclass(frozen=True)
class OfficesFound:
    place: str
    offices: tuple[str, ...]  # office ids


@dataclass(frozen=True)
class Upcoming:
    """The events not yet over, soonest first (chosen when rendered: they change by day)."""


@dataclass(frozen=True)
class Contact:
    """The platform's consultation channel, as content/handoff.yaml gives it."""


@dataclass(frozen=True)
class HandoffOffices:
    offices: tuple[str, ...]  # office ids: the referral's, shown as cards


def fill(text: str, **values: str) -> str:
    """Fill in a text's {names}; one `check` would refuse is shown as written, never an error."""
    try:
        return text.format(**values)
    except (KeyError, ValueError, IndexError):
        return text


def upcoming(content: Content, today: dt.date, programmes: set[str] | None = None
             ) -> list[Event]:
    """Return the events not yet over (of these programmes, if given), soonest first."""
    found = [e for e in content.events.events
             if e.date is not None and e.last_day >= today
             and (programmes is None or e.programme in programmes)]
    return sorted(found, key=lambda e: (e.date, e.id))[:content.events.shown]


def offices_serving(content: Content, place: str) -> list[Office]:
    """Return the offices of a municipality, then those of the prefecture the finder names."""
    local = [o for o in content.offices.values() if place in o.areas]
    everywhere = [content.offices[i] for i in content.finder.everywhere
                  if i in content.offices]
    return list({o.id: o for o in [*local, *everywhere]}.values())


def handoff_offices(content: Content, data: str) -> tuple[str, ...]:
    """Return the known office ids a handoff button carries (the referral's), in its order."""
    ids = [i for i in data.split(OFFICES_SEP) if i in content.offices]
    return tuple(dict.fromkeys(ids))[:MAX_HANDOFF_OFFICES]


def handoff_says(content: Content, offices: tuple[str, ...]) -> list:
    """Return who can be reached and when: the platform's channel, else the referral's offices."""
    handoff = content.handoff
    if handoff.contact.name:
        where, cards = fill(handoff.with_contact, name=handoff.contact.name), [Contact()]
    elif offices:
        where, cards = handoff.with_offices, [HandoffOffices(offices)]
    else:
        where, cards = handoff.no_contact, []
    text = "\n".join([handoff.asked, where])
    if handoff.silence:
        text += "\n\n" + handoff.silent_note
    return [Note(text), *cards]
