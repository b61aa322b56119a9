"""The counselors' console (/admin): accounts, roles, sessions, throttling, headers, dashboard."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.console import auth, dashboard
from bot.content.bundle import bundle_id
from bot.content.source import content_source
from bot.db import versions
from bot.db.database import database, transaction
from bot.db.models import AuditEntry, ConsoleUser, LoginAttempt, Referral
from bot.referrals import tallies
from bot.referrals.stats import counts
from bot.studio import library
from tests.support.apps import make_app
from tests.support.console import PASSWORD, csrf_of, log_in, make_account, post_form
from tests.support.conversations import answer_up_to_area

COUNSELOR_PAGES = ("/admin/", "/admin/exports")
EDITOR_PAGES = ("/admin/versions", "/admin/versions/publish")
ADMIN_PAGES = ("/admin/accounts", "/admin/audit", "/admin/audit.csv")


def actions(app) -> list[tuple[str, str, str]]:
    with transaction(app) as session:
        return [(e.who, e.action, e.detail) for e in
                session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


@pytest.fixture
def accounts_made(app):
    for name, role in (("sato", "counselor"), ("suzuki", "editor"), ("takahashi", "admin")):
        make_account(app, name, role)


# --- logging in and out ---

def test_anonymous_is_sent_to_the_login_page(client):
    for page in COUNSELOR_PAGES + EDITOR_PAGES + ADMIN_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/admin/login"), page
    login = client.get("/admin/login")
    assert login.status_code == 200 and "ログイン" in login.text


def test_a_login_opens_the_dashboard_and_a_logout_ends_it(client, app, accounts_made):
    response = log_in(client, "sato")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and "紹介件数" in page.text and "sato" in page.text
    assert post_form(client, "/admin/", "/admin/logout").status_code == 302
    assert client.get("/admin/").status_code == 302
    assert [a[:2] for a in actions(app)][-2:] == [("sato", "login"), ("sato", "logout")]
    with transaction(app) as session:
        user = session.scalars(select(ConsoleUser).where(ConsoleUser.name == "sato")).one()
        assert user.last_login_at is not None


def test_a_copied_session_cookie_stops_working_at_logout(client, app, accounts_made):
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    log_in(client, "sato")
    copied = client.get_cookie(name).value
    thief = app.test_client()
    thief.set_cookie(name, copied)
    assert thief.get("/admin/").status_code == 200, "the cookie is the session"
    post_form(client, "/admin/", "/admin/logout")
    assert thief.get("/admin/").status_code == 302, "ended with the logout"


def test_a_new_password_or_disabling_ends_open_sessions(client, app, runner, accounts_made):
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    log_in(client, "sato")
    assert client.get("/admin/").status_code == 200
    with app.app_context():
        from bot.console import accounts

        accounts.set_password("sato", "another long password", "admin")
    assert client.get("/admin/").status_code == 302
    log_in(client, "sato", "another long password")
    assert client.get("/admin/").status_code == 200 and client.get_cookie(name)
    assert runner.invoke(args=["users", "disable", "sato"]).exit_code == 0
    assert client.get("/admin/").status_code == 302


def test_a_wrong_password_is_refused_and_audited(client, app, accounts_made):
    response = log_in(client, "sato", "wrong password!")
    assert response.status_code == 401 and "名前かパスワードが違います" in response.text
    assert log_in(client, "nobody", PASSWORD).status_code == 401
    assert ("sato", "login_failed", "from 127.0.0.1") in actions(app)
    assert client.get("/admin/").status_code == 302


def test_login_goes_on_to_the_page_asked_for(client, accounts_made):
    asked = client.get("/admin/versions").headers["Location"]
    token = csrf_of(client.get(asked))
    response = client.post("/admin/login", data={"name": "suzuki", "password": PASSWORD,
                                                 "csrf_token": token, "next": "/admin/versions"})
    assert response.headers["Location"] == "/admin/versions"
    client.post("/admin/logout", data={"csrf_token": csrf_of(client.get("/admin/"))})
    token = csrf_of(client.get("/admin/login"))
    response = client.post("/admin/login", data={"name": "suzuki", "password": PASSWORD,
                                                 "csrf_token": token,
                                                 "next": "https://evil.example/admin"})
    assert response.headers["Location"] == "/admin/", "never to another host"


# --- roles ---

@pytest.mark.parametrize(("name", "allowed", "refused"), [
    ("sato", COUNSELOR_PAGES, EDITOR_PAGES + ADMIN_PAGES),
    ("suzuki", COUNSELOR_PAGES + EDITOR_PAGES, ADMIN_PAGES),
    ("takahashi", COUNSELOR_PAGES + EDITOR_PAGES + ADMIN_PAGES, ()),
])
def test_each_role_opens_its_pages_and_no_higher_ones(client, accounts_made, name, allowed,
                                                       refused):
    log_in(client, name)
    for page in allowed:
        assert client.get(page).status_code == 200, page
    for page in refused:
        response = client.get(page)
        assert response.status_code == 403, page
        assert "権限がありません" in response.text


def test_posts_of_a_higher_role_are_refused(client, app, accounts_made):
    log_in(client, "suzuki")
    token = csrf_of(client.get("/admin/"))
    response = client.post("/admin/accounts", data={"csrf_token": token, "name": "x",
                                                    "role": "admin", "password": PASSWORD})
    assert response.status_code == 403
    client = app.test_client()
    log_in(client, "sato")
    token = csrf_of(client.get("/admin/"))
    assert client.post("/admin/versions/publish", data={"csrf_token": token,
                                                        "note": "x"}).status_code == 403


# --- CSRF, sessions, throttling, the allow-list ---

def test_a_post_without_the_csrf_token_is_refused(client, app, accounts_made):
    response = client.post("/admin/login", data={"name": "sato", "password": PASSWORD})
    assert response.status_code == 400 and "送信を受け付けられませんでした" in response.text
    log_in(client, "takahashi")
    for action in ("/admin/logout", "/admin/accounts", "/admin/accounts/sato/disable",
                   "/admin/versions/publish"):
        assert client.post(action, data={"name": "x"}).status_code == 400, action
    assert client.get("/admin/").status_code == 200, "still logged in"


def test_an_idle_session_expires(app, accounts_made):
    app.config["ADMIN_IDLE_MINUTES"] = 1
    client = app.test_client()
    log_in(client, "sato")
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as session:
        session[auth._SEEN] = time.time() - 61
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/admin/login")
    assert "操作がなかったため" in client.get(response.headers["Location"]).text
    assert client.get("/admin/").status_code == 302
    assert ("sato", "session_expired", "") in actions(app)


def test_a_session_in_use_does_not_expire(app, accounts_made):
    app.config["ADMIN_IDLE_MINUTES"] = 1
    client = app.test_client()
    log_in(client, "sato")
    with client.session_transaction() as session:
        session[auth._SEEN] = time.time() - 50
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as session:
        session[auth._SEEN] = time.time() - 50  # 100 s after login, 50 s since the last page
    assert client.get("/admin/").status_code == 200


def test_five_failures_from_one_address_block_that_address_for_the_account(client, app,
                                                                          accounts_made):
    for _ in range(auth.MAX_FAILURES):
        assert log_in(client, "sato", "wrong password!", "10.0.0.1").status_code == 401
    response = log_in(client, "sato", PASSWORD, "10.0.0.1")
    assert response.status_code == 429 and "15 分間ログインできません" in response.text
    # The real counselor, elsewhere, is not locked out by a stranger's five requests.
    assert log_in(app.test_client(), "sato", PASSWORD, "10.0.1.1").status_code == 302
    assert log_in(app.test_client(), "suzuki", PASSWORD, "10.0.0.1").status_code == 302
    with transaction(app) as session:  # 15 minutes later
        session.execute(update(LoginAttempt).values(at=clock.now() - dt.timedelta(minutes=16)))
    assert log_in(app.test_client(), "sato", PASSWORD, "10.0.0.1").status_code == 302


def test_many_failures_from_everywhere_block_the_account(client, app, accounts_made):
    for i in range(auth.MAX_FAILURES_OF_ACCOUNT):
        address = f"10.0.{i // 4}.{i % 4 + 1}"  # four from each address: under its limit
        assert log_in(client, "sato", "wrong password!", address).status_code == 401
    assert log_in(client, "sato", PASSWORD, "10.9.9.9").status_code == 429
    assert log_in(client, "suzuki", PASSWORD, "10.9.9.9").status_code == 302, "others may"


def test_guessing_names_from_one_address_blocks_it(client, app, accounts_made):
    for i in range(auth.MAX_FAILURES_FROM_ADDRESS):
        assert log_in(client, f"guess{i}", PASSWORD, "192.0.2.9").status_code == 401
    assert log_in(client, "sato", PASSWORD, "192.0.2.9").status_code == 429
    assert log_in(client, "sato", PASSWORD, "192.0.2.10").status_code == 302


def test_the_throttle_is_shared_by_workers(app, accounts_made, database_url, line_api):
    twin = make_app(database_url, line_api)
    for _ in range(3):
        log_in(app.test_client(), "sato", "wrong password!")
    for _ in range(2):
        log_in(twin.test_client(), "sato", "wrong password!")
    assert log_in(twin.test_client(), "sato").status_code == 429
    assert log_in(app.test_client(), "sato").status_code == 429
    database(twin).dispose()


def test_outside_the_allow_list_the_console_answers_403(database_url, line_api):
    app = make_app(database_url, line_api, ADMIN_ALLOW="10.1.0.0/16, 192.0.2.7")
    client = app.test_client()
    for address, status in (("10.1.2.3", 200), ("192.0.2.7", 200), ("10.2.0.1", 403),
                            ("192.0.2.8", 403)):
        response = client.get("/admin/login", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == status, address
    assert client.post("/admin/login", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 403
    database(app).dispose()


def test_behind_a_proxy_the_allow_list_sees_the_forwarded_address(database_url, line_api):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    direct = make_app(database_url, line_api, ADMIN_ALLOW="10.1.0.0/16")
    forwarded = {"X-Forwarded-For": "10.1.2.3"}
    assert direct.test_client().get("/admin/login", environ_base=proxy,
                                    headers=forwarded).status_code == 403, "headers ignored"
    behind = make_app(database_url, line_api, ADMIN_ALLOW="10.1.0.0/16", PROXY_HOPS=1)
    client = behind.test_client()
    assert client.get("/admin/login", environ_base=proxy, headers=forwarded).status_code == 200
    # A person cannot add an address of their own: only the proxy's last hop counts.
    spoofed = {"X-Forwarded-For": "10.1.2.3, 203.0.113.9"}
    assert client.get("/admin/login", environ_base=proxy, headers=spoofed).status_code == 403
    for app in (direct, behind):
        database(app).dispose()


@pytest.mark.parametrize(("name", "value"), [("TSUNAGU_ADMIN_ALLOW", "10.0.0.0/8,nope"),
                                           ("TSUNAGU_ADMIN_IDLE_MINUTES", "0"),
                                           ("TSUNAGU_ADMIN_IDLE_MINUTES", "8h")])
def test_the_console_settings_are_checked(monkeypatch, name, value):
    from bot.settings import ConfigError, read

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        read()
    monkeypatch.setenv("TSUNAGU_ADMIN_ALLOW", "10.0.0.0/8, 192.0.2.7")
    monkeypatch.setenv("TSUNAGU_ADMIN_IDLE_MINUTES", "30")
    assert read().TSUNAGU_ADMIN_IDLE_MINUTES == 30


# --- headers and cookies ---

def test_every_console_response_has_the_security_headers(client, accounts_made):
    log_in(client, "takahashi")
    for path in ("/admin/login", "/admin/", "/admin/versions", "/admin/accounts",
                 "/admin/nope", "/admin/assets/console.css"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        if path != "/admin/assets/console.css":
            assert headers["Cache-Control"] == "no-store", path


def test_pages_have_no_inline_script_or_style(client, accounts_made):
    log_in(client, "takahashi")
    for path in ("/admin/login", "/admin/", "/admin/versions", "/admin/accounts", "/admin/audit"):
        html = client.get(path).text
        assert "<script" not in html and "<style" not in html and " style=" not in html, path
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in html


def test_the_session_cookie_is_httponly_lax_and_secure_in_production(database_url, line_api,
                                                                      client, accounts_made):
    response = log_in(client, "sato")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    production = make_app(database_url, line_api, ENV="production")
    assert production.config["SESSION_COOKIE_SECURE"] is True
    database(production).dispose()


# --- the users command ---

def test_users_add_list_disable_and_passwd(runner, app, client):
    result = runner.invoke(args=["users", "add", "ito", "--role", "editor"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "add", "kato", "--role", "counselor",
                                 "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["users", "list"]).output
    assert "ito" in listed and "editor" in listed and "kato" in listed
    assert log_in(client, "kato").status_code == 302
    new = "another long password"
    result = runner.invoke(args=["users", "passwd", "kato", "--password-stdin"], input=new)
    assert result.exit_code == 0, result.output
    assert log_in(app.test_client(), "kato").status_code == 401
    assert log_in(app.test_client(), "kato", new).status_code == 302
    assert runner.invoke(args=["users", "disable", "kato"]).exit_code == 0
    assert "無効" in runner.invoke(args=["users", "list"]).output
    assert log_in(app.test_client(), "kato", new).status_code == 401
    assert client.get("/admin/").status_code == 302, "a disabled account's session ends"
    done = [a[1] for a in actions(app) if a[0].startswith("cli:")]
    assert done == ["user_add", "user_add", "user_passwd", "user_disable"]


def test_users_list_shows_the_last_login_in_japans_time(runner, app):
    make_account(app, "ito", "editor")
    assert "最終ログイン -" in runner.invoke(args=["users", "list"]).output
    with transaction(app) as session:
        session.execute(update(ConsoleUser).values(
            last_login_at=dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.UTC)))
    listed = runner.invoke(args=["users", "list"]).output
    assert "最終ログイン 2026-12-02 00:30" in listed, listed


def test_console_pages_show_stored_times_in_japans_time(client, app, accounts_made):
    with transaction(app) as session:
        session.execute(update(ConsoleUser).where(ConsoleUser.name == "sato").values(
            last_login_at=dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.UTC)))
        session.add(AuditEntry(at=dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC), who="x",
                               action="test", detail="late"))
    log_in(client, "takahashi")
    assert "2026-12-02 00:30" in client.get("/admin/accounts").text
    assert "2026-12-02 01:00" in client.get("/admin/audit").text
    rows = list(csv.reader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True))))
    assert any(r[1] == "2026-12-02 01:00" and r[4] == "late" for r in rows[1:])


def test_users_add_refuses_mismatches_short_passwords_and_taken_names(runner):
    result = runner.invoke(args=["users", "add", "ito", "--role", "admin"],
                           input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and "もう一度" in result.output
    short = runner.invoke(args=["users", "add", "kato", "--role", "admin", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "12 文字以上" in short.output
    taken = runner.invoke(args=["users", "add", "ito", "--role", "admin", "--password-stdin"],
                          input=f"{PASSWORD}\n")
    assert taken.exit_code != 0 and "すでにあります" in taken.output
    assert runner.invoke(args=["users", "add", "x", "--role", "boss"]).exit_code != 0
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code != 0


def test_the_password_is_stored_as_an_argon2_hash(app):
    make_account(app, "ito", "admin")
    with transaction(app) as session:
        stored = session.scalars(select(ConsoleUser.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


# --- the administrators' pages ---

def test_accounts_page_adds_and_disables_accounts(client, app, accounts_made):
    log_in(client, "takahashi")
    post_form(client, "/admin/accounts", "/admin/accounts", name="watanabe", role="editor",
              password=PASSWORD)
    assert "watanabe" in client.get("/admin/accounts").text
    post_form(client, "/admin/accounts", "/admin/accounts/watanabe/disable")
    assert log_in(app.test_client(), "watanabe").status_code == 401
    post_form(client, "/admin/accounts", "/admin/accounts/takahashi/disable")
    assert client.get("/admin/accounts").status_code == 200, "one cannot lock oneself out"
    assert ("takahashi", "user_add", "watanabe (editor)") in actions(app)
    assert ("takahashi", "user_disable", "watanabe") in actions(app)


def test_the_audit_log_page_and_its_csv(client, app, accounts_made):
    log_in(client, "sato", "wrong password!")
    log_in(client, "takahashi")
    page = client.get("/admin/audit")
    assert "ログイン失敗" in page.text and "takahashi" in page.text
    response = client.get("/admin/audit.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["id", "日時", "誰が", "操作", "内容"]
    assert any(r[2] == "sato" and r[3] == "login_failed" for r in rows[1:])
    assert actions(app)[-1][:2] == ("takahashi", "audit_export")


def test_the_audit_csv_defuses_spreadsheet_formulas(client, app, accounts_made):
    log_in(client, "=cmd|' /C calc'!A0", "x")
    log_in(client, "takahashi")
    text = client.get("/admin/audit.csv").get_data(as_text=True)
    assert "'=cmd" in text


def test_the_audit_log_never_holds_a_line_user_id(client, app, line_user, accounts_made):
    answer_up_to_area(line_user)
    line_user.say("秋田市")
    log_in(client, "takahashi")
    client.get("/admin/audit.csv")
    assert line_user.user_id not in str(actions(app))


# --- the editors' pages ---

def test_publish_from_the_console_shows_the_diff_then_makes_the_draft_live(client, app,
                                                                           accounts_made):
    log_in(client, "suzuki")
    confirm = client.get("/admin/versions/publish")
    assert confirm.status_code == 200 and "はじめての公開" in confirm.text
    response = post_form(client, "/admin/versions/publish", "/admin/versions/publish",
                         note="最初の公開")
    assert response.status_code == 302
    live = versions.pointer(database(app), versions.LIVE)
    assert live is not None and live.bundle_id == bundle_id(library.draft_files())
    listed = client.get("/admin/versions").text
    assert "最初の公開" in listed and "公開中" in listed
    assert "公開するものはありません" in client.get("/admin/versions/publish").text
    assert ("suzuki", "publish") in [a[:2] for a in actions(app)]


def test_rollback_from_the_console_asks_then_points_live_back(client, app, accounts_made):
    files = dict(library.draft_files())
    first = versions.add(database(app), files, bundle_id(files), "一", "e", versions.LIVE)
    flow = files["flows/questionnaire.yaml"].decode("utf-8")
    files["flows/questionnaire.yaml"] = flow.replace("どなたについて", "どなたの").encode("utf-8")
    second = versions.add(database(app), files, bundle_id(files), "二", "e", versions.LIVE)
    log_in(client, "suzuki")
    listed = client.get("/admin/versions").text
    assert f"版 {first}" in listed and f"版 {second}" in listed
    confirm = client.get(f"/admin/versions/{first}/rollback")
    assert confirm.status_code == 200 and "質問" in confirm.text and "subject" in confirm.text
    assert versions.pointer(database(app), versions.LIVE).number == second, "asking changes nothing"
    post_form(client, f"/admin/versions/{first}/rollback", f"/admin/versions/{first}/rollback")
    assert versions.pointer(database(app), versions.LIVE).number == first
    assert ("suzuki", "rollback", f"version {second} -> {first}") in actions(app)
    assert client.get("/admin/versions/999/rollback").status_code == 404


# --- the dashboard ---

def refer(make_user, municipality: str, family: bool = False) -> None:
    user = make_user()
    user.follow()
    labels = ["ご家族" if family else "ご本人", "40〜44歳", "正社員", "いいえ", "とくにない",
              "まずは話を聞いてほしい"]
    for label in labels:
        user.tap(label)
    user.say(municipality)


def test_the_dashboard_shows_what_stats_counts(client, app, runner, make_user, accounts_made):
    refer(make_user, "秋田市")
    refer(make_user, "秋田市", family=True)
    refer(make_user, "横手市")
    content = content_source(app).current()
    this_year = clock.fiscal_year(clock.japan_date())
    with transaction(app) as session:
        expected = counts(session, content, *clock.period(this_year))
        assert session.scalar(select(Referral.id).limit(1)) is not None
    assert expected["referrals"] == 3
    start, end = clock.period(this_year)
    printed = runner.invoke(args=["stats", "--json", "--from", start.strftime("%Y-%m"),
                                  "--to", end.strftime("%Y-%m")])
    found = json.loads(printed.output)
    found.pop("feedback"), found.pop("menu_taps")  # beside the referrals (test_months.py)
    assert found == expected, "the same figures as tsunagu stats"
    shown = {t.key: t.rows for t in dashboard.tables(expected, content)}
    titles = {f"{p.item} {p.title}": p.id for p in content.programmes.values()}
    assert {titles[name]: n for name, n, _ in shown["programme"]} == expected["by_programme"]
    assert {name: n for name, n, _ in shown["municipality"]} == expected["by_area"]
    log_in(client, "sato")
    html = client.get("/admin/").text
    assert clock.fiscal_label(this_year) in html
    assert '<strong id="total">3</strong>' in html
    for table in ("取組別", "相談先別", "地域別", "市町村別", "年代別", "お仕事の状況別"):
        assert table in html
    assert "<svg" in html
    for code, number in expected["by_programme"].items():
        programme = content.programmes[code]
        title = f"{programme.item} {programme.title}"
        assert f'<td>{title}</td><td class="num">{number}</td>' in html
        if programme.kpi:
            assert programme.kpi in html
    assert '<td>秋田市</td><td class="num">2</td>' in html
    assert '<td>中央</td><td class="num">2</td>' in html
    assert '<td>県南</td><td class="num">1</td>' in html
    assert '<td>ご家族</td><td class="num">1</td>' in html
    assert '<td>40〜44歳</td><td class="num">3</td>' in html


def test_the_dashboard_filters_by_year_and_months(client, app, make_user, accounts_made):
    refer(make_user, "秋田市")
    with transaction(app) as session:  # one referral of last fiscal year's May
        last_year = clock.fiscal_year(clock.japan_date()) - 1
        session.execute(update(Referral).values(month=dt.date(last_year, 5, 1)))
        tallies.rebuild(session)  # records changed by hand: count again
    refer(make_user, "横手市")
    log_in(client, "sato")
    total = lambda html: html.split('<strong id="total">')[1].split("<")[0]  # noqa: E731
    assert total(client.get("/admin/").text) == "1"
    page = client.get(f"/admin/?year={last_year}").text
    assert total(page) == "1" and clock.fiscal_label(last_year) in page
    assert total(client.get(f"/admin/?year={last_year}&from=5&to=5").text) == "1"
    assert total(client.get(f"/admin/?year={last_year}&from=6&to=3").text) == "0"
    refused = client.get("/admin/?year=abc&from=99")
    assert refused.status_code == 400 and "数字で選んでください" in refused.text, "bad values"


def test_the_dashboard_leaves_staging_out(client, app, make_user, accounts_made):
    refer(make_user, "秋田市")
    with transaction(app) as session:
        session.execute(update(Referral).values(staging=True))
        tallies.rebuild(session)
    log_in(client, "sato")
    assert '<strong id="total">0</strong>' in client.get("/admin/").text


# --- the editors' preview ---

def test_in_production_the_preview_is_for_logged_in_editors(database_url, line_api):
    app = make_app(database_url, line_api, ENV="production")
    make_account(app, "sato", "counselor")
    make_account(app, "suzuki", "editor")
    client = app.test_client()
    # Over https Flask-WTF also wants a Referer of this host, as a browser sends.
    https = {"base_url": "https://localhost",
             "headers": {"Referer": "https://localhost/admin/login"}}
    assert client.get("/preview", **https).status_code == 404, "not at the open address"
    response = client.get("/admin/preview", **https)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    refused = client.post("/admin/preview/api/start", json={}, **https)
    assert refused.status_code == 403 and refused.json["kind"] == "login"
    counselor = app.test_client()
    token = csrf_of(counselor.get("/admin/login", **https))
    counselor.post("/admin/login", data={"name": "sato", "password": PASSWORD,
                                         "csrf_token": token}, **https)
    assert counselor.get("/admin/preview", **https).status_code == 403
    token = csrf_of(client.get("/admin/login", **https))
    client.post("/admin/login", data={"name": "suzuki", "password": PASSWORD,
                                      "csrf_token": token}, **https)
    page = client.get("/admin/preview", **https)
    assert page.status_code == 200 and "/admin/preview/assets/preview.js" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    started = client.post("/admin/preview/api/start", json={}, **https)
    assert started.status_code == 200 and started.json["messages"], "JSON needs no CSRF token"
    form = client.post("/admin/preview/api/start", data={"x": "1"}, **https)
    assert form.status_code == 400, "a form post (what another site could send) is refused"
    assert "プレビュー" in client.get("/admin/", **https).text
    database(app).dispose()


def test_in_development_the_preview_stays_open(client, accounts_made):
    assert client.get("/preview").status_code == 200
    log_in(client, "suzuki")
    assert 'href="/preview"' in client.get("/admin/").text


def test_a_bar_chart_is_svg_with_the_largest_bar_full_width():
    from xml.etree import ElementTree

    from bot.console import charts

    svg = ElementTree.fromstring(str(charts.bar_chart([("秋田市<&>", 4), ("横手市", 1)], "市町村")))
    bars = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert [int(b.get("width")) for b in bars] == [charts.BARS, charts.BARS // 4]
    texts = [t.text for t in svg.findall("{http://www.w3.org/2000/svg}text")]
    assert texts == ["秋田市<&>", "4", "横手市", "1"]
    assert charts.bar_chart([], "x") == ""
