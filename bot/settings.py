"""Settings: every environment variable tsunagu reads, parsed and checked in one place.

A bad value stops start-up with one line naming the variable and what it expects
(ConfigError); `tsunagu`, `wsgi.py` and `gunicorn.conf.py` print that line, not a traceback.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from flask import Flask
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from werkzeug.sansio.utils import host_is_trusted

HOW_TO_CONNECT = (
    "LINE is not connected: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (from the "
    "LINE Developers console, Messaging API channel) and restart. Until then tsunagu runs in "
    "development mode and /callback answers 503."
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


def http_url(url: str) -> str:
    """Return an http(s) URL as given; raise ValueError otherwise."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url


# The public address goes into every referral's page link; LINE takes a link of at most 1,000
# characters, and the page's signed token and the share text need the rest.
MAX_PUBLIC_URL = 100


def public_url(url: str) -> str:
    """Return the app's public address (or "") without its trailing slash; else ValueError."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be the address people reach tsunagu at, e.g. "
                         "https://tsunagu.example.jp")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("must be an address with no ?query, #fragment or user name")
    if len(url.rstrip("/")) > MAX_PUBLIC_URL:
        raise ValueError(f"must be at most {MAX_PUBLIC_URL} characters (it goes into LINE's "
                         "links, which take at most 1000)")
    return url.rstrip("/")


def redis_url(url: str) -> str:
    """Return a Redis URL (or "") as given; raise ValueError otherwise."""
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must look like redis://host:6379/0 (or be unset to send replies "
                         "from the webhook itself)")
    return url


# The machine's own names are always trusted: a health check on the host itself uses them.
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def host_list(value: str) -> list[str] | None:
    """Return the trusted host names of a comma-separated setting (None: any host)."""
    hosts = [part.strip().lower() for part in value.split(",") if part.strip()]
    return [*hosts, *LOCAL_HOSTS] if hosts else None


def cidr_list(value: str) -> str:
    """Return comma-separated CIDRs (or "") as given; raise ValueError otherwise."""
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"{part!r} is not an address or CIDR (e.g. 10.0.0.0/8)") from None
    return value


class Settings(BaseSettings):
    """The environment as tsunagu understands it; field names are the variables' names."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    TSUNAGU_ENV: Literal["development", "production"] = "development"
    LINE_CHANNEL_SECRET: str = ""
    LINE_CHANNEL_ACCESS_TOKEN: str = ""
    LINE_API_BASE_URL: str = "https://api.line.me"
    # LINE's data host: rich menu images go there (`tsunagu richmenu deploy`).
    LINE_API_DATA_BASE_URL: str = "https://api-data.line.me"
    LINE_REPLY_BUDGET: float = Field(1.2, gt=0, le=60)
    # Optional: a private test account that answers with a staged version (`tsunagu stage`).
    LINE_STAGING_CHANNEL_SECRET: str = ""
    LINE_STAGING_CHANNEL_ACCESS_TOKEN: str = ""
    DATABASE_URL: str = ""  # empty: SQLite in the instance folder
    TSUNAGU_SECRET_KEY: str = ""
    TSUNAGU_CONTENT_DIR: Path = PROJECT_ROOT / "content"
    TSUNAGU_FLOWS_DIR: Path = PROJECT_ROOT / "flows"
    # The font the rich menu image is drawn with (empty: the one installed with tsunagu).
    TSUNAGU_FONT: str = ""
    # Optional: with a Redis URL, replies go out through a queue after the webhook answers.
    TSUNAGU_REDIS_URL: str = ""
    # Several bots may share one Redis, each with its own stream.
    TSUNAGU_REPLY_STREAM: str = Field("tsunagu:replies", min_length=1)
    TSUNAGU_MAX_BODY_BYTES: int = Field(1024 * 1024, gt=0)
    # How often each process looks which version is live: a publish reaches every worker
    # within this (one small query per process per period).
    TSUNAGU_CONTENT_REFRESH_SECONDS: float = Field(2.0, gt=0, le=60)
    # Fiscal years a referral record is kept after its own (`tsunagu purge`; the privacy note).
    TSUNAGU_KEEP_REFERRAL_YEARS: int = Field(5, ge=1, le=30)
    # A contact fact not checked against its source for longer is worth checking again:
    # `tsunagu check` warns on it.
    TSUNAGU_FACTS_STALE_DAYS: int = Field(180, ge=1, le=3650)
    # Published tables (`tsunagu export --public`) hide counts from 1 to this minus one.
    TSUNAGU_SUPPRESS_BELOW: int = Field(10, ge=1, le=1000)
    # The counselors' console (/admin): a session idle this long must log in again.
    TSUNAGU_ADMIN_IDLE_MINUTES: int = Field(480, ge=1, le=7 * 24 * 60)
    # Comma-separated CIDRs allowed to reach /admin (empty: every address).
    TSUNAGU_ADMIN_ALLOW: str = ""
    # How many reverse proxies in front of the app set X-Forwarded-For (and -Proto, -Host):
    # the console's allow-list and login throttle then see the person's address, not the
    # proxy's. 0: no proxy (the headers are ignored: anyone could send them).
    TSUNAGU_PROXY_HOPS: int = Field(0, ge=0, le=5)
    # The host names people and LINE reach the app at (comma-separated; ".example.jp" takes
    # its subdomains too). Required in production: another Host header answers 400, so no
    # page or redirect is ever built from a name an attacker sent.
    TSUNAGU_TRUSTED_HOSTS: str = ""
    # Console password checks run at once per process (each takes argon2's 64 MiB); a login
    # past them answers 503 "try again".
    TSUNAGU_LOGIN_CONCURRENCY: int = Field(2, ge=1, le=64)
    # The https address people reach the app at: each referral then gets a button to its own
    # page there (bot/sheet). Empty: no button.
    TSUNAGU_PUBLIC_URL: str = ""
    # gunicorn.conf.py
    # Only this machine by default: in production a reverse proxy in front (README) takes
    # the connections, holds slow clients and speaks TLS.
    TSUNAGU_BIND: str = "127.0.0.1:8000"
    # A request must arrive whole within this many seconds of its first byte (bot/server.py).
    TSUNAGU_READ_TIMEOUT: float = Field(10.0, gt=0, le=300)
    TSUNAGU_WORKERS: int = Field(default_factory=multiprocessing.cpu_count, gt=0)
    TSUNAGU_THREADS: int | None = Field(None, gt=0)  # None: 8 with the reply queue, else 32
    TSUNAGU_LOG_LEVEL: Literal["debug", "info", "warning", "error", "critical"] = "info"

    _http = field_validator("LINE_API_BASE_URL", "LINE_API_DATA_BASE_URL")(
        lambda cls, url: http_url(url))
    _redis = field_validator("TSUNAGU_REDIS_URL")(lambda cls, url: redis_url(url))
    _allow = field_validator("TSUNAGU_ADMIN_ALLOW")(lambda cls, value: cidr_list(value))
    _public = field_validator("TSUNAGU_PUBLIC_URL")(lambda cls, url: public_url(url))

    @field_validator("TSUNAGU_LOG_LEVEL", mode="before")
    @classmethod
    def _lower(cls, level: object) -> object:
        return level.lower() if isinstance(level, str) else level

    @property
    def threads(self) -> int:
        """Return gunicorn's threads per worker (docs/performance.md says why these)."""
        return self.TSUNAGU_THREADS or (8 if self.TSUNAGU_REDIS_URL else 32)


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "a setting"
    message = first["msg"].removeprefix("Value error, ")
    return f"{name}={first.get('input')!r} is not valid: {message}"


def read() -> Settings:
    """Read and check the environment; raise ConfigError naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as err:
        raise ConfigError(_one_line(err)) from None


def content_folders() -> dict[str, str]:
    """Return where the content and flows live (all `tsunagu check` needs)."""
    settings = read()
    return {"CONTENT_DIR": str(settings.TSUNAGU_CONTENT_DIR),
            "FLOWS_DIR": str(settings.TSUNAGU_FLOWS_DIR)}


def from_env(instance_path: str) -> dict:
    """Return the Flask config of the environment's settings."""
    s = read()
    return {
        "ENV": s.TSUNAGU_ENV,
        "LINE_CHANNEL_SECRET": s.LINE_CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": s.LINE_CHANNEL_ACCESS_TOKEN,
        "LINE_API_BASE_URL": s.LINE_API_BASE_URL,
        "LINE_API_DATA_BASE_URL": s.LINE_API_DATA_BASE_URL,
        "LINE_REPLY_BUDGET": s.LINE_REPLY_BUDGET,
        "LINE_STAGING_CHANNEL_SECRET": s.LINE_STAGING_CHANNEL_SECRET,
        "LINE_STAGING_CHANNEL_ACCESS_TOKEN": s.LINE_STAGING_CHANNEL_ACCESS_TOKEN,
        "DATABASE_URL": s.DATABASE_URL or f"sqlite:///{Path(instance_path) / 'tsunagu.sqlite'}",
        "TSUNAGU_SECRET_KEY": s.TSUNAGU_SECRET_KEY,
        "CONTENT_DIR": str(s.TSUNAGU_CONTENT_DIR),
        "FLOWS_DIR": str(s.TSUNAGU_FLOWS_DIR),
        "FONT": s.TSUNAGU_FONT,
        "REDIS_URL": s.TSUNAGU_REDIS_URL,
        "REPLY_STREAM": s.TSUNAGU_REPLY_STREAM,
        "MAX_BODY_BYTES": s.TSUNAGU_MAX_BODY_BYTES,
        "KEEP_REFERRAL_YEARS": s.TSUNAGU_KEEP_REFERRAL_YEARS,
        "SUPPRESS_BELOW": s.TSUNAGU_SUPPRESS_BELOW,
        "FACTS_STALE_DAYS": s.TSUNAGU_FACTS_STALE_DAYS,
        "CONTENT_REFRESH_SECONDS": s.TSUNAGU_CONTENT_REFRESH_SECONDS,
        "ADMIN_IDLE_MINUTES": s.TSUNAGU_ADMIN_IDLE_MINUTES,
        "ADMIN_ALLOW": s.TSUNAGU_ADMIN_ALLOW,
        "PROXY_HOPS": s.TSUNAGU_PROXY_HOPS,
        "LOGIN_CONCURRENCY": s.TSUNAGU_LOGIN_CONCURRENCY,
        "TRUSTED_HOSTS": host_list(s.TSUNAGU_TRUSTED_HOSTS),
        "PUBLIC_URL": s.TSUNAGU_PUBLIC_URL,
    }


def _dev_secret_key(instance_path: str) -> str:
    """Keep one random key per development instance, so hashes stay stable across restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _check_public_url(config, production: bool) -> None:
    """Refuse a public address the page could not be reached at (or, in production, http)."""
    try:
        config["PUBLIC_URL"] = url = public_url(config.get("PUBLIC_URL", ""))
    except ValueError as err:
        raise ConfigError(f"TSUNAGU_PUBLIC_URL={config['PUBLIC_URL']!r} is not valid: "
                          f"{err}") from None
    if not url:
        return
    if production and not url.startswith("https://"):
        raise ConfigError(f"TSUNAGU_PUBLIC_URL={url!r} is not valid: in production it must "
                          "start with https:// (the reverse proxy speaks TLS)")
    host, trusted = urlsplit(url).hostname, config.get("TRUSTED_HOSTS")
    if trusted and not host_is_trusted(host, trusted):
        raise ConfigError(f"TSUNAGU_PUBLIC_URL's host {host!r} is not in "
                          "TSUNAGU_TRUSTED_HOSTS: the page would answer 400; add it there")


def check(app: Flask) -> None:
    """Check settings that depend on each other; raise ConfigError naming the fix."""
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
    if production and not config.get("TRUSTED_HOSTS"):
        raise ConfigError("TSUNAGU_TRUSTED_HOSTS is not set: name the host people and LINE "
                          "reach the bot at (e.g. tsunagu.pref.akita.example), comma-separated "
                          "if there are several.")
    # Also checked here: a test or an embedding app may pass these in test_config.
    for name, key, valid in (("LINE_API_BASE_URL", "LINE_API_BASE_URL", http_url),
                             ("LINE_API_DATA_BASE_URL", "LINE_API_DATA_BASE_URL", http_url),
                             ("TSUNAGU_REDIS_URL", "REDIS_URL", redis_url)):
        try:
            valid(config[key])
        except ValueError as err:
            raise ConfigError(f"{name}={config[key]!r} is not valid: {err}") from None
    _check_public_url(config, production)
    config["LINE_CONNECTED"] = bool(secret)
    staging = (config.get("LINE_STAGING_CHANNEL_SECRET", ""),
               config.get("LINE_STAGING_CHANNEL_ACCESS_TOKEN", ""))
    if bool(staging[0]) != bool(staging[1]):
        missing = ("LINE_STAGING_CHANNEL_ACCESS_TOKEN" if staging[0]
                   else "LINE_STAGING_CHANNEL_SECRET")
        raise ConfigError(f"{missing} is not set; the staging account needs both its channel "
                          "secret and its channel access token.")
    config["LINE_STAGING_CONNECTED"] = bool(staging[0])
    config["MAX_CONTENT_LENGTH"] = config["MAX_BODY_BYTES"]
