"""Configuration checks, migrations and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot import create_app
from bot.db.database import database
from bot.db.models import Base
from bot.settings import ConfigError, Settings
from tests.support.paths import ROOT

SETTINGS = tuple(Settings.model_fields)


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
    clean_env.setenv("TSUNAGU_SECRET_KEY", "k" * 64)
    with pytest.raises(ConfigError, match="TSUNAGU_TRUSTED_HOSTS is not set"):
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


@pytest.mark.parametrize(("name", "value", "expects"), [
    ("LINE_REPLY_BUDGET", "1.2s", "valid number"),
    ("LINE_REPLY_BUDGET", "0", "greater than 0"),
    ("TSUNAGU_MAX_BODY_BYTES", "1MB", "valid integer"),
    ("TSUNAGU_MAX_BODY_BYTES", "-5", "greater than 0"),
    ("TSUNAGU_ENV", "prod", "'development' or 'production'"),
    ("TSUNAGU_REDIS_URL", "localhost:6379", "redis://host:6379/0"),
    ("TSUNAGU_WORKERS", "two", "valid integer"),
])
def test_a_bad_setting_names_the_variable_and_what_it_expects(clean_env, name, value, expects):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        create_app()
    message = str(caught.value)
    assert message.startswith(f"{name}={value!r} is not valid") and expects in message
    assert "\n" not in message


def test_cli_prints_a_bad_number_as_one_line(clean_env):
    clean_env.setenv("LINE_REPLY_BUDGET", "fast")
    result = subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", "stats"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == ("tsunagu: LINE_REPLY_BUDGET='fast' is not valid: Input "
                                     "should be a valid number, unable to parse string as a "
                                     "number")


def test_gunicorn_config_refuses_a_bad_setting_in_one_line(clean_env):
    import runpy

    clean_env.setenv("TSUNAGU_ENV", "development")  # the config would set production
    clean_env.setenv("TSUNAGU_THREADS", "lots")
    with pytest.raises(SystemExit, match="^tsunagu: TSUNAGU_THREADS='lots' is not valid"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_config_takes_its_numbers_from_the_settings(clean_env):
    import runpy

    clean_env.setenv("TSUNAGU_ENV", "development")  # the config would set production
    clean_env.setenv("TSUNAGU_WORKERS", "3")
    clean_env.setenv("TSUNAGU_REDIS_URL", "redis://127.0.0.1:6379/0")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["workers"], config["threads"]) == (3, 8)
    clean_env.delenv("TSUNAGU_REDIS_URL")
    clean_env.setenv("TSUNAGU_LOG_LEVEL", "WARNING")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["threads"], config["loglevel"]) == (32, "warning")


def test_upgrade_from_one_column_per_answer_keeps_every_referral(app, database_url):
    from alembic import command
    from sqlalchemy import text

    from bot.db.database import alembic_config

    engine = create_engine(database_url)
    Base.metadata.drop_all(engine)
    config = alembic_config(database_url)
    command.upgrade(config, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO referrals (id, day, content_version, subject, age_band, employment, "
            "single_parent, hikikomori, area) VALUES (7, '2026-04-17', 'abc', 'family', "
            "'45-49', 'job_seeking', :yes, 'family', '大館市')"), {"yes": True})
        conn.execute(text("INSERT INTO referral_targets VALUES (7, 'office', 'saposute')"))
        conn.execute(text("INSERT INTO conversations VALUES ('k', 'abc', 'age', '{}', 1, "
                          "'2026-04-01 00:00:00+00')"))
    command.upgrade(config, "head")
    with engine.connect() as conn:
        referral = conn.execute(text("SELECT bundle_id, flow, answers, month FROM referrals")).one()
        kept = conn.execute(text("SELECT bundle_id, state FROM conversations")).one()
        targets = conn.execute(text("SELECT referral_id, code FROM referral_targets")).all()
    answers = referral.answers if isinstance(referral.answers, dict) else json.loads(
        referral.answers)
    assert (referral.bundle_id, referral.flow) == ("abc", "questionnaire")
    assert str(referral.month) == "2026-04-01"  # the month only, since 0003
    assert answers == {"subject": "family", "age": "45-49", "employment": "job_seeking",
                       "single_parent": "yes", "hikikomori": "family", "area": "大館市"}
    assert tuple(kept) == ("abc", "age")
    assert [tuple(t) for t in targets] == [(7, "saposute")]
    command.downgrade(config, "0001")  # and back, for an operator who must
    with engine.connect() as conn:
        row = conn.execute(text("SELECT age_band, single_parent, area FROM referrals")).one()
    assert (row.age_band, bool(row.single_parent), row.area) == ("45-49", True, "大館市")
    engine.dispose()


@pytest.mark.parametrize(("value", "expects"), [
    ("tsunagu.example.jp", "the address people reach tsunagu at"),
    ("ftp://tsunagu.example.jp", "the address people reach tsunagu at"),
    ("https://tsunagu.example.jp/?from=line", "no ?query"),
    ("https://" + "x" * 90 + ".example.jp", "at most 100 characters"),
])
def test_a_bad_public_url_names_the_variable(clean_env, value, expects):
    clean_env.setenv("TSUNAGU_PUBLIC_URL", value)
    with pytest.raises(ConfigError) as caught:
        create_app()
    message = str(caught.value)
    assert message.startswith(f"TSUNAGU_PUBLIC_URL={value!r} is not valid") and expects in message


def test_the_public_url_in_production_is_https_on_a_trusted_host(clean_env):
    for name, value in (("TSUNAGU_ENV", "production"), ("LINE_CHANNEL_SECRET", "s"),
                        ("LINE_CHANNEL_ACCESS_TOKEN", "t"), ("TSUNAGU_SECRET_KEY", "k" * 64),
                        ("TSUNAGU_TRUSTED_HOSTS", "tsunagu.example.jp")):
        clean_env.setenv(name, value)
    clean_env.setenv("TSUNAGU_PUBLIC_URL", "http://tsunagu.example.jp")
    with pytest.raises(ConfigError, match="must start with https://"):
        create_app()
    clean_env.setenv("TSUNAGU_PUBLIC_URL", "https://other.example.jp")
    with pytest.raises(ConfigError, match="'other.example.jp' is not in TSUNAGU_TRUSTED_HOSTS"):
        create_app()
    clean_env.setenv("TSUNAGU_PUBLIC_URL", "https://tsunagu.example.jp/")
    app = create_app()
    assert app.config["PUBLIC_URL"] == "https://tsunagu.example.jp"
    database(app).dispose()
