"""Merging a duplicate case into another, and a duplicate business record into another."""
import io
import re

from sqlalchemy import select

from investigations.api.tokens import create_token
from investigations.businesses.services import find_business
from investigations.extensions import db
from investigations.models import AuditEvent, Business, Case, Evidence
from tests import evidence_files
from tests.conftest import file_case
from tests.test_api import Api


def found_references(client, q: str) -> set[str]:
    page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    return set(re.findall(r'href="/cases/(C-\d{4}-\d{5})[?"]', page))


def case(reference: str) -> Case:
    return db.session.scalar(select(Case).where(Case.reference == reference))


def test_a_merged_case_brings_its_timeline_evidence_and_tags_and_its_address_leads_there(login):
    rob, eve = login("rob"), login("eve")
    keep = file_case(rob, title="Washer leaked, refund refused", tags="refund")
    dup = file_case(rob, title="Leaking washer: Acme refuses refund", tags="washer, flood")
    rob.post(f"/cases/{dup}/notes", data={"kind": "call", "body": "Called the store manager about the flood"})
    rob.post(f"/cases/{dup}/evidence", data={"files": [(io.BytesIO(evidence_files.jpeg()), "receipt.jpg")]},
             content_type="multipart/form-data")

    response = eve.post(f"/cases/{dup}/merge", data={"survivor": keep.lower()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{keep}")

    survivor = case(keep)
    assert {"refund", "washer", "flood"} <= set(survivor.tag_names)
    assert [item.original_name for item in survivor.evidence] == ["receipt.jpg"]
    assert any("store manager" in entry.body for entry in survivor.timeline)
    page = eve.get(f"/cases/{keep}").get_data(as_text=True)
    assert "receipt.jpg" in page and "store manager" in page and f"{dup} (" in page

    # The duplicate's address leads to the surviving case, for its reporter too.
    response = rob.get(f"/cases/{dup}")
    assert response.status_code == 302 and f"/cases/{keep}" in response.headers["Location"]
    assert f"{dup} was merged into this case" in rob.get(f"/cases/{dup}", follow_redirects=True).get_data(as_text=True)
    assert case(dup).merged_into_id == survivor.id and case(dup).status == "closed"

    # Gone from the list and from search; the evidence is still downloadable where it now lives.
    listing = eve.get("/cases/").get_data(as_text=True)
    assert keep in listing and dup not in listing
    assert found_references(eve, "leaking OR leaked") == {keep}
    evidence_id = db.session.scalar(select(Evidence.id))
    assert eve.get(f"/evidence/{evidence_id}/download").status_code == 200

    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"case.merge", "evidence.move"} <= actions


def test_changes_to_a_merged_case_are_refused(login):
    eve = login("eve")
    keep, dup = file_case(eve, title="Keep"), file_case(eve, title="Duplicate")
    eve.post(f"/cases/{dup}/merge", data={"survivor": keep})
    response = eve.post(f"/cases/{dup}/notes", data={"kind": "note", "body": "late note"})
    assert response.status_code == 409
    assert keep in response.get_data(as_text=True)
    assert not any(entry.body == "late note" for entry in case(keep).timeline + case(dup).timeline)


def test_the_api_sends_a_merged_case_to_the_survivor_and_hides_a_survivor_the_caller_may_not_see(app, users, login):
    eve, rob = login("eve"), login("rob")
    keep, dup = file_case(eve, title="Keep"), file_case(eve, title="Duplicate")
    eve.post(f"/cases/{dup}/merge", data={"survivor": keep})
    editor = Api(app, create_token(users["eve"], "test")[1])
    db.session.commit()
    response = editor.get(f"/cases/{dup}/timeline", query_string={"page": 1})
    assert response.status_code == 308 and response.headers["Location"].endswith(f"/api/v1/cases/{keep}/timeline?page=1")
    response = editor.post(f"/cases/{dup}/timeline", json={"body": "late note"})
    assert response.status_code == 409 and keep in response.json["detail"]

    # Rob filed a case that an editor merged into one of Eve's: its reference is not Rob's to learn.
    robs = file_case(rob, title="Rob's duplicate")
    eve.post(f"/cases/{robs}/merge", data={"survivor": keep})
    assert rob.get(f"/cases/{robs}").status_code == 404
    reporter = Api(app, create_token(users["rob"], "test")[1])
    db.session.commit()
    for response in (reporter.get(f"/cases/{robs}"), reporter.post(f"/cases/{robs}/timeline", json={"body": "x"})):
        assert response.status_code == 404 and keep not in response.get_data(as_text=True)


def test_impossible_merges_explain_themselves_and_change_nothing(login):
    eve = login("eve")
    first, second, third = (file_case(eve, title=t) for t in ("First", "Second", "Third"))
    for target, message in [(first, "cannot be merged into itself"), ("C-1999-00001", "There is no case C-1999-00001")]:
        response = eve.post(f"/cases/{first}/merge", data={"survivor": target})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    eve.post(f"/cases/{second}/merge", data={"survivor": first})
    response = eve.post(f"/cases/{third}/merge", data={"survivor": second})
    assert response.status_code == 422 and "already merged" in response.get_data(as_text=True)
    assert case(third).merged_into_id is None


def test_reporters_cannot_merge(login):
    rob = login("rob")
    keep, dup = file_case(rob, title="Keep"), file_case(rob, title="Duplicate")
    assert rob.post(f"/cases/{dup}/merge", data={"survivor": keep}).status_code == 403
    assert case(dup).merged_into_id is None


def test_merging_businesses_moves_cases_keeps_names_as_aliases_and_updates_search(login):
    eve = login("eve")
    kept = file_case(eve, business_name="Acme Appliances Inc.", title="Washer leaked")
    moved = file_case(eve, business_name="ACME Home Appliance Store", title="Dryer burned")
    duplicate = find_business("ACME Home Appliance Store")
    duplicate_slug = duplicate.slug
    eve.post(f"/businesses/{duplicate_slug}/edit", data={"name": "ACME Home Appliance Store",
                                                          "aliases": "Acme Outlet"})

    response = eve.post(f"/businesses/{duplicate_slug}/merge", data={"survivor": "acme appliances"})
    assert response.status_code == 302

    survivor = find_business("Acme Appliances")
    assert case(moved).business_id == survivor.id
    assert {"ACME Home Appliance Store", "Acme Outlet"} <= set(survivor.alias_names)
    # The old names still find the surviving business, and a new case filed under one lands there.
    assert find_business("Acme Outlet").id == survivor.id
    newer = file_case(eve, business_name="ACME Home Appliance Store", title="Fridge warm")
    assert case(newer).business_id == survivor.id
    # The duplicate's page leads to the survivor; the business list shows it once.
    response = eve.get(f"/businesses/{duplicate_slug}")
    assert response.status_code == 302 and survivor.slug in response.headers["Location"]
    listing = eve.get("/businesses/").get_data(as_text=True)
    assert "ACME Home Appliance Store</a>" not in listing
    # Search finds the moved case under the old name's alias.
    assert found_references(eve, 'business:"Acme Outlet"') >= {kept, moved}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "business.merge")) is not None
    assert db.session.scalar(select(Business).where(Business.slug == duplicate_slug)).merged_into_id == survivor.id
    # The survivor can take the duplicate's name as its own.
    response = eve.post(f"/businesses/{survivor.slug}/edit", data={"name": "ACME Home Appliance Store",
                                                                  "aliases": "Acme Outlet"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert find_business("Acme Appliances Inc.").name == "ACME Home Appliance Store"


def test_merging_a_business_into_itself_or_an_unknown_one_is_refused(login):
    eve = login("eve")
    file_case(eve, business_name="Globex Corporation")
    slug = find_business("Globex").slug
    for name, message in [("Globex", "cannot be merged into itself"), ("Nobody Ltd", "No business is called")]:
        response = eve.post(f"/businesses/{slug}/merge", data={"survivor": name})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
