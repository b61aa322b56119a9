"""Editors fill an office's facts in the browser: checked, sourced, never lost, then on LINE."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.content.source import content_source
from bot.db.database import database, transaction
from bot.db.models import AuditEntry
from bot.studio import drafts, library
from tests.support.apps import make_app
from tests.support.console import csrf_of, log_in, make_account
from tests.support.events import wait_until
from tests.support.forms import submit
from tests.support.line_user import LineUser

OFFICE = "hikikomori-center"  # no phone and no web address in the shipped content
PHONE = "018-831-3946"  # an example number for the tests (not a fact: the draft is a test's)
FORM = f"/admin/draft/offices/{OFFICE}"
SOURCE = "https://www.pref.akita.lg.jp/pages/archive/91508 (a page for the tests)"


@pytest.fixture
def app(database_url, line_api):
    app = make_app(database_url, line_api, CONTENT_REFRESH_SECONDS=0.05)
    make_account(app, "suzuki", "editor")
    make_account(app, "tanaka", "editor")
    make_account(app, "sato", "counselor")
    yield app
    database(app).dispose()


def editor(app, name: str = "suzuki"):
    client = app.test_client()
    log_in(client, name)
    return client


def post(client, page, **fields):
    """Post the office form as a browser would: the page's fields as shown, these changed."""
    return submit(client, page, FORM, **{"source": "", "checked": "2026-12-07", **fields})


def _revision(text: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', text).group(1)


def draft_office(app):
    with app.app_context():
        return library.draft().offices[OFFICE]


def test_the_list_finds_offices_with_no_contact_and_by_municipality(app):
    client = editor(app)
    page = client.get("/admin/draft/offices?gap=contact")
    assert page.status_code == 200 and "秋田県ひきこもり相談支援センター" in page.text
    assert "ハローワーク秋田" not in client.get("/admin/draft/offices?q=ひきこもり").text
    assert "誤り <strong>0</strong>" in page.text  # the check's summary on every page


def test_a_malformed_phone_is_refused_beside_the_field_and_the_form_kept(app):
    client = editor(app)
    page = client.get(FORM)
    refused = post(client, page, phone="018-83x", hours="月〜金 9:00〜17:00", source=SOURCE)
    assert refused.status_code == 400
    assert 'id="phone-error"' in refused.text and "数字とハイフン" in refused.text
    assert 'value="月〜金 9:00〜17:00"' in refused.text and SOURCE in refused.text
    assert draft_office(app).phone == ""


@pytest.mark.parametrize(("fields", "error"), [
    ({"phone": PHONE}, "source-error"),
    ({"phone": PHONE, "source": SOURCE, "checked": ""}, "checked-error"),
    ({"phone": PHONE, "source": SOURCE, "checked": "2999-01-01"}, "checked-error"),
    ({"url": "http://example.jp/", "source": SOURCE}, "url-error"),
    ({"url": "javascript:alert(1)", "source": SOURCE}, "url-error"),
])
def test_a_fact_without_a_source_a_date_or_https_is_refused(app, fields, error):
    client = editor(app)
    refused = post(client, client.get(FORM), **fields)
    assert refused.status_code == 400 and f'id="{error}"' in refused.text
    assert draft_office(app).phone == "" and draft_office(app).url == ""


def test_a_phone_saved_with_its_source_leaves_the_worklist_and_is_audited(app):
    client = editor(app)
    assert "秋田県ひきこもり相談支援センター" in client.get("/admin/draft/worklist").text
    saved = post(client, client.get(FORM), phone=PHONE, source=SOURCE, verify=None)
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).text
    assert "下書きに保存しました" in page and "suzuki" in page  # and its history on the form
    office = draft_office(app)
    assert office.phone == PHONE and not office.verify and str(office.checked) == "2026-12-07"
    assert any(SOURCE in s and s.startswith("phone: ") for s in office.sources)
    assert "秋田県ひきこもり相談支援センター" not in client.get("/admin/draft/worklist").text
    with transaction(app) as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "draft_save")).one()
    assert entry.who == "suzuki" and PHONE in entry.detail and OFFICE in entry.detail


def test_the_second_of_two_editors_on_one_office_is_refused_and_loses_nothing(app):
    first, second = editor(app, "suzuki"), editor(app, "tanaka")
    first_page, second_page = first.get(FORM), second.get(FORM)
    assert post(first, first_page, phone=PHONE, source=SOURCE).status_code == 302
    refused = post(second, second_page, phone="018-000-0000", source="the leaflet")
    assert refused.status_code == 409
    assert "ほかの方が先に保存しました" in refused.text and "suzuki" in refused.text
    assert 'value="018-000-0000"' in refused.text  # what the second typed is still there
    assert draft_office(app).phone == PHONE  # and the first's save stands
    again = post(second, refused, phone="018-000-0000", source="the leaflet")
    assert again.status_code == 302 and draft_office(app).phone == "018-000-0000"
    assert [s.who for s in drafts.history(database(app), drafts.office_item(OFFICE))] == [
        "tanaka", "suzuki"]


def test_a_counselor_gets_403_on_every_editor_page_and_post(app):
    client = app.test_client()
    log_in(client, "sato")
    for path in ("/admin/draft/offices", FORM, "/admin/draft/worklist"):
        assert client.get(path).status_code == 403, path
    token = csrf_of(client.get("/admin/"))
    assert client.post(FORM, data={"csrf_token": token, "revision": "0", "phone": PHONE,
                                   "source": SOURCE, "checked": "2026-12-07"}).status_code == 403
    assert draft_office(app).phone == ""


def test_a_name_with_html_is_shown_as_text(app, tmp_path):
    client = editor(app)
    post(client, client.get(FORM), hours="<script>alert(1)</script>", source=SOURCE)
    page = client.get(FORM).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_saved_published_and_a_person_on_line_gets_the_call_button(app, line_api):
    client = editor(app)
    first = client.get("/admin/versions/publish")
    client.post("/admin/versions/publish", data={"csrf_token": csrf_of(first), "note": "初版"})
    post(client, client.get(FORM), phone=PHONE, source=SOURCE)
    publish = client.get("/admin/versions/publish")
    assert PHONE in publish.text  # the diff against the live version shows the change
    note = "ひきこもり相談支援センターの電話"
    done = client.post("/admin/versions/publish",
                       data={"csrf_token": csrf_of(publish), "note": note})
    assert done.status_code == 302
    with app.app_context():
        wait_until(lambda: content_source(app).current().offices[OFFICE].phone == PHONE)
    person = LineUser(app.test_client(), line_api)
    person.follow()
    person.say("窓口")
    person.say("秋田市")
    calls = [a["uri"] for a in person.card_actions if a.get("type") == "uri"]
    assert "tel:0188313946" in calls  # the office's card, with its tap-to-call button


def test_a_refused_form_still_sees_the_other_editor_s_newer_save(app):
    first, second = editor(app, "suzuki"), editor(app, "tanaka")
    second_page = second.get(FORM)
    assert post(first, first.get(FORM), phone=PHONE, source=SOURCE).status_code == 302
    typo = post(second, second_page, phone="018-x", source="the leaflet")
    assert typo.status_code == 400  # the form keeps the revision it was opened at …
    fixed = post(second, typo, phone="018-000-0000", source="the leaflet")
    assert fixed.status_code == 409  # … so the first editor's save is not overwritten
    assert draft_office(app).phone == PHONE
