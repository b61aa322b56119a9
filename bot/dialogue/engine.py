"""The questionnaire engine: one input and one conversation in, what to say and keep out.

`Dialogue.respond` reads as a table (`HANDLERS`), as python-telegram-bot's
ConversationHandler does: each row is a handler that answers the turn or passes it on (a
handler may also change the turn's conversation on the way: a silence over, a finder closed).

    entry points   follow                the greeting and the first question
                   crisis words          the crisis lines, whatever else is going on
    states         a handoff's silence   nothing, until 最初から or the menu (account)
                   the menu              a rich menu area or its typed word (account)
                   the office finder     a municipality typed while it is open (account)
                   a referral's feedback a feedback answer: thanks, counted once (account)
                   a double tap          the second tap of one button: no reply
                   no questionnaire      an old button, or a first word: start
                   戻る and 最初から       move back or start again
                   a button              the answer it carries
                   a typed answer        what the words mean at this question
    fallback       anything else         ask the question again (a sticker, an image)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.content.flow import DONE, Step
from bot.content.schema import Content
from bot.dialogue.account import HANDOFF_EVENT, AccountTurns, Note
from bot.dialogue.answers import Ambiguous, Places, age_in, age_option, normalise, option_in
from bot.dialogue.crisis import CrisisWords
from bot.dialogue.machine import Questionnaire
from bot.dialogue.matching import match
from bot.dialogue.turns import (
    BACK_WORDS,
    DOUBLE_TAP_WINDOW,
    FINDER_SHOWN,
    HANDOFF,
    LAST_STEP,
    MENU,
    MENU_ACTIONS,
    REGION_SHOWN,
    RESTART_WORDS,
    Ask,
    Conversation,
    Crisis,
    Follow,
    OtherMessage,
    Outcome,
    Postback,
    Result,
    Say,
    Text,
    Turn,
    answer_data,
    command_data,
    feedback_data,
    menu_area_data,
    menu_data,
    outcome,
    region_data,
    version_tag,
)

# Re-exported: what the room gives the others (bot.line, bot.studio) to build and test with.
__all__ = [
    "BACK_WORDS", "DOUBLE_TAP_WINDOW", "FINDER_SHOWN", "FUNNEL_EVENTS", "HANDLERS",
    "LAST_STEP", "MENU_ACTIONS", "REGION_SHOWN", "RESTART_WORDS", "Ask", "Crisis", "Dialogue",
    "Follow", "OtherMessage", "Outcome", "Postback", "Result", "Say", "Text", "answer_data",
    "command_data", "feedback_data", "menu_area_data", "menu_data", "region_data",
    "version_tag",
]

# What the funnel counts (bot.db.models.FunnelCount.event); "back" and "restart" are the
# commands' own names.
REACHED, ANSWERED, CRISIS = "reached", "answered", "crisis"
FUNNEL_EVENTS = (REACHED, ANSWERED, "back", "restart", CRISIS, HANDOFF_EVENT)


def _no_years(step: Step) -> dict[str, str]:
    # A tapped age band replaces an age typed before (after 戻る).
    return {step.years_key: ""} if step.kind == "age" else {}


class Dialogue(AccountTurns):
    """Answer one input of one conversation; pure, so it is easy to test and to share."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self.flow = content.flow
        self.questionnaire = Questionnaire(content.flow)
        self.crisis = CrisisWords(content.safety.crisis_words)
        self.tag = version_tag(content)
        self.menu_words = {action: {normalise(w) for w in words} for action, words in (
            ("finder", content.finder.words), ("events", content.events.words),
            ("handoff", content.handoff.words))}
        self.plain_regions = {normalise(r.name): r.name for r in content.regions}
        self.places = Places(content.municipalities, content.place_names,
                             content.ambiguous_places)

    def is_crisis(self, text: str) -> bool:
        return self.crisis.found_in(text)

    def respond(self, conv: tuple[str, dict] | None, inp,
                since: dt.timedelta | None = None) -> Outcome:
        """Return what to say and the conversation's next state for one input.

        `conv` is the stored (state, answers and markers); `since` is how long ago it last
        changed (None: unknown): the engine keeps no clock, so the caller measures it.
        """
        turn = Turn.of(inp, Conversation.stored(conv), since)
        for _, handler in HANDLERS:
            found = handler(self, turn)
            if found is not None:
                return found
        raise AssertionError("the fallback answers every turn")

    # -- entry points ---------------------------------------------------------------------

    def on_follow(self, turn: Turn) -> Outcome | None:
        return self._start(greet=True) if isinstance(turn.inp, Follow) else None

    def on_crisis_words(self, turn: Turn) -> Outcome | None:
        # Always answered, a counselor's chat or not; the text itself is never kept.
        if turn.typed and self.crisis.found_in_plain(turn.plain):
            return self._crisis(turn.conv)
        return None

    # -- states ---------------------------------------------------------------------------

    def on_double_tap(self, turn: Turn) -> Outcome | None:
        if turn.tapped and self._tapped_again(turn):
            return outcome([], turn.conv, changed=False)
        return None

    def on_no_questionnaire(self, turn: Turn) -> Outcome | None:
        """Start the questionnaire (an old button of a finished one is said to be old)."""
        if self._in_progress(turn.conv):
            return None
        if turn.tapped and turn.command is None:
            return Outcome([Say("ended_button")], None, changed=False)
        return self._start(greet=turn.command is None)

    def on_command(self, turn: Turn) -> Outcome | None:
        return self._move(turn.conv, turn.command) if turn.command else None

    def on_button(self, turn: Turn) -> Outcome | None:
        return self._tap(turn.conv, turn.fields) if turn.tapped else None

    def on_typed(self, turn: Turn) -> Outcome | None:
        return self._typed(turn.conv, turn.plain) if turn.typed else None

    # -- fallback -------------------------------------------------------------------------

    def on_anything_else(self, turn: Turn) -> Outcome:
        return self._reask(turn.conv, "not_text")

    # -- what the handlers share ----------------------------------------------------------

    def _in_progress(self, conv: Conversation | None) -> bool:
        return conv is not None and self.flow.step(conv.state) is not None

    def _kept(self, conv: Conversation | None) -> Conversation | None:
        """Return the conversation if its state is one this engine keeps, else None."""
        if conv is None or not (self._in_progress(conv) or conv.state in (MENU, DONE)):
            return None
        return conv

    def _unchanged(self, conv: Conversation | None, says: list, counts: tuple = ()) -> Outcome:
        return outcome(says, self._kept(conv), changed=False, counts=counts)

    def _aside(self, conv: Conversation | None, says: list, counts: tuple = ()) -> Outcome:
        """Say something beside the questionnaire, then ask its question again (if any)."""
        if not self._in_progress(conv):
            return self._unchanged(conv, says, counts)
        return outcome([*says, Note(self.content.finder.resume), self._ask(conv)], conv,
                       changed=False, counts=counts)

    def _tapped_again(self, turn: Turn) -> bool:
        """Tell whether a tap is a second tap of the button just acted on (a double tap)."""
        conv = turn.conv
        if conv is None or not turn.soon():
            return False
        tapped = turn.fields.get("s")
        if turn.command is not None:
            return self._command_again(conv, turn.command, tapped)
        if conv.state == DONE:  # a referral's marker: any button of the step that ended it
            return tapped is not None and tapped == conv.markers.get(LAST_STEP)
        if self.flow.step(conv.state) is None:
            return False
        if "g" in turn.fields:
            return tapped == conv.state and conv.markers.get(REGION_SHOWN) == turn.fields["g"]
        previous = self.flow.previous(conv.state, conv.answers)
        return (previous is not None and tapped == previous and "v" in turn.fields
                and conv.answers.get(previous) == turn.fields["v"])

    def _command_again(self, conv: Conversation, command: str, shown_under: str | None) -> bool:
        """Tell whether a 戻る/最初から tap repeats the one just acted on."""
        if self.flow.step(conv.state) is None:
            return False
        if shown_under is not None and shown_under != conv.state:
            return True  # the button of the question just left: the first tap moved on
        # 最初から under the result (under no question), tapped twice: the first restarted.
        return (shown_under is None and command == "restart" and conv.state == self.flow.start
                and not conv.kept())

    def _start(self, greet: bool) -> Outcome:
        says = [Say("greeting"), Say("privacy")] if greet else []
        return Outcome([*says, Ask(self.flow.start)], self.flow.start, {},
                       counts=((self.flow.start, REACHED),))

    def _crisis(self, conv: Conversation | None) -> Outcome:
        if conv is not None and conv.state == HANDOFF:  # answered; the silence goes on
            return outcome([Crisis()], conv, changed=False, counts=(("", CRISIS),))
        if not self._in_progress(conv):
            return Outcome([Crisis()], None, changed=False, counts=(("", CRISIS),))
        return outcome([Crisis(), Say("crisis_after"), self._ask(conv)], conv, changed=False,
                       counts=((conv.state, CRISIS),))

    def _ask(self, conv: Conversation, region: str | None = None) -> Ask:
        return Ask(conv.state, self.flow.wording(conv.answers), region)

    def _reask(self, conv: Conversation, key: str) -> Outcome:
        return outcome([Say(key), self._ask(conv)], conv, changed=False)

    # -- the questionnaire ----------------------------------------------------------------

    def _move(self, conv: Conversation, trigger: str) -> Outcome:
        if trigger == "back" and self.flow.previous(conv.state, conv.answers) is None:
            return outcome([self._ask(conv)], conv, changed=False)
        progress = self.questionnaire.attach(conv.state, dict(conv.answers))
        try:
            progress.trigger(trigger)
            moved = Conversation(progress.state, progress.answers)  # the reply's markers go
        finally:
            self.questionnaire.detach(progress)
        return outcome([self._ask(moved)], moved, counts=((conv.state, trigger),))

    def _tap(self, conv: Conversation, fields: dict[str, str]) -> Outcome:
        step = self.flow.step(conv.state)
        # A button of another question, or of another version (made before a publish), is old.
        if fields.get("s") != conv.state or fields.get("b", self.tag) != self.tag:
            return self._reask(conv, "stale_button")
        if "g" in fields and step.kind == "area":
            if fields["g"] in self.plain_regions.values():
                return self._region(conv, fields["g"])
            return self._reask(conv, "area_not_understood")
        value = fields.get("v", "")
        if step.kind == "area":
            valid = value in self.content.municipalities
        else:
            valid = step.option(value) is not None
        if not valid:
            return self._reask(conv, "not_understood")
        return self._answer(conv, value, _no_years(step))

    def _typed(self, conv: Conversation, plain: str) -> Outcome:
        step = self.flow.step(conv.state)
        if step.kind == "area":
            return self._typed_area(conv, plain)
        if step.kind == "age" and (age := age_in(plain)) is not None:
            band = age_option(step, age.years)
            if band is not None and age.born is not None:
                return self._answer(conv, band.value, _no_years(step),
                                    said=_birth_year(step, age, band))
            if band is not None:
                return self._answer(conv, band.value, {step.years_key: str(age.years)})
        option = option_in(step, plain, self.flow.wording(conv.answers))
        if option is None:
            return self._reask(conv, "age_not_understood" if step.kind == "age"
                               else "not_understood")
        return self._answer(conv, option.value, _no_years(step))

    def _typed_area(self, conv: Conversation, plain: str) -> Outcome:
        place = self.places.read(plain)
        if isinstance(place, Ambiguous):  # a name of more than one place: ask, never guess
            ask = Ask(conv.state, self.flow.wording(conv.answers), choices=place.names,
                      typed=place.word)
            return outcome([ask], conv, changed=False)
        if place is not None:
            return self._answer(conv, place, {})
        region = self.plain_regions.get(plain)
        if region is not None:
            return self._region(conv, region)
        return self._reask(conv, "area_not_understood")

    def _region(self, conv: Conversation, region: str) -> Outcome:
        return outcome([self._ask(conv, region)], conv.marked(**{REGION_SHOWN: region}))

    def _answer(self, conv: Conversation, value: str, extra: dict[str, str],
                said: tuple = ()) -> Outcome:
        progress = self.questionnaire.attach(conv.state, dict(conv.answers))
        try:
            progress.answer(value=value, extra=extra)
            state, answers = progress.state, dict(progress.answers)  # the reply's markers go
        finally:
            self.questionnaire.detach(progress)
        if state == DONE:
            answers = self.flow.on_path(answers)  # not those of a branch left by 戻る
            found = match(self.content, answers)
            kept = tuple(self.flow.counted(answers).items())
            return Outcome([*said, Result(found, self.flow.wording(answers), kept)], DONE,
                           {LAST_STEP: conv.state}, referral=found, referral_answers=answers,
                           counts=((conv.state, ANSWERED), (DONE, REACHED)))
        answered = Conversation(state, answers)
        return outcome([*said, self._ask(answered)], answered,
                       counts=((conv.state, ANSWERED), (state, REACHED)))


def _birth_year(step, age, band) -> tuple[Say, ...]:
    """Say which age band a birth year was taken as, and the other if a birthday moves it."""
    fields = (("year", str(age.born)), ("age", str(age.years)), ("band", band.label))
    before = age_option(step, age.years - 1)
    if before is None or before == band:
        return (Say("age_from_birth_year", fields),)
    return (Say("age_birthday_moves", (*fields, ("before", str(age.years - 1)),
                                       ("before_band", before.label))),)


Handler = Callable[[Dialogue, Turn], Outcome | None]
# The engine, in order: the first handler that answers a turn answers it.
HANDLERS: tuple[tuple[str, Handler], ...] = (
    # entry points
    ("follow", Dialogue.on_follow),
    ("crisis words", Dialogue.on_crisis_words),
    # states
    ("a handoff's silence", Dialogue.on_handoff_silence),
    ("the menu", Dialogue.on_menu),
    ("the office finder", Dialogue.on_finder),
    ("a referral's feedback", Dialogue.on_feedback),
    ("a double tap", Dialogue.on_double_tap),
    ("no questionnaire", Dialogue.on_no_questionnaire),
    ("戻る and 最初から", Dialogue.on_command),
    ("a button", Dialogue.on_button),
    ("a typed answer", Dialogue.on_typed),
    # fallback
    ("anything else", Dialogue.on_anything_else),
)
