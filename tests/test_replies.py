"""Right-of-reply letters: drafted without the complainant's identity, sent once (the clock starts,
the PDF's SHA-256 goes on the timeline), e-mailed through a real SMTP server, and answered once by
the business through its private link, which reaches nothing else."""
import hashlib
import html
import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from investigations.extensions import db
from investigations.models import AuditEvent, Case, Evidence, ReplyLetter
from investigations.replies.letters import Draft, LetterRefused, draft_letter, send_letter
from investigations.storage import LetterStore
from investigations.template_helpers import local_today
from tests import evidence_files
from tests.conftest import case_form, file_case, sign_in

NAME, EMAIL, PHONE = "Lucía Fernández-Ortega", "lucia.fo@example.net", "+1 (555) 014-2277"
# What an attacker (or a careless reporter) types: the complainant's identity in the title and narrative.
LEAKY = dict(
    title=f"Fernandez-Ortega refund refused, call {PHONE}",
    narrative=f"Ms Lucia Fernández-Ortega ({EMAIL}, 555 014 2277) bought a washer that leaked. "
              f"LUCIA says the store refused a refund.",
    complainant_name=NAME, complainant_email=EMAIL, complainant_phone=PHONE,
    complainant_address="12 Calle Mayor\nSpringfield", business_name="Acme Appliances Inc.",
)
IDENTITY = ["Lucía", "Lucia", "LUCIA", "Fernández", "Fernandez", "Ortega", EMAIL, "lucia.fo", "014-2277",
            "014 2277", "0142277", "Calle Mayor"]


def assert_no_identity(text: str, where: str):
    folded = text.lower()
    for word in IDENTITY:
        assert word.lower() not in folded, f"{word!r} appears in {where}"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    metadata = " ".join(str(value) for value in (reader.metadata or {}).values())
    return "\n".join(page.extract_text() for page in reader.pages) + "\n" + metadata


def investigating_case(client, **overrides) -> str:
    reference = file_case(client, **{**LEAKY, **overrides})
    assert client.post(f"/cases/{reference}/status", data={"status": "investigating"}).status_code == 302
    return reference


def compose_form(client, reference) -> dict:
    """The letter form as the app fills it in."""
    page = client.get(f"/cases/{reference}/letter").get_data(as_text=True)
    fields = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) for name in
              ("recipient_name", "recipient_email", "subject", "form_nonce")}
    data = {name: (match.group(1) if match else "") for name, match in fields.items()}
    body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S)
    address = re.search(r'<textarea[^>]*name="recipient_address"[^>]*>(.*?)</textarea>', page, re.S)
    data = {name: html.unescape(value) for name, value in data.items()}
    data["body"] = html.unescape(body.group(1)).lstrip("\n")
    data["recipient_address"] = html.unescape(address.group(1)).lstrip("\n") if address else ""
    data["delivery"] = "hand"
    data["action"] = "send"
    return data


def send(client, reference, **changes):
    data = {**compose_form(client, reference), **changes}
    response = client.post(f"/cases/{reference}/letter", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return response


def link_in(text: str) -> str:
    match = re.search(r"https?://[^\s<\"]+/reply/([A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


# --- Drafting without the complainant's identity ----------------------------------------------


def test_the_draft_names_no_complainant_without_consent(app, login):
    rita = login("rita")
    reference = investigating_case(rita)
    page = rita.get(f"/cases/{reference}/letter")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    draft = compose_form(rita, reference)
    assert_no_identity(draft["body"] + draft["subject"], "the draft")
    assert "[complainant]" in draft["body"]
    assert "refund refused" in draft["body"]  # the allegations are there, in the complainant's absence
    assert "A consumer has told us" in draft["body"] and "499.99 USD" in draft["body"]
    assert "Ask Acme Appliances Inc. for its response" in text


def test_identity_typed_into_the_letter_is_withheld_from_everything_sent(app, login, users):
    rita = login("rita")
    reference = investigating_case(rita)
    draft = compose_form(rita, reference)
    typed = f"{draft['body']}\n\nPS: {NAME} ({EMAIL}, tel. 555-014-2277) lives at 12 Calle Mayor."
    page = send(rita, reference, body=typed, subject=f"About Ms Fernández-Ortega ({reference})")
    letter = db.session.scalar(select(ReplyLetter))
    assert_no_identity(letter.body + letter.subject, "the letter as stored")
    assert "PS: [complainant]" in letter.body
    pdf = LetterStore(app.config["LETTER_DIR"]).path_for(letter.id).read_bytes()
    assert_no_identity(pdf_text(pdf), "the PDF")
    assert_no_identity(page.get_data(as_text=True).split("<main", 1)[1], "the page shown after sending")


def test_with_consent_the_draft_may_name_the_complainant(app, login):
    rita = login("rita")
    reference = investigating_case(rita, consent_to_publish="y")
    assert NAME in compose_form(rita, reference)["body"]


# --- Sending: the clock, the PDF and its hash ------------------------------------------------


def test_sending_starts_the_clock_and_records_the_letters_hash(app, login):
    rita = login("rita")
    reference = investigating_case(rita)
    page = send(rita, reference).get_data(as_text=True)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    today = local_today()
    assert case.status == "awaiting_response"
    assert case.response_requested_on == today
    assert case.response_due_on == today + timedelta(days=app.config["RIGHT_OF_REPLY_DAYS"])
    letter = db.session.scalar(select(ReplyLetter))
    assert letter.due_on == case.response_due_on
    assert letter.expires_on == case.response_due_on + timedelta(days=app.config["REPLY_GRACE_DAYS"])

    download = rita.get(f"/cases/{reference}/letters/{letter.id}/pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    digest = hashlib.sha256(download.data).hexdigest()
    assert letter.pdf_sha256 == digest
    assert any(digest in entry.body for entry in case.timeline), "the hash is on the timeline"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reply.letter_send"))
    assert digest in event.details
    # The printed deadline is the clock's; the link is in the PDF and in the text shown once.
    text = pdf_text(download.data)
    assert f"{case.response_due_on:%-d %b %Y}" in text
    token = link_in(page)
    assert letter.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in letter.body and token not in str(db.session.scalar(select(AuditEvent.details).where(
        AuditEvent.action == "reply.letter_send")))
    # The case page lists the letter.
    assert f"Letter #{letter.id}" in rita.get(f"/cases/{reference}").get_data(as_text=True)


def test_the_same_form_sent_twice_sends_one_letter(app, login):
    rita = login("rita")
    reference = investigating_case(rita)
    data = compose_form(rita, reference)
    assert rita.post(f"/cases/{reference}/letter", data=data).status_code == 200
    again = rita.post(f"/cases/{reference}/letter", data=data)
    assert again.status_code == 302 and "/letters/" in again.headers["Location"]
    assert len(db.session.scalars(select(ReplyLetter)).all()) == 1


def test_a_new_case_cannot_send_a_letter_yet_and_nothing_changes(app, login):
    rita = login("rita")
    reference = file_case(rita, **LEAKY)
    page = rita.get(f"/cases/{reference}/letter").get_data(as_text=True)
    assert "once the case is being investigated" in page
    rita.post(f"/cases/{reference}/letter", data=compose_form(rita, reference))
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case.status == "new" and case.response_requested_on is None
    assert db.session.scalar(select(ReplyLetter)) is None


def test_a_later_letter_replaces_the_earlier_link(app, login):
    rita = login("rita")
    reference = investigating_case(rita)
    first = link_in(send(rita, reference).get_data(as_text=True))
    second = link_in(send(rita, reference).get_data(as_text=True))
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case.response_requested_on == local_today()  # the clock kept running
    anonymous = app.test_client()
    assert anonymous.get(f"/reply/{first}").status_code == 404
    assert anonymous.get(f"/reply/{second}").status_code == 200


def test_other_reporters_cannot_write_on_a_case_that_is_not_theirs(app, login):
    rita = login("rita")
    reference = investigating_case(rita)
    rob = login("rob")
    assert rob.get(f"/cases/{reference}/letter").status_code == 404
    assert rob.post(f"/cases/{reference}/letter", data=compose_form(rita, reference)).status_code == 404
    assert db.session.scalar(select(ReplyLetter)) is None


def test_the_service_refuses_to_email_without_an_address(app, users, login):
    rita = login("rita")
    reference = investigating_case(rita)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    draft = draft_letter(case, users["rita"])
    with pytest.raises(LetterRefused):
        send_letter(case, Draft("", "", "", draft.subject, draft.body), "email", "n" * 32, users["rita"])
    db.session.rollback()


# --- E-mail through a real SMTP server ------------------------------------------------------


def test_the_letter_is_mailed_and_the_answer_reaches_the_reporter(mail_app, inbox, users):
    inbox, _ = inbox
    rita = mail_app.test_client()
    sign_in(rita, users["rita"].email)
    eve = mail_app.test_client()
    sign_in(eve, users["eve"].email)
    reference = investigating_case(rita)
    business = db.session.scalar(select(Case).where(Case.reference == reference)).business
    eve.post(f"/businesses/{business.slug}/edit", data={
        "name": business.name, "contact_name": "Pat Press", "contact_email": "press@acme.example",
        "contact_address": "1 Acme Way\nSpringfield"})
    draft = compose_form(rita, reference)
    assert draft["recipient_email"] == "press@acme.example" and "Dear Pat Press" in draft["body"]
    page = send(rita, reference, delivery="email").get_data(as_text=True)
    assert "was e-mailed to press@acme.example" in page

    [message] = inbox.to("press@acme.example")
    assert message["Reply-To"] == users["rita"].email
    body = message.get_body(("plain",)).get_content()
    assert_no_identity(body + message["Subject"], "the e-mail")
    [attachment] = list(message.iter_attachments())
    letter = db.session.scalar(select(ReplyLetter))
    assert attachment.get_content_type() == "application/pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == letter.pdf_sha256
    assert letter.mailed_at is not None
    token = link_in(body)
    assert body.count("https://cases.example.org/reply/") == 1

    business_client = mail_app.test_client()
    answered = business_client.post(f"/reply/{token}", data={"name": "Pat Press", "answer": "We refunded it."})
    assert answered.status_code == 303
    [told] = inbox.to(users["rita"].email)
    assert reference in told["Subject"]
    assert "We refunded it" not in told.get_body(("plain",)).get_content()


def test_the_reporter_is_reminded_before_the_letters_deadline(mail_app, inbox, users):
    from investigations.jobs.alerts import send_reply_reminders

    inbox, _ = inbox
    rita = mail_app.test_client()
    sign_in(rita, users["rita"].email)
    reference = investigating_case(rita)
    send(rita, reference)
    letter = db.session.scalar(select(ReplyLetter))
    assert send_reply_reminders(today=letter.due_on - timedelta(days=10)).startswith("0 reminders")
    send_reply_reminders(today=letter.due_on - timedelta(days=2))
    [reminder] = inbox.to(users["rita"].email)
    text = reminder.get_body(("plain",)).get_content()
    assert reference in text and f"reply due {letter.due_on:%Y-%m-%d}" in text
    assert_no_identity(text, "the reminder")


# --- The business's answer through its link ---------------------------------------------------


def sent_letter(app, login) -> tuple[str, str]:
    rita = login("rita")
    reference = investigating_case(rita)
    return reference, link_in(send(rita, reference).get_data(as_text=True))


def test_the_business_answers_once_with_a_file_and_it_lands_on_the_case(app, login, users):
    reference, token = sent_letter(app, login)
    business = app.test_client()
    page = business.get(f"/reply/{token}")
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert "Your answer" in shown and reference in shown
    assert_no_identity(shown, "the business's page")
    assert 'href="/cases' not in shown  # no way into the archive from here

    response = business.post(f"/reply/{token}", data={
        "name": "Pat Press", "role": "Head of customer care", "answer": "We offered a full refund on 2 Dec.",
        "files": [(io.BytesIO(evidence_files.text_pdf("Refund confirmation")), "refund.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 303
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case.business_response == "We offered a full refund on 2 Dec."
    assert case.response_received_on == local_today()
    entry = case.timeline[0]
    assert entry.kind == "response" and "We offered a full refund" in entry.body and "Pat Press" in entry.body
    [item] = db.session.scalars(select(Evidence)).all()
    assert item.case_id == case.id and item.source.startswith("Sent by the business")
    letter = db.session.scalar(select(ReplyLetter))
    assert letter.is_answered and letter.answer_files == [item]

    # Read-only from now on: a second answer changes nothing.
    again = business.post(f"/reply/{token}", data={"name": "Someone", "answer": "Actually, no refund."})
    assert again.status_code == 200 and "can no longer be changed" in again.get_data(as_text=True)
    db.session.expire_all()
    assert case.business_response == "We offered a full refund on 2 Dec."
    # The reporter sees it on the case, linked to the letter.
    rita = login("rita")
    case_page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "We offered a full refund" in case_page and "answered online" in case_page
    assert "We offered a full refund" in rita.get(f"/cases/{reference}/letters/{letter.id}").get_data(as_text=True)


def test_a_refused_file_keeps_nothing_and_says_why(app, login):
    reference, token = sent_letter(app, login)
    business = app.test_client()
    response = business.post(f"/reply/{token}", data={
        "name": "Pat", "answer": "See the attached page.",
        "files": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "page.html")]},
        content_type="multipart/form-data")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "page.html was refused" in text and "See the attached page." in text  # the typed answer is kept
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case.business_response is None and db.session.scalar(select(Evidence)) is None
    assert not db.session.scalar(select(ReplyLetter)).is_answered


def test_too_many_files_are_refused(app_factory, users, login):
    app = app_factory(REPLY_MAX_FILES=1)
    with app.app_context():
        client = app.test_client()
        sign_in(client, users["rita"].email)
        reference = investigating_case(client)
        token = link_in(send(client, reference).get_data(as_text=True))
        response = app.test_client().post(f"/reply/{token}", data={
            "name": "Pat", "answer": "Two files.",
            "files": [(io.BytesIO(evidence_files.jpeg()), "a.jpg"), (io.BytesIO(evidence_files.png()), "b.png")]},
            content_type="multipart/form-data")
        assert response.status_code == 400 and "at most 1 file" in response.get_data(as_text=True)
        assert db.session.scalar(select(Evidence)) is None


@pytest.mark.parametrize("case_of", ["wrong", "expired", "truncated"])
def test_a_wrong_or_expired_link_shows_nothing(app, login, case_of):
    reference, token = sent_letter(app, login)
    if case_of == "expired":
        letter = db.session.scalar(select(ReplyLetter))
        letter.expires_on = local_today() - timedelta(days=1)
        db.session.commit()
    address = {"wrong": "/reply/" + "A" * 43, "expired": f"/reply/{token}", "truncated": f"/reply/{token[:-1]}"}
    client = app.test_client()
    for method in ("get", "post"):
        response = getattr(client, method)(address[case_of], data={"name": "x", "answer": "y"})
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        assert reference not in text and "Acme" not in text and "refund" not in text.lower()
    assert db.session.scalar(select(Case).where(Case.reference == reference)).business_response is None


def test_the_link_is_rate_limited(app_factory, users):
    app = app_factory(RATELIMIT_ENABLED=True, REPLY_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [client.get("/reply/" + "B" * 43).status_code for _ in range(4)]
        assert statuses == [404, 404, 404, 429]


# --- The business's contact -------------------------------------------------------------------


def test_business_contact_through_the_api(app, login, users):
    from investigations.api.tokens import create_token

    rita = login("rita")
    file_case(rita, **case_form())
    eve = users["eve"]
    _, secret = create_token(eve, "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    slug = client.get("/api/v1/businesses", headers=headers).get_json()["items"][0]["slug"]
    changed = client.patch(f"/api/v1/businesses/{slug}", headers=headers,
                           json={"contact_email": "press@acme.example", "contact_name": "Pat Press"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    got = client.get(f"/api/v1/businesses/{slug}", headers=headers).get_json()
    assert got["contact_email"] == "press@acme.example" and got["contact_name"] == "Pat Press"
    refused = client.patch(f"/api/v1/businesses/{slug}", headers=headers, json={"contact_email": "not an address"})
    assert refused.status_code in (400, 422)


def test_the_letter_date_is_today_in_the_newsroom(app, login):
    reference, _ = sent_letter(app, login)
    letter = db.session.scalar(select(ReplyLetter))
    assert isinstance(letter.due_on, date) and letter.case.reference == reference
