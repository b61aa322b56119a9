"""Coverage: how many of all answer combinations reach an office to call or open, and the gaps."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bot.content.schema import Content, Office, Rule
from bot.dialogue.matching import NEAREST, Match, holds, match_rules, offices_for
from bot.line.limits import MAX_BUBBLES

# ---- Coverage: every combination of answers -----------------------------------------------

def answer_values(content: Content) -> dict[str, list[str]]:
    """Return every value each question's answer can take (an area: the municipalities)."""
    return {s.id: list(content.municipalities) if s.kind == "area"
            else [o.value for o in s.options] for s in content.flow.steps}


def reachable(office: Office) -> bool:
    """Tell whether an office's card has a tap-to-call or a web button."""
    return bool(office.phone or office.url)


class Results(Sequence):
    """The distinct results, each with this content's programmes and offices (made on reading).

    The plan that found them is kept by the content's shape; their texts and facts are this
    content's, taken when a result is read (the checks read a few of the thousands).
    """

    def __init__(self, content: Content, planned: list[tuple]) -> None:
        self.content, self.planned = content, planned

    def __len__(self) -> int:
        return len(self.planned)

    def __getitem__(self, n):
        if isinstance(n, slice):
            return [self[i] for i in range(*n.indices(len(self)))]
        found, wordings, first, count = self.planned[n]
        return Given(_current(self.content, found), frozenset(wordings), count, first)

    def planned_match(self, n: int) -> Match:
        """Return a result's match as planned (its ids hold; its texts may be older)."""
        return self.planned[n][0]


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
    results: Sequence[Given] = field(default_factory=list)
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
    shape = _shape(content)
    if shape not in _PLANS:
        _remember(_PLANS, shape, _plan(content))
    planned, calls = _PLANS[shape]
    reach = {o.id: reachable(o) for o in content.offices.values()}
    flags = [(any(reach[o.id] for o in found.offices[:MAX_BUBBLES]), _for_citizens(found))
             for found, _, _, _ in planned]  # the cards LINE shows
    tally = _Tally()
    for fields, combos, area_id, place, n in calls:
        tally.add(fields, combos, area_id, place, planned[n][0], *flags[n])
    # The plan's results name programmes and offices: this content's, when one is read.
    results = Results(content, planned)
    cover = Coverage(
        total=tally.total, no_office=tally.no_office, unreachable=tally.unreachable,
        programmes=frozenset(p.id for found, *_ in planned for p in found.programmes),
        employers=tally.employers, employers_reached=tally.employers_reached,
        no_programme=tally.no_programme,
        rules=frozenset(rid for found, *_ in planned for rid in found.rules),
        results=results, gaps=gaps(content, tally.citizens_all, tally.citizens_missing),
        employer_gaps=gaps(content, tally.employers_all, tally.employers_missing))
    _remember(_COVERAGE, content.bundle_id, cover)
    return cover


# The matching of every combination by the content's shape (all it depends on: the flow, the
# rules, the municipalities, the programmes' ids and audiences, the offices' ids, kinds and
# areas), so that a save of an office's phone or a programme's wording redoes only the counts.
_PLANS: dict[str, tuple] = {}


def _shape(content: Content) -> str:
    parts = (content.rules.model_dump_json(), content.flow.model_dump_json(),
             json.dumps(content.municipalities, ensure_ascii=False),
             json.dumps(sorted((p.id, p.audience) for p in content.programmes.values())),
             json.dumps([(o.id, o.kind, o.areas) for o in content.offices.values()],
                        ensure_ascii=False))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _current(content: Content, found: Match) -> Match:
    return Match([content.programmes[p.id] for p in found.programmes],
                 [content.offices[o.id] for o in found.offices], found.rules, found.says)


def _plan(content: Content) -> tuple[list, list]:
    """Return every distinct result and, per group of combinations, which result it gets."""
    area = content.flow.area_step
    area_id = area.id if area else None
    rules = content.rules.rules
    values = answer_values(content)
    allowed = [_allowed(content, rule, values) for rule in rules]
    wording_from = content.flow.wording_from
    resolve = functools.cache(lambda ref, place: offices_for(content, ref, place))
    by_rule: dict[tuple[int, str], list[Office]] = {}

    def of_rule(rule: Rule, place: str) -> list[Office]:
        key = (id(rule), place)
        if key not in by_rule:
            by_rule[key] = [o for ref in rule.offices for o in resolve(ref, place)]
        return by_rule[key]

    fallback = content.rules.fallback
    resolved: dict[tuple[int, str], tuple] = {}

    def offices_at(rule: Rule, place: str) -> tuple:
        key = (id(rule), place)
        if key not in resolved:
            resolved[key] = tuple(o.id for o in of_rule(rule, place))
        return resolved[key]

    # `match` gives the same to everyone whom the same rules fit in the same municipality:
    # find the rules once per combination of the other answers, group the combinations the
    # same rules fit, and match each group once per set of rules and the offices they resolve
    # to there (however many municipalities share them), so that the tens of thousands of
    # combinations stay fast.
    index: dict[tuple, int] = {}  # (rules, their offices) -> its place in `given`
    given: list[list] = []  # [match, wordings, example, count]
    calls: list[tuple] = []  # (fields, combos, area id, place, the result's place in `given`)
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
                key = (chosen, tuple(offices_at(rules[i], place) for i in chosen),
                       offices_at(fallback, place))
                n = index.get(key)
                if n is None:
                    found = match_rules(content, [rules[i] for i in chosen], place, resolve,
                                        of_rule)
                    n = index[key] = len(given)
                    given.append([found, set(), (fields, combos[0], area_id, place), 0])
                given[n][1].add(wording)
                given[n][3] += len(combos)
                calls.append((fields, combos, area_id, place, n))
    return [tuple(g) for g in given], calls


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
