"""Settings from the environment, checked with clear messages."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

HOW_TO_CONNECT = (
    "LINE is not connected: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (from the "
    "LINE Developers console, Messaging API channel) and restart. Until then tsunagu runs in "
    "development mode and /callback answers 503."
)


PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


def from_env(instance_path: str) -> dict:
    """Read the settings tsunagu understands from the environment."""
    env = os.environ
    return {
        "ENV": env.get("TSUNAGU_ENV", "development"),
        "LINE_CHANNEL_SECRET": env.get("LINE_CHANNEL_SECRET", ""),
        "LINE_CHANNEL_ACCESS_TOKEN": env.get("LINE_CHANNEL_ACCESS_TOKEN", ""),
        "LINE_API_BASE_URL": env.get("LINE_API_BASE_URL", "https://api.line.me"),
        "LINE_REPLY_BUDGET": float(env.get("LINE_REPLY_BUDGET", "1.2")),
        "DATABASE_URL": env.get("DATABASE_URL",
                                f"sqlite:///{Path(instance_path) / 'tsunagu.sqlite'}"),
        "TSUNAGU_SECRET_KEY": env.get("TSUNAGU_SECRET_KEY", ""),
        "CONTENT_DIR": env.get("TSUNAGU_CONTENT_DIR", str(PROJECT_ROOT / "content")),
        "FLOWS_DIR": env.get("TSUNAGU_FLOWS_DIR", str(PROJECT_ROOT / "flows")),
        # Optional: with a Redis URL, replies go out through a queue after the webhook answers.
        "REDIS_URL": env.get("TSUNAGU_REDIS_URL", ""),
        # Several bots may share one Redis, each with its own stream.
        "REPLY_STREAM": env.get("TSUNAGU_REPLY_STREAM", "tsunagu:replies"),
        "MAX_BODY_BYTES": int(env.get("TSUNAGU_MAX_BODY_BYTES", str(1024 * 1024))),
    }


def _dev_secret_key(instance_path: str) -> str:
    """Keep one random key per development instance, so hashes stay stable across restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def check(app: Flask) -> None:
    """Validate the settings; raise ConfigError naming what is missing and how to fix it."""
    config = app.config
    production = config["ENV"] == "production"
    secret, token = config["LINE_CHANNEL_SECRET"], config["LINE_CHANNEL_ACCESS_TOKEN"]
    if bool(secret) != bool(token):
        missing = "LINE_CHANNEL_ACCESS_TOKEN" if secret else "LINE_CHANNEL_SECRET"
        raise ConfigError(f"{missing} is not set; LINE needs both the channel secret and the "
                          "channel access token.")
    if production and not secret:
        raise ConfigError("TSUNAGU_ENV=production needs LINE_CHANNEL_SECRET and "
                          "LINE_CHANNEL_ACCESS_TOKEN (LINE Developers console, Messaging API "
                          "channel); unset TSUNAGU_ENV to try tsunagu without LINE.")
    if not config["TSUNAGU_SECRET_KEY"]:
        if production:
            raise ConfigError("TSUNAGU_SECRET_KEY is not set: generate one with "
                              "`python -c 'import secrets; print(secrets.token_hex(32))'` "
                              "and keep it secret and stable (it keys the user-id hash).")
        config["TSUNAGU_SECRET_KEY"] = _dev_secret_key(app.instance_path)
    if not config["LINE_API_BASE_URL"].startswith(("http://", "https://")):
        raise ConfigError("LINE_API_BASE_URL must start with http:// or https://")
    if config["REDIS_URL"] and not config["REDIS_URL"].startswith(
            ("redis://", "rediss://", "unix://")):
        raise ConfigError("TSUNAGU_REDIS_URL must look like redis://host:6379/0 (or be unset "
                          "to send replies from the webhook itself)")
    config["LINE_CONNECTED"] = bool(secret)
    config["MAX_CONTENT_LENGTH"] = config["MAX_BODY_BYTES"]
