"""The checks' framework: one Problem type, the Context a rule looks at, and the registry."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from flask import current_app, has_app_context

from bot import settings
from bot.clock import japan_date
from bot.content.bundle import AREAS, FLOW_FILE, MESSAGES, OFFICES, PROGRAMMES, RULES
from bot.content.files import ERROR, WARNING, Document, Problem
from bot.content.flow import Step
from bot.content.schema import Content, Office, Programme, Rule
from bot.studio.checks.coverage import Coverage, coverage

READABLE = 400  # characters of one bubble a person reads comfortably on a phone (not LINE's)
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
MESSAGE_FIELDS = {"area_pick": {"region"}, "crisis_call": {"phone"}, "area_which": {"place"},
                  "share_text": {"url"},
                  "note_younger": {"youngest", "oldest"}, "note_older": {"youngest", "oldest"},
                  "age_from_birth_year": {"year", "age", "band"},
                  "age_birthday_moves": {"year", "age", "band", "before", "before_band"}}
# How the longest value of each field reads, to measure a message as people get it
# (TSUNAGU_KEEP_REFERRAL_YEARS is at most 30; an age band's label at most 20 characters).
LONGEST_VALUE = {"keep_years": "30", "place": "にしせんぼくまち", "year": "2011", "age": "99",
                 "before": "98", "youngest": "99", "oldest": "99",
                 "band": "12345678901234567890", "before_band": "12345678901234567890"}


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
                 today: dt.date | None = None, stale_days: int | None = None) -> None:
        self.content = content
        self.docs = docs or {}
        self.today = today or japan_date()
        # Facts checked longer ago than this are worth checking again (a warning).
        self.stale_days = stale_days or stale_after_days()

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


def stale_after_days() -> int:
    """Return TSUNAGU_FACTS_STALE_DAYS (the app's, or the environment's: check needs no app)."""
    if has_app_context() and "FACTS_STALE_DAYS" in current_app.config:
        return int(current_app.config["FACTS_STALE_DAYS"])
    return settings.read().TSUNAGU_FACTS_STALE_DAYS


Check = Callable[[Context], Iterator[Problem]]
CHECKS: list[Check] = []  # in the order they run: meaning (layer 2), LINE's limits, warnings


def check(func: Check) -> Check:
    """Register a check; it yields Problems."""
    CHECKS.append(func)
    return func


def error(file: str, where: tuple[str, int | None], message: str, fix: str) -> Problem:
    return Problem(file, where[1], where[0], message, fix, ERROR)


def warning(file: str, where: tuple[str, int | None], message: str, fix: str) -> Problem:
    return Problem(file, where[1], where[0], message, fix, WARNING)


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _rules(content: Content) -> list[Rule]:
    return [*content.rules.rules, content.rules.fallback]


def _format(text: str, **values: str) -> str:
    try:
        return text.format(**{**LONGEST_VALUE, **values})
    except (KeyError, ValueError, IndexError):
        return text  # said by messages_use_known_names

