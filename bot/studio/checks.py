"""`tsunagu check`, the editors' safety net: every problem, with its file, line, item and fix.

The checks run in layers. 1, the files: YAML syntax, each file's schema, ids used twice
(`bot.content.bundle`); the rest run only once every file reads. 2, what the content means:
one small rule per check. 3, LINE's limits (`bot.line.limits`). Then the warnings (errors with
--strict), the scenarios (`bot.studio.scenarios`, people played through the bot) and the
coverage: how many of all citizens' answer combinations reach an office to call or open.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import json
import string
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import click
from flask import Flask, current_app, has_app_context

from bot import settings
from bot.content import bundle
from bot.content.bundle import AREAS, FLOW_FILE, MESSAGES, OFFICES, PROGRAMMES, RULES, SAFETY
from bot.content.files import ContentError, Document, Issue
from bot.content.flow import DONE, Step
from bot.content.schema import AgeRange, Content, Office, Programme, Rule
from bot.db.models import japan_date
from bot.dialogue import engine
from bot.dialogue.matching import NEAREST, Match, holds, match_rules, offices_for
from bot.line.limits import (
    MAX_ALT_TEXT,
    MAX_BUBBLES,
    MAX_CHAT_BAR_TEXT,
    MAX_LABEL,
    MAX_MENU_AREAS,
    MAX_MENU_LABEL,
    MAX_MENU_NAME,
    MAX_POSTBACK_DATA,
    MAX_QUICK_REPLIES,
    MAX_TEXT,
    MAX_URI,
    URI_SCHEMES,
)
from bot.line.messages import crisis_text, offices_text, result_text, units
from bot.referrals.exports import looks_like_formula

ERROR, WARNING = "error", "warning"
READABLE = 400  # characters of one bubble a person reads comfortably on a phone (not LINE's)
STALE_AFTER_MONTHS = 12  # a contact fact not checked for longer is worth checking again
MESSAGE_KEYS = (
    "greeting", "privacy", "not_understood", "age_not_understood", "area_not_understood",
    "area_pick", "not_text", "stale_button", "ended_button", "result_intro",
    "result_offices", "office_contact_unknown", "office_call",
    "office_web", "result_closing", "start_button", "back_button", "crisis", "crisis_after",
    "crisis_free", "crisis_charged", "crisis_call",
)
# The {names} a message may use. The bot fills the deployment's facts (the privacy note's
# {keep_years}) into the messages it sends as they are (bot.line.render: Say); it gives these
# two their own; every other message is shown as written, so a {name} in it would show as is.
SAID = frozenset({"greeting", "privacy", "ended_button", "crisis_after", "result_closing",
                  "not_understood", "age_not_understood", "area_not_understood",
                  "stale_button", "not_text"})
MESSAGE_FIELDS = {"area_pick": {"region"}, "crisis_call": {"phone"}}
# How the longest value of each field reads, to measure a message as people get it.
LONGEST_VALUE = {"keep_years": "30"}  # TSUNAGU_KEEP_REFERRAL_YEARS is at most 30


@dataclass(frozen=True)
class Problem:
    """One problem: how bad, where (file and line), which item, what is wrong, how to fix it."""

    severity: str  # ERROR or WARNING
    file: str  # e.g. content/offices.yaml
    line: int | None  # from 1; None where no line can be told
    item: str  # e.g. "office 'hw-akita'", "question 'age', option 'u35'"; "" for a file
    message: str
    fix: str

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.item}: {self.message}" if self.item else self.message
        return f"{where}: {self.severity}: {what}" + (f"; {self.fix}" if self.fix else "")

    @classmethod
    def of(cls, issue: Issue) -> Problem:
        return cls(ERROR, issue.file, issue.line, issue.item, issue.message, issue.fix)


@dataclass
class Report:
    """What `examine` found in a bundle's files."""

    problems: list[Problem]
    content: Content | None  # None when the files do not read (layer 1 failed)
    coverage: Coverage | None = None
    scenarios: int = 0  # scenarios played

    def errors(self, strict: bool = False) -> list[Problem]:
        """Return the problems that fail the check (with strict, warnings too)."""
        return [p for p in self.problems if strict or p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]


class Context:
    """What a check looks at: the content, its files' lines, today, and the coverage."""

    def __init__(self, content: Content, docs: Mapping[str, Document] | None = None,
                 today: dt.date | None = None) -> None:
        self.content = content
        self.docs = docs or {}
        self.today = today or japan_date()

    def line(self, file: str, *path) -> int | None:
        doc = self.docs.get(file)
        return doc.line(*path) if doc is not None else None

    @functools.cached_property
    def coverage(self) -> Coverage:
        return coverage(self.content)

    # Where each kind of item is, and how a problem names it.
    def office(self, office: Office, *path) -> tuple[str, int | None]:
        return (f"office {office.id!r}",
                self.line(OFFICES, "offices", ("id", office.id), *path))

    def programme(self, programme: Programme, *path) -> tuple[str, int | None]:
        return (f"programme {programme.id!r}",
                self.line(PROGRAMMES, "programmes", ("id", programme.id), *path))

    def rule(self, rule: Rule, *path) -> tuple[str, int | None]:
        if rule is self.content.rules.fallback:
            return f"fallback rule {rule.id!r}", self.line(RULES, "fallback", *path)
        return f"rule {rule.id!r}", self.line(RULES, "rules", ("id", rule.id), *path)

    def step(self, step: Step, *path) -> tuple[str, int | None]:
        return f"question {step.id!r}", self.line(FLOW_FILE, "steps", ("id", step.id), *path)

    def option(self, step: Step, value: str, *path) -> tuple[str, int | None]:
        return (f"question {step.id!r}, option {value!r}",
                self.line(FLOW_FILE, "steps", ("id", step.id), "options", ("value", value),
                          *path))

    def message(self, key: str) -> tuple[str, int | None]:
        return f"message {key!r}", self.line(MESSAGES, key)

    def region(self, name: str, *path) -> tuple[str, int | None]:
        return f"region {name!r}", self.line(AREAS, "regions", ("name", name), *path)


Check = Callable[[Context], Iterator[Problem]]
CHECKS: list[Check] = []  # in the order they run: meaning (layer 2), LINE's limits, warnings


def check(func: Check) -> Check:
    """Register a check; it yields Problems."""
    CHECKS.append(func)
    return func


def error(file: str, where: tuple[str, int | None], message: str, fix: str) -> Problem:
    return Problem(ERROR, file, where[1], where[0], message, fix)


def warning(file: str, where: tuple[str, int | None], message: str, fix: str) -> Problem:
    return Problem(WARNING, file, where[1], where[0], message, fix)


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _rules(content: Content) -> list[Rule]:
    return [*content.rules.rules, content.rules.fallback]


# ---- Layer 2: what the content means ----------------------------------------------------

@check
def rules_name_what_exists(c: Context) -> Iterator[Problem]:
    kinds = {o.kind for o in c.content.offices.values()}
    for rule in _rules(c.content):
        for i, code in enumerate(rule.programmes):
            if code not in c.content.programmes:
                yield error(RULES, c.rule(rule, "programmes", i),
                            f"names programme {code!r}, which is not in programmes.yaml",
                            "fix the id" + _did_you_mean(code, c.content.programmes)
                            + " or add the programme to programmes.yaml")
        for i, ref in enumerate(rule.offices):
            if ref.startswith(NEAREST):
                kind = ref.removeprefix(NEAREST)
                if kind not in kinds:
                    yield error(RULES, c.rule(rule, "offices", i),
                                f"names {ref!r}, but no office in offices.yaml has kind {kind!r}",
                                "fix the kind" + _did_you_mean(kind, kinds)
                                + " or give an office that kind")
            elif ref not in c.content.offices:
                yield error(RULES, c.rule(rule, "offices", i),
                            f"names office {ref!r}, which is not in offices.yaml",
                            "fix the id" + _did_you_mean(ref, c.content.offices)
                            + " or add the office to offices.yaml")


@check
def rule_messages_exist(c: Context) -> Iterator[Problem]:
    for rule in _rules(c.content):
        if rule.say and not str(c.content.messages.get(rule.say, "")).strip():
            yield error(RULES, c.rule(rule, "say"),
                        f"says {rule.say!r}, which is not in messages.yaml",
                        "add the message to messages.yaml or fix the key"
                        + _did_you_mean(rule.say, c.content.messages))


def answer_values(content: Content) -> dict[str, list[str]]:
    """Return every value each question's answer can take (an area: the municipalities)."""
    return {s.id: list(content.municipalities) if s.kind == "area"
            else [o.value for o in s.options] for s in content.flow.steps}


@check
def rules_use_real_answers(c: Context) -> Iterator[Problem]:
    values = answer_values(c.content)
    for rule in c.content.rules.rules:
        for name, wanted in rule.when.items():
            step = c.content.flow.step(name)
            if step is None:
                yield error(RULES, c.rule(rule, "when", name),
                            f"asks for the answer {name!r}, but no question has that id",
                            f"use one of {', '.join(values)}" + _did_you_mean(name, values))
            elif isinstance(wanted, AgeRange):
                if step.kind != "age":
                    yield error(RULES, c.rule(rule, "when", name),
                                f"gives {name!r} a range of years, but that question is not an "
                                "age question", "list its answers' values instead, e.g. "
                                f"[{', '.join(values[name][:2])}]")
            else:
                for i, value in enumerate(wanted):
                    if value not in values[name]:
                        yield error(RULES, c.rule(rule, "when", name, i),
                                    f"expects {name} = {value!r}, which no answer gives",
                                    f"use one of {', '.join(values[name])}"
                                    + _did_you_mean(value, values[name]))


@check
def wording_step_exists(c: Context) -> Iterator[Problem]:
    flow = c.content.flow
    if flow.wording_from and flow.step(flow.wording_from) is None:
        yield error(FLOW_FILE, ("", c.line(FLOW_FILE, "wording_from")),
                    f"wording_from names {flow.wording_from!r}, which is not a question",
                    "use a question's id or remove the line")


@check
def offices_serve_real_areas(c: Context) -> Iterator[Problem]:
    known = set(c.content.municipalities)
    for office in c.content.offices.values():
        if not office.areas:
            yield error(OFFICES, c.office(office, "areas"),
                        "serves no area, so \"nearest:\" never finds it",
                        "list the municipalities it serves in 'areas', or [\"*\"] for the "
                        "whole prefecture")
        for i, area in enumerate(office.areas):
            if area != "*" and area not in known:
                yield error(OFFICES, c.office(office, "areas", i),
                            f"serves {area!r}, which is not a municipality in areas.yaml",
                            "fix the name" + _did_you_mean(area, known)
                            + " or use \"*\" for the whole prefecture")


def _exported_names(c: Context) -> Iterator[tuple[str, tuple[str, int | None], str, str]]:
    """Yield (file, where, field, text) of every name the counts' files (XLSX, CSV) show."""
    for office in c.content.offices.values():
        for name in ("id", "name"):
            yield OFFICES, c.office(office, name), name, getattr(office, name)
    for programme in c.content.programmes.values():
        for name in ("id", "item", "name", "kpi"):
            yield PROGRAMMES, c.programme(programme, name), name, getattr(programme, name)
    for region in c.content.regions:
        yield AREAS, c.region(region.name, "name"), "name", region.name
        for i, municipality in enumerate(region.municipalities):
            yield AREAS, c.region(region.name, "municipalities", i), "municipality", municipality
    for step in c.content.flow.steps:
        yield FLOW_FILE, c.step(step, "id"), "id", step.id
        for option in step.options:
            for name in ("value", "label"):
                yield (FLOW_FILE, c.option(step, option.value, name), name,
                       getattr(option, name))


@check
def names_are_not_formulas(c: Context) -> Iterator[Problem]:
    for file, where, name, text in _exported_names(c):
        if looks_like_formula(text):
            yield error(file, where, f"its {name} {text[:30]!r} starts with {text[0]!r}: a "
                        "spreadsheet opening the exported counts would run it as a formula",
                        f"remove the leading {text[0]!r} (or write it in full width, as "
                        "＝ ＋ －)")


@check
def questions_can_be_answered(c: Context) -> Iterator[Problem]:
    flow = c.content.flow
    areas = [s for s in flow.steps if s.kind == "area"]
    for extra in areas[1:]:
        yield error(FLOW_FILE, c.step(extra, "kind"),
                    f"is a second area question (the first is {areas[0].id!r}); rules and "
                    "offices use only the first", "keep one question of kind area")
    for step in flow.steps:
        if step.kind != "area" and not step.options:
            yield error(FLOW_FILE, c.step(step), "has no options, so nobody can answer it",
                        "add its options (value and label)")


def _graph(content: Content) -> dict[str, list[str]]:
    """Return where each question leads, only to questions that exist (or done)."""
    ids = {s.id for s in content.flow.steps}
    return {s.id: [d for d in s.leads_to if d == DONE or d in ids] for s in content.flow.steps}


@check
def nexts_lead_somewhere(c: Context) -> Iterator[Problem]:
    flow = c.content.flow
    ids = [s.id for s in flow.steps]
    if flow.start not in ids:
        yield error(FLOW_FILE, ("", c.line(FLOW_FILE, "start")),
                    f"start {flow.start!r} is not a question",
                    f"use a question's id{_did_you_mean(flow.start, ids)}")
    for step in flow.steps:
        if step.next != DONE and step.next not in ids:
            yield error(FLOW_FILE, c.step(step, "next"),
                        f"goes next to {step.next!r}, which is not a question",
                        f"use a question's id{_did_you_mean(step.next, ids)} or {DONE!r}")
        for option in step.options:
            if option.next and option.next != DONE and option.next not in ids:
                yield error(FLOW_FILE, c.option(step, option.value, "next"),
                            f"goes next to {option.next!r}, which is not a question",
                            f"use a question's id{_did_you_mean(option.next, ids)} or "
                            f"{DONE!r}")


def _reached(content: Content) -> set[str]:
    graph, start = _graph(content), content.flow.start
    if start not in graph:
        return set()
    reached, todo = {start}, [start]
    while todo:
        for dest in graph[todo.pop()]:
            if dest != DONE and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    return reached


@check
def every_question_is_asked(c: Context) -> Iterator[Problem]:
    reached = _reached(c.content)
    if not reached:
        return  # no start: said above
    for step in c.content.flow.steps:
        if step.id not in reached:
            yield error(FLOW_FILE, c.step(step),
                        "is never asked: no question's 'next' leads to it",
                        "link it from the question before it with 'next', or remove it")


def _cycles(content: Content) -> list[list[str]]:
    """Return each circle of questions (each once), as the steps it goes through."""
    graph, found, seen = _graph(content), [], set()

    def walk(step_id: str, path: list[str]) -> None:
        for dest in graph.get(step_id, []):
            if dest in path:
                circle = path[path.index(dest):]
                key = frozenset(circle)
                if key not in seen:
                    seen.add(key)
                    found.append(circle)
            elif dest != DONE and dest not in done:
                walk(dest, [*path, dest])
        done.add(step_id)

    done: set[str] = set()
    if content.flow.start in graph:
        walk(content.flow.start, [content.flow.start])
    return found


@check
def every_path_ends_in_a_referral(c: Context) -> Iterator[Problem]:
    graph = _graph(c.content)
    circles = _cycles(c.content)
    for circle in circles:
        last = c.content.flow.step(circle[-1])
        yield error(FLOW_FILE, c.step(last, "next"),
                    "the questions go round in a circle: " + " → ".join([*circle, circle[0]]),
                    f"change a 'next' on the way so that it leads on towards {DONE!r}")
    in_circle = {s for circle in circles for s in circle}
    ends = {DONE}
    changed = True
    while changed:  # the steps from which some answer leads to the end
        changed = False
        for step_id, dests in graph.items():
            if step_id not in ends and any(d in ends for d in dests):
                ends.add(step_id)
                changed = True
    reached = _reached(c.content)
    for step in c.content.flow.steps:
        if step.id in reached and step.id not in ends and step.id not in in_circle:
            yield error(FLOW_FILE, c.step(step, "next"),
                        f"no answer here leads on to the end ({DONE!r}), so nobody who gets "
                        "here is referred", f"make a 'next' on the way lead to {DONE!r}")


@check
def privacy_note_names_every_kept_answer(c: Context) -> Iterator[Problem]:
    note = str(c.content.messages.get("privacy", ""))
    for step in c.content.flow.steps:
        if not step.counted_as:
            yield error(FLOW_FILE, c.step(step),
                        "has no counted_as (every answer is kept in the anonymous counts)",
                        "add counted_as: how the privacy note names this answer")
        elif step.counted_as not in note:
            yield error(MESSAGES, c.message("privacy"),
                        f"the privacy note does not name {step.counted_as!r} (question "
                        f"{step.id!r}), which the counts keep",
                        "add those words to the note, or change the question's counted_as")


@check
def messages_are_all_there(c: Context) -> Iterator[Problem]:
    for key in MESSAGE_KEYS:
        if not str(c.content.messages.get(key, "")).strip():
            yield error(MESSAGES, (f"message {key!r}", None), "is missing",
                        f"add a line '{key}: \"...\"' to messages.yaml")


def _fields_of(key: str) -> frozenset[str]:
    """Return the {names} the bot fills in one message."""
    return frozenset({"keep_years"} if key in SAID else MESSAGE_FIELDS.get(key, set()))


@check
def messages_use_known_names(c: Context) -> Iterator[Problem]:
    for key, text in c.content.messages.items():
        allowed = _fields_of(key)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError:
            if allowed or key in SAID:  # filled in: a lone brace breaks it
                yield error(MESSAGES, c.message(key), "has a '{' or '}' that is not a {name}",
                            "write a brace as {{ or }}, or remove it")
            continue
        for name in sorted(names - allowed):
            shown = ", ".join("{" + n + "}" for n in sorted(allowed))
            yield error(MESSAGES, c.message(key), f"uses {{{name}}}, which the bot does not fill "
                        "in this message", f"use only {shown} here, or remove it" if shown
                        else "remove it: this message is shown as written")


@check
def everyone_gets_a_programme_and_a_place_to_go(c: Context) -> Iterator[Problem]:
    cover = c.coverage
    fallback = c.rule(c.content.rules.fallback)
    if cover.no_programme:
        yield error(RULES, fallback,
                    f"{len(cover.no_programme)} answer combinations get no programme, e.g. "
                    f"{describe(c.content, cover.no_programme[0])}",
                    "give the fallback rule a programme everyone may use")
    if cover.no_office:
        yield error(RULES, fallback,
                    f"{len(cover.no_office)} answer combinations get no office, e.g. "
                    f"{describe(c.content, cover.no_office[0])}",
                    "give the fallback rule an office that serves everyone (areas: [\"*\"])")


@check
def everyone_can_call_or_open_a_place(c: Context) -> Iterator[Problem]:
    cover = c.coverage
    if not cover.unreachable:
        return
    worst = "; ".join(f"{gap.where} ({gap.combinations})" for gap in cover.gaps[:5])
    yield error(RULES, ("", None),
                f"{len(cover.unreachable)} of {cover.total} citizens' answer combinations get "
                f"no office with a phone or web button; the largest gaps: {worst}",
                "add to a rule that fits them an office with a phone or url (such as "
                "\"nearest:jiritsu-soudan\", the municipality's window), or fill the office's "
                "phone or url in offices.yaml from docs/sources/")


@check
def every_programme_for_people_has_a_path(c: Context) -> Iterator[Problem]:
    reached = c.coverage.programmes
    for programme in c.content.programmes.values():
        if programme.audience in ("citizens", "employers") and programme.id not in reached:
            yield error(PROGRAMMES, c.programme(programme),
                        f"({programme.item} {programme.title}) is for {programme.audience} but "
                        "no answers lead to it", "add it to a rule in rules.yaml whose answers "
                        "fit the people it is for")


# ---- Layer 3: LINE's limits ---------------------------------------------------------------

def _controls(c: Context, step: Step) -> list[tuple[str, str, tuple]]:
    """Return the 戻る/最初から buttons under a question: (label, postback data, where)."""
    controls = [(c.content.messages.get("start_button", ""),
                 engine.command_data("restart", step.id), ("message", "start_button"))]
    if c.content.flow.previous(step.id):
        controls.insert(0, (c.content.messages.get("back_button", ""),
                            engine.command_data("back", step.id), ("message", "back_button")))
    return controls


def buttons(c: Context) -> Iterator[tuple[Step, str, list[tuple[str, str, tuple]]]]:
    """Yield each set of quick-reply buttons: its question, what shows it, (label, data, where)."""
    tag = engine.version_tag(c.content)  # answer buttons carry the version that made them
    for step in c.content.flow.steps:
        controls = _controls(c, step)
        if step.kind != "area":
            yield step, "", [(o.label, engine.answer_data(step.id, o.value, tag),
                              ("option", o.value)) for o in step.options] + controls
            continue
        yield step, "", [(r.name, engine.region_data(step.id, r.name, tag),
                          ("region", r.name)) for r in c.content.regions] + controls
        for region in c.content.regions:
            yield step, region.name, [
                (m, engine.answer_data(step.id, m, tag), ("municipality", region.name, i))
                for i, m in enumerate(region.municipalities)] + controls


def _button_place(c: Context, step: Step, where: tuple) -> tuple[str, str, int | None]:
    """Return the file, item and line of one button."""
    if where[0] == "option":
        item, line = c.option(step, where[1], "label")
        return FLOW_FILE, item, line
    if where[0] == "region":
        return AREAS, *c.region(where[1], "name")
    if where[0] == "municipality":
        item, line = c.region(where[1], "municipalities", where[2])
        return AREAS, item, line
    item, line = c.message(where[1])
    return MESSAGES, item, line


@check
def quick_replies_fit_line(c: Context) -> Iterator[Problem]:
    for step, region, items in buttons(c):
        if len(items) > MAX_QUICK_REPLIES:
            shown = len(items) - len(_controls(c, step))
            if region:
                yield error(AREAS, c.region(region),
                            f"has {shown} municipalities; with 戻る and 最初から that is "
                            f"{len(items)} buttons, and LINE shows at most {MAX_QUICK_REPLIES}",
                            "split the region in two")
            elif step.kind == "area":
                yield error(AREAS, ("", c.line(AREAS, "regions")),
                            f"there are {shown} regions; with 戻る and 最初から that is "
                            f"{len(items)} buttons, and LINE shows at most {MAX_QUICK_REPLIES}",
                            "join some regions")
            else:
                yield error(FLOW_FILE, c.step(step, "options"),
                            f"has {shown} options; with 戻る and 最初から that is {len(items)} "
                            f"buttons, and LINE shows at most {MAX_QUICK_REPLIES}",
                            f"keep it to {MAX_QUICK_REPLIES - len(items) + shown} options, "
                            "e.g. by joining two or splitting the question")


@check
def labels_fit_line(c: Context) -> Iterator[Problem]:
    seen = set()
    for step, _, items in buttons(c):
        for label, _, where in items:
            file, item, line = _button_place(c, step, where)
            if len(label) > MAX_LABEL and (file, item) not in seen:
                seen.add((file, item))
                yield Problem(ERROR, file, line, item,
                              f"the button label {label!r} is {len(label)} characters; LINE "
                              f"shows at most {MAX_LABEL} and the bot would cut it to "
                              f"{label[:MAX_LABEL]!r}", f"shorten it to {MAX_LABEL} characters")
    for key in ("office_call", "office_web"):
        label = c.content.messages.get(key, "")
        if len(label) > MAX_LABEL:
            yield error(MESSAGES, c.message(key),
                        f"the button label {label!r} is {len(label)} characters; LINE takes at "
                        f"most {MAX_LABEL}", f"shorten it to {MAX_LABEL} characters")
    call = c.content.messages.get("crisis_call", "")
    for line in c.content.safety.crisis_lines:
        try:
            label = call.format(phone=line.phone)
        except (KeyError, ValueError, IndexError):
            break  # said by messages_use_known_names
        if len(label) > MAX_LABEL:
            yield error(MESSAGES, c.message("crisis_call"),
                        f"with {line.name}'s number the button reads {label!r}, "
                        f"{len(label)} characters; LINE shows at most {MAX_LABEL} and the bot "
                        f"would cut it to {label[:MAX_LABEL]!r}",
                        f"shorten the words around {{phone}} (the number alone is "
                        f"{len(line.phone)})")


@check
def postback_data_fits_line(c: Context) -> Iterator[Problem]:
    for step, _, items in buttons(c):
        for label, data, where in items:
            size = len(data.encode("utf-8"))  # urlencoded: bytes and characters are the same
            if size > MAX_POSTBACK_DATA:
                file, item, line = _button_place(c, step, where)
                yield Problem(ERROR, file, line, item,
                              f"the button {label!r} carries {size} bytes of data; LINE takes "
                              f"at most {MAX_POSTBACK_DATA}",
                              "shorten the question's id and the option's value (or the name)")


def _format(text: str, **values: str) -> str:
    try:
        return text.format(**LONGEST_VALUE, **values)
    except (KeyError, ValueError, IndexError):
        return text  # said by messages_use_known_names


def texts(c: Context) -> Iterator[tuple[str, tuple[str, int | None], str]]:
    """Yield each fixed text the bot sends: file, (item, line), the text as people get it."""
    longest_region = max((r.name for r in c.content.regions), key=len, default="")
    longest_phone = max((line.phone for line in c.content.safety.crisis_lines), key=len,
                        default="")
    for key, text in c.content.messages.items():
        if _fields_of(key):
            text = _format(text, region=longest_region, phone=longest_phone)
        yield MESSAGES, c.message(key), text
    for step in c.content.flow.steps:
        for wording, text in step.ask.items():
            item, line = c.step(step, "ask", wording)
            yield FLOW_FILE, (f"{item} ({wording})", line), text
    yield from account_texts(c)


def _built(build: Callable[..., str], *args) -> str:
    """Return a text as bot.line.messages builds it ("" if a message it needs is broken)."""
    try:
        return build(*args)
    except (KeyError, ValueError, IndexError):
        return ""  # a missing or malformed message: messages_are_all_there and others say so


@check
def texts_fit_line(c: Context) -> Iterator[Problem]:
    for file, where, text in texts(c):
        if units(text) > MAX_TEXT:
            yield error(file, where, f"is {units(text)} characters; LINE takes at most "
                        f"{MAX_TEXT} in one message", "shorten it")
    crisis = _built(crisis_text, c.content)
    if units(crisis) > MAX_TEXT:
        yield error(SAFETY, ("crisis lines", c.line(SAFETY, "crisis_lines")),
                    f"the crisis reply (the 'crisis' message and every line) is {units(crisis)} "
                    f"characters; LINE takes at most {MAX_TEXT} and the bot would cut it",
                    "shorten the lines' notes or the 'crisis' message")
    if units(crisis) > MAX_ALT_TEXT:
        yield error(SAFETY, ("crisis lines", c.line(SAFETY, "crisis_lines")),
                    f"the crisis reply is {units(crisis)} characters; a card's text for "
                    f"notifications (altText) takes at most {MAX_ALT_TEXT}, so it would be cut",
                    "shorten the lines' notes or the 'crisis' message")


@check
def results_fit_line(c: Context) -> Iterator[Problem]:
    long_texts, long_alts, many_cards = [], [], []
    texts_seen: set[tuple] = set()
    alts_seen: set[tuple] = set()
    for result in c.coverage.results:
        found = result.match
        for wording in result.wordings:
            key = (wording, tuple(p.id for p in found.programmes), found.says)
            if key not in texts_seen:
                texts_seen.add(key)
                size = units(_built(result_text, c.content, found, wording))
                if size > MAX_TEXT:
                    long_texts.append((size, result))
        shown = found.offices[:MAX_BUBBLES]
        key = tuple(o.id for o in shown)
        if key not in alts_seen:
            alts_seen.add(key)
            alt = units(_built(offices_text, c.content, shown))
            if alt > MAX_ALT_TEXT:
                long_alts.append((alt, result))
        if len(found.offices) > MAX_BUBBLES:
            many_cards.append((len(found.offices), result))
    yield from _worst(c, long_texts, lambda n, size, who: (
        f"{n} results are longer than LINE's {MAX_TEXT} characters (the longest, {size}, for "
        f"{who}); the bot would cut them"),
        "give fewer programmes to the same answers, or shorten the programmes' one_line")
    yield from _worst(c, long_alts, lambda n, size, who: (
        f"{n} office lists are longer than a card's {MAX_ALT_TEXT} characters of notification "
        f"text (the longest, {size}, for {who}); the bot would cut them"),
        "give fewer offices to the same answers")
    yield from _worst(c, many_cards, lambda n, count, who: (
        f"{n} results give more than {MAX_BUBBLES} offices (the most, {count}, for {who}); "
        f"LINE shows {MAX_BUBBLES} cards, so the rest are never seen"),
        "give fewer offices to the same answers")


def _worst(c: Context, cases: list, says: Callable[[int, int, str], str],
           fix: str) -> Iterator[Problem]:
    """Yield one error for results over one limit: how many, and the worst one's answers."""
    if cases:
        size, worst = max(cases, key=lambda pair: pair[0])
        yield error(RULES, c.rule(_rule_of(c, worst.match)),
                    says(len(cases), size, describe(c.content, worst.example)), fix)


def _rule_of(c: Context, found: Match) -> Rule:
    """Return the last rule that added to a result (the likeliest to have made it long)."""
    by_id = {r.id: r for r in _rules(c.content)}
    return by_id.get(found.rules[-1] if found.rules else "", c.content.rules.fallback)


@check
def links_fit_line(c: Context) -> Iterator[Problem]:
    for office in c.content.offices.values():
        if office.url and not office.url.startswith(("https://", "http://")):
            yield error(OFFICES, c.office(office, "url"),
                        f"url {office.url!r} does not start with https:// or http://",
                        "write the whole address, as the browser shows it")
        if len(office.url) > MAX_URI:
            yield error(OFFICES, c.office(office, "url"),
                        f"url is {len(office.url)} characters; LINE takes at most {MAX_URI}",
                        "use a shorter address for the same page")
        if office.phone and not any(ch.isdigit() for ch in office.phone):
            yield error(OFFICES, c.office(office, "phone"),
                        f"phone {office.phone!r} has no digits, so the call button cannot dial",
                        "write the number, e.g. 018-000-0000")
    for i, line in enumerate(c.content.safety.crisis_lines):
        if not any(ch.isdigit() for ch in line.phone):
            yield error(SAFETY, (f"crisis line {line.name!r}",
                                 c.line(SAFETY, "crisis_lines", i, "phone")),
                        f"phone {line.phone!r} has no digits, so the call button cannot dial",
                        "write the number, e.g. 0120-000-000")


# ---- LINE's limits: the rich menu (content/richmenu.yaml) ---------------------------------
# Checked before `tsunagu richmenu deploy` sends anything to LINE (`menu_errors`).

MENU_CHECKS: list[Check] = []  # the rules below, which `menu_errors` runs alone


def _menu_check(func: Check) -> Check:
    MENU_CHECKS.append(func)
    return check(func)


def _menu(c: Context, *path) -> tuple[str, int | None]:
    return "rich menu", c.line(bundle.RICHMENU, *path)


def _menu_area(c: Context, i: int, *path) -> tuple[str, int | None]:
    label = c.content.richmenu.areas[i].label
    return (f"menu area {i + 1} {label!r}", c.line(bundle.RICHMENU, "areas", i, *path))


def _is_color(value: str) -> bool:
    return (len(value) == 7 and value.startswith("#")
            and all(ch in string.hexdigits for ch in value[1:]))


@_menu_check
def menu_has_areas_line_takes(c: Context) -> Iterator[Problem]:
    count = len(c.content.richmenu.areas)
    if not count and bundle.RICHMENU not in c.docs:
        return  # no richmenu.yaml (an older version): no menu, which deploy says
    if not 1 <= count <= MAX_MENU_AREAS:
        yield error(bundle.RICHMENU, _menu(c, "areas"),
                    f"has {count} areas; LINE takes 1 to {MAX_MENU_AREAS}",
                    "give the menu at least one area" if not count
                    else f"join areas until there are at most {MAX_MENU_AREAS}")


@_menu_check
def menu_texts_fit_line(c: Context) -> Iterator[Problem]:
    menu = c.content.richmenu
    if not 1 <= len(menu.chat_bar_text) <= MAX_CHAT_BAR_TEXT:
        yield error(bundle.RICHMENU, _menu(c, "chat_bar_text"),
                    f"chat_bar_text {menu.chat_bar_text!r} is {len(menu.chat_bar_text)} "
                    f"characters; LINE takes 1 to {MAX_CHAT_BAR_TEXT}",
                    f"write the bar's text in at most {MAX_CHAT_BAR_TEXT} characters")
    if not 1 <= len(menu.name) <= MAX_MENU_NAME:
        yield error(bundle.RICHMENU, _menu(c, "name"),
                    f"name is {len(menu.name)} characters; LINE takes 1 to {MAX_MENU_NAME}",
                    "give the menu a short name (people do not see it)")
    for i, area in enumerate(menu.areas):
        if not 1 <= len(area.label) <= MAX_MENU_LABEL:
            yield error(bundle.RICHMENU, _menu_area(c, i, "label"),
                        f"the label is {len(area.label)} characters; LINE takes 1 to "
                        f"{MAX_MENU_LABEL}", f"write it in at most {MAX_MENU_LABEL} characters")


@_menu_check
def menu_areas_are_inside_the_image(c: Context) -> Iterator[Problem]:
    menu = c.content.richmenu
    for i, area in enumerate(menu.areas):
        b = area.bounds
        if (b.width < 1 or b.height < 1 or b.x < 0 or b.y < 0
                or b.x + b.width > menu.width or b.y + b.height > menu.height):
            yield error(bundle.RICHMENU, _menu_area(c, i, "bounds"),
                        f"its bounds (x {b.x}, y {b.y}, width {b.width}, height {b.height}) "
                        f"go outside the {menu.size} image of {menu.width}×{menu.height} "
                        "pixels", f"keep x + width within {menu.width} and y + height within "
                        f"{menu.height}, with width and height of at least 1")


@_menu_check
def menu_areas_do_not_overlap(c: Context) -> Iterator[Problem]:
    areas = c.content.richmenu.areas
    for i, area in enumerate(areas):
        a = area.bounds
        for j in range(i):
            b = areas[j].bounds
            if (a.x < b.x + b.width and b.x < a.x + a.width
                    and a.y < b.y + b.height and b.y < a.y + a.height):
                yield error(bundle.RICHMENU, _menu_area(c, i, "bounds"),
                            f"overlaps area {j + 1} {areas[j].label!r}, so a tap there "
                            "could mean either", "move or shrink one of them: an area "
                            "starts where the one before ends (x + width)")
                break


@_menu_check
def menu_links_fit_line(c: Context) -> Iterator[Problem]:
    for i, area in enumerate(c.content.richmenu.areas):
        if area.action != "uri":
            if area.uri:
                yield error(bundle.RICHMENU, _menu_area(c, i, "uri"),
                            f"has a uri but its action is {area.action!r}, which opens no "
                            "page", "remove the uri, or make the action uri")
            continue
        scheme, _, rest = area.uri.partition(":")
        if not area.uri:
            yield error(bundle.RICHMENU, _menu_area(c, i, "action"),
                        "opens a page (action uri) but has no uri",
                        "add 'uri:' with the page's address, e.g. https://www.pref.akita.lg.jp/")
        elif scheme.lower() not in URI_SCHEMES or not rest.strip("/"):
            yield error(bundle.RICHMENU, _menu_area(c, i, "uri"),
                        f"uri {area.uri!r} is not an address LINE opens",
                        f"start it with one of {', '.join(s + ':' for s in URI_SCHEMES)} "
                        "(a web page: the whole address, as the browser shows it)")
        elif len(area.uri) > MAX_URI:
            yield error(bundle.RICHMENU, _menu_area(c, i, "uri"),
                        f"uri is {len(area.uri)} characters; LINE takes at most {MAX_URI}",
                        "use a shorter address for the same page")


@_menu_check
def menu_colors_are_colors(c: Context) -> Iterator[Problem]:
    menu = c.content.richmenu
    for key in ("color", "text_color"):
        value = getattr(menu, key)
        if not _is_color(value):
            yield error(bundle.RICHMENU, _menu(c, key), f"{key} {value!r} is not a colour",
                        "write it as # and six hex digits, e.g. \"#1B6B5A\"")
    for i, area in enumerate(menu.areas):
        if area.color and not _is_color(area.color):
            yield error(bundle.RICHMENU, _menu_area(c, i, "color"),
                        f"color {area.color!r} is not a colour", "write it as # and six hex "
                        "digits, e.g. \"#8C2F39\", or remove it to use the menu's color")


def menu_errors(content: Content) -> list[str]:
    """Return the errors the rich-menu rules find in a bundle's menu, one line each."""
    context = Context(content)
    return [p.text() for rule in MENU_CHECKS for p in rule(context) if p.severity == ERROR]


# ---- The account beyond the questionnaire: finder, events, a person ------------------------

# The texts the bot fills in: {names} each may use (the others are shown as written).
ACCOUNT_FIELDS = {(bundle.FINDER, "found"): {"place"}, (bundle.FINDER, "none_found"): {"place"},
                  (bundle.HANDOFF, "with_contact"): {"name"}}


def _event(c: Context, i: int, *path) -> tuple[str, int | None]:
    return (f"event {c.content.events.events[i].id!r}",
            c.line(bundle.EVENTS, "events", i, *path))


@check
def events_have_a_date_and_a_source(c: Context) -> Iterator[Problem]:
    for i, event in enumerate(c.content.events.events):
        if event.date is None:
            yield error(bundle.EVENTS, _event(c, i), "has no date: it can never be shown",
                        "add 'date: YYYY-MM-DD' as its source gives it")
        elif event.end_date is not None and event.end_date < event.date:
            yield error(bundle.EVENTS, _event(c, i, "end_date"),
                        f"ends ({event.end_date}) before it begins ({event.date})",
                        "put the first day in 'date' and the last in 'end_date'")
        if not event.sources:
            yield error(bundle.EVENTS, _event(c, i),
                        "has no sources: nobody can tell where its date and place come from",
                        "add 'sources:' with the page or leaflet that announces it")


@check
def events_fit_a_carousel(c: Context) -> Iterator[Problem]:
    shown = c.content.events.shown
    if not 1 <= shown <= MAX_BUBBLES:
        yield error(bundle.EVENTS, ("events", c.line(bundle.EVENTS, "shown")),
                    f"'shown' is {shown}; a reply shows 1 to {MAX_BUBBLES} event cards",
                    f"set 'shown' between 1 and {MAX_BUBBLES}")


@check
def events_name_what_exists(c: Context) -> Iterator[Problem]:
    content = c.content
    for i, event in enumerate(content.events.events):
        for named, known, kind in (("programme", content.programmes, "programmes.yaml"),
                                   ("office", content.offices, "offices.yaml")):
            value = getattr(event, named)
            if value and value not in known:
                yield error(bundle.EVENTS, _event(c, i, named),
                            f"names {named} {value!r}, which {kind} does not have"
                            f"{_did_you_mean(value, known)}",
                            f"use the id of a {named} in {kind}, or leave it empty")


@check
def finder_names_real_offices(c: Context) -> Iterator[Problem]:
    for i, office in enumerate(c.content.finder.everywhere):
        if office not in c.content.offices:
            yield error(bundle.FINDER, ("finder", c.line(bundle.FINDER, "everywhere", i)),
                        f"'everywhere' names office {office!r}, which offices.yaml does not "
                        f"have{_did_you_mean(office, c.content.offices)}",
                        "use an office id of offices.yaml, or remove it")


@check
def account_texts_use_known_names(c: Context) -> Iterator[Problem]:
    models = {bundle.FINDER: c.content.finder, bundle.HANDOFF: c.content.handoff}
    for (file, key), allowed in ACCOUNT_FIELDS.items():
        text = getattr(models[file], key)
        where = (f"{file.removeprefix('content/').removesuffix('.yaml')} {key!r}",
                 c.line(file, key))
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError:
            yield error(file, where, "has a '{' or '}' that is not a {name}",
                        "write a brace as {{ or }}, or remove it")
            continue
        for name in sorted(names - allowed):
            shown = ", ".join("{" + n + "}" for n in sorted(allowed))
            yield error(file, where, f"uses {{{name}}}, which the bot does not fill here",
                        f"use only {shown} here, or remove it")


@check
def handoff_contact_has_a_source(c: Context) -> Iterator[Problem]:
    contact = c.content.handoff.contact
    filled = [f for f in ("how", "hours", "phone", "url") if getattr(contact, f)]
    where = ("handoff contact", c.line(bundle.HANDOFF, "contact"))
    if filled and not contact.name:
        yield error(bundle.HANDOFF, where, f"has {', '.join(filled)} but no name: the bot "
                    "shows a contact only by its name", "add 'name:', or empty the others")
    if contact.name and not contact.sources:
        yield warning(bundle.HANDOFF, where, "has no sources: nobody can tell where its hours "
                      "and phone come from", "add 'sources:' with the page each fact is from")


def account_texts(c: Context) -> Iterator[tuple[str, tuple[str, int | None], str]]:
    """Yield the account files' texts the bot sends as they are (or filled in)."""
    longest_place = max(c.content.municipalities, key=len, default="")
    for file, model in ((bundle.FINDER, c.content.finder), (bundle.EVENTS, c.content.events),
                        (bundle.HANDOFF, c.content.handoff)):
        for key, value in model:
            if isinstance(value, str) and value:
                text = _format(value, place=longest_place, name=c.content.handoff.contact.name)
                yield file, (f"{file.removeprefix('content/').removesuffix('.yaml')} {key!r}",
                             c.line(file, key)), text


# ---- Warnings (errors with --strict) ------------------------------------------------------

def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - STALE_AFTER_MONTHS // 12)
    except ValueError:  # 29 February
        return day.replace(year=day.year - STALE_AFTER_MONTHS // 12, day=28)


@check
def offices_can_be_contacted(c: Context) -> Iterator[Problem]:
    for office in c.content.offices.values():
        if not (office.phone or office.url):
            yield warning(OFFICES, c.office(office),
                          "has no phone and no web address: its card shows no button",
                          "fill phone or url from docs/sources/ when a source gives one")


@check
def contact_facts_have_fresh_sources(c: Context) -> Iterator[Problem]:
    stale = _year_before(c.today)
    for office in c.content.offices.values():
        if not office.sources:
            yield warning(OFFICES, c.office(office),
                          "has no sources: nobody can tell where its facts come from",
                          "add 'sources:' with the page (URL and date) each fact is from")
        if office.checked is None:
            yield warning(OFFICES, c.office(office),
                          "has no 'checked' date: nobody can tell when its facts were last "
                          "checked", "check them against the sources and add 'checked: "
                          f"{c.today.isoformat()}'")
        elif office.checked < stale:
            yield warning(OFFICES, c.office(office, "checked"),
                          f"was last checked {office.checked.isoformat()}, over "
                          f"{STALE_AFTER_MONTHS} months ago", "check its phone, address and "
                          f"web address against the sources again and set 'checked: "
                          f"{c.today.isoformat()}'")
    for programme in c.content.programmes.values():
        if programme.checked is not None and programme.checked < stale:
            yield warning(PROGRAMMES, c.programme(programme, "checked"),
                          f"was last checked {programme.checked.isoformat()}, over "
                          f"{STALE_AFTER_MONTHS} months ago", "check it against its source "
                          f"again and set 'checked: {c.today.isoformat()}'")
    for i, line in enumerate(c.content.safety.crisis_lines):
        if not line.sources:
            yield warning(SAFETY, (f"crisis line {line.name!r}",
                                   c.line(SAFETY, "crisis_lines", i)),
                          "has no sources: nobody can tell where its number comes from",
                          "add 'sources:' with the page each fact is from")


@check
def bubbles_are_readable(c: Context) -> Iterator[Problem]:
    for file, where, text in texts(c):
        if READABLE < units(text) <= MAX_TEXT:
            yield warning(file, where, f"is {units(text)} characters, long for one bubble "
                          f"on a phone (over {READABLE})", "shorten it, or say less at once")


@check
def programmes_say_what_they_are(c: Context) -> Iterator[Problem]:
    for programme in c.content.programmes.values():
        if not programme.summary.strip():
            yield warning(PROGRAMMES, c.programme(programme),
                          "has no summary: the result would show only its name",
                          "copy the plan's 取組の概要 into 'summary'")


@check
def every_rule_fits_someone(c: Context) -> Iterator[Problem]:
    fired = c.coverage.rules
    for rule in c.content.rules.rules:
        if rule.id not in fired and (rule.programmes or rule.offices or rule.say):
            yield warning(RULES, c.rule(rule, "when"),
                          "fits no answers anyone can give, so it never applies",
                          "check its 'when': the answers must be on one way through the "
                          "questions")


# ---- Coverage: every combination of answers -----------------------------------------------

def reachable(office: Office) -> bool:
    """Tell whether an office's card has a tap-to-call or a web button."""
    return bool(office.phone or office.url)


class Given(NamedTuple):
    """One distinct result the answer combinations get, with the wordings it is shown in."""

    match: Match
    wordings: frozenset
    combinations: int
    first: tuple  # the first combination getting it: (fields, values, area id, place)

    @property
    def example(self) -> dict[str, str]:
        """Return the first answers found getting this result."""
        return _answers(*self.first)


@dataclass(frozen=True)
class Gap:
    """A group of answer combinations that reach no office with a phone or web button."""

    where: str  # in plain words, e.g. "北秋田市, 仕事を探している"
    combinations: int  # how many combinations it holds
    of: int  # of how many combinations with those answers


@dataclass(frozen=True)
class Coverage:
    """What every combination of answers is given (each question's options × municipalities)."""

    total: int
    no_office: list[dict[str, str]]  # answers given no office at all
    unreachable: list[dict[str, str]]  # answers given no office with a phone or url
    programmes: frozenset[str]  # every programme some combination is referred to
    employers: int = 0  # combinations for employers (no citizens' programme)
    employers_reached: int = 0  # of those, reaching an office with a phone or url
    no_programme: list[dict[str, str]] = field(default_factory=list)
    rules: frozenset[str] = frozenset()  # every rule some combination fits
    results: list[Given] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)  # citizens' largest gaps first
    employer_gaps: list[Gap] = field(default_factory=list)

    @property
    def reached(self) -> int:
        return self.total - len(self.unreachable)


# By bundle id (a checksum of its files), so that one `tsunagu check` plays the answers once.
_COVERAGE: dict[str, Coverage] = {}


def _allowed(content: Content, rule: Rule, values: dict[str, list[str]]) -> dict[str, set]:
    """Return, for each answer a rule names, the values that fit it (as `holds` decides)."""
    allowed = {}
    for name, wanted in rule.when.items():
        alone = rule.model_copy(update={"when": {name: wanted}})
        allowed[name] = {v for v in values.get(name, []) if holds(content, alone, {name: v})}
    return allowed


def coverage(content: Content) -> Coverage:
    """Play every combination of answers on every way through the flow, as `match` does."""
    if content.bundle_id in _COVERAGE:
        return _COVERAGE[content.bundle_id]
    content = _known_only(content)
    area = content.flow.area_step
    area_id = area.id if area else None
    rules = content.rules.rules
    values = answer_values(content)
    allowed = [_allowed(content, rule, values) for rule in rules]
    wording_from = content.flow.wording_from
    resolve = functools.cache(lambda ref, place: offices_for(content, ref, place))
    # `match` gives the same to everyone whom the same rules fit in the same municipality:
    # find the rules once per combination of the other answers, group the combinations the
    # same rules fit, and match each group once per municipality, so that the tens of
    # thousands of combinations stay fast.
    given: dict[tuple, list] = {}  # (place, rule indexes) -> [match, wordings, example, count]
    tally = _Tally()
    for branch in content.flow.branches():
        fields = [step.id for step, _ in branch if step.id != area_id]
        options = [values_ for step, values_ in branch if step.id != area_id]
        on_branch = {step.id for step, _ in branch}
        places = list(content.municipalities) if area_id in on_branch else [""]
        # The rules that can fit on this way: each answer they name is asked on it.
        usable = [(i, [(name, ok) for name, ok in allowed[i].items() if name != area_id])
                  for i, a in enumerate(allowed) if set(a) <= on_branch]
        groups: dict[tuple, list[tuple]] = {}
        for combo in itertools.product(*options):
            answers = dict(zip(fields, combo, strict=True))
            fit = tuple(i for i, needs in usable
                        if all(answers[name] in ok for name, ok in needs))
            groups.setdefault((fit, answers.get(wording_from)), []).append(combo)
        by_area = [i for i, _ in usable if area_id in allowed[i]]
        for (fit, wording), combos in groups.items():
            local = [i for i in fit if i in by_area]
            for place in places:
                chosen = (tuple(i for i in fit if i not in local
                                or place in allowed[i][area_id]) if local else fit)
                entry = given.get((place, chosen))
                if entry is None:
                    found = match_rules(content, [rules[i] for i in chosen], place, resolve)
                    shown = found.offices[:MAX_BUBBLES]  # the cards LINE shows
                    entry = given[(place, chosen)] = [
                        found, set(), (fields, combos[0], area_id, place), 0,
                        any(reachable(o) for o in shown), _for_citizens(found)]
                entry[1].add(wording)
                entry[3] += len(combos)
                tally.add(fields, combos, area_id, place, entry[0], entry[4], entry[5])
    results = [Given(found, frozenset(wordings), count, first)
               for found, wordings, first, count, _, _ in given.values()]
    cover = Coverage(
        total=tally.total, no_office=tally.no_office, unreachable=tally.unreachable,
        programmes=frozenset(p.id for r in results for p in r.match.programmes),
        employers=tally.employers, employers_reached=tally.employers_reached,
        no_programme=tally.no_programme,
        rules=frozenset(rid for r in results for rid in r.match.rules),
        results=results, gaps=gaps(content, tally.citizens_all, tally.citizens_missing),
        employer_gaps=gaps(content, tally.employers_all, tally.employers_missing))
    _remember(_COVERAGE, content.bundle_id, cover)
    return cover


def _for_citizens(found: Match) -> bool:
    """Tell whether a result is for citizens: all but employers' (no programme: citizens)."""
    audiences = {p.audience for p in found.programmes}
    return "citizens" in audiences or "employers" not in audiences


def _known_only(content: Content) -> Content:
    """Return the content with rules naming only programmes and offices that exist."""
    # A rule naming a missing one is an error of its own; the coverage still counts the rest.
    def known(rule: Rule) -> Rule:
        programmes = [p for p in rule.programmes if p in content.programmes]
        offices = [o for o in rule.offices if o.startswith(NEAREST) or o in content.offices]
        if (programmes, offices) == (rule.programmes, rule.offices):
            return rule
        return rule.model_copy(update={"programmes": programmes, "offices": offices})

    rules = content.rules.model_copy(update={
        "rules": [known(r) for r in content.rules.rules],
        "fallback": known(content.rules.fallback)})
    return content.model_copy(update={"rules": rules})


def _remember(cache: dict, key: str, value: object, keep: int = 8) -> None:
    """Keep a value by bundle id, forgetting the oldest beyond `keep` (editors make many)."""
    cache[key] = value
    while len(cache) > keep:
        del cache[next(iter(cache))]


def _answers(fields: list[str], combo: tuple, area_id: str | None, place: str) -> dict:
    answers = dict(zip(fields, combo, strict=True))
    if area_id and place:
        answers[area_id] = place
    return answers


class _Tally:
    """Counts of the combinations, and the answers of those that lack something."""

    def __init__(self) -> None:
        self.total = self.employers = self.employers_reached = 0
        self.no_office: list[dict] = []
        self.no_programme: list[dict] = []
        self.unreachable: list[dict] = []
        # Groups of combinations (fields, values, area id, place), to find the gaps.
        self.citizens_all: list[tuple] = []
        self.citizens_missing: list[tuple] = []
        self.employers_all: list[tuple] = []
        self.employers_missing: list[tuple] = []

    def add(self, fields, combos, area_id, place, found: Match, reach: bool,
            citizens: bool) -> None:
        group = (fields, combos, area_id, place)
        if not found.programmes:
            self.no_programme.extend(_every(group))
        if not citizens:  # employers: shown apart, their 担当 may lack sourced contacts
            self.employers += len(combos)
            self.employers_all.append(group)
            if reach:
                self.employers_reached += len(combos)
            else:
                self.employers_missing.append(group)
            return
        self.total += len(combos)
        self.citizens_all.append(group)
        if not reach:
            self.citizens_missing.append(group)
            self.unreachable.extend(_every(group))
            if not found.offices:
                self.no_office.extend(_every(group))


def _every(group: tuple) -> list[dict]:
    fields, combos, area_id, place = group
    return [_answers(fields, combo, area_id, place) for combo in combos]


def gaps(content: Content, every: list[tuple], missing: list[tuple],
         limit: int = 5) -> list[Gap]:
    """Group the combinations that reach no office to contact, largest groups first."""
    # A gap is a municipality, an answer, or a municipality and an answer, all (or, failing
    # that, most) of whose combinations lack a contact: what editors should fill first.
    # `every` and `missing` hold groups of combinations: (fields, values, area id, place).
    if not missing:
        return []
    lacking, totals = _group_counts(missing), _group_counts(every)
    everyone = sum(len(combos) for _, combos, _, _ in every)
    if sum(len(combos) for _, combos, _, _ in missing) == everyone:
        return [Gap("every answer", everyone, everyone)]
    whole = sorted((c for c in lacking if lacking[c] == totals[c]),
                   key=lambda c: (-lacking[c], len(c)))
    chosen: list[tuple] = []
    for cond in whole:
        if not any(set(other) <= set(cond) for other in chosen):
            chosen.append(cond)
    if not chosen:  # no group lacks a contact entirely: show where most do, by place first
        area = content.flow.area_step
        chosen = sorted(lacking, key=lambda c: (c[0][0] != (area.id if area else None),
                                                -lacking[c] / totals[c], -lacking[c]))
    return [Gap(_plain(content, cond), lacking[cond], totals[cond]) for cond in chosen[:limit]]


def _group_counts(groups: list[tuple]) -> Counter:
    """Count the combinations in each gap a combination can be in (see `gaps`)."""
    counts: Counter = Counter()
    for fields, combos, area_id, place in groups:
        where = (area_id, place) if area_id and place else None
        if where:
            counts[(where,)] += len(combos)
        for j, name in enumerate(fields):
            for value, count in Counter(combo[j] for combo in combos).items():
                counts[((name, value),)] += count
                if where:
                    counts[(where, (name, value))] += count
    return counts


def _plain(content: Content, cond: tuple) -> str:
    """Say a group in plain words: "北秋田市, 仕事を探している"."""
    labels = Counter(o.label for s in content.flow.steps for o in s.options)
    words = []
    for name, value in cond:
        step = content.flow.step(name)
        option = step.option(value) if step else None
        if option is None:
            words.append(value)
        elif labels[option.label] > 1 or option.label in ("はい", "いいえ"):  # say of what
            words.append(f"{option.label}（{step.counted_as or step.id}）")
        else:
            words.append(option.label)
    return ", ".join(words)


def describe(content: Content, answers: Mapping[str, str]) -> str:
    """Say a combination of answers in plain words, as the buttons label them."""
    return _plain(content, tuple(answers.items()))


# ---- Running the checks -------------------------------------------------------------------

def _order(problem: Problem) -> tuple:
    files = list(bundle.NAMES)
    return (problem.severity != ERROR,
            files.index(problem.file) if problem.file in files else len(files),
            problem.file, problem.line or 0)


def problems_of(content: Content, docs: Mapping[str, Document] | None = None,
                today: dt.date | None = None) -> list[Problem]:
    """Run every check of layers 2 and 3 and the warnings on parsed content."""
    context = Context(content, docs, today)
    return [problem for rule in CHECKS for problem in rule(context)]


def examine(files: Mapping[str, bytes], today: dt.date | None = None) -> Report:
    """Run every check `tsunagu check` runs on a bundle's files; return what was found."""
    from bot.studio import scenarios  # plays people through the bot, as LINE would see it

    docs, issues = bundle.documents(files, bundle.NAMES)
    content, found = bundle.build(docs, bundle.bundle_id(files))
    doc = docs.get(bundle.SCENARIOS_FILE)
    script, script_issues = scenarios.read(doc)
    layer1 = [Problem.of(issue) for issue in [*issues, *found, *script_issues]]
    if layer1 or content is None:
        return Report(sorted(layer1, key=_order), None)
    found_problems = problems_of(content, docs, today)
    played = scenarios.play_all(content, script, doc)
    found_problems += [Problem.of(issue) for issue in played.issues]
    found_problems += _untested_rules(Context(content, docs, today), script, played.rules)
    return Report(sorted(found_problems, key=_order), content, coverage(content),
                  len(script))


def _untested_rules(c: Context, script: list, tested: set[str]) -> Iterator[Problem]:
    if not script:
        yield Problem(WARNING, bundle.SCENARIOS_FILE, None, "",
                      "there are no scenarios: nothing plays people through the bot",
                      "add content/scenarios.yaml with people, their taps and what they get")
        return
    for rule in _rules(c.content):
        if rule.id not in tested:
            yield warning(RULES, c.rule(rule), "no scenario gets this rule, so no test "
                          "shows what it gives", "add a person to content/scenarios.yaml "
                          "whose answers it fits, with what they must get")


def problems(content: Content) -> list[str]:
    """Return the errors of layers 2 and 3 in parsed content, each as one line of text."""
    return [p.text() for p in problems_of(content) if p.severity == ERROR]


# Verdicts by bundle id: a bundle id is a checksum of its files, so its verdict never changes.
_CHECKED: dict[str, list[str]] = {}


def require_fine(content: Content) -> None:
    """Raise ContentError listing every error, so bad content never starts the bot."""
    found = _CHECKED.get(content.bundle_id)
    if found is None:
        found = problems(content)
        _remember(_CHECKED, content.bundle_id, found, keep=64)
    if found:
        raise ContentError("the content needs fixing (`tsunagu check` says more):\n"
                           + "\n".join(found))


# ---- `tsunagu check` ----------------------------------------------------------------------

def _folders(root: str | None) -> tuple[Path, Path]:
    # As bot.studio.library.folders, without importing the database: check needs none.
    if root is not None:
        return Path(root) / "content", Path(root) / "flows"
    config = current_app.config if has_app_context() else settings.content_folders()
    return Path(config["CONTENT_DIR"]), Path(config["FLOWS_DIR"])


def _coverage_json(cover: Coverage) -> dict:
    return {
        "citizens": {"combinations": cover.total, "reached": cover.reached,
                     "gaps": [asdict(gap) for gap in cover.gaps]},
        "employers": {"combinations": cover.employers, "reached": cover.employers_reached,
                      "gaps": [asdict(gap) for gap in cover.employer_gaps]},
    }


def _gap_lines(found: list[Gap]) -> Iterator[str]:
    for gap in found:
        yield (f"  {gap.where}: no office with a phone or web button ({gap.combinations} of "
               f"{gap.of} combinations)")


def report_text(report: Report, strict: bool = False) -> Iterator[str]:
    """Yield the lines `tsunagu check` prints."""
    for problem in report.problems:
        yield problem.text()
    errors, warnings = len(report.errors()), len(report.warnings)
    failing = len(report.errors(strict))
    note = "" if strict or not warnings else " (warnings fail only with --strict)"
    summary = f"{errors} errors, {warnings} warnings{note}."
    content = report.content
    if content is None:
        yield f"{summary} Fix the files first: the other checks run once every file reads."
        return
    counts = (f"{len(content.programmes)} programmes, {len(content.offices)} offices, "
              f"{len(content.rules.rules)} rules, {len(content.flow.steps)} questions, "
              f"{report.scenarios} scenarios played")
    if failing:
        yield f"{summary} Content {content.bundle_id} needs fixing: {counts}."
    else:
        yield f"{summary} Content {content.bundle_id} is fine: {counts}."
    cover = report.coverage
    yield (f"{cover.reached} of {cover.total} citizens' answer combinations reach an office "
           "with a phone or web button.")
    yield from _gap_lines(cover.gaps)
    if cover.employers:
        yield (f"{cover.employers_reached} of {cover.employers} employers' answer "
               "combinations do; fill their offices' phone or url in offices.yaml when a "
               "source gives one.")
        yield from _gap_lines(cover.employer_gaps[:3])


def report_json(report: Report, strict: bool = False) -> str:
    """Return the report as JSON: every problem with its fields, the counts and coverage."""
    content = report.content
    return json.dumps({
        "bundle_id": content.bundle_id if content else None,
        "fine": not report.errors(strict),
        "errors": len(report.errors()),
        "warnings": len(report.warnings),
        "problems": [asdict(p) for p in report.problems],
        "scenarios": report.scenarios,
        "coverage": _coverage_json(report.coverage) if report.coverage else None,
    }, ensure_ascii=False, indent=2)


@click.command("check")
@click.option("--root", type=click.Path(file_okay=False),
              help="Check ROOT/content and ROOT/flows (default: the configured folders).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: every problem with its fields, for tools.")
def check_command(root: str | None, strict: bool, form: str) -> None:
    """Check the content and the questionnaire; exit 1 if anything needs fixing."""
    # Editors run this after every change: it needs no app, database or LINE settings.
    report = examine(bundle.read_folders(*_folders(root), complete=False))
    if form == "json":
        click.echo(report_json(report, strict))
    else:
        for line in report_text(report, strict):
            click.echo(line)
    if report.errors(strict):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(check_command)
