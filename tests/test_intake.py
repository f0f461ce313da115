"""The public complaint form, its receipt and status page, and the editors' triage queue."""
import io
import re
import time

import pytest
from sqlalchemy import func, select

from investigations.extensions import db
from investigations.intake import guards, receipts
from investigations.intake.services import COMPLAINANT
from investigations.models import AuditEvent, Case, Evidence, IntakeFile, IntakeSubmission
from tests import evidence_files
from tests.conftest import file_case

CODE_PATTERN = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})\b")


def complaint(**overrides):
    data = {
        "summary": "Kettle shop refused a refund",
        "narrative": "The kettle stopped working after two days and Kettleworld refused to refund it.",
        "business_name": "Kettleworld Ltd",
        "incident_date": "2026-11-02",
        "amount_in_dispute": "49.90",
        "currency": "USD",
        "desired_resolution": "My money back",
        "complainant_name": "Petra Public",
        "complainant_email": "petra@example.net",
        "complainant_phone": "",
        "complainant_address": "3 Side Street",
        "consent": "no",
        "website": "",
        "started": guards.form_started_token(time.time() - 60),
    }
    data.update(overrides)
    return data


def send(client, files=(), **overrides):
    data = complaint(**overrides)
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/report", data=data, content_type="multipart/form-data")


def receipt_code(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/report/receipt")
    page = client.get("/report/receipt").get_data(as_text=True)
    return CODE_PATTERN.search(page).group(1)


@pytest.fixture
def intake_on(app):
    app.config["PUBLIC_INTAKE"] = True
    return app


def stored_objects(app):
    root = app.config["EVIDENCE_DIR"] + "/objects"
    import os

    return [name for _, _, names in os.walk(root) for name in names]


# --- Receipt codes -----------------------------------------------------------------------------

def test_receipt_codes_are_readable_aloud_and_typed_loosely():
    codes = {receipts.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        assert not set(code) & set("0O1IL2Z5S8B")
    code = next(iter(codes))
    assert receipts.normalize(code.lower().replace("-", " ")) == code
    assert receipts.normalize("K7PM-QX4T-2WN") is None  # too short
    assert receipts.normalize("O0O0-O0O0-O0O0") is None  # look-alikes are never in a code


# --- Filing ------------------------------------------------------------------------------------

def test_a_complaint_with_a_photo_lands_in_triage_only(intake_on, login, users):
    client = intake_on.test_client()
    form = client.get("/report").get_data(as_text=True)
    assert 'name="website"' in form and 'name="started"' in form
    assert "May we name you if we publish?" in form
    response = send(client, files=[("receipt.jpg", evidence_files.jpeg())])
    code = receipt_code(client, response)

    submission = db.session.scalar(select(IntakeSubmission))
    assert submission.state == "triage" and submission.consent_to_publish is False
    assert submission.receipt_hash == receipts.code_hash(code)
    assert code not in str([getattr(submission, column.key) for column in IntakeSubmission.__table__.columns])
    assert [f.media_type for f in submission.files] == ["image/jpeg"]
    assert len(stored_objects(intake_on)) == 1
    # Shown once: the receipt page has forgotten the code.
    again = client.get("/report/receipt").get_data(as_text=True)
    assert code not in again and "shown already" in again
    # Not a case: no list, search, count or dashboard sees it.
    assert db.session.scalar(select(func.count(Case.id))) == 0
    eve = login("eve")
    assert "Kettleworld" not in eve.get("/cases/").get_data(as_text=True)
    assert "Kettleworld" not in eve.get("/search?q=kettle").get_data(as_text=True)
    assert "Triage" in eve.get("/cases/").get_data(as_text=True)


def test_the_honeypot_refuses_and_keeps_nothing(intake_on):
    client = intake_on.test_client()
    response = send(client, files=[("receipt.jpg", evidence_files.jpeg())], website="http://spam.example")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "was not sent" in page and "Leave this empty" in page
    assert "Kettleworld Ltd" in page  # what was typed is still there
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0
    assert stored_objects(intake_on) == []


def test_the_timing_check_refuses_a_form_sent_too_fast_or_forged(intake_on):
    client = intake_on.test_client()
    too_fast = send(client, started=guards.form_started_token(time.time()))
    assert too_fast.status_code == 400
    assert "faster than a person" in too_fast.get_data(as_text=True)
    forged = send(client, started="12345")
    assert forged.status_code == 400 and "damaged" in forged.get_data(as_text=True)
    stale = send(client, started=guards.form_started_token(time.time() - 2 * 86400))
    assert stale.status_code == 400 and "more than a day ago" in stale.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0


def test_the_daily_cap_refuses(intake_on):
    intake_on.config["INTAKE_DAILY_CAP"] = 1
    client = intake_on.test_client()
    receipt_code(client, send(client))
    refused = send(client, summary="Another complaint")
    assert refused.status_code == 400
    assert "as many complaints today" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 1


def test_files_are_checked_like_staff_uploads_with_lower_limits(intake_on):
    intake_on.config.update(INTAKE_MAX_FILES=2, INTAKE_MAX_TOTAL_MB=1)
    client = intake_on.test_client()
    script = send(client, files=[("photo.jpg", evidence_files.jpeg()), ("page.html", b"<html><script>x</script>")])
    assert script.status_code == 400
    assert "“page.html” cannot be sent" in script.get_data(as_text=True)
    too_many = send(client, files=[(f"p{i}.png", evidence_files.png()) for i in range(3)])
    assert "at most 2 can be sent" in too_many.get_data(as_text=True)
    too_big = send(client, files=[("notes.txt", b"a" * (2**20 + 10))])
    too_big.request.environ["wsgi.input"].close()  # the test client's spooled body file
    assert too_big.status_code == 400 and "1 MB in all" in too_big.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0
    assert stored_objects(intake_on) == []  # the photo received before the refusal is gone too


def test_a_body_over_the_size_cap_is_refused_before_it_is_read(intake_on):
    intake_on.config["INTAKE_MAX_TOTAL_MB"] = 1
    client = intake_on.test_client()
    response = send(client, files=[("big.txt", b"a" * (3 * 2**20))])
    response.request.environ["wsgi.input"].close()  # the test client's body file, which the app left unread
    assert response.status_code == 413
    assert "Nothing was stored" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0


def test_missing_answers_are_named_and_nothing_is_lost(intake_on):
    client = intake_on.test_client()
    response = send(client, consent="", complainant_email="", complainant_phone="")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose yes or no." in page and "e-mail address or a phone number" in page
    assert "The kettle stopped working" in page


def test_the_form_can_be_switched_off(app):
    app.config["PUBLIC_INTAKE"] = False
    client = app.test_client()
    assert "not taking complaints" in client.get("/report").get_data(as_text=True)
    send(client)
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0


# --- Rate limits ------------------------------------------------------------------------------

def test_a_second_complaint_in_the_same_minute_is_refused_politely(app_factory, app):
    limited = app_factory(RATELIMIT_ENABLED=True, PUBLIC_INTAKE=True, INTAKE_RATE_LIMIT="1 per minute")
    client = limited.test_client()
    with limited.app_context():
        assert send(client, consent="").status_code == 400  # a form sent back for corrections does not count
        receipt_code(client, send(client))
        response = send(client, summary="Second complaint")
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "a complaint was sent from your address a moment ago" in page
    assert "Second complaint" in page  # the answers are still in the form
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 1


def test_status_lookups_are_rate_limited(app_factory, app):
    limited = app_factory(RATELIMIT_ENABLED=True, PUBLIC_INTAKE=True, INTAKE_STATUS_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    for _ in range(3):
        assert client.post("/report/status", data={"code": "AAAA-AAAA-AAAA"}).status_code == 200
    response = client.post("/report/status", data={"code": "AAAA-AAAA-AAAA"})
    assert response.status_code == 429
    assert "wait a minute" in response.get_data(as_text=True)


# --- The status page ---------------------------------------------------------------------------

def test_a_wrong_code_reveals_nothing(intake_on, login):
    client = intake_on.test_client()
    code = receipt_code(client, send(client))
    wrong = client.post("/report/status", data={"code": "AAAA-AAAA-AAAA"}).get_data(as_text=True)
    malformed = client.post("/report/status", data={"code": "x' OR 1=1 --"}).get_data(as_text=True)
    for page in (wrong, malformed):
        assert "We found no complaint with that code" in page
        assert "Kettleworld" not in page and "Petra" not in page and "received" not in page.lower().split("status")[0]
    right = client.post("/report/status", data={"code": code.lower()}).get_data(as_text=True)
    assert "Your complaint is: <span class=\"status-word\">received</span>" in right
    assert "Kettleworld" not in right and "Petra" not in right  # only the status, not the complaint


def test_the_complainant_adds_a_note_and_a_file_before_and_after_acceptance(intake_on, login):
    client = intake_on.test_client()
    code = receipt_code(client, send(client))
    response = client.post("/report/status/add", data={"code": code, "note": "The shop also charged a fee.",
                                                       "files": [(io.BytesIO(evidence_files.png()), "fee.png")]},
                           content_type="multipart/form-data")
    assert "we have added your note and 1 file" in response.get_data(as_text=True)
    submission = db.session.scalar(select(IntakeSubmission))
    assert [n.body for n in submission.notes] == ["The shop also charged a fee."]
    assert len(submission.files) == 1

    eve = login("eve")
    accepted = eve.post(f"/triage/{submission.id}/accept", data={"title": "Kettle refund refused",
                                                                "category": "refund", "assignee": ""})
    reference = re.search(r"/cases/(C-\d{4}-\d{5})", accepted.headers["Location"]).group(1)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert any("charged a fee" in entry.body for entry in case.timeline)
    assert "being looked into" in client.post("/report/status", data={"code": code}).get_data(as_text=True)

    client.post("/report/status/add", data={"code": code, "note": "Here is the letter they sent.",
                                           "files": [(io.BytesIO(b"Dear customer, no refund."), "letter.txt")]},
                content_type="multipart/form-data")
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert sorted(e.original_name for e in case.evidence) == ["fee.png", "letter.txt"]
    assert any("letter they sent" in entry.body for entry in case.timeline)


def test_a_declined_complaint_reads_closed_and_takes_nothing_more(intake_on, login):
    client = intake_on.test_client()
    code = receipt_code(client, send(client))
    submission = db.session.scalar(select(IntakeSubmission))
    eve = login("eve")
    assert eve.post(f"/triage/{submission.id}/decline", data={"reason": ""}).status_code == 400
    assert eve.post(f"/triage/{submission.id}/decline", data={"reason": "Not a consumer matter"}).status_code == 302
    page = client.post("/report/status", data={"code": code}).get_data(as_text=True)
    assert '<span class="status-word">closed</span>' in page
    assert "Not a consumer matter" not in page
    refused = client.post("/report/status/add", data={"code": code, "note": "More"})
    assert refused.status_code == 409
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "intake.decline"))
    assert event.actor_label == "eve@example.org" and "Not a consumer matter" in event.details


# --- Triage -----------------------------------------------------------------------------------

def test_accepting_makes_a_case_with_its_evidence_and_audit(intake_on, login, users):
    client = intake_on.test_client()
    receipt_code(client, send(client, consent="yes", files=[("receipt.jpg", evidence_files.jpeg())]))
    submission = db.session.scalar(select(IntakeSubmission))
    eve = login("eve")
    queue = eve.get("/triage/").get_data(as_text=True)
    assert submission.reference in queue and "Kettle shop refused a refund" in queue
    detail = eve.get(f"/triage/{submission.id}").get_data(as_text=True)
    assert "petra@example.net" in detail and "receipt.jpg" in detail
    assert eve.post(f"/triage/{submission.id}/accept", data={"title": "x", "category": ""}).status_code == 400

    response = eve.post(f"/triage/{submission.id}/accept", data={
        "title": "Kettleworld refused a refund", "category": "refund", "assignee": str(users["rita"].id)})
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    assert case.reference in response.headers["Location"]
    assert (case.title, case.source, case.source_id, case.received_via) == (
        "Kettleworld refused a refund", "public_form", str(submission.id), "web")
    assert case.business.name == "Kettleworld Ltd" and case.consent_to_publish is True
    assert case.complainant_email == "petra@example.net" and case.assigned_to_id == users["rita"].id
    assert str(case.amount_in_dispute) == "49.90"
    [evidence] = case.evidence
    assert evidence.sha256 == submission.files[0].sha256 and evidence.kind == "image"
    assert submission.files[0].evidence_id == evidence.id
    custody = eve.get(f"/evidence/{evidence.id}").get_data(as_text=True)
    assert COMPLAINANT in custody
    upload_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.upload"))
    assert upload_event.actor_id is None and upload_event.actor_label == COMPLAINANT
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "intake.accept")).actor_label == \
        "eve@example.org"
    # A case like any other: on the list and in search; the submission left the queue.
    assert case.reference in eve.get("/cases/").get_data(as_text=True)
    assert case.reference in eve.get("/search?q=kettle").get_data(as_text=True)
    assert submission.reference not in eve.get("/triage/").get_data(as_text=True).split("Recently decided")[0]
    # Deciding twice is refused.
    again = eve.post(f"/triage/{submission.id}/decline", data={"reason": "oops"})
    assert again.status_code == 409
    assert db.session.scalar(select(func.count(Case.id))) == 1
    from investigations.audit import verify_chain

    assert verify_chain().ok


def test_marking_a_duplicate_notes_it_on_the_existing_case(intake_on, login):
    eve = login("eve")
    reference = file_case(eve)
    client = intake_on.test_client()
    receipt_code(client, send(client))
    submission = db.session.scalar(select(IntakeSubmission))
    bad = eve.post(f"/triage/{submission.id}/duplicate", data={"reference": "C-1999-00001"})
    assert bad.status_code == 400 and "There is no case C-1999-00001" in bad.get_data(as_text=True)
    assert eve.post(f"/triage/{submission.id}/duplicate", data={"reference": reference.lower()}).status_code == 302
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert submission.case_id == case.id and submission.state == "duplicate"
    assert any(submission.reference in entry.body for entry in case.timeline)
    assert db.session.scalar(select(func.count(Case.id))) == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "intake.duplicate")) is not None


def test_reporters_and_the_public_cannot_reach_triage(intake_on, login):
    client = intake_on.test_client()
    receipt_code(client, send(client, files=[("receipt.jpg", evidence_files.jpeg())]))
    submission = db.session.scalar(select(IntakeSubmission))
    file_id = db.session.scalar(select(IntakeFile.id))
    rita = login("rita")
    for url in ("/triage/", f"/triage/{submission.id}", f"/triage/{submission.id}/files/{file_id}"):
        assert rita.get(url).status_code == 403
        assert client.get(url).status_code == 302  # to sign in
    assert rita.post(f"/triage/{submission.id}/accept", data={"title": "x y z", "category": "refund"}).status_code == 403
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def public_submission(evidence: Evidence | None = None) -> IntakeSubmission:
    """A submission waiting in triage, made directly (for tests of other areas); its one file shares
    the stored bytes of `evidence` when given."""
    submission = IntakeSubmission(receipt_hash=receipts.code_hash(receipts.new_code()), summary="Public Petra's complaint",
                                  narrative="Something went wrong with the order.", business_name="Some Shop",
                                  complainant_name="Public Petra", complainant_email="petra@example.net")
    if evidence is not None:
        submission.files.append(IntakeFile(sha256=evidence.sha256, size=evidence.size, media_type=evidence.media_type,
                                           kind=evidence.kind, type_label=evidence.type_label, original_name="photo.jpg"))
    db.session.add(submission)
    db.session.commit()
    return submission
