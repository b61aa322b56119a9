"""Prove the LINE Messaging API stand-in accepts what LINE accepts and rejects what LINE rejects."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    MessagingApi,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
    URIAction,
)
from pytest_httpserver import HTTPServer

from tests.support.line_api import LineApi, load_spec

REPLY = "/v2/bot/message/reply"


@pytest.fixture
def api(httpserver: HTTPServer) -> LineApi:
    """Serve the stand-in on the test's HTTP server."""
    return LineApi(httpserver)


@pytest.fixture
def line(api: LineApi) -> Iterator[MessagingApi]:
    """Give a real SDK client pointed at the stand-in."""
    with ApiClient(Configuration(host=api.url, access_token="test-token")) as client:
        yield MessagingApi(client)


def menu_text(items: int = 3) -> TextMessage:
    """Build a text message with a quick reply of postback buttons."""
    buttons = [
        QuickReplyItem(action=PostbackAction(label=f"選択{i}", data=f"pick={i}", display_text="OK"))
        for i in range(items)
    ]
    return TextMessage(text="ご相談の内容を選んでください", quick_reply=QuickReply(items=buttons))


def office_bubble(name: str) -> FlexBubble:
    """Build a bubble with text in boxes and tel: and https: buttons."""
    body = FlexBox(
        layout="vertical",
        contents=[
            FlexText(text=name, weight="bold", wrap=True),
            FlexBox(layout="baseline", contents=[FlexText(text="平日 9:00-17:00", flex=1)]),
        ],
    )
    footer = FlexBox(
        layout="vertical",
        contents=[
            FlexButton(action=URIAction(label="電話する", uri="tel:0186523951"), style="primary"),
            FlexButton(action=URIAction(label="サイト", uri="https://example.jp/akita")),
        ],
    )
    return FlexBubble(body=body, footer=footer)


def offices(alt_text: str = "相談窓口の一覧") -> FlexMessage:
    """Build a Flex carousel of two office bubbles."""
    bubbles = [office_bubble("あきた若者サポート"), office_bubble("ジョブカフェ")]
    return FlexMessage(alt_text=alt_text, contents=FlexCarousel(contents=bubbles))


def reply(line: MessagingApi, token: str, *messages) -> object:
    """Send a reply through the SDK."""
    return line.reply_message(ReplyMessageRequest(reply_token=token, messages=list(messages)))


def post_raw(api: LineApi, path: str, body: object, token: str = "test-token") -> tuple[int, dict]:
    """POST a JSON body the SDK would refuse to build; return status and decoded answer."""
    request = urllib.request.Request(
        api.url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def valid_reply_body() -> dict:
    """Return the JSON the SDK sends for a text-with-quick-reply plus carousel reply."""
    request = ReplyMessageRequest(reply_token="raw-token", messages=[menu_text(), offices()])
    return json.loads(request.to_json())


def test_valid_reply_is_accepted_and_recorded(api: LineApi, line: MessagingApi) -> None:
    response = reply(line, "token-1", menu_text(items=13), offices())

    assert api.violations == []
    assert len(response.sent_messages) == 2
    assert response.sent_messages[0].quote_token  # Text messages can be quoted.
    assert api.reply_texts() == ["ご相談の内容を選んでください", "相談窓口の一覧"]
    assert api.replies[0]["replyToken"] == "token-1"
    footer = api.last_reply()[1]["contents"]["contents"][0]["footer"]["contents"]
    assert [button["action"]["uri"] for button in footer] == [
        "tel:0186523951",
        "https://example.jp/akita",
    ]
    (call,) = api.requests
    assert (call.path, call.status) == (REPLY, 200)
    assert call.headers["Authorization"] == "Bearer test-token"


def test_reply_for_finds_the_accepted_reply_to_a_token(api: LineApi, line: MessagingApi) -> None:
    reply(line, "token-1", TextMessage(text="一つ目"))
    reply(line, "token-2", TextMessage(text="二つ目"), offices())

    assert [m["type"] for m in api.reply_for("token-2")] == ["text", "flex"]
    assert api.reply_for("token-1")[0]["text"] == "一つ目"
    assert api.reply_for("never-used") == []


def test_limits_are_inclusive(api: LineApi) -> None:
    body = valid_reply_body()
    text, flex = body["messages"]
    text["text"] = "あ" * 5000
    flex["altText"] = "い" * 1500
    item = text["quickReply"]["items"][0]
    item["action"].update(label="x" * 20, data="d" * 300, displayText="t" * 300)
    text["quickReply"]["items"] = [item] * 13
    body["messages"] = [text, flex, text, text, text]

    status, answer = post_raw(api, REPLY, body)

    assert (status, api.violations) == (200, [])
    assert len(answer["sentMessages"]) == 5


def test_push_and_loading_answer_like_line(api: LineApi, line: MessagingApi) -> None:
    pushed = line.push_message(PushMessageRequest(to="U" + "0" * 32, messages=[offices()]))
    loading = line.show_loading_animation_with_http_info(
        ShowLoadingAnimationRequest(chat_id="U" + "0" * 32, loading_seconds=10)
    )

    assert api.violations == []
    assert pushed.sent_messages[0].id
    assert pushed.sent_messages[0].quote_token is None  # Only quotable types get one.
    assert (loading.status_code, loading.data) == (202, {})
    assert api.replies == []  # Pushes are not replies.


def _drop_text(body: dict) -> None:
    del body["messages"][0]["text"]


def _six_messages(body: dict) -> None:
    body["messages"] = body["messages"] * 3


def _fourteen_quick_replies(body: dict) -> None:
    items = body["messages"][0]["quickReply"]["items"]
    items[:] = items[:1] * 14


def _first_action(body: dict) -> dict:
    return body["messages"][0]["quickReply"]["items"][0]["action"]


def _first_button(body: dict) -> dict:
    return body["messages"][1]["contents"]["contents"][0]["footer"]["contents"][0]


REJECTED: dict[str, tuple[Callable[[dict], object], str]] = {
    "text message without text": (_drop_text, "messages[0]: 'text' is a required property"),
    "six messages": (_six_messages, "messages: Size must be at most 5 (is 6)"),
    "fourteen quick replies": (
        _fourteen_quick_replies,
        "messages[0].quickReply.items: Size must be at most 13 (is 14)",
    ),
    "21-character label": (
        lambda body: _first_action(body).update(label="x" * 21),
        "messages[0].quickReply.items[0].action.label: Length must be at most 20 (is 21)",
    ),
    "missing quick-reply label": (
        lambda body: _first_action(body).pop("label"),
        "messages[0].quickReply.items[0].action.label: Required",
    ),
    "301-character postback data": (
        lambda body: _first_action(body).update(data="d" * 301),
        "messages[0].quickReply.items[0].action.data: Length must be at most 300 (is 301)",
    ),
    "301-character displayText": (
        lambda body: _first_action(body).update(displayText="t" * 301),
        "messages[0].quickReply.items[0].action.displayText: Length must be at most 300",
    ),
    "unknown action type": (
        lambda body: _first_action(body).update(type="call"),
        "messages[0].quickReply.items[0].action.type: 'call' is not a valid type",
    ),
    "5001-character text": (
        lambda body: body["messages"][0].update(text="x" * 5001),
        "messages[0].text: Length must be at most 5000 (is 5001)",
    ),
    "1501-character altText": (
        lambda body: body["messages"][1].update(altText="x" * 1501),
        "messages[1].altText: Length must be at most 1500 (is 1501)",
    ),
    "unknown flex component": (
        lambda body: _first_button(body).update(type="link"),
        "messages[1].contents.contents[0].footer.contents[0].type: 'link' is not a valid type",
    ),
    "box as carousel item": (
        lambda body: body["messages"][1]["contents"]["contents"].append(
            {"type": "box", "layout": "vertical", "contents": []}
        ),
        "messages[1].contents.contents[2].type: 'box' is not one of ['bubble']",
    ),
    "box without layout": (
        lambda body: body["messages"][1]["contents"]["contents"][0]["body"].pop("layout"),
        "messages[1].contents.contents[0].body: 'layout' is a required property",
    ),
    "mailto: button": (
        lambda body: _first_button(body)["action"].update(uri="mailto:a@example.jp"),
        "footer.contents[0].action.uri: Invalid URI scheme 'mailto'",
    ),
    "1001-character URI": (
        lambda body: _first_button(body)["action"].update(uri="https://e.jp/" + "a" * 988),
        "footer.contents[0].action.uri: Length must be at most 1000 (is 1001)",
    ),
}


@pytest.mark.parametrize(("break_body", "expected"), REJECTED.values(), ids=REJECTED.keys())
def test_invalid_reply_is_rejected_and_recorded(
    api: LineApi, break_body: Callable[[dict], object], expected: str
) -> None:
    body = valid_reply_body()
    break_body(body)

    status, answer = post_raw(api, REPLY, body)

    assert status == 400
    assert answer["message"].startswith("The request body has")
    assert len(api.violations) == len(answer["details"]) >= 1
    assert any(f"POST {REPLY}: " in v and expected in v for v in api.violations), api.violations
    assert api.replies == []
    assert [call.status for call in api.requests] == [400]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (TextMessage(text="x" * 5001), "messages[0].text: Length must be at most 5000"),
        (offices(alt_text="x" * 1501), "messages[0].altText: Length must be at most 1500"),
        (
            TextMessage(
                text="t",
                quick_reply=QuickReply(
                    items=[QuickReplyItem(action=PostbackAction(label="x" * 21, data="d"))]
                ),
            ),
            "messages[0].quickReply.items[0].action.label: Length must be at most 20",
        ),
    ],
    ids=["text", "altText", "label"],
)
def test_sdk_raises_on_what_sdk_lets_through(
    api: LineApi, line: MessagingApi, message: object, expected: str
) -> None:
    with pytest.raises(ApiException) as raised:
        reply(line, "token-1", message)

    assert raised.value.status == 400
    assert json.loads(raised.value.body)["details"][0]["property"] in expected
    assert len(api.violations) == 1 and expected in api.violations[0]


def test_reused_reply_token_is_rejected(api: LineApi, line: MessagingApi) -> None:
    reply(line, "token-1", TextMessage(text="1回目"))

    with pytest.raises(ApiException) as raised:
        reply(line, "token-1", TextMessage(text="2回目"))

    assert raised.value.status == 400
    assert json.loads(raised.value.body) == {"message": "Invalid reply token"}
    assert api.reply_texts() == ["1回目"]
    assert api.violations == [f"POST {REPLY}: replyToken: Invalid reply token (already used)"]


def test_rejected_reply_keeps_its_token(api: LineApi, line: MessagingApi) -> None:
    with pytest.raises(ApiException):
        reply(line, "token-1", TextMessage(text="x" * 5001))

    reply(line, "token-1", TextMessage(text="直した"))

    assert api.reply_texts() == ["直した"]


def test_wrong_bearer_token_is_rejected(api: LineApi) -> None:
    config = Configuration(host=api.url, access_token="stolen-token")
    with ApiClient(config) as client, pytest.raises(ApiException) as raised:
        reply(MessagingApi(client), "token-1", TextMessage(text="hi"))

    message = json.loads(raised.value.body)["message"]
    assert raised.value.status == 401  # What LINE answers for a bad channel access token.
    assert message.startswith("Authentication failed")
    assert api.violations == [f"POST {REPLY}: Authorization: {message}"]


def test_openapi_core_checks_headers_and_encoding(api: LineApi, line: MessagingApi) -> None:
    with pytest.raises(ApiException) as raised:
        line.push_message(
            PushMessageRequest(to="U1", messages=[TextMessage(text="hi")]),
            x_line_retry_key="not-a-uuid",
        )
    status, _ = post_raw(api, "/v2/bot/message/push", "not an object")

    assert (raised.value.status, status) == (400, 400)
    assert "X-Line-Retry-Key" in api.violations[0]
    assert "is not of type 'object'" in api.violations[1]


def test_loading_seconds_must_be_multiple_of_five(api: LineApi) -> None:
    status, _ = post_raw(api, "/v2/bot/chat/loading/start", {"chatId": "U1", "loadingSeconds": 7})

    assert status == 400
    assert api.violations == [
        "POST /v2/bot/chat/loading/start: loadingSeconds: must be a multiple of 5"
    ]


def test_unknown_endpoint_is_404(api: LineApi) -> None:
    status, answer = post_raw(api, "/v2/bot/message/multicast", {"to": ["U1"], "messages": []})

    assert (status, answer) == (404, {"message": "Not found"})
    assert api.violations == ["POST /v2/bot/message/multicast: no such endpoint in the stand-in"]


def test_fail_next_fails_then_recovers_without_using_the_token(
    api: LineApi, line: MessagingApi
) -> None:
    api.fail_next(2, status=500)

    statuses = []
    for _ in range(2):
        with pytest.raises(ApiException) as raised:
            reply(line, "token-1", TextMessage(text="再送"))
        statuses.append(raised.value.status)
    reply(line, "token-1", TextMessage(text="再送"))

    assert statuses == [500, 500]
    assert [call.status for call in api.requests] == [500, 500, 200]
    assert api.reply_texts() == ["再送"]
    assert api.violations == []


def test_rate_limit_fault_has_no_retry_after(api: LineApi, line: MessagingApi) -> None:
    api.fail_next(1, status=429)

    with pytest.raises(ApiException) as raised:
        line.show_loading_animation(ShowLoadingAnimationRequest(chat_id="U1", loading_seconds=5))

    assert raised.value.status == 429
    assert "rate limit" in json.loads(raised.value.body)["message"]
    assert "Retry-After" not in raised.value.headers


def test_delay_slows_answers_and_trips_client_timeouts(api: LineApi, line: MessagingApi) -> None:
    api.delay = 0.2
    started = time.perf_counter()
    reply(line, "token-1", TextMessage(text="遅い"))
    elapsed = time.perf_counter() - started

    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        line.reply_message(
            ReplyMessageRequest(reply_token="token-2", messages=[TextMessage(text="x")]),
            _request_timeout=0.05,
        )

    assert elapsed >= 0.2


def test_clear_forgets_calls_but_not_used_tokens(api: LineApi, line: MessagingApi) -> None:
    reply(line, "token-1", TextMessage(text="hi"))
    api.clear()

    assert (api.requests, api.violations, api.replies) == ([], [], [])
    with pytest.raises(ApiException):
        reply(line, "token-1", TextMessage(text="hi"))
    with pytest.raises(AssertionError, match="not sent any accepted reply"):
        api.last_reply()


@pytest.fixture
def threaded_api() -> Iterator[LineApi]:
    """Serve the stand-in on a server that answers requests concurrently."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield LineApi(server)
    finally:
        server.stop()


def test_concurrent_calls_are_recorded_and_a_token_is_used_once(threaded_api: LineApi) -> None:
    api = threaded_api
    api.delay = 0.05  # Keep requests in flight together.
    statuses: list[int] = []

    def send(token: str) -> None:
        status, _ = post_raw(
            api, REPLY, {"replyToken": token, "messages": [{"type": "text", "text": token}]}
        )
        statuses.append(status)

    tokens = [f"token-{i}" for i in range(10)] + ["shared"] * 5
    threads = [threading.Thread(target=send, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 11 + [400] * 4
    assert len(api.requests) == 15
    assert sorted(api.reply_texts()) == sorted([f"token-{i}" for i in range(10)] + ["shared"])


def test_spec_is_loaded_once() -> None:
    assert load_spec() is load_spec()
