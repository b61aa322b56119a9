"""Apply the content rules to a person's answers: which 取組 and offices fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import clock
from bot.content.schema import AgeRange, Content, Office, Programme, Rule, Wanted

NEAREST = "nearest:"
YOUNGEST, OLDEST = 0, 200


@dataclass(frozen=True)
class Match:
    programmes: list[Programme]
    offices: list[Office]
    rules: list[str]
    says: tuple[str, ...] = ()  # message keys the matched rules add to the result


def age_range(content: Content, field: str, answers: dict[str, str]) -> tuple[int, int]:
    """Return the youngest and oldest age an age step's answer allows."""
    step = content.flow.step(field)
    if step is None:
        return YOUNGEST, OLDEST
    if years := answers.get(step.years_key):
        return int(years), int(years)
    band = step.option(answers.get(field, ""))
    if band is None:
        return YOUNGEST, OLDEST
    return (band.min if band.min is not None else YOUNGEST,
            band.max if band.max is not None else OLDEST)


def bounds(content: Content, wanted: AgeRange, year: int | None = None) -> tuple[int, int]:
    """Return the youngest and oldest age a rule's range takes (this year's, if it moves)."""
    generation = content.rules.generation
    if wanted.generation and generation is not None:
        youngest, oldest = generation.ages(year or clock.japan_date().year)
        return ((YOUNGEST, youngest - 1) if wanted.generation == "younger"
                else (oldest + 1, OLDEST))
    if wanted.generation:
        return YOUNGEST - 1, YOUNGEST - 1  # no generation defined: fits nobody (check says)
    return (wanted.min if wanted.min is not None else YOUNGEST,
            wanted.max if wanted.max is not None else OLDEST)


def _fits(content: Content, field: str, wanted: Wanted, answers: dict[str, str]) -> bool:
    if not isinstance(wanted, AgeRange):
        return answers.get(field) in wanted
    if field not in answers:
        return False  # not asked on this way through the flow (an employer has no age)
    low, high = bounds(content, wanted)
    youngest, oldest = age_range(content, field, answers)
    # Kind to the person: a band that only partly fits still gets the referral.
    return oldest >= low and youngest <= high


def holds(content: Content, rule: Rule, answers: dict[str, str]) -> bool:
    """Tell whether every answer the rule names matches."""
    return all(_fits(content, field, wanted, answers) for field, wanted in rule.when.items())


def offices_for(content: Content, ref: str, area: str) -> list[Office]:
    """Resolve an office id, or 'nearest:<kind>' for the person's municipality."""
    if not ref.startswith(NEAREST):
        return [content.offices[ref]]
    kind = ref.removeprefix(NEAREST)
    same_kind = [o for o in content.offices.values() if o.kind == kind]
    local = [o for o in same_kind if area in o.areas]
    return local or [o for o in same_kind if o.serves_everyone]


def _unique(items: list) -> list:
    return list({item.id: item for item in items}.values())


Resolve = Callable[[str, str], list[Office]]  # (office ref, municipality) -> offices
OfRule = Callable[[Rule, str], list[Office]]  # (rule, municipality) -> its offices there


def _resolve(content: Content, rules: list[Rule], area: str,
             resolve: Resolve, of_rule: OfRule | None = None) -> tuple[list, list]:
    if of_rule is not None:  # each rule's offices in this municipality, worked out once
        offices = [o for r in rules for o in of_rule(r, area)]
    else:
        offices = [o for r in rules for ref in r.offices for o in resolve(ref, area)]
    programmes = [content.programmes[p] for r in rules for p in r.programmes]
    return _unique(programmes), _unique(offices)


def area_of(content: Content, answers: dict[str, str]) -> str:
    """Return the municipality the person answered ("" if the flow asks none)."""
    step = content.flow.area_step
    return answers.get(step.id, "") if step else ""


def match(content: Content, answers: dict[str, str]) -> Match:
    """Return the programmes and offices the rules give for these answers."""
    chosen = [r for r in content.rules.rules if holds(content, r, answers)]
    return match_rules(content, chosen, area_of(content, answers))


def match_rules(content: Content, chosen: list[Rule], area: str,
                resolve: Resolve | None = None, of_rule: OfRule | None = None) -> Match:
    """Return what these rules, found to fit, give a person in this municipality."""
    resolve = resolve or (lambda ref, place: offices_for(content, ref, place))
    chosen = list(chosen)
    programmes, offices = _resolve(content, chosen, area, resolve, of_rule)
    if not programmes or not offices:
        # Everyone gets at least one programme and one place to go.
        chosen.append(content.rules.fallback)
        extra_programmes, extra_offices = _resolve(content, [content.rules.fallback], area,
                                                   resolve, of_rule)
        programmes = programmes or extra_programmes
        offices = offices or extra_offices
    says = tuple(dict.fromkeys(r.say for r in chosen if r.say))
    return Match(programmes, offices, [r.id for r in chosen], says)
