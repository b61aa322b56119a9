"""`tsunagu check`: the report as text or JSON, and the command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context

from bot import settings
from bot.content import bundle
from bot.studio.checks.coverage import Coverage, Gap
from bot.studio.checks.framework import Report
from bot.studio.checks.runner import examine

# ---- `tsunagu check` ----------------------------------------------------------------------

def _folders(root: str | None) -> tuple[Path, Path]:
    # As bot.studio.library.folders, without importing the database: check needs none.
    if root is not None:
        return Path(root) / "content", Path(root) / "flows"
    config = current_app.config if has_app_context() else settings.content_folders()
    return Path(config["CONTENT_DIR"]), Path(config["FLOWS_DIR"])


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
              help="Check ROOT/content and ROOT/flows (default: the configured folders).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--format", "form", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: every problem with its fields, for tools.")
def check_command(root: str | None, strict: bool, form: str) -> None:
    """Check the content and the questionnaire; exit 1 if anything needs fixing."""
    # Editors run this after every change: it needs no app, database or LINE settings.
    report = examine(bundle.read_folders(*_folders(root), complete=False))
    if form == "json":
        click.echo(report_json(report, strict))
    else:
        for line in report_text(report, strict):
            click.echo(line)
    if report.errors(strict):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(check_command)
