"""Warnings (errors with --strict): facts without sources or checked long ago, long bubbles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from bot.content.bundle import OFFICES, PROGRAMMES, RULES, SAFETY
from bot.line.limits import MAX_TEXT
from bot.line.messages import units
from bot.studio.checks.framework import (
    READABLE,
    Context,
    Problem,
    check,
    warning,
)
from bot.studio.checks.line_limits import texts

# ---- Warnings (errors with --strict) ------------------------------------------------------

@check
def offices_can_be_contacted(c: Context) -> Iterator[Problem]:
    for office in c.content.offices.values():
        if not (office.phone or office.url):
            yield warning(OFFICES, c.office(office),
                          "has no phone and no web address: its card shows no button",
                          "fill phone or url from docs/sources/ when a source gives one")


@check
def contact_facts_have_fresh_sources(c: Context) -> Iterator[Problem]:
    stale = c.today - dt.timedelta(days=c.stale_days)
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
                          f"{c.stale_days} days ago", "check its phone, address and "
                          f"web address against the sources again and set 'checked: "
                          f"{c.today.isoformat()}'")
    for programme in c.content.programmes.values():
        if programme.checked is not None and programme.checked < stale:
            yield warning(PROGRAMMES, c.programme(programme, "checked"),
                          f"was last checked {programme.checked.isoformat()}, over "
                          f"{c.stale_days} days ago", "check it against its source "
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
