"""The schema of a content bundle: programmes, offices, areas, rules, messages, the flow."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.content.flow import Flow

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
    # Optional: where a fact beyond the plan comes from, and when it was last checked against
    # it (`tsunagu check` warns when that is over a year ago).
    source: str = ""
    checked: datetime.date | None = None

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


# A rule's condition on one answer: any of these option values, or (for an age step) a range
# of years. The answer fields are the flow's step ids: nothing here names them.
Wanted = list[str] | AgeRange


class Rule(Strict):
    id: str
    note: str = ""  # why the rule exists, with the plan's item
    when: dict[str, Wanted] = Field(default_factory=dict)  # step id -> wanted
    programmes: list[str] = Field(default_factory=list)
    offices: list[str] = Field(default_factory=list)  # office id or "nearest:<kind>"
    say: str = ""  # a message (messages.yaml key) added to the result when the rule applies


class Rules(Strict):
    rules: list[Rule]
    fallback: Rule  # used when no rule matched: everyone gets a place to go


class CrisisLine(Strict):
    """A phone line for a person in crisis; only what a source gives."""

    name: str
    phone: str
    # True: a source says the call is free; False: it says the call is charged; None: no
    # source says, and the reply says nothing about the cost.
    free: bool | None = None
    hours: str = ""  # when it answers, as the source gives it
    note: str = ""
    verify: bool = False  # from a secondary or old source: editors should confirm it
    sources: list[str] = Field(default_factory=list)


class Safety(Strict):
    crisis_words: list[str]
    crisis_lines: list[CrisisLine]


class Content(Strict):
    """Everything the bot says and decides: one bundle of content/ and flows/ files."""

    programmes: dict[str, Programme]
    offices: dict[str, Office]
    regions: list[Region]
    rules: Rules
    messages: dict[str, str]
    safety: Safety
    flow: Flow
    bundle_id: str  # the checksum of the bundle's files

    @property
    def municipalities(self) -> list[str]:
        return [m for region in self.regions for m in region.municipalities]

    def message(self, key: str, **values: str) -> str:
        return self.messages[key].format(**values) if values else self.messages[key]


class ProgrammeFile(Strict):
    programmes: list[Programme]


class OfficeFile(Strict):
    offices: list[Office]


class AreaFile(Strict):
    regions: list[Region]
