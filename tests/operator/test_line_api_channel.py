"""Prove the LINE stand-in refuses, in the operator's calls, what LINE refuses: rich menus over
LINE's limits, images that do not fit, calls on the wrong host or in the wrong order, a wrong
token; and keeps the channel's state as LINE does."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    RichMenuRequest,
)
from PIL import Image
from pytest_httpserver import HTTPServer

from tests.support.line_api import DATA_HOST, LineApi


def menu(**changes) -> dict:
    body = {"size": {"width": 2500, "height": 843}, "selected": True, "name": "tsunagu",
            "chatBarText": "メニュー",
            "areas": [{"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
                       "action": {"type": "postback", "label": "相談", "data": "m=about",
                                  "displayText": "相談"}},
                      {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
                       "action": {"type": "uri", "label": "県のページ",
                                  "uri": "https://www.pref.akita.lg.jp/"}}]}
    return {**body, **changes}


def image(width: int = 2500, height: int = 843, form: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#1B6B5A").save(out, format=form)
    return out.getvalue()


@pytest.fixture
def api(httpserver: HTTPServer) -> LineApi:
    return LineApi(httpserver)


@pytest.fixture
def line(api: LineApi) -> Iterator[tuple[MessagingApi, MessagingApiBlob]]:
    with ApiClient(Configuration(host=api.url, access_token="test-token")) as client, \
            ApiClient(Configuration(host=api.data_url, access_token="test-token")) as data:
        yield MessagingApi(client), MessagingApiBlob(data)


def post(api: LineApi, path: str, body: dict) -> int:
    """POST a JSON body as it is; return LINE's status."""
    request = urllib.request.Request(
        api.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer test-token", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def refused(call, *args, **kwargs) -> ApiException:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_menu_deployed_as_line_takes_it(api, line):
    messaging, blob = line
    messaging.validate_rich_menu_object(RichMenuRequest.from_dict(menu()))
    menu_id = messaging.create_rich_menu(RichMenuRequest.from_dict(menu())).rich_menu_id
    blob.set_rich_menu_image(menu_id, image(), _headers={"Content-Type": "image/png"})
    messaging.set_default_rich_menu(menu_id)

    assert messaging.get_default_rich_menu_id().rich_menu_id == menu_id
    listed, = messaging.get_rich_menu_list().richmenus
    assert (listed.rich_menu_id, listed.chat_bar_text, len(listed.areas)) == (
        menu_id, "メニュー", 2)
    messaging.delete_rich_menu(menu_id)
    assert refused(messaging.get_default_rich_menu_id).status == 404
    assert messaging.get_rich_menu_list().richmenus == []
    assert api.violations == []


@pytest.mark.parametrize("changes, problem", [
    ({"chatBarText": "メニューはこちらからどうぞご利用ください"},
     "chatBarText: Length must be at most 14"),
    ({"size": {"width": 2500, "height": 2500}}, "size: width / height must be at least 1.45"),
    ({"size": {"width": 700, "height": 250}}, "size.width: must be between 800 and 2500"),
    ({"areas": []}, "areas: Size must be between 1 and 20 (is 0)"),
    ({"areas": menu()["areas"] * 11}, "areas: Size must be between 1 and 20 (is 22)"),
    ({"areas": [{"bounds": {"x": 1250, "y": 0, "width": 1251, "height": 843},
                 "action": {"type": "postback", "data": "m=about"}}]},
     "areas[0].bounds: The area is out of the rich menu"),
    ({"areas": [{"bounds": {"x": 0, "y": 0, "width": 100, "height": 100},
                 "action": {"type": "postback", "data": "m", "label": "あ" * 21}}]},
     "areas[0].action.label: Length must be at most 20 (is 21)"),
    ({"areas": [{"bounds": {"x": 0, "y": 0, "width": 100, "height": 100},
                 "action": {"type": "uri", "uri": "ftp://example.jp/"}}]},
     "areas[0].action.uri: Invalid URI scheme 'ftp'"),
    ({"areas": [{"bounds": {"x": 0, "y": 0, "width": 100, "height": 100},
                 "action": {"type": "postback", "data": "x" * 301}}]},
     "areas[0].action.data: Length must be at most 300"),
])
def test_a_menu_over_lines_limits_is_refused(api, changes, problem):
    # Sent as raw JSON: the SDK's models refuse some of these before sending.
    for path in ("/v2/bot/richmenu/validate", "/v2/bot/richmenu"):
        assert post(api, path, menu(**changes)) == 400
    assert sum(problem in v for v in api.violations) == 2, api.violations
    assert api.richmenus == {}


def test_a_menu_missing_what_line_requires_is_refused(api, line):
    body = menu()
    del body["chatBarText"]
    assert refused(line[0].create_rich_menu, RichMenuRequest.from_dict(body)).status == 400
    assert api.violations == ["POST /v2/bot/richmenu: chatBarText: must be specified"]


@pytest.mark.parametrize("data, kind, problem", [
    (image(2500, 1686), "image/png", "The image is 2500x1686; the rich menu is 2500x843"),
    (image(form="JPEG"), "image/png", "is image/png but the image is JPEG"),
    (image(form="GIF"), "image/gif", "Content-Type: must be image/png or image/jpeg"),
    (image() + b"\0" * 1_000_000, "image/png", "The image must be at most 1 MB"),
    (b"not an image", "image/jpeg", "The body is not a readable JPEG image"),
])
def test_an_image_that_does_not_fit_is_refused(api, line, data, kind, problem):
    messaging, blob = line
    menu_id = messaging.create_rich_menu(RichMenuRequest.from_dict(menu())).rich_menu_id

    error = refused(blob.set_rich_menu_image, menu_id, data, _headers={"Content-Type": kind})

    assert error.status == 400
    assert any(problem in v for v in api.violations), api.violations
    assert menu_id not in api.images


def test_a_default_needs_an_image_and_an_image_cannot_be_replaced(api, line):
    messaging, blob = line
    menu_id = messaging.create_rich_menu(RichMenuRequest.from_dict(menu())).rich_menu_id
    assert refused(messaging.set_default_rich_menu, menu_id).status == 400
    blob.set_rich_menu_image(menu_id, image(), _headers={"Content-Type": "image/png"})
    again = refused(blob.set_rich_menu_image, menu_id, image(),
                    _headers={"Content-Type": "image/png"})
    assert again.status == 400
    assert api.violations == [
        f"POST /v2/bot/user/all/richmenu/{menu_id}: the rich menu has no image yet",
        f"POST /v2/bot/richmenu/{menu_id}/content: the rich menu already has an image"]
    assert refused(messaging.delete_rich_menu, "richmenu-nosuch").status == 404


def test_an_image_sent_to_the_api_host_is_not_found(httpserver):
    data_host = HTTPServer(host="127.0.0.1", port=0)
    data_host.start()
    try:
        api = LineApi(httpserver, data_server=data_host)
        config = Configuration(host=api.url, access_token="test-token")
        with ApiClient(config) as client:
            menu_id = MessagingApi(client).create_rich_menu(
                RichMenuRequest.from_dict(menu())).rich_menu_id
            wrong = refused(MessagingApiBlob(client).set_rich_menu_image, menu_id, image(),
                            _headers={"Content-Type": "image/png"})
        assert wrong.status == 404
        assert api.violations == [f"POST /v2/bot/richmenu/{menu_id}/content: sent to "
                                  f"https://api.line.me; LINE serves it on {DATA_HOST}"]
    finally:
        data_host.clear()
        data_host.stop()


def test_a_wrong_token_is_401_everywhere(api):
    with ApiClient(Configuration(host=api.url, access_token="wrong")) as client:
        messaging = MessagingApi(client)
        for call in (messaging.get_bot_info, messaging.get_rich_menu_list,
                     messaging.get_message_quota):
            assert refused(call).status == 401
    assert len(api.violations) == 3


def test_the_webhook_test_takes_only_an_https_url(api, line):
    from linebot.v3.messaging import TestWebhookEndpointRequest

    messaging, _ = line
    error = refused(messaging.test_webhook_endpoint,
                    TestWebhookEndpointRequest(endpoint="http://tsunagu.example.jp/callback"))
    assert error.status == 400
    assert api.violations == [
        "POST /v2/bot/channel/webhook/test: endpoint: The webhook URL must start with https://"]
