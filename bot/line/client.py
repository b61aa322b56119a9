"""Talking to LINE's Messaging API: replies with bounded, budgeted retries."""

from __future__ import annotations

import logging
import time

import urllib3
from flask import Flask, current_app
from linebot.v3.messaging import ApiClient, ApiException, Configuration

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}


def reply_call(body: dict, timeout) -> dict:
    """Return the SDK `call_api` arguments that post a reply (LINE's JSON) as it is."""
    # MessagingApi.reply_message would validate and serialise models on every call and
    # parse LINE's answer; the messages are already LINE's JSON, so post them as they are.
    return {"resource_path": "/v2/bot/message/reply", "method": "POST",
            "header_params": {"Accept": "application/json",
                              "Content-Type": "application/json"},
            "body": body, "auth_settings": ["Bearer"], "response_types_map": {},
            "_request_timeout": timeout}


def worth_retrying(err: ApiException, attempt: int) -> bool:
    """Log LINE's error answer to a reply; return whether trying again may help."""
    if err.status not in RETRY_STATUSES:
        log.warning("LINE refused a reply: status %s", err.status)
        return False
    log.warning("LINE answered %s (attempt %d)", err.status, attempt)
    return True


class LineClient:
    """Send replies; retry passing failures only while the webhook's time budget lasts."""

    def __init__(self, base_url: str, access_token: str, budget: float = 1.2,
                 attempts: int = 3, pool_size: int = 64) -> None:
        config = Configuration(host=base_url, access_token=access_token)
        config.connection_pool_maxsize = pool_size
        config.retries = False  # our own loop below knows the time budget
        self.client = ApiClient(config)
        self.budget = budget
        self.attempts = attempts

    def reply(self, reply_token: str, messages: list[dict],
              deadline: float | None = None) -> bool:
        """Send a reply (messages as LINE's JSON) by the deadline; return whether LINE took it."""
        body = {"replyToken": reply_token, "messages": messages}
        if deadline is None:
            deadline = time.monotonic() + self.budget
        for attempt in range(1, self.attempts + 1):
            left = deadline - time.monotonic()
            if left <= 0.05:
                break
            try:
                self.client.call_api(**reply_call(body, left))
                return True
            except ApiException as err:
                if not worth_retrying(err, attempt):
                    return False
            except urllib3.exceptions.HTTPError as err:
                log.warning("LINE did not answer (attempt %d): %s", attempt, type(err).__name__)
            except Exception:  # noqa: BLE001 - the event is stored; a reply bug must not 500
                log.exception("could not send a reply")
                return False
            if attempt < self.attempts:
                time.sleep(min(0.1 * attempt, max(0.0, deadline - time.monotonic())))
        log.error("gave up on a reply within the time budget")
        return False


_KEY = "tsunagu.line"


def line_client(app: Flask | None = None) -> LineClient:
    """Return the app's LINE client (the app must be connected to LINE)."""
    return (app or current_app).extensions[_KEY]


def init_app(app: Flask) -> None:
    if app.config.get("LINE_CONNECTED"):
        app.extensions[_KEY] = LineClient(
            app.config["LINE_API_BASE_URL"], app.config["LINE_CHANNEL_ACCESS_TOKEN"],
            budget=app.config["LINE_REPLY_BUDGET"])
