"""Imports: the CFPB Consumer Complaint Database and any CSV file with a column mapping, from the
terminal and from the editors' forms; reports, re-imports, broken files, search."""
import hashlib
import io
import json
import os
import random
import re
import time
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from investigations.extensions import db
from investigations.imports import uploads
from investigations.imports.cfpb import category_for
from investigations.imports.reader import sniff
from investigations.models import AuditEvent, Business, Case, SearchQueueEntry
from investigations.search import get_backend
from tests.conftest import TEST_DATABASE_URL

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
YEAR = date.today().year
GENERIC_MAP = ["--map", "title=Subject", "--map", "narrative=Story", "--map", "business=Company",
               "--map", "date_received=Date", "--map", "complainant_email=Email", "--map", "external_id=Ref",
               "--map", "amount_in_dispute=Amount", "--map", "category=Kind", "--map", "tags=Labels"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def by_source(ref) -> Case:
    """The case of "cfpb:1000001": its source and the source's own ID."""
    source, source_id = ref.split(":", 1)
    return db.session.scalar(select(Case).where(Case.source == source, Case.source_id == source_id))


def import_events(action="import.cfpb") -> list[dict]:
    return [json.loads(details) for details in
            db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def cfpb(runner, path, *extra, who="eve@example.org"):
    path = path if isinstance(path, Path) else FIXTURES / path
    return runner.invoke(args=["import", "cfpb", str(path), "--as", who, *extra])


def search(client, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return set(re.findall(r'href="/cases/(C-\d{4}-\d{5})[?"]', page)), page


def upload(client, url, content: bytes, name="complaints.csv", **extra):
    return client.post(url, data={"file": (io.BytesIO(content), name), **extra}, content_type="multipart/form-data")


# --- CFPB -------------------------------------------------------------------------------------

def test_a_cfpb_file_becomes_cases_against_merged_businesses(runner, users):
    result = cfpb(runner, "cfpb_18.csv")
    assert result.exit_code == 0, result.output
    assert f"Imported 4 complaints from cfpb_18.csv as new cases (C-{YEAR}-00001 … C-{YEAR}-00004); " \
           "3 new businesses." in result.output
    assert "Skipped 0 already imported." in result.output and "Rejected 0 rows." in result.output

    first = by_source("cfpb:1000001")
    assert first.title == "Incorrect information on your report — Information belongs to someone else"
    assert first.category == "financial" and first.status == "new" and first.received_via == "import"
    assert first.narrative == ("A collection account that is not mine appears on my credit report.\n"
                               "I disputed it twice and it is still there.")
    assert first.date_received == date(2023, 4, 5)
    assert first.consent_to_publish is False  # "Consent provided" is consent to publish the narrative
    assert first.complainant_name == "CFPB complainant 1000001" and first.complainant_address == "GA 30303"
    assert first.tag_names == ["cfpb", "credit-reporting-credit-repair-services-or-other-personal",
                               "older american"]
    assert first.business_response == (
        "Company response to consumer: Closed with explanation\n"
        "Company public response: Company has responded to the consumer and the CFPB and chooses not to provide "
        "a public response\nTimely response: Yes")  # "Consumer disputed?" was N/A
    assert first.response_received_on == date(2023, 4, 5)
    assert first.created_by == users["eve"] and first.assigned_to is None
    assert [(entry.kind, entry.body) for entry in first.timeline] == [
        ("created", "Imported from the CFPB Consumer Complaint Database, complaint 1000001, submitted via Web. "
                    "The consumer agreed to the CFPB publishing the narrative.")]
    assert first.timeline[0].internal is False

    debt = by_source("cfpb:1000002")
    assert debt.category == "debt_collection" and debt.consent_to_publish is False
    assert debt.narrative == ("No narrative was published with this complaint. Product: Debt collection — I do not "
                              "know; Issue: Attempts to collect debt not owed — Debt was paid.")
    assert debt.tag_names == ["cfpb", "debt-collection", "servicemember"]
    assert debt.business.name == "Midland Credit Management, Inc."
    assert debt.business_response.endswith("Timely response: Yes\nConsumer disputed: No")
    assert debt.response_received_on == date(2023, 4, 7)

    card = by_source("cfpb:1000003")
    assert card.business_id == first.business_id  # "EQUIFAX, INC." and "Equifax Inc" are one business
    assert card.business.name == "EQUIFAX, INC."
    assert card.title == "Problem with a purchase shown on your statement"
    assert 'the "dispute" was refused' in card.narrative
    assert card.complainant_address is None
    assert {"older american", "servicemember", "cfpb"} <= set(card.tag_names)
    assert card.response_received_on is None  # "not a date": the response is kept, its date is not guessed

    car = by_source("cfpb:1000004")
    assert car.category == "auto" and car.consent_to_publish is False  # "Consent withdrawn"

    assert count(Case) == 4 and count(Business) == 3
    assert sorted(db.session.scalars(select(Case.reference))) == [f"C-{YEAR}-0000{n}" for n in range(1, 5)]
    # One audit event for the run (with the file's hash), none per case.
    [event] = import_events()
    digest = hashlib.sha256((FIXTURES / "cfpb_18.csv").read_bytes()).hexdigest()
    assert event["sha256"] == digest and event["file"] == "cfpb_18.csv"
    assert (event["imported"], event["skipped"], event["rejected"]) == (4, 0, 0)
    assert event["layout"] == "CFPB, 18 columns"
    assert not db.session.scalar(select(func.count()).where(AuditEvent.action == "case.create"))


def test_importing_the_same_file_again_adds_nothing(runner, users):
    assert cfpb(runner, "cfpb_18.csv").exit_code == 0
    again = cfpb(runner, "cfpb_18.csv")
    assert again.exit_code == 0, again.output
    assert "Imported 0 complaints from cfpb_18.csv as new cases." in again.output
    assert "Skipped 4 already imported." in again.output
    assert count(Case) == 4 and count(Business) == 3
    assert [(e["imported"], e["skipped"]) for e in import_events()] == [(4, 0), (0, 4)]


@pytest.mark.parametrize("name,layout,complaints", [
    ("cfpb_16.csv", "CFPB, 16 columns (current)", {"8100001": date(2024, 1, 15), "8100002": date(2024, 1, 16)}),
    ("cfpb_18.csv", "CFPB, 18 columns", {"1000001": date(2023, 4, 5), "1000004": date(2023, 4, 8)}),
    ("cfpb_19.csv", "CFPB, 19 columns (older, with Event tag)",
     {"1290001": date(2015, 3, 19), "1290002": date(2015, 3, 20)}),
])
def test_the_16_18_and_19_column_layouts_import(runner, users, name, layout, complaints):
    result = cfpb(runner, name)
    assert result.exit_code == 0, result.output
    assert "Rejected 0 rows." in result.output
    for complaint_id, received in complaints.items():
        assert by_source(f"cfpb:{complaint_id}").date_received == received
    assert import_events()[0]["layout"] == layout


def test_the_current_layout_maps_its_columns(runner, users):
    cfpb(runner, "cfpb_16.csv")
    bank = by_source("cfpb:8100001")
    assert bank.business.name == "WELLS FARGO & COMPANY" and bank.category == "financial"
    assert bank.consent_to_publish is False  # the layout has no consent column
    assert bank.response_received_on == date(2024, 1, 15)
    loan = by_source("cfpb:8100002")
    assert loan.business_response is None and loan.response_received_on is None
    assert loan.title == "Dealing with your lender or servicer — Trouble with how payments are being handled"


def test_a_bad_row_is_reported_with_its_line_and_the_others_are_imported(runner, users):
    result = cfpb(runner, "cfpb_bad_rows.csv")  # starts with a UTF-8 BOM
    assert result.exit_code == 0, result.output
    assert "Imported 3 complaints" in result.output
    assert "Rejected 4 rows:" in result.output
    assert "  line 3: missing Complaint ID" in result.output
    assert '  line 4: unreadable date "2023-13-45" in Date received (expected YYYY-MM-DD)' in result.output
    assert "  line 5: missing Company" in result.output
    # Line 6 holds a row whose narrative runs over two lines, so the short row is on line 8.
    assert "  line 8: has 10 fields where the header has 18" in result.output
    assert {(case.source, case.source_id) for case in db.session.scalars(select(Case))} == {
        ("cfpb", "2000001"), ("cfpb", "2000005"), ("cfpb", "2000007")}
    assert by_source("cfpb:2000005").narrative == "Two lines\nof narrative."
    [event] = import_events()
    assert (event["imported"], event["rejected"]) == (3, 4)


def test_a_company_that_has_not_answered_yet_has_no_response_and_a_typo_year_is_rejected(runner, users, tmp_path):
    lines = (FIXTURES / "cfpb_18.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    rows = "".join(lines[1:])
    assert "2023-04-06,Debt collection" in rows and "Closed with non-monetary relief,Yes,No,1000002" in rows
    rows = rows.replace("Closed with non-monetary relief,Yes,No,1000002", "In progress,Yes,N/A,1000002")
    rows = rows.replace("2023-04-08,Vehicle loan", "0202-04-08,Vehicle loan")
    path = tmp_path / "answers.csv"
    path.write_text(lines[0] + rows, encoding="utf-8")
    result = cfpb(runner, path)
    assert result.exit_code == 0, result.output
    assert "Date received 0202-04-08 is before 1970" in result.output
    pending = by_source("cfpb:1000002")
    assert pending.business_response is None and pending.response_received_on is None
    assert pending.response_requested_on == date(2023, 4, 7)
    assert "Company response to consumer: In progress." in pending.timeline[-1].body


def _garbage(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(random.Random(7).randbytes(20_000))
    return path


def _garbage_after_rows(tmp_path):
    """Sixty good rows (past the first bytes that are checked up front), then binary garbage."""
    header, row = (FIXTURES / "cfpb_bad_rows.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    rows = [row.replace("2000001", str(4000000 + n)) for n in range(60)]
    path = tmp_path / "garbage_after_rows.csv"
    path.write_bytes("\n".join([header, *rows, ""]).encode() + b"\x00" + random.Random(7).randbytes(5000))
    return path


def _latin1(tmp_path):
    path = tmp_path / "latin1.csv"
    text = (FIXTURES / "cfpb_18.csv").read_text(encoding="utf-8").replace("Equifax Inc", "Équifax Inc")
    path.write_bytes(text.replace("—", "-").encode("latin-1"))
    return path


@pytest.mark.parametrize("make,message", [
    (lambda tmp: FIXTURES / "cfpb_missing_headers.csv",
     "This is not a CFPB complaints file: it has no column “Complaint ID”, “Company”."),
    (lambda tmp: FIXTURES / "cfpb_unterminated.csv",
     "This is not valid CSV: the row starting on line 3 has a quoted field that is never closed"),
    (_garbage, "This is a binary file, not a CSV file (it contains NUL bytes)."),
    (_garbage_after_rows, "This is not a CSV text file: it contains a NUL byte on line 62."),
    (_latin1, "This is not UTF-8 text: undecodable bytes on line 5. Save the file as CSV UTF-8."),
    (lambda tmp: tmp / "empty.csv", "The file is empty."),
])
def test_a_broken_file_imports_nothing(runner, users, tmp_path, make, message):
    (tmp_path / "empty.csv").write_bytes(b"")
    # Each batch commits on its own: with the default batch size the fault falls in the first, uncommitted
    # batch, so nothing is kept (a fault after whole batches: tests/test_import_scale.py).
    result = cfpb(runner, make(tmp_path))
    assert result.exit_code == 1
    assert message in result.output and "Nothing was imported." in result.output
    assert count(Case) == 0 and count(Business) == 0 and count(SearchQueueEntry) == 0
    assert not import_events()


def test_the_cli_reads_the_csv_inside_the_cfpb_zip_archive(runner, users, tmp_path):
    with zipfile.ZipFile(tmp_path / "complaints.csv.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / "cfpb_18.csv", "complaints.csv")
    result = cfpb(runner, tmp_path / "complaints.csv.zip")
    assert result.exit_code == 0, result.output
    assert "Imported 4 complaints from complaints.csv (from complaints.csv.zip)" in result.output
    assert import_events()[0]["sha256"] == hashlib.sha256((FIXTURES / "cfpb_18.csv").read_bytes()).hexdigest()

    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a.csv", "x")
        archive.writestr("b.csv", "y")
    result = cfpb(runner, tmp_path / "two.zip")
    assert result.exit_code == 1 and "two.zip is a ZIP archive of 2 files" in result.output

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("complaints.csv", "x")
    data = bytearray(buffer.getvalue())  # mark the entry as encrypted (bit 0 of its flags), as with a password
    data[6] |= 1  # local file header
    data[data.index(b"PK\x01\x02") + 8] |= 1  # central directory entry
    (tmp_path / "locked.zip").write_bytes(bytes(data))
    result = cfpb(runner, tmp_path / "locked.zip")
    assert result.exit_code == 1 and "locked.zip cannot be unzipped here" in result.output
    assert "Nothing was imported." in result.output and count(Case) == 4


def test_only_editors_import_from_the_terminal(runner, users):
    result = cfpb(runner, "cfpb_18.csv", who="rita@example.org")
    assert result.exit_code == 1 and "rita@example.org is a reporter" in result.output
    result = cfpb(runner, "cfpb_18.csv", who="nobody@example.org")
    assert result.exit_code == 1 and "No active account nobody@example.org" in result.output
    assert "Missing option '--as'" in runner.invoke(args=["import", "cfpb", str(FIXTURES / "cfpb_18.csv")]).output
    assert count(Case) == 0


@pytest.mark.parametrize("product,category", [
    ("Debt collection", "debt_collection"), ("Mortgage", "financial"), ("Checking or savings account", "financial"),
    ("Money transfer, virtual currency, or money service", "financial"), ("Payday loan, title loan, or personal loan",
                                                                         "financial"),
    ("Vehicle loan or lease", "auto"), ("Prepaid card", "financial"), ("Other financial service", "financial"),
    ("Something else entirely", "other"), ("", "other"),
])
def test_products_map_to_categories(product, category):
    assert category_for(product) == category


# --- Search -----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["whoosh", "postgres"] if TEST_DATABASE_URL else ["whoosh"])
def test_imported_cases_are_found_by_search(runner, users, login, app, backend):
    app.config["SEARCH_BACKEND"] = backend
    app.extensions.pop("search_backend", None)
    assert cfpb(runner, "cfpb_18.csv").exit_code == 0
    eve = login("eve")
    found, _ = search(eve, "mine")
    assert found == {by_source("cfpb:1000001").reference}
    found, _ = search(eve, "Midland")
    assert found == {by_source("cfpb:1000002").reference}
    found, page = search(eve, "tag:cfpb")
    assert len(found) == 4
    assert count(SearchQueueEntry) == 0
    # Reporters see only their own cases, imported ones included.
    assert search(login("rita"), "Midland")[0] == set()


def test_an_index_that_fails_keeps_the_import_and_queues_it(runner, users, login, monkeypatch):
    backend = get_backend()

    def busy(*args, **kwargs):
        raise RuntimeError("index is locked")

    with monkeypatch.context() as patch:
        patch.setattr(type(backend), "write", busy)
        result = cfpb(runner, "cfpb_18.csv")
    assert result.exit_code == 0, result.output
    assert "4 imported cases are still waiting for the search index (busy or failing): run `flask search sync`." \
        in result.output
    assert count(Case) == 4 and count(SearchQueueEntry) == 4
    assert runner.invoke(args=["search", "sync"]).exit_code == 0
    assert search(login("eve"), "Midland")[0] == {by_source("cfpb:1000002").reference}


def test_no_index_leaves_the_index_to_a_reindex(runner, users, login, app):
    result = cfpb(runner, "cfpb_18.csv", "--no-index")
    assert result.exit_code == 0
    assert "run `flask search reindex` now" in result.output
    app.config["SEARCH_SYNC"] = True
    eve = login("eve")
    assert search(eve, "Midland")[0] == set()
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0
    assert search(eve, "Midland")[0] == {by_source("cfpb:1000002").reference}


CFPB_HEADER = (FIXTURES / "cfpb_18.csv").read_text(encoding="utf-8").splitlines()[0]
PRODUCTS = ["Debt collection", "Mortgage", "Credit card or prepaid card", "Vehicle loan or lease", "Student loan"]


def test_a_2000_row_import_with_the_index_takes_seconds(runner, users, login, tmp_path):
    rows = [CFPB_HEADER]
    for n in range(2000):
        rows.append(f"2023-0{1 + n % 9}-{1 + n % 28:02d},{PRODUCTS[n % 5]},,Issue number {n},,"
                    f"Narrative of complaint {n} about lender{n % 40},,Lender {n % 40} Inc,NY,100{n % 90:02d},,"
                    f"Consent provided,Web,2023-10-01,Closed with explanation,Yes,No,{5000000 + n}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = cfpb(runner, path)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert f"Imported 2,000 complaints from big.csv as new cases (C-{YEAR}-00001 … C-{YEAR}-02000)" in result.output
    assert count(Case) == 2000 and count(Business) == 40 and count(SearchQueueEntry) == 0
    assert elapsed < 120, f"2,000 rows took {elapsed:.1f} s"
    found, page = search(login("eve"), "lender17")
    assert re.search(r"\b50 cases? in \d+ ms", page), page[:500]


# --- The CFPB upload form ------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/imports/", "/imports/cfpb", "/imports/csv", "/imports/csv/map"])
def test_a_reporter_gets_403_on_the_import_pages(login, url):
    rita = login("rita")
    assert rita.get(url).status_code == 403
    response = upload(rita, url if url != "/imports/" else "/imports/cfpb",
                      (FIXTURES / "cfpb_18.csv").read_bytes())
    assert response.status_code == 403
    assert count(Case) == 0


def test_an_editor_imports_a_cfpb_file_through_the_form(login, users):
    eve = login("eve")
    assert "Import CFPB complaints" in eve.get("/imports/cfpb").get_data(as_text=True)
    response = upload(eve, "/imports/cfpb", (FIXTURES / "cfpb_bad_rows.csv").read_bytes(), name="../../bad rows.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Import report" in page and "“bad rows.csv”" in page
    assert re.search(r"<strong>3</strong> imported as new cases", page)
    assert re.search(r"<strong>0</strong> skipped: already imported", page)
    assert re.search(r"<strong>4</strong> rejected", page)
    assert "<tr><td>4</td><td>unreadable date &#34;2023-13-45&#34; in Date received" in page
    assert "<tr><td>3</td><td>missing Complaint ID</td></tr>" in page
    assert 'href="/cases/"' in page and f'href="/cases/C-{YEAR}-00001"' in page
    case = by_source("cfpb:2000001")
    assert case.created_by == users["eve"]
    [event] = import_events()
    assert event["file"] == "bad rows.csv"
    event_row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.cfpb"))
    assert event_row.actor_label == "eve@example.org"
    # Again: all skipped.
    page = upload(eve, "/imports/cfpb", (FIXTURES / "cfpb_bad_rows.csv").read_bytes()).get_data(as_text=True)
    assert re.search(r"<strong>3</strong> skipped: already imported", page)
    assert count(Case) == 3


@pytest.mark.parametrize("content,message", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This is a PDF document, not a CSV file."),
    (b"PK\x03\x04\x14\x00\x06\x00", "This is a ZIP archive or an Excel workbook (.xlsx)."),
    (b"<!doctype html><html><body>Hi</body></html>", "This is a web page or XML document, not a CSV file."),
    ((FIXTURES / "cfpb_missing_headers.csv").read_bytes(), "it has no column “Complaint ID”, “Company”"),
    ((FIXTURES / "cfpb_unterminated.csv").read_bytes(), "the row starting on line 3 has a quoted field that is never"),
])
def test_the_form_refuses_what_is_not_a_cfpb_csv_file(login, users, content, message):
    response = upload(login("eve"), "/imports/cfpb", content)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#34;", '"') and "Nothing was imported." in page
    assert count(Case) == 0 and count(Business) == 0 and not import_events()


def test_sniffing_leaves_csv_text_alone():
    assert sniff(b"\xef\xbb\xbfDate received,Product\n") is None
    assert sniff(b"Subject,Story\n\"<b>\",x\n") is None
    assert sniff(b"\x00\x01\x02") == "This is a binary file, not a CSV file (it contains NUL bytes)."


# --- Generic CSV -----------------------------------------------------------------------------

def test_a_csv_file_imports_with_a_column_mapping_from_the_terminal(runner, users):
    args = ["import", "csv", str(FIXTURES / "generic.csv"), "--as", "eve@example.org", *GENERIC_MAP]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Imported 3 complaints from generic.csv" in result.output
    assert "line 5: missing business (column “Company”)" in result.output
    assert 'line 6: unreadable e-mail address "not-an-email"' in result.output
    gym = by_source("csv:GYM-1")
    assert gym.title == "Gym keeps charging after cancellation" and gym.category == "billing"
    assert gym.amount_in_dispute == Decimal("1200.50") and gym.currency == "USD"
    assert gym.complainant_name == "Unknown complainant" and gym.complainant_email == "pat@example.net"
    assert gym.tag_names == ["gym", "recurring charge"]
    assert gym.date_received == date(2024, 2, 3) and gym.received_via == "import"
    assert gym.timeline[0].body == "Imported from the CSV file “generic.csv”, line 2, ID GYM-1."
    assert by_source("csv:GYM-2").business_id == gym.business_id  # "FIT FAST GYMS" is "Fit Fast Gyms LLC"
    sofa = by_source("csv:SOFA-7")
    assert sofa.category == "delivery" and sofa.date_received == date(2024, 2, 4)
    assert sofa.amount_in_dispute == Decimal("499.00") and sofa.business.name == "Couch Co., Inc."
    [event] = import_events("import.csv")
    assert event["mapping"]["business"] == "Company" and event["imported"] == 3

    again = runner.invoke(args=args)
    assert "Skipped 3 already imported." in again.output and count(Case) == 3


@pytest.mark.parametrize("maps,message,code", [
    (["--map", "title=Subject"], "Map the required targets too: --map narrative=COLUMN", 2),
    (["--map", "colour=Subject"], "unknown target “colour”", 2),
    (["--map", "title"], "write TARGET=COLUMN", 2),
    (GENERIC_MAP[:6] + ["--map", "date_received=When"], "The file has no column “When”. Its columns are: “Subject”", 1),
])
def test_a_bad_mapping_imports_nothing(runner, users, maps, message, code):
    result = runner.invoke(args=["import", "csv", str(FIXTURES / "generic.csv"), "--as", "eve@example.org", *maps])
    assert result.exit_code == code
    assert message in result.output
    assert count(Case) == 0


def test_a_csv_file_imports_through_the_two_step_form(login, users, app):
    eve = login("eve")
    response = upload(eve, "/imports/csv", (FIXTURES / "generic.csv").read_bytes(), name="my complaints.csv")
    assert response.status_code == 302
    token = re.search(r"/imports/csv/map\?token=([0-9a-f]{32})$", response.headers["Location"]).group(1)
    stored = sorted(path.name for path in uploads.upload_dir().iterdir())
    assert stored == [f"{token}.csv", f"{token}.json"]  # a random name, never the user's

    page = eve.get(f"/imports/csv/map?token={token}").get_data(as_text=True)
    assert "Import “my complaints.csv”" in page and "Gym keeps charging after cancellation" in page
    # Columns named like a field are chosen already; "Kind" is not a name the form knows.
    for field, column in (("title", 0), ("narrative", 1), ("business", 2), ("date_received", 3),
                          ("complainant_email", 5), ("external_id", 6), ("amount_in_dispute", 7), ("tags", 9)):
        select_html = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', page, re.S).group(1)
        assert re.search(rf'<option selected value="{column}">', select_html), (field, select_html)
    assert "selected" not in re.search(r'name="category".*?</select>', page, re.S).group(0)

    # A required field left unmapped: the page again, with the reason; nothing imported.
    response = eve.post("/imports/csv/map", data={"token": token, "title": "0", "narrative": "1", "business": "2"})
    assert response.status_code == 400
    assert "Choose the column that holds the date received." in response.get_data(as_text=True)
    assert count(Case) == 0

    mapping = {"token": token, "title": "0", "narrative": "1", "business": "2", "date_received": "3",
               "complainant_email": "5", "external_id": "6", "amount_in_dispute": "7", "category": "8", "tags": "9"}
    response = eve.post("/imports/csv/map", data=mapping)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r"<strong>3</strong> imported as new cases", page)
    assert "<tr><td>5</td><td>missing business (column “Company”)</td></tr>" in page
    assert by_source("csv:SOFA-7").category == "delivery"
    assert by_source("csv:GYM-1").created_by == users["eve"]
    assert list(uploads.upload_dir().iterdir()) == []  # removed after the import
    # The upload is gone: asking for it again says so.
    response = eve.get(f"/imports/csv/map?token={token}", follow_redirects=True)
    assert "That upload is no longer here" in response.get_data(as_text=True)


def test_the_mapping_form_sent_twice_imports_once(login, users):
    eve = login("eve")
    response = upload(eve, "/imports/csv", (FIXTURES / "generic.csv").read_bytes())
    token = re.search(r"token=([0-9a-f]{32})", response.headers["Location"]).group(1)
    mapping = {"token": token, "title": "0", "narrative": "1", "business": "2", "date_received": "3"}
    assert uploads.claim_upload(uploads.get_upload(token, users["eve"])) is not None  # the first is under way
    response = eve.post("/imports/csv/map", data=mapping, follow_redirects=True)
    assert "already being imported" in response.get_data(as_text=True)
    assert count(Case) == 0


def test_uploads_left_for_a_day_are_removed_by_the_clean_up_job(login, app):
    response = upload(login("eve"), "/imports/csv", (FIXTURES / "generic.csv").read_bytes())
    assert response.status_code == 302
    day_old = time.time() - uploads.MAX_AGE_SECONDS - 60
    for path in uploads.upload_dir().iterdir():
        os.utime(path, (day_old, day_old))
    result = app.test_cli_runner().invoke(args=["jobs", "run-scheduled-now", "files.clean"])
    assert "2 unfinished import uploads" in result.output, result.output
    assert list(uploads.upload_dir().iterdir()) == []


def test_an_upload_belongs_to_the_editor_who_made_it(login, users):
    response = upload(login("ada"), "/imports/csv", (FIXTURES / "generic.csv").read_bytes())
    token = re.search(r"token=([0-9a-f]{32})", response.headers["Location"]).group(1)
    eve = login("eve")
    response = eve.post("/imports/csv/map", data={"token": token, "title": "0", "narrative": "1", "business": "2",
                                                   "date_received": "3"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/imports/csv")
    assert count(Case) == 0
    assert eve.post("/imports/csv/cancel", data={"token": token}).status_code == 302
    assert (uploads.upload_dir() / f"{token}.csv").exists()  # not Eve's to remove
    login("ada").post("/imports/csv/cancel", data={"token": token})
    assert list(uploads.upload_dir().iterdir()) == []


@pytest.mark.parametrize("content,message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "This is a PNG image, not a CSV file."),
    (b"", "The file is empty."),
    (b"a;b;c\n1;2;3\n", "The columns are separated by semicolons"),
])
def test_the_csv_form_refuses_what_is_not_csv(login, users, content, message):
    response = upload(login("eve"), "/imports/csv", content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert list(uploads.upload_dir().iterdir()) == []


def test_uploads_left_unmapped_are_removed_after_a_day(login, users, app):
    upload(login("eve"), "/imports/csv", (FIXTURES / "generic.csv").read_bytes())
    files = list(uploads.upload_dir().iterdir())
    assert len(files) == 2
    assert uploads.remove_expired() == 0
    day_old = time.time() - uploads.MAX_AGE_SECONDS - 60
    for path in files:
        os.utime(path, (day_old, day_old))
    assert uploads.remove_expired() == 2
    assert list(uploads.upload_dir().iterdir()) == []
