"""The questionnaire as one readable table plus a diagram: `tsunagu flow`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot.content.flow import DONE
from bot.content.schema import Content
from bot.content.source import content_source
from bot.studio.graph import edges_from


def _options(content: Content, step) -> str:
    if step.kind == "area":
        return " / ".join(f"{r.name}: {'・'.join(r.municipalities)}" for r in content.regions)
    return " / ".join(f"{o.label} (`{o.value}`)" for o in step.options)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _next(step) -> str:
    branches = [f"`{o.next}` ({o.label})" for o in step.options if o.next and o.next != step.next]
    return "<br>".join([*branches, f"`{step.next}`" + (" (others)" if branches else "")])


def table(content: Content) -> list[str]:
    lines = ["| # | step | question (本人 / 家族) | answers (`stored value`) | typed | next |",
             "|---|---|---|---|---|---|"]
    for number, step in enumerate(content.flow.steps, 1):
        family = step.ask.get("family")
        asked = step.question(None) + (f"<br>家族: {family}" if family else "")
        typed = {"age": "a number (42, ４２歳, 42才) or a band", "area": "a municipality name"}
        answers = _cell(_options(content, step))
        how = typed.get(step.kind, "the label or its words")
        lines.append(f"| {number} | `{step.id}` | {_cell(asked)} | {answers} | {how} "
                     f"| {_next(step)} |")
    return lines


def diagram(content: Content) -> list[str]:
    """Return the lines of a mermaid state diagram of the flow, without 「最初から」."""
    # Not GraphMachine(mermaid): 0.9.3 adds classDef/Class styling per state, no end after done.
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {content.flow.start}"]
    flow = content.flow
    for step in flow.steps:
        for edge in edges_from(step):  # the arrows `tsunagu graph` draws
            target = "[*]" if edge.dest == DONE else edge.dest
            label = "・".join(edge.labels) if edge.branch else "answer"
            lines.append(f"    {step.id} --> {target}: {label}")
        for before in flow.steps:
            if step.id in before.leads_to:
                lines.append(f"    {step.id} --> {before.id}: 戻る")
    lines.append("```")
    return lines


def render(content: Content) -> str:
    """Return docs/flow.md: the whole questionnaire in one table, and its diagram."""
    return "\n".join([
        "# The questionnaire",
        "",
        "Generated from `flows/questionnaire.yaml` and `content/areas.yaml` by "
        "`tsunagu flow --write docs/flow.md`; do not edit by hand.",
        "「最初から」 restarts from any step (not in the diagram); 「戻る」 goes back one step.",
        "After the last answer the rules in `content/rules.yaml` pick the programmes and offices,",
        "the referral is counted anonymously and the conversation is deleted.",
        "",
        *table(content),
        "",
        *diagram(content),
        "",
    ])


@click.command("flow")
@click.option("--write", "path", type=click.Path(dir_okay=False), help="Write to this file.")
@with_appcontext
def flow_command(path: str | None) -> None:
    """Print the questionnaire as a table and a diagram (Markdown)."""
    text = render(content_source(current_app).current())
    if path:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {path}.")
    else:
        click.echo(text)


def init_app(app: Flask) -> None:
    app.cli.add_command(flow_command)
