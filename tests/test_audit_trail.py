"""The audit trail for people: filters, events in words, a spreadsheet-safe export, pages; who has
seen a complainant's details; consent edits with old and new values; CFPB consent read right."""
import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, text

from investigations import audit
from investigations.extensions import db
from investigations.models import AuditEvent, Case
from tests.conftest import file_case

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


def page_of(client, **args) -> str:
    response = client.get("/admin/audit", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def exported(client, **args) -> list[dict]:
    response = client.get("/admin/audit/export.csv", query_string=args)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_events_read_as_sentences_with_readable_details(login, users):
    rita = login("rita")
    reference = file_case(rita)
    rita.get(f"/cases/{reference}/complainant")
    rita.post(f"/cases/{reference}/status", data={"status": "investigating"})
    eve = login("eve")
    eve.post(f"/cases/{reference}/dossier", data={"audience": "news"})
    page = page_of(login("ada"))
    assert f"Viewed complainant details of {reference}" in page
    assert f"Filed {reference}" in page
    assert f"Moved {reference} to a new status: New → Investigating" in page
    assert "Exported a dossier of " + reference + " (dossier #" in page and "for a news outlet)" in page
    assert "Rita Reporter (rita@example.org)" in page
    assert "<dt>Purpose</dt><dd>case page</dd>" in page  # key: value, not JSON
    assert '{"purpose"' not in page and "&#34;purpose&#34;" not in page


def complainant_path(reference):
    return f"/admin/audit/cases/{reference}/complainant-views"


def test_filters_by_person_case_action_and_dates(login, users):
    rita, rob = login("rita"), login("rob")
    mine, his = file_case(rita), file_case(rob, title="Rob's case")
    rita.get(f"/cases/{mine}/complainant")
    rob.get(f"/cases/{his}/complainant")
    ada = login("ada")
    by_rita = exported(ada, person=users["rita"].id)
    assert by_rita and {row["Who"] for row in by_rita} == {"rita@example.org"}
    about_his = exported(ada, case=his)
    assert {row["Case"] for row in about_his} == {his} and len(about_his) == 2  # filed, viewed
    views = exported(ada, action="case.complainant_view")
    assert sorted(row["Case"] for row in views) == sorted([mine, his])
    assert {row["What"] for row in views} == {f"Viewed complainant details of {mine}",
                                               f"Viewed complainant details of {his}"}
    today = date.today()
    assert len(exported(ada, date_from=today.isoformat(), date_to=today.isoformat())) >= 6
    assert exported(ada, date_to=(today - timedelta(days=1)).isoformat()) == []
    assert exported(ada, person=users["rita"].id, case=his) == []
    # a date that does not read is left out and marked, never an error page
    page = page_of(ada, date_from="2026-13-45", action="case.complainant_view")
    assert "field-error" in page and "2 events match these filters" in page


def test_the_case_filter_includes_its_evidence_files(login):
    rita = login("rita")
    reference = file_case(rita)
    rita.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(b"call notes\n"), "notes.txt")]},
              content_type="multipart/form-data")
    actions = [row["Action code"] for row in exported(login("ada"), case=reference)]
    assert "evidence.upload" in actions and "case.create" in actions


def test_the_export_is_spreadsheet_safe_and_audited(app, login):
    audit.record("test.formula", None, actor_label="=HYPERLINK(\"http://evil\")", note="=1+1")
    db.session.commit()
    ada = login("ada")
    rows = exported(ada, action="test.formula")
    assert rows[0]["Who"].startswith("'=") and rows[0]["Details"] == "Note: =1+1"
    assert rows[0]["What"] == "test.formula"  # an unknown action falls back to its code
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).one()
    assert event.actor_label == "ada@example.org"
    assert json.loads(event.details) == {"events": 1, "filters": {"action": "test.formula"}}
    assert audit.verify_chain().ok


def test_the_trail_is_paginated(app, login):
    for n in range(60):
        audit.record("test.many", None, actor_label="script", n=n)
    db.session.commit()
    ada = login("ada")
    first = page_of(ada, action="test.many")
    assert "Page 1 of 2" in first and "60 events match these filters" in first
    assert 'href="/admin/audit?page=2&amp;action=test.many"' in first or \
           'href="/admin/audit?action=test.many&amp;page=2"' in first
    second = page_of(ada, action="test.many", page=2)
    assert second.count("<dt>N</dt>") == 10


def test_only_admins_read_the_trail(login):
    for who in ("rita", "eve"):
        assert login(who).get("/admin/audit").status_code in (403, 404)
        assert login(who).get("/admin/audit/export.csv").status_code in (403, 404)


# --- who has seen the complainant's details ---------------------------------------------------

def test_editors_see_who_viewed_a_complainants_details(login, users):
    rita = login("rita")
    reference = file_case(rita)
    other = file_case(rita, title="Another case")
    rita.get(f"/cases/{reference}/complainant")
    rita.get(f"/cases/{reference}/edit")
    rob = login("rob")
    eve = login("eve")
    eve.get(f"/cases/{reference}/complainant")
    eve.get(f"/cases/{other}/complainant")
    response = eve.get(complainant_path(reference))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Rita Reporter (rita@example.org)" in page and "Eve Editor (eve@example.org)" in page
    assert "case page" in page and "edit form" in page
    assert "<td>rita@example.org</td><td>2</td>" in page and "<td>eve@example.org</td><td>1</td>" in page
    assert page.count("UTC") >= 3
    assert login("ada").get(complainant_path(reference)).status_code == 200
    assert rita.get(complainant_path(reference)).status_code in (403, 404)  # reporters: not even their own
    assert rob.get(complainant_path(reference)).status_code in (403, 404)
    assert eve.get(complainant_path("C-2000-99999")).status_code == 404
    assert "Nobody has viewed" in eve.get(complainant_path(file_case(eve))).get_data(as_text=True)


# --- consent: old and new values; CFPB --------------------------------------------------------

def test_changes_records_names_and_consent_values():
    old = {"title": "a", "consent_to_publish": False, "complainant_email": "old@example.net"}
    new = {"title": "b", "consent_to_publish": True, "complainant_email": "new@example.net"}
    assert audit.changes(old, new) == {"fields": ["title", "consent_to_publish", "complainant_email"],
                                       "consent_to_publish": {"from": False, "to": True}}
    assert audit.changes(new, new) == {"fields": []}


def test_a_consent_change_keeps_its_old_and_new_value(login):
    rita = login("rita")
    reference = file_case(rita)
    from tests.conftest import case_form
    rita.post(f"/cases/{reference}/edit", data=case_form(consent_to_publish="y"))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.update")).one()
    assert json.loads(event.details)["consent_to_publish"] == {"from": False, "to": True}
    rows = exported(login("ada"), action="case.update")
    assert "Consent to publish: no → yes" in rows[0]["Details"]


def test_cfpb_narrative_consent_is_not_consent_to_be_named(runner, users):
    result = runner.invoke(args=["import", "cfpb", str(FIXTURES / "cfpb_18.csv"), "--as", "eve@example.org"])
    assert result.exit_code == 0, result.output
    cases = {f"{case.source}:{case.source_id}": case for case in db.session.scalars(select(Case))}
    assert not any(case.consent_to_publish for case in cases.values())
    opened = cases["cfpb:1000001"].timeline[-1].body  # "Consent provided"
    assert opened == ("Imported from the CFPB Consumer Complaint Database, complaint 1000001, submitted via Web. "
                      "The consumer agreed to the CFPB publishing the narrative.")
    assert "publishing the narrative" not in cases["cfpb:1000004"].timeline[-1].body  # "Consent withdrawn"


def test_tampering_is_also_visible_from_the_admin_page(login):
    file_case(login("rita"))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET ip = '10.0.0.1' WHERE seq = 2"))
    page = login("ada").post("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert "The audit chain is broken at event #2: its content does not match its hash" in page
