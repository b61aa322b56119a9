"""Content as bundles: ids from bytes, a runtime per bundle, and a new question without Python."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select, update

from bot.content import bundle
from bot.content.files import ContentError
from bot.content.source import ContentSource, content_source
from bot.db.database import transaction
from bot.db.models import Conversation, Referral
from bot.line.runtime import Runtimes, runtimes
from tests.support.apps import make_app
from tests.support.conversations import count, state_of
from tests.support.line_user import LineUser
from tests.support.paths import ROOT
from tests.support.personas import PERSONAS, only_referral, play


@pytest.fixture
def folders(tmp_path):
    """Copy the shipped content and flows to a folder of this test's own."""
    content, flows = tmp_path / "content", tmp_path / "flows"
    shutil.copytree(ROOT / "content", content)
    shutil.copytree(ROOT / "flows", flows)
    return content, flows


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_bundle_is_parsed_from_bytes_and_its_checksum_is_its_id(folders):
    files = bundle.read_folders(*folders)
    assert set(files) == set(bundle.NAMES)
    content = bundle.parse(files)
    assert content.bundle_id == bundle.bundle_id(files)
    assert bundle.parse(dict(files)).bundle_id == content.bundle_id  # same bytes, same id
    changed = {**files, "content/messages.yaml": files["content/messages.yaml"] + b"\n# note\n"}
    assert bundle.parse(changed).bundle_id != content.bundle_id


def test_a_bundle_missing_a_file_or_with_bad_bytes_names_the_file(folders):
    files = bundle.read_folders(*folders)
    with pytest.raises(ContentError, match="content/rules.yaml: file is missing"):
        bundle.parse({k: v for k, v in files.items() if k != "content/rules.yaml"})
    with pytest.raises(ContentError, match="content/areas.yaml: not UTF-8"):
        bundle.parse({**files, "content/areas.yaml": b"\xff\xfe"})


def test_runtimes_are_built_once_and_bounded():
    first = bundle.load(ROOT / "content", ROOT / "flows")
    source = ContentSource(first)
    built = Runtimes(source, size=2)
    assert built.current() is built.current()
    others = [first.model_copy(update={"bundle_id": f"other-{n}"}) for n in range(2)]
    for other in others:
        source.use(other)
        assert built.current().content is other
    assert len(built) == 2  # the oldest was let go
    assert built.for_bundle(first.bundle_id).content is first  # and is built again on demand
    assert built.for_bundle("never-heard-of") is built.current()


def test_a_conversation_goes_on_with_the_bundle_it_started_on(app, client, line_api, folders):
    content_dir, flows_dir = folders
    edit(flows_dir / "questionnaire.yaml", "年齢を教えてください。", "おいくつですか。")
    changed = bundle.load(content_dir, flows_dir)
    old = content_source(app).current()

    before = LineUser(client, line_api)
    before.follow()
    content_source(app).use(changed)  # e.g. an editor publishes while this person answers
    assert before.tap("ご本人")[0].startswith("年齢を教えてください。")
    after = LineUser(client, line_api)
    after.follow()
    assert after.tap("ご本人")[0].startswith("おいくつですか。")

    for label in ("40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい", "中央",
                  "秋田市"):
        before.tap(label)
    assert only_referral(app).bundle_id == old.bundle_id
    assert runtimes(app).for_bundle(old.bundle_id).content is old


def test_a_conversation_on_a_bundle_the_app_no_longer_has_goes_on_with_the_current(
        app, client, line_api):
    user = LineUser(client, line_api)
    user.follow()
    user.tap("ご本人")
    with transaction(app) as session:  # as after a restart on other content
        session.execute(update(Conversation).values(bundle_id="retired-bundle"))
    assert user.tap("40〜44歳")[0].startswith("いまのお仕事の状況")
    assert state_of(app)[0] == "employment"
    with transaction(app) as session:
        stored = session.scalars(select(Conversation)).one()
        assert stored.bundle_id == content_source(app).current().bundle_id


NEW_QUESTION = """
  - id: goal
    counted_as: めざすこと
    ask:
      default: "いちばんめざしたいことはどれですか？"
    options:
      - value: qualification
        label: 資格をとりたい
        words: [資格, 資格取得]
      - value: work
        label: 仕事をさがしたい
    next: area
"""

NEW_RULE = """
  - id: wants-a-qualification
    note: "plan 2(3)イ: training towards a qualification"
    when:
      goal: [qualification]
    programmes: [long-term-training]
    offices: [hw-akita-senmon, kenshakyo]
"""


def test_a_new_question_and_a_rule_using_it_need_no_python(folders, database_url, line_api,
                                                           tmp_path):
    content_dir, flows_dir = folders
    flow = flows_dir / "questionnaire.yaml"
    edit(flow, "    next: area\n", "    next: goal\n")
    flow.write_text(flow.read_text(encoding="utf-8").replace(
        "\n  - id: area", NEW_QUESTION.rstrip("\n") + "\n\n  - id: area", 1), encoding="utf-8")
    edit(content_dir / "rules.yaml", "rules:\n", "rules:" + NEW_RULE)
    # The privacy note names every answer the counts keep.
    edit(content_dir / "messages.yaml", "市町村、", "市町村、めざすこと、")
    app = make_app(database_url, line_api, CONTENT_DIR=str(content_dir),
                   FLOWS_DIR=str(flows_dir))
    user = LineUser(app.test_client(), line_api)
    user.follow()
    for label in ("ご本人", "40〜44歳", "正社員", "いいえ", "とくにない", "まずは話を聞いてほしい"):
        user.tap(label)
    assert user.texts[-1] == "いちばんめざしたいことはどれですか？"
    user.say("資格です")
    user.tap("中央")
    user.tap("秋田市")

    referral = only_referral(app)
    assert referral.answers["goal"] == "qualification"
    assert ("programme", "long-term-training") in {(t.kind, t.code) for t in referral.targets}
    result = app.test_cli_runner().invoke(args=["stats", "--json"])
    assert json.loads(result.output)["by_answer"]["goal"] == {"qualification": 1}
    assert "By answer: goal" in app.test_cli_runner().invoke(args=["stats"]).output
    assert count(app, Referral) == 1


def test_a_rule_on_an_answer_no_question_gives_is_refused(folders, database_url, line_api):
    content_dir, flows_dir = folders
    edit(content_dir / "rules.yaml", "rules:\n", "rules:" + NEW_RULE)  # no `goal` question
    with pytest.raises(ContentError, match="asks for the answer 'goal'"):
        make_app(database_url, line_api, CONTENT_DIR=str(content_dir), FLOWS_DIR=str(flows_dir))


def test_every_persona_is_recorded_with_the_answers_of_its_questions(app, make_user):
    play(make_user(), PERSONAS[1])
    steps = [s.id for s in content_source(app).current().flow.steps]
    assert list(only_referral(app).answers) == [s for s in steps if s != "employer_need"]
