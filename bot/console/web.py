"""The console's blueprint, its security headers, the address allow-list and error pages."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import clock

blueprint = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates",
                      static_folder="static/console", static_url_path="/assets")
csrf = CSRFProtect()

# Everything comes from this app; no inline script or style, and no framing (clickjacking).
CSP = "default-src 'self'; frame-ancestors 'none'"
# Production is served over https only (README): browsers are told to never try http.
HSTS = "max-age=63072000; includeSubDomains"
# What every console response says to the browser; a referral's own page says it too
# (bot.sheet).
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # an address never leaks to another site
    "X-Content-Type-Options": "nosniff",
}
ERRORS = {
    400: ("送信を受け付けられませんでした",
          "ページの有効期限が切れたか、正しくない送信です。"
          "ページを開き直してからもう一度お試しください。"),
    403: ("このページは開けません",
          "このページを開く権限がありません。必要な場合は管理者にご相談ください。"),
    404: ("ページが見つかりません", "アドレスを確かめてください。"),
    429: ("しばらくお待ちください",
          "ログインの失敗が続いたため、15 分間ログインできません。"
          "時間をおいてからもう一度お試しください。"),
    503: ("ただいま混み合っています",
          "ログインの確認が混み合っています。少し待ってから、もう一度お試しください。"),
}


class BadRequest(ValueError):
    """A value the page cannot use; the message says which, in Japanese (answered 400)."""


# ASCII digits only: str.isdigit() and int() also take "²", "①" and "٣", and int() of those
# fails or means something else. Nine digits are plenty for a year, a month or a version.
_NUMBER = re.compile(r"[0-9]{1,9}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a month or a fiscal year may be in


def number_arg(name: str, default: int, low: int, high: int, what: str) -> int:
    """Return a query's whole number from low to high (default if absent); else BadRequest."""
    value = request.args.get(name, "")
    if value == "":
        return default
    if not _NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise BadRequest(f"{what}は {low}〜{high} の数字で選んでください。")
    return int(value)


def month_arg(name: str) -> dt.date:
    """Return a query's month ("2026-11") as its first day; else BadRequest."""
    found = _MONTH.fullmatch(request.args.get(name, ""))
    if (not found or not FIRST_YEAR <= int(found[1]) <= LAST_YEAR
            or not 1 <= int(found[2]) <= 12):
        raise BadRequest(f"月は {FIRST_YEAR}-01〜{LAST_YEAR}-12 の間で、2026-11 のように"
                         "選んでください。")
    return dt.date(int(found[1]), int(found[2]), 1)


def networks(app: Flask) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Return the networks allowed to reach the console (empty: every address)."""
    parts = (p.strip() for p in app.config.get("ADMIN_ALLOW", "").split(","))
    return [ipaddress.ip_network(p, strict=False) for p in parts if p]


def allowed(address: str | None, allow: list) -> bool:
    """Tell whether an address may reach the console."""
    if not allow:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in allow)




# Templates show every stored time as staff see it: `{{ moment | jst }}`, Japan's time.
blueprint.add_app_template_filter(clock.staff_time, "jst")


def ours() -> bool:
    """Tell whether this request is the console's (any path under /admin)."""
    return _ours()


def _ours() -> bool:
    # Every path under /admin, also those no view answers (their 404 gets the headers too).
    return request.path == "/admin" or request.path.startswith("/admin/")


@blueprint.before_app_request
def _guard() -> None:
    if not _ours():
        return
    # The allow-list comes first: outside it, not even the login page answers.
    if not allowed(request.remote_addr, current_app.extensions["tsunagu.console.allow"]):
        abort(403)
    # The editors' preview API takes JSON only, which another site's page cannot send
    # without a CORS preflight this app never answers: that is its CSRF protection.
    json_api = request.blueprint == "preview" and request.is_json
    if request.method not in ("GET", "HEAD", "OPTIONS") and not json_api:
        csrf.protect()


@blueprint.after_app_request
def _secure(response: Response) -> Response:
    if not _ours():
        return response
    headers = response.headers
    headers.update(SECURITY_HEADERS)
    if request.endpoint != "console.static":
        headers["Cache-Control"] = "no-store"  # pages hold counts and names: never cached
    return response


def _strict_transport(response: Response) -> Response:
    response.headers["Strict-Transport-Security"] = HSTS
    return response


def error_page(code: int, message: str | None = None):
    """Render a Japanese error page with this status."""
    title, text = ERRORS.get(code, ("エラー", "問題が起きました。"))
    return render_template("console/error.html", title=title, text=message or text), code


@blueprint.errorhandler(CSRFError)
def _csrf_refused(_err):
    return error_page(400)


@blueprint.errorhandler(BadRequest)
def _refuse(err: BadRequest):
    return error_page(400, str(err))


for _code in (400, 403, 404, 429):
    blueprint.register_error_handler(_code, lambda err, code=_code: error_page(code))


def init_app(app: Flask) -> None:
    # CSRF is checked in _guard for the console only: the webhook and the preview API are
    # not forms and have their own protection (signatures; JSON the browser must preflight).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form lives as long as its session
    csrf.init_app(app)
    app.extensions["tsunagu.console.allow"] = networks(app)
    if app.config["ENV"] == "production":
        app.after_request(_strict_transport)  # every response, the webhook's too
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        # Behind a reverse proxy: take the person's address from the hops it vouches for.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
