"""CPU per webhook event, in one process: whole conversations through the signed webhook.

    .venv/bin/python bench/cpu.py [--conversations 200] [--repeat 5] [--db sqlite|postgresql]

No gunicorn, no HTTP to LINE (the reply call is replaced by one that keeps the messages), so
what is left is the bot's own work per event: verify, decide, store, render. It prints the
median process CPU time per event over the repeats. Run by path, it measures whichever `bot`
package the interpreter imports, so the same file compares two checkouts (each with its own
venv): `cd OTHER && .venv/bin/python /path/to/bench/cpu.py`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

SECRET = "bench-secret"
TAPS = ["ご本人", "40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい", "県南",
        "大仙市"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    return parser.parse_args()


def make_app(url: str):
    from bot import create_app
    from bot.db.database import database
    from bot.db.models import Base
    from bot.line import client

    app = create_app({"DATABASE_URL": url, "LINE_CHANNEL_SECRET": SECRET,
                      "LINE_CHANNEL_ACCESS_TOKEN": "token", "TSUNAGU_SECRET_KEY": "k" * 32,
                      "LINE_CONNECTED": True, "ENV": "production",
                      "TRUSTED_HOSTS": ["localhost"]})
    Base.metadata.create_all(database(app).engine)
    replies: dict[str, list] = {}

    def reply(self, token, messages, deadline=None):
        replies[token] = messages
        return True

    client.LineClient.reply = reply
    return app, replies


def post(http, event: dict) -> None:
    body = json.dumps({"destination": "U0", "events": [event]}, ensure_ascii=False)
    signature = base64.b64encode(hmac.new(SECRET.encode(), body.encode(),
                                          hashlib.sha256).digest()).decode()
    response = http.post("/callback", data=body.encode(), content_type="application/json",
                         headers={"X-Line-Signature": signature})
    assert response.status_code == 200, response.data


def event(user: str, kind: str, **fields) -> dict:
    return {"type": kind, "mode": "active", "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user},
            "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
            "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
            **fields}


def conversation(http, replies: dict) -> int:
    """Play one whole conversation; return how many events it took."""
    user = "U" + uuid.uuid4().hex
    first = event(user, "follow", follow={"isUnblocked": False})
    post(http, first)
    last = replies[first["replyToken"]]
    for label in TAPS:
        items = last[-1]["quickReply"]["items"]
        data = next(i["action"]["data"] for i in items if i["action"]["label"] == label)
        tap = event(user, "postback", postback={"data": data})
        post(http, tap)
        last = replies[tap["replyToken"]]
    return 1 + len(TAPS)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'cpu.sqlite'}"
        else:
            import psycopg

            name = "bench_cpu"
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                                 autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        app, replies = make_app(url)
        http = app.test_client()
        for _ in range(20):  # warm caches
            conversation(http, replies)
        per_event = []
        for _ in range(args.repeat):
            start, events = time.process_time(), 0
            for _ in range(args.conversations):
                events += conversation(http, replies)
            per_event.append((time.process_time() - start) / events * 1000)
            replies.clear()
    import bot

    print(f"{Path(bot.__file__).parent.parent}: {args.db}: median "
          f"{statistics.median(per_event):.3f} ms CPU/event "
          f"({', '.join(f'{x:.3f}' for x in per_event)})")


if __name__ == "__main__":
    main()
