"""The editors' preview (/preview): its JSON API, and the page in a real Chromium."""

from __future__ import annotations

import re
import shutil
import tomllib

import pytest
from itsdangerous import URLSafeSerializer

from bot.content.bundle import bundle_id
from bot.db import versions
from bot.db.database import database
from bot.line.render import tel_uri
from bot.studio import library, preview
from tests.support.apps import make_app
from tests.support.browser import PHONE, Console, served
from tests.support.paths import ROOT

CSP = "default-src 'self'; frame-ancestors 'none'"  # never inside another site's frame
FIRST_QUESTION = "どなたについてのご相談ですか？"
STATIC = ROOT / "bot" / "studio" / "static" / "preview"


# --- the JSON API, through Flask's test client ---

def start(client, **body) -> dict:
    response = client.post("/preview/api/start", json=body)
    assert response.status_code == 200, response.json
    return response.json


def tap(client, answer: dict, label: str) -> dict:
    """Tap the quick reply with this label under the last message; return the answer."""
    items = answer["messages"][-1]["quickReply"]["items"]
    action = next(i["action"] for i in items if i["action"]["label"] == label)
    response = client.post("/preview/api/send", json={"token": answer["token"],
                                                      "postback": action["data"]})
    assert response.status_code == 200, response.json
    return response.json


def texts(answer: dict) -> list[str]:
    return [m["text"] for m in answer["messages"] if m["type"] == "text"]


def test_the_page_loads_only_its_own_assets(client):
    page = client.get("/preview")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == CSP
    html = page.text
    for label in ("プレビュー", "最初から", "質問から始める", "版", "下書き"):
        assert label in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/preview/assets/' in attrs and not body.strip()
                           for attrs, body in scripts), "scripts come from the app, none inline"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"https?://", html), "no asset from another host"
    for asset in ("preview.js", "preview.css"):
        response = client.get(f"/preview/assets/{asset}")
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"] == CSP


def test_the_api_answers_with_the_webhooks_messages(client):
    first = start(client, version="draft")
    assert texts(first)[-1] == FIRST_QUESTION
    assert [s["id"] for s in first["steps"]][:2] == ["subject", "age"]
    labels = [i["action"]["label"] for i in first["messages"][-1]["quickReply"]["items"]]
    assert labels[:2] == ["ご本人", "ご家族"]
    second = tap(client, first, "ご本人")
    assert texts(second)[0].startswith("年齢を教えてください")
    typed = client.post("/preview/api/send", json={"token": second["token"], "text": "42"}).json
    assert texts(typed)[0].startswith("いまのお仕事の状況")


def test_a_whole_conversation_ends_in_cards(client):
    answer = start(client)
    for label in ("ご本人", "40〜44歳", "仕事を探している", "いいえ", "とくにない",
                  "仕事を探したい", "中央", "秋田市"):
        answer = tap(client, answer, label)
    flex = [m for m in answer["messages"] if m["type"] == "flex"]
    assert flex and flex[0]["contents"]["type"] == "carousel"
    uris = re.findall(r"'uri': '([^']+)'", str(flex[0]))
    assert any(uri.startswith("tel:") for uri in uris)


def test_starting_at_a_question_has_no_answers(client):
    answer = start(client, step="area")
    assert texts(answer) == [library.draft().flow.step("area").question(None)]
    labels = [i["action"]["label"] for i in answer["messages"][-1]["quickReply"]["items"]]
    assert "県北" in labels and "戻る" in labels
    assert client.post("/preview/api/start", json={"step": "nope"}).json["kind"] == "unknown_step"


def test_a_crisis_text_shows_the_crisis_lines(client):
    answer = start(client)
    response = client.post("/preview/api/send", json={"token": answer["token"], "text": "死にたい"})
    assert response.status_code == 200
    lines = library.draft().safety.crisis_lines
    shown = str(response.json["messages"])
    assert all(line.name in shown and tel_uri(line.phone) in shown for line in lines)


def test_a_tampered_state_is_refused(client, app):
    token = start(client)["token"]
    forged = URLSafeSerializer("another key", salt="tsunagu.preview.state").dumps(
        {"b": "x", "v": "draft", "s": "area", "a": {}})
    with app.app_context():
        signed_nonsense = preview._signer().dumps({"b": 1, "v": "draft", "s": [], "a": "x"})
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged,
                signed_nonsense, "", 42, None):
        response = client.post("/preview/api/send", json={"token": bad, "text": "こんにちは"})
        assert response.status_code == 400, bad
        assert response.json["kind"] == "bad_state"
        assert "改ざん" in response.json["error"]


@pytest.mark.parametrize("body", [
    {"text": ""}, {"text": 5}, {"postback": "x" * 301}, {"text": "a", "postback": "c=back"}, {},
])
def test_bad_input_is_a_clear_400(client, body):
    token = start(client)["token"]
    response = client.post("/preview/api/send", json={"token": token, **body})
    assert response.status_code == 400
    assert response.json["kind"] == "bad_input"


def test_a_body_that_is_not_json_is_a_clear_400(client):
    for data in ("nope", "[1, 2]", "{"):
        response = client.post("/preview/api/send", data=data, content_type="application/json")
        assert response.status_code == 400 and response.json["kind"] == "bad_request"


def test_versions_are_listed_and_an_unknown_one_is_refused(client, app):
    files = dict(library.draft_files())
    number = versions.add(database(app), files, bundle_id(files), "最初の版", "editor")
    listed = client.get("/preview/api/versions").json["versions"]
    assert listed[0] == {"value": "draft", "label": "下書き（編集中のファイル）"}
    assert listed[1]["value"] == str(number) and "最初の版" in listed[1]["label"]
    assert start(client, version=str(number))["bundle"] == bundle_id(files)
    for version, status, kind in (("999", 404, "unknown_version"), ("x", 400, "bad_version"),
                                  (-1, 400, "bad_version")):
        response = client.post("/preview/api/start", json={"version": version})
        assert response.status_code == status and response.json["kind"] == kind


def test_an_edited_draft_shows_on_restart(database_url, line_api, tmp_path):
    for folder in ("content", "flows"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    app = make_app(database_url, line_api, CONTENT_DIR=str(tmp_path / "content"),
                   FLOWS_DIR=str(tmp_path / "flows"))
    client = app.test_client()
    before = start(client)
    flow = tmp_path / "flows" / "questionnaire.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace(FIRST_QUESTION, "ご相談はどなたの？"),
                    encoding="utf-8")
    # A conversation begun before goes on with the bundle it started on ...
    assert texts(tap(client, before, "ご本人"))[0].startswith("年齢を教えてください")
    # ... and restarting shows the saved change.
    after = start(client)
    assert texts(after)[-1] == "ご相談はどなたの？" and after["bundle"] != before["bundle"]
    # Once the old bundle is no longer kept, its conversation is told to restart.
    preview.cache(app).clear()
    response = client.post("/preview/api/send", json={"token": before["token"], "text": "本人"})
    assert response.status_code == 409 and response.json["kind"] == "draft_changed"
    # A draft saved broken is named, not a 500.
    flow.write_text("steps: [", encoding="utf-8")
    response = client.post("/preview/api/start", json={})
    assert response.status_code == 422 and response.json["kind"] == "bad_content"
    database(app).dispose()


def test_production_has_no_preview(database_url, line_api):
    app = make_app(database_url, line_api, ENV="production")
    client = app.test_client()
    for path in ("/preview", "/preview/assets/preview.js", "/preview/api/versions"):
        assert client.get(path).status_code == 404, path
    assert client.post("/preview/api/start", json={}).status_code == 404
    database(app).dispose()


def test_an_installed_package_has_the_assets():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["bot.studio"]
    assert "static/preview/*" in patterns
    assert {p.name for p in STATIC.iterdir()} >= {"index.html", "preview.js", "preview.css",
                                                  "favicon.svg"}


# --- the page, in Debian's Chromium ---

@pytest.fixture
def site(app):
    with served(app) as url:
        yield url


@pytest.fixture
def page(browser, site):
    """Open the preview on a phone-sized screen; fail if the page reported any error."""
    context = browser.new_context(viewport=PHONE, base_url=site)
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = Console(page)
    page.console = console
    page.goto("/preview")
    page.wait_for_selector("body[data-ready]")
    yield page
    errors = list(console.errors)
    context.close()
    assert errors == [], "the page logged errors or CSP violations"


def quick_reply(page, label: str):
    return page.locator("#quick").get_by_role("button", name=label, exact=True)


def chat_says(page, text: str) -> None:
    page.locator("#chat .row.bot", has_text=text).last.wait_for()


def test_browser_a_whole_conversation_by_taps(page):
    from playwright.sync_api import expect

    chat_says(page, FIRST_QUESTION)
    names = {o.name for o in library.draft().offices.values()}
    for label, then in (("ご本人", "年齢を教えてください"), ("40〜44歳", "いまのお仕事の状況"),
                        ("仕事を探している", "ひとり親"), ("いいえ", "ひきこもり"),
                        ("とくにない", "いちばん受けたい支援"),
                        ("仕事を探したい", "お住まいの市町村"), ("中央", "中央の市町村"),
                        ("秋田市", None)):
        quick_reply(page, label).click()
        expect(page.locator("#chat .row.person").last).to_have_text(label)
        if then:
            expect(page.locator("#chat .row.bot").last).to_contain_text(then)
    cards = page.locator("#chat .f-carousel .f-bubble")
    cards.first.wait_for()
    assert cards.count() >= 1
    shown = [cards.nth(i).locator(".f-text").first.inner_text() for i in range(cards.count())]
    assert set(shown) <= names, "each card starts with an office's name"
    tel = page.locator('#chat .f-carousel a.f-button[href^="tel:"]')
    assert tel.count() >= 1 and tel.first.is_visible()
    expect(page.locator("#quick button")).to_have_text(
        ["役に立ちそう", "まだわからない", "役に立たなそう", "相談員と話したい", "最初から"])
    # A phone's screen: the page never scrolls sideways (the carousel scrolls in itself).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_browser_typing_an_answer(page):
    from playwright.sync_api import expect

    page.fill("#text", "本人")
    page.press("#text", "Enter")
    chat_says(page, "年齢を教えてください")
    page.fill("#text", "42")
    page.click("#typing button")
    expect(page.locator("#chat .row.person").last).to_have_text("42")
    chat_says(page, "いまのお仕事の状況")
    expect(page.locator("#text")).to_have_value("")


def test_browser_restart(page):
    from playwright.sync_api import expect

    quick_reply(page, "ご本人").click()
    chat_says(page, "年齢を教えてください")
    page.click("#restart")
    expect(page.locator("#chat .row.person")).to_have_count(0)
    chat_says(page, FIRST_QUESTION)
    expect(quick_reply(page, "ご本人")).to_be_visible()


def test_browser_start_at_a_question(page):
    from playwright.sync_api import expect

    area = library.draft().flow.step("area").question(None)
    page.select_option("#step", "area")
    expect(page.locator("#chat .row")).to_have_count(1)
    expect(page.locator("#chat .row.bot")).to_have_text(area)
    quick_reply(page, "県南").click()
    expect(quick_reply(page, "横手市")).to_be_visible()
    expect(quick_reply(page, "戻る")).to_be_visible()


def test_browser_a_stored_version(browser, app, site):
    files = dict(library.draft_files())
    flow = files["flows/questionnaire.yaml"].decode("utf-8")
    files["flows/questionnaire.yaml"] = flow.replace(FIRST_QUESTION, "（版2）ご相談はどなたの？") \
        .encode("utf-8")
    number = versions.add(database(app), files, bundle_id(files), "問いを短く", "editor")
    context = browser.new_context(viewport=PHONE, base_url=site)
    page = context.new_page()
    console = Console(page)
    page.goto("/preview")
    page.wait_for_selector("body[data-ready]")
    chat_says(page, FIRST_QUESTION)
    page.select_option("#version", str(number))
    chat_says(page, "（版2）ご相談はどなたの？")
    assert page.inner_text("#bundle") == bundle_id(files)
    quick_reply(page, "ご家族").click()
    chat_says(page, "ご家族の方の年齢")
    page.select_option("#version", "draft")
    chat_says(page, FIRST_QUESTION)
    context.close()
    assert console.errors == []


def test_browser_a_crisis_text(page):
    page.fill("#text", "死にたい")
    page.press("#text", "Enter")
    for line in library.draft().safety.crisis_lines:
        chat_says(page, line.name)
        assert page.locator(f'#chat a.f-button[href="{tel_uri(line.phone)}"]').count() == 1
    chat_says(page, FIRST_QUESTION)  # and the question is asked again


def test_browser_an_error_is_shown_not_thrown(page, app):
    from playwright.sync_api import expect

    # The page's token, signed with another key: the server says why, the page shows it.
    app.config["TSUNAGU_SECRET_KEY"] = "rotated"
    page.fill("#text", "本人")
    page.press("#text", "Enter")
    expect(page.locator("#error")).to_contain_text("改ざん")
    # Chromium logs the 400 as a failed resource: that one is expected.
    console = page.console
    console.errors[:] = [e for e in console.errors if "status of 400" not in e]


def test_browser_the_console_watch_sees_csp_violations(page):
    # The other tests' "no CSP violation" is only worth as much as this watch.
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineRan = true";
        document.head.append(script);
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineRan === undefined"), "CSP let an inline script run"
    console = page.console
    assert any("Content Security Policy" in e for e in console.errors), console.errors
    console.errors.clear()
