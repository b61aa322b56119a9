"""Editors change every kind of item of the draft in forms: read back, refused kindly, restored."""

from __future__ import annotations

import re

import pytest

from bot.db import versions
from bot.db.database import database
from bot.studio import drafts, library
from bot.studio.forms import KINDS
from tests.support.apps import make_app
from tests.support.console import csrf_of, log_in, make_account
from tests.support.drafts import copy_draft, edit
from tests.support.forms import submit

SOURCE = "https://www.pref.akita.lg.jp/pages/archive/91508 (a page for the tests)"


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api)
    make_account(app, "suzuki", "editor")
    make_account(app, "tanaka", "editor")
    make_account(app, "sato", "counselor")
    yield app
    database(app).dispose()


def editor(app, name: str = "suzuki"):
    client = app.test_client()
    log_in(client, name)
    return client


def draft(app):
    with app.app_context():
        return library.draft()


def first_form(client, kind):
    """Return the address of a kind's first item's form (the kind's own for a kind of keys)."""
    if not kind.items:
        return f"/admin/draft/{kind.name}"
    page = client.get(f"/admin/draft/{kind.name}")
    assert page.status_code == 200
    return re.search(rf'href="(/admin/draft/{kind.name}/(?!new)[^"]+)"', page.text).group(1)


@pytest.mark.parametrize("kind_name", [k for k in KINDS if k != "events"])
def test_every_form_shows_its_item_and_saving_it_unchanged_changes_nothing(app, kind_name):
    client = editor(app)
    with app.app_context():
        before = library.draft_files()
    address = first_form(client, KINDS[kind_name])
    page = client.get(address)
    assert page.status_code == 200 and "下書きの確認" in page.text
    saved = submit(client, page, address)
    assert saved.status_code == 302, saved.text
    assert "変わったところはありませんでした" in client.get(saved.headers["Location"]).text
    with app.app_context():
        assert library.draft_files() == before


QUESTION = "/admin/draft/questions/employment"
MESSAGES = "/admin/draft/messages"


def test_a_question_reworded_for_the_person_and_the_family_reaches_the_draft(app):
    client = editor(app)
    page = client.get(QUESTION)
    saved = submit(client, page, QUESTION, ask__default="いまのお仕事の様子を教えてください。",
                   ask__family="ご家族の方のお仕事の様子を教えてください。",
                   options__1__words="パート\nアルバイト\n派遣\n短時間")
    assert saved.status_code == 302
    step = draft(app).flow.step("employment")
    assert step.ask["default"] == "いまのお仕事の様子を教えてください。"
    assert step.ask["family"] == "ご家族の方のお仕事の様子を教えてください。"
    assert step.options[1].words == ["パート", "アルバイト", "派遣", "短時間"]
    assert [o.label for o in step.options] == [o.label for o in draft(app).flow.step(
        "employment").options]  # the other options as they were
    with app.app_context():
        text = library.draft_files()["flows/questionnaire.yaml"].decode()
    assert "# The questionnaire: one step per question" in text  # the file's comments stay


def test_a_label_over_line_s_limit_is_refused_beside_it_and_the_form_kept(app):
    client = editor(app)
    refused = submit(client, client.get(QUESTION), QUESTION, options__0__label="正" * 21,
                     ask__default="新しい文です。")
    assert refused.status_code == 400
    assert 'id="options_0_label-error"' in refused.text and "20 文字まで" in refused.text
    assert "新しい文です。" in refused.text  # what was typed elsewhere is still there
    assert draft(app).flow.step("employment").options[0].label == "正社員"


def test_an_empty_required_message_is_refused(app):
    client = editor(app)
    refused = submit(client, client.get(MESSAGES), MESSAGES, greeting="  ")
    assert refused.status_code == 400 and 'id="greeting-error"' in refused.text
    assert draft(app).messages["greeting"].startswith("友だち追加")


def test_a_save_the_check_finds_wrong_is_kept_shown_beside_its_field_and_blocks_publishing(app):
    client = editor(app)
    saved = submit(client, client.get(MESSAGES), MESSAGES,
                   result_intro="{name}さん、ありがとうございました。")
    assert saved.status_code == 302  # errors block publishing, not saving
    page = client.get(MESSAGES).text
    assert 'id="result_intro-check"' in page and "{name}" in page
    assert "誤り <strong>1</strong>" in page
    listed = client.get("/admin/draft/problems").text  # every problem, linked to its form
    assert '<a href="/admin/draft/messages">message &#39;result_intro&#39;</a>' in listed
    publish = client.get("/admin/versions/publish")
    done = client.post("/admin/versions/publish",
                       data={"csrf_token": csrf_of(publish), "note": "試し"})
    assert done.headers["Location"].endswith("/admin/versions/publish")  # sent back …
    assert "result_intro" in client.get(done.headers["Location"]).text  # … with the error
    assert versions.listing(database(app)) == []  # nothing was published


def test_an_event_is_added_with_its_source_and_refused_without_one(app):
    client = editor(app)
    new = "/admin/draft/events/new"
    fields = {"id": "mensetsukai-2027-02", "title": "就職面接会", "date": "2027-02-10",
              "time": "13:30〜16:00", "place": "秋田市", "programme": "hw-senmon"}
    refused = submit(client, client.get(new), new, **fields)
    assert refused.status_code == 400 and 'id="source-error"' in refused.text
    assert 'value="就職面接会"' in refused.text
    bad_id = submit(client, client.get(new), new, **{**fields, "id": "面接会"}, source=SOURCE)
    assert bad_id.status_code == 400 and 'id="id-error"' in bad_id.text
    added = submit(client, client.get(new), new, **fields, source=SOURCE,
                   checked="2026-12-07")
    assert added.status_code == 302
    event = draft(app).events.events[0]
    assert event.id == "mensetsukai-2027-02" and str(event.date) == "2027-02-10"
    assert any(SOURCE in s for s in event.sources)
    again = submit(client, client.get(new), new, **fields, source=SOURCE, checked="2026-12-07")
    assert again.status_code == 400 and "もう使われています" in again.text
    assert len(draft(app).events.events) == 1


def test_a_rule_s_conditions_and_offices_are_ticked_in_their_order(app):
    client = editor(app)
    address = "/admin/draft/rules/single-parent"
    before = draft(app).rules.rules[2]
    saved = submit(client, client.get(address), address,
                   when__employment=["non_regular"], when__age__max="49",
                   offices=[*before.offices, "nearest:jiritsu-soudan"])
    assert saved.status_code == 302
    rule = next(r for r in draft(app).rules.rules if r.id == "single-parent")
    assert rule.when["employment"] == ["non_regular"] and rule.when["single_parent"] == ["yes"]
    assert rule.when["age"].max == 49 and rule.when["age"].min is None
    assert rule.offices == [*before.offices, "nearest:jiritsu-soudan"]


def test_a_crisis_line_and_handoff_take_facts_only_with_a_source(app):
    client = editor(app)
    line = "/admin/draft/crisis-lines/1"
    refused = submit(client, client.get(line), line, hours="毎日24時間")
    assert refused.status_code == 400 and 'id="source-error"' in refused.text
    saved = submit(client, client.get(line), line, hours="毎日24時間", source=SOURCE,
                   checked="2026-12-07")
    assert saved.status_code == 302
    crisis = draft(app).safety.crisis_lines[0]
    assert crisis.hours == "毎日24時間" and crisis.sources[-1].startswith("hours: " + SOURCE)
    handoff = "/admin/draft/handoff"
    bad = submit(client, client.get(handoff), handoff, contact__phone="電話してね",
                 source=SOURCE)
    assert bad.status_code == 400 and 'id="contact_phone-error"' in bad.text
    assert draft(app).handoff.contact.phone == ""


def test_the_menu_refuses_a_bar_text_and_a_label_over_line_s_limits(app):
    client = editor(app)
    menu = "/admin/draft/menu"
    refused = submit(client, client.get(menu), menu, chat_bar_text="メ" * 15)
    assert refused.status_code == 400 and 'id="chat_bar_text-error"' in refused.text
    area = "/admin/draft/menu-areas/2"
    saved = submit(client, client.get(area), area, label="窓口をさがす")
    assert saved.status_code == 302
    assert draft(app).richmenu.areas[1].label == "窓口をさがす"


def test_a_save_is_undone_from_the_history_and_a_stale_undo_is_refused(app):
    client = editor(app)
    office = "/admin/draft/offices/hikikomori-center"
    submit(client, client.get(office), office, phone="018-831-3946", source=SOURCE,
           checked="2026-12-07")
    assert draft(app).offices["hikikomori-center"].phone == "018-831-3946"
    history = client.get("/admin/draft/history")
    assert history.status_code == 200 and "hikikomori-center" in history.text
    (save,) = drafts.history(database(app))
    action = f"/admin/draft/history/{save.id}/restore"
    other = editor(app, "tanaka")  # another editor saves the same office meanwhile
    submit(other, other.get(office), office, hours="月〜金", source=SOURCE, checked="2026-12-07")
    stale = submit(client, history, action)
    assert stale.status_code == 302 and draft(app).offices[
        "hikikomori-center"].phone == "018-831-3946"  # refused: the page was older
    undone = submit(client, client.get("/admin/draft/history"), action)
    assert undone.status_code == 302
    restored = draft(app).offices["hikikomori-center"]
    assert restored.phone == "" and restored.hours == "月〜金"  # the later save stays
    assert not any("018-831-3946" in s for s in restored.sources)  # its source went with it
    assert [s.who for s in drafts.history(database(app))] == ["suzuki", "tanaka", "suzuki"]


def test_html_typed_into_a_message_is_shown_as_text(app):
    client = editor(app)
    submit(client, client.get(MESSAGES), MESSAGES, result_closing="<b onclick=x>押して</b>")
    page = client.get(MESSAGES).text
    assert "<b onclick=x>" not in page and "&lt;b onclick=x&gt;" in page


def test_a_counselor_gets_403_on_every_editor_page_and_post(app):
    client = app.test_client()
    log_in(client, "sato")
    token = csrf_of(client.get("/admin/"))
    pages = ["/admin/draft/", "/admin/draft/history", "/admin/draft/events/new"]
    for kind in KINDS.values():
        pages.append(f"/admin/draft/{kind.name}")
        if kind.items:
            pages.append(f"/admin/draft/{kind.name}/1")
    for path in pages:
        assert client.get(path).status_code == 403, path
        assert client.post(path, data={"csrf_token": token, "revision": "0"}).status_code in (
            403, 405), path
    assert client.post("/admin/draft/history/1/restore",
                       data={"csrf_token": token, "revision": "0"}).status_code == 403
    assert drafts.history(database(app)) == []


def test_a_draft_missing_a_file_is_said_kindly_on_every_editor_page(database_url, line_api,
                                                                    tmp_path):
    root = copy_draft(tmp_path / "draft")
    app = make_app(database_url, line_api, CONTENT_DIR=str(root / "content"),
                   FLOWS_DIR=str(root / "flows"))
    make_account(app, "suzuki", "editor")
    (root / "content" / "messages.yaml").unlink()  # after the bot started with it
    client = editor(app)
    pages = ["/admin/draft/", "/admin/draft/offices", "/admin/draft/worklist",
             "/admin/draft/problems",
             "/admin/draft/history", "/admin/draft/scenarios",
             *(f"/admin/draft/{kind}" for kind in KINDS),
             "/admin/draft/offices/hikikomori-center", "/admin/draft/events/new"]
    for path in pages:
        page = client.get(path)
        assert page.status_code in (200, 404, 409), (path, page.status_code)
        assert "messages.yaml" in page.text, path
    database(app).dispose()


def test_a_question_gains_an_answer_and_loses_one(app):
    client = editor(app)
    refused = submit(client, client.get(QUESTION), QUESTION, options__1__label="パート・派遣",
                     **{"options.+.label": "短時間の仕事"})
    assert refused.status_code == 400 and 'id="options_new_value-error"' in refused.text
    assert 'value="パート・派遣"' in refused.text  # the rest kept as typed
    taken = submit(client, client.get(QUESTION), QUESTION,
                   **{"options.+.value": "regular", "options.+.label": "正社員2"})
    assert taken.status_code == 400 and "もうあります" in taken.text
    added = submit(client, client.get(QUESTION), QUESTION,
                   **{"options.+.value": "part_time", "options.+.label": "短時間の仕事",
                      "options.+.words": "短時間\nパートタイム"})
    assert added.status_code == 302
    step = draft(app).flow.step("employment")
    assert step.options[-1].value == "part_time" and step.options[-1].words == [
        "短時間", "パートタイム"]
    page = client.get(QUESTION)
    last = len(step.options) - 1
    removed = submit(client, page, QUESTION, **{f"options.{last}._remove": "1"})
    assert removed.status_code == 302
    assert "part_time" not in [o.value for o in draft(app).flow.step("employment").options]
    (taken_out, put_in) = drafts.history(database(app))[:2]
    assert "options" in taken_out.after and "options" in put_in.after  # whole, to restore


def test_a_save_without_the_form_s_csrf_token_is_refused(app):
    client = editor(app)
    page = client.get(MESSAGES)
    from tests.support.forms import form_of

    _, fields = form_of(page.text, MESSAGES)
    fields.pop("csrf_token")
    fields["greeting"] = "こんにちは。"
    assert client.post(MESSAGES, data=fields).status_code == 400
    assert draft(app).messages["greeting"].startswith("友だち追加")


OFFICE = "/admin/draft/offices/hikikomori-center"


def test_a_value_the_file_has_is_not_refused_when_something_else_is_saved(app):
    client = editor(app)  # this office's web address is http:// in the shipped content
    address = "/admin/draft/offices/boshi-kafu-rengokai"
    assert draft(app).offices["boshi-kafu-rengokai"].url.startswith("http://")
    saved = submit(client, client.get(address), address, hours="月〜金 9時〜17時",
                   source=SOURCE, checked="2026-12-07")
    assert saved.status_code == 302
    refused = submit(client, client.get(address), address, url="http://example.jp/",
                     source=SOURCE, checked="2026-12-07")
    assert refused.status_code == 400  # a new address must still be https


def test_saving_again_after_a_conflict_keeps_both_editors_changes(app):
    first, second = editor(app, "suzuki"), editor(app, "tanaka")
    second_page = second.get(OFFICE)
    submit(first, first.get(OFFICE), OFFICE, phone="018-831-3946", source=SOURCE,
           checked="2026-12-07")
    refused = submit(second, second_page, OFFICE, hours="月〜金", source="the leaflet",
                     checked="2026-12-07")
    assert refused.status_code == 409
    assert 'value="018-831-3946"' in refused.text  # the first's phone, in the field left alone
    assert 'value="月〜金"' in refused.text and "どちらも残ります" in refused.text
    again = submit(second, refused, OFFICE)
    assert again.status_code == 302
    office = draft(app).offices["hikikomori-center"]
    assert office.phone == "018-831-3946" and office.hours == "月〜金"


def test_a_field_both_editors_changed_is_named_on_the_conflict_page(app):
    first, second = editor(app, "suzuki"), editor(app, "tanaka")
    second_page = second.get(OFFICE)
    submit(first, first.get(OFFICE), OFFICE, phone="018-831-3946", source=SOURCE,
           checked="2026-12-07")
    refused = submit(second, second_page, OFFICE, phone="018-000-0000", source="the leaflet",
                     checked="2026-12-07")
    assert refused.status_code == 409 and "お二人とも変えています" in refused.text
    assert 'value="018-000-0000"' in refused.text  # what this editor typed, to decide on


def test_undoing_a_save_takes_out_only_its_own_source(app):
    client = editor(app)
    submit(client, client.get(OFFICE), OFFICE, phone="018-831-3946", source="source one",
           checked="2026-12-07")
    submit(client, client.get(OFFICE), OFFICE, hours="月〜金", source="source two",
           checked="2026-12-07")
    first = drafts.history(database(app))[-1]
    submit(client, client.get("/admin/draft/history"), f"/admin/draft/history/{first.id}/restore")
    office = draft(app).offices["hikikomori-center"]
    assert office.phone == "" and office.hours == "月〜金"
    assert not any("source one" in s for s in office.sources)
    assert any("source two" in s for s in office.sources)  # the later fact keeps its source


def test_facts_checked_again_and_unchanged_renew_the_date_with_their_source(app):
    client = editor(app)
    address = "/admin/draft/offices/saposute"
    before = draft(app).offices["saposute"]
    refused = submit(client, client.get(address), address, _confirm="1")
    assert refused.status_code == 400 and 'id="source-error"' in refused.text
    saved = submit(client, client.get(address), address, _confirm="1",
                   source="https://example.jp/saposute (a page for the tests)",
                   checked="2026-12-07")
    assert saved.status_code == 302
    office = draft(app).offices["saposute"]
    assert str(office.checked) == "2026-12-07" and office.phone == before.phone
    assert office.sources[-1].startswith("confirmed unchanged: ")


def test_publishing_a_draft_changed_since_its_diff_was_shown_is_refused(app):
    client = editor(app)
    publish = client.get("/admin/versions/publish")
    other = editor(app, "tanaka")
    assert submit(other, other.get(MESSAGES), MESSAGES,
                  result_closing="変えました。").status_code == 302
    done = submit(client, publish, "/admin/versions/publish", note="初版")
    assert done.headers["Location"].endswith("/admin/versions/publish")
    assert "下書きが変わりました" in client.get(done.headers["Location"]).text
    assert versions.listing(database(app)) == []


def test_an_import_since_a_form_was_opened_refuses_its_save(app, tmp_path):
    client = editor(app)
    page = client.get(OFFICE)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["draft", "export", str(tmp_path / "d")]).exit_code == 0
    edit(tmp_path / "d", "content/offices.yaml", "    name: 秋田県ひきこもり相談支援センター\n",
         "    name: 秋田県ひきこもり相談支援センター（こころ）\n")
    assert runner.invoke(args=["draft", "import", str(tmp_path / "d")]).exit_code == 0
    again = runner.invoke(args=["draft", "import", str(tmp_path / "d")])
    assert again.exit_code == 0 and "nothing changed" in again.output  # the folder is the draft
    refused = submit(client, page, OFFICE, phone="018-831-3946", source=SOURCE,
                     checked="2026-12-07")
    assert refused.status_code == 409
    assert draft(app).offices["hikikomori-center"].name.endswith("（こころ）")


def test_a_rule_about_the_generation_keeps_it_and_can_be_set_in_the_form(app):
    client = editor(app)
    address = "/admin/draft/rules/younger-than-the-generation"
    page = client.get(address)
    assert 'value="younger" selected' in page.text
    assert submit(client, page, address).status_code == 302
    rule = next(r for r in draft(app).rules.rules if r.id == "younger-than-the-generation")
    assert rule.when["age"].generation == "younger"
    mixed = submit(client, client.get(address), address, when__age__max="34")
    assert mixed.status_code == 400 and 'id="when_age-error"' in mixed.text
    fixed = submit(client, client.get(address), address, when__age__generation="",
                   when__age__max="34")
    assert fixed.status_code == 302
    rule = next(r for r in draft(app).rules.rules if r.id == "younger-than-the-generation")
    assert rule.when["age"].max == 34 and rule.when["age"].generation is None


def test_a_save_checks_the_draft_once_and_every_worker_reads_that_report(app, monkeypatch):
    from bot.console import drafting

    client = editor(app)
    calls = []
    real = drafting.examine
    monkeypatch.setattr(drafting, "examine", lambda files: calls.append(1) or real(files))
    form = client.get(OFFICE)
    calls.clear()
    saved = submit(client, form, OFFICE, hours="月〜金", source=SOURCE, checked="2026-12-07")
    assert saved.status_code == 302 and len(calls) == 1  # checked once, by the save
    drafting._REPORTS.clear()  # another worker, which never saw this draft
    monkeypatch.setattr(drafting, "examine", lambda files: pytest.fail("checked again"))
    page = client.get(saved.headers["Location"])
    assert page.status_code == 200 and "誤り <strong>0</strong>" in page.text
    assert "88,200 / 88,200" in page.text  # the coverage's counts, kept with the report
