"""Running the checks: every layer on a bundle's files (`examine`), and the bot's start-up gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

from bot.content import bundle
from bot.content.bundle import RULES
from bot.content.files import ContentError, Document
from bot.content.schema import Content
from bot.studio.checks.coverage import _remember, coverage
from bot.studio.checks.framework import (
    CHECKS,
    ERROR,
    WARNING,
    Context,
    Problem,
    Report,
    _rules,
    warning,
)

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
    layer1 = [*issues, *found, *script_issues]
    if layer1 or content is None:
        return Report(sorted(layer1, key=_order), None)
    found_problems = problems_of(content, docs, today)
    played = scenarios.play_all(content, script, doc)
    found_problems += played.issues
    found_problems += _untested_rules(Context(content, docs, today), script, played.rules)
    return Report(sorted(found_problems, key=_order), content, coverage(content),
                  len(script))


def _untested_rules(c: Context, script: list, tested: set[str]) -> Iterator[Problem]:
    if not script:
        yield Problem(bundle.SCENARIOS_FILE, None, "",
                      "there are no scenarios: nothing plays people through the bot",
                      "add content/scenarios.yaml with people, their taps and what they get",
                      WARNING)
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
