"""The flow file's schema: steps, their options and where each leads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DONE = "done"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One answer a person can tap or type."""

    value: str
    label: str  # quick-reply label (at most 20 characters)
    words: list[str] = Field(default_factory=list)  # typed words that mean this option
    # Typed words that mean this option only as the question was worded for one answer of the
    # flow's `wording_from` step: 「はい」 asked of the person means "self", of a family "family".
    words_for: dict[str, list[str]] = Field(default_factory=dict)
    min: int | None = None  # age options: the band's bounds
    max: int | None = None
    next: str = ""  # where this answer leads, if not to the step's `next` (a branch)


class Step(_Strict):
    """One question of the questionnaire."""

    id: str
    kind: Literal["choice", "age", "area"] = "choice"
    ask: dict[str, str]  # question text by subject ("default", "self", "family")
    options: list[Option] = Field(default_factory=list)
    next: str = DONE
    # How the privacy note names this answer, kept in the anonymous counts (e.g. 年代（5歳きざみ）).
    counted_as: str = ""

    def question(self, wording: str | None) -> str:
        return self.ask.get(wording or "", self.ask["default"])

    @property
    def years_key(self) -> str:
        """Return where an age step keeps the exact age typed (only until the referral)."""
        return f"{self.id}_years"

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def next_for(self, value: str | None) -> str:
        """Return the step an answer leads to."""
        option = self.option(value) if value is not None else None
        return option.next if option is not None and option.next else self.next

    @property
    def leads_to(self) -> list[str]:
        """Return every step (or done) some answer leads to, the step's own `next` last."""
        branches = [o.next for o in self.options if o.next and o.next != self.next]
        return [*dict.fromkeys(branches), self.next]

    @model_validator(mode="after")
    def _needs_default_wording(self) -> Step:
        if "default" not in self.ask:
            raise ValueError(f"step {self.id!r}: add an 'ask.default' question text")
        return self


class Flow(_Strict):
    """The whole questionnaire; steps are asked in the order their `next` links give."""

    flow: str
    start: str
    # The step whose answer picks each question's wording (`ask.<answer>`), if any.
    wording_from: str = ""
    steps: list[Step]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def previous(self, step_id: str, answers: dict[str, str] | None = None) -> str | None:
        """Return the step asked before this one (on the path these answers took)."""
        before = [s for s in self.steps if step_id in s.leads_to]
        if answers is not None:
            taken = [s for s in before if s.id in answers
                     and s.next_for(answers[s.id]) == step_id]
            before = taken or before
        return before[0].id if before else None

    def branches(self) -> list[list[tuple[Step, list[str] | None]]]:
        """Return every way through the flow: its steps, each with the answers that take it."""
        def walk(step_id: str, seen: frozenset[str]):
            step = self.step(step_id)
            if step_id == DONE:
                yield []
            elif step is not None and step_id not in seen:
                for dest in step.leads_to:
                    values = ([o.value for o in step.options if step.next_for(o.value) == dest]
                              if step.options else None)  # None: any (a municipality)
                    for rest in walk(dest, seen | {step_id}):
                        yield [(step, values), *rest]
        return list(walk(self.start, frozenset()))

    def path(self, answers: dict[str, str]) -> list[Step]:
        """Return the steps these answers went through, from the start."""
        path, here = [], self.step(self.start)
        while here is not None and here.id in answers and here not in path:
            path.append(here)
            here = self.step(here.next_for(answers[here.id]))
        return path

    def on_path(self, answers: dict[str, str]) -> dict[str, str]:
        """Return the answers of the path taken, without those of a branch left by 戻る."""
        kept = {}
        for step in self.path(answers):
            kept[step.id] = answers[step.id]
            if step.kind == "age" and step.years_key in answers:
                kept[step.years_key] = answers[step.years_key]
        return kept

    @property
    def state_names(self) -> list[str]:
        return [s.id for s in self.steps] + [DONE]

    @property
    def area_step(self) -> Step | None:
        """Return the step that asks for the person's municipality."""
        return next((s for s in self.steps if s.kind == "area"), None)

    def wording(self, answers: dict[str, str]) -> str | None:
        """Return the answer that picks the questions' wording (e.g. "family")."""
        return answers.get(self.wording_from) if self.wording_from else None

    def counted(self, answers: dict[str, str]) -> dict[str, str]:
        """Return the answers a referral record keeps: each step's option, nothing finer."""
        # Steps store option values (an age band, not the age typed), so this is safe to count.
        return {s.id: answers[s.id] for s in self.path(answers)}
