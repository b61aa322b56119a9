"""Layer 2: what the content means, one small rule per check (ids, answers, paths, texts)."""

from __future__ import annotations

import string
from collections.abc import Iterator

from bot.content.bundle import AREAS, FLOW_FILE, MESSAGES, OFFICES, PROGRAMMES, RULES
from bot.content.flow import DONE
from bot.content.schema import AgeRange, Content
from bot.dialogue.matching import NEAREST
from bot.referrals.exports import looks_like_formula
from bot.studio.checks.coverage import answer_values, describe
from bot.studio.checks.framework import (
    MESSAGE_FIELDS,
    MESSAGE_KEYS,
    SAID,
    Context,
    Problem,
    _did_you_mean,
    _rules,
    check,
    error,
    warning,
)

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
def generation_is_defined_where_used(c: Context) -> Iterator[Problem]:
    if c.content.rules.generation is not None:
        return
    for rule in c.content.rules.rules:
        for name, wanted in rule.when.items():
            if isinstance(wanted, AgeRange) and wanted.generation:
                yield error(RULES, c.rule(rule, "when", name),
                            f"asks for people {wanted.generation} than the generation, but "
                            "rules.yaml defines no generation",
                            "add 'generation: {left_school: [1993, 2004]}' with its source")


@check
def generation_notes_fit_this_year(c: Context) -> Iterator[Problem]:
    generation = c.content.rules.generation
    if generation is None:
        return
    youngest, oldest = generation.ages(c.today.year)
    expected = {"note_younger": ("max", youngest - 1), "note_older": ("min", oldest + 1)}
    for rule in c.content.rules.rules:
        if rule.say not in expected:
            continue
        end, age = expected[rule.say]
        for name, wanted in rule.when.items():
            if isinstance(wanted, AgeRange) and not wanted.generation:
                given = getattr(wanted, end)
                if given != age:
                    yield warning(RULES, c.rule(rule, "when", name),
                                  f"says {rule.say!r} from a fixed age ({end} {given}), but this "
                                  f"year the generation is {youngest}–{oldest}",
                                  "use {generation: younger} or {generation: older}, which "
                                  "follow the years")


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
