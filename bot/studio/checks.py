"""Semantic checks of the content: one small rule per check, each naming the fix."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import click
from flask import Flask, current_app, has_app_context

from bot import settings
from bot.content import bundle
from bot.content.files import ContentError
from bot.content.flow import DONE
from bot.content.schema import AgeRange, Content, Office
from bot.dialogue.matching import NEAREST, holds, match_rules, offices_for
from bot.line.limits import MAX_BUBBLES, MAX_LABEL, MAX_QUICK_REPLIES

CONTROLS = 2  # 戻る and 最初から
MESSAGE_KEYS = (
    "greeting", "privacy", "not_understood", "age_not_understood", "area_not_understood",
    "area_pick", "not_text", "stale_button", "ended_button", "result_intro",
    "result_offices", "office_contact_unknown", "office_call",
    "office_web", "result_closing", "start_button", "back_button", "crisis", "crisis_after",
)

Check = Callable[[Content], Iterator[str]]
CHECKS: list[Check] = []


def check(func: Check) -> Check:
    CHECKS.append(func)
    return func


@check
def rules_name_what_exists(content: Content) -> Iterator[str]:
    kinds = {o.kind for o in content.offices.values()}
    for rule in [*content.rules.rules, content.rules.fallback]:
        for code in rule.programmes:
            if code not in content.programmes:
                yield (f"rules.yaml: rule {rule.id!r} names programme {code!r}, which is not in "
                       "programmes.yaml; fix the id or add the programme")
        for ref in rule.offices:
            known = ref.removeprefix(NEAREST) in kinds if ref.startswith(NEAREST) else (
                ref in content.offices)
            if not known:
                yield (f"rules.yaml: rule {rule.id!r} names office {ref!r}, which matches no "
                       "office in offices.yaml; fix the id or kind")


def _answer_values(content: Content) -> dict[str, set[str]]:
    """Return every value each step's answer can take."""
    area = content.flow.area_step
    return {s.id: set(content.municipalities) if area and s.id == area.id
            else {o.value for o in s.options} for s in content.flow.steps}


@check
def rule_messages_exist(content: Content) -> Iterator[str]:
    for rule in [*content.rules.rules, content.rules.fallback]:
        if rule.say and not str(content.messages.get(rule.say, "")).strip():
            yield (f"rules.yaml: rule {rule.id!r} says {rule.say!r}, which is not in "
                   "messages.yaml; add the message or fix the key")


@check
def rules_use_real_answers(content: Content) -> Iterator[str]:
    values = _answer_values(content)
    for rule in content.rules.rules:
        for field, wanted in rule.when.items():
            step = content.flow.step(field)
            if step is None:
                yield (f"rules.yaml: rule {rule.id!r} asks for the answer {field!r}, but no "
                       f"question has that id; use one of {sorted(values)}")
            elif isinstance(wanted, AgeRange):
                if step.kind != "age":
                    yield (f"rules.yaml: rule {rule.id!r} gives {field!r} a range of years, but "
                           f"that question is not an age question; list its values instead")
            else:
                for value in wanted:
                    if value not in values[field]:
                        yield (f"rules.yaml: rule {rule.id!r} expects {field} = {value!r}, which "
                               f"no answer gives; use one of {sorted(values[field])}")


@check
def wording_step_exists(content: Content) -> Iterator[str]:
    flow = content.flow
    if flow.wording_from and flow.step(flow.wording_from) is None:
        yield (f"flows/questionnaire.yaml: wording_from names {flow.wording_from!r}, which is "
               "not a step; use a step id or remove it")


@check
def office_areas_are_municipalities(content: Content) -> Iterator[str]:
    known = set(content.municipalities)
    for office in content.offices.values():
        for area in office.areas:
            if area != "*" and area not in known:
                yield (f"offices.yaml: office {office.id!r} serves {area!r}, which is not a "
                       "municipality in areas.yaml; fix the name or use \"*\"")


@check
def buttons_fit_line(content: Content) -> Iterator[str]:
    for step in content.flow.steps:
        if len(step.options) + CONTROLS > MAX_QUICK_REPLIES:
            yield (f"flows/questionnaire.yaml: step {step.id!r} has {len(step.options)} options; "
                   f"LINE shows at most {MAX_QUICK_REPLIES - CONTROLS} besides 戻る and 最初から")
        for option in step.options:
            if len(option.label) > MAX_LABEL:
                yield (f"flows/questionnaire.yaml: step {step.id!r}: label {option.label!r} is "
                       f"longer than {MAX_LABEL} characters; shorten it")
    for region in content.regions:
        if len(region.municipalities) + CONTROLS > MAX_QUICK_REPLIES:
            yield (f"areas.yaml: region {region.name!r} has too many municipalities for one "
                   "set of buttons; split the region")


@check
def flow_links_lead_to_the_end(content: Content) -> Iterator[str]:
    flow = content.flow
    ids = [s.id for s in flow.steps]
    if flow.start not in ids:
        yield f"flows/questionnaire.yaml: start {flow.start!r} is not a step"
        return
    broken = False
    for step in flow.steps:
        for dest in step.leads_to:
            if dest != DONE and dest not in ids:
                broken = True
                yield (f"flows/questionnaire.yaml: step {step.id!r} goes next to {dest!r}, "
                       f"which is not a step; use a step id or {DONE!r}")
    if broken:
        return
    reached, todo, loops = {flow.start}, [flow.start], False
    while todo:
        step = flow.step(todo.pop())
        for dest in step.leads_to:
            if dest != DONE and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    # A step from which no answer ever leads to the end loops (every path through it returns).
    ends = {s.id for s in flow.steps if DONE in s.leads_to}
    changed = True
    while changed:
        changed = False
        for step in flow.steps:
            if step.id not in ends and any(d in ends for d in step.leads_to):
                ends.add(step.id)
                changed = True
    for step_id in ids:
        if step_id in reached and step_id not in ends:
            loops = True
    if loops:
        yield "flows/questionnaire.yaml: the steps loop and never reach 'done'; fix a 'next'"
    for step_id in ids:
        if step_id not in reached:
            yield (f"flows/questionnaire.yaml: step {step_id!r} is never asked; link it with "
                   "'next'")


@check
def privacy_note_names_every_kept_answer(content: Content) -> Iterator[str]:
    note = str(content.messages.get("privacy", ""))
    for step in content.flow.steps:
        if not step.counted_as:
            yield (f"flows/questionnaire.yaml: step {step.id!r} has no counted_as; say how the "
                   "privacy note names this answer (every answer is kept in the counts)")
        elif step.counted_as not in note:
            yield (f"messages.yaml: the privacy note does not name {step.counted_as!r} (step "
                   f"{step.id!r}), which the counts keep; add it to the note")


@check
def messages_are_all_there(content: Content) -> Iterator[str]:
    for key in MESSAGE_KEYS:
        if not str(content.messages.get(key, "")).strip():
            yield f"messages.yaml: message {key!r} is missing; add it"


def reachable(office: Office) -> bool:
    """Tell whether an office's card has a tap-to-call or a web button."""
    return bool(office.phone or office.url)


@dataclass(frozen=True)
class Coverage:
    """What every combination of answers is given (each question's options × municipalities)."""

    total: int
    no_office: list[dict[str, str]]  # answers given no office at all
    unreachable: list[dict[str, str]]  # answers given no office with a phone or url
    programmes: frozenset[str]  # every programme some combination is referred to
    employers: int = 0  # combinations for employers (no citizens' programme)
    employers_reached: int = 0  # of those, reaching an office with a phone or url

    @property
    def reached(self) -> int:
        return self.total - len(self.unreachable)


# By bundle id (a checksum of its files), so one `tsunagu check` plays the answers once.
_COVERAGE: dict[str, Coverage] = {}


def coverage(content: Content) -> Coverage:
    """Play every combination of answers on every way through the flow, as `match` does."""
    if content.bundle_id in _COVERAGE:
        return _COVERAGE[content.bundle_id]
    area = content.flow.area_step
    # `match` gives the same to everyone whom the same rules fit in the same municipality:
    # find the rules once per combination of the other answers, and resolve each group's
    # offices once per municipality, so that the tens of thousands of combinations stay fast.
    by_area = [r for r in content.rules.rules if area and area.id in r.when]
    others = [r for r in content.rules.rules if r not in by_area]
    resolve = functools.cache(lambda ref, place: offices_for(content, ref, place))
    # key -> (an office, one with a button, a referral for citizens)
    given: dict[tuple, tuple[bool, bool, bool]] = {}
    total, no_office, unreachable, programmes = 0, [], [], set()
    employers = employers_reached = 0
    for branch in content.flow.branches():
        fields = [step.id for step, _ in branch if not (area and step.id == area.id)]
        values = {step.id: sorted(v) for step, v in branch if v is not None}
        places = sorted(content.municipalities) if any(
            area and step.id == area.id for step, _ in branch) else [""]
        for combo in itertools.product(*(values[f] for f in fields)):
            rest = dict(zip(fields, combo, strict=True))
            fit = [r for r in others if holds(content, r, rest)]
            fit_ids = tuple(r.id for r in fit)
            for place in places:
                answers = {**rest, area.id: place} if area and place else rest
                local = [r for r in by_area if holds(content, r, answers)]
                key = (place, fit_ids, *(r.id for r in local))
                if (seen := given.get(key)) is None:
                    found = match_rules(content, fit + local, place, resolve)
                    shown = found.offices[:MAX_BUBBLES]  # the cards LINE shows
                    citizens = any(p.audience == "citizens" for p in found.programmes)
                    given[key] = seen = (bool(shown), any(reachable(o) for o in shown), citizens)
                    programmes.update(p.id for p in found.programmes)
                if not seen[2]:  # employers: shown apart, their 担当 may lack sourced contacts
                    employers += 1
                    employers_reached += seen[1]
                    continue
                total += 1
                if not seen[1]:
                    unreachable.append(answers)
                    if not seen[0]:
                        no_office.append(answers)
    _COVERAGE[content.bundle_id] = Coverage(total, no_office, unreachable,
                                            frozenset(programmes), employers,
                                            employers_reached)
    return _COVERAGE[content.bundle_id]


@check
def everyone_gets_a_place_to_go(content: Content) -> Iterator[str]:
    if found := coverage(content).no_office:
        yield (f"rules.yaml: nobody with answers {found[0]} gets an office; give the "
               "fallback rule an office that serves everyone (areas: [\"*\"])")


@check
def every_programme_for_people_has_a_path(content: Content) -> Iterator[str]:
    reached = coverage(content).programmes
    for programme in content.programmes.values():
        if programme.audience in ("citizens", "employers") and programme.id not in reached:
            yield (f"rules.yaml: programme {programme.id!r} ({programme.item} {programme.title}) "
                   f"is for {programme.audience} but no answers lead to it; add it to a rule "
                   "whose answers fit the people it is for")


@check
def everyone_can_call_or_open_a_place(content: Content) -> Iterator[str]:
    cover = coverage(content)
    if cover.unreachable and not cover.no_office:
        examples = "; ".join(str(answers) for answers in cover.unreachable[:3])
        yield (f"rules.yaml: {len(cover.unreachable)} of {cover.total} citizens' answer "
               f"combinations get no office with a phone or web button, e.g. {examples}; add to "
               "a rule that fits them an office with a phone or url (such as "
               "\"nearest:jiritsu-soudan\", the municipality's window), or fill the office's "
               "phone or url in offices.yaml from docs/sources/")


def problems(content: Content) -> list[str]:
    """Run every check; return the problems found, each naming what to fix."""
    return [problem for rule in CHECKS for problem in rule(content)]


# Verdicts by bundle id: a bundle id is a checksum of its files, so its verdict never changes.
_CHECKED: dict[str, list[str]] = {}


def require_fine(content: Content) -> None:
    """Raise ContentError listing every problem, so bad content never starts the bot."""
    if content.bundle_id not in _CHECKED:
        _CHECKED[content.bundle_id] = problems(content)
    if found := _CHECKED[content.bundle_id]:
        raise ContentError("the content needs fixing:\n" + "\n".join(found))


@click.command("check")
def check_command() -> None:
    """Check the content and the questionnaire; exit 1 if anything needs fixing."""
    # Editors run this after every change: it needs no app, database or LINE settings.
    config = current_app.config if has_app_context() else settings.content_folders()
    content = bundle.load(config["CONTENT_DIR"], config["FLOWS_DIR"])
    found = problems(content)
    for problem in found:
        click.echo(problem, err=True)
    if found:
        raise SystemExit(1)
    click.echo(f"Content {content.bundle_id} is fine: {len(content.programmes)} programmes, "
               f"{len(content.offices)} offices, {len(content.rules.rules)} rules, "
               f"{len(content.flow.steps)} questions.")
    cover = coverage(content)
    click.echo(f"{cover.reached} of {cover.total} citizens' answer combinations reach an office "
               "with a phone or web button.")
    if cover.employers:
        click.echo(f"{cover.employers_reached} of {cover.employers} employers' answer "
                   "combinations do; fill their offices' phone or url in offices.yaml when a "
                   "source gives one.")


def init_app(app: Flask) -> None:
    app.cli.add_command(check_command)
