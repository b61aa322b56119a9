"""The account beyond the questionnaire: events, the office finder, talking to a person, and
the question after a referral (was it useful?)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from bot.content import bundle
from bot.line.limits import MAX_BUBBLES, MAX_LABEL
from bot.studio.checks.framework import (
    Context,
    Problem,
    _did_you_mean,
    _format,
    check,
    error,
    warning,
)

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


# An answer is counted by its value (funnel_counts.event holds 16 characters); lower case, so
# it reads the same in `tsunagu stats --json` and never needs quoting.
FEEDBACK_VALUE = re.compile(r"[a-z][a-z0-9_]{0,15}")
# A quick question: a few answers, beside the referral's own buttons in one quick reply.
MAX_FEEDBACK_ANSWERS = 5


def _feedback(c: Context, *path) -> tuple[str, int | None]:
    return "feedback", c.line(bundle.FEEDBACK, *path)


@check
def feedback_question_fits_line(c: Context) -> Iterator[Problem]:
    feedback = c.content.feedback
    if feedback.ask and not feedback.question.strip():
        yield error(bundle.FEEDBACK, _feedback(c, "question"), "asks (ask: true) but has no "
                    "question", "write the question, or set 'ask: false'")
    if feedback.ask and not feedback.answers:
        yield error(bundle.FEEDBACK, _feedback(c, "answers"), "asks (ask: true) but has no "
                    "answers", "give it two or three answers, or set 'ask: false'")
    if len(feedback.answers) > MAX_FEEDBACK_ANSWERS:
        yield error(bundle.FEEDBACK, _feedback(c, "answers"),
                    f"has {len(feedback.answers)} answers; a quick question under the referral "
                    f"takes at most {MAX_FEEDBACK_ANSWERS}", "join some answers")
    for i, answer in enumerate(feedback.answers):
        where = (f"feedback answer {answer.value!r}", c.line(bundle.FEEDBACK, "answers", i))
        if not FEEDBACK_VALUE.fullmatch(answer.value):
            yield error(bundle.FEEDBACK, where,
                        f"its value {answer.value!r} is not a name it can be counted by",
                        "use lower case letters, digits and _, at most 16 characters, "
                        "beginning with a letter (e.g. not_useful)")
        label = (where[0], c.line(bundle.FEEDBACK, "answers", i, "label"))
        if not answer.label.strip():
            yield error(bundle.FEEDBACK, label, "has no label: its button would be empty",
                        "write the button's words")
        elif len(answer.label) > MAX_LABEL:
            yield error(bundle.FEEDBACK, label,
                        f"the button label {answer.label!r} is {len(answer.label)} characters; "
                        f"LINE shows at most {MAX_LABEL}", f"shorten it to {MAX_LABEL} characters")


def account_texts(c: Context) -> Iterator[tuple[str, tuple[str, int | None], str]]:
    """Yield the account files' texts the bot sends as they are (or filled in)."""
    longest_place = max(c.content.municipalities, key=len, default="")
    for file, model in ((bundle.FINDER, c.content.finder), (bundle.EVENTS, c.content.events),
                        (bundle.HANDOFF, c.content.handoff),
                        (bundle.FEEDBACK, c.content.feedback)):
        for key, value in model:
            if isinstance(value, str) and value:
                text = _format(value, place=longest_place, name=c.content.handoff.contact.name)
                yield file, (f"{file.removeprefix('content/').removesuffix('.yaml')} {key!r}",
                             c.line(file, key)), text
