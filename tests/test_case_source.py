"""Where a case came from: its source and the source's own ID (the CFPB's Complaint ID), the CFPB's own
fields as fields, on the case page, in the API and the exports, as list filters and search facets."""
import csv
import importlib.util
import io
import json
import re
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from investigations.extensions import db
from investigations.imports.cfpb import CfpbMapper
from investigations.imports.reader import CsvFile
from investigations.models import Case
from tests.conftest import file_case, make_app

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
MIGRATION = Path(__file__).parent.parent / "migrations" / "versions" / "0016_case_source.py"


def cfpb(runner, name="cfpb_18.csv"):
    result = runner.invoke(args=["import", "cfpb", str(FIXTURES / name), "--as", "eve@example.org"])
    assert result.exit_code == 0, result.output
    return result


def complaint(complaint_id: str) -> Case:
    return db.session.scalar(select(Case).where(Case.source == "cfpb", Case.source_id == complaint_id))


# --- Imports ----------------------------------------------------------------------------------

def test_a_cfpb_import_keeps_the_complaint_id_and_the_cfpbs_fields(runner, users):
    cfpb(runner)
    first = complaint("1000001")
    assert (first.source, first.source_id, first.source_label) == ("cfpb", "1000001", "CFPB Consumer Complaint Database")
    assert first.source_url == "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/1000001"
    assert first.product == "Credit reporting, credit repair services, or other personal consumer reports"
    assert (first.sub_product, first.issue, first.sub_issue) == (
        "Credit reporting", "Incorrect information on your report", "Information belongs to someone else")
    assert (first.company_response, first.timely_response, first.consumer_disputed) == (
        "Closed with explanation", True, None)  # "Consumer disputed?" was N/A
    assert (first.submitted_via, first.consumer_state, first.consumer_zip) == ("Web", "GA", "30303")

    debt = complaint("1000002")
    assert (debt.product, debt.sub_product) == ("Debt collection", "I do not know")
    assert (debt.consumer_disputed, debt.submitted_via, debt.consumer_zip) == (False, "Phone", "750XX")


def test_the_current_16_column_layout_has_no_disputed_column(runner, users):
    cfpb(runner, "cfpb_16.csv")
    cases = db.session.scalars(select(Case)).all()
    assert cases and all(case.source == "cfpb" and case.source_id for case in cases)
    assert all(case.consumer_disputed is None for case in cases)


def test_a_csv_import_is_source_csv_with_its_external_id(runner, users):
    result = runner.invoke(args=[
        "import", "csv", str(FIXTURES / "generic.csv"), "--as", "eve@example.org", "--map", "title=Subject",
        "--map", "narrative=Story", "--map", "business=Company", "--map", "date_received=Date",
        "--map", "external_id=Ref"])
    assert result.exit_code == 0, result.output
    gym = db.session.scalar(select(Case).where(Case.source_id == "GYM-1"))
    assert gym.source == "csv" and gym.source_url is None and gym.product is None
    # the same ID from another source is another complaint
    assert db.session.scalar(select(sa.func.count()).select_from(Case).where(Case.source != "csv")) == 0


def test_a_case_filed_by_staff_is_source_staff(login):
    reference = file_case(login("rita"))
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert (case.source, case.source_id, case.source_label) == ("staff", None, "Entered by staff")


# --- The case page, the list, the exports and the API -----------------------------------------

CFPB_RECORD = "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/1000002"


def test_the_case_page_shows_the_source_its_id_the_public_record_and_the_cfpbs_fields(runner, login):
    cfpb(runner)
    page = login("eve").get(f"/cases/{complaint('1000002').reference}").get_data(as_text=True)
    source = re.search(r'<dd id="case-source">(.*?)</dd>', page, re.S).group(1)
    assert "CFPB Consumer Complaint Database" in source and "Complaint ID <strong>1000002</strong>" in source
    assert f'<a href="{CFPB_RECORD}" rel="external noopener noreferrer"' in source
    details = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Product Debt collection — I do not know" in details
    assert "Issue Attempts to collect debt not owed — Debt was paid" in details
    assert "Company response Closed with non-monetary relief" in details
    assert "Timely response Yes" in details and "Consumer disputed No" in details
    assert "Submitted via Phone" in details and "Consumer’s state TX, ZIP 750XX" in details
    assert 'href="/cases/?status=all&amp;product=Debt+collection"' in page  # the list of the same product


def test_a_staff_case_page_shows_its_source_without_the_cfpb_fields(login):
    eve = login("eve")
    page = eve.get(f"/cases/{file_case(eve)}").get_data(as_text=True)
    assert re.search(r'<dd id="case-source"><a [^>]*>Entered by staff</a></dd>', page)
    assert "<dt>Product</dt>" not in page and "consumerfinance.gov" not in page


def listed(client, **filters) -> set[str]:
    page = client.get("/cases/", query_string={"status": "all", **filters}).get_data(as_text=True)
    return set(re.findall(r'href="/cases/(C-\d{4}-\d{5})"', page))


def test_the_case_list_filters_by_source_product_issue_and_company_response(runner, login):
    cfpb(runner)
    eve = login("eve")
    own = file_case(eve, title="Kettle exploded")
    ref = {cid: complaint(cid).reference for cid in ("1000001", "1000002", "1000003", "1000004")}
    assert listed(eve, source="cfpb") == set(ref.values())
    assert listed(eve, source="staff") == {own}
    assert listed(eve, product="debt collection") == {ref["1000002"]}  # any part, any case
    assert listed(eve, issue="Struggling to pay your loan") == {ref["1000004"]}
    assert listed(eve, company_response="closed with") == {ref["1000001"], ref["1000002"], ref["1000004"]}
    assert listed(eve, source="staff", company_response="closed") == set()
    page = eve.get("/cases/", query_string={"source": "cfpb"}).get_data(as_text=True)
    assert re.search(r'<details class="source-filters" open>', page)
    assert eve.get("/cases/", query_string={"source": "fax"}).status_code == 200  # an unknown source: no 500
    assert eve.get("/cases/", query_string={"product": "x" * 5000}).status_code == 200


def test_csv_and_json_exports_carry_the_source_and_the_cfpbs_fields(runner, login):
    cfpb(runner)
    eve = login("eve")
    rows = list(csv.DictReader(io.StringIO(eve.get("/cases/export.csv", query_string={
        "status": "all", "source": "cfpb", "product": "debt"}).get_data(as_text=True))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["source"], row["source_id"], row["source_url"]) == ("cfpb", "1000002", CFPB_RECORD)
    assert (row["product"], row["sub_product"], row["issue"]) == (
        "Debt collection", "I do not know", "Attempts to collect debt not owed")
    assert (row["company_response"], row["timely_response"], row["consumer_disputed"]) == (
        "Closed with non-monetary relief", "yes", "no")
    assert (row["submitted_via"], row["consumer_state"], row["consumer_zip"]) == ("Phone", "TX", "750XX")
    document = json.loads(eve.get("/cases/export.json", query_string={"status": "all"}).get_data(as_text=True))
    first = next(case for case in document["cases"] if case["source_id"] == "1000001")
    assert first["source"] == "cfpb" and first["timely_response"] is True and first["consumer_disputed"] is None


def test_the_apis_case_of_an_imported_complaint_shows_its_complaint_id(runner, users, app):
    from investigations.api.tokens import create_token

    cfpb(runner)
    _, secret = create_token(users["eve"], "test token")
    db.session.commit()
    client = app.test_client()

    def get(path, **query):
        response = client.get(f"/api/v1{path}", query_string=query, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    reference = complaint("1000002").reference
    body = get(f"/cases/{reference}")
    assert (body["source"], body["source_label"], body["source_id"], body["source_url"]) == (
        "cfpb", "CFPB Consumer Complaint Database", "1000002", CFPB_RECORD)
    assert (body["product"], body["issue"], body["company_response"], body["consumer_disputed"]) == (
        "Debt collection", "Attempts to collect debt not owed", "Closed with non-monetary relief", False)
    assert (body["consumer_state"], body["consumer_zip"], body["submitted_via"]) == ("TX", "750XX", "Phone")
    assert [(item["reference"], item["source"], item["source_id"]) for item in get(
        "/cases", source="cfpb", source_id="1000002")["items"]] == [(reference, "cfpb", "1000002")]
    assert get("/cases", source="csv", source_id="1000002")["items"] == []
    found = get("/search", q="1000002")
    assert [hit["reference"] for hit in found["hits"]] == [reference]
    facets = get("/search", q="", source="cfpb")["facets"]
    assert {value["value"]: value["count"] for value in facets["source"]} == {"cfpb": 4}
    assert {"label": "Debt collection", "value": "Debt collection", "count": 1} in facets["product"]


# --- The migration ----------------------------------------------------------------------------

def _old_import() -> dict:
    """What the import of revision 0015 wrote for a CFPB row: the parsed case without the new fields."""
    with open(FIXTURES / "cfpb_18.csv", "rb") as stream, CsvFile(stream) as csv_file:
        mapper = CfpbMapper()
        mapper.bind(csv_file.header)
        rows = {values[-1]: mapper.parse(values, line) for line, values in csv_file.rows()}
    return rows


def test_the_migration_fills_source_and_the_cfpb_fields_from_what_imports_wrote(tmp_path):
    """0015 -> 0016 on a database with cases imported before: source_ref becomes source and source_id, and
    the CFPB's fields come back from the title, narrative, business response, address and first timeline
    entry; downgrading puts source_ref back."""
    app = make_app(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    parsed = _old_import()
    with app.app_context():
        upgrade(revision="0015")
        now = "2026-01-02 03:04:05"
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, email, display_name, role, password_hash, active, must_change_password, "
                "session_version, created_at, failed_logins) VALUES (1, 'e@x.org', 'E', 'editor', 'x', :t, :f, 1, "
                ":now, 0)"), {"now": now, "t": True, "f": False})
            conn.execute(sa.text("INSERT INTO businesses (id, name, normalized_name, slug, created_at, updated_at) "
                                 "VALUES (1, 'B', 'b', 'b', :now, :now)"), {"now": now})

            def insert(case_id, source_ref, received_via="import", row=None, title="T", narrative="N"):
                conn.execute(sa.text(
                    "INSERT INTO cases (id, reference, title, narrative, category, status, business_id, "
                    "complainant_name, complainant_address, consent_to_publish, currency, date_received, "
                    "received_via, created_by_id, created_at, updated_at, source_ref, business_response) "
                    "VALUES (:id, :ref, :title, :narrative, 'other', 'new', 1, 'X', :address, :f, 'USD', "
                    "'2023-04-05', :via, 1, :now, :now, :source_ref, :response)"),
                    {"id": case_id, "ref": f"C-2026-{case_id:05d}", "title": row.title if row else title,
                     "narrative": row.narrative if row else narrative, "via": received_via, "now": now,
                     "address": row.complainant_address if row else None, "source_ref": source_ref,
                     "response": row.business_response if row else None, "f": False})
                if row:
                    conn.execute(sa.text(
                        "INSERT INTO timeline_entries (case_id, kind, body, internal, occurred_at, created_at) "
                        "VALUES (:id, 'created', :body, :f, :now, :now)"),
                        {"id": case_id, "body": row.timeline_body, "now": now, "f": False})

            insert(1, "cfpb:1000001", row=parsed["1000001"])
            insert(2, "cfpb:1000002", row=parsed["1000002"])
            insert(3, "csv:GYM-1")
            insert(4, None)  # a CSV row without an external ID
            insert(5, None, received_via="phone")  # typed in by a reporter

        upgrade(revision="0016")
        with db.engine.connect() as conn:
            rows = {row.id: row for row in conn.execute(sa.text("SELECT * FROM cases ORDER BY id"))}
        assert [(rows[n].source, rows[n].source_id) for n in range(1, 6)] == [
            ("cfpb", "1000001"), ("cfpb", "1000002"), ("csv", "GYM-1"), ("csv", None), ("staff", None)]
        first, debt = rows[1], rows[2]
        assert (first.issue, first.sub_issue) == ("Incorrect information on your report",
                                                  "Information belongs to someone else")
        assert first.product is None  # a published narrative does not repeat the product
        assert (first.company_response, first.timely_response, first.consumer_disputed) == (
            "Closed with explanation", True, None)
        assert (first.submitted_via, first.consumer_state, first.consumer_zip) == ("Web", "GA", "30303")
        assert (debt.product, debt.sub_product) == ("Debt collection", "I do not know")
        assert (debt.consumer_disputed, debt.submitted_via, debt.consumer_zip) == (False, "Phone", "750XX")
        assert rows[3].product is None and rows[5].submitted_via is None

        downgrade(revision="0015")
        with db.engine.connect() as conn:
            refs = conn.execute(sa.text("SELECT source_ref FROM cases ORDER BY id")).scalars().all()
        assert refs == ["cfpb:1000001", "cfpb:1000002", "csv:GYM-1", None, None]
        db.engine.dispose()


def test_the_migration_reads_a_case_still_waiting_for_the_company():
    spec = importlib.util.spec_from_file_location("migration_0016", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    values = migration.cfpb_fields(
        "Managing an account", "My bank froze my account.", None, "NY",
        "Imported from the CFPB Consumer Complaint Database, complaint 42, submitted via Referral. "
        "Company response to consumer: In progress.")
    assert values == {"issue": "Managing an account", "sub_issue": None, "product": None, "sub_product": None,
                      "company_response": "In progress", "timely_response": None, "consumer_disputed": None,
                      "submitted_via": "Referral", "consumer_state": "NY", "consumer_zip": None}
