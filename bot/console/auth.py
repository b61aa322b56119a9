"""Logging in to the console: sessions, idle expiry, the login throttle and role checks."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import threading
import time
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import delete, func, or_, select, text

from bot import clock
from bot.console import accounts
from bot.console.web import blueprint, error_page, ours
from bot.db.audit import audit, record
from bot.db.database import transaction
from bot.db.models import ConsoleUser, LoginAttempt

# Failed logins within WINDOW that close the door for the rest of it: for one account from
# one address first, so that a stranger cannot lock a counselor out with five requests;
# from one address whatever the names (guessing names); for one account from everywhere.
MAX_FAILURES = 5
MAX_FAILURES_FROM_ADDRESS = 20
MAX_FAILURES_OF_ACCOUNT = 50
WINDOW = dt.timedelta(minutes=15)
LOGIN_LOCK = 0x7473_756E  # PostgreSQL advisory lock of the login throttle ("tsun")
_CHECKS = "tsunagu.console.password_checks"
_SEEN = "console_seen"  # the session's last request, for idle expiry

login_manager = LoginManager()
login_manager.login_view = "console.show_login"
login_manager.login_message = "ログインしてください。"
login_manager.session_protection = "basic"


class User(UserMixin):
    """The logged-in account, detached from the database."""

    def __init__(self, row: ConsoleUser) -> None:
        self.id, self.name, self.role = row.id, row.name, row.role
        self.epoch = row.session_epoch

    def get_id(self) -> str:
        """Return the session's id: the account and its epoch (see ConsoleUser)."""
        return f"{self.id}.{self.epoch}"

    def may(self, role: str) -> bool:
        """Tell whether this user may open pages of this role."""
        return accounts.at_least(self.role, role)


@login_manager.user_loader
def _load(session_id: str) -> User | None:
    # A disabled account's open sessions end with its next request, and so does a session
    # of an epoch the account has left (logged out, new password).
    user_id, _, epoch = session_id.partition(".")
    if not (user_id.isascii() and user_id.isdigit() and epoch.isascii() and epoch.isdigit()):
        return None
    with transaction() as db:
        row = db.get(ConsoleUser, int(user_id))
        if row is None or row.disabled or row.session_epoch != int(epoch):
            return None
        return User(row)


def requires(role: str):
    """Let only users of this role (or a higher one) open the view; others get 403."""
    def wrap(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.may(role):
                abort(403)
            return view(*args, **kwargs)
        return guarded
    return wrap


def who() -> str:
    """Return the logged-in user's name, for the audit log."""
    return current_user.name if current_user.is_authenticated else "anonymous"


@blueprint.before_app_request
def _expire_idle():
    if not ours() or not current_user.is_authenticated:
        return None
    idle = current_app.config["ADMIN_IDLE_MINUTES"] * 60
    now = time.time()
    # A session that never said when it was last seen counts as idle since forever.
    if now - session.get(_SEEN, 0) > idle:
        audit(current_user.name, "session_expired")
        logout_user()
        session.pop(_SEEN, None)
        flash("しばらく操作がなかったため、ログアウトしました。もう一度ログインしてください。")
        return redirect(url_for("console.show_login", next=request.full_path))
    session[_SEEN] = now
    return None


@blueprint.before_app_request
def _editors_preview():
    # Outside development the preview lives at /admin/preview, for editors only.
    if request.blueprint != "preview" or not ours():
        return None
    if current_user.is_authenticated and current_user.may("editor"):
        return None
    if request.endpoint == "preview.page":
        return (login_manager.unauthorized() if not current_user.is_authenticated
                else error_page(403))
    return jsonify(error="編集者としてログインしてください。", kind="login"), 403


def _reserve(name: str, address: str) -> bool:
    """Count this attempt as failed until it succeeds; False if the throttle refuses it.

    Counted and recorded under one lock, before the password is checked, so that no number
    of concurrent requests gets more than the allowed failures through.
    """
    now = clock.now()
    with transaction() as db:
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOGIN_LOCK})
        # (SQLite: the transaction began IMMEDIATE, which is the lock.)
        db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - WINDOW))
        rows = db.execute(select(LoginAttempt.name, LoginAttempt.address, func.count())
                          .where(or_(LoginAttempt.name == name, LoginAttempt.address == address))
                          .group_by(LoginAttempt.name, LoginAttempt.address)).all()
        pair = sum(n for who_, at, n in rows if who_ == name and at == address)
        of_account = sum(n for who_, _, n in rows if who_ == name)
        from_address = sum(n for _, at, n in rows if at == address)
        if (pair >= MAX_FAILURES or of_account >= MAX_FAILURES_OF_ACCOUNT
                or from_address >= MAX_FAILURES_FROM_ADDRESS):
            return False
        db.add(LoginAttempt(at=now, name=name, address=address))
        return True


def _failed(name: str, address: str) -> None:
    with transaction() as db:
        record(db, name, "login_failed", f"from {address}")


def _succeeded(user_id: int, address: str) -> User:
    with transaction() as db:
        row = db.get(ConsoleUser, user_id)
        row.last_login_at = clock.now()
        # The failures of this account from this address are forgiven (this attempt too);
        # those from elsewhere still count towards the account's own limit.
        db.execute(delete(LoginAttempt).where(LoginAttempt.name == row.name,
                                              LoginAttempt.address == address))
        record(db, row.name, "login", f"from {address}")
        return User(row)


def _safe_next(target: str | None) -> str:
    # Only a path of this console: never another host (an open redirect).
    parts = urlsplit(target or "")
    if (parts.netloc and parts.netloc != request.host) or not parts.path.startswith("/admin"):
        return url_for("console.show_dashboard")
    return parts.path + (f"?{parts.query}" if parts.query else "")


@blueprint.get("/login")
def show_login():
    """Show the login form."""
    if current_user.is_authenticated:
        return redirect(url_for("console.show_dashboard"))
    return render_template("console/login.html", next=request.args.get("next", ""))


@blueprint.post("/login")
def log_in():
    """Check a name and password; throttle after repeated failures."""
    name = request.form.get("name", "").strip()[:64]
    password = request.form.get("password", "")
    address = request.remote_addr or ""
    # Each check takes argon2's 64 MiB: only a few at once, never a queue without bound.
    checks = current_app.extensions[_CHECKS]
    if not checks.acquire(blocking=False):
        page, status = error_page(503)
        return page, status, {"Retry-After": "2"}
    try:
        if not _reserve(name, address):
            return error_page(429)
        with transaction() as db:
            row = accounts.find(db, name)
        right = accounts.verify(row, password)
    finally:
        checks.release()
    if not right:
        _failed(name, address)
        flash("名前かパスワードが違います。")
        return render_template("console/login.html", next=request.form.get("next", "")), 401
    session.clear()  # a new session for the new login (no fixation)
    login_user(_succeeded(row.id, address))
    session.permanent = True  # the cookie, too, ends after the idle time
    session[_SEEN] = time.time()
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def log_out():
    """End the session."""
    if current_user.is_authenticated:
        audit(current_user.name, "logout")
        accounts.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash("ログアウトしました。")
    return redirect(url_for("console.show_login"))


def _session_key(app: Flask) -> str:
    # Derived, not the same: the user-id hash key never signs a cookie.
    secret = app.config["TSUNAGU_SECRET_KEY"].encode()
    return hmac.new(secret, b"tsunagu.console.session", hashlib.sha256).hexdigest()


def init_app(app: Flask) -> None:
    if not app.secret_key:
        app.secret_key = _session_key(app)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ENV"] == "production",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=app.config["ADMIN_IDLE_MINUTES"]),
    )
    login_manager.init_app(app)
    app.extensions[_CHECKS] = threading.BoundedSemaphore(app.config["LOGIN_CONCURRENCY"])
