"""Scenarios: people in content/scenarios.yaml, played through the bot as LINE would show it.

Each scenario taps the buttons the rendered reply shows (found by their label, so a scenario
tests what a person sees) or types text, and names the 取組 and offices it must and must not
get. `tsunagu check` reports each difference as an error naming the scenario and its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content.bundle import SCENARIOS_FILE
from bot.content.files import Document, Problem, check_schema
from bot.content.schema import Content
from bot.dialogue.engine import Dialogue, Follow, Postback, Result, Text
from bot.line.limits import MAX_BUBBLES
from bot.line.render import Renderer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Input(_Strict):
    """One thing the person does: tap a button by its label, or type (say) a text."""

    tap: str | None = None
    say: str | int | None = None  # `say: 45` reads as a number: it is typed as text

    @model_validator(mode="after")
    def _one_of_them(self) -> Input:
        if (self.tap is None) == (self.say is None):
            raise ValueError("give either 'tap: <button label>' or 'say: <text>'")
        return self


class Expected(_Strict):
    programmes: list[str] = Field(default_factory=list)  # 取組 ids
    offices: list[str] = Field(default_factory=list)  # office ids (of the cards LINE shows)
    says: list[str] = Field(default_factory=list)  # message keys a rule adds to the result


class Scenario(_Strict):
    """A person: what they tap or type, and what the result must and must not give them."""

    name: str
    note: str = ""
    inputs: list[Input]
    must_get: Expected = Expected()
    must_not_get: Expected = Expected()


class ScenarioFile(_Strict):
    scenarios: list[Scenario]


KINDS = {"scenarios": ("scenario", "name")}


def read(doc: Document | None) -> tuple[list[Scenario], list[Problem]]:
    """Check the scenarios file against its schema (no file: no scenarios)."""
    if doc is None:
        return [], []
    value, issues = check_schema(ScenarioFile, doc, KINDS)
    return (value.scenarios if value is not None else []), issues


@dataclass
class Played:
    """What playing the scenarios found: the mismatches, and every rule some scenario got."""

    issues: list[Problem] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)


def _buttons(messages: list[dict]) -> dict[str, str]:
    """Return the postback buttons a reply shows: label -> data."""
    found: dict[str, str] = {}
    # LINE shows the quick-reply buttons of a reply's last message only.
    for item in ((messages[-1].get("quickReply") or {}).get("items", []) if messages else []):
        action = item.get("action") or {}
        if action.get("type") == "postback":
            found.setdefault(action.get("label", ""), action.get("data", ""))
    return found


def play_all(content: Content, script: list[Scenario], doc: Document | None) -> Played:
    """Play every scenario through the engine and the renderer; report what differs."""
    played = Played()
    if not script:
        return played
    try:
        dialogue, renderer = Dialogue(content), Renderer(content)
    except Exception as err:  # noqa: BLE001 (the other checks say what is wrong)
        played.issues.append(Problem(SCENARIOS_FILE, None, "", "the scenarios cannot be played: "
                                   f"the bot cannot run this content ({err})",
                                   "fix the other errors first"))
        return played
    for index, scenario in enumerate(script):
        try:
            differences = list(play(content, scenario, dialogue, renderer, played.rules))
        except Exception as err:  # noqa: BLE001 (a failure of the bot is a finding too)
            differences = [(f"the bot fails while playing it ({type(err).__name__}: {err})",
                            "fix the other errors first; if there are none, this is a bug in "
                            "the bot: report it with this scenario", ())]
        for message, fix, path in differences:
            line = doc.line("scenarios", index, *path) if doc is not None else None
            played.issues.append(Problem(SCENARIOS_FILE, line, f"scenario {scenario.name!r}",
                                       message, fix))
    return played


def play(content: Content, scenario: Scenario, dialogue: Dialogue, renderer,
         rules: set[str]) -> Iterator[tuple[str, str, tuple]]:
    """Play one scenario; yield each difference: (message, fix, path in the file)."""
    # The rules the result came from are added to `rules`.
    yield from _unknown_ids(content, scenario)
    outcome = dialogue.respond(None, Follow())
    shown = renderer.render(outcome.says)
    conv = (outcome.state, outcome.answers) if outcome.state is not None else None
    result = None
    for step, given in enumerate(scenario.inputs, start=1):
        if result is not None:
            yield (f"input {step} comes after the result, which input {step - 1} already "
                   "gave", "remove the inputs after the last question's answer",
                   ("inputs", step - 1))
            break
        if given.tap is not None:
            buttons = _buttons(shown)
            if given.tap not in buttons:
                offered = ", ".join(buttons) or "none"
                yield (f"input {step} taps {given.tap!r}, but the bot shows no such button "
                       f"(it shows: {offered})", "tap one of the buttons shown, as labelled "
                       "(or fix the question or the flow if the button should be there)",
                       ("inputs", step - 1))
                return
            inp = Postback(buttons[given.tap])
        else:
            inp = Text(str(given.say))
        outcome = dialogue.respond(conv, inp)
        if outcome.says:
            shown = renderer.render(outcome.says)
        conv = (outcome.state, outcome.answers) if outcome.state is not None else None
        result = next((say for say in outcome.says if isinstance(say, Result)), None)
    if result is None:
        asked = next((m.get("text", "") for m in reversed(shown) if m.get("type") == "text"), "")
        yield (f"ends before the result; the bot still asks {asked!r}",
               "add the taps or texts that answer the remaining questions", ("inputs",))
        return
    rules.update(result.match.rules)
    yield from _compare(scenario, result)


def _unknown_ids(content: Content, scenario: Scenario) -> Iterator[tuple[str, str, tuple]]:
    known = {"programmes": content.programmes, "offices": content.offices,
             "says": content.messages}
    for part in ("must_get", "must_not_get"):
        expected = getattr(scenario, part)
        for kind, names in known.items():
            for i, name in enumerate(getattr(expected, kind)):
                if name not in names:
                    yield (f"{part} names {kind[:-1] if kind != 'says' else 'message'} "
                           f"{name!r}, which the content does not have",
                           "fix the id (see the content files)", (part, kind, i))


def _compare(scenario: Scenario, result: Result) -> Iterator[tuple[str, str, tuple]]:
    found = result.match
    got = {"programmes": [p.id for p in found.programmes],
           # The cards LINE shows: an office beyond them is never seen.
           "offices": [o.id for o in found.offices[:MAX_BUBBLES]],
           "says": list(found.says)}
    rules = ", ".join(found.rules)
    for kind, ids in got.items():
        what = {"programmes": "programme", "offices": "office", "says": "message"}[kind]
        listed = ", ".join(ids) or "none"
        for i, wanted in enumerate(getattr(scenario.must_get, kind)):
            if wanted not in ids:
                yield (f"does not get {what} {wanted!r} (it gets {listed}; rules: {rules})",
                       f"if the content is right, take {wanted!r} out of must_get; else fix "
                       "the rule that should give it", ("must_get", kind, i))
        for i, unwanted in enumerate(getattr(scenario.must_not_get, kind)):
            if unwanted in ids:
                yield (f"gets {what} {unwanted!r}, which it must not (rules: {rules})",
                       f"if the content is right, take {unwanted!r} out of must_not_get; else "
                       "fix the rule that gives it", ("must_not_get", kind, i))
