"""Archival dossiers: PDF/A-3b with the evidence manifest and the case data attached, withheld for
outside audiences as the pages are, and checked against the stored evidence by `flask dossier verify`."""
import csv
import hashlib
import io
import json
import os
from datetime import datetime

import pikepdf
import pytest
from flask import current_app
from sqlalchemy import select

from investigations.extensions import db
from investigations.models import Case, Dossier, Evidence
from investigations.storage import EvidenceStore
from tests import evidence_files as files
from tests.conftest import file_case
from tests.test_dossiers import export, flat, pdf_text, upload

CARLA = ("Carla", "carla@example.net", "555 0100", "5550100", "1 Main Street")


@pytest.fixture
def photo_case(login):
    rita = login("rita")
    reference = file_case(rita, title="Washer leaks, Carla wants a refund",
                          narrative="Carla Complainant (555-0100) says it leaked.",
                          complainant_name="Carla Complainant", complainant_email="carla@example.net",
                          complainant_phone="+1 555 0100", complainant_address="1 Main Street")
    upload(rita, reference, ("carla-kitchen.jpg", files.jpeg()), ("receipt carla.pdf", files.text_pdf("Receipt 1234")))
    return reference


def open_pdf(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def attachment(pdf: pikepdf.Pdf, name: str) -> bytes:
    return pdf.attachments[name].get_file().read_bytes()


def assert_pdfa_3b(pdf: pikepdf.Pdf):
    with pdf.open_metadata() as meta:
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
    (intent,) = pdf.Root.OutputIntents
    assert intent.S == "/GTS_PDFA1"
    profile = intent.DestOutputProfile.read_bytes()
    assert profile[36:40] == b"acsp" and b"RGB " in profile[12:24]  # an ICC profile of an RGB space
    # PDF/A-3 wants every attached file in the catalogue's AF array with its relationship.
    related = {str(spec.F): str(spec.AFRelationship) for spec in pdf.Root.AF}
    assert related["evidence-manifest.csv"] == "/Data" and related["case-data.json"] == "/Data"


def test_a_case_dossier_is_pdfa_3b_with_its_manifest_and_data(photo_case, login):
    data = export(login("eve"), photo_case, "internal")
    pdf = open_pdf(data)
    assert_pdfa_3b(pdf)
    manifest = list(csv.DictReader(io.StringIO(attachment(pdf, "evidence-manifest.csv").decode())))
    stored = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert [row["name"] for row in manifest] == ["carla-kitchen.jpg", "receipt carla.pdf"]
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    for row, item in zip(manifest, stored, strict=True):
        assert row["sha256"] == item.sha256 == hashlib.sha256(store.path_for(item.sha256).read_bytes()).hexdigest()
        assert int(row["size_bytes"]) == item.size and row["type"] == item.type_label and row["case"] == photo_case
    case_data = json.loads(attachment(pdf, "case-data.json"))
    (record,) = case_data["cases"]
    assert record["reference"] == photo_case and record["complainant"]["name"] == "Carla Complainant"
    assert [entry["sha256"] for entry in record["evidence"]] == [item.sha256 for item in stored]


@pytest.mark.parametrize("audience", ["news", "bbb"])
def test_outside_attachments_carry_no_withheld_identity(photo_case, login, audience):
    data = export(login("eve"), photo_case, audience, with_photos="y")
    pdf = open_pdf(data)
    assert_pdfa_3b(pdf)
    manifest = attachment(pdf, "evidence-manifest.csv").decode()
    case_data = attachment(pdf, "case-data.json").decode()
    for text in (manifest, case_data, " ".join(pdf.attachments)):
        unmarked = text.lower().replace("[complainant]", "")
        for secret in CARLA:
            assert secret.lower() not in unmarked, secret
    rows = list(csv.DictReader(io.StringIO(manifest)))
    assert [row["name"] for row in rows] == ["Evidence 1 (JPEG image)", "Evidence 2 (PDF document)"]
    assert all(len(row["sha256"]) == 64 for row in rows)  # the proof stays
    record = json.loads(case_data)["cases"][0]
    assert record["complainant"] == "identity withheld"
    assert record["narrative"].startswith("[complainant] ") and record["narrative"].endswith("says it leaked.")
    assert json.loads(case_data)["issued_by"] == "The newsroom"  # no staff names
    assert "Eve Editor" not in case_data and "Rita Reporter" not in case_data
    # The printed pages withhold the same.
    assert "Carla" not in flat(pdf_text(data))


def test_a_business_dossier_is_pdfa_3b_and_lists_every_case_in_its_data(login):
    rita = login("rita")
    for i in range(3):
        file_case(rita, title=f"Complaint {i} by Carla", business_name="Globex Corp", complainant_name="Carla Complainant",
                  date_received=f"2026-0{i + 7}-15")
    eve = login("eve")
    assert eve.post("/businesses/globex-corp/dossier", data={"audience": "news", "full_count": "1",
                                                              "recipient": "The Dispatch"}).status_code == 302
    dossier = db.session.scalar(select(Dossier))
    pdf = open_pdf(eve.get(f"/dossiers/{dossier.id}/download").data)
    assert_pdfa_3b(pdf)
    case_data = json.loads(attachment(pdf, "case-data.json"))
    assert case_data["business"] == "Globex Corp" and case_data["recipient"] == "The Dispatch"
    assert [case["title"] for case in case_data["cases"]] == ["Complaint 2 by [complainant]"]  # the newest, in full
    assert [case["title"] for case in case_data["cases_listed"]] == ["Complaint 0 by [complainant]",
                                                                      "Complaint 1 by [complainant]"]
    assert "carla" not in attachment(pdf, "case-data.json").decode().lower()


def test_the_url_fetcher_stays_the_safe_one_for_archival_dossiers(login):
    from tests.test_dossiers import ATTACKS

    rita = login("rita")
    reference = file_case(rita, narrative=ATTACKS)
    pdf = open_pdf(export(rita, reference, "internal"))
    assert set(pdf.attachments) == {"evidence-manifest.csv", "case-data.json"}  # nothing fetched got attached
    assert "root:x:0:0" not in attachment(pdf, "case-data.json").decode()


def test_verify_checks_the_attached_manifest_against_the_stored_evidence(photo_case, login, runner, tmp_path):
    data = export(login("eve"), photo_case, "bbb")
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(data)
    result = runner.invoke(args=["dossier", "verify", str(copy)])
    assert result.exit_code == 0, result.output
    assert "the attached manifest lists 2 file(s); each is stored, unaltered" in result.output
    assert "GENUINE" in result.output
    # Someone alters a stored evidence file: the dossier is still genuine, the evidence is not.
    item = db.session.scalar(select(Evidence).where(Evidence.original_name == "receipt carla.pdf"))
    path = EvidenceStore(current_app.config["EVIDENCE_DIR"]).path_for(item.sha256)
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    result = runner.invoke(args=["dossier", "verify", str(copy)])
    assert result.exit_code == 1
    assert f"{photo_case} evidence 2: the stored file no longer has its SHA-256 (altered)" in result.output
    path.unlink()
    result = runner.invoke(args=["dossier", "verify", str(copy)])
    assert result.exit_code == 1 and "the stored file is missing" in result.output


def test_verify_in_the_browser_shows_the_evidence_check(photo_case, login):
    eve = login("eve")
    data = export(eve, photo_case, "news")
    page = eve.post("/dossiers/verify", data={"file": (io.BytesIO(data), "copy.pdf")},
                    content_type="multipart/form-data").get_data(as_text=True)
    assert "Genuine." in page and "lists 2 evidence files" in page and "each is stored, unaltered" in page


def test_an_imported_complaint_shows_when_it_was_received_not_imported(login):
    rita = login("rita")
    reference = file_case(rita, date_received="2025-03-02")
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    case.received_via, case.source, case.source_id = "import", "cfpb", "4201337"
    (opening,) = [entry for entry in case.timeline if entry.kind == "created"]
    opening.occurred_at = datetime(2026, 11, 30, 12, 0)  # when the import ran
    db.session.commit()
    text = flat(pdf_text(export(login("eve"), reference, "bbb")))
    assert "2 Mar 2025 Case opened Complaint received." in text
    assert "30 Nov 2026" not in text
    assert "ID 4201337" in text and "consumerfinance.gov" in text


def test_every_time_in_a_pdf_is_in_the_newsroom_zone_and_on_its_paper(photo_case, login, users):
    from investigations.newsroom import save_settings

    save_settings("The Dispatch consumer desk", "letter", "Asia/Tokyo", users["ada"])
    db.session.commit()
    data = export(login("eve"), photo_case, "bbb")
    pdf = open_pdf(data)
    width, height = (float(value) for value in pdf.pages[0].MediaBox[2:])
    assert (round(width), round(height)) == (612, 792)  # US Letter
    text = flat(pdf_text(data))
    assert "JST" in text and "The Dispatch consumer desk" in text
    assert pdf.open_metadata()["dc:creator"] == ["The Dispatch consumer desk"]
