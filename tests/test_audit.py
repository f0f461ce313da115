"""The audit trail: every change is recorded, and tampering is detected by `flask audit verify`."""
import threading

from sqlalchemy import select, text

from investigations import audit
from investigations.extensions import db
from investigations.models import AuditEvent
from tests.conftest import case_form, file_case


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_every_change_leaves_an_audit_event(login, users):
    rita = login("rita")
    reference = file_case(rita)
    rita.post(f"/cases/{reference}/edit", data=case_form(title="Edited title"))
    rita.post(f"/cases/{reference}/notes", data={"kind": "note", "body": "Called the shop"})
    rita.post(f"/cases/{reference}/status", data={"status": "investigating"})
    rita.post(f"/cases/{reference}/response", data={"response": "No comment", "received_on": "2026-11-01"})
    eve = login("eve")
    eve.post(f"/cases/{reference}/assign", data={"assignee": str(users["rob"].id)})
    rita.post("/logout")
    assert actions() == [
        "auth.login", "business.create", "case.create", "case.update", "case.note", "case.status",
        "case.response", "auth.login", "case.assign", "auth.logout",
    ]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status")).one()
    assert event.actor_label == "rita@example.org" and event.object_type == "case" and event.object_id == reference
    assert event.ip == "127.0.0.1"


def test_failed_sign_ins_are_audited(app, users):
    client = app.test_client()
    client.post("/login", data={"email": "rita@example.org", "password": "wrong password"})
    client.post("/login", data={"email": "nobody@example.org", "password": "whatever"})
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert [e.actor_label for e in failed] == ["rita@example.org", "nobody@example.org"]


def test_a_clean_chain_verifies(login, runner):
    file_case(login("rita"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 3 audit events, chain intact." in result.output


def test_editing_an_audit_row_makes_verify_fail(login, runner):
    reference = file_case(login("rita"))
    # Someone with database access rewrites who did it, bypassing the application.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_label = 'someone@else.org' WHERE seq = 2"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event #2: its content does not match its hash" in result.output
    assert reference  # the case itself is untouched


def test_recomputing_the_edited_rows_hash_is_still_caught(login):
    file_case(login("rita"))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET details = '{}' WHERE seq = 2"))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.seq == 2)).one()
    db.session.refresh(event)
    forged = audit.event_hash(event)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET hash = :h WHERE seq = 2"), {"h": forged})
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 3
    assert report.problem == "its link to the previous event is broken"


def test_deleting_events_is_caught(login):
    login("rita")
    file_case(login("rita"))
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == 2 and "missing" in report.problem

    # Removing the newest events only is caught too, by the chain head.
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= 2"))
    report = audit.verify_chain()
    assert not report.ok and report.problem == "events after it have been removed"


def test_the_application_cannot_change_events(login):
    file_case(login("rita"))
    event = db.session.scalars(select(AuditEvent)).first()
    event.actor_label = "tampered"
    try:
        db.session.commit()
    except RuntimeError as error:
        assert "append-only" in str(error)
        db.session.rollback()
    else:
        raise AssertionError("an audit event was updated")


def test_the_admin_page_verifies_the_chain(login):
    ada = login("ada")
    page = ada.post("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert "The audit chain holds" in page
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'auth.logout' WHERE seq = 1"))
    page = ada.post("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert "The audit chain is broken at event #1" in page


def test_concurrent_writers_keep_one_unbroken_chain(app):
    """Threads with their own sessions and connections append at once; no fork, no reused number."""
    errors = []

    def writer(n):
        try:
            with app.app_context():
                for i in range(10):
                    audit.record("test.concurrent", None, actor_label=f"writer-{n}", i=i)
                    db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = audit.verify_chain()
    assert report.ok and report.checked == 40
