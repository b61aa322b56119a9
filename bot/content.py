"""Programmes, offices, areas, rules and messages: the plan as data."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.datafile import ContentError, parse, read_yaml
from bot.flow import Flow, load_flow

Audience = Literal["citizens", "employers", "awareness"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Programme(Strict):
    """One 取組 of the plan's 工程表."""

    id: str
    item: str  # the plan's item number, e.g. "2(1)ア"
    name: str  # the plan's own name of the 取組
    plain_name: str = ""  # short citizen-facing name; falls back to name
    summary: str  # the plan's 取組の概要, verbatim
    one_line: str = ""  # one plain sentence for citizens
    kpi: str = ""
    owner: str = ""  # 担当
    owner_detail: str = ""  # 担当（詳細）
    audience: Audience
    new: bool = False  # marked 【新規】 in the plan
    repost_of: str = ""  # id of the programme this (再掲) row repeats

    @property
    def title(self) -> str:
        return self.plain_name or self.name


class Office(Strict):
    """A place a person can contact; unknown contact fields stay empty."""

    id: str
    name: str
    kind: str  # used by rules as "nearest:<kind>"
    does: str = ""  # what they do, in plain words
    areas: list[str] = Field(default_factory=list)  # municipalities served; ["*"] = prefecture
    address: str = ""
    phone: str = ""
    hours: str = ""
    url: str = ""
    sources: list[str] = Field(default_factory=list)
    verify: bool = False  # from a secondary source: editors should confirm it
    checked: datetime.date | None = None  # when its facts were last checked against the sources

    @property
    def serves_everyone(self) -> bool:
        return "*" in self.areas


class Region(Strict):
    name: str
    municipalities: list[str]


class AgeRange(Strict):
    min: int | None = None
    max: int | None = None


class Condition(Strict):
    """Answers a rule needs; every named field must match (lists mean any of)."""

    subject: list[str] | None = None
    employment: list[str] | None = None
    single_parent: list[str] | None = None
    hikikomori: list[str] | None = None
    area: list[str] | None = None
    age: AgeRange | None = None


class Rule(Strict):
    id: str
    note: str = ""  # why the rule exists, with the plan's item
    when: Condition = Field(default_factory=Condition)
    programmes: list[str] = Field(default_factory=list)
    offices: list[str] = Field(default_factory=list)  # office id or "nearest:<kind>"


class Rules(Strict):
    rules: list[Rule]
    fallback: Rule  # used when no rule matched: everyone gets a place to go


class CrisisLine(Strict):
    name: str
    phone: str
    note: str = ""


class Safety(Strict):
    crisis_words: list[str]
    crisis_lines: list[CrisisLine]


class Content(Strict):
    """Everything the bot says and decides, loaded from content/ and flows/."""

    programmes: dict[str, Programme]
    offices: dict[str, Office]
    regions: list[Region]
    rules: Rules
    messages: dict[str, str]
    safety: Safety
    flow: Flow
    version: str

    @property
    def municipalities(self) -> list[str]:
        return [m for region in self.regions for m in region.municipalities]

    def message(self, key: str, **values: str) -> str:
        return self.messages[key].format(**values) if values else self.messages[key]


def _by_id(items: list, path: Path) -> dict:
    found: dict = {}
    for item in items:
        if item.id in found:
            raise ContentError(f"{path}: id {item.id!r} is used twice; give each entry its own id")
        found[item.id] = item
    return found


def _version(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class _ProgrammeFile(Strict):
    programmes: list[Programme]


class _OfficeFile(Strict):
    offices: list[Office]


class _AreaFile(Strict):
    regions: list[Region]


def load_content(content_dir: str | Path, flows_dir: str | Path) -> Content:
    """Load and validate the content and flow files."""
    content_dir, flows_dir = Path(content_dir), Path(flows_dir)
    files = {n: content_dir / f"{n}.yaml" for n in
             ("programmes", "offices", "areas", "rules", "messages", "safety")}
    flow_path = flows_dir / "questionnaire.yaml"
    raw = {name: read_yaml(path) for name, path in files.items()}
    programmes = parse(_ProgrammeFile, raw["programmes"], files["programmes"]).programmes
    offices = parse(_OfficeFile, raw["offices"], files["offices"]).offices
    content = {
        "programmes": _by_id(programmes, files["programmes"]),
        "offices": _by_id(offices, files["offices"]),
        "regions": parse(_AreaFile, raw["areas"], files["areas"]).regions,
        "rules": parse(Rules, raw["rules"], files["rules"]),
        "messages": raw["messages"],
        "safety": parse(Safety, raw["safety"], files["safety"]),
        "flow": load_flow(flow_path),
        "version": _version([*files.values(), flow_path]),
    }
    return parse(Content, content, content_dir)


# Checked content versions: a version is a hash of the files, so its verdict never changes.
_CHECKED: dict[str, list[str]] = {}


def init_app(app) -> None:
    """Load and check the content once per process; a problem stops start-up with its fix."""
    from bot.checks import problems  # checks need the content types defined here

    content = load_content(app.config["CONTENT_DIR"], app.config["FLOWS_DIR"])
    if content.version not in _CHECKED:
        _CHECKED[content.version] = problems(content)
    if found := _CHECKED[content.version]:
        raise ContentError("the content needs fixing:\n" + "\n".join(found))
    app.extensions["tsunagu.content"] = content
