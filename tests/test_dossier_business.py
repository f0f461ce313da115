"""Business dossiers at any size: the editor's choice of cases, the pattern by issue, one line per
case, full text for a few; issued dossiers listed; the newsroom's own settings."""
import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from investigations.cases.services import CaseDetails, create_case
from investigations.extensions import db
from investigations.models import Case, CaseTag, Dossier
from tests.conftest import file_case
from tests.test_dossiers import flat, pdf_text


@pytest.fixture
def globex(users):
    """25 complaints against Globex, newest last: C-…-00001 oldest; issues on some, one answered."""
    today = date.today()
    for i in range(25):
        case, _ = create_case(CaseDetails.from_fields({
            "title": f"Complaint number {i:02d} by Dana Doe", "business_name": "Globex Corp",
            "narrative": f"Full narrative text {i:02d}.", "category": "billing" if i % 2 else "refund",
            "complainant_name": "Dana Doe", "date_received": today - timedelta(days=100 - i)}), users["rita"])
        if i < 10:
            case.issue, case.sub_issue = "Incorrect information on your report", "Account status incorrect"
        if i == 3:
            case.response_requested_on = today - timedelta(days=20)
            case.response_received_on = today - timedelta(days=16)
            case.status = "resolved"
    db.session.commit()
    return sorted(db.session.scalars(select(Case)).all(), key=lambda case: case.date_received)


def issue(client, **data):
    response = client.post("/businesses/globex-corp/dossier", data={"audience": "bbb", **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    dossier = db.session.scalars(select(Dossier).order_by(Dossier.id.desc())).first()
    assert dossier.state == "ready", dossier.error
    return dossier, client.get(f"/dossiers/{dossier.id}/download").data


def test_every_case_gets_a_line_and_only_the_newest_are_printed_in_full(globex, login):
    dossier, data = issue(login("eve"), full_count="5")
    text = flat(pdf_text(data))
    assert all(case.reference in text for case in globex)
    printed = [i for i in range(25) if f"Full narrative text {i:02d}." in text]
    assert printed == [20, 21, 22, 23, 24]
    assert "Dana" not in text  # identity withheld in the one-line titles too
    assert "25 cases: the complainant's name and contact details" in text  # said once, not 25 times
    assert text.count("no consent to be named") == 1


def test_the_pattern_breaks_down_by_issue_and_counts_responses(globex, login):
    _, data = issue(login("eve"))
    text = flat(pdf_text(data))
    assert "Incorrect information on your report 10" in text and "Account status incorrect 10" in text
    assert "No issue recorded 15" in text
    assert "Asked to respond 1 case" in text and "Answered 1 (100 %), in a median of 4 days" in text


def test_the_editor_picks_cases_by_date_status_category_and_tag(globex, login):
    eve = login("eve")
    tagged = globex[2]
    db.session.add(CaseTag(case_id=tagged.id, name="dossier"))
    db.session.commit()
    start = globex[10].date_received
    dossier, data = issue(eve, date_from=start.isoformat(), categories="refund", full_tag="Dossier")
    text = flat(pdf_text(data))
    chosen = [case for case in globex[10:] if case.category == "refund"]
    assert all(case.reference in text for case in chosen)
    assert globex[0].reference not in text and globex[11].reference not in text  # too early; billing
    assert "Full narrative text 02." not in text  # tagged, but before the date range
    assert "Printed in full: 0" in text
    _, data = issue(eve, full_tag="dossier", statuses=["new"])
    text = flat(pdf_text(data))
    assert "Full narrative text 02." in text and "Full narrative text 24." not in text
    assert globex[3].reference not in text  # resolved
    assert dossier.selection["categories"] == ["refund"]


def test_bad_choices_get_a_message_and_no_dossier(globex, login):
    eve = login("eve")
    page = eve.post("/businesses/globex-corp/dossier", data={"audience": "bbb", "date_from": "2026-05-01",
                                                              "date_to": "2026-01-01", "full_count": "many"})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "This date is before the “from” date." in body and "Not a valid integer value." in body
    page = eve.post("/businesses/globex-corp/dossier", data={"audience": "bbb", "date_from": "1999-01-01",
                                                              "date_to": "1999-02-01"})
    assert page.status_code == 200 and "No case matches what you chose" in page.get_data(as_text=True)
    assert db.session.scalars(select(Dossier)).all() == []


def test_the_export_page_previews_the_choice(globex, login):
    page = login("eve").post("/businesses/globex-corp/dossier", data={"audience": "bbb", "full_count": "3",
                                                                        "preview": "y"}).get_data(as_text=True)
    assert "25 chosen" in page and "the 3 most recent cases: 3 cases" in page
    assert "25 cases: the complainant&#39;s name and contact details" in page
    assert "22 other titles will print with words withheld" in page


def test_issued_dossiers_are_listed_with_recipient_and_can_be_downloaded_again(globex, login, users):
    eve = login("eve")
    dossier, data = issue(eve, recipient="BBB of Central Ohio")
    case_reference = file_case(login("rita"), business_name="Globex Corp")
    rita = login("rita")
    rita.post(f"/cases/{case_reference}/dossier", data={"audience": "news", "recipient": "The Dispatch"})
    listing = eve.get("/dossiers/").get_data(as_text=True)
    assert "BBB of Central Ohio" in listing and "The Dispatch" in listing and "Eve Editor" in listing
    assert f"/dossiers/{dossier.id}/download" in listing and f'href="/dossiers/{dossier.id}"' in listing
    assert "BBB of Central Ohio" in eve.get("/businesses/globex-corp").get_data(as_text=True)
    case_page = rita.get(f"/cases/{case_reference}").get_data(as_text=True)
    assert "The Dispatch" in case_page and "Rita Reporter" in case_page
    # A reporter lists only the dossiers of cases they may see: not the business dossier.
    assert "BBB of Central Ohio" not in rita.get("/dossiers/").get_data(as_text=True)
    assert login("rob").get("/dossiers/").get_data(as_text=True).count("/download") == 0
    assert eve.get(f"/dossiers/{dossier.id}/download").data == data  # exactly as issued
    assert "BBB of Central Ohio" in flat(pdf_text(data))  # on the cover


def test_an_admin_names_the_newsroom_first_and_dossiers_are_signed_with_it(login, users, app):
    ada = login("ada")
    response = ada.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/newsroom")
    page = ada.post("/admin/newsroom", data={"name": "", "paper_size": "A4", "timezone": "Mars/Olympus"})
    body = page.get_data(as_text=True)
    assert "Give the newsroom&#39;s name" in body and "Not a valid choice" in body
    ada.post("/admin/newsroom", data={"name": "The Dispatch", "paper_size": "letter", "timezone": "Europe/Berlin"})
    assert "/admin/newsroom" not in ada.get("/").headers.get("Location", "")
    assert login("rita").get("/admin/newsroom").status_code == 403
    reference = file_case(login("rita"))
    data = login("eve").post(f"/cases/{reference}/dossier", data={"audience": "bbb"}).data
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.author == "The Dispatch"
    assert round(float(reader.pages[0].mediabox.width)) == 612
    assert "CET" in flat(pdf_text(data)) or "CEST" in flat(pdf_text(data))
    from investigations.models import AuditEvent

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings.update"))
    assert event.actor_label == "ada@example.org" and "Europe/Berlin" in event.details
