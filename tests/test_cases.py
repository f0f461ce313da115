"""Filing and working cases: forms, visibility between reporters, workflow, timeline, right of reply."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from investigations.extensions import db
from investigations.models import AuditEvent, Business, Case, TimelineEntry
from tests.conftest import case_form, file_case


def get_case(reference) -> Case:
    return db.session.scalar(select(Case).where(Case.reference == reference))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def move(client, reference, status, **extra):
    return client.post(f"/cases/{reference}/status", data={"status": status, **extra})


def test_reporter_files_a_case_against_a_new_business(login, users):
    client = login("rita")
    response = client.post("/cases/new", data=case_form(), follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"Case C-{date.today().year}-00001 filed." in page
    assert "Acme Appliances Inc. is a new business in the archive." in page
    case = get_case(f"C-{date.today().year}-00001")
    assert case.business.name == "Acme Appliances Inc."
    assert case.created_by == users["rita"] and case.assigned_to == users["rita"]
    assert str(case.amount_in_dispute) == "499.99" and case.currency == "USD"
    assert case.tag_names == ["refund", "washer"]
    assert case.status == "new"
    assert [entry.kind for entry in case.timeline] == ["created"]


def test_references_count_up(login):
    client = login("rita")
    refs = [file_case(client) for _ in range(3)]
    year = date.today().year
    assert refs == [f"C-{year}-00001", f"C-{year}-00002", f"C-{year}-00003"]


def test_the_case_appears_in_the_list_and_opens(login):
    client = login("rita")
    reference = file_case(client, title="Gym keeps charging after cancellation")
    listing = client.get("/cases/").get_data(as_text=True)
    assert reference in listing and "Gym keeps charging after cancellation" in listing
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Gym keeps charging after cancellation" in page
    assert "The machine leaked on first use" in page


def test_picking_an_existing_business_reuses_it(login):
    client = login("rita")
    first = file_case(client, business_name="Acme Appliances Inc.")
    second = file_case(client, business_name="ACME APPLIANCES")
    assert count(Business) == 1
    assert get_case(first).business_id == get_case(second).business_id


@pytest.mark.parametrize("field,value,message", [
    ("title", "", "This field is required."),
    ("business_name", "   ", "This field is required."),
    ("complainant_email", "not-an-email", "Invalid email address."),
    ("amount_in_dispute", "-5", "Enter an amount of zero or more."),
    ("amount_in_dispute", "lots", "Not a valid decimal value."),
    ("date_received", (date.today() + timedelta(days=3)).isoformat(), "This date is in the future."),
    ("date_received", "0202-05-01", "This date is before 1970: check the year."),
    ("category", "no-such-category", "Not a valid choice."),
    ("complainant_phone", "<script>", "Use digits, spaces and + ( ) - only."),
])
def test_an_invalid_form_saves_nothing(login, field, value, message):
    client = login("rita")
    response = client.post("/cases/new", data=case_form(**{field: value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and message in page
    assert count(Case) == 0 and count(Business) == 0 and count(TimelineEntry) == 0


def test_a_reporter_cannot_open_edit_or_list_another_reporters_case(login):
    reference = file_case(login("rob"), title="Rob's confidential lead")
    rita = login("rita")
    for url in (f"/cases/{reference}", f"/cases/{reference}/edit", f"/cases/{reference}/complainant"):
        response = rita.get(url)
        assert response.status_code == 404
        assert b"Rob's confidential lead" not in response.data and b"Carla" not in response.data
    for url, data in ((f"/cases/{reference}/edit", case_form(title="Hijacked")),
                      (f"/cases/{reference}/notes", {"kind": "note", "body": "sneaky"}),
                      (f"/cases/{reference}/status", {"status": "investigating"})):
        assert rita.post(url, data=data).status_code == 404
    assert get_case(reference).title == "Rob's confidential lead"
    assert get_case(reference).status == "new"
    assert len(get_case(reference).timeline) == 1
    listing = rita.get("/cases/").get_data(as_text=True)
    assert reference not in listing and "Rob's confidential lead" not in listing
    # Nor through the business page.
    business_page = rita.get(f"/businesses/{get_case(reference).business.slug}").get_data(as_text=True)
    assert reference not in business_page


def test_an_editor_sees_and_edits_every_case(login):
    reference = file_case(login("rob"), title="Rob's lead")
    eve = login("eve")
    assert reference in eve.get("/cases/").get_data(as_text=True)
    assert eve.get(f"/cases/{reference}").status_code == 200
    response = eve.post(f"/cases/{reference}/edit", data=case_form(title="Rob's lead, checked by Eve"))
    assert response.status_code == 302
    assert get_case(reference).title == "Rob's lead, checked by Eve"


def test_an_assigned_reporter_sees_the_case(login, users):
    reference = file_case(login("eve"), title="Editor's case")
    rita = login("rita")
    assert rita.get(f"/cases/{reference}").status_code == 404
    login("eve").post(f"/cases/{reference}/assign", data={"assignee": str(users["rita"].id)})
    assert rita.get(f"/cases/{reference}").status_code == 200
    assert reference in rita.get("/cases/").get_data(as_text=True)


def test_editing_records_the_changed_fields(login):
    client = login("rita")
    reference = file_case(client)
    client.post(f"/cases/{reference}/edit", data=case_form(title="A new title", tags="warranty"))
    case = get_case(reference)
    assert case.title == "A new title" and case.tag_names == ["warranty"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.update")).one()
    assert '"title"' in event.details and '"tags"' in event.details
    assert "Carla" not in event.details  # values of confidential fields never go into the audit details


def test_timeline_notes(login):
    client = login("rita")
    reference = file_case(client)
    response = client.post(f"/cases/{reference}/notes",
                           data={"kind": "call", "body": "Spoke to the store manager.",
                                 "occurred_at": "2026-11-02T10:30"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Spoke to the store manager." in page and "Call" in page
    entry = db.session.scalars(select(TimelineEntry).where(TimelineEntry.kind == "call")).one()
    assert entry.occurred_at.isoformat() == "2026-11-02T10:30:00"
    assert entry.author.email == "rita@example.org"
    # An empty note is refused and adds nothing.
    response = client.post(f"/cases/{reference}/notes", data={"kind": "note", "body": ""})
    assert response.status_code == 400
    assert count(TimelineEntry) == 2


def test_the_workflow_moves_a_case_through_the_investigation(login):
    rita = login("rita")
    reference = file_case(rita)
    assert move(rita, reference, "investigating").status_code == 302
    assert move(rita, reference, "awaiting_response").status_code == 302
    case = get_case(reference)
    assert case.status == "awaiting_response"
    assert case.response_requested_on == date.today()
    assert case.response_due_on == date.today() + timedelta(days=30)
    assert move(rita, reference, "resolved").status_code == 400  # resolving asks for the outcome
    assert move(rita, reference, "resolved", **{"resolved-kind": "refund",
                                                "resolved-outcome_on": date.today().isoformat()}).status_code == 302
    assert move(login("eve"), reference, "published").status_code == 302
    statuses = [entry.body for entry in get_case(reference).timeline if entry.kind == "status"]
    assert statuses[0].startswith("Status changed from Resolved to Published.")
    assert len(statuses) == 4
    actions = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "case.status")).all()
    assert len(actions) == 4


def test_a_disallowed_move_is_refused(login):
    rita = login("rita")
    reference = file_case(rita)
    response = move(rita, reference, "awaiting_response")  # new cases are investigated first
    assert response.status_code == 409
    assert "cannot move to awaiting business response" in response.get_data(as_text=True)
    response = move(rita, reference, "no-such-status")
    assert response.status_code == 400
    assert get_case(reference).status == "new"
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status")).all()


@pytest.mark.parametrize("target", ["published", "closed"])
def test_publishing_and_closing_are_editors_moves(login, target):
    rita = login("rita")
    reference = file_case(rita)
    move(rita, reference, "investigating")
    response = move(rita, reference, target)
    assert response.status_code == 403
    assert "Only editors" in response.get_data(as_text=True)
    assert get_case(reference).status == "investigating"
    assert move(login("eve"), reference, target, comment="The complainant withdrew").status_code == 302
    assert get_case(reference).status == target


def test_the_case_page_only_offers_allowed_moves(login):
    rita = login("rita")
    reference = file_case(rita)
    move(rita, reference, "investigating")
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Mark as asked for a response" in page and "Mark resolved" in page
    assert "Publish" not in page
    assert "Publish" in login("eve").get(f"/cases/{reference}").get_data(as_text=True)


def test_assignment_writes_timeline_and_audit(login, users):
    reference = file_case(login("rita"))
    eve = login("eve")
    response = eve.post(f"/cases/{reference}/assign", data={"assignee": str(users["rob"].id)})
    assert response.status_code == 302
    case = get_case(reference)
    assert case.assigned_to == users["rob"]
    assert case.timeline[0].kind == "assignment" and case.timeline[0].body == "Assigned to Rob Reporter."
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.assign")).one()
    assert event.actor_label == "eve@example.org" and event.object_id == reference
    # Reporters cannot assign.
    assert login("rita").post(f"/cases/{reference}/assign", data={"assignee": ""}).status_code == 403
    assert get_case(reference).assigned_to == users["rob"]


def test_right_of_reply_clock_flags_an_overdue_case(login, app):
    rita = login("rita")
    reference = file_case(rita, title="Waiting for an answer")
    other = file_case(rita, title="Still within the deadline")
    for ref in (reference, other):
        move(rita, ref, "investigating")
        move(rita, ref, "awaiting_response")
    case = get_case(reference)
    case.response_requested_on = date.today() - timedelta(days=31)
    case.response_due_on = date.today() - timedelta(days=1)
    db.session.commit()

    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "right of reply ran out" in page
    assert "right of reply ran out" not in rita.get(f"/cases/{other}").get_data(as_text=True)
    overdue_list = rita.get("/cases/?overdue=y").get_data(as_text=True)
    assert "Waiting for an answer" in overdue_list and "Still within the deadline" not in overdue_list
    assert "Reply overdue" in rita.get("/cases/").get_data(as_text=True)

    # Recording the business's response stops the clock.
    rita.post(f"/cases/{reference}/response", data={"response": "We will refund.",
                                                    "received_on": date.today().isoformat()})
    assert "right of reply ran out" not in rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert get_case(reference).business_response == "We will refund."


def test_right_of_reply_days_are_configurable(app_factory, users, password_hash):
    app = app_factory(RIGHT_OF_REPLY_DAYS=14)
    client = app.test_client()
    client.post("/login", data={"email": "rita@example.org", "password": "correct horse battery staple"})
    reference = file_case(client)
    move(client, reference, "investigating")
    move(client, reference, "awaiting_response")
    with app.app_context():
        assert get_case(reference).response_due_on == date.today() + timedelta(days=14)


def test_complainant_details_are_hidden_until_asked_and_every_view_is_audited(login):
    rita = login("rita")
    reference = file_case(rita)
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "carla@example.net" not in page and "Carla Complainant" not in page
    page = rita.get(f"/cases/{reference}/complainant").get_data(as_text=True)
    assert "carla@example.net" in page and "Carla Complainant" in page
    rita.get(f"/cases/{reference}/edit")  # the edit form shows them too
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.complainant_view")).all()
    assert [v.object_id for v in views] == [reference, reference]
    assert {v.actor_label for v in views} == {"rita@example.org"}


def test_case_list_filters(login):
    rita = login("rita")
    file_case(rita, title="Washer refund", category="refund", business_name="Acme")
    file_case(rita, title="Broken warranty", category="warranty", business_name="Globex")
    reference = file_case(rita, title="Another Globex case", category="refund", business_name="Globex Corp.")
    move(rita, reference, "investigating")

    def titles(query):
        page = rita.get("/cases/?" + query).get_data(as_text=True)
        return {t for t in ("Washer refund", "Broken warranty", "Another Globex case") if t in page}

    assert titles("category=refund") == {"Washer refund", "Another Globex case"}
    assert titles("business=globex") == {"Broken warranty", "Another Globex case"}
    assert titles("status=investigating") == {"Another Globex case"}
    assert titles("business=Nobody+Inc") == set()
    assert rita.get("/cases/?status=bogus&assignee=x&page=-3").status_code == 200


def test_case_list_paginates(app_factory, users):
    app = app_factory(CASES_PER_PAGE=2)
    client = app.test_client()
    client.post("/login", data={"email": "rita@example.org", "password": "correct horse battery staple"})
    refs = [file_case(client, title=f"Case number {i}") for i in range(5)]
    client.get("/cases/")  # shows and clears the "filed" messages

    def linked(ref, page):
        return f'href="/cases/{ref}"' in page

    first = client.get("/cases/").get_data(as_text=True)
    assert "Page 1 of 3" in first and linked(refs[-1], first) and not linked(refs[0], first)
    last = client.get("/cases/?page=3").get_data(as_text=True)
    assert linked(refs[0], last)
    assert client.get("/cases/?page=99").status_code == 200
    assert client.get("/cases/?page=abc").status_code == 200


def test_an_unknown_case_is_404_in_the_layout(login):
    response = login("eve").get("/cases/C-1999-99999")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
