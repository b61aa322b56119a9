"""The questionnaire as data: flow file schema and its state machine."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from transitions import Machine

from bot.datafile import parse, read_yaml

DONE = "done"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One answer a person can tap or type."""

    value: str
    label: str  # quick-reply label (at most 20 characters)
    words: list[str] = Field(default_factory=list)  # typed words that mean this option
    min: int | None = None  # age options: the band's bounds
    max: int | None = None


class Step(_Strict):
    """One question of the questionnaire."""

    id: str
    kind: Literal["choice", "age", "area"] = "choice"
    ask: dict[str, str]  # question text by subject ("default", "self", "family")
    options: list[Option] = Field(default_factory=list)
    next: str = DONE

    def question(self, subject: str | None) -> str:
        return self.ask.get(subject or "", self.ask["default"])

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
    steps: list[Step]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def previous(self, step_id: str) -> str | None:
        return next((s.id for s in self.steps if s.next == step_id), None)

    @property
    def state_names(self) -> list[str]:
        return [s.id for s in self.steps] + [DONE]


def load_flow(path: str | Path) -> Flow:
    """Read and validate one flow file."""
    path = Path(path)
    return parse(Flow, read_yaml(path), path)


def machine_config(flow: Flow) -> dict:
    """Build the plain-dict `transitions` configuration of a flow."""
    transitions = [{"trigger": "answer", "source": s.id, "dest": s.next,
                    "before": "store_answer"} for s in flow.steps]
    transitions += [{"trigger": "back", "source": s.id, "dest": prev}
                    for s in flow.steps if (prev := flow.previous(s.id))]
    transitions.append({"trigger": "restart", "source": "*", "dest": flow.start,
                        "after": "forget_answers"})
    return {
        "states": flow.state_names,
        "transitions": transitions,
        "initial": flow.start,
        "auto_transitions": False,
        "send_event": True,
        "model": None,
    }


class Session:
    """The model the machine moves: a conversation's state name and answers."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = dict(answers)

    def store_answer(self, event) -> None:
        self.answers[event.transition.source] = event.kwargs["value"]
        self.answers.update(event.kwargs.get("extra", {}))

    def forget_answers(self, event) -> None:
        self.answers.clear()


class Questionnaire:
    """One state machine per flow version; conversations are added and removed per event."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.machine = Machine(**machine_config(flow))

    def attach(self, state: str, answers: dict[str, str]) -> Session:
        session = Session(answers)
        self.machine.add_model(session, initial=state)
        return session

    def detach(self, session: Session) -> None:
        self.machine.remove_model(session)
