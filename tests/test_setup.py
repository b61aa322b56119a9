"""Configuration checks, migrations and the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot import create_app
from bot.db.database import database
from bot.db.models import Base
from bot.settings import ConfigError
from tests.support.paths import ROOT

SETTINGS = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "TSUNAGU_ENV",
            "TSUNAGU_SECRET_KEY", "DATABASE_URL")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cfg.sqlite'}")
    return monkeypatch


def test_secret_without_token_is_a_clear_error(clean_env):
    clean_env.setenv("LINE_CHANNEL_SECRET", "s")
    with pytest.raises(ConfigError, match="LINE_CHANNEL_ACCESS_TOKEN is not set"):
        create_app()


def test_production_needs_line_and_a_secret_key(clean_env):
    clean_env.setenv("TSUNAGU_ENV", "production")
    with pytest.raises(ConfigError, match="LINE_CHANNEL_SECRET"):
        create_app()
    clean_env.setenv("LINE_CHANNEL_SECRET", "s")
    clean_env.setenv("LINE_CHANNEL_ACCESS_TOKEN", "t")
    with pytest.raises(ConfigError, match="TSUNAGU_SECRET_KEY is not set"):
        create_app()


def test_bad_line_api_url_is_a_clear_error(clean_env):
    clean_env.setenv("LINE_API_BASE_URL", "api.line.me")
    with pytest.raises(ConfigError, match="LINE_API_BASE_URL"):
        create_app()


def test_cli_prints_a_config_problem_as_one_line(clean_env):
    clean_env.setenv("LINE_CHANNEL_SECRET", "s")
    result = subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", "stats"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("tsunagu: LINE_CHANNEL_ACCESS_TOKEN is not set")
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema_the_models_describe(app, database_url):
    engine = create_engine(database_url)
    Base.metadata.drop_all(engine)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert {"conversations", "processed_events", "referrals", "referral_targets"} <= set(
        inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_db_upgrade_twice_is_harmless(app):
    runner = app.test_cli_runner()
    Base.metadata.drop_all(database(app).engine)
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_gunicorn_workers_keep_the_loaded_app_out_of_full_collections(monkeypatch):
    import gc
    import runpy

    monkeypatch.setenv("TSUNAGU_ENV", "development")  # the config would set production
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        config["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
