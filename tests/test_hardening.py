"""Edge cases found in review: odd input never gives a 500, and nothing is half-saved."""
from sqlalchemy import func, select, text

from investigations import audit
from investigations.businesses.services import find_or_create_business
from investigations.cases.forms import CaseForm
from investigations.extensions import db
from investigations.models import AuditEvent, Business, Case
from tests.conftest import PASSWORD, case_form, file_case, sign_in


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_invalid_edit_that_shows_complainant_details_is_audited(login):
    rita = login("rita")
    reference = file_case(rita)
    response = rita.post(f"/cases/{reference}/edit", data=case_form(title=""))
    assert "carla@example.net" in response.get_data(as_text=True)
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.complainant_view")).all()
    assert len(views) == 1


def test_changing_the_password_signs_out_other_sessions(login):
    phone, laptop = login("rita"), login("rita")
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert laptop.get("/cases/").status_code == 200  # the session that changed it stays signed in
    assert phone.get("/cases/").status_code == 302  # the other one is sent to sign in


def test_a_password_reset_signs_the_user_out(login, users):
    rob = login("rob")
    login("ada").post(f"/admin/users/{users['rob'].id}/reset-password")
    assert rob.get("/cases/").status_code == 302


def test_forms_do_not_pile_up_filters(app):
    with app.test_request_context():
        for _ in range(5):
            CaseForm()
        assert len(CaseForm().title.filters) == 1


def test_nul_bytes_and_long_names_are_handled(login):
    rita = login("rita")
    reference = file_case(rita, title="Broken\x00 heater", narrative="It stopped\x00 working in week one.",
                          business_name="a&" * 100)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case.title == "Broken heater"
    assert len(case.business.normalized_name) <= 200


def test_odd_amounts_and_page_numbers_get_answers_not_errors(login):
    rita = login("rita")
    response = rita.post("/cases/new", data=case_form(amount_in_dispute="sNaN"))
    assert response.status_code == 200 and "Enter an amount such as 120.50." in response.get_data(as_text=True)
    for url in ("/cases/?page=99999999999999999999", "/businesses/?page=99999999999999999999",
                "/cases/?endpoint=x&_method=DELETE&page=2"):
        assert rita.get(url).status_code == 200, url
    assert login("ada").get("/admin/audit?page=99999999999999999999").status_code == 200


def test_published_cases_are_changed_by_editors_only(login):
    rita = login("rita")
    reference = file_case(rita)
    rita.post(f"/cases/{reference}/status", data={"status": "investigating"})
    eve = login("eve")
    eve.post(f"/cases/{reference}/status", data={"status": "published"})
    for url, data in ((f"/cases/{reference}/edit", case_form(title="Quietly changed")),
                      (f"/cases/{reference}/notes", {"kind": "note", "body": "late note"}),
                      (f"/cases/{reference}/response", {"response": "rewritten", "received_on": "2026-11-01"})):
        response = rita.post(url, data=data)
        assert response.status_code == 403
        assert "ask one to reopen it" in response.get_data(as_text=True)
    assert rita.get(f"/cases/{reference}").status_code == 200  # still readable
    assert eve.post(f"/cases/{reference}/edit", data=case_form(title="Corrected by the editor")).status_code == 302


def test_a_rolled_back_filing_leaves_no_business_behind(app, users):
    with app.test_request_context():
        find_or_create_business("Phantom Traders")
        db.session.rollback()
    assert count(Business) == 0
    assert count(AuditEvent) == 0


def test_a_missing_chain_head_is_reported_and_stops_writes(app, login):
    file_case(login("rita"))
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_chain_head"))
    report = audit.verify_chain()
    assert not report.ok and report.problem == "the chain head is missing"
    response = sign_in(app.test_client(), "rob@example.org")  # signing in writes an event: refused
    assert response.status_code == 500
    assert count(Case) == 1
