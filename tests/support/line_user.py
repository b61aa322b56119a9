"""A person on LINE: what they do becomes a signed webhook; what they get back is read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from tests.support.line_api import LineApi

SECRET = "test-channel-secret"
TOKEN = "test-token"


def sign(body: str, secret: str = SECRET) -> str:
    """Sign a webhook body exactly as LINE does."""
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class LineUser:
    """A person on LINE: what they do becomes a signed webhook; what they get back is read."""

    def __init__(self, client, api: LineApi, user_id: str | None = None,
                 path: str = "/callback", secret: str = SECRET) -> None:
        self.client = client
        self.api = api
        self.path = path  # the webhook of the account they talk to (the staging one's too)
        self.secret = secret
        self.user_id = user_id or "U" + uuid.uuid4().hex
        self.last_token = ""
        self.last_response = None

    def event(self, kind: str, **fields) -> dict:
        self.last_token = uuid.uuid4().hex
        return {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
                "source": {"type": "user", "userId": self.user_id},
                "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
                "deliveryContext": {"isRedelivery": False},
                "replyToken": self.last_token, **fields}

    def post(self, *events: dict, signature: str | None = None):
        body = json.dumps({"destination": "Uxxxxxxxx", "events": list(events)})
        self.last_response = self.client.post(
            self.path, data=body, content_type="application/json",
            headers={"X-Line-Signature": sign(body, self.secret) if signature is None
                     else signature})
        return self.last_response

    def send(self, event: dict) -> list[str]:
        response = self.post(event)
        assert response.status_code == 200, response.data
        return self.texts

    def follow(self) -> list[str]:
        return self.send(self.event("follow", follow={"isUnblocked": False}))

    def unfollow(self):
        event = self.event("unfollow")
        del event["replyToken"]
        return self.post(event)

    def say(self, text: str) -> list[str]:
        message = {"id": uuid.uuid4().hex[:12], "type": "text", "text": text,
                   "quoteToken": "q"}
        return self.send(self.event("message", message=message))

    def send_sticker(self) -> list[str]:
        message = {"id": "1", "type": "sticker", "packageId": "446", "stickerId": "1988",
                   "stickerResourceType": "STATIC", "quoteToken": "q"}
        return self.send(self.event("message", message=message))

    def postback(self, data: str) -> list[str]:
        return self.send(self.event("postback", postback={"data": data}))

    def tap(self, label: str) -> list[str]:
        """Tap the quick-reply button with this label in the newest reply."""
        return self.postback(self.button_data(label))

    def menu(self, action: str, **more: str) -> list[str]:
        """Tap an area of the rich menu (its postback: `m=<action>`)."""
        from bot.dialogue.engine import menu_data

        return self.postback(menu_data(action, **more))

    def tap_card(self, label: str) -> list[str]:
        """Tap the postback button with this label on a card of the newest reply."""
        return self.postback(self.card_data(label))

    def card_data(self, label: str) -> str:
        for action in self.card_actions:
            if action.get("label") == label and action.get("type") == "postback":
                return action["data"]
        raise AssertionError(f"no card button {label!r} in {self.card_labels}")

    @property
    def card_actions(self) -> list[dict]:
        """Every action of the Flex cards of the newest reply."""
        found: list[dict] = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("type") == "button" and isinstance(node.get("action"), dict):
                    found.append(node["action"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk([m for m in self.messages if m.get("type") == "flex"])
        return found

    @property
    def card_labels(self) -> list[str]:
        return [action.get("label", "") for action in self.card_actions]

    def button_data(self, label: str) -> str:
        for item in self.quick_replies:
            if item["action"]["label"] == label:
                return item["action"]["data"]
        raise AssertionError(f"no button {label!r} in {self.buttons}")

    @property
    def messages(self) -> list[dict]:
        """The messages of the reply to this person's newest event ([] if none)."""
        return self.api.reply_for(self.last_token)

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or m.get("altText", "") for m in self.messages]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def quick_replies(self) -> list[dict]:
        if not self.messages:
            return []
        return (self.messages[-1].get("quickReply") or {}).get("items", [])

    @property
    def buttons(self) -> list[str]:
        return [item["action"]["label"] for item in self.quick_replies]
