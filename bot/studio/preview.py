"""The editors' preview at /preview: the conversation as LINE would show it, in a browser.

The server answers with the very messages the webhook would send (`bot.line.render`), made by
the same engine (`Dialogue.respond`); the page's JavaScript (static/preview/) draws them.
Nothing is stored: the page holds the conversation (state, answers, bundle id) in a token
signed with the app's secret key and sends it back with each input. Development only.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template_string,
    request,
)
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.content import bundle
from bot.content.files import ContentError
from bot.db import versions
from bot.db.database import database
from bot.dialogue.engine import Ask, Follow, Outcome, Postback, Text
from bot.line.limits import MAX_POSTBACK_DATA, MAX_TEXT
from bot.line.runtime import Runtime, runtimes
from bot.studio import library

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static" / "preview"
DRAFT = "draft"
# Everything the page uses comes from this app: no CDN, no inline script or style.
CSP = "default-src 'self'; frame-ancestors 'none'"  # never inside another site's frame
_KEY = "tsunagu.preview"
_SALT = "tsunagu.preview.state"  # a preview token can never pass for another signed value

blueprint = Blueprint("preview", __name__, url_prefix="/preview", static_folder=STATIC,
                      static_url_path="/assets")


class PreviewError(Exception):
    """A request the preview cannot answer; becomes a JSON answer with this status."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class Cache:
    """Keep the runtimes of the bundles previewed last, by bundle id (a checksum: never stale)."""

    def __init__(self, values: dict[str, str] | None, size: int = 16) -> None:
        self.values = values
        self.size = size
        self._built: OrderedDict[str, Runtime] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, bundle_id: str) -> Runtime | None:
        """Return the runtime of this bundle if it was built and is still kept."""
        with self._lock:
            runtime = self._built.get(bundle_id)
            if runtime is not None:
                self._built.move_to_end(bundle_id)
            return runtime

    def of(self, files: bundle.Files) -> Runtime:
        """Return the runtime of these files, parsing them only if their bundle is new."""
        runtime = self.get(bundle.bundle_id(files))
        if runtime is not None:
            return runtime
        built = Runtime.of(bundle.parse(files), self.values)
        with self._lock:
            self._built[built.content.bundle_id] = built
            while len(self._built) > self.size:
                self._built.popitem(last=False)
        return built

    def clear(self) -> None:
        with self._lock:
            self._built.clear()


def cache(app: Flask | None = None) -> Cache:
    """Return the app's cache of previewed runtimes."""
    return (app or current_app).extensions[_KEY]


def _signer() -> URLSafeSerializer:
    secret = current_app.config.get("TSUNAGU_SECRET_KEY") or current_app.secret_key
    return URLSafeSerializer(secret, salt=_SALT)


def _version(value: object) -> str | int:
    """Return "draft" or a version number from what the page sent."""
    if value is None or value == DRAFT:
        return DRAFT
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) < 10:
        return int(value)
    raise PreviewError(400, "bad_version", "版は「draft」か版の番号で指定してください。")


def _files(version: str | int) -> bundle.Files:
    """Read the draft's files (anew each time: editors save them) or a stored version's."""
    try:
        if version == DRAFT:
            return library.draft_files()
        return library.version_files(current_app, version)
    except ContentError as err:
        if version == DRAFT:
            raise PreviewError(422, "bad_content", f"下書きを読めません: {err}") from None
        raise PreviewError(404, "unknown_version", f"版 {version} はありません。") from None


def _runtime(version: str | int, bundle_id: str | None = None) -> Runtime:
    """Return the runtime of a version (of this bundle, when a conversation names one)."""
    if bundle_id is not None and (kept := cache().get(bundle_id)) is not None:
        return kept
    files = _files(version)
    if bundle_id is not None and bundle.bundle_id(files) != bundle_id:
        raise PreviewError(409, "draft_changed", "下書きが変わりました。「最初から」を押すと、"
                           "保存された内容で始まります。")
    try:
        return cache().of(files)
    except ContentError as err:
        raise PreviewError(422, "bad_content", f"内容を読めません: {err}") from None


def _payload() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PreviewError(400, "bad_request", "JSON のオブジェクトを送ってください。")
    return body


def _token(runtime: Runtime, version: str | int, state: str | None, answers: dict) -> str:
    return _signer().dumps({"b": runtime.content.bundle_id, "v": version, "s": state,
                            "a": answers})


def _conversation(token: object) -> tuple[str | int, str, str | None, dict[str, str]]:
    """Return the version, bundle id, state and answers of a signed token; 400 if it is bad."""
    bad = PreviewError(400, "bad_state", "会話の状態が正しくありません（改ざんされたか、"
                       "別の鍵で署名されています）。「最初から」を押してください。")
    if not isinstance(token, str):
        raise bad
    try:
        held = _signer().loads(token)
    except BadData:
        raise bad from None
    if not isinstance(held, dict):
        raise bad
    bundle_id, state, answers = held.get("b"), held.get("s"), held.get("a")
    if (not isinstance(bundle_id, str) or not (state is None or isinstance(state, str))
            or not isinstance(answers, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in answers.items())):
        raise bad
    try:
        version = _version(held.get("v"))
    except PreviewError:
        raise bad from None
    return version, bundle_id, state, answers


def _input(body: dict) -> Postback | Text:
    """Return the person's input: a tapped button's postback data or a typed text."""
    postback, text = body.get("postback"), body.get("text")
    if (postback is None) == (text is None):
        raise PreviewError(400, "bad_input", "postback か text のどちらか一つを送ってください。")
    if postback is not None:
        if not isinstance(postback, str) or not 0 < len(postback) <= MAX_POSTBACK_DATA:
            raise PreviewError(400, "bad_input", "postback は 1〜300 文字の文字列です。")
        return Postback(postback)
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
        raise PreviewError(400, "bad_input", f"text は 1〜{MAX_TEXT} 文字の文字列です。")
    return Text(text)


def _reply(runtime: Runtime, conv: tuple[str, dict] | None,
           inp) -> tuple[list[dict], Outcome]:
    """Return the LINE messages the bot would send for one input, and the engine's outcome."""
    # A draft may parse and still be one the engine or the renderer cannot use (`tsunagu
    # check` says why): the editor gets that sentence, not a broken page.
    try:
        outcome = runtime.dialogue.respond(conv, inp)
        return (runtime.renderer.render(outcome.says) if outcome.says else []), outcome
    except Exception as err:
        log.exception("preview: cannot answer %r", inp)
        raise PreviewError(422, "bad_content", "この内容では答えられません（tsunagu check で"
                           f"確かめてください）: {err!r}") from None


def _render(runtime: Runtime, says: list) -> list[dict]:
    try:
        return runtime.renderer.render(says)
    except Exception as err:
        log.exception("preview: cannot render %r", says)
        raise PreviewError(422, "bad_content", "この内容は表示できません（tsunagu check で"
                           f"確かめてください）: {err!r}") from None


def _steps(runtime: Runtime) -> list[dict[str, str]]:
    return [{"id": s.id, "question": s.question(None)} for s in runtime.content.flow.steps]


@blueprint.after_request
def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"  # an editor's change shows on reload
    return response


@blueprint.errorhandler(PreviewError)
def _preview_error(err: PreviewError):
    return jsonify(error=err.message, kind=err.kind), err.status


@blueprint.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    return jsonify(error=err.description, kind="http"), err.code


@blueprint.get("")
def page():
    """Show the preview page."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return render_template_string(html)


@blueprint.get("/api/versions")
def version_list():
    """List what can be previewed: the draft, then every stored version, newest first."""
    listed = [{"value": DRAFT, "label": "下書き（編集中のファイル）"}]
    try:
        stored = versions.listing(database(current_app))
    except SQLAlchemyError:  # a database not yet upgraded has no versions: the draft is all
        stored = []
    for v in stored:
        channels = "・".join({"live": "公開中", "staging": "確認用"}.get(c, c) for c in v.channels)
        note = "・".join(part for part in (v.note, v.author, channels) if part)
        listed.append({"value": str(v.number),
                       "label": f"版 {v.number}" + (f"（{note}）" if note else "")})
    return jsonify(versions=listed)


@blueprint.post("/api/start")
def start():
    """Start a conversation on a version: with the greeting, or at a question, no answers."""
    body = _payload()
    version = _version(body.get("version"))
    runtime = _runtime(version)
    step = body.get("step")
    if step in (None, ""):
        messages, outcome = _reply(runtime, None, Follow())
        state, answers = outcome.state, outcome.answers
    else:
        if not isinstance(step, str) or runtime.content.flow.step(step) is None:
            raise PreviewError(400, "unknown_step", f"この版に質問 {step!r} はありません。")
        messages, state, answers = _render(runtime, [Ask(step)]), step, {}
    return jsonify(messages=messages, token=_token(runtime, version, state, answers),
                   steps=_steps(runtime), bundle=runtime.content.bundle_id,
                   version=str(version))


@blueprint.post("/api/send")
def send():
    """Answer one tap or typed text, as the bot would, and return the new signed state."""
    body = _payload()
    version, bundle_id, state, answers = _conversation(body.get("token"))
    inp = _input(body)
    runtime = _runtime(version, bundle_id)
    messages, outcome = _reply(runtime, None if state is None else (state, answers), inp)
    return jsonify(messages=messages,
                   token=_token(runtime, version, outcome.state, outcome.answers),
                   bundle=runtime.content.bundle_id, version=str(version))


def init_app(app: Flask) -> None:
    """Serve the preview at /preview in development; elsewhere only where the console says."""
    # The console (bot/console) sets PREVIEW_URL_PREFIX outside development and lets only
    # logged-in editors through; in production /preview does not exist.
    prefix = "/preview" if app.config["ENV"] == "development" else app.config.get(
        "PREVIEW_URL_PREFIX")
    if not prefix:
        return
    app.extensions[_KEY] = Cache(runtimes(app).values)
    app.register_blueprint(blueprint, url_prefix=prefix)
