"""The questionnaire engine: what to say and where to go next, given one input."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from bot.content.flow import DONE, Step
from bot.content.schema import Content
from bot.dialogue import account
from bot.dialogue.account import (
    FINDER_OPEN,
    FINDER_SHOWN,
    HANDOFF,
    MENU,
    FinderAsk,
    Note,
    OfficesFound,
    Upcoming,
)
from bot.dialogue.answers import age_option, match_option, match_place, normalise, parse_age
from bot.dialogue.crisis import CrisisWords
from bot.dialogue.machine import Questionnaire
from bot.dialogue.matching import Match, match


# Inputs: what a person did.
@dataclass(frozen=True)
class Follow:
    """The person added the account (or unblocked it)."""


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Postback:
    data: str


@dataclass(frozen=True)
class OtherMessage:
    """A sticker, image, location or any message that is not text."""


# Outputs: what to say, rendered for LINE by bot.line.render.
@dataclass(frozen=True)
class Say:
    key: str  # a message from content/messages.yaml


@dataclass(frozen=True)
class Ask:
    step: str
    wording: str | None = None  # the answer that picks the question's wording (ask.<wording>)
    region: str | None = None  # area step: show this region's municipalities


@dataclass(frozen=True)
class Crisis:
    """Crisis lines, answered at once."""


@dataclass(frozen=True)
class Result:
    match: Match
    wording: str | None  # picks result_intro_<wording> when the messages have it


# What a rich menu area's postback (`m=<action>`) may ask; "uri" areas open a page instead.
MENU_ACTIONS = ("questionnaire", "finder", "events", "crisis", "about", "handoff")


@dataclass
class Outcome:
    says: list  # empty: send no reply at all (a double tap)
    state: str | None  # None: no conversation is kept
    answers: dict[str, str] = field(default_factory=dict)
    changed: bool = True
    referral: Match | None = None
    referral_answers: dict[str, str] = field(default_factory=dict)  # what the referral counts
    # The questionnaire's anonymous counters this input moves: (step id, what happened), e.g.
    # ("age", "answered"), ("employment", "reached"), ("done", "reached"), ("", "crisis").
    counts: tuple[tuple[str, str], ...] = ()


# A second tap of the button just answered, this soon after the conversation last changed
# (by the server's clock), is the same tap: people double-tap on slow phones. It gets no reply.
# A tap later than this is an old button and is answered as one (stale_button, ended_button).
DOUBLE_TAP_WINDOW = dt.timedelta(seconds=10)
# A referral leaves the conversation at DONE with only this in its answers: the id of the step
# answered last, never the answer, so that a double tap of that step's button gets no reply.
# The marker does its work for DOUBLE_TAP_WINDOW; after that it counts as no conversation, and
# it is gone at the person's next event or at the next `tsunagu purge`, whichever comes first.
LAST_STEP = "last_step"
# The region whose municipalities were shown last at the area step (not an answer: it is not
# on the path, so no referral counts it), so that a double tap of a region shows its list once.
REGION_SHOWN = "region_shown"


# What the funnel counts (bot.db.models.FunnelCount.event); "back" and "restart" are the
# commands' own names.
REACHED, ANSWERED, CRISIS = "reached", "answered", "crisis"
FUNNEL_EVENTS = (REACHED, ANSWERED, "back", "restart", CRISIS, account.HANDOFF_EVENT)


BACK_WORDS = {"戻る", "もどる", "前へ", "前に戻る", "ひとつ前", "一つ前", "back"}
RESTART_WORDS = {"最初から", "さいしょから", "はじめから", "初めから", "最初", "リセット",
                 "やり直し", "やりなおし", "もう一度", "もういちど", "restart"}


def version_tag(content: Content) -> str:
    """Return the short mark of a bundle its answer buttons carry."""
    return content.bundle_id[:8]


def answer_data(step: str, value: str, tag: str | None = None) -> str:
    """Return an answer button's data; `tag` marks the version the button was made by."""
    return urlencode({"s": step, "v": value, **({"b": tag} if tag else {})})


def region_data(step: str, region: str, tag: str | None = None) -> str:
    return urlencode({"s": step, "g": region, **({"b": tag} if tag else {})})


def command_data(command: str, step: str | None = None) -> str:
    """Return a 戻る/最初から button's data; `step` is the question it is shown under."""
    return urlencode({"c": command, "s": step} if step else {"c": command})


def menu_data(action: str, **more: str) -> str:
    """Return the data of a rich menu area's (or a card button's) postback: `m=<action>`."""
    return urlencode({"m": action, **more})


def _postback_fields(data: str) -> dict[str, str]:
    try:
        parsed = parse_qs(data, strict_parsing=True, max_num_fields=4)
    except ValueError:
        return {}
    return {k: v[0] for k, v in parsed.items() if len(v) == 1}


def _without_region(answers: dict[str, str]) -> dict[str, str]:
    """Return the answers without the double-tap markers of the last reply."""
    return {k: v for k, v in answers.items() if k not in (REGION_SHOWN, FINDER_SHOWN)}


def _without_finder(answers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in answers.items() if k != FINDER_OPEN}


def _no_years(step: Step) -> dict[str, str]:
    # A tapped age band replaces an age typed before (after 戻る).
    return {step.years_key: ""} if step.kind == "age" else {}


class Dialogue:
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

    def is_crisis(self, text: str) -> bool:
        return self.crisis.found_in(text)

    def respond(self, conv: tuple[str, dict] | None, inp,
                since: dt.timedelta | None = None) -> Outcome:
        """Return what to say and the conversation's next state for one input.

        `since` is how long ago the stored conversation last changed (None: unknown); the
        engine keeps no clock, so the caller measures it.
        """
        if isinstance(inp, Follow):
            return self._start(greet=True)
        if isinstance(inp, Text) and self.is_crisis(inp.text):
            return self._crisis(conv)  # always answered, a counselor's chat or not
        if conv is not None and conv[0] == HANDOFF:
            if self._silent(since):
                return self._during_handoff(conv, inp, since)
            conv = None  # the silence is over: as if there were no conversation
        action = self._menu_action(inp)
        if action is not None:
            if self._place_tapped_again(conv, inp, action, since):
                return Outcome([], *conv, changed=False)
            return self._menu(conv, *action)
        if conv is not None and FINDER_OPEN in conv[1]:
            if self._kept(conv) is None:
                conv = None  # under a state this flow does not know: there is nothing to keep
            elif isinstance(inp, Text) and self._command(inp) is None:
                return self._finder_typed(conv, inp.text)
            else:
                conv = self._finder_closed(conv)  # a question's button, 戻る or 最初から
        command = self._command(inp)
        if isinstance(inp, Postback) and self._tapped_again(conv, inp, command, since):
            state, answers = conv
            return Outcome([], state, answers, changed=False)
        if conv is None or self.flow.step(conv[0]) is None:
            if isinstance(inp, Postback) and command is None:
                return Outcome([Say("ended_button")], None, changed=False)
            return self._start(greet=command is None)
        if command:
            return self._move(conv, command)
        if isinstance(inp, Postback):
            return self._tap(conv, _postback_fields(inp.data))
        if isinstance(inp, Text):
            return self._typed(conv, inp.text)
        return self._reask(conv, "not_text")

    # -- the rich menu, the office finder, events, a person ---------------------------------

    def _menu_action(self, inp) -> tuple[str, dict[str, str]] | None:
        """Return the menu action an input asks for (a postback or a typed word), if any."""
        if isinstance(inp, Postback):
            fields = _postback_fields(inp.data)
            action = fields.get("m")
            return (action, fields) if action in MENU_ACTIONS else None
        if isinstance(inp, Text):
            text = normalise(inp.text)
            for action, words in self.menu_words.items():
                if text in words:
                    return action, {}
        return None

    def _menu(self, conv, action: str, fields: dict[str, str]) -> Outcome:
        if action == "questionnaire":
            return self._start(greet=False)
        if action == "crisis":
            return self._crisis(conv)
        if action == "finder":
            if "p" in fields:
                return self._found(conv, fields["p"])
            return self._open_finder(conv)
        if action == "handoff":
            return self._handoff(conv, account.handoff_offices(self.content, fields.get("o", "")))
        about = (Note(self.content.richmenu.about) if self.content.richmenu.about
                 else Say("privacy"))
        says = [Upcoming()] if action == "events" else [about]
        return self._aside(conv, says)

    def _place_tapped_again(self, conv, inp, action, since: dt.timedelta | None) -> bool:
        """Tell whether a municipality's button is the one whose offices were just shown."""
        name, fields = action
        place = fields.get("p")
        return (isinstance(inp, Postback) and name == "finder" and place is not None
                and conv is not None and conv[1].get(FINDER_SHOWN) == place
                and since is not None and since <= DOUBLE_TAP_WINDOW)

    def _in_progress(self, conv) -> bool:
        return conv is not None and self.flow.step(conv[0]) is not None

    def _kept(self, conv):
        """Return the conversation if its state is one this engine keeps, else None."""
        if conv is None or not (self._in_progress(conv) or conv[0] in (MENU, DONE)):
            return None
        return conv

    def _unchanged(self, conv, says: list, counts: tuple = ()) -> Outcome:
        kept = self._kept(conv)
        return Outcome(says, kept and kept[0], kept[1] if kept else {}, changed=False,
                       counts=counts)

    def _aside(self, conv, says: list, counts: tuple = ()) -> Outcome:
        """Say something beside the questionnaire, then ask its question again (if any)."""
        if not self._in_progress(conv):
            return self._unchanged(conv, says, counts)
        state, answers = conv
        return Outcome([*says, Note(self.content.finder.resume), self._ask(state, answers)],
                       state, answers, changed=False, counts=counts)

    def _open_finder(self, conv) -> Outcome:
        if self._in_progress(conv):
            state, answers = conv
            return Outcome([FinderAsk()], state, {**answers, FINDER_OPEN: "1"})
        return Outcome([FinderAsk()], MENU, {FINDER_OPEN: "1"})

    def _finder_closed(self, conv):
        """Return the conversation without its open finder (None if it was only the finder)."""
        if not self._in_progress(conv):
            return None
        return conv[0], _without_region(_without_finder(conv[1]))

    def _found(self, conv, place: str) -> Outcome:
        finder = self.content.finder
        if place not in self.content.municipalities:
            return self._unchanged(conv, [Note(finder.not_understood), FinderAsk()])
        offices = tuple(o.id for o in account.offices_serving(self.content, place))
        says = ([OfficesFound(place, offices)] if offices
                else [Note(account.fill(finder.none_found, place=place))])
        rest = self._finder_closed(conv)
        if rest is None:  # the finder was all there was: only the double-tap marker is kept
            return Outcome(says, MENU, {FINDER_SHOWN: place})
        outcome = self._aside(rest, says)
        outcome.answers, outcome.changed = {**rest[1], FINDER_SHOWN: place}, True
        return outcome

    def _finder_typed(self, conv, text: str) -> Outcome:
        place = match_place(self.content.municipalities, text)
        if place is not None:
            return self._found(conv, place)
        if any(normalise(r.name) == normalise(text) for r in self.content.regions):
            return Outcome([FinderAsk()], conv[0], conv[1], changed=False)
        return Outcome([Note(self.content.finder.not_understood), FinderAsk()], conv[0],
                       conv[1], changed=False)

    def _handoff(self, conv, offices: tuple[str, ...]) -> Outcome:
        says = account.handoff_says(self.content, offices)
        counted = (("", account.HANDOFF_EVENT),)
        if self.content.handoff.silence:
            # Kept only to stay silent: no answers, and gone when the silence ends.
            return Outcome(says, HANDOFF, {}, counts=counted)
        rest = self._finder_closed(conv) if conv is not None else None
        return self._aside(rest, says, counts=counted)

    def _silent(self, since: dt.timedelta | None) -> bool:
        handoff = self.content.handoff
        return handoff.silence and (since is None
                                    or since < dt.timedelta(hours=handoff.handoff_hours))

    def _during_handoff(self, conv, inp, since: dt.timedelta | None) -> Outcome:
        """Keep silent while a counselor may answer; 最初から or the menu wakes the bot."""
        resumed = Note(self.content.handoff.resumed)
        action = self._menu_action(inp)
        if action is not None and action[0] == "handoff":  # asked again: the same answer
            if since is not None and since <= DOUBLE_TAP_WINDOW:
                return Outcome([], *conv, changed=False)  # the same tap, twice
            says = account.handoff_says(self.content, account.handoff_offices(
                self.content, action[1].get("o", "")))
            return Outcome(says, *conv, changed=False)
        if action is not None:
            outcome = self._menu(None, *action)
        elif self._command(inp) == "restart":
            outcome = self._start(greet=False)
        else:
            return Outcome([], *conv, changed=False)
        outcome.says = [resumed, *outcome.says]
        outcome.changed = True  # the silence ends: its row is replaced or deleted
        return outcome

    def _tapped_again(self, conv, inp: Postback, command: str | None,
                      since: dt.timedelta | None) -> bool:
        """Tell whether a tap is a second tap of the button just acted on (a double tap)."""
        if conv is None or since is None or since > DOUBLE_TAP_WINDOW:
            return False
        state, answers = conv
        fields = _postback_fields(inp.data)
        tapped = fields.get("s")
        if command is not None:
            return self._command_again(state, answers, command, tapped)
        if state == DONE:  # a referral's marker: any button of the step that ended it
            return tapped is not None and tapped == answers.get(LAST_STEP)
        if self.flow.step(state) is None:
            return False
        if "g" in fields:
            return tapped == state and answers.get(REGION_SHOWN) == fields["g"]
        previous = self.flow.previous(state, answers)
        return (previous is not None and tapped == previous and "v" in fields
                and answers.get(previous) == fields["v"])

    def _command_again(self, state: str, answers: dict, command: str,
                       shown_under: str | None) -> bool:
        """Tell whether a 戻る/最初から tap repeats the one just acted on."""
        if self.flow.step(state) is None:
            return False
        if shown_under is not None and shown_under != state:
            return True  # the button of the question just left: the first tap moved on
        # 最初から under the result (under no question), tapped twice: the first restarted.
        return (shown_under is None and command == "restart" and state == self.flow.start
                and not answers)

    def _command(self, inp) -> str | None:
        if isinstance(inp, Postback):
            command = _postback_fields(inp.data).get("c")
            return command if command in ("back", "restart") else None
        if isinstance(inp, Text):
            text = normalise(inp.text)
            if text in BACK_WORDS:
                return "back"
            if text in RESTART_WORDS:
                return "restart"
        return None

    def _start(self, greet: bool) -> Outcome:
        says = [Say("greeting"), Say("privacy")] if greet else []
        return Outcome([*says, Ask(self.flow.start)], self.flow.start, {},
                       counts=((self.flow.start, REACHED),))

    def _crisis(self, conv) -> Outcome:
        if conv is not None and conv[0] == HANDOFF:  # answered, and the silence goes on
            return Outcome([Crisis()], *conv, changed=False, counts=(("", CRISIS),))
        if conv is None or self.flow.step(conv[0]) is None:
            return Outcome([Crisis()], None, changed=False, counts=(("", CRISIS),))
        state, answers = conv
        return Outcome([Crisis(), Say("crisis_after"), self._ask(state, answers)],
                       state, answers, changed=False, counts=((state, CRISIS),))

    def _ask(self, state: str, answers: dict, region: str | None = None) -> Ask:
        return Ask(state, self.flow.wording(answers), region)

    def _reask(self, conv, key: str, changed: bool = False) -> Outcome:
        state, answers = conv
        return Outcome([Say(key), self._ask(state, answers)], state, answers, changed=changed)

    def _move(self, conv, trigger: str) -> Outcome:
        state, answers = conv
        if trigger == "back" and self.flow.previous(state, answers) is None:
            return Outcome([self._ask(state, answers)], state, answers, changed=False)
        left = state
        progress = self.questionnaire.attach(state, answers)
        try:
            progress.trigger(trigger)
            state, answers = progress.state, _without_region(progress.answers)
        finally:
            self.questionnaire.detach(progress)
        return Outcome([self._ask(state, answers)], state, answers, counts=((left, trigger),))

    def _tap(self, conv, fields: dict[str, str]) -> Outcome:
        state, answers = conv
        step = self.flow.step(state)
        # A button of another question, or of another version (made before a publish), is old.
        if fields.get("s") != state or step is None or fields.get("b", self.tag) != self.tag:
            return self._reask(conv, "stale_button")
        if "g" in fields and step.kind == "area":
            if any(r.name == fields["g"] for r in self.content.regions):
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

    def _typed(self, conv, text: str) -> Outcome:
        state, answers = conv
        step = self.flow.step(state)
        if step.kind == "area":
            return self._typed_area(conv, text)
        if step.kind == "age" and (age := parse_age(text)) is not None:
            band = age_option(step, age)
            if band is not None:
                return self._answer(conv, band.value, {step.years_key: str(age)})
        option = match_option(step, text, self.flow.wording(answers))
        if option is None:
            return self._reask(conv, "age_not_understood" if step.kind == "age"
                               else "not_understood")
        return self._answer(conv, option.value, _no_years(step))

    def _typed_area(self, conv, text: str) -> Outcome:
        state, answers = conv
        place = match_place(self.content.municipalities, text)
        if place is not None:
            return self._answer(conv, place, {})
        region = next((r.name for r in self.content.regions
                       if normalise(r.name) == normalise(text)), None)
        if region is not None:
            return self._region(conv, region)
        return self._reask(conv, "area_not_understood")

    def _region(self, conv, region: str) -> Outcome:
        state, answers = conv
        return Outcome([self._ask(state, answers, region)], state,
                       {**answers, REGION_SHOWN: region})

    def _answer(self, conv, value: str, extra: dict[str, str]) -> Outcome:
        state, answers = conv
        progress = self.questionnaire.attach(state, answers)
        try:
            progress.answer(value=value, extra=extra)
            state, answers = progress.state, _without_region(progress.answers)
        finally:
            self.questionnaire.detach(progress)
        if state == DONE:
            answers = self.flow.on_path(answers)  # not those of a branch left by 戻る
            found = match(self.content, answers)
            return Outcome([Result(found, self.flow.wording(answers))], DONE,
                           {LAST_STEP: conv[0]}, referral=found, referral_answers=answers,
                           counts=((conv[0], ANSWERED), (DONE, REACHED)))
        return Outcome([self._ask(state, answers)], state, answers,
                       counts=((conv[0], ANSWERED), (state, REACHED)))
