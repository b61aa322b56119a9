"""`tsunagu draft export` and `import`: the draft as the usual files, so a team can use git."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.database import database, transaction
from bot.db.models import AuditEntry
from bot.studio import drafts, library
from tests.support.drafts import edit

OFFICE = "hikikomori-center"


def export(runner, folder):
    result = runner.invoke(args=["draft", "export", str(folder)])
    assert result.exit_code == 0, result.output
    return result


def test_an_exported_draft_passes_check_and_imports_as_no_change(app, runner, tmp_path):
    export(runner, tmp_path / "draft")
    checked = runner.invoke(args=["check", "--root", str(tmp_path / "draft")])
    assert checked.exit_code == 0, checked.output
    again = runner.invoke(args=["draft", "import", str(tmp_path / "draft")])
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert drafts.stored(database(app)) == {}


def test_an_edited_folder_becomes_the_draft_and_is_audited(app, runner, tmp_path):
    folder = tmp_path / "draft"
    export(runner, folder)
    edit(folder, "content/offices.yaml", "    name: 秋田県ひきこもり相談支援センター\n",
         "    name: 秋田県ひきこもり相談支援センター（こころ）\n")
    imported = runner.invoke(args=["draft", "import", str(folder), "--who", "suzuki"])
    assert imported.exit_code == 0, imported.output
    assert "content/offices.yaml" in imported.output
    with app.app_context():
        assert library.draft().offices[OFFICE].name.endswith("（こころ）")
    with transaction(app) as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "draft_import")).one()
    assert entry.who == "suzuki" and "content/offices.yaml" in entry.detail
    # The exported files keep their comments: only what was edited changed.
    export(runner, tmp_path / "again")
    text = (tmp_path / "again" / "content" / "offices.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Places to contact.") and "（こころ）" in text


def test_a_folder_with_errors_is_refused_and_changes_nothing(app, runner, tmp_path):
    folder = tmp_path / "draft"
    export(runner, folder)
    edit(folder, "content/offices.yaml", "areas: [秋田市]", "areas: [秋田]")
    refused = runner.invoke(args=["draft", "import", str(folder)])
    assert refused.exit_code != 0 and "nothing was imported" in refused.output
    assert drafts.stored(database(app)) == {}


def test_an_import_over_a_newer_console_save_is_refused_unless_forced(app, runner, tmp_path):
    folder = tmp_path / "draft"
    export(runner, folder)
    with app.app_context():
        form = drafts.read_office_form({"phone": "018-831-3946", "source": "a leaflet",
                                        "checked": "2026-12-07"})
        drafts.save_office(database(app), library.draft_files(), OFFICE, form, 0, "tanaka")
    edit(folder, "content/offices.yaml", "    name: 秋田県ひきこもり相談支援センター\n",
         "    name: 秋田県ひきこもり相談支援センター（こころ）\n")
    refused = runner.invoke(args=["draft", "import", str(folder)])
    assert refused.exit_code != 0 and "--force" in refused.output
    with app.app_context():
        assert library.draft().offices[OFFICE].phone == "018-831-3946"  # tanaka's save stands
    forced = runner.invoke(args=["draft", "import", str(folder), "--force"])
    assert forced.exit_code == 0, forced.output
    with app.app_context():
        office = library.draft().offices[OFFICE]
    assert office.name.endswith("（こころ）") and office.phone == ""


def test_two_saves_of_two_items_of_one_file_made_on_one_reading_both_stand(app):
    with app.app_context():
        seen = library.draft_files()  # both editors' requests read the draft here
        for office, phone, who in ((OFFICE, "018-831-3946", "tanaka"),
                                   ("saposute", "018-000-0000", "suzuki")):
            form = drafts.read_office_form({"phone": phone, "source": "a leaflet",
                                            "checked": "2026-12-07"})
            drafts.save_office(database(app), seen, office, form, 0, who)
        offices = library.draft().offices
    assert offices[OFFICE].phone == "018-831-3946"  # the first save was not written over
    assert offices["saposute"].phone == "018-000-0000"


def test_two_events_added_with_one_id_on_one_reading_are_one(app):
    from bot.studio.forms import KINDS, Form

    kind = KINDS["events"]
    with app.app_context():
        seen = library.draft_files()
        content = library.draft()
        fields = drafts.fields_of(kind, {}, content)
        form = Form(typed={"source": "a leaflet", "checked": "2026-12-07"},
                    values={"title": "就職面接会", "date": None})
        drafts.add_item(database(app), seen, kind, "fair-2027", form, fields, "tanaka")
        try:
            drafts.add_item(database(app), seen, kind, "fair-2027", form, fields, "suzuki")
        except drafts.Taken:
            pass
        else:
            raise AssertionError("the second event with the same id was added")
        assert [e.id for e in library.draft().events.events] == ["fair-2027"]


def test_a_report_kept_twice_for_one_draft_is_kept_once(app):
    for body in ({"problems": [], "n": 1}, {"problems": [], "n": 2}):  # two workers at once
        drafts.keep_report(database(app), "abc:2026-12-08:180", body)
    assert drafts.kept_report(database(app), "abc:2026-12-08:180") == {"problems": [], "n": 1}
