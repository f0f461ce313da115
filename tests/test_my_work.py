"""My work, follow-up dates, note corrections, assignments marked new, times in the newsroom's zone."""
import io
import re
from datetime import date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from investigations.extensions import db
from investigations.models import AuditEvent, Case, TimelineEntry, User
from investigations.template_helpers import format_datetime
from tests import evidence_files
from tests.conftest import file_case


def test_a_call_with_a_follow_up_date_is_due_on_my_work(login):
    rita = login("rita")
    reference = file_case(rita, title="Boiler never fitted")
    friday = date.today() + timedelta(days=3)
    response = rita.post(f"/cases/{reference}/notes", data={"kind": "call", "body": "Owner will call back",
                                                            "follow_up_on": friday.isoformat()})
    assert response.status_code == 302
    page = rita.get("/work/").get_data(as_text=True)
    assert "Owner will call back" in page and reference in page
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.follow_up_on == friday))
    rita.post(f"/cases/{reference}/follow-up/done", data={"entry_id": entry.id, "back": "work"})
    assert "Owner will call back" not in rita.get("/work/").get_data(as_text=True)


def test_a_note_correction_keeps_the_earlier_text(login):
    rita = login("rita")
    reference = file_case(rita)
    rita.post(f"/cases/{reference}/notes", data={"kind": "note", "body": "Spoke to Mr Smiht"})
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.kind == "note"))
    # Rob cannot open the case; Eve, an editor, can, but the note is not hers to correct.
    assert login("rob").post(f"/cases/{reference}/notes/correct",
                             data={"entry_id": entry.id, "body": "x"}).status_code == 404
    assert login("eve").post(f"/cases/{reference}/notes/correct",
                             data={"entry_id": entry.id, "body": "x"}).status_code == 403
    assert rita.post(f"/cases/{reference}/notes/correct", data={"body": "x"}).status_code == 400
    assert rita.post(f"/cases/{reference}/notes/correct", data={"entry_id": "99999", "body": "x"}).status_code == 404
    response = rita.post(f"/cases/{reference}/notes/correct", data={"entry_id": entry.id, "body": "Spoke to Mr Smith"})
    assert response.status_code == 302
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Spoke to Mr Smith" in page and "Spoke to Mr Smiht" in page and "edited" in page
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.note_edit")) is not None


def test_bulk_assignment_is_marked_new_until_opened(login, users):
    eve = login("eve")
    references = [file_case(eve, title=f"Editor case {i}") for i in range(3)]
    response = eve.post("/cases/bulk", data={"case": references, "bulk-action": "assign",
                                             "bulk-assignee": str(users["rita"].id), "bulk-status": "new"})
    assert response.status_code == 302
    rita = login("rita")
    page = rita.get("/work/").get_data(as_text=True)
    assert page.count("New to you") == 3 and "3 new" in page
    rita.get(f"/cases/{references[0]}")
    assert rita.get("/work/").get_data(as_text=True).count("New to you") == 2
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.assign")).all()) == 3


def test_times_are_shown_in_the_newsroom_zone(app_factory):
    app = app_factory(NEWSROOM_TIMEZONE="America/New_York")
    with app.app_context():
        assert format_datetime(datetime(2026, 12, 5, 15, 30)) == "5 Dec 2026, 10:30 EST"
        assert format_datetime(datetime(2026, 7, 5, 15, 30)) == "5 Jul 2026, 11:30 EDT"


def test_reporters_start_on_my_work_and_editors_on_the_dashboard(login):
    assert login("rita").get("/").headers["Location"] == "/work/"
    assert login("eve").get("/").headers["Location"] == "/dashboard/"


def test_times_on_pages_exports_and_dossiers_are_in_the_newsroom_zone(app, login):
    app.config["NEWSROOM_TIMEZONE"] = "Asia/Kolkata"  # UTC+05:30 all year, "IST"
    rita = login("rita")
    reference = file_case(rita)
    # A time typed in the form is the newsroom's; it is stored in UTC and shown back as typed.
    rita.post(f"/cases/{reference}/notes", data={"kind": "call", "body": "Rang the shop",
                                                 "occurred_at": "2026-11-03T09:00"})
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.body == "Rang the shop"))
    assert entry.occurred_at == datetime(2026, 11, 3, 3, 30)
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "3 Nov 2026, 09:00 IST" in page and 'datetime="2026-11-03T09:00+05:30"' in page
    assert " UTC" not in page

    csv_text = rita.get("/cases/export.csv").get_data(as_text=True)
    header, row = csv_text.splitlines()[:2]
    assert "last_change" in header.split(",")
    assert re.search(r",\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30,", row), row
    exported = rita.get("/cases/export.json").get_json()
    assert exported["exported_at"].endswith("+05:30")
    assert exported["cases"][0]["last_change"].endswith("+05:30")

    response = login("eve").post(f"/cases/{reference}/dossier", data={"audience": "internal"})
    assert response.mimetype == "application/pdf"
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    assert re.search(r"Issued \d{1,2} \w{3} \d{4}, \d\d:\d\d IST", text), text[:600]
    assert "UTC" not in text


def test_notes_and_uploads_move_last_change_and_uploads_show_on_the_timeline(login):
    rita = login("rita")
    reference = file_case(rita)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    first = case.updated_at
    rita.post(f"/cases/{reference}/notes", data={"kind": "note", "body": "Asked for the receipt"})
    db.session.expire_all()
    after_note = db.session.get(Case, case.id).updated_at
    assert after_note > first
    rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data",
              data={"files": [(io.BytesIO(evidence_files.jpeg()), "receipt-photo.jpg")]})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.updated_at > after_note
    added = [e for e in case.timeline if e.kind == "evidence"]
    assert [e.body for e in added] == ["Added receipt-photo.jpg (JPEG image)."]
    assert added[0].internal and added[0].author.email == "rita@example.org"
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Evidence added" in page and "Added receipt-photo.jpg (JPEG image)." in page
    # Opening the case (which marks it seen) is not a change.
    assert db.session.get(Case, case.id).updated_at == case.updated_at


def test_deactivating_someone_with_open_cases_warns_and_reassigns_them(login, users):
    rob = login("rob")
    open_cases = [file_case(rob, title=f"Rob's case {n}") for n in range(2)]
    closed = file_case(rob, title="Rob's closed case")
    eve = login("eve")
    eve.post(f"/cases/{closed}/status", data={"status": "investigating"})
    eve.post(f"/cases/{closed}/status", data={"status": "closed", "comment": "Settled"})
    ada = login("ada")
    rob_id, rita_id = users["rob"].id, users["rita"].id

    form = ada.get(f"/admin/users/{rob_id}/edit").get_data(as_text=True)
    assert "Rob Reporter has 2 open cases" in form and "Their open cases go to" in form
    # Deactivating without saying who takes the cases over: warned, nothing changed.
    response = ada.post(f"/admin/users/{rob_id}/edit", data={"display_name": "Rob Reporter", "role": "reporter"})
    assert response.status_code == 400
    assert "choose who takes them over" in response.get_data(as_text=True)
    assert db.session.get(User, rob_id).active
    # In the same step: deactivated, and his open cases are Rita's, each reassignment logged.
    response = ada.post(f"/admin/users/{rob_id}/edit", data={"display_name": "Rob Reporter", "role": "reporter",
                                                             "reassign_to": str(rita_id)}, follow_redirects=True)
    assert "2 open cases reassigned to Rita Reporter" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, rob_id).active
    for reference in open_cases:
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        assert case.assigned_to_id == rita_id and not case.assignee_seen
    assert db.session.scalar(select(Case).where(Case.reference == closed)).assigned_to_id == rob_id
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.assign")).all()
    assert sorted(e.object_id for e in events) == sorted(open_cases)
    assert login("rita").get("/work/").get_data(as_text=True).count("New to you") == 2


def test_deactivation_can_leave_the_cases_where_they_are(login, users):
    rob = login("rob")
    reference = file_case(rob)
    ada = login("ada")
    response = ada.post(f"/admin/users/{users['rob'].id}/edit",
                        data={"display_name": "Rob Reporter", "role": "reporter", "reassign_to": "keep"})
    assert response.status_code == 302
    assert db.session.scalar(select(Case).where(Case.reference == reference)).assigned_to_id == users["rob"].id
    response = ada.post(f"/admin/users/{users['eve'].id}/edit",
                        data={"display_name": "Eve Editor", "role": "editor", "active": "y", "reassign_to": "x"})
    assert response.status_code == 302  # not deactivating: the choice is not asked for


def test_an_assignment_is_e_mailed_when_mail_is_configured_without_complainant_details(app, login, users,
                                                                                        monkeypatch):
    sent = []
    monkeypatch.setattr("investigations.cases.notify.send_mail", lambda to, subject, body: sent.append(
        (to, subject, body)))
    eve = login("eve")
    reference = file_case(eve, title="Private title quoting Carla", complainant_name="Carla Complainant")
    eve.post(f"/cases/{reference}/assign", data={"assignee": str(users["rita"].id)})
    assert sent == []  # no MAIL_SERVER: told in the app only

    app.config["MAIL_SERVER"] = "smtp.example.org"
    others = [file_case(eve, title=f"Case {n}") for n in range(2)]
    eve.post(f"/cases/{others[0]}/assign", data={"assignee": str(users["rob"].id)})
    eve.post("/cases/bulk", data={"case": others, "bulk-action": "assign", "bulk-assignee": str(users["rita"].id)})
    eve.post(f"/cases/{reference}/assign", data={"assignee": str(users["eve"].id)})  # herself: no mail
    assert [(to, subject) for to, subject, _ in sent] == [
        ("rob@example.org", f"Eve Editor assigned you {others[0]}"),
        ("rita@example.org", "Eve Editor assigned you 2 cases")]
    body = sent[1][2]
    assert others[0] in body and others[1] in body and "/work/" in body
    for secret in ("Carla", "carla@example.net", "+1 555 0100", "1 Main Street", "Case 0", "washing machine"):
        assert all(secret not in mail_body for _, _, mail_body in sent), secret


def test_my_work_shows_only_what_the_viewer_may_open(login, users):
    rita, rob = login("rita"), login("rob")
    robs = file_case(rob, title="Rob's secret case")
    rob.post(f"/cases/{robs}/notes", data={"kind": "call", "body": "Rob's callback",
                                           "follow_up_on": (date.today() + timedelta(days=1)).isoformat()})
    page = rita.get("/work/").get_data(as_text=True)
    assert robs not in page and "Rob's callback" not in page and "Rob's secret case" not in page
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.body == "Rob's callback"))
    assert rita.post(f"/cases/{robs}/follow-up/done", data={"entry_id": entry.id}).status_code == 404
    assert 'class="badge overdue"' not in rita.get("/cases/").get_data(as_text=True)


def test_saving_a_search_stays_on_the_results(login):
    rita = login("rita")
    file_case(rita, title="Warranty refused")
    response = rita.post("/search/saved", data={"q": "warranty", "status": "new", "name": "Warranty trouble"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/search?") and "q=warranty" in response.headers["Location"]
    page = rita.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved “Warranty trouble”" in page and "Warranty refused" in page
