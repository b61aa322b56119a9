"""The account beyond the questionnaire: the office finder, events, a person, what this is.

These answer the rich menu's areas (postbacks `m=<action>`) and a few typed words, from any
point of a conversation; a questionnaire in progress waits and goes on afterwards. Their
handlers (`AccountTurns`: a handoff's silence, the menu, the office finder, a referral's
feedback) are rows of the engine's table of handlers (`bot.dialogue.engine.HANDLERS`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.content.flow import DONE
from bot.content.schema import Content, Event, Office
from bot.dialogue.answers import Ambiguous
from bot.dialogue.turns import (
    FEEDBACK_GIVEN,
    FINDER_OPEN,
    FINDER_SHOWN,
    HANDOFF,
    MENU,
    MENU_ACTIONS,
    REGION_SHOWN,
    Conversation,
    Outcome,
    Say,
    Turn,
    outcome,
)

HANDOFF_EVENT = "handoff"  # what the anonymous daily counter of people asking for one is called
# The anonymous daily counters of the account's use, beside the questionnaire's: a feedback
# answer (step "feedback", event: the answer's value) and a rich menu area's tap (step
# "menu:<number>", event "tap"). bot.referrals.funnel reads them by these names.
FEEDBACK_STEP, MENU_STEP, MENU_TAP = "feedback", "menu:", "tap"
MAX_MENU_AREAS = 20  # LINE's limit on a rich menu's areas: a larger `a=` is not ours
OFFICES_SEP = ","  # between office ids in a handoff button's data
MAX_HANDOFF_OFFICES = 6


# Outputs, rendered for LINE by bot.line.render.
@dataclass(frozen=True)
class Note:
    """A text of the account's own files (finder, events, handoff, rich menu)."""

    text: str


@dataclass(frozen=True)
class FinderAsk:
    """Ask for the municipality: every region's municipalities as buttons (or those a name
    typed could mean)."""

    choices: tuple[str, ...] = ()
    typed: str = ""


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


def area_counted(turn: Turn, found: Outcome) -> Outcome:
    """Add a rich menu area's tap (its data's `a=<number>`) to what the outcome counts."""
    number = turn.fields.get("a", "")  # card buttons carry the same `m=` but no number
    if number.isascii() and number.isdigit() and 1 <= int(number) <= MAX_MENU_AREAS:
        found.counts = (*found.counts, (f"{MENU_STEP}{int(number)}", MENU_TAP))
    return found


class AccountTurns:
    """The handlers of the account's turns; the engine's `Dialogue` is one of these."""

    # -- a handoff's silence --------------------------------------------------------------

    def on_handoff_silence(self, turn: Turn) -> Outcome | None:
        """Keep silent while a counselor may answer; when the silence is over, forget it."""
        conv = turn.conv
        if conv is None or conv.state != HANDOFF:
            return None
        if self._silent(turn):
            return self._during_handoff(turn)
        turn.conv = None  # the silence is over: as if there were no conversation
        return None

    def _silent(self, turn: Turn) -> bool:
        handoff = self.content.handoff
        return handoff.silence and (turn.since is None
                                    or turn.since < dt.timedelta(hours=handoff.handoff_hours))

    def _during_handoff(self, turn: Turn) -> Outcome:
        """Say nothing; 最初から or the menu wakes the bot, asking again answers again."""
        conv = turn.conv
        action = self._menu_action(turn)
        if action is not None and action[0] == "handoff":  # asked again: the same answer
            if turn.soon():
                return area_counted(turn, outcome([], conv, changed=False))  # tapped twice
            says = handoff_says(self.content, handoff_offices(self.content,
                                                              action[1].get("o", "")))
            return area_counted(turn, outcome(says, conv, changed=False))
        if action is not None:
            found = area_counted(turn, self._menu(None, *action))
        elif turn.command == "restart":
            found = self._start(greet=False)
        else:
            return outcome([], conv, changed=False)
        found.says = [Note(self.content.handoff.resumed), *found.says]
        found.changed = True  # the silence ends: its row is replaced or deleted
        return found

    def _handoff(self, conv: Conversation | None, offices: tuple[str, ...]) -> Outcome:
        says = handoff_says(self.content, offices)
        counted = (("", HANDOFF_EVENT),)
        if self.content.handoff.silence:
            # Kept only to stay silent: no answers, and gone when the silence ends.
            return outcome(says, Conversation(HANDOFF), counts=counted)
        rest = self._finder_closed(conv) if conv is not None else None
        return self._aside(rest, says, counts=counted)

    # -- the rich menu --------------------------------------------------------------------

    def on_menu(self, turn: Turn) -> Outcome | None:
        """Answer a rich menu area's postback, or a word that asks for one of them."""
        action = self._menu_action(turn)
        if action is None:
            return None
        if self._place_tapped_again(turn, action):
            return outcome([], turn.conv, changed=False)
        return area_counted(turn, self._menu(turn.conv, *action))

    def _menu_action(self, turn: Turn) -> tuple[str, dict[str, str]] | None:
        """Return the menu action an input asks for (a postback or a typed word), if any."""
        if turn.tapped:
            action = turn.fields.get("m")
            return (action, turn.fields) if action in MENU_ACTIONS else None
        if turn.typed:
            for action, words in self.menu_words.items():
                if turn.plain in words:
                    return action, {}
        return None

    def _menu(self, conv: Conversation | None, action: str, fields: dict[str, str]) -> Outcome:
        if action == "questionnaire":
            return self._start(greet=False)
        if action == "crisis":
            return self._crisis(conv)
        if action == "finder":
            if "p" in fields:
                return self._found(conv, fields["p"])
            return self._open_finder(conv)
        if action == "handoff":
            return self._handoff(conv, handoff_offices(self.content, fields.get("o", "")))
        about = (Note(self.content.richmenu.about) if self.content.richmenu.about
                 else Say("privacy"))
        says = [Upcoming()] if action == "events" else [about]
        return self._aside(conv, says)

    def _place_tapped_again(self, turn: Turn, action: tuple[str, dict[str, str]]) -> bool:
        """Tell whether a municipality's button is the one whose offices were just shown."""
        name, fields = action
        place = fields.get("p")
        return (turn.tapped and name == "finder" and place is not None
                and turn.conv is not None and turn.conv.markers.get(FINDER_SHOWN) == place
                and turn.soon())

    # -- the office finder ----------------------------------------------------------------

    def on_finder(self, turn: Turn) -> Outcome | None:
        """Take a municipality typed while the finder is open; anything else closes it."""
        conv = turn.conv
        if conv is None or FINDER_OPEN not in conv.markers:
            return None
        if self._kept(conv) is None:
            turn.conv = None  # under a state this flow does not know: there is nothing to keep
        elif turn.typed and turn.command is None:
            return self._finder_typed(conv, turn.plain)
        else:
            turn.conv = self._finder_closed(conv)  # a question's button, 戻る or 最初から
        return None

    def _open_finder(self, conv: Conversation | None) -> Outcome:
        if self._in_progress(conv):
            return outcome([FinderAsk()], conv.marked(**{FINDER_OPEN: "1"}))
        return outcome([FinderAsk()], Conversation(MENU, markers={FINDER_OPEN: "1"}))

    def _finder_closed(self, conv: Conversation | None) -> Conversation | None:
        """Return the conversation without its open finder (None if it was only the finder)."""
        if not self._in_progress(conv):
            return None
        return conv.unmarked(FINDER_OPEN, FINDER_SHOWN, REGION_SHOWN)

    def _found(self, conv: Conversation | None, place: str) -> Outcome:
        finder = self.content.finder
        if place not in self.content.municipalities:
            return self._unchanged(conv, [Note(finder.not_understood), FinderAsk()])
        offices = tuple(o.id for o in offices_serving(self.content, place))
        says = ([OfficesFound(place, offices)] if offices
                else [Note(fill(finder.none_found, place=place))])
        rest = self._finder_closed(conv)
        if rest is None:  # the finder was all there was: only the double-tap marker is kept
            return outcome(says, Conversation(MENU, markers={FINDER_SHOWN: place}))
        found = self._aside(rest, says)
        found.answers, found.changed = rest.marked(**{FINDER_SHOWN: place}).kept(), True
        return found

    def _finder_typed(self, conv: Conversation, plain: str) -> Outcome:
        place = self.places.read(plain)
        if isinstance(place, Ambiguous):
            return outcome([FinderAsk(place.names, place.word)], conv, changed=False)
        if place is not None:
            return self._found(conv, place)
        if plain in self.plain_regions:
            return outcome([FinderAsk()], conv, changed=False)
        return outcome([Note(self.content.finder.not_understood), FinderAsk()], conv,
                       changed=False)

    # -- a referral's feedback ------------------------------------------------------------

    def on_feedback(self, turn: Turn) -> Outcome | None:
        """Thank the person for a feedback answer (`f=`), and count it once per referral."""
        if not turn.tapped or "f" not in turn.fields:
            return None
        conv = turn.conv
        given = conv is not None and FEEDBACK_GIVEN in conv.markers
        if given and turn.soon():
            return outcome([], conv, changed=False)  # the same tap, twice: one thanks
        says = [Note(self.content.feedback.thanks)]
        answer = turn.fields["f"]
        if given or not self._feedback_counted(answer, turn.fields.get("b")):
            return self._aside(conv, says)  # thanked, not counted
        counts = ((FEEDBACK_STEP, answer),)
        if self._in_progress(conv):  # the person started again meanwhile: go on there
            found = self._aside(conv, says, counts)
            found.answers, found.changed = conv.marked(**{FEEDBACK_GIVEN: answer}).kept(), True
            return found
        # The referral's conversation (or none, once purged): kept, marked, as long as it is.
        done = conv if conv is not None and conv.state == DONE else Conversation(DONE)
        return outcome(says, done.marked(**{FEEDBACK_GIVEN: answer}), counts=counts)

    def _feedback_counted(self, answer: str, tag: str | None) -> bool:
        """Tell whether an answer counts: one this version asks, on this version's button.

        A button of another version (published since, or before) is thanked but not counted:
        its answers are that version's, and the count is per version.
        """
        feedback = self.content.feedback
        return feedback.ask and tag == self.tag and feedback.answer(answer) is not None
