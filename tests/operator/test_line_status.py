"""`tsunagu line status` and `tsunagu line test-webhook` against the LINE stand-in, and every
LINE error said as one plain line with a non-zero exit code."""

from __future__ import annotations

import socket

import pytest

from bot.db.database import database
from bot.operator import channel
from tests.support.apps import make_app
from tests.support.line_api import (
    BOT_INFO_PATH,
    CONSUMPTION_PATH,
    QUOTA_PATH,
    WEBHOOK_ENDPOINT_PATH,
    WEBHOOK_TEST_PATH,
)


def status(runner):
    return runner.invoke(args=["line", "status"])


def test_status_says_the_bot_its_chat_mode_webhook_and_quota(runner, line_api):
    line_api.total_usage = 250

    result = status(runner)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Bot: あきた就職氷河期世代活躍支援 (@123tsunagu)",
        "Chat mode: bot: only the bot answers; operators cannot answer chats by hand (turn "
        "chat on in LINE Official Account Manager to let them).",
        "Webhook: https://tsunagu.example.jp/callback, active: LINE sends the bot every "
        "message.",
        "Messages this month: 250 of 1,000 (25%); replies are free and not counted, pushed "
        "messages are.",
    ]
    assert sorted(c.path for c in line_api.requests) == sorted(
        [BOT_INFO_PATH, WEBHOOK_ENDPOINT_PATH, QUOTA_PATH, CONSUMPTION_PATH])


def test_status_says_what_chat_mode_lets_operators_do_and_what_is_missing(runner, line_api):
    line_api.bot_info.update(chatMode="chat", markAsReadMode="manual", premiumId="@tsunagu")
    line_api.webhook = {"endpoint": "https://tsunagu.example.jp/hook", "active": False}
    line_api.quota = {"type": "none"}
    line_api.total_usage = 12

    said = status(runner).output

    assert "Bot: あきた就職氷河期世代活躍支援 (@123tsunagu, premium id @tsunagu)" in said
    assert ("Chat mode: chat: people's messages also reach LINE Official Account Manager, "
            "where the operators can answer them by hand (the bot answers too).") in said
    assert ("Webhook: https://tsunagu.example.jp/hook, set but not active: LINE sends the bot "
            "nothing; turn \"Use webhook\" on in the LINE Developers console. tsunagu takes "
            "webhooks at /callback") in said
    assert "Messages this month: 12 (no limit set)." in said


def test_status_says_when_no_webhook_url_is_set(runner, line_api):
    line_api.webhook = {"endpoint": "", "active": False}
    assert ("Webhook: not set; LINE sends the bot nothing. Set it to "
            "https://<your host>/callback") in status(runner).output


def test_test_webhook_reports_lines_call(runner, line_api):
    result = runner.invoke(args=["line", "test-webhook"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("LINE reached the webhook URL set in LINE: it answered "
                                     "200 (OK, 200).")
    test, = line_api.requests
    assert (test.path, test.body) == (WEBHOOK_TEST_PATH, {})


def test_test_webhook_with_a_url_and_a_webhook_that_fails(runner, line_api):
    line_api.webhook_test = {"success": False, "statusCode": 404, "reason": "NOT_FOUND",
                             "detail": "404 Not Found"}

    result = runner.invoke(args=["line", "test-webhook", "--url",
                                 "https://tsunagu.example.jp/wrong"])

    assert result.exit_code == 1
    assert ("LINE reached https://tsunagu.example.jp/wrong, but it answered 404 (NOT_FOUND, "
            "404 Not Found)") in result.output
    assert line_api.requests[0].body == {"endpoint": "https://tsunagu.example.jp/wrong"}


def test_test_webhook_that_lines_cannot_reach(runner, line_api):
    line_api.webhook_test = {"success": False, "statusCode": 0, "reason": "COULD_NOT_CONNECT",
                             "detail": "Connection refused"}
    result = runner.invoke(args=["line", "test-webhook"])
    assert result.exit_code == 1
    assert "LINE could not reach the webhook URL set in LINE (COULD_NOT_CONNECT" in result.output


@pytest.mark.parametrize("fault, said", [
    (500, "LINE had a problem of its own (500): try again in a few minutes"),
    (503, "LINE had a problem of its own (503): try again in a few minutes"),
    (429, "LINE is limiting this channel's requests (429): wait a minute and try again"),
    (403, "LINE does not let this channel do that (403): Forbidden; check the channel's plan"),
])
def test_a_line_error_is_one_plain_line(runner, line_api, fault, said):
    line_api.fail_next(1, fault)

    result = status(runner)

    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {said}")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.fixture
def app_with(database_url, line_api):
    made = []

    def make(**config):
        made.append(make_app(database_url, line_api, **config))
        return made[-1]

    yield make
    for app in made:
        database(app).dispose()


def test_a_wrong_token_is_401_said_plainly(app_with, line_api):
    app = app_with(LINE_CHANNEL_ACCESS_TOKEN="an-old-token")

    for args in (["line", "status"], ["line", "test-webhook"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1
        assert result.output.strip() == ("Error: LINE refused the access token (401): check "
                                         "LINE_CHANNEL_ACCESS_TOKEN (LINE Developers console, "
                                         "Messaging API channel)")
    assert line_api.violations and all("Authorization" in v for v in line_api.violations)
    line_api.clear()


def test_line_not_answering_is_said_plainly(app_with, line_api, monkeypatch):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    refused = app_with(LINE_API_BASE_URL=f"http://127.0.0.1:{port}")
    result = refused.test_cli_runner().invoke(args=["line", "status"])
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: could not connect to LINE (connection refused): "
                                     "check the network and LINE_API_BASE_URL")

    monkeypatch.setattr(channel, "TIMEOUT", (1, 0.3))
    line_api.delay = 1.0
    slow = app_with().test_cli_runner().invoke(args=["line", "status"])
    assert slow.exit_code == 1
    assert slow.output.strip() == ("Error: LINE did not answer in time: try again, or check "
                                   "the network and LINE_API_BASE_URL")


def test_without_line_settings_the_commands_say_what_to_set(app_with):
    app = app_with(LINE_CHANNEL_SECRET="", LINE_CHANNEL_ACCESS_TOKEN="", LINE_CONNECTED=False)
    for args in (["line", "status"], ["line", "test-webhook"], ["richmenu", "status"],
                 ["richmenu", "deploy"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, args
        assert "LINE is not connected: set LINE_CHANNEL_ACCESS_TOKEN" in result.output
