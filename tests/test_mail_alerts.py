"""E-mail alerts, received by a real SMTP server the tests start (aiosmtpd): the saved-search
digest, right-of-reply reminders and the nightly integrity check. No mail names a complainant."""
import email
import email.policy
import io
import os
import stat
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from investigations.extensions import db
from investigations.models import AlertPreferences, AuditEvent, Case, Evidence, Job
from investigations.storage import EvidenceStore
from tests.conftest import case_form, file_case, sign_in

COMPLAINANT = case_form()
SECRETS = [COMPLAINANT["complainant_name"], COMPLAINANT["complainant_email"], COMPLAINANT["complainant_phone"],
           COMPLAINANT["complainant_address"], "Carla"]


def client_for(app, who):
    client = app.test_client()
    assert sign_in(client, f"{who}@example.org").status_code == 302
    return client


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def assert_no_complainant_details(message):
    whole = message.as_string()
    for secret in SECRETS:
        assert secret not in whole, secret


def run_scheduled(app, *kinds):
    return app.test_cli_runner().invoke(args=["jobs", "run-scheduled-now", *kinds])


def test_the_daily_digest_lists_new_matches_of_saved_searches(mail_app, inbox):
    messages, _ = inbox
    rita = client_for(mail_app, "rita")
    assert rita.post("/search/saved", data={"q": "washing", "name": "Washers"}).status_code == 302
    reference = file_case(rita)  # "Refund refused for a faulty washing machine", filed after saving
    file_case(rita, title="Late delivery of a sofa", narrative="The sofa came two months late.",
              business_name="Sofa World")
    result = run_scheduled(mail_app, "saved_searches.check")
    assert result.exit_code == 0, result.output

    result = run_scheduled(mail_app, "alerts.digest")
    assert result.exit_code == 0, result.output
    [message] = messages.to("rita@example.org")
    assert message["Subject"] == "1 new complaint match your saved searches"
    body = body_of(message)
    assert "“Washers”: 1 new" in body and reference in body and "Acme Appliances" in body
    assert f"https://cases.example.org/cases/{reference}" in body
    assert "sofa" not in body.lower()
    assert_no_complainant_details(message)

    run_scheduled(mail_app, "saved_searches.check", "alerts.digest")  # nothing new: no second mail
    assert len(messages.to("rita@example.org")) == 1


def test_a_digest_follows_the_users_choice(mail_app, inbox, users):
    messages, _ = inbox
    rita = client_for(mail_app, "rita")
    assert 'href="/account/alerts"' in rita.get("/account/password").get_data(as_text=True)  # the account page
    page = rita.get("/account/alerts").get_data(as_text=True)
    assert "saved searches" in page and "Integrity" not in page  # admins only
    response = rita.post("/account/alerts", data={"reply_reminders": "y"})  # digest unticked
    assert response.status_code == 302
    prefs = db.session.get(AlertPreferences, users["rita"].id)
    assert not prefs.saved_search_digest and prefs.reply_reminders and prefs.integrity_alerts
    rita.post("/search/saved", data={"q": "washing", "name": "Washers"})
    file_case(rita)
    run_scheduled(mail_app, "alerts.digest")
    assert messages.to("rita@example.org") == []
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "account.alerts"))


def _awaiting_reply(reference, due_on):
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    case.status, case.response_requested_on, case.response_due_on = "awaiting_response", date.today(), due_on
    db.session.commit()
    return case


def test_right_of_reply_reminders_are_mailed_once(mail_app, inbox, users):
    messages, _ = inbox
    rita = client_for(mail_app, "rita")
    soon = file_case(rita)
    late = file_case(rita, business_name="Late Payers LLC")
    later = file_case(rita, business_name="Far Future Ltd")
    _awaiting_reply(soon, date.today() + timedelta(days=2))
    _awaiting_reply(late, date.today() - timedelta(days=1))
    _awaiting_reply(later, date.today() + timedelta(days=20))
    assert db.session.scalar(select(Case).where(Case.reference == late)).is_overdue()

    result = run_scheduled(mail_app, "alerts.reply_reminders")
    assert result.exit_code == 0, result.output
    [message] = messages.to("rita@example.org")
    body = body_of(message)
    assert message["Subject"] == "Right of reply: 2 deadlines to watch"
    overdue, due_soon = body.split("Overdue (no reply recorded):")[1].split("Due within 3 days:")
    assert late in overdue and "Late Payers" in overdue and soon in due_soon and later not in body
    assert f"reply due {date.today() + timedelta(days=2):%Y-%m-%d}" in due_soon
    assert_no_complainant_details(message)

    run_scheduled(mail_app, "alerts.reply_reminders")  # a second run mails nothing again
    assert len(messages.to("rita@example.org")) == 1
    assert messages.to("eve@example.org") == []  # not her cases


def test_the_nightly_check_alerts_admins_to_a_flipped_byte(mail_app, inbox):
    messages, _ = inbox
    rita = client_for(mail_app, "rita")
    reference = file_case(rita)
    rita.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(b"the original words\n"), "n.txt")]},
              content_type="multipart/form-data")
    result = run_scheduled(mail_app, "integrity.check")
    assert result.exit_code == 0, result.output
    assert messages.messages == []

    evidence = db.session.scalar(select(Evidence))
    path = Path(EvidenceStore(mail_app.config["EVIDENCE_DIR"]).path_for(evidence.sha256))
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))

    result = run_scheduled(mail_app, "integrity.check")
    assert result.exit_code == 1
    [message] = messages.to("ada@example.org")
    assert message["Subject"].startswith("Integrity check FAILED")
    body = body_of(message)
    assert f"Evidence #{evidence.id} of {reference} is ALTERED" in body and evidence.sha256 in body
    assert "n.txt" not in body
    assert_no_complainant_details(message)
    assert messages.to("eve@example.org") == [] and messages.to("rita@example.org") == []
    failed = db.session.scalar(select(Job).where(Job.kind == "integrity.check", Job.state == "failed"))
    assert failed is not None and "ALTERED" in failed.error
    page = client_for(mail_app, "ada").get("/admin/jobs").get_data(as_text=True)
    assert "ALTERED" in page


def test_without_smtp_mail_is_written_to_the_mail_folder(app_factory, users, tmp_path):
    folder = tmp_path / "mail"
    app = app_factory(MAIL_SERVER=None, MAIL_FOLDER=str(folder))
    with app.app_context():
        from investigations.jobs.mail import send_mail

        send_mail("rita@example.org", "Hello", "A test message.\n")
    [written] = list(folder.glob("*.eml"))
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == "rita@example.org" and body_of(message).strip() == "A test message."
