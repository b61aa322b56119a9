"""The scenarios' results in the browser: every scenario of the draft played against the draft.

Each person of content/scenarios.yaml is played by the player `tsunagu check` uses
(`bot.studio.scenarios.play`, nothing matched again here): the page shows their answers,
合格 or 不合格, and for a failure what they must and must not get beside what the result gave
them. Playing the shipped scenarios takes some 20-40 ms, so nothing is cached beyond the
check's report (`drafting.draft_report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template

from bot.console.auth import requires
from bot.console.drafting import draft_report, summary
from bot.console.web import blueprint
from bot.content import bundle
from bot.content.files import ContentError
from bot.content.schema import Content
from bot.dialogue.engine import Dialogue
from bot.dialogue.turns import Result
from bot.line.limits import MAX_BUBBLES
from bot.line.render import Renderer
from bot.studio import scenarios

KINDS = (("programmes", "取組"), ("offices", "相談先"), ("says", "メッセージ"))
PARTS = {"must_get": "出るはずの", "must_not_get": "出てはいけない"}
FIRST_ERRORS = 5  # the check's errors shown when the draft cannot be played


@dataclass
class Played:
    """One scenario played: where it is, what differs (empty: 合格) and what the result gave."""

    scenario: scenarios.Scenario
    line: int | None
    differences: list[tuple[str, str, str]] = field(default_factory=list)  # where, what, fix
    got: dict[str, list[str]] | None = None  # the result's ids by kind; None: no result
    rules: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


class _Watched:
    """The bot's dialogue, keeping the last result it gave: what the referral contains."""

    def __init__(self, dialogue: Dialogue) -> None:
        self._dialogue, self.result = dialogue, None

    def respond(self, conv, inp, since=None):
        outcome = self._dialogue.respond(conv, inp, since)
        self.result = next((s for s in outcome.says if isinstance(s, Result)), self.result)
        return outcome


def _where(scenario: scenarios.Scenario, path: tuple) -> str:
    """Say in Japanese which part of a scenario a difference is about (its path in the file)."""
    if len(path) == 3 and path[0] in PARTS:
        part, kind, index = path
        label = dict(KINDS)[kind]
        return f"{PARTS[part]}{label}「{getattr(getattr(scenario, part), kind)[index]}」"
    if len(path) == 2:
        return f"{path[1] + 1} 番目の答え"
    if path == ("inputs",):
        return "答え（結果の前で終わります）"
    return "ボットの動き"


def play(content: Content, doc, script: list[scenarios.Scenario]) -> list[Played]:
    """Play every scenario as `tsunagu check` does; return each one's outcome."""
    dialogue, renderer = Dialogue(content), Renderer(content)
    found = []
    for index, scenario in enumerate(script):
        watched = _Watched(dialogue)
        played = Played(scenario, doc.line("scenarios", index) if doc is not None else None)
        try:
            for message, fix, path in scenarios.play(content, scenario, watched, renderer,
                                                     set()):
                played.differences.append((_where(scenario, path), message, fix))
        except Exception as err:  # noqa: BLE001 (as the check: a failure of the bot is found)
            played.differences.append(("ボットの動き", f"the bot fails while playing it "
                                       f"({type(err).__name__}: {err})",
                                       "fix the other errors first"))
        if watched.result is not None:
            match = watched.result.match
            played.got = {"programmes": [p.id for p in match.programmes],
                          # The cards LINE shows, as the player compares them.
                          "offices": [o.id for o in match.offices[:MAX_BUBBLES]],
                          "says": list(match.says)}
            played.rules = list(match.rules)
        found.append(played)
    return found


def _names(content: Content) -> dict[str, dict[str, str]]:
    """Return each kind's names by id, shown beside the ids."""
    return {"programmes": {p.id: p.plain_name or p.name for p in content.programmes.values()},
            "offices": {o.id: o.name for o in content.offices.values()},
            "says": {}}


@blueprint.get("/draft/scenarios")
@requires("editor")
def show_scenarios():
    """Play every scenario of the draft against the draft; show each one's result."""
    try:
        files, report = draft_report()
    except ContentError as err:
        return render_template("console/draft_scenarios.html", summary=None, results=None,
                               errors=[str(err)], cannot=None, item_kinds=KINDS)
    page = {"summary": summary(report), "item_kinds": KINDS, "errors": [], "cannot": None,
            "results": None}
    if report.content is None:
        page["errors"] = [p.text(severity=False) for p in report.errors()[:FIRST_ERRORS]]
        return render_template("console/draft_scenarios.html", **page)
    docs, _ = bundle.documents(files, (bundle.SCENARIOS_FILE,))
    doc = docs.get(bundle.SCENARIOS_FILE)
    script, _ = scenarios.read(doc)  # it reads: the report's content would be None otherwise
    try:
        results = play(report.content, doc, script)
    except Exception as err:  # noqa: BLE001 (the bot cannot run this draft: the check says why)
        page["cannot"] = f"{type(err).__name__}: {err}"
        page["errors"] = [p.text(severity=False) for p in report.errors()[:FIRST_ERRORS]]
        return render_template("console/draft_scenarios.html", **page)
    page.update(results=results, names=_names(report.content),
                failed=sum(not r.passed for r in results))
    return render_template("console/draft_scenarios.html", **page)
