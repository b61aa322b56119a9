"""`tsunagu check`: the report as text or JSON, and the command."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import asdict

import click
from flask import Flask
from flask.cli import with_appcontext

from bot.studio.checks.coverage import Coverage, Gap
from bot.studio.checks.framework import Report
from bot.studio.checks.runner import examine

# ---- `tsunagu check` ----------------------------------------------------------------------

def _coverage_json(cover: Coverage) -> dict:
    return {
        "citizens": {"combinations": cover.total, "reached": cover.reached,
                     "gaps": [asdict(gap) for gap in cover.gaps]},
        "employers": {"combinations": cover.employers, "reached": cover.employers_reached,
                      "gaps": [asdict(gap) for gap in cover.employer_gaps]},
    }


def _gap_lines(found: list[Gap]) -> Iterator[str]:
    for gap in found:
        yield (f"  {gap.where}: no office with a phone or web button ({gap.combinations} of "
               f"{gap.of} combinations)")


def report_text(report: Report, strict: bool = False) -> Iterator[str]:
    """Yield the lines `tsunagu check` prints."""
    for problem in report.problems:
        yield problem.text()
    errors, warnings = len(report.errors()), len(report.warnings)
    failing = len(report.errors(strict))
    note = "" if strict or not warnings else " (warnings fail only with --strict)"
    summary = f"{errors} errors, {warnings} warnings{note}."
    content = report.content
    if content is None:
        yield f"{summary} Fix the files first: the other checks run once every file reads."
        return
    counts = (f"{len(content.programmes)} programmes, {len(content.offices)} offices, "
              f"{len(content.rules.rules)} rules, {len(content.flow.steps)} questions, "
              f"{report.scenarios} scenarios played")
    if failing:
        yield f"{summary} Content {content.bundle_id} needs fixing: {counts}."
    else:
        yield f"{summary} Content {content.bundle_id} is fine: {counts}."
    cover = report.coverage
    yield (f"{cover.reached} of {cover.total} citizens' answer combinations reach an office "
           "with a phone or web button.")
    yield from _gap_lines(cover.gaps)
    if cover.employers:
        advice = ("" if cover.employers_reached == cover.employers else
                  "; fill their offices' phone or url in offices.yaml when a source gives one")
        yield (f"{cover.employers_reached} of {cover.employers} employers' answer "
               f"combinations do{advice}.")
        yield from _gap_lines(cover.employer_gaps[:3])


def report_json(report: Report, strict: bool = False) -> str:
    """Return the report as JSON: every problem with its fields, the counts and coverage."""
    content = report.content
    return json.dumps({
        "bundle_id": content.bundle_id if content else None,
        "fine": not report.errors(strict),
        "errors": len(report.errors()),
        "warnings": len(report.warnings),
        "problems": [{"severity": p.severity, **asdict(p)} for p in report.problems],
        "scenarios": report.scenarios,
        "coverage": _coverage_json(report.coverage) if report.coverage else None,
    }, ensure_ascii=False, indent=2)


@click.command("check")
@click.option("--root", type=click.Path(file_okay=False),
              help="Check ROOT/content and ROOT/flows alone: no database is read "
                   "(default: the draft).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: every problem with its fields, for tools.")
def check_command(root: str | None, strict: bool, form: str) -> None:
    """Check the draft (or --root's folder); exit 1 if anything needs fixing.

    The draft is what the console shows and `tsunagu publish` would publish: the configured
    folders (TSUNAGU_CONTENT_DIR, TSUNAGU_FLOWS_DIR) with the files editors saved in the
    console over them, read from the database (DATABASE_URL; one never upgraded has none).
    When there are such files, a line on stderr names them. No LINE settings are needed.
    """
    # Editors run this after every change: it builds no app (which would refuse to start on
    # the very draft this reports on), and with --root reads no database either.
    from bot.studio import library  # the database's driver only when it is used

    draft = library.read_draft(root, complete=False)
    if draft.saved:
        click.echo(f"Checked the draft: {draft.described()}.", err=True)
    report = examine(draft.files)
    if form == "json":
        click.echo(report_json(report, strict))
    else:
        for line in report_text(report, strict):
            click.echo(line)
    if report.errors(strict):
        raise SystemExit(1)


def _within_app(command: click.Command) -> click.Command:
    """Return the command for an app's own CLI: run in its context, so on its database."""
    inside = copy.copy(command)
    inside.callback = with_appcontext(command.callback)
    return inside


def init_app(app: Flask) -> None:
    # `tsunagu check` is the group's own command (bot/cli.py), run without the app; in the
    # app's CLI (`flask --app`, the tests' runner) the draft is that app's folders and database.
    app.cli.add_command(_within_app(check_command))
