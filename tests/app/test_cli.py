"""The `tsunagu` command as a newcomer first meets it: on a database never upgraded, and quiet
unless asked (--verbose)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import create_engine, inspect

from bot.settings import Settings
from tests.support.apps import TEST_DATABASE_URL
from tests.support.paths import ROOT

# A log record as create_app formats them: "2026-04-01 12:00:00,000 INFO bot.x message".
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR) ", re.M)


@pytest.fixture
def env(tmp_path, database_url):
    """The environment of a shell with no tsunagu settings but this test's empty database."""
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return {**clean, "DATABASE_URL": database_url,
            "TSUNAGU_CONTENT_DIR": str(ROOT / "content"), "TSUNAGU_FLOWS_DIR": str(ROOT / "flows")}


def tsunagu(env, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("args", [
    ["stats"],
    ["stats", "--funnel"],
    ["versions"],
    ["richmenu", "deploy", "--dry-run", "-o", "menu.png"],
    ["users", "list"],
    ["export", "soudan", "--fy", "2026", "-o", "soudan.xlsx"],
    ["purge"],
], ids=" ".join)
def test_a_database_never_upgraded_is_one_line_saying_to_upgrade_it(env, tmp_path, args):
    result = tsunagu(env, *args, cwd=tmp_path)

    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Traceback" not in said
    assert len(said.strip().splitlines()) == 1, said
    assert "run `tsunagu db upgrade`" in result.stderr
    assert "the database lacks tsunagu's tables" in result.stderr
    assert not (tmp_path / "soudan.xlsx").exists()


def test_after_db_upgrade_the_same_commands_answer(env, tmp_path, database_url):
    assert tsunagu(env, "db", "upgrade").returncode == 0
    assert "referral_tallies" in inspect(create_engine(database_url)).get_table_names()

    result = tsunagu(env, "stats", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Referrals: 0")


@pytest.fixture
def published(env, tmp_path):
    """An upgraded database with a live version: loading the app then logs an INFO record."""
    assert tsunagu(env, "db", "upgrade").returncode == 0
    result = tsunagu(env, "publish", "--note", "first", "--who", "tester")
    assert result.returncode == 0, result.stderr
    return env


def test_commands_print_what_they_were_asked_for_and_no_log_records(published):
    for args in (["versions"], ["stats"]):
        result = tsunagu(published, *args)
        assert result.returncode == 0, result.stderr
        assert not RECORD.search(result.stdout + result.stderr), result.stdout + result.stderr
    assert "first" in tsunagu(published, "versions").stdout


def test_verbose_adds_the_log_records_on_stderr(published):
    result = tsunagu(published, "--verbose", "versions")

    assert result.returncode == 0, result.stderr
    assert RECORD.search(result.stderr), result.stderr
    assert "INFO bot.content.source live answers with version 1" in result.stderr
    assert not RECORD.search(result.stdout) and "first" in result.stdout


def test_line_status_prints_no_log_records(published):
    result = tsunagu({**published, "LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
                      "LINE_API_BASE_URL": "http://127.0.0.1:9"}, "line", "status")

    assert result.returncode == 1  # nothing answers on port 9
    assert result.stderr.strip().splitlines() == [
        "Error: could not connect to LINE (connection refused): check the network and "
        "LINE_API_BASE_URL"]


def test_verbose_is_in_the_help():
    result = subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert "--verbose" in result.stdout


@pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"), reason="PostgreSQL only")
def test_postgresql_says_the_same(env, tmp_path):
    result = tsunagu(env, "versions", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not exist): run `tsunagu db upgrade` first" in result.stderr


def test_the_web_app_still_logs_at_info(published):
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=published,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "INFO bot.content.source live answers with version 1" in result.stderr


def test_serve_still_logs_at_info(published, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--port",
             str(port)], env=published, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)

    said = log.read_text()
    assert "INFO bot.content.source live answers with version 1" in said
    assert '"GET /healthz HTTP/1.1" 200' in said  # werkzeug's request log
