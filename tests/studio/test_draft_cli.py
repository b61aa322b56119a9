"""`tsunagu check`, `simulate` and `graph` read the draft the console shows: the folders with
the files saved in the console over them. `--root` reads a folder alone, with no database;
a database never upgraded has no console saves, and any other database error is said."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from bot.cli import cli
from bot.content.bundle import FLOW_FILE, OFFICES
from bot.db.database import database
from bot.db.models import DraftFile
from bot.studio import drafts, library
from tests.support.apps import TEST_DATABASE_URL, make_app
from tests.support.drafts import FIRST_QUESTION, copy_draft

OFFICE = "hikikomori-center"  # no phone and no web address in the shipped offices.yaml
NO_BUTTON = "has no phone and no web address"
SAVED_QUESTION = "コンソールで直した最初の問いです"


@pytest.fixture
def folders(tmp_path):
    """The configured content folders: a copy of the shipped ones."""
    return copy_draft(tmp_path / "draft")


@pytest.fixture
def draft_app(database_url, line_api, folders):
    """The app on this test's database (upgraded), reading the copied folders."""
    app = make_app(database_url, line_api, CONTENT_DIR=str(folders / "content"),
                   FLOWS_DIR=str(folders / "flows"))
    yield app
    database(app).dispose()


@pytest.fixture
def tsunagu(database_url, folders):
    """Run `tsunagu ARGS` as at a terminal: the group without the app, settings from the
    environment. In production without LINE settings the app refuses to be built, so a
    command that answers builds none."""
    env = {"DATABASE_URL": database_url, "TSUNAGU_CONTENT_DIR": str(folders / "content"),
           "TSUNAGU_FLOWS_DIR": str(folders / "flows"), "TSUNAGU_ENV": "production",
           "LINE_CHANNEL_SECRET": None, "LINE_CHANNEL_ACCESS_TOKEN": None,
           "TSUNAGU_SECRET_KEY": None}

    def run(*args: str, database_url: str | None = None, stdin: str = ""):
        changed = {**env, "DATABASE_URL": database_url} if database_url else env
        return CliRunner().invoke(cli, list(args), env=changed, input=stdin)
    return run


def save_phone(app) -> None:
    """Save the office's phone in the console's way, with its source and the day checked."""
    with app.app_context():
        form = drafts.read_office_form({"phone": "018-831-3946", "source": "a leaflet",
                                        "checked": "2026-12-07"})
        drafts.save_office(database(app), library.draft_files(), OFFICE, form, 0, "tanaka")


def save_file(app, name: str, old: str, new: str) -> None:
    """Save one changed file into the draft (as `tsunagu draft import` does)."""
    with app.app_context():
        draft = library.draft_files()
        changed = draft[name].decode("utf-8")
        assert old in changed
        drafts.import_files(database(app), draft,
                            {name: changed.replace(old, new, 1).encode("utf-8")}, "tester")


def no_button_warnings(stdout: str) -> list[dict]:
    report = json.loads(stdout)
    return [p for p in report["problems"]
            if p["item"] == f"office '{OFFICE}'" and NO_BUTTON in p["message"]]


def test_check_counts_a_phone_saved_in_the_console(draft_app, tsunagu, folders):
    before = tsunagu("check", "--format", "json")
    assert before.exit_code == 0, before.output
    assert no_button_warnings(before.stdout) and before.stderr == ""

    save_phone(draft_app)
    after = tsunagu("check", "--format", "json")

    assert after.exit_code == 0, after.output
    assert no_button_warnings(after.stdout) == []
    assert json.loads(after.stdout)["warnings"] == json.loads(before.stdout)["warnings"] - 1
    assert after.stderr.splitlines() == [
        f"Checked the draft: {draft_app.config['CONTENT_DIR']} and "
        f"{draft_app.config['FLOWS_DIR']}, with 1 file saved in the console over them "
        f"({OFFICES}; `tsunagu draft export DIR` writes them out)."]
    text_report = tsunagu("check")
    assert text_report.exit_code == 0, text_report.output
    assert text_report.output.startswith("Checked the draft: ")
    assert f"office '{OFFICE}': {NO_BUTTON}" not in text_report.stdout
    assert f"office '{OFFICE}': {NO_BUTTON}" in tsunagu("check", "--root", str(folders)).stdout


def test_the_apps_own_check_reads_the_apps_draft(draft_app, folders):
    runner = draft_app.test_cli_runner()
    save_phone(draft_app)

    result = runner.invoke(args=["check", "--format", "json"])

    assert result.exit_code == 0, result.output
    assert no_button_warnings(result.stdout) == []
    assert "1 file saved in the console" in result.stderr
    alone = runner.invoke(args=["check", "--format", "json", "--root", str(folders)])
    assert no_button_warnings(alone.stdout) and alone.stderr == ""


def test_a_broken_file_saved_in_the_console_fails_check_but_not_the_folder(
        draft_app, tsunagu, folders):
    save_file(draft_app, OFFICES, "areas: [秋田市]", "areas: [秋田]")

    draft = tsunagu("check")
    assert draft.exit_code == 1, draft.output
    assert "serves '秋田', which is not a municipality" in draft.stdout
    assert f"saved in the console over them ({OFFICES};" in draft.stderr
    in_app = draft_app.test_cli_runner().invoke(args=["check"])
    assert in_app.exit_code == 1 and "serves '秋田'" in in_app.stdout

    alone = tsunagu("check", "--root", str(folders))
    assert alone.exit_code == 0, alone.output
    assert "is fine" in alone.stdout and alone.stderr == ""


def test_root_needs_no_database_and_an_unreachable_one_is_said(tsunagu, folders):
    nowhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"

    alone = tsunagu("check", "--root", str(folders), database_url=nowhere)
    assert alone.exit_code == 0, alone.output

    draft = tsunagu("check", database_url=nowhere)
    assert draft.exit_code == 1
    assert draft.stderr.startswith("Error: cannot read the files saved in the console from "
                                   "the database (connection failed"), draft.output
    assert "--root DIR" in draft.stderr and draft.stdout == ""


def test_simulate_plays_a_question_saved_in_the_console(draft_app, tsunagu, folders):
    save_file(draft_app, FLOW_FILE, FIRST_QUESTION, SAVED_QUESTION)

    draft = tsunagu("simulate")
    assert draft.exit_code == 0, draft.output
    assert SAVED_QUESTION in draft.stdout and FIRST_QUESTION not in draft.stdout
    assert f"とコンソールで保存した 1 ファイル（{FLOW_FILE}）" in draft.stdout

    alone = tsunagu("simulate", "--root", str(folders))
    assert alone.exit_code == 0, alone.output
    assert FIRST_QUESTION in alone.stdout and "コンソールで保存した" not in alone.stdout


def test_graph_draws_a_question_saved_in_the_console(draft_app, tsunagu, folders):
    save_file(draft_app, FLOW_FILE, FIRST_QUESTION, SAVED_QUESTION)

    draft = tsunagu("graph")
    assert draft.exit_code == 0, draft.output
    assert SAVED_QUESTION in draft.stdout
    assert draft.stderr.startswith("Drew the draft: ") and FLOW_FILE in draft.stderr

    alone = tsunagu("graph", "--root", str(folders))
    assert alone.exit_code == 0, alone.output
    assert SAVED_QUESTION not in alone.stdout and alone.stderr == ""


def empty_database(url: str, *statements: str) -> None:
    """Make the database exist with none of tsunagu's tables (and these statements run)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (x INTEGER)"))
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_a_database_never_upgraded_checks_the_folders(tsunagu, database_url):
    empty_database(database_url)

    for args in (["check"], ["graph"], ["simulate"]):
        result = tsunagu(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr == "", result.stderr
    assert "is fine" in tsunagu("check").stdout


@pytest.mark.skipif(TEST_DATABASE_URL.startswith("postgresql"), reason="an SQLite file")
def test_check_makes_no_sqlite_file_where_there_is_none(tsunagu, tmp_path):
    missing = tmp_path / "instance" / "tsunagu.sqlite"

    result = tsunagu("check", database_url=f"sqlite:///{missing}")

    assert result.exit_code == 0, result.output
    assert not missing.parent.exists()


def test_a_draft_table_that_does_not_read_is_said(tsunagu, database_url):
    # Not "no draft table yet": a table of that name the query cannot read stays an error.
    empty_database(database_url, "CREATE TABLE draft_files (name VARCHAR(200) PRIMARY KEY)")

    result = tsunagu("check")

    assert result.exit_code == 1
    assert "cannot read the files saved in the console from the database" in result.stderr
    assert "text" in result.stderr, result.stderr  # the column it lacks


def test_the_apps_check_on_a_database_without_the_draft_table(draft_app):
    DraftFile.__table__.drop(database(draft_app).engine)

    result = draft_app.test_cli_runner().invoke(args=["check"])

    assert result.exit_code == 0, result.output
    assert "is fine" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("command", ["check", "simulate", "graph"])
def test_the_help_says_what_the_draft_is(command):
    result = CliRunner().invoke(cli, [command, "--help"])

    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "with the files editors saved in the console over them" in said
    assert "alone: no database is read (default: the draft)" in said
