"""Webhook events as LINE sends them, and watching what the bot sent LINE."""

from __future__ import annotations

import copy
import http.client
import json
import time
from urllib.parse import urlsplit

from tests.support.line_api import REPLY_PATH
from tests.support.line_user import LineUser, sign


def text_event(user: LineUser, text: str) -> dict:
    """Return a text message event from this person."""
    return user.event("message", message={"id": str(time.monotonic_ns()), "type": "text",
                                           "text": text, "quoteToken": "q"})


def tap_event(user: LineUser, label: str) -> dict:
    """Return the postback of tapping a button of the newest reply."""
    return user.event("postback", postback={"data": user.button_data(label)})


def redelivered(event: dict) -> dict:
    """Return the event as LINE redelivers it: same id, flagged as a redelivery."""
    again = copy.deepcopy(event)
    again["deliveryContext"]["isRedelivery"] = True
    return again


def timed_post(user: LineUser, event: dict) -> tuple[int, float]:
    """Post one event; return the status and the seconds the webhook took."""
    start = time.monotonic()
    status = user.post(event).status_code
    return status, time.monotonic() - start


def post_as_line(url: str, *events: dict) -> tuple[int, float]:
    """Post events as LINE does; return the status and the seconds until the whole answer."""
    body = json.dumps({"destination": "U0", "events": list(events)}).encode()
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    start = time.monotonic()
    connection.request("POST", "/callback", body=body, headers={
        "Content-Type": "application/json", "X-Line-Signature": sign(body.decode())})
    response = connection.getresponse()
    response.read()
    took = time.monotonic() - start
    connection.close()
    return response.status, took


def reply_calls(line_api, token: str) -> list:
    """Return every reply call the bot made with this reply token, answered or not."""
    return [call for call in list(line_api.requests)
            if call.path == REPLY_PATH and call.body.get("replyToken") == token]


def wait_until(check, timeout: float = 10.0, step: float = 0.02):
    """Poll until check() is truthy; return its value, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {check}")
        time.sleep(step)
    return value
