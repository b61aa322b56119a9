"""The console attacked as the audit did: raced and flooded logins, odd numbers, weak passwords."""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from sqlalchemy import func, select

from bot import clock
from bot.console import accounts, auth
from bot.db.database import transaction
from bot.db.models import AuditEntry, ConsoleUser
from bot.db.versions import MAX_NUMBER
from tests.support.apps import make_app
from tests.support.browser import served
from tests.support.console import log_in, make_account, post_form
from tests.support.servers import Browser, gunicorn

ARGON2_MIB = 64  # what one password check allocates (argon2-cffi's default memory cost)


def failures_audited(app) -> int:
    with transaction(app) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "login_failed"))


def at_once(count: int, task) -> list:
    """Run task(i) in count threads released together; return their results in order."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = task(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


# -- the throttle cannot be raced -------------------------------------------------------------


@pytest.fixture
def roomy_app(database_url, line_api):
    """The app with room for every password check at once, so only the throttle stops them."""
    app = make_app(database_url, line_api, LOGIN_CONCURRENCY=32)
    make_account(app, "sato", "counselor")
    yield app


def test_twenty_concurrent_wrong_logins_get_at_most_five_failures(roomy_app):
    with served(roomy_app) as url:
        browsers = [Browser(url) for _ in range(20)]
        connections = [b.connection() for b in browsers]
        for connection in connections:
            connection.connect()  # so that the twenty requests leave together
        statuses = at_once(20, lambda i: browsers[i].log_in("sato", "wrong password!",
                                                            connections[i])[0])
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) <= auth.MAX_FAILURES
    assert failures_audited(roomy_app) == statuses.count(401)
    # And the counselor's right password from this address waits out the window too.
    assert log_in(roomy_app.test_client(), "sato").status_code == 429


# -- password checks are bounded ------------------------------------------------------------


def test_logins_past_the_concurrent_checks_answer_503_in_japanese(app):
    make_account(app, "sato", "counselor")
    checks = app.extensions[auth._CHECKS]
    held = [checks.acquire(blocking=False) for _ in range(2)]  # two checks running now
    try:
        response = log_in(app.test_client(), "sato")
        assert response.status_code == 503
        assert "混み合っています" in response.text and response.headers["Retry-After"]
    finally:
        for _ in filter(None, held):
            checks.release()
    assert failures_audited(app) == 0  # nothing was counted against the account
    assert log_in(app.test_client(), "sato").status_code == 302


def worker_rss(master: int) -> int:
    """Return the resident memory of the gunicorn master's worker, in bytes."""
    children = psutil.Process(master).children()
    return sum(child.memory_info().rss for child in children)


def test_a_burst_of_anonymous_logins_leaves_the_worker_s_memory_bounded(app, tmp_path):
    make_account(app, "sato", "counselor")
    with gunicorn(app, tmp_path / "gunicorn.log", workers=1, threads=16,
                  TSUNAGU_LOGIN_CONCURRENCY="2") as (url, process):
        browsers = [Browser(url) for _ in range(16)]
        before = worker_rss(process.pid)
        peak, done = [before], threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], worker_rss(process.pid))
                time.sleep(0.002)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            results = at_once(16, lambda i: browsers[i].log_in(f"nobody{i}", "x" * 16))
        finally:
            done.set()
            watcher.join()
    statuses = [status for status, _ in results]
    grew = (peak[0] - before) / 2**20
    assert set(statuses) <= {401, 503} and 503 in statuses, (statuses, grew)
    assert all("混み合っています" in page for status, page in results if status == 503)
    # Two checks at once take about 2 x 64 MiB; sixteen would take a GiB.
    assert grew < 3 * ARGON2_MIB, f"the worker grew by {grew:.0f} MiB"


# -- numbers in addresses -----------------------------------------------------------------


@pytest.fixture
def editor(app, client):
    make_account(app, "suzuki", "editor")
    log_in(client, "suzuki")
    return client


@pytest.mark.parametrize("query", [
    "/admin/?year=²", "/admin/?year=①", "/admin/?from=٣", "/admin/?to=13", "/admin/?year=1",
    "/admin/exports/soudan?fy=²&format=csv", "/admin/exports/soudan?fy=99999999999999999999",
    "/admin/exports/monthly?month=0001-01", "/admin/exports/monthly?month=9999-12",
    "/admin/exports/monthly?month=２０２６-１１", "/admin/exports/monthly?month=2026-1",
    "/admin/exports/referrals?from=2026-²&to=2026-11&format=csv",
    "/admin/funnel?version=²", "/admin/funnel?version=-1", "/admin/funnel?version=1e3",
])
def test_odd_numerals_and_numbers_out_of_range_answer_400(editor, query):
    response = editor.get(query)
    assert response.status_code == 400, query
    assert "送信を受け付けられませんでした" in response.text  # the console's own page


@pytest.mark.parametrize("path", [
    "/admin/versions/99/rollback", f"/admin/versions/{MAX_NUMBER + 1}/rollback",
    f"/admin/versions/{2**64 + 1}/rollback", "/admin/versions/0/rollback",
    "/admin/funnel?version=99",
])
def test_versions_past_the_last_answer_404(editor, path):
    assert editor.get(path).status_code == 404


def test_a_rollback_past_the_last_version_is_refused_on_post_too(editor):
    response = post_form(editor, "/admin/versions", f"/admin/versions/{2**64 + 1}/rollback")
    assert response.status_code == 404


# -- passwords and names --------------------------------------------------------------------


@pytest.mark.parametrize(("password", "says"), [
    (" " * 12, "同じ文字"), ("a" * 16, "同じ文字"), ("short pass", "12 文字以上"),
    ("x" * 1025, "1,024 文字まで"), ("my name is tanaka!", "アカウント名"),
    ("Tanaka-secret-2026", "アカウント名"), ("password1234", "よく使われている"),
    ("qwertyuiop123", "よく使われている"), ("1q2w3e4r5t6y", "よく使われている"),
    ("Password123456!", "よく使われている"),
])
def test_a_guessable_password_is_refused_in_plain_japanese(app, password, says):
    with app.app_context(), pytest.raises(accounts.AccountError, match=says):
        accounts.add("tanaka", "counselor", password, "test")


def test_a_good_password_is_taken(app):
    with app.app_context():
        accounts.add("tanaka", "counselor", "kakunodate sakura 7", "test")
    assert log_in(app.test_client(), "tanaka", "kakunodate sakura 7").status_code == 302


def test_users_passwd_refuses_the_account_s_own_name(app, runner):
    make_account(app, "tanaka", "counselor")
    result = runner.invoke(args=["users", "passwd", "tanaka", "--password-stdin"],
                           input="tanaka tanaka tanaka\n")
    assert result.exit_code != 0 and "アカウント名" in result.output


@pytest.fixture
def admin(app, client):
    make_account(app, "admin1", "admin")
    log_in(client, "admin1")
    return client


@pytest.mark.parametrize("name", ["a/b", "佐藤", "sato kenji", "../x", "x" * 65, ""])
def test_an_account_name_outside_letters_digits_and_dot_dash_underscore_is_refused(
        app, admin, name):
    response = post_form(admin, "/admin/accounts", "/admin/accounts", name=name,
                         role="counselor", password="kakunodate sakura 7")
    assert response.status_code == 302
    assert "半角の英字・数字" in admin.get("/admin/accounts").text
    with transaction(app) as session:
        assert session.scalar(select(func.count()).select_from(ConsoleUser)) == 1


def test_an_existing_odd_name_can_still_be_disabled(app, admin, runner):
    with transaction(app) as session:  # made before names were limited
        session.add(ConsoleUser(name="pref/akita", role="counselor", created_at=clock.now(),
                                password_hash=accounts.hash_password("kakunodate sakura 7")))
    page = admin.get("/admin/accounts").text
    assert "pref/akita" in page
    response = post_form(admin, "/admin/accounts", "/admin/accounts/pref/akita/disable")
    assert response.status_code == 302
    assert "pref/akita を無効にしました" in admin.get("/admin/accounts").text
    assert runner.invoke(args=["users", "enable", "pref/akita"]).exit_code == 0


# -- hosts and transport ------------------------------------------------------------------


@pytest.fixture
def production(database_url, line_api):
    app = make_app(database_url, line_api, ENV="production",
                   TRUSTED_HOSTS=["tsunagu.example.jp", "127.0.0.1", "localhost"])
    yield app


def test_a_foreign_host_header_is_refused_and_never_reflected(production):
    client = production.test_client()
    response = client.get("/admin/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")
    good = client.get("/admin/", headers={"Host": "tsunagu.example.jp"})
    assert good.status_code == 302 and "evil" not in good.headers["Location"]


@pytest.mark.parametrize("path", ["/healthz", "/admin/login", "/admin/nothing", "/callback"])
def test_every_production_response_carries_hsts(production, path):
    response = production.test_client().get(path, headers={"Host": "tsunagu.example.jp"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_the_development_preview_cannot_be_framed(client):
    response = client.get("/preview")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
