"""Exporting a filtered case list as CSV and JSON."""
import csv
import io
import json

from sqlalchemy import select

from investigations.extensions import db
from investigations.models import AuditEvent
from tests.conftest import file_case


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_follows_the_list_filters(login):
    eve = login("eve")
    refund = file_case(eve, title="Refund refused", category="refund")
    file_case(eve, title="Warranty ignored", category="warranty")
    response = eve.get("/cases/export.csv", query_string={"category": "refund"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert [row["reference"] for row in rows] == [refund]
    assert rows[0]["business"] == "Acme Appliances Inc." and rows[0]["tags"] == "refund, washer"
    assert "complainant_name" not in rows[0]


def test_json_export_lists_the_cases_a_reporter_may_see_and_nothing_else(login):
    rita, rob = login("rita"), login("rob")
    mine = file_case(rita, title="Rita's case")
    file_case(rob, title="Rob's case", business_name="Robs Only Business")
    response = rita.get("/cases/export.json")
    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert [case["reference"] for case in document["cases"]] == [mine]
    assert "Robs Only Business" not in response.get_data(as_text=True)


def test_complainant_details_only_for_editors_who_ask_and_audited(login):
    rita, eve = login("rita"), login("eve")
    file_case(rita, title="Rita's case")
    assert rita.get("/cases/export.csv", query_string={"complainant": "1"}).status_code == 403

    plain = eve.get("/cases/export.json").get_data(as_text=True)
    assert "carla@example.net" not in plain
    detailed = read_csv(eve.get("/cases/export.csv", query_string={"complainant": "1"}))
    assert detailed[0]["complainant_email"] == "carla@example.net"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cases.export")).all()
    assert [json.loads(event.details)["include_complainant"] for event in events] == [False, True]


def test_formula_like_text_is_defused_in_csv(login):
    eve = login("eve")
    file_case(eve, title="=HYPERLINK(\"http://evil.example\")")
    rows = read_csv(eve.get("/cases/export.csv"))
    assert rows[0]["title"].startswith("'=")


def test_the_case_list_offers_the_export_with_its_filters(login):
    eve = login("eve")
    file_case(eve, title="Refund refused", category="refund")
    page = eve.get("/cases/", query_string={"category": "refund"}).get_data(as_text=True)
    assert 'action="/cases/export.csv"' in page
    assert 'name="category" value="refund"' in page
