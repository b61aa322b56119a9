"""The operator's view of the LINE channel: `tsunagu line status` and `tsunagu line test-webhook`.

Also what the rich menu commands use: the SDK's clients of this channel (the API host and the
data host, `LINE_API_DATA_BASE_URL`) and every LINE error said as one plain line
(`LineProblem`, exit code 1). The SDK is imported only when a command runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import click
from flask import Flask, current_app
from flask.cli import AppGroup

TIMEOUT = (5, 30)  # seconds to connect, and to wait for an answer (an upload is up to 1 MB)
CALLBACK_PATHS = ("/callback", "/callback/staging")  # where tsunagu takes LINE's webhooks


class LineProblem(click.ClickException):
    """LINE refused, or could not be reached; the message is one plain line."""


class Apis(NamedTuple):
    """The SDK's clients: the Messaging API and the data host (rich menu images)."""

    messaging: Any  # linebot.v3.messaging.MessagingApi
    blob: Any  # linebot.v3.messaging.MessagingApiBlob


def connected(app: Flask) -> bool:
    """Tell whether the app has a channel access token to talk to LINE with."""
    return bool(app.config.get("LINE_CHANNEL_ACCESS_TOKEN"))


def apis(app: Flask) -> Apis:
    """Return the SDK's clients for this channel; raise LineProblem when LINE is not set up."""
    if not connected(app):
        raise LineProblem("LINE is not connected: set LINE_CHANNEL_ACCESS_TOKEN (and "
                          "LINE_CHANNEL_SECRET) from the LINE Developers console")
    from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob

    def client(host: str) -> ApiClient:
        config = Configuration(host=host, access_token=app.config["LINE_CHANNEL_ACCESS_TOKEN"])
        config.retries = False  # one try: an operator sees at once what went wrong
        return ApiClient(config)

    return Apis(MessagingApi(client(app.config["LINE_API_BASE_URL"])),
                MessagingApiBlob(client(app.config["LINE_API_DATA_BASE_URL"])))


def _line_message(body: object) -> str:
    """Return the message (and details) of LINE's JSON error body, or ""."""
    try:
        found = json.loads(body) if isinstance(body, (str, bytes)) else {}
    except ValueError:
        return ""
    if not isinstance(found, dict):
        return ""
    message = str(found.get("message") or "")
    details = [f"{d.get('property')}: {d.get('message')}" if d.get("property")
               else str(d.get("message")) for d in found.get("details") or []
               if isinstance(d, dict)]
    return "; ".join(filter(None, [message, *details]))


def plain(err: Exception, setting: str = "LINE_API_BASE_URL") -> str:
    """Say a LINE error in one plain line: what happened and what to do."""
    import urllib3
    from linebot.v3.messaging import ApiException

    if isinstance(err, ApiException):
        status, said = err.status, _line_message(err.body)
        said = f": {said}" if said else ""
        if status == 401:
            return ("LINE refused the access token (401): check LINE_CHANNEL_ACCESS_TOKEN "
                    "(LINE Developers console, Messaging API channel)")
        if status == 403:
            return (f"LINE does not let this channel do that (403){said}; check the channel's "
                    "plan and permissions in the LINE Developers console")
        if status == 429:
            return ("LINE is limiting this channel's requests (429): wait a minute and try "
                    "again")
        if status >= 500:
            return f"LINE had a problem of its own ({status}): try again in a few minutes"
        return f"LINE refused the request ({status}){said}"
    reason = getattr(err, "reason", None) or err  # urllib3 wraps the cause in MaxRetryError
    # Before the timeouts: urllib3's NewConnectionError is also a ConnectTimeoutError.
    if isinstance(reason, (urllib3.exceptions.NewConnectionError, ConnectionError,
                           urllib3.exceptions.ProtocolError)):
        refused = "connection refused" if "refused" in str(reason).lower() else (
            type(reason).__name__)
        return f"could not connect to LINE ({refused}): check the network and {setting}"
    if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return f"LINE did not answer in time: try again, or check the network and {setting}"
    return f"could not talk to LINE ({type(err).__name__}): check the network and {setting}"


@contextmanager
def talking_to_line(setting: str = "LINE_API_BASE_URL") -> Iterator[None]:
    """Turn a LINE error inside the block into LineProblem (one plain line, exit code 1)."""
    import urllib3
    from linebot.v3.messaging import ApiException

    try:
        yield
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as err:
        raise LineProblem(plain(err, setting)) from None


def not_found(err: Exception) -> bool:
    """Tell whether a LINE error is a 404 (the thing asked for is not there)."""
    return getattr(err, "status", None) == 404


# ---- `tsunagu line` -----------------------------------------------------------------------

line_cli = AppGroup("line", help="Check the LINE channel: the bot, its webhook, its quota.")

CHAT_MODES = {
    "chat": "chat: people's messages also reach LINE Official Account Manager, where the "
            "operators can answer them by hand (the bot answers too)",
    "bot": "bot: only the bot answers; operators cannot answer chats by hand (turn chat on "
           "in LINE Official Account Manager to let them)",
}


def _webhook_line(endpoint: str, active: bool) -> str:
    if not endpoint:
        return ("Webhook: not set; LINE sends the bot nothing. Set it to "
                "https://<your host>/callback in the LINE Developers console.")
    state = ("active: LINE sends the bot every message" if active else
             "set but not active: LINE sends the bot nothing; turn \"Use webhook\" on in the "
             "LINE Developers console")
    line = f"Webhook: {endpoint}, {state}."
    if not endpoint.rstrip("/").endswith(CALLBACK_PATHS):
        line += " tsunagu takes webhooks at /callback (the staging account: /callback/staging)."
    return line


def _quota_line(quota, used: int) -> str:
    kind = getattr(quota.type, "value", quota.type)
    if kind == "limited" and quota.value is not None:
        share = f" ({used / quota.value:.0%})" if quota.value else ""
        return (f"Messages this month: {used:,} of {quota.value:,}{share}; replies are free "
                "and not counted, pushed messages are.")
    return f"Messages this month: {used:,} (no limit set)."


def status_lines(app: Flask) -> list[str]:
    """Ask LINE about the channel; return what `tsunagu line status` prints."""
    line = apis(app).messaging
    with talking_to_line():
        info = line.get_bot_info(_request_timeout=TIMEOUT)
        webhook = line.get_webhook_endpoint(_request_timeout=TIMEOUT)
        quota = line.get_message_quota(_request_timeout=TIMEOUT)
        used = line.get_message_quota_consumption(_request_timeout=TIMEOUT).total_usage
    mode = getattr(info.chat_mode, "value", info.chat_mode)
    premium = f", premium id {info.premium_id}" if info.premium_id else ""
    return [f"Bot: {info.display_name} ({info.basic_id}{premium})",
            f"Chat mode: {CHAT_MODES.get(mode, mode)}.",
            _webhook_line(webhook.endpoint or "", bool(webhook.active)),
            _quota_line(quota, used)]


@line_cli.command("status")
def status_command() -> None:
    """Show the bot's name, chat mode, webhook and message quota as LINE has them."""
    for text in status_lines(current_app):
        click.echo(text)


def test_webhook(app: Flask, url: str | None = None) -> tuple[bool, str]:
    """Make LINE call the webhook; return whether it answered 200 and the result in words."""
    from linebot.v3.messaging import TestWebhookEndpointRequest

    line = apis(app).messaging
    with talking_to_line():
        result = line.test_webhook_endpoint(TestWebhookEndpointRequest(endpoint=url),
                                            _request_timeout=TIMEOUT)
    where = url or "the webhook URL set in LINE"
    said = ", ".join(filter(None, [result.reason, result.detail]))
    said = f" ({said})" if said else ""
    if result.success:
        return True, f"LINE reached {where}: it answered {result.status_code}{said}."
    if result.status_code is None or result.status_code <= 0:
        return False, (f"LINE could not reach {where}{said}: check that the URL is right, "
                       "public and HTTPS, and that tsunagu is running.")
    return False, (f"LINE reached {where}, but it answered {result.status_code}{said}: "
                   "tsunagu answers 200 at /callback when LINE_CHANNEL_SECRET is this "
                   "channel's secret.")


@line_cli.command("test-webhook")
@click.option("--url", help="The URL LINE should call (default: the webhook URL set in LINE).")
def test_webhook_command(url: str | None) -> None:
    """Make LINE send a test event to the webhook, and say how it answered."""
    fine, text = test_webhook(current_app, url)
    if not fine:
        raise LineProblem(text)
    click.echo(text)
