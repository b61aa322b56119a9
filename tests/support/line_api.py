"""Local stand-in of the LINE Messaging API that checks every request against LINE's own spec.

`LineApi(httpserver)` serves reply, push and loading-animation calls on a pytest-httpserver
server, answers like LINE does, and records every call. Each request body is validated against
LINE's OpenAPI description (`messaging-api.yml`) plus the documented limits the file does not
encode; anything wrong is answered with LINE's 400 error and appended to `LineApi.violations`.

openapi-core checks the operation (content type, body presence, header parameters). It ignores
LINE's discriminators (the spec puts `discriminator` on base schemas such as `Message` without
`oneOf`, which openapi-schema-validator treats as a no-op), so bodies are validated separately by
a jsonschema validator that dispatches on `discriminator.mapping`.
"""

from __future__ import annotations

import copy
import functools
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
REPLY_PATH = "/v2/bot/message/reply"
PUSH_PATH = "/v2/bot/message/push"
LOADING_PATH = "/v2/bot/chat/loading/start"
ROUTES = {("POST", REPLY_PATH), ("POST", PUSH_PATH), ("POST", LOADING_PATH)}

MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLY_LABEL = 20
MAX_DISPLAY_TEXT = 300
MAX_URI = 1000
URI_SCHEMES = {"http", "https", "tel", "line"}
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

    def problems(self, request: Request, body: Any) -> list[Problem]:
        """Return everything the spec finds wrong with a request to a routed path."""
        found = list(_operation_problems(self.operation_validators, request))
        if body is None:
            # Whatever openapi-core said about the undecodable body, it must not pass.
            return found or [Problem("", "The request body is not a JSON document")]
        found += [_problem(e) for e in self.body_validators[request.path].iter_errors(body)]
        if isinstance(body, dict):
            found += limit_problems(body)
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
    validators = {route: _body_validator(registry, document, route) for _, route in ROUTES}
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
    """Present a local request as if it had reached api.line.me, the spec's only server."""

    @property
    def host_url(self) -> str:
        """Return LINE's host so openapi-core finds the operation."""
        return SPEC_HOST


def _operation_problems(validators: Iterable[Any], request: Request) -> Iterator[Problem]:
    """Yield what openapi-core finds wrong with parameters, content type and body encoding."""
    adapted = LineHostRequest(request)
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

    def __init__(self, httpserver: HTTPServer, token: str = "test-token") -> None:
        self.token = token
        self.tokens = {token}  # every channel access token it accepts (add a staging one)
        self.delay = 0.0  # Seconds to wait before answering each call.
        self.requests: list[Call] = []  # Every call, in the order they were answered.
        self.violations: list[str] = []  # "METHOD /path: property: what LINE would reject".
        self._spec = load_spec()
        self._server = httpserver
        self._lock = threading.Lock()
        self._used_reply_tokens: set[str] = set()
        self._faults: list[int] = []
        self._message_ids = itertools.count(480_000_000_000_000_001)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        """Return the base URL to pass as `Configuration(host=...)`."""
        return self._server.url_for("").rstrip("/")

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

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` API calls with `status` (e.g. 500, 429) instead of serving them."""
        with self._lock:
            self._faults.extend([status] * n)

    def clear(self) -> None:
        """Forget recorded calls and violations; used reply tokens stay used, as at LINE."""
        with self._lock:
            self.requests.clear()
            self.violations.clear()

    def _handle(self, request: Request) -> Response:
        """Answer one HTTP request the way LINE would."""
        if self.delay:
            time.sleep(self.delay)  # Outside the lock so concurrent calls overlap as at LINE.
        body = request.get_json(silent=True)
        problems = self._problems(request, body)
        with self._lock:
            status, payload = self._decide(request, body, problems)
            recorded = body if isinstance(body, dict) else {}
            self.requests.append(Call(request.path, recorded, dict(request.headers), status))
        return _json_response(status, payload)

    def _problems(self, request: Request, body: Any) -> list[Problem]:
        """Return what is wrong with a request, authentication first."""
        if (request.method, request.path) not in ROUTES:
            return []  # Answered 404 by `_decide`.
        if request.headers.get("Authorization") not in {f"Bearer {t}" for t in self.tokens}:
            return [Problem("Authorization", AUTH_FAILED)]
        return self._spec.problems(request, body)

    def _decide(self, request: Request, body: Any, problems: list[Problem]) -> tuple[int, dict]:
        """Record violations and pick the status and body of the answer; hold the lock."""
        where = f"{request.method} {request.path}"
        if (request.method, request.path) not in ROUTES:
            self.violations.append(f"{where}: no such endpoint in the stand-in")
            return 404, {"message": "Not found"}
        self.violations += [_describe(where, problem) for problem in problems]
        if self._faults:
            status = self._faults.pop(0)
            return status, {"message": FAULT_MESSAGES.get(status, HTTPStatus(status).phrase)}
        if problems:
            return _error_answer(problems)
        if request.path == REPLY_PATH and not self._take_reply_token(body["replyToken"]):
            self.violations.append(f"{where}: replyToken: Invalid reply token (already used)")
            return 400, {"message": "Invalid reply token"}
        return _success(request.path, body, self._message_ids)

    def _take_reply_token(self, token: str) -> bool:
        """Use up a reply token; return False if it was used before."""
        if token in self._used_reply_tokens:
            return False
        self._used_reply_tokens.add(token)
        return True


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
