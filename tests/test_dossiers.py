"""PDF dossiers: what each audience sees, proof of the evidence, and checking copies later."""
import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from investigations.dossiers.render import DossierURLFetcher, RefusedURL
from investigations.extensions import db
from investigations.models import AuditEvent, Case, Dossier, Evidence
from investigations.storage import EvidenceStore
from tests import evidence_files as files
from tests.conftest import file_case

ATTACKS = ('<img src="file:///etc/passwd"> <link rel=attachment href="file:///etc/passwd"> '
           '<img src="http://127.0.0.1:9/tracker.png"> <style>@import url(http://127.0.0.1:9/x.css);</style>')


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def upload(client, reference, *named_files):
    client.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(c), n) for n, c in named_files]},
                content_type="multipart/form-data")


@pytest.fixture
def worked_case(login, users):
    """A case with photos, a PDF, an internal note, a public status history and a withdrawn file."""
    rita = login("rita")
    reference = file_case(rita, title="Washer leaks, refund refused", narrative="It leaked on the first day.",
                          complainant_name="Carla Complainant", complainant_email="carla@example.net",
                          complainant_phone="+1 555 0100")
    upload(rita, reference, ("leak.jpg", files.jpeg()), ("receipt.pdf", files.text_pdf("Receipt 1234")),
           ("wrong.png", files.png()))
    rita.post(f"/cases/{reference}/notes", data={"kind": "note", "body": "Source says the manager lies.",
                                                 "internal": "y"})
    rita.post(f"/cases/{reference}/notes", data={"kind": "call", "body": "Store confirmed it received the letter."})
    rita.post(f"/cases/{reference}/status", data={"status": "investigating"})
    eve = login("eve")
    wrong = db.session.scalar(select(Evidence).where(Evidence.original_name == "wrong.png"))
    eve.post(f"/evidence/{wrong.id}/withdraw", data={"reason": "belongs to another case"})
    return reference


def export(client, reference, audience, **extra):
    response = client.post(f"/cases/{reference}/dossier", data={"audience": audience, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"  # it may name the complainant
    return response.data


def test_an_internal_dossier_has_everything(worked_case, login):
    data = export(login("eve"), worked_case, "internal")
    text = flat(pdf_text(data))
    for expected in (worked_case, "Washer leaks, refund refused", "Acme Appliances Inc.", "It leaked on the first day.",
                     "Carla Complainant", "carla@example.net", "Source says the manager lies.",
                     "Store confirmed it received the letter.", "belongs to another case"):
        assert expected in text, expected


def test_a_bbb_dossier_leaves_out_what_the_recipient_may_not_see(worked_case, login):
    data = export(login("eve"), worked_case, "bbb")
    text = flat(pdf_text(data))
    assert worked_case in text and "Acme Appliances Inc." in text and "It leaked on the first day." in text
    for secret in ("Carla", "Complainant Carla", "carla@example.net", "555 0100", "Source says the manager lies",
                   "wrong.png", "belongs to another case"):
        assert secret not in text, secret
    assert "Complainant: identity withheld" in text
    assert "Status changed from New to Investigating." in text  # the public course of the case stays


def test_consent_lets_the_complainant_be_named(worked_case, login):
    eve = login("eve")
    case = db.session.scalar(select(Case).where(Case.reference == worked_case))
    case.consent_to_publish = True
    db.session.commit()
    text = flat(pdf_text(export(eve, worked_case, "news")))
    assert "Carla Complainant" in text and "carla@example.net" in text


def test_every_evidence_hash_is_printed_and_photos_are_embedded(worked_case, login):
    data = export(login("eve"), worked_case, "bbb", with_photos="y")
    text = pdf_text(data).replace("\n", "").replace(" ", "")
    kept = db.session.scalars(select(Evidence).where(Evidence.withdrawn_at.is_(None))).all()
    for item in kept:
        assert item.sha256 in text, item.original_name
    reader = PdfReader(io.BytesIO(data))
    images = {image.data for page in reader.pages for image in page.images}  # pages share resources
    assert len(images) == 1  # the photo; the withdrawn PNG is left out
    # Without consent, photos are left out of an outside dossier unless the editor asks for them.
    reader = PdfReader(io.BytesIO(export(login("eve"), worked_case, "bbb")))
    assert not [image for page in reader.pages for image in page.images]


def test_page_numbers_match_the_page_count(worked_case, login):
    data = export(login("eve"), worked_case, "internal")
    reader = PdfReader(io.BytesIO(data))
    total = len(reader.pages)
    assert total >= 3
    for number, page in enumerate(reader.pages, start=1):
        if number == 1:
            continue  # the cover carries no footer
        assert f"Page {number} of {total}" in page.extract_text()
    assert reader.metadata.title == "C-" + worked_case[2:] + ": Washer leaks, refund refused"
    assert reader.metadata.author == "Eve Editor"
    assert [item.title for item in reader.outline][:3] == ["Summary", "The complaint", "Timeline"]


def test_the_exporter_sees_what_will_be_left_out(worked_case, login):
    page = login("eve").get(f"/cases/{worked_case}/dossier").get_data(as_text=True)
    assert "4 internal timeline entries" in page  # a note, and the three uploads ("Evidence added")
    assert "1 withdrawn evidence file" in page
    assert "the complainant&#39;s name and contact details (no consent to be named)" in page
    assert "Nothing is left out." in page  # the internal audience


def test_each_export_is_audited_and_on_the_timeline(worked_case, login):
    data = export(login("eve"), worked_case, "bbb")
    dossier = db.session.scalar(select(Dossier))
    assert dossier.sha256 == hashlib.sha256(data).hexdigest() and dossier.audience == "bbb"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dossier.export"))
    assert event.actor_label == "eve@example.org" and dossier.sha256 in event.details and '"bbb"' in event.details
    page = login("rita").get(f"/cases/{worked_case}").get_data(as_text=True)
    assert "Dossier exported" in page and dossier.sha256 in page
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.export")).all()
    assert len(exported) == 2


def test_flask_dossier_verify_accepts_the_file_and_rejects_a_changed_byte(worked_case, login, runner, tmp_path):
    data = export(login("eve"), worked_case, "bbb")
    original = tmp_path / "received.pdf"
    original.write_bytes(data)
    result = runner.invoke(args=["dossier", "verify", str(original)])
    assert result.exit_code == 0, result.output
    assert "GENUINE: dossier #1" in result.output and "eve@example.org" in result.output and "BBB" in result.output
    altered = tmp_path / "altered.pdf"
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x20
    altered.write_bytes(bytes(changed))
    result = runner.invoke(args=["dossier", "verify", str(altered)])
    assert result.exit_code == 1
    assert "ALTERED: the file says it is dossier #1" in result.output
    stranger = tmp_path / "stranger.pdf"
    stranger.write_bytes(files.text_pdf("Not ours"))
    result = runner.invoke(args=["dossier", "verify", str(stranger)])
    assert result.exit_code == 1 and "NOT ISSUED" in result.output


def test_editors_can_check_a_copy_in_the_browser(worked_case, login):
    eve = login("eve")
    data = export(eve, worked_case, "news")
    page = eve.post("/dossiers/verify", data={"file": (io.BytesIO(data), "copy.pdf")},
                    content_type="multipart/form-data").get_data(as_text=True)
    assert "Genuine." in page and "News outlet" in page
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x01
    page = eve.post("/dossiers/verify", data={"file": (io.BytesIO(bytes(changed)), "copy.pdf")},
                    content_type="multipart/form-data").get_data(as_text=True)
    assert "Altered." in page and "dossier #1" in page
    assert login("rita").get("/dossiers/verify").status_code == 403


def test_attack_strings_print_as_text_and_fetch_nothing(login, monkeypatch):
    rita = login("rita")
    reference = file_case(rita, narrative=ATTACKS, title="<script>alert(1)</script>")
    fetchers = []
    original_init = DossierURLFetcher.__init__

    def remember(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        fetchers.append(self)

    monkeypatch.setattr(DossierURLFetcher, "__init__", remember)
    data = export(rita, reference, "internal")
    text = flat(pdf_text(data))
    assert '<img src="file:///etc/passwd">' in text and "<link rel=attachment" in text
    assert "<script>alert(1)</script>" in text
    assert "root:x:0:0" not in text
    (fetcher,) = fetchers
    assert all(url.startswith("dossier://app/static/") for url in fetcher.served)
    assert not any("passwd" in url or "127.0.0.1" in url for url in fetcher.served + fetcher.refused)
    assert set(PdfReader(io.BytesIO(data)).attachments) == {"evidence-manifest.csv", "case-data.json"}


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/a.css", "data:text/plain,hi",
    "dossier://app/static/../../instance/secret_key", "dossier://app/static/%2e%2e/%2e%2e/app.py",
    "dossier://elsewhere/static/css/dossier.css", "dossier://app/evidence/" + "0" * 64 + "/print",
    "dossier://app/evidence/../../etc/passwd", "ftp://example.org/x",
])
def test_the_url_fetcher_refuses_everything_but_its_own_files(app, url):
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    fetcher = DossierURLFetcher(Path(current_app.static_folder), store, {"a" * 64})
    with pytest.raises((RefusedURL, ValueError)):
        fetcher.fetch(url)
    served = fetcher.fetch("dossier://app/static/css/dossier.css")
    assert b"@page" in served.read()


def test_original_files_can_be_attached(worked_case, login):
    data = export(login("eve"), worked_case, "internal", with_originals="y")
    reader = PdfReader(io.BytesIO(data))
    attachments = reader.attachments
    assert "evidence-manifest.csv" in attachments
    photo = db.session.scalar(select(Evidence).where(Evidence.original_name == "leak.jpg"))
    (content,) = attachments[f"{photo.id}-leak.jpg"]
    assert hashlib.sha256(content).hexdigest() == photo.sha256
    assert any("wrong" in name for name in attachments)  # internal: withdrawn files too, marked in the PDF


def test_originals_go_to_outsiders_only_with_consent(worked_case, login):
    eve = login("eve")
    data = export(eve, worked_case, "bbb", with_originals="y")
    assert set(PdfReader(io.BytesIO(data)).attachments) == {"evidence-manifest.csv", "case-data.json"}  # no originals
    case = db.session.scalar(select(Case).where(Case.reference == worked_case))
    case.consent_to_publish = True
    db.session.commit()
    attachments = PdfReader(io.BytesIO(export(eve, worked_case, "bbb", with_originals="y"))).attachments
    assert "evidence-manifest.csv" in attachments and not any("wrong" in name for name in attachments)


def test_outside_dossiers_list_evidence_without_names_or_captions_unless_consented(login):
    rita = login("rita")
    reference = file_case(rita, complainant_name="Carla Complainant")
    rita.post(f"/cases/{reference}/evidence", content_type="multipart/form-data", data={
        "files": [(io.BytesIO(files.jpeg()), "Carla Complainant kitchen.jpg")],
        "caption": "Carla's kitchen at 1 Main Street"})
    text = flat(pdf_text(export(login("eve"), reference, "news")))
    assert "Carla" not in text and "Main Street" not in text
    assert "Evidence 1 (JPEG image)" in text
    internal = flat(pdf_text(export(login("eve"), reference, "internal")))
    assert "Carla Complainant kitchen.jpg" in internal and "1 Main Street" in internal


def test_outside_dossiers_name_no_staff_and_keep_status_comments_internal(worked_case, login):
    rita = login("rita")
    rita.post(f"/cases/{worked_case}/status", data={"status": "awaiting_response",
                                                     "comment": "Our source at the store is Bob"})
    data = export(login("eve"), worked_case, "bbb")
    text = flat(pdf_text(data))
    assert "Bob" not in text and "Rita Reporter" not in text and "Eve Editor" not in text
    assert "Complaint received." in text and "Status changed from Investigating to Awaiting" in text
    assert PdfReader(io.BytesIO(data)).metadata.author == "The newsroom"


def test_no_dossier_is_issued_when_a_stored_file_is_missing(worked_case, login):
    photo = db.session.scalar(select(Evidence).where(Evidence.original_name == "leak.jpg"))
    EvidenceStore(current_app.config["EVIDENCE_DIR"]).derived_path(photo.sha256, "print").unlink()
    response = login("eve").post(f"/cases/{worked_case}/dossier", data={"audience": "bbb", "with_photos": "y"},
                                 follow_redirects=True)
    assert "stored evidence file(s) are missing" in response.get_data(as_text=True)
    assert db.session.scalars(select(Dossier).where(Dossier.state == "ready")).all() == []


def test_the_cli_checks_it_can_write_before_issuing(worked_case, runner):
    result = runner.invoke(args=["dossier", "export", worked_case, "-o", "/nonexistent/dir/x.pdf"])
    assert result.exit_code == 1 and "Cannot write" in result.output
    assert db.session.scalars(select(Dossier)).all() == []


def test_a_reporter_not_on_the_case_cannot_export_it(worked_case, login):
    assert login("rob").post(f"/cases/{worked_case}/dossier", data={"audience": "internal"}).status_code == 404
    assert login("rita").post(f"/cases/{worked_case}/dossier", data={"audience": "bbb"}).status_code == 200


def test_a_business_dossier_opens_with_the_pattern(login):
    rita = login("rita")
    for i, category in enumerate(["refund", "refund", "warranty"]):
        file_case(rita, title=f"Complaint {i}", category=category, business_name="Globex Corp",
                  amount_in_dispute="100.00", date_received=f"2026-0{i + 7}-15")
    eve = login("eve")
    page = eve.get("/businesses/globex-corp/dossier").get_data(as_text=True)
    assert "<svg" in page and "3 complaints" in page
    response = eve.post("/businesses/globex-corp/dossier", data={"audience": "bbb"})
    assert response.status_code == 302
    status = eve.get(response.headers["Location"]).get_data(as_text=True)
    assert "Download the PDF" in status
    dossier = db.session.scalar(select(Dossier))
    data = eve.get(f"/dossiers/{dossier.id}/download").data
    text = flat(pdf_text(data))
    assert "The pattern" in text and "3 complaints against Globex Corp" in text
    assert "In dispute: 300.00 USD" in text and "Refunds and returns 2" in text
    assert all(f"Complaint {i}" in text for i in range(3))
    assert login("rita").post("/businesses/globex-corp/dossier", data={"audience": "bbb"}).status_code == 403


def test_the_cli_exports_a_case_and_a_business(worked_case, runner, tmp_path):
    out = tmp_path / "case.pdf"
    result = runner.invoke(args=["dossier", "export", worked_case, "--audience", "bbb", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert worked_case in pdf_text(out.read_bytes())
    out2 = tmp_path / "business.pdf"
    result = runner.invoke(args=["dossier", "export", "--business", "ACME appliances", "-o", str(out2)])
    assert result.exit_code == 0, result.output
    assert "Complaints against Acme Appliances Inc." in flat(pdf_text(out2.read_bytes()))
    assert runner.invoke(args=["dossier", "export", "C-1999-00001", "-o", str(out)]).exit_code == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm is not installed (apt-get install poppler-utils)")
def test_pages_render_to_non_blank_images(worked_case, login, tmp_path):
    from PIL import Image, ImageStat

    pdf = tmp_path / "dossier.pdf"
    pdf.write_bytes(export(login("eve"), worked_case, "bbb"))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(str(pdf)).pages)
    for page in pages:
        with Image.open(page) as image:
            stats = ImageStat.Stat(image.convert("L"))
            assert stats.stddev[0] > 5, f"{page.name} looks blank"


def test_without_pango_the_app_runs_and_export_says_why(worked_case, login, monkeypatch):
    from investigations.dossiers import render

    monkeypatch.setattr(render, "UNAVAILABLE", "PDF dossiers need the Pango library on this server")
    eve = login("eve")
    assert eve.get(f"/cases/{worked_case}").status_code == 200
    response = eve.post(f"/cases/{worked_case}/dossier", data={"audience": "bbb"}, follow_redirects=True)
    assert "PDF dossiers need the Pango library" in response.get_data(as_text=True)
    assert db.session.scalars(select(Dossier).where(Dossier.state == "ready")).all() == []
