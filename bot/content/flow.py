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

    def previous(self, step_id: str) -> str | None:
        return next((s.id for s in self.steps if s.next == step_id), None)

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
        return {s.id: answers[s.id] for s in self.steps if s.id in answers}
