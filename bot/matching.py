"""Apply the content rules to a person's answers: which 取組 and offices fit."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content import Condition, Content, Office, Programme, Rule

NEAREST = "nearest:"


@dataclass(frozen=True)
class Match:
    programmes: list[Programme]
    offices: list[Office]
    rules: list[str]


def age_range(content: Content, answers: dict[str, str]) -> tuple[int, int]:
    """Return the youngest and oldest age the answers allow."""
    if years := answers.get("age_years"):
        return int(years), int(years)
    step = content.flow.step("age")
    band = step.option(answers.get("age", "")) if step else None
    if band is None:
        return 0, 200
    return (band.min if band.min is not None else 0), (band.max if band.max is not None else 200)


def holds(condition: Condition, answers: dict[str, str], ages: tuple[int, int]) -> bool:
    """Tell whether every field the condition names matches the answers."""
    for field in ("subject", "employment", "single_parent", "hikikomori", "area"):
        wanted = getattr(condition, field)
        if wanted is not None and answers.get(field) not in wanted:
            return False
    if condition.age is not None:
        low = condition.age.min if condition.age.min is not None else 0
        high = condition.age.max if condition.age.max is not None else 200
        # Kind to the person: a band that only partly fits still gets the referral.
        if ages[1] < low or ages[0] > high:
            return False
    return True


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


def _resolve(content: Content, rules: list[Rule], area: str) -> tuple[list, list]:
    programmes = [content.programmes[p] for r in rules for p in r.programmes]
    offices = [o for r in rules for ref in r.offices for o in offices_for(content, ref, area)]
    return _unique(programmes), _unique(offices)


def match(content: Content, answers: dict[str, str]) -> Match:
    """Return the programmes and offices the rules give for these answers."""
    ages = age_range(content, answers)
    area = answers.get("area", "")
    chosen = [r for r in content.rules.rules if holds(r.when, answers, ages)]
    programmes, offices = _resolve(content, chosen, area)
    if not programmes or not offices:
        # Everyone gets at least one programme and one place to go.
        chosen.append(content.rules.fallback)
        extra_programmes, extra_offices = _resolve(content, [content.rules.fallback], area)
        programmes = programmes or extra_programmes
        offices = offices or extra_offices
    return Match(programmes, offices, [r.id for r in chosen])
