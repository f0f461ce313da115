"""The case list people work through: open cases by default, sortable columns, titles as links,
partial business names with suggestions that hide nothing, deactivated assignees, and bulk
assignment and status changes for editors, audited case by case. Closing asks for a reason."""
import re

from sqlalchemy import select

from investigations.extensions import db
from investigations.models import AuditEvent, Case, TimelineEntry, User
from tests.conftest import file_case


def listed(page: str) -> list[str]:
    """The references of the list's rows, in order."""
    return re.findall(r'<td class="ref"><a href="/cases/(C-\d{4}-\d{5})"', page)


def get_case(reference: str) -> Case:
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.reference == reference))


def close(client, reference: str, reason: str = "The complainant withdrew"):
    client.post(f"/cases/{reference}/status", data={"status": "investigating"})
    return client.post(f"/cases/{reference}/status", data={"status": "closed", "comment": reason})


def test_the_list_shows_open_cases_with_closed_ones_one_click_away(login):
    eve = login("eve")
    open_one = file_case(eve, title="Still open")
    closed_one = file_case(eve, title="Long settled")
    assert close(eve, closed_one).status_code == 302

    page = eve.get("/cases/").get_data(as_text=True)
    assert listed(page) == [open_one]
    assert "1 open case." in page
    link = re.search(r'<a href="(/cases/\?status=all[^"]*)">Show closed ones too</a>', page)
    assert link, page
    everything = eve.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert set(listed(everything)) == {open_one, closed_one}
    assert listed(eve.get("/cases/?status=closed").get_data(as_text=True)) == [closed_one]


def test_titles_are_links_to_their_cases(login):
    rita = login("rita")
    reference = file_case(rita, title="Boiler never fitted")
    page = rita.get("/cases/").get_data(as_text=True)
    assert f'<a href="/cases/{reference}">Boiler never fitted</a>' in page


def test_columns_sort_both_ways_and_unknown_sorts_are_ignored(login):
    eve = login("eve")
    banana = file_case(eve, title="banana split refund", business_name="Zeta Foods")
    apple = file_case(eve, title="Apple pie never delivered", business_name="Alpha Bakery")
    cherry = file_case(eve, title="Cherry tart stale", business_name="Midway Sweets")
    assert listed(eve.get("/cases/").get_data(as_text=True)) == [cherry, apple, banana]  # newest first
    by_title = eve.get("/cases/?sort=title&dir=asc").get_data(as_text=True)
    assert listed(by_title) == [apple, banana, cherry]  # regardless of capitals
    assert 'aria-sort="ascending"' in by_title
    assert listed(eve.get("/cases/?sort=title&dir=desc").get_data(as_text=True)) == [cherry, banana, apple]
    assert listed(eve.get("/cases/?sort=business").get_data(as_text=True)) == [apple, cherry, banana]

    # Only the awaiting case has a reply due date; cases without one come last either way.
    eve.post(f"/cases/{banana}/status", data={"status": "investigating"})
    eve.post(f"/cases/{banana}/status", data={"status": "awaiting_response"})
    assert listed(eve.get("/cases/?sort=due&dir=asc").get_data(as_text=True))[0] == banana
    assert listed(eve.get("/cases/?sort=due&dir=desc").get_data(as_text=True))[0] == banana

    for odd in ("?sort=narrative", "?sort=title&dir=sideways", "?sort=%00", "?sort=title&status=nonsense"):
        assert eve.get("/cases/" + odd).status_code == 200, odd


def test_the_business_filter_finds_part_of_a_name_and_suggests_only_what_the_viewer_may_open(login):
    rita, rob, eve = login("rita"), login("rob"), login("eve")
    ritas = file_case(rita, business_name="Globex Corporation")
    robs = file_case(rob, business_name="Secretive Widgets Ltd")

    page = rita.get("/cases/?business=glob").get_data(as_text=True)
    assert listed(page) == [ritas]
    assert listed(rita.get("/cases/?business=GLOBEX%20corp.").get_data(as_text=True)) == [ritas]
    # Rita's suggestions name the businesses of her cases, never those of cases she cannot open.
    suggestions = re.search(r'<datalist id="business-suggestions">(.*?)</datalist>', page, re.S).group(1)
    assert "Globex Corporation" in suggestions and "Secretive Widgets" not in suggestions
    assert listed(rita.get("/cases/?business=secretive").get_data(as_text=True)) == []

    everything = eve.get("/cases/?business=e").get_data(as_text=True)
    assert set(listed(everything)) == {ritas, robs}
    assert "Secretive Widgets Ltd" in re.search(r'<datalist id="business-suggestions">(.*?)</datalist>',
                                                everything, re.S).group(1)
    for odd in ("%25", "_", "\\", "'; drop table cases; --", "x" * 5000):
        assert eve.get("/cases/", query_string={"business": odd}).status_code == 200


def test_the_assignee_filter_includes_people_who_were_deactivated(login, users):
    eve = login("eve")
    reference = file_case(eve, title="Rob's old case")
    file_case(eve, title="Someone else's")
    eve.post(f"/cases/{reference}/assign", data={"assignee": str(users["rob"].id)})
    rob = db.session.get(User, users["rob"].id)
    rob.active = False
    db.session.commit()

    page = eve.get("/cases/").get_data(as_text=True)
    assert f'<option value="{rob.id}">Rob Reporter (deactivated)</option>' in page
    assert listed(eve.get(f"/cases/?assignee={rob.id}").get_data(as_text=True)) == [reference]


def test_editors_bulk_assign_and_move_cases_each_change_audited_on_its_case(login, users):
    eve = login("eve")
    references = [file_case(eve, title=f"Bulk case {n}") for n in range(3)]
    response = eve.post("/cases/bulk", data={"case": references, "bulk-action": "assign",
                                             "bulk-assignee": str(users["rob"].id), "back": "?status=all"})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/?status=all"
    assert all(get_case(r).assigned_to_id == users["rob"].id for r in references)
    assigned = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.assign")).all()
    assert sorted(event.object_id for event in assigned) == sorted(references)

    response = eve.post("/cases/bulk", data={"case": references[:2], "bulk-action": "status",
                                             "bulk-status": "investigating"}, follow_redirects=True)
    assert "2 cases moved to investigating" in response.get_data(as_text=True)
    assert [get_case(r).status for r in references] == ["investigating", "investigating", "new"]
    moved = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status")).all()
    assert len(moved) == 2

    # A move the workflow does not allow leaves that case as it was, and says so.
    page = eve.post("/cases/bulk", data={"case": references, "bulk-action": "status",
                                         "bulk-status": "awaiting_response"},
                    follow_redirects=True).get_data(as_text=True)
    assert f"{references[2]} was not changed" in page
    assert get_case(references[2]).status == "new"

    # Closing asks for the reason, which each case keeps on its timeline.
    page = eve.post("/cases/bulk", data={"case": references[:2], "bulk-action": "status",
                                         "bulk-status": "closed"}, follow_redirects=True).get_data(as_text=True)
    assert "Say why the ticked cases are closed" in page
    assert get_case(references[0]).status == "awaiting_response"  # as the move before left it
    eve.post("/cases/bulk", data={"case": references[:2], "bulk-action": "status", "bulk-status": "closed",
                                  "bulk-reason": "Duplicates of a published story"})
    for reference in references[:2]:
        case = get_case(reference)
        assert case.status == "closed"
        assert any(entry.body == "Closed because: Duplicates of a published story" for entry in case.timeline)

    assert eve.post("/cases/bulk", data={"case": ["C-1999-99999"], "bulk-action": "assign",
                                         "bulk-assignee": ""}, follow_redirects=True).status_code == 200
    assert eve.post("/cases/bulk", data={"case": references, "bulk-action": "explode"}).status_code == 302


def test_reporters_cannot_change_cases_in_bulk(login, users):
    rita = login("rita")
    reference = file_case(rita)
    response = rita.post("/cases/bulk", data={"case": [reference], "bulk-action": "assign",
                                              "bulk-assignee": str(users["rob"].id)})
    assert response.status_code == 403
    assert get_case(reference).assigned_to_id == users["rita"].id
    assert 'id="bulk-form"' not in rita.get("/cases/").get_data(as_text=True)


def test_closing_a_case_asks_for_the_reason(login):
    eve = login("eve")
    reference = file_case(eve)
    eve.post(f"/cases/{reference}/status", data={"status": "investigating"})
    response = eve.post(f"/cases/{reference}/status", data={"status": "closed"})
    assert response.status_code == 400
    assert "Say why the case is closed" in response.get_data(as_text=True)
    assert get_case(reference).status == "investigating"
    response = eve.post(f"/cases/{reference}/status", data={"status": "closed", "comment": "Refunded in full"})
    assert response.status_code == 302
    entry = db.session.scalar(select(TimelineEntry).where(TimelineEntry.body == "Closed because: Refunded in full"))
    assert entry is not None and entry.internal


def test_the_new_case_form_says_before_filing_whether_the_business_is_new(login):
    rita = login("rita")
    file_case(rita, business_name="Acme Appliances Inc.")
    known = rita.get("/cases/new/business?name=ACME%20appliances").get_json()
    assert known == {"name": "ACME appliances", "known": "Acme Appliances Inc.", "new": False}
    fresh = rita.get("/cases/new/business?name=Brand%20New%20Traders").get_json()
    assert fresh["new"] is True and fresh["known"] is None
    assert rita.get("/cases/new/business").get_json()["new"] is False
    page = rita.get("/cases/new").get_data(as_text=True)
    assert 'data-business-check="/cases/new/business"' in page
    category = re.search(r'<select[^>]*name="category".*?</select>', page, re.S).group(0)
    assert re.search(r'<option[^>]*value=""[^>]*>Choose a category…</option>', category)
    assert "selected" not in category.replace('value="" selected', "").replace('selected value=""', "")
    refused = rita.post("/cases/new", data={"title": "x" * 10, "category": ""})
    assert refused.status_code == 200 and "Choose the category that fits" in refused.get_data(as_text=True)
