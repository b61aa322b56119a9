"""What one turn of a conversation is made of: inputs, outputs, the conversation and the outcome.

A person's input (`Follow`, `Text`, `Postback`, `OtherMessage`) meets their `Conversation` (a
state, the answers given, and the markers kept apart from the answers) and makes an `Outcome`:
what to say (`Say`, `Ask`, `Crisis`, `Result` and the account's outputs in
`bot.dialogue.account`) and the conversation to keep. The postback data of every button is
written and read here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from bot.content.schema import Content
from bot.dialogue.answers import normalise
from bot.dialogue.matching import Match


# -- inputs: what a person did --------------------------------------------------------------
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


# -- outputs: what to say, built for LINE by bot.line.messages -------------------------------
@dataclass(frozen=True)
class Say:
    key: str  # a message from content/messages.yaml
    fields: tuple[tuple[str, str], ...] = ()  # its {names}, filled in by the bot


@dataclass(frozen=True)
class Ask:
    step: str
    wording: str | None = None  # the answer that picks the question's wording (ask.<wording>)
    region: str | None = None  # area step: show this region's municipalities
    choices: tuple[str, ...] = ()  # area step: a name typed could mean these; ask which
    typed: str = ""  # the name typed, which `choices` could be


@dataclass(frozen=True)
class Crisis:
    """Crisis lines, answered at once."""


@dataclass(frozen=True)
class Result:
    match: Match
    wording: str | None  # picks result_intro_<wording> when the messages have it
    # The answers as a referral record keeps them (each question's option, never an age or a
    # text typed): what the link to the referral's own page carries (bot.referrals.links).
    answers: tuple[tuple[str, str], ...] = ()


# -- states and markers -----------------------------------------------------------------------
# A conversation that is only the office finder (no questionnaire in progress), and one whose
# person asked for a counselor: the bot keeps silent while it lasts.
MENU, HANDOFF = "menu", "handoff"
# Markers: what a conversation keeps beside its answers, never on the questionnaire's path,
# so never in a referral. The store keeps them with the answers (one JSON column).
FINDER_OPEN = "finder"  # the finder waits for a municipality typed (or tapped)
# The municipality whose offices were just shown, so that a double tap of its button shows
# them once (for the double-tap window; the next answer or the purge drops it).
FINDER_SHOWN = "finder_shown"
# The region whose municipalities were shown last at the area step, so that a double tap of
# a region shows its list once.
REGION_SHOWN = "region_shown"
# A referral leaves the conversation at DONE with only this: the id of the step answered
# last, never the answer, so that a double tap of that step's button gets no reply. It does
# its work for DOUBLE_TAP_WINDOW and is gone at the person's next event or the next purge.
LAST_STEP = "last_step"
# The answer a referral's feedback question was given, so that it counts once (a double tap,
# two workers); kept with the referral's marker, and gone with it.
FEEDBACK_GIVEN = "feedback_given"
MARKERS = frozenset({FINDER_OPEN, FINDER_SHOWN, REGION_SHOWN, LAST_STEP, FEEDBACK_GIVEN})
# Markers of the last reply only: the next answer drops them.
REPLY_MARKERS = frozenset({FINDER_SHOWN, REGION_SHOWN})

# A second tap of the button just answered, this soon after the conversation last changed
# (by the server's clock), is the same tap: people double-tap on slow phones. It gets no reply.
# A tap later than this is an old button and is answered as one (stale_button, ended_button).
DOUBLE_TAP_WINDOW = dt.timedelta(seconds=10)

# What a rich menu area's postback (`m=<action>`) may ask; "uri" areas open a page instead.
MENU_ACTIONS = ("questionnaire", "finder", "events", "crisis", "about", "handoff")
BACK_WORDS = {"戻る", "もどる", "前へ", "前に戻る", "ひとつ前", "一つ前", "back"}
RESTART_WORDS = {"最初から", "さいしょから", "はじめから", "初めから", "最初", "リセット",
                 "やり直し", "やりなおし", "もう一度", "もういちど", "restart"}
_PLAIN_BACK = {normalise(w) for w in BACK_WORDS}
_PLAIN_RESTART = {normalise(w) for w in RESTART_WORDS}


@dataclass(frozen=True)
class Conversation:
    """One person's conversation as the engine sees it: where they are, answers, markers."""

    state: str
    answers: Mapping[str, str] = field(default_factory=dict)  # the questionnaire's own
    markers: Mapping[str, str] = field(default_factory=dict)  # MARKERS, apart from answers

    @classmethod
    def stored(cls, kept: tuple[str, Mapping[str, str]] | None) -> Conversation | None:
        """Return the conversation of a stored (state, answers and markers) pair."""
        if kept is None:
            return None
        state, values = kept
        return cls(state, {k: v for k, v in values.items() if k not in MARKERS},
                   {k: v for k, v in values.items() if k in MARKERS})

    def kept(self) -> dict[str, str]:
        """Return what the store keeps: the answers and the markers, in one mapping."""
        return {**self.answers, **self.markers}

    def marked(self, **markers: str) -> Conversation:
        return Conversation(self.state, self.answers, {**self.markers, **markers})

    def unmarked(self, *names: str) -> Conversation:
        return Conversation(self.state, self.answers,
                            {k: v for k, v in self.markers.items() if k not in names})


@dataclass
class Outcome:
    says: list  # empty: send no reply at all (a double tap)
    state: str | None  # None: no conversation is kept
    answers: dict[str, str] = field(default_factory=dict)  # as stored: answers and markers
    changed: bool = True
    referral: Match | None = None
    referral_answers: dict[str, str] = field(default_factory=dict)  # what the referral counts
    # The questionnaire's anonymous counters this input moves: (step id, what happened), e.g.
    # ("age", "answered"), ("employment", "reached"), ("done", "reached"), ("", "crisis").
    counts: tuple[tuple[str, str], ...] = ()


def outcome(says: list, conv: Conversation | None, **more) -> Outcome:
    """Return the outcome that says this and keeps this conversation (None: none)."""
    if conv is None:
        return Outcome(says, None, **more)
    return Outcome(says, conv.state, conv.kept(), **more)


@dataclass
class Turn:
    """One input meeting one conversation: what a handler looks at, each part read once."""

    inp: object
    conv: Conversation | None  # a handler may set it (a silence over, a finder closed)
    since: dt.timedelta | None  # how long ago the stored conversation last changed
    plain: str | None = None  # a typed text, normalised (once)
    fields: dict[str, str] = field(default_factory=dict)  # a postback's data, parsed (once)

    @classmethod
    def of(cls, inp, conv: Conversation | None, since: dt.timedelta | None) -> Turn:
        turn = cls(inp, conv, since)
        if isinstance(inp, Text):
            turn.plain = normalise(inp.text)
        elif isinstance(inp, Postback):
            turn.fields = postback_fields(inp.data)
        return turn

    @property
    def tapped(self) -> bool:
        return isinstance(self.inp, Postback)

    @property
    def typed(self) -> bool:
        return isinstance(self.inp, Text)

    @property
    def command(self) -> str | None:
        """Return 戻る ("back") or 最初から ("restart") if the input is one, tapped or typed."""
        if self.tapped:
            command = self.fields.get("c")
            return command if command in ("back", "restart") else None
        if self.plain in _PLAIN_BACK:
            return "back"
        if self.plain in _PLAIN_RESTART:
            return "restart"
        return None

    def soon(self) -> bool:
        """Tell whether the conversation changed within the double-tap window."""
        return self.since is not None and self.since <= DOUBLE_TAP_WINDOW


# -- the data buttons carry ------------------------------------------------------------------


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


def menu_area_data(action: str, number: int) -> str:
    """Return a rich menu area's data: its action and its number (`a=`), which a tap counts."""
    return menu_data(action, a=str(number))


def feedback_data(value: str, tag: str) -> str:
    """Return a feedback answer's data: the answer and the version that asked (`b=`)."""
    return urlencode({"f": value, "b": tag})


def postback_fields(data: str) -> dict[str, str]:
    """Return a postback's fields (each given once), or none if the data is not ours."""
    try:
        parsed = parse_qs(data, strict_parsing=True, max_num_fields=4)
    except ValueError:
        return {}
    return {k: v[0] for k, v in parsed.items() if len(v) == 1}
