"""Evidence: stored exactly as received, typed by content, served safely, provably untampered."""
import csv
import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from investigations.evidence.extraction import ocr_available
from investigations.evidence.services import display_name
from investigations.extensions import db
from investigations.models import AuditEvent, Evidence
from investigations.storage import EvidenceStore
from tests import evidence_files as files
from tests.conftest import file_case, sign_in


def upload(client, reference, *named_files, **fields):
    data = {"files": [(io.BytesIO(content), name) for name, content in named_files], **fields}
    return client.post(f"/cases/{reference}/evidence", data=data, content_type="multipart/form-data")


def evidence_rows() -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).order_by(Evidence.id)))


def stored_objects() -> list[Path]:
    root = Path(current_app.config["EVIDENCE_DIR"]) / "objects"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def temp_files() -> list[Path]:
    root = Path(current_app.config["EVIDENCE_DIR"]) / "tmp"
    return list(root.iterdir()) if root.exists() else []


@pytest.fixture
def rita_case(login):
    rita = login("rita")
    return rita, file_case(rita)


def test_several_files_at_once_are_stored_exactly_as_received(rita_case):
    rita, reference = rita_case
    photo, receipt, note = files.jpeg(), files.text_pdf("Receipt 1234"), b"Call notes: refused twice.\n"
    response = upload(rita, reference, ("washer.jpg", photo), ("receipt.pdf", receipt), ("notes.txt", note),
                      caption="From the complainant", source="e-mail of 2 Nov")
    assert response.status_code == 302
    rows = evidence_rows()
    assert [r.original_name for r in rows] == ["washer.jpg", "receipt.pdf", "notes.txt"]
    assert [r.media_type for r in rows] == ["image/jpeg", "application/pdf", "text/plain"]
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    for row, content in zip(rows, (photo, receipt, note), strict=True):
        assert row.sha256 == hashlib.sha256(content).hexdigest() and row.size == len(content)
        assert store.path_for(row.sha256).read_bytes() == content
        assert hashlib.sha256(store.path_for(row.sha256).read_bytes()).hexdigest() == row.sha256
        assert row.caption == "From the complainant" and row.source == "e-mail of 2 Nov"
    page = rita.get(f"/cases/{reference}").get_data(as_text=True)
    assert "3 files added" in page and "Evidence (3)" in page
    assert rows[0].sha256[:16] in page and "washer.jpg" in page
    assert rita.get(f"/evidence/{rows[0].id}/image/thumb").status_code == 200
    assert not temp_files()


def test_each_file_may_have_its_own_caption(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("a.jpg", files.jpeg()), ("b.png", files.png()),
           **{"caption-0": "The leak", "caption-1": "", "caption": "Shared caption"})
    assert [r.caption for r in evidence_rows()] == ["The leak", "Shared caption"]


def test_the_type_comes_from_the_content_not_the_name(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("receipt.pdf", files.png()), ("scan.exe", files.text_pdf("hello")))
    assert [(r.original_name, r.media_type) for r in evidence_rows()] == [
        ("receipt.pdf", "image/png"), ("scan.exe", "application/pdf")]


@pytest.mark.parametrize("name,content,reason", [
    ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "active content"),
    ("logo.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "active content"),
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "Programs and scripts"),
    ("run.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "Programs and scripts"),
    ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "Programs and scripts"),
    ("archive.zip", b"PK\x03\x04" + b"\x00" * 100, "ZIP archives are not accepted"),
    ("blob.bin", bytes(range(256)) * 4, "This kind of file is not accepted"),
    ("empty.txt", b"", "The file is empty"),
])
def test_unaccepted_files_are_refused_with_a_clear_message(rita_case, name, content, reason):
    rita, reference = rita_case
    response = upload(rita, reference, (name, content))
    page = rita.get(response.headers["Location"]).get_data(as_text=True)
    assert f"“{name}” was not added" in page and reason in page
    assert evidence_rows() == [] and stored_objects() == [] and not temp_files()


def test_a_refused_file_does_not_stop_the_good_ones(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("ok.jpg", files.jpeg()), ("bad.html", b"<html><body>x</body></html>"))
    assert [r.original_name for r in evidence_rows()] == ["ok.jpg"]


@pytest.mark.parametrize("name,shown", [
    ("C:\\Users\\carla\\receipt.pdf", "receipt.pdf"),
    ("../../etc/passwd", "passwd"),
    ("  ..  ", "unnamed file"),
    ("\x00\x07", "unnamed file"),
    ("a" * 300 + ".pdf", "a" * 200),
])
def test_display_names_lose_paths_and_control_characters(name, shown):
    assert display_name(name) == shown


@pytest.mark.parametrize("name,shown", [
    ("../../etc/passwd", "passwd"),
    ("bad\x00name\x1b[31m<script>.txt", "bad name [31m<script>.txt"),
])
def test_file_names_are_only_metadata(rita_case, name, shown):
    rita, reference = rita_case
    upload(rita, reference, (name, b"plain text evidence\n"))
    row = evidence_rows()[0]
    assert row.original_name == shown
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    assert store.path_for(row.sha256).exists()
    assert not Path("/etc/passwd").read_bytes().startswith(b"plain text evidence")
    page = rita.get(f"/evidence/{row.id}").get_data(as_text=True)
    assert "<script>.txt" not in page and "\x1b" not in page
    response = rita.get(f"/evidence/{row.id}/download")
    assert "/" not in response.headers["Content-Disposition"].split("filename", 1)[1]


def test_an_over_limit_file_gets_413_and_nothing_is_stored(app_factory, users):
    app = app_factory(MAX_UPLOAD_MB=1)
    client = app.test_client()
    sign_in(client, "rita@example.org")
    reference = file_case(client)
    big = b"A" * (1024 * 1024 + 1)
    response = upload(client, reference, ("small.txt", b"fine\n"), ("big.txt", big))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "at most 1 MB" in page and "Nothing was stored" in page
    with app.app_context():
        assert evidence_rows() == [] and stored_objects() == [] and not temp_files()
    response.request.environ["wsgi.input"].close()  # the test client's body file, which the app left unread


def test_the_upload_script_gets_json(rita_case):
    rita, reference = rita_case
    response = rita.post(f"/cases/{reference}/evidence", headers={"Accept": "application/json"},
                         data={"files": [(io.BytesIO(files.png()), "a.png")]}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert response.json["added"][0]["name"] == "a.png"
    assert response.json["redirect"].endswith(f"/cases/{reference}")


def test_someone_who_may_not_see_the_case_cannot_reach_its_evidence(rita_case, login):
    rita, reference = rita_case
    upload(rita, reference, ("a.jpg", files.jpeg()))
    evidence_id = evidence_rows()[0].id
    rob = login("rob")
    for url in (f"/evidence/{evidence_id}", f"/evidence/{evidence_id}/download",
                f"/evidence/{evidence_id}/image/thumb", f"/evidence/{evidence_id}/image/print",
                f"/cases/{reference}/evidence.zip"):
        response = rob.get(url)
        assert response.status_code == 404, url
        assert files.jpeg()[:64] not in response.data
    assert upload(rob, reference, ("x.txt", b"hi\n")).status_code == 404
    assert login("eve").get(f"/evidence/{evidence_id}/download").status_code == 200


def test_evidence_files_are_not_static_files(rita_case, app):
    rita, reference = rita_case
    upload(rita, reference, ("a.jpg", files.jpeg()))
    sha = evidence_rows()[0].sha256
    for url in (f"/static/../instance/evidence/objects/{sha[:2]}/{sha[2:4]}/{sha}",
                f"/static/evidence/objects/{sha[:2]}/{sha[2:4]}/{sha}", f"/evidence/objects/{sha}"):
        assert rita.get(url).status_code == 404


def test_downloads_are_attachments_that_browsers_do_not_sniff(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("notes.txt", b"<b>looks like html</b> but it is text\n"))
    response = rita.get(f"/evidence/{evidence_rows()[0].id}/download")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_failure_between_file_and_database_leaves_nothing_behind(rita_case, monkeypatch):
    rita, reference = rita_case

    def failing_commit():
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", failing_commit)
        response = upload(rita, reference, ("a.jpg", files.jpeg()), ("b.txt", b"text\n"))
    assert response.status_code == 500
    assert evidence_rows() == [] and stored_objects() == [] and not temp_files()
    derived = Path(current_app.config["EVIDENCE_DIR"]) / "derived"
    assert not derived.exists() or not [p for p in derived.rglob("*") if p.is_file()]


def test_temporary_files_of_a_crashed_process_are_removed_by_the_clean_up_job(app):
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    store.ensure_dirs()
    stray = store.tmp / "upload-crashed"  # its writer died: nobody holds its lock
    stray.write_bytes(b"half an upload")
    live = store.receive(io.BytesIO(b"an upload in progress"), 1024)  # held by this process
    result = app.test_cli_runner().invoke(args=["jobs", "run-scheduled-now", "files.clean"])
    assert "Removed 1 abandoned temporary files" in result.output, result.output
    assert not stray.exists() and live.temp_path.exists()
    store.discard(live)
    assert not live.temp_path.exists()


def test_the_same_bytes_are_stored_once(rita_case, login):
    rita, reference = rita_case
    other = file_case(rita, title="Second case")
    photo = files.jpeg()
    upload(rita, reference, ("a.jpg", photo))
    upload(rita, other, ("copy.jpg", photo))
    assert len(evidence_rows()) == 2 and len(stored_objects()) == 1
    response = upload(rita, reference, ("again.jpg", photo))
    page = rita.get(response.headers["Location"]).get_data(as_text=True)
    assert "“again.jpg” is identical (same SHA-256) to a file already on this case." in page


def test_verify_detects_a_flipped_byte_and_a_missing_file(rita_case, runner):
    rita, reference = rita_case
    upload(rita, reference, ("a.jpg", files.jpeg()), ("b.txt", b"some text\n"))
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0 and "OK: 2 evidence files" in result.output
    store = EvidenceStore(current_app.config["EVIDENCE_DIR"])
    photo, text = evidence_rows()
    path = store.path_for(photo.sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    store.path_for(text.sha256).unlink()
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    assert f"ALTERED: evidence #{photo.id}" in result.output and f"MISSING: evidence #{text.id}" in result.output


def test_stored_files_are_read_only(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("a.txt", b"original\n"))
    path = EvidenceStore(current_app.config["EVIDENCE_DIR"]).path_for(evidence_rows()[0].sha256)
    assert path.stat().st_mode & 0o222 == 0


def test_photos_get_upright_thumbnails_and_a_location_warning(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("rotated.jpg", files.jpeg_rotated()), ("gps.jpg", files.jpeg_with_gps()))
    rotated, gps = evidence_rows()
    from PIL import Image

    thumb = rita.get(f"/evidence/{rotated.id}/image/thumb")
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.height > image.width  # EXIF orientation applied
    assert gps.gps_location == "40.44611, -79.98222" and rotated.gps_location is None
    page = rita.get(f"/evidence/{gps.id}").get_data(as_text=True)
    assert "This photo records where it was taken" in page
    assert "Contains a GPS location" in rita.get(f"/cases/{reference}").get_data(as_text=True)


def test_a_decompression_bomb_is_refused_without_decoding_it(rita_case):
    import resource

    rita, reference = rita_case
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = upload(rita, reference, ("huge.png", files.png_bomb()))
    page = rita.get(response.headers["Location"]).get_data(as_text=True)
    assert "decompression bomb" in page
    assert evidence_rows() == []
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100  # ten billion pixels would need gigabytes


def test_text_is_extracted_from_pdf_email_docx_and_text(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("r.pdf", files.text_pdf("Refund refused by ACME")), ("m.eml", files.eml()),
           ("c.docx", files.docx(["Clause 7: no refunds after 14 days"])), ("n.txt", b"Manager said no\n"),
           ("v.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 100))
    pdf, mail, contract, note, audio = evidence_rows()
    assert pdf.extraction_state == "done" and "Refund refused by ACME" in pdf.extracted_text
    assert "Subject: Your refund request" in mail.extracted_text and "installed by the customer" in mail.extracted_text
    assert contract.media_type.endswith("wordprocessingml.document")
    assert "no refunds after 14 days" in contract.extracted_text
    assert note.extracted_text == "Manager said no"
    assert audio.media_type == "audio/mpeg" and audio.extraction_state == "none"
    page = rita.get(f"/evidence/{pdf.id}").get_data(as_text=True)
    assert "Text extracted" in page and "Refund refused by ACME" in page


@pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed (apt-get install tesseract-ocr)")
def test_text_in_a_photographed_receipt_is_found_by_ocr(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("receipt.jpg", files.receipt_photo(["ACME APPLIANCES", "WASHER 499.99",
                                                                 "NO REFUNDS"])))
    row = evidence_rows()[0]
    assert row.extraction_state == "done" and row.extraction_method == "ocr"
    assert "WASHER 499.99" in row.extracted_text and "NO REFUNDS" in row.extracted_text


def test_extraction_happens_after_the_response(app_factory, users):
    app = app_factory(EVIDENCE_EXTRACTION="background")
    client = app.test_client()
    sign_in(client, "rita@example.org")
    reference = file_case(client)
    upload(client, reference, ("n.txt", b"read me later\n"))
    with app.app_context():
        for _ in range(100):
            row = evidence_rows()[0]
            if row.extraction_state != "pending":
                break
            time.sleep(0.05)
            db.session.expire_all()
        assert row.extraction_state == "done" and row.extracted_text == "read me later"


def test_editors_withdraw_a_file_and_its_record_remains(rita_case, login):
    rita, reference = rita_case
    upload(rita, reference, ("wrong.jpg", files.jpeg()))
    row = evidence_rows()[0]
    assert rita.post(f"/evidence/{row.id}/withdraw", data={"reason": "wrong case"}).status_code == 403
    eve = login("eve")
    assert eve.post(f"/evidence/{row.id}/withdraw", data={"reason": ""}).status_code == 400
    assert eve.post(f"/evidence/{row.id}/withdraw", data={"reason": "Belongs to another case"}).status_code == 302
    row = evidence_rows()[0]
    assert row.is_withdrawn and row.withdrawal_reason == "Belongs to another case"
    assert EvidenceStore(current_app.config["EVIDENCE_DIR"]).exists(row.sha256)
    page = rita.get(f"/evidence/{row.id}").get_data(as_text=True)
    assert "Withdrawn on" in page and "Belongs to another case" in page


def test_the_custody_log_shows_every_handling(rita_case, login):
    rita, reference = rita_case
    upload(rita, reference, ("a.jpg", files.jpeg()))
    row = evidence_rows()[0]
    eve = login("eve")
    eve.get(f"/evidence/{row.id}")
    eve.get(f"/evidence/{row.id}/download")
    eve.get(f"/cases/{reference}/evidence.zip")
    eve.post(f"/evidence/{row.id}/withdraw", data={"reason": "duplicate"})
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "evidence", AuditEvent.object_id == str(row.id)).order_by(AuditEvent.seq)).all()
    assert actions == ["evidence.upload", "evidence.view", "evidence.download", "evidence.export",
                       "evidence.withdraw"]
    page = rita.get(f"/evidence/{row.id}").get_data(as_text=True)
    for label in ("Added", "Viewed", "Downloaded the original", "Exported", "Withdrawn"):
        assert label in page
    assert "eve@example.org" in page


def test_download_all_gives_originals_and_a_manifest(rita_case):
    rita, reference = rita_case
    photo, note = files.jpeg(), b"notes\n"
    upload(rita, reference, ("../washer.jpg", photo), ("notes.txt", note))
    response = rita.get(f"/cases/{reference}/evidence.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
        assert [m["original_name"] for m in manifest] == ["washer.jpg", "notes.txt"]
        for entry, content in zip(manifest, (photo, note), strict=True):
            assert archive.read(entry["file"]) == content
            assert entry["sha256"] == hashlib.sha256(content).hexdigest()
            assert entry["uploaded_by"] == "rita@example.org" and int(entry["size_bytes"]) == len(content)
        assert all(not name.startswith(("/", "..")) and ".." not in name for name in archive.namelist())
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "case.evidence_zip")) == 1


# --- Hostile and odd files (from review) ---------------------------------------------------------

def test_a_reporter_cannot_add_evidence_to_a_published_case(rita_case, login):
    rita, reference = rita_case
    rita.post(f"/cases/{reference}/status", data={"status": "investigating"})
    login("eve").post(f"/cases/{reference}/status", data={"status": "published"})
    assert upload(rita, reference, ("late.txt", b"late evidence\n")).status_code == 403
    assert evidence_rows() == [] and not temp_files()


def test_an_html_mail_full_of_unclosed_tags_is_read_quickly(rita_case):
    rita, reference = rita_case
    mail = (b"From: a@example.org\r\nSubject: spam\r\nContent-Type: text/html\r\n\r\n" + b"<script>" * 40_000
            + b"<p>visible words</p>")
    started = time.perf_counter()
    upload(rita, reference, ("m.eml", mail))
    assert time.perf_counter() - started < 5
    assert evidence_rows()[0].extraction_state == "done"


@pytest.mark.parametrize("brand,outcome", [
    (b"heic", "HEIC and AVIF photos are not accepted yet"),
    (b"qt  ", "This video format is not accepted"),
    (b"isom", "video/mp4"),
    (b"M4A ", "audio/mp4"),
])
def test_iso_media_files_are_told_apart(rita_case, brand, outcome):
    rita, reference = rita_case
    content = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"\x00" * 200
    response = upload(rita, reference, ("clip.mp4", content))
    rows = evidence_rows()
    if outcome.startswith(("video/", "audio/")):
        assert rows[0].media_type == outcome
    else:
        assert rows == [] and outcome in rita.get(response.headers["Location"]).get_data(as_text=True)


def test_a_damaged_photo_does_not_break_the_upload(rita_case):
    rita, reference = rita_case
    broken = bytearray(files.png(size=(400, 300)))
    broken[60:-20] = b"\xaa" * len(broken[60:-20])  # a valid header, then garbage where the pixels were
    response = upload(rita, reference, ("a.txt", b"first\n"), ("broken.png", broken), ("c.txt", b"third\n"))
    assert response.status_code == 302
    names = {row.original_name: row for row in evidence_rows()}
    assert set(names) == {"a.txt", "broken.png", "c.txt"}  # kept as received; its preview may be partial
    assert not temp_files()


@pytest.mark.parametrize("content,reason", [
    (b"PK\x03\x04\x0e\x00" + b"\x00" * 40 + b"PK\x05\x06" + b"\x00" * 18, "ZIP archives are not accepted"),
])
def test_malformed_archives_are_refused_not_crashed_on(rita_case, content, reason):
    rita, reference = rita_case
    response = upload(rita, reference, ("x.docx", content))
    assert reason in rita.get(response.headers["Location"]).get_data(as_text=True)


def test_office_files_with_macros_are_refused(rita_case):
    rita, reference = rita_case
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with zipfile.ZipFile(io.BytesIO(files.docx(["hello"]))) as plain:
            for name in plain.namelist():
                archive.writestr(name, plain.read(name))
        archive.writestr("word/vbaProject.bin", b"\x00macro")
    response = upload(rita, reference, ("contract.docx", buffer.getvalue()))
    assert "with macros" in rita.get(response.headers["Location"]).get_data(as_text=True)
    assert evidence_rows() == []


def test_downloads_are_named_by_their_real_type(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("run.vbs", b"MsgBox 1\n"), ("photo.exe.txt", files.png()))
    text, image = evidence_rows()
    assert 'filename=run.txt' in rita.get(f"/evidence/{text.id}/download").headers["Content-Disposition"]
    assert 'filename=photo.exe.png' in rita.get(f"/evidence/{image.id}/download").headers["Content-Disposition"]


@pytest.mark.parametrize("content,media_type", [
    ("Notes from the call: refused.\n".encode("utf-16"), "text/plain"),
    ("Café receipt: 12,50 €\n".encode("cp1252"), "text/plain"),
    (b"From: Rita\nThe store owner said no.\n", "text/plain"),
])
def test_text_in_other_encodings_is_text(rita_case, content, media_type):
    rita, reference = rita_case
    upload(rita, reference, ("notes.txt", content))
    assert evidence_rows()[0].media_type == media_type


def test_html_in_utf16_is_still_refused(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("page.txt", "<html><script>alert(1)</script></html>".encode("utf-16")))
    assert evidence_rows() == []


def test_the_manifest_cannot_run_formulas(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("a.txt", b"x\n"), caption='=cmd|" /C calc"!A0')
    with zipfile.ZipFile(io.BytesIO(rita.get(f"/cases/{reference}/evidence.zip").data)) as archive:
        manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert manifest[0]["caption"] == "'=cmd|\" /C calc\"!A0"


def test_a_missing_stored_file_gives_a_clear_404_not_an_error(rita_case):
    rita, reference = rita_case
    upload(rita, reference, ("a.txt", b"x\n"))
    row = evidence_rows()[0]
    EvidenceStore(current_app.config["EVIDENCE_DIR"]).path_for(row.sha256).unlink()
    response = rita.get(f"/evidence/{row.id}/download")
    assert response.status_code == 404 and "flask evidence verify" in response.get_data(as_text=True)
    with zipfile.ZipFile(io.BytesIO(rita.get(f"/cases/{reference}/evidence.zip").data)) as archive:
        assert "MISSING FROM STORAGE" in archive.read("manifest.csv").decode()


def test_huge_ids_are_not_found(rita_case):
    rita, _ = rita_case
    for url in ("/evidence/99999999999999999999", "/evidence/99999999999999999999/download",
                "/dossiers/99999999999999999999"):
        assert rita.get(url).status_code == 404
