"""Versions: editors publish the draft, every worker follows, and one command undoes it.

Two apps on one database stand for two workers (or two hosts): neither is restarted, each
looks at the live pointer every CONTENT_REFRESH_SECONDS (short here, 2 s by default).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import create_app
from bot.content import bundle
from bot.db import versions
from bot.db.database import database, transaction
from bot.db.models import ContentVersion, Referral
from bot.referrals.funnel import funnel
from bot.referrals.stats import counts
from bot.studio import library
from tests.support.apps import APP_SETTINGS, make_app
from tests.support.conversations import answer_up_to_area, state_of
from tests.support.drafts import FIRST_QUESTION, copy_draft, edit, reword_first_question
from tests.support.events import wait_until
from tests.support.line_user import LineUser

REFRESH = 0.05
NEW_QUESTION = "ご相談はどなたのことですか？"
STAGING_SECRET, STAGING_TOKEN = "staging-channel-secret", "staging-token"


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api, CONTENT_REFRESH_SECONDS=REFRESH)
    yield app
    database(app).dispose()


@pytest.fixture
def other_worker(app):
    """Yield a second app on the same database: another worker, with no memory of the first."""
    settings = {key: app.config[key] for key in APP_SETTINGS}
    twin = create_app({**settings, "TESTING": True, "CONTENT_REFRESH_SECONDS": REFRESH})
    twin.test_client_class = app.test_client_class
    yield twin
    database(twin).dispose()


@pytest.fixture
def draft(tmp_path):
    return copy_draft(tmp_path / "draft")


def publish(runner, root, note="テスト", *more):
    result = runner.invoke(args=["publish", "--root", str(root), "--note", note,
                                 "--who", "editor", *more])
    return result


def first_question(app) -> str:
    """Return what a new person is asked first, on this worker."""
    user = LineUser(app.test_client(), app.extensions["test.line_api"])
    return user.follow()[-1]


def answers_with(app, text: str) -> bool:
    return first_question(app) == text


@pytest.fixture(autouse=True)
def _remember_line_api(app, other_worker, line_api):
    for each in (app, other_worker):
        each.extensions["test.line_api"] = line_api


def test_publish_reaches_every_worker_and_rollback_brings_the_old_text_back(
        app, other_worker, runner, draft):
    assert first_question(app) == first_question(other_worker) == FIRST_QUESTION
    reword_first_question(draft, NEW_QUESTION)
    result = publish(runner, draft, "最初の質問を短く")
    assert result.exit_code == 0, result.output
    assert "版 1 を公開しました" in result.output
    for worker in (app, other_worker):  # no restart: each follows the pointer by itself
        wait_until(lambda w=worker: answers_with(w, NEW_QUESTION), timeout=5)
    # The draft back as it was, published as version 2; then undo it with version 1.
    edit(draft, "flows/questionnaire.yaml", NEW_QUESTION, FIRST_QUESTION)
    assert publish(runner, draft, "元に戻す").exit_code == 0
    for worker in (app, other_worker):
        wait_until(lambda w=worker: answers_with(w, FIRST_QUESTION), timeout=5)
    result = runner.invoke(args=["rollback", "1", "--yes", "--who", "editor"])
    assert result.exit_code == 0, result.output
    assert NEW_QUESTION in result.output, "rollback shows what it changes"
    for worker in (app, other_worker):
        wait_until(lambda w=worker: answers_with(w, NEW_QUESTION), timeout=5)


def test_publish_refuses_a_draft_with_errors_and_stores_nothing(app, runner, draft):
    edit(draft, "content/rules.yaml", "programmes:", "programmes: [no-such-programme]\n    x:")
    result = publish(runner, draft)
    assert result.exit_code != 0
    assert "公開できません" in result.output and "content/rules.yaml" in result.output
    with transaction(app) as session:
        assert session.scalars(select(ContentVersion)).all() == []
    assert first_question(app) == FIRST_QUESTION


def test_publishing_the_live_version_again_stores_nothing(app, runner, draft):
    assert publish(runner, draft).exit_code == 0
    result = publish(runner, draft)
    assert result.exit_code == 0 and "同じです" in result.output
    assert [v.number for v in versions.listing(database(app))] == [1]


def test_versions_lists_number_time_note_checksum_who_and_live(app, runner, draft):
    publish(runner, draft, "はじめての公開")
    reword_first_question(draft, NEW_QUESTION)
    publish(runner, draft, "質問の言い方")
    result = runner.invoke(args=["versions"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2
    newest, oldest = lines
    checksum = bundle.bundle_id(library.draft_files(draft))
    assert newest.split()[0] == "2" and checksum in newest and "editor" in newest
    assert "公開中" in newest and "質問の言い方" in newest
    assert oldest.split()[0] == "1" and "公開中" not in oldest
    assert "はじめての公開" in oldest


def test_diff_names_the_changed_question_and_the_added_office(app, runner, draft):
    publish(runner, draft)
    reword_first_question(draft, NEW_QUESTION)
    edit(draft, "content/offices.yaml", "offices:\n", 'offices:\n  - id: test-office\n'
         '    name: テスト相談所\n    kind: test\n    areas: ["*"]\n')
    result = runner.invoke(args=["diff", "--root", str(draft)])
    assert result.exit_code == 0, result.output
    assert "~ 質問 subject" in result.output
    assert f"{FIRST_QUESTION} → {NEW_QUESTION}" in result.output
    assert "+ 相談先 test-office" in result.output
    # Against version 1 by number, and nothing against itself.
    assert "~ 質問 subject" in runner.invoke(args=["diff", "1", "--root", str(draft)]).output
    publish(runner, draft)
    assert "違いはありません" in runner.invoke(args=["diff", "--root", str(draft)]).output


def test_rollback_asks_first_and_does_nothing_when_told_no(app, runner, draft):
    publish(runner, draft)
    reword_first_question(draft, NEW_QUESTION)
    publish(runner, draft)
    result = runner.invoke(args=["rollback", "1"], input="n\n")
    assert result.exit_code != 0 and "戻しませんでした" in result.output
    assert versions.pointer(database(app), versions.LIVE).number == 2
    result = runner.invoke(args=["rollback", "1"], input="y\n")
    assert result.exit_code == 0
    assert versions.pointer(database(app), versions.LIVE).number == 1


def test_rollback_to_a_version_that_does_not_exist_says_so(app, runner):
    result = runner.invoke(args=["rollback", "7", "--yes"])
    assert result.exit_code != 0
    assert "there is no version 7" in str(result.exception)


def test_a_conversation_started_before_a_publish_finishes_on_its_version(
        app, runner, draft, line_user):
    line_user.follow()
    line_user.tap("ご本人")
    edit(draft, "flows/questionnaire.yaml", "いまのお仕事の状況", "現在のお仕事の状況")
    assert publish(runner, draft).exit_code == 0
    wait_until(lambda: _asked_new(app), timeout=5)  # new conversations have the new text
    # The person who had begun goes on with the questions they started with.
    assert line_user.tap("40〜44歳")[0].startswith("いまのお仕事の状況")


def _asked_new(app) -> bool:
    user = LineUser(app.test_client(), app.extensions["test.line_api"])
    user.follow()
    user.tap("ご本人")
    return user.tap("40〜44歳")[0].startswith("現在のお仕事の状況")


def test_a_button_from_another_version_is_old(app, runner, draft, line_user):
    line_user.follow()
    old_button = line_user.button_data("ご本人")
    reword_first_question(draft, NEW_QUESTION)
    assert publish(runner, draft).exit_code == 0
    wait_until(lambda: answers_with(app, NEW_QUESTION), timeout=5)
    line_user.unfollow()  # blocks and unblocks: a new conversation, on the published version
    assert line_user.follow()[-1] == NEW_QUESTION
    texts = line_user.postback(old_button)
    assert texts[0] == "前の質問のボタンのようです。いまの質問にお答えください。"
    assert state_of_user(app, line_user)[0] == "subject"


def state_of_user(app, user):
    from tests.support.conversations import state_for

    return state_for(app, user)


def test_referral_records_carry_the_version_they_were_made_under(app, runner, draft,
                                                                 line_user):
    assert publish(runner, draft).exit_code == 0
    wait_until(lambda: answers_with(app, FIRST_QUESTION), timeout=5)
    answer_up_to_area(line_user)
    line_user.say("大仙市")
    live = versions.pointer(database(app), versions.LIVE)
    with transaction(app) as session:
        referral = session.scalars(select(Referral)).one()
    assert referral.bundle_id == live.bundle_id
    listed = versions.listing(database(app))
    assert listed[0].number == live.number and listed[0].referrals == 1


def test_a_broken_draft_does_not_stop_a_bot_that_answers_with_a_published_version(
        app, runner, draft, line_api):
    assert publish(runner, draft).exit_code == 0
    edit(draft, "flows/questionnaire.yaml", "steps:", "steps: [")  # not YAML any more
    settings = {key: app.config[key] for key in APP_SETTINGS}
    restarted = create_app({**settings, "TESTING": True, "CONTENT_DIR": str(draft / "content"),
                            "FLOWS_DIR": str(draft / "flows")})
    try:
        restarted.extensions["test.line_api"] = line_api
        assert first_question(restarted) == FIRST_QUESTION
    finally:
        database(restarted).dispose()


# --- staging: the editors' private account -------------------------------------------------


@pytest.fixture
def staged_app(database_url, line_api):
    line_api.tokens.add(STAGING_TOKEN)
    # A loaded machine may answer the stand-in's replies slowly: this test is not about the
    # reply budget, so it gives the staging client room.
    app = make_app(database_url, line_api, CONTENT_REFRESH_SECONDS=REFRESH,
                   LINE_STAGING_CHANNEL_SECRET=STAGING_SECRET,
                   LINE_STAGING_CHANNEL_ACCESS_TOKEN=STAGING_TOKEN, LINE_REPLY_BUDGET=10)
    yield app
    database(app).dispose()


def test_staging_answers_with_its_version_and_its_referrals_are_not_counted(
        staged_app, line_api, draft):
    runner = staged_app.test_cli_runner()
    client = staged_app.test_client()
    editor = LineUser(client, line_api, path="/callback/staging", secret=STAGING_SECRET)
    citizen = LineUser(client, line_api)
    reword_first_question(draft, NEW_QUESTION)
    result = runner.invoke(args=["stage", "--root", str(draft), "--who", "editor"])
    assert result.exit_code == 0, result.output
    assert "試験用アカウントは版 1 で答えます" in result.output
    wait_until(lambda: NEW_QUESTION in LineUser(client, line_api, path="/callback/staging",
                                                secret=STAGING_SECRET).follow()[-1:],
               timeout=5)
    assert citizen.follow()[-1] == FIRST_QUESTION, "the real account is not changed"
    # The staging account replies with its own token.
    answer_up_to_area(editor)
    editor.say("大仙市")
    assert "相談先" in editor.text
    calls = [c for c in line_api.requests if c.body.get("replyToken") == editor.last_token]
    assert calls and calls[0].headers["Authorization"] == f"Bearer {STAGING_TOKEN}"
    with transaction(staged_app) as session:  # the editor moved no counter of the funnel
        stages, _, done = funnel(session, library.draft())
    assert (stages[0].reached, stages[0].answered, done) == (1, 0, 0), "only the citizen"
    answer_up_to_area(citizen)
    citizen.say("大仙市")
    with transaction(staged_app) as session:
        made = session.scalars(select(Referral).order_by(Referral.id)).all()
        assert [r.staging for r in made] == [True, False]
        content = library.draft()
        assert counts(session, content)["referrals"] == 1, "staging is kept apart"
    # The same LINE user on both accounts is two conversations, keyed apart.
    both = LineUser(client, line_api)
    same_on_staging = LineUser(client, line_api, user_id=both.user_id,
                               path="/callback/staging", secret=STAGING_SECRET)
    both.follow()
    both.tap("ご本人")
    same_on_staging.follow()
    assert state_of_user(staged_app, both)[0] == "age"
    # Off: staging answers as live again.
    assert runner.invoke(args=["stage", "--off"]).exit_code == 0
    wait_until(lambda: LineUser(client, line_api, path="/callback/staging",
                                secret=STAGING_SECRET).follow()[-1] == FIRST_QUESTION,
               timeout=5)


def test_staging_a_stored_version_by_number(staged_app, line_api, draft):
    runner = staged_app.test_cli_runner()
    reword_first_question(draft, NEW_QUESTION)
    runner.invoke(args=["stage", "--root", str(draft)])
    assert runner.invoke(args=["stage", "--off"]).exit_code == 0
    result = runner.invoke(args=["stage", "1"])
    assert result.exit_code == 0, result.output
    assert versions.pointer(database(staged_app), versions.STAGING).number == 1
    assert versions.pointer(database(staged_app), versions.LIVE) is None


def test_the_staging_webhook_refuses_a_live_signature(staged_app, line_api):
    intruder = LineUser(staged_app.test_client(), line_api, path="/callback/staging")
    assert intruder.post(intruder.event("follow", follow={"isUnblocked": False})
                         ).status_code == 400


def test_without_a_staging_account_its_webhook_is_not_there(app, line_api):
    user = LineUser(app.test_client(), line_api, path="/callback/staging")
    assert user.post().status_code == 404
    assert state_of(app) is None


def test_another_worker_goes_on_with_a_version_it_never_answered_with(
        app, other_worker, runner, draft, line_api, line_user):
    edit(draft, "flows/questionnaire.yaml", "いまのお仕事の状況", "現在のお仕事の状況")
    assert publish(runner, draft, "版 1").exit_code == 0
    wait_until(lambda: _asked_new(app), timeout=5)
    line_user.follow()
    line_user.tap("ご本人")  # begun on version 1
    edit(draft, "flows/questionnaire.yaml", "現在のお仕事の状況", "今のお仕事の状況")
    assert publish(runner, draft, "版 2").exit_code == 0
    # The other worker was idle through version 1; it reads that version from the database.
    there = LineUser(other_worker.test_client(), line_api, user_id=line_user.user_id)
    there.last_token = line_user.last_token
    assert there.postback(line_user.button_data("40〜44歳"))[0].startswith("現在のお仕事の状況")
