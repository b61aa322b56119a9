"""The scenarios' results in the console: every scenario of the draft played against the draft."""

from __future__ import annotations

import re

import pytest

from bot.content import bundle
from bot.db.database import database
from bot.studio import library, scenarios
from tests.support.apps import make_app
from tests.support.browser import accessibility_problems, served
from tests.support.console import PASSWORD, log_in, make_account
from tests.support.drafts import copy_draft, edit

PAGE = "/admin/draft/scenarios"
FIRST = "40代・非正規で資格を目指す（秋田市）"  # the first scenario of the shipped content


@pytest.fixture
def draft(tmp_path):
    return copy_draft(tmp_path / "draft")


@pytest.fixture
def app(database_url, line_api, draft):
    app = make_app(database_url, line_api, CONTENT_DIR=str(draft / "content"),
                   FLOWS_DIR=str(draft / "flows"))
    make_account(app, "suzuki", "editor")
    make_account(app, "sato", "counselor")
    yield app
    database(app).dispose()


def editor(app):
    client = app.test_client()
    log_in(client, "suzuki")
    return client


def shipped_names(app) -> list[str]:
    with app.app_context():
        docs, _ = bundle.documents(library.draft_files(), (bundle.SCENARIOS_FILE,))
    script, issues = scenarios.read(docs[bundle.SCENARIOS_FILE])
    assert script and not issues
    return [scenario.name for scenario in script]


def failure_of(page: str, name: str) -> str:
    """Return the section of the page that tells why a scenario failed."""
    found = re.search(r'<section class="panel" id="scenario-\d+">\s*<h2>不合格: '
                      + re.escape(name) + r"</h2>(.*?)</section>", page, re.S)
    assert found, f"no failure shown for {name}"
    return found.group(1)


def cells(section: str, label: str) -> list[str]:
    """Return the cells of the row of one kind (取組, 相談先, メッセージ) of a failure's table."""
    row = re.search(r"<tr>\s*<th scope=\"row\">" + label + r"(.*?)</tr>", section, re.S)
    assert row, f"no row {label}"
    return re.findall(r"<td>(.*?)</td>", row.group(1), re.S)


def test_an_editor_sees_every_scenario_pass(app):
    page = editor(app).get(PAGE)
    assert page.status_code == 200
    names = shipped_names(app)
    for name in names:
        assert f'<th scope="row">{name}' in page.text, name
    assert page.text.count('<td class="verdict">合格</td>') == len(names)
    assert "不合格" not in page.text.replace("不合格 <strong>0</strong>", "")
    assert "タップ「ご本人」" in page.text and "入力「45」" in page.text  # the answers given
    assert f'href="{PAGE}"' in page.text  # the summary's link, as on every editor page


def test_a_draft_that_breaks_a_scenario_shows_what_was_expected_and_what_it_got(app, draft):
    # The editor drops Hello Work's 専門窓口 from the rule for non-regular work.
    edit(draft, "content/rules.yaml", "programmes: [hw-senmon, vocational-training]",
         "programmes: [vocational-training]")
    page = editor(app).get(PAGE)
    assert page.status_code == 200
    row = re.search(r"<th scope=\"row\">" + re.escape(FIRST) + r"(.*?)</tr>", page.text, re.S)
    assert row and '<strong class="failed">不合格</strong>' in row.group(1)
    section = failure_of(page.text, FIRST)
    assert "出るはずの取組「hw-senmon」" in section  # the difference, named in Japanese
    must, must_not, got = cells(section, "取組")
    assert "<code>hw-senmon</code>" in must and "<code>saposute</code>" in must_not
    assert "<code>vocational-training</code>" in got and "hw-senmon" not in got
    assert "<code>hw-akita-senmon</code>" in cells(section, "相談先")[2]  # offices still given
    assert "<code>unstable-employment</code>" in section  # the rules the result came from
    # The summary counts the failures beside the passes.
    assert re.search(r"不合格 <strong>[1-9]\d*</strong> 件", page.text)


def test_a_scenario_that_never_reaches_the_result_says_so(app, draft):
    edit(draft, "content/scenarios.yaml", "      - tap: 40〜44歳\n", "      - tap: 四十代\n")
    section = failure_of(editor(app).get(PAGE).text, FIRST)
    assert "2 番目の答え" in section and "四十代" in section
    assert "結果（紹介）まで進みませんでした" in section


def test_a_counselor_may_not_open_it(app):
    client = app.test_client()
    log_in(client, "sato")
    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize(("name", "old", "new", "named"), [
    ("flows/questionnaire.yaml", "steps:", "steps: [", "flows/questionnaire.yaml"),
    ("content/scenarios.yaml", "    inputs:", "    taps:", "content/scenarios.yaml"),
])
def test_a_draft_that_does_not_read_is_said_kindly(app, draft, name, old, new, named):
    edit(draft, name, old, new)
    page = editor(app).get(PAGE)
    assert page.status_code == 200
    assert "シナリオを動かせません" in page.text and "次の誤りを直してから" in page.text
    assert named in page.text  # the check's first errors name the file


def test_a_missing_file_is_said_kindly(app, draft):
    (draft / "content" / "offices.yaml").unlink()
    page = editor(app).get(PAGE)
    assert page.status_code == 200
    assert "シナリオを動かせません" in page.text and "content/offices.yaml" in page.text


def test_html_in_a_scenario_s_name_is_shown_as_text(app, draft):
    edit(draft, "content/scenarios.yaml", f"name: {FIRST}", 'name: "<script>alert(1)</script>"')
    edit(draft, "content/rules.yaml", "programmes: [hw-senmon, vocational-training]",
         "programmes: [vocational-training]")  # so it fails: its name shows twice
    page = editor(app).get(PAGE).text
    assert "<script>alert(1)</script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


def test_the_failures_pass_wcag_aa_and_need_no_script(app, draft, browser):
    # The accessibility test opens this page with every scenario passing; here, with failures.
    edit(draft, "content/rules.yaml", "programmes: [hw-senmon, vocational-training]",
         "programmes: [vocational-training]")
    with served(app) as site:
        context = browser.new_context(base_url=site, locale="ja-JP", bypass_csp=True,
                                      java_script_enabled=False)
        page = context.new_page()
        page.goto("/admin/login")
        page.fill("#name", "suzuki")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(PAGE)
        assert page.locator("section h2", has_text="不合格:").count() >= 1
        page.click("text=違いを見る >> nth=0")  # a plain link to the scenario's differences
        assert page.url.endswith("#scenario-1")
        context.close()
        context = browser.new_context(base_url=site, locale="ja-JP", bypass_csp=True)
        page = context.new_page()
        page.goto("/admin/login")
        page.fill("#name", "suzuki")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(PAGE)
        problems = accessibility_problems(page)
        context.close()
    assert problems == []
