"""The questionnaire's state machine: one `transitions` machine per flow."""

from __future__ import annotations

from transitions import Machine

from bot.content.flow import Flow, Step


def _answered(step: Step, dest: str):
    """Return the condition that an answer to this step leads to dest."""
    return lambda event: step.next_for(event.kwargs["value"]) == dest


def _came_from(flow: Flow, step: Step, before: str):
    """Return the condition that the conversation reached this step from `before`."""
    return lambda event: flow.previous(step.id, event.model.answers) == before


def machine_config(flow: Flow) -> dict:
    """Build the plain-dict `transitions` configuration of a flow (branches as conditions)."""
    transitions = [{"trigger": "answer", "source": s.id, "dest": dest, "before": "store_answer",
                    "conditions": [_answered(s, dest)]}
                   for s in flow.steps for dest in s.leads_to]
    transitions += [{"trigger": "back", "source": s.id, "dest": before.id,
                     "conditions": [_came_from(flow, s, before.id)]}
                    for s in flow.steps for before in flow.steps if s.id in before.leads_to]
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


class Progress:
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

    def attach(self, state: str, answers: dict[str, str]) -> Progress:
        progress = Progress(answers)
        self.machine.add_model(progress, initial=state)
        return progress

    def detach(self, progress: Progress) -> None:
        self.machine.remove_model(progress)
