"""Local stand-in of the LINE Messaging API that checks every request against LINE's own spec.

`LineApi(httpserver)` serves reply, push and loading-animation calls on a pytest-httpserver
server, answers like LINE does, and records every call. Each request body is validated against
LINE's OpenAPI description (`messaging-api.yml`) plus the documented limits the file does not
encode; anything wrong is answered with LINE's 400 error and appended to `LineApi.violations`.

It also keeps what an operator's commands change or read, as LINE does: rich menus created,
their images (uploaded to the data host, api-data.line.me: the same server, or a second one
given as `data_server`), the default menu, deletions; the bot's info, the webhook endpoint, the
message quota and the webhook test's answer (attributes a test may set).

openapi-core checks the operation (content type, body presence, header parameters). It ignores
LINE's discriminators (the spec puts `discriminator` on base schemas such as `Message` without
`oneOf`, which openapi-schema-validator treats as a no-op), so bodies are validated separately by
a jsonschema validator that dispatches on `discriminator.mapping`.
"""

from __future__ import annotations

import copy
import functools
import io
import itertools
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import yaml
from jsonschema import ValidationError
from jsonschema.validators import extend
from jsonschema_path import SchemaPath
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.validation.request.exceptions import InvalidRequestBody
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_schema_validator import OAS30WriteValidator
from pytest_httpserver import HTTPServer
from referencing import Registry, Resource, Specification
from werkzeug import Request, Response

from tests.support.paths import SPEC_PATH

SPEC_HOST = "https://api.line.me"
DATA_HOST = "https://api-data.line.me"  # the spec's server of the blob operations
REPLY_PATH = "/v2/bot/message/reply"
PUSH_PATH = "/v2/bot/message/push"
LOADING_PATH = "/v2/bot/chat/loading/start"
RICHMENU_PATH = "/v2/bot/richmenu"
RICHMENU_VALIDATE_PATH = "/v2/bot/richmenu/validate"
RICHMENU_LIST_PATH = "/v2/bot/richmenu/list"
RICHMENU_ONE_PATH = "/v2/bot/richmenu/{richMenuId}"
RICHMENU_IMAGE_PATH = "/v2/bot/richmenu/{richMenuId}/content"
DEFAULT_RICHMENU_PATH = "/v2/bot/user/all/richmenu"
SET_DEFAULT_RICHMENU_PATH = "/v2/bot/user/all/richmenu/{richMenuId}"
BOT_INFO_PATH = "/v2/bot/info"
WEBHOOK_ENDPOINT_PATH = "/v2/bot/channel/webhook/endpoint"
WEBHOOK_TEST_PATH = "/v2/bot/channel/webhook/test"
QUOTA_PATH = "/v2/bot/message/quota"
CONSUMPTION_PATH = "/v2/bot/message/quota/consumption"
# The operations whose JSON bodies are validated (their body validators are keyed by path).
JSON_ROUTES = {("POST", REPLY_PATH), ("POST", PUSH_PATH), ("POST", LOADING_PATH),
               ("POST", RICHMENU_PATH), ("POST", RICHMENU_VALIDATE_PATH),
               ("POST", WEBHOOK_TEST_PATH)}
ROUTES = JSON_ROUTES | {
    ("GET", RICHMENU_LIST_PATH), ("DELETE", RICHMENU_ONE_PATH), ("POST", RICHMENU_IMAGE_PATH),
    ("GET", DEFAULT_RICHMENU_PATH), ("POST", SET_DEFAULT_RICHMENU_PATH), ("GET", BOT_INFO_PATH),
    ("GET", WEBHOOK_ENDPOINT_PATH), ("GET", QUOTA_PATH), ("GET", CONSUMPTION_PATH),
}
DATA_ROUTES = {("POST", RICHMENU_IMAGE_PATH)}  # served by api-data.line.me only
_TEMPLATED = [(method, template, re.compile(re.sub(r"\{\w+\}", "([^/]+)", template) + "$"))
              for method, template in sorted(ROUTES) if "{" in template]

MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLY_LABEL = 20
MAX_DISPLAY_TEXT = 300
MAX_URI = 1000
URI_SCHEMES = {"http", "https", "tel", "line"}
# Rich menus (reference: rich menu object, upload rich menu image; the spec has only some).
MAX_MENU_AREAS = 20
MAX_MENU_ACTION_LABEL = 20
MENU_WIDTH = (800, 2500)
MIN_MENU_HEIGHT = 250
MIN_MENU_ASPECT = 1.45
MAX_MENU_IMAGE_BYTES = 1_000_000  # "1 MB", read strictly
MENU_IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
MAX_RICH_MENUS = 1000
MENU_FIELDS = ("size", "selected", "name", "chatBarText", "areas")  # required by the reference
MAX_WEBHOOK_URL = 500
# sentMessages carry a quoteToken only for types LINE lets users quote (our reading of its docs).
QUOTABLE_TYPES = {"text", "textV2", "sticker", "image", "video"}

AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)
FAULT_MESSAGES = {
    429: "The API rate limit has been exceeded. Try again later.",
    500: "An unexpected error occurred.",
}

_SIZE_MESSAGES = {
    "maxItems": "Size must be at most {} (is {})",
    "minItems": "Size must be at least {} (is {})",
    "maxLength": "Length must be at most {} (is {})",
    "minLength": "Length must be at least {} (is {})",
}
_SCHEMAS = "#/components/schemas/"
_DOC_URI = "urn:line-openapi:messaging-api"
_MESSAGE_PROP = re.compile(r"messages\[\d+\]")
_QUICK_REPLY_ITEM_PROP = re.compile(r".*\.quickReply\.items\[\d+\]")


@dataclass(frozen=True)
class Call:
    """One request received by the stand-in and the status it was answered with."""

    path: str
    body: dict
    headers: dict[str, str]
    status: int = 0
    method: str = "POST"
    data: bytes = b""  # the raw body of a binary upload (a rich menu image)
    host: str = SPEC_HOST  # the LINE host it was sent to


class Problem(NamedTuple):
    """One thing wrong with a request, located like LINE's `details[].property`."""

    property: str
    message: str


# --- Spec loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """LINE's messaging API description, ready to validate requests."""

    operation_validators: tuple[Any, ...]
    body_validators: dict[str, Any]

    def problems(self, request: Request, body: Any,
                 route: tuple[str, str] | None = None) -> list[Problem]:
        """Return everything the spec finds wrong with a request to a routed path."""
        method, path = route or (request.method, request.path)
        host = DATA_HOST if (method, path) in DATA_ROUTES else SPEC_HOST
        found = list(_operation_problems(self.operation_validators, request, host))
        if (method, path) not in JSON_ROUTES:
            return found
        if body is None:
            # Whatever openapi-core said about the undecodable body, it must not pass.
            return found or [Problem("", "The request body is not a JSON document")]
        found += [_problem(e) for e in self.body_validators[path].iter_errors(body)]
        if isinstance(body, dict):
            found += ROUTE_LIMITS.get(path, limit_problems)(body)
        return found


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Load and prepare LINE's spec once per process."""
    with path.open(encoding="utf-8") as file:
        document = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    spec = SchemaPath.from_dict(document)
    # No spec_validator_cls: re-checking LINE's published file would cost ~0.6 s per process.
    # The security check is left out: LineApi compares the whole bearer token itself.
    operation_validators = tuple(
        cls(spec, spec_validator_cls=None)
        for cls in (V30RequestParametersValidator, V30RequestBodyValidator)
    )
    registry = _schema_registry(document["components"]["schemas"])
    validators = {route: _body_validator(registry, document, route) for _, route in JSON_ROUTES}
    return Spec(operation_validators, validators)


def _schema_registry(schemas: dict) -> Registry:
    """Register the component schemas, with discriminators made dispatchable, under one URI."""
    contents = {"components": {"schemas": split_discriminators(schemas)}}
    # Opaque: resolve only JSON pointers, so no `id` property inside the spec can move the base URI.
    resource = Resource(contents=contents, specification=Specification.OPAQUE)
    return Registry().with_resource(_DOC_URI, resource)


def _body_validator(registry: Registry, document: dict, route: str) -> Any:
    """Build a validator for the JSON request body of a POST route."""
    operation = document["paths"][route]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = {"$ref": _DOC_URI + ref}
    return DiscriminatingValidator(
        schema, registry=registry, format_checker=OAS30WriteValidator.FORMAT_CHECKER
    )


def split_discriminators(schemas: dict) -> dict:
    """Return a copy where discriminated bases dispatch and their subtypes extend a plain copy.

    LINE's subtypes say `allOf: [$ref Base]` while `Base` maps back to its subtypes, so a
    dispatching `Base` would recurse forever. Each `Base` becomes a pure dispatcher, its
    properties move to `Base.plain`, and subtypes refer to that instead. Subtypes also pin their
    discriminating value so a direct reference (e.g. a bubble's `body: FlexBox`) is checked too.
    """
    out = copy.deepcopy(schemas)
    for name, schema in schemas.items():
        discriminator = schema.get("discriminator")
        if discriminator is None:
            continue
        plain = f"{name}.plain"
        out[plain] = {key: value for key, value in out[name].items() if key != "discriminator"}
        out[name] = {"discriminator": discriminator}
        for target, values in _values_by_target(discriminator["mapping"]).items():
            _extend_plain(out[target], _SCHEMAS + name, _SCHEMAS + plain)
            pin = {"properties": {discriminator["propertyName"]: {"enum": values}}}
            out[target].setdefault("allOf", []).append(pin)
    return out


def _values_by_target(mapping: dict[str, str]) -> dict[str, list[str]]:
    """Group discriminator values by the schema name they select."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for value, ref in mapping.items():
        grouped[ref.removeprefix(_SCHEMAS)].append(value)
    return grouped


def _extend_plain(schema: dict, base_ref: str, plain_ref: str) -> None:
    """Point a subtype's `allOf` reference to its base at the base's plain copy."""
    schema["allOf"] = [
        {"$ref": plain_ref} if part == {"$ref": base_ref} else part
        for part in schema.get("allOf", [])
    ]


def _discriminate(validator: Any, discriminator: dict, instance: Any, _schema: dict) -> Iterator:
    """Validate an object against the schema its discriminating property selects."""
    if not validator.is_type(instance, "object"):
        return  # The subtype's own `type: object` reports this.
    name = discriminator["propertyName"]
    value = instance.get(name)
    if value is None:
        yield ValidationError(f"{name!r} is a required property")
        return
    ref = discriminator["mapping"].get(value) if isinstance(value, str) else None
    if ref is None:
        allowed = ", ".join(sorted(discriminator["mapping"]))
        yield ValidationError(f"{value!r} is not a valid {name} (one of: {allowed})", path=[name])
        return
    yield from validator.descend(instance, {"$ref": ref})


DiscriminatingValidator = extend(OAS30WriteValidator, {"discriminator": _discriminate})


def _problem(error: ValidationError) -> Problem:
    """Turn a jsonschema error into a LINE-style problem."""
    template = _SIZE_MESSAGES.get(str(error.validator))
    if template is None:
        message = _shorten(error.message)
    else:
        # jsonschema quotes the whole oversized value; say how big it is instead.
        message = template.format(error.validator_value, len(error.instance))
    return Problem(line_property(error.absolute_path), message)


def line_property(path: Iterable[str | int]) -> str:
    """Format a JSON path the way LINE names properties, e.g. `messages[0].text`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _shorten(message: str, limit: int = 200) -> str:
    """Cut a message that quotes a huge value down to a readable size."""
    return message if len(message) <= limit else message[: limit - 3] + "..."


# --- openapi-core ------------------------------------------------------------------------------


def _with_cause(error: Exception) -> str:
    """Describe an openapi-core error together with its cause, which holds the detail."""
    text, cause = str(error), str(error.__cause__ or "")
    return f"{text}: {cause}" if cause and cause not in text else text


class LineHostRequest(WerkzeugOpenAPIRequest):
    """Present a local request as if it had reached LINE's host (api.line.me or the data host)."""

    def __init__(self, request: Request, host: str = SPEC_HOST) -> None:
        super().__init__(request)
        self.line_host = host

    @property
    def host_url(self) -> str:
        """Return LINE's host so openapi-core finds the operation."""
        return self.line_host


def _operation_problems(validators: Iterable[Any], request: Request,
                        host: str = SPEC_HOST) -> Iterator[Problem]:
    """Yield what openapi-core finds wrong with parameters, content type and body encoding."""
    adapted = LineHostRequest(request, host)
    for validator in validators:
        for error in validator.iter_errors(adapted):
            # Schema errors are reported, with their JSON path, by the discriminating validator.
            if isinstance(error, InvalidRequestBody) and isinstance(
                error.__cause__, InvalidSchemaValue
            ):
                continue
            yield Problem("", _shorten(_with_cause(error)))


# --- Documented limits not in the spec --------------------------------------------------------


def limit_problems(body: dict) -> Iterator[Problem]:
    """Yield violations of LINE's documented limits that the OpenAPI file does not encode."""
    seconds = body.get("loadingSeconds")
    if isinstance(seconds, int) and seconds % 5:
        yield Problem("loadingSeconds", "must be a multiple of 5")
    for prop, node in _objects(body.get("messages"), "messages"):
        yield from _node_limits(prop, node)


def richmenu_problems(body: dict) -> Iterator[Problem]:
    """Yield violations of the rich menu object's documented limits (create and validate)."""
    for name in MENU_FIELDS:
        if name not in body:
            yield Problem(name, "must be specified")
    size = body.get("size") if isinstance(body.get("size"), dict) else {}
    width, height = size.get("width"), size.get("height")
    if "size" in body and not (isinstance(width, int) and isinstance(height, int)):
        yield Problem("size", "must have width and height")
        width = height = None
    if width is not None and height is not None:
        if not MENU_WIDTH[0] <= width <= MENU_WIDTH[1]:
            yield Problem("size.width", f"must be between {MENU_WIDTH[0]} and {MENU_WIDTH[1]}")
        if height < MIN_MENU_HEIGHT:
            yield Problem("size.height", f"must be at least {MIN_MENU_HEIGHT}")
        if height and width / height < MIN_MENU_ASPECT:
            yield Problem("size", f"width / height must be at least {MIN_MENU_ASPECT}")
    areas = body.get("areas")
    if not isinstance(areas, list):
        return
    if not 1 <= len(areas) <= MAX_MENU_AREAS:
        yield Problem("areas", f"Size must be between 1 and {MAX_MENU_AREAS} (is {len(areas)})")
    for i, area in enumerate(areas):
        if not isinstance(area, dict):
            continue
        prop = f"areas[{i}]"
        for name in ("bounds", "action"):
            if name not in area:
                yield Problem(f"{prop}.{name}", "must be specified")
        yield from _bounds_problems(area.get("bounds"), width, height, f"{prop}.bounds")
        action = area.get("action")
        if isinstance(action, dict):
            yield from _max_length(action, "label", MAX_MENU_ACTION_LABEL, f"{prop}.action")
            yield from _node_limits(f"{prop}.action", action)


def _bounds_problems(bounds: Any, width: int | None, height: int | None,
                     prop: str) -> Iterator[Problem]:
    """Yield a problem unless an area's bounds are whole and inside the menu."""
    if not isinstance(bounds, dict):
        return
    values = [bounds.get(k) for k in ("x", "y", "width", "height")]
    if not all(isinstance(v, int) for v in values):
        yield Problem(prop, "must have x, y, width and height")
        return
    x, y, w, h = values
    if width is not None and height is not None and (x + w > width or y + h > height):
        yield Problem(prop, "The area is out of the rich menu")


def webhook_test_problems(body: dict) -> Iterator[Problem]:
    """Yield violations of the webhook test's documented limits: an HTTPS URL, 500 at most."""
    endpoint = body.get("endpoint")
    if isinstance(endpoint, str) and not endpoint.startswith("https://"):
        yield Problem("endpoint", "The webhook URL must start with https://")


ROUTE_LIMITS = {RICHMENU_PATH: richmenu_problems, RICHMENU_VALIDATE_PATH: richmenu_problems,
                WEBHOOK_TEST_PATH: webhook_test_problems}


def image_problems(request: Request, menu: dict | None) -> Iterator[Problem]:
    """Yield what LINE rejects in a rich menu image: type, bytes, format and pixel size."""
    kind = (request.content_type or "").split(";")[0].strip().lower()
    data = request.get_data()
    if kind not in MENU_IMAGE_TYPES:
        yield Problem("Content-Type", f"must be image/png or image/jpeg (is {kind or 'none'})")
        return
    if len(data) > MAX_MENU_IMAGE_BYTES:
        yield Problem("", f"The image must be at most 1 MB (is {len(data)} bytes)")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            found, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        yield Problem("", f"The body is not a readable {MENU_IMAGE_TYPES[kind]} image")
        return
    if found != MENU_IMAGE_TYPES[kind]:
        yield Problem("Content-Type", f"is {kind} but the image is {found}")
    if menu is not None:
        wanted = (menu["size"]["width"], menu["size"]["height"])
        if size != wanted:
            yield Problem("", f"The image is {size[0]}x{size[1]}; the rich menu is "
                              f"{wanted[0]}x{wanted[1]}")


def _objects(node: Any, prop: str) -> Iterator[tuple[str, dict]]:
    """Yield every object in a JSON tree with its LINE-style property."""
    if isinstance(node, dict):
        yield prop, node
        for key, value in node.items():
            yield from _objects(value, f"{prop}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{prop}[{index}]")


def _node_limits(prop: str, node: dict) -> Iterator[Problem]:
    """Yield limit violations of one object, judged by where it sits and its type."""
    kind = node.get("type")
    if _MESSAGE_PROP.fullmatch(prop):
        if kind in ("text", "textV2"):
            yield from _max_length(node, "text", MAX_TEXT, prop)
        elif kind == "flex":
            yield from _max_length(node, "altText", MAX_ALT_TEXT, prop)
    if _QUICK_REPLY_ITEM_PROP.fullmatch(prop):
        yield from _quick_reply_label(node.get("action"), f"{prop}.action")
    if kind == "postback":
        yield from _max_length(node, "displayText", MAX_DISPLAY_TEXT, prop)
    elif kind == "uri" and "uri" in node:
        yield from _uri_problems(node["uri"], f"{prop}.uri")


def _max_length(node: dict, key: str, limit: int, prop: str) -> Iterator[Problem]:
    """Yield a problem when a string field is longer than LINE allows."""
    value = node.get(key)
    if isinstance(value, str) and len(value) > limit:
        message = _SIZE_MESSAGES["maxLength"].format(limit, len(value))
        yield Problem(f"{prop}.{key}", message)


def _quick_reply_label(action: Any, prop: str) -> Iterator[Problem]:
    """Yield a problem unless a quick-reply action has a label of at most 20 characters."""
    if not isinstance(action, dict):
        return
    # LINE requires a label on quick-reply buttons; the spec leaves it optional.
    if not action.get("label"):
        yield Problem(f"{prop}.label", "Required for quick reply buttons")
    yield from _max_length(action, "label", MAX_QUICK_REPLY_LABEL, prop)


def _uri_problems(uri: Any, prop: str) -> Iterator[Problem]:
    """Yield problems with a URI action's target: scheme and length."""
    if not isinstance(uri, str):
        return
    if len(uri) > MAX_URI:
        yield Problem(prop, _SIZE_MESSAGES["maxLength"].format(MAX_URI, len(uri)))
    scheme = urlsplit(uri).scheme.lower()
    if scheme not in URI_SCHEMES:
        allowed = ", ".join(sorted(URI_SCHEMES))
        yield Problem(prop, f"Invalid URI scheme {scheme or '(none)'!r} (allowed: {allowed})")


# --- The stand-in ------------------------------------------------------------------------------


class LineApi:
    """Serve a validating, recording fake of the LINE Messaging API on a pytest-httpserver."""

    def __init__(self, httpserver: HTTPServer, token: str = "test-token",
                 data_server: HTTPServer | None = None) -> None:
        self.token = token
        self.tokens = {token}  # every channel access token it accepts (add a staging one)
        self.delay = 0.0  # Seconds to wait before answering each call.
        self.requests: list[Call] = []  # Every call, in the order they were answered.
        self.violations: list[str] = []  # "METHOD /path: property: what LINE would reject".
        # What the channel holds, as LINE would keep it (tests may set these).
        self.richmenus: dict[str, dict] = {}  # rich menu id -> LINE's rich menu response
        self.images: dict[str, tuple[str, bytes]] = {}  # rich menu id -> (content type, bytes)
        self.default_richmenu: str | None = None
        self.deleted_richmenus: list[str] = []
        self.bot_info = {"userId": "U" + "0" * 32, "basicId": "@123tsunagu",
                         "displayName": "あきた就職氷河期世代活躍支援", "chatMode": "bot",
                         "markAsReadMode": "auto"}
        self.webhook = {"endpoint": "https://tsunagu.example.jp/callback", "active": True}
        self.quota = {"type": "limited", "value": 1000}
        self.total_usage = 0  # messages sent this month (each accepted push adds one)
        self.webhook_test = {"success": True, "statusCode": 200, "reason": "OK", "detail": "200"}
        self._spec = load_spec()
        self._server = httpserver
        self._data_server = data_server
        self._lock = threading.Lock()
        self._used_reply_tokens: set[str] = set()
        self._faults: list[tuple[int, tuple[str, str] | None]] = []
        self._message_ids = itertools.count(480_000_000_000_000_001)
        if data_server is None:  # one server is both hosts
            httpserver.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        else:
            httpserver.expect_request(re.compile(".*")).respond_with_handler(
                functools.partial(self._handle, host=SPEC_HOST))
            data_server.expect_request(re.compile(".*")).respond_with_handler(
                functools.partial(self._handle, host=DATA_HOST))

    @property
    def url(self) -> str:
        """Return the base URL to pass as `Configuration(host=...)`."""
        return self._server.url_for("").rstrip("/")

    @property
    def data_url(self) -> str:
        """Return the base URL of the data host (LINE_API_DATA_BASE_URL)."""
        return (self._data_server or self._server).url_for("").rstrip("/")

    def calls(self, method: str, route: str) -> list[Call]:
        """Return the calls of one operation (`route` as the spec writes it), oldest first."""
        with self._lock:
            return [c for c in self.requests
                    if c.method == method and _route(method, c.path) == (method, route)]

    @property
    def replies(self) -> list[dict]:
        """Return the bodies of the reply calls LINE accepted, oldest first."""
        with self._lock:
            return [call.body for call in self.requests if _accepted_reply(call)]

    def reply_texts(self) -> list[str]:
        """Return the texts and Flex alt texts of all accepted replies, in order."""
        texts = (_shown_text(message) for reply in self.replies for message in reply["messages"])
        return [text for text in texts if text is not None]

    def last_reply(self) -> list[dict]:
        """Return the messages of the newest accepted reply."""
        replies = self.replies
        if not replies:
            raise AssertionError("the bot has not sent any accepted reply")
        return replies[-1]["messages"]

    def reply_for(self, reply_token: str) -> list[dict]:
        """Return the messages of the accepted reply that used `reply_token`, or []."""
        for body in self.replies:
            if body.get("replyToken") == reply_token:
                return body["messages"]
        return []

    def fail_next(self, n: int = 1, status: int = 500,
                  route: tuple[str, str] | None = None) -> None:
        """Answer the next `n` calls (of the operation `route`, if given) with `status`."""
        with self._lock:
            self._faults.extend([(status, route)] * n)

    def clear(self) -> None:
        """Forget recorded calls and violations; used reply tokens stay used, as at LINE."""
        with self._lock:
            self.requests.clear()
            self.violations.clear()

    def _handle(self, request: Request, host: str | None = None) -> Response:
        """Answer one HTTP request the way LINE would (host: which LINE host it reached)."""
        if self.delay:
            time.sleep(self.delay)  # Outside the lock so concurrent calls overlap as at LINE.
        route = _route(request.method, request.path)
        if host is None:  # one server for both hosts: the one the operation is served on
            host = DATA_HOST if route in DATA_ROUTES else SPEC_HOST
        binary = route in DATA_ROUTES
        body = None if binary else request.get_json(silent=True)
        problems = self._problems(request, body, route, host)
        with self._lock:
            status, payload = self._decide(request, body, problems, route, host)
            recorded = body if isinstance(body, dict) else {}
            self.requests.append(Call(request.path, recorded, dict(request.headers), status,
                                      request.method,
                                      request.get_data() if binary else b"", host))
        return _json_response(status, payload)

    def _problems(self, request: Request, body: Any, route: tuple[str, str] | None,
                  host: str) -> list[Problem]:
        """Return what is wrong with a request, authentication first."""
        if route is None or host != (DATA_HOST if route in DATA_ROUTES else SPEC_HOST):
            return []  # Answered 404 by `_decide`.
        if request.headers.get("Authorization") not in {f"Bearer {t}" for t in self.tokens}:
            return [Problem("Authorization", AUTH_FAILED)]
        found = self._spec.problems(request, body, route)
        if route in DATA_ROUTES:
            with self._lock:
                menu = self.richmenus.get(request.path.split("/")[4])
            found += image_problems(request, menu)
        return found

    def _decide(self, request: Request, body: Any, problems: list[Problem],
                route: tuple[str, str] | None, host: str) -> tuple[int, dict]:
        """Record violations and pick the status and body of the answer; hold the lock."""
        where = f"{request.method} {request.path}"
        if route is None:
            self.violations.append(f"{where}: no such endpoint in the stand-in")
            return 404, {"message": "Not found"}
        served_on = DATA_HOST if route in DATA_ROUTES else SPEC_HOST
        if host != served_on:
            self.violations.append(f"{where}: sent to {host}; LINE serves it on {served_on}")
            return 404, {"message": "Not found"}
        self.violations += [_describe(where, problem) for problem in problems]
        fault = next((f for f in self._faults if f[1] in (None, route)), None)
        if fault is not None:
            self._faults.remove(fault)
            status = fault[0]
            return status, {"message": FAULT_MESSAGES.get(status, HTTPStatus(status).phrase)}
        if problems:
            return _error_answer(problems)
        if request.path == REPLY_PATH and not self._take_reply_token(body["replyToken"]):
            self.violations.append(f"{where}: replyToken: Invalid reply token (already used)")
            return 400, {"message": "Invalid reply token"}
        if route in _CHANNEL_ROUTES:
            return _CHANNEL_ROUTES[route](self, request, body, where)
        if request.path == PUSH_PATH:
            self.total_usage += 1
        return _success(request.path, body, self._message_ids)

    # The channel's state, changed and read as LINE does (called holding the lock).

    def _create_richmenu(self, request: Request, body: dict, where: str) -> tuple[int, dict]:
        if len(self.richmenus) >= MAX_RICH_MENUS:
            self.violations.append(f"{where}: over {MAX_RICH_MENUS} rich menus")
            return 400, {"message": f"The number of rich menus exceeds {MAX_RICH_MENUS}"}
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.richmenus[menu_id] = {"richMenuId": menu_id, **copy.deepcopy(body)}
        return 200, {"richMenuId": menu_id}

    def _validate_richmenu(self, request: Request, body: dict, where: str) -> tuple[int, dict]:
        return 200, {}

    def _list_richmenus(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        return 200, {"richmenus": [copy.deepcopy(m) for m in self.richmenus.values()]}

    def _delete_richmenu(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        menu_id = request.path.split("/")[4]
        if self.richmenus.pop(menu_id, None) is None:
            return 404, {"message": "Not found"}
        self.images.pop(menu_id, None)
        self.deleted_richmenus.append(menu_id)
        if self.default_richmenu == menu_id:
            self.default_richmenu = None
        return 200, {}

    def _upload_image(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        menu_id = request.path.split("/")[4]
        if menu_id not in self.richmenus:
            return 404, {"message": "Not found"}
        if menu_id in self.images:  # "You cannot replace an image attached to a rich menu."
            self.violations.append(f"{where}: the rich menu already has an image")
            return 400, {"message": "An image has already been uploaded to the richmenu"}
        self.images[menu_id] = (request.content_type, request.get_data())
        return 200, {}

    def _get_default(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        if self.default_richmenu is None:
            return 404, {"message": "no default richmenu"}
        return 200, {"richMenuId": self.default_richmenu}

    def _set_default(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        menu_id = request.path.rsplit("/", 1)[1]
        if menu_id not in self.richmenus:
            return 404, {"message": "Not found"}
        if menu_id not in self.images:
            self.violations.append(f"{where}: the rich menu has no image yet")
            return 400, {"message": "must upload richmenu image before applying it to user"}
        self.default_richmenu = menu_id
        return 200, {}

    def _bot_info(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        return 200, dict(self.bot_info)

    def _webhook_endpoint(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        return 200, dict(self.webhook)

    def _quota(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        return 200, dict(self.quota)

    def _consumption(self, request: Request, body: Any, where: str) -> tuple[int, dict]:
        return 200, {"totalUsage": self.total_usage}

    def _test_webhook(self, request: Request, body: dict, where: str) -> tuple[int, dict]:
        if not body.get("endpoint") and not self.webhook.get("endpoint"):
            return 400, {"message": "The webhook URL is not set"}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return 200, {**self.webhook_test, "timestamp": stamp}

    def _take_reply_token(self, token: str) -> bool:
        """Use up a reply token; return False if it was used before."""
        if token in self._used_reply_tokens:
            return False
        self._used_reply_tokens.add(token)
        return True


_CHANNEL_ROUTES = {
    ("POST", RICHMENU_PATH): LineApi._create_richmenu,
    ("POST", RICHMENU_VALIDATE_PATH): LineApi._validate_richmenu,
    ("GET", RICHMENU_LIST_PATH): LineApi._list_richmenus,
    ("DELETE", RICHMENU_ONE_PATH): LineApi._delete_richmenu,
    ("POST", RICHMENU_IMAGE_PATH): LineApi._upload_image,
    ("GET", DEFAULT_RICHMENU_PATH): LineApi._get_default,
    ("POST", SET_DEFAULT_RICHMENU_PATH): LineApi._set_default,
    ("GET", BOT_INFO_PATH): LineApi._bot_info,
    ("GET", WEBHOOK_ENDPOINT_PATH): LineApi._webhook_endpoint,
    ("GET", QUOTA_PATH): LineApi._quota,
    ("GET", CONSUMPTION_PATH): LineApi._consumption,
    ("POST", WEBHOOK_TEST_PATH): LineApi._test_webhook,
}


def _route(method: str, path: str) -> tuple[str, str] | None:
    """Return the operation (method, path as the spec writes it) a request is for, or None."""
    if (method, path) in ROUTES:
        return method, path
    for wanted, template, pattern in _TEMPLATED:
        if wanted == method and pattern.match(path):
            return method, template
    return None


def _accepted_reply(call: Call) -> bool:
    """Tell whether a call is a reply LINE delivered."""
    return call.path == REPLY_PATH and call.status == 200


def _shown_text(message: dict) -> str | None:
    """Return the text of a text message or the alt text of a Flex message, else None."""
    if message.get("type") in ("text", "textV2"):
        return message.get("text")
    return message.get("altText") if message.get("type") == "flex" else None


def _describe(where: str, problem: Problem) -> str:
    """Describe a problem for `LineApi.violations`."""
    location = f"{where}: {problem.property}" if problem.property else where
    return f"{location}: {problem.message}"


def _error_answer(problems: list[Problem]) -> tuple[int, dict]:
    """Build LINE's error answer: 401 for a bad token, else 400 with details."""
    if problems[0].property == "Authorization":
        return 401, {"message": AUTH_FAILED}
    details = [{"message": p.message, "property": p.property} for p in problems]
    return 400, {"message": f"The request body has {len(problems)} error(s)", "details": details}


def _success(path: str, body: dict, ids: Iterator[int]) -> tuple[int, dict]:
    """Build LINE's answer to an accepted call."""
    if path == LOADING_PATH:
        return 202, {}
    return 200, {"sentMessages": [_sent_message(m, next(ids)) for m in body["messages"]]}


def _sent_message(message: dict, message_id: int) -> dict:
    """Describe one sent message like LINE's `sentMessages` entries."""
    sent = {"id": str(message_id)}
    if message.get("type") in QUOTABLE_TYPES:
        sent["quoteToken"] = uuid.uuid4().hex
    return sent


def _json_response(status: int, payload: dict) -> Response:
    """Serialize an answer with the headers LINE sends."""
    headers = {"x-line-request-id": str(uuid.uuid4())}
    return Response(json.dumps(payload), status, headers, content_type="application/json")
