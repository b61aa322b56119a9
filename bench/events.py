"""Signed LINE webhook bodies, built as cheaply as possible (no SDK models, no validation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass

DESTINATION = "U" + "0" * 32
HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "LineBotWebhook/2.0"}


@dataclass(frozen=True)
class Webhook:
    token: str  # the reply token of its one event
    body: bytes
    headers: dict[str, str]


class EventFactory:
    """Make one-event webhooks with unique event ids and reply tokens, signed for a channel."""

    def __init__(self, channel_secret: str) -> None:
        self.key = channel_secret.encode()
        self.run = secrets.token_hex(4).upper()
        self.counter = itertools.count(1)

    def user_id(self) -> str:
        """Return a fresh LINE user id."""
        return "U" + secrets.token_hex(16)

    def follow(self, user_id: str) -> Webhook:
        """Build a follow event (the person added the account)."""
        return self._build(user_id, "follow", {"follow": {"isUnblocked": False}})

    def text(self, user_id: str, text: str) -> Webhook:
        """Build a text message event."""
        n = next(self.counter)
        message = {"id": str(n), "type": "text", "text": text, "quoteToken": "q" + str(n)}
        return self._build(user_id, "message", {"message": message}, n)

    def postback(self, user_id: str, data: str) -> Webhook:
        """Build a postback event (the person tapped a button)."""
        return self._build(user_id, "postback", {"postback": {"data": data}})

    def sign(self, body: bytes) -> str:
        """Return the X-Line-Signature of a body: base64 HMAC-SHA256 under the secret."""
        return base64.b64encode(hmac.new(self.key, body, hashlib.sha256).digest()).decode()

    def _build(self, user_id: str, kind: str, fields: dict, n: int | None = None) -> Webhook:
        n = n or next(self.counter)
        token = f"{self.run}{n:024x}"
        event = {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
                 "source": {"type": "user", "userId": user_id},
                 "webhookEventId": f"01{self.run}{n:016X}",
                 "deliveryContext": {"isRedelivery": False}, "replyToken": token, **fields}
        body = json.dumps({"destination": DESTINATION, "events": [event]},
                          ensure_ascii=False, separators=(",", ":")).encode()
        return Webhook(token, body, {**HEADERS, "X-Line-Signature": self.sign(body)})
