"""Reading text out of evidence is bounded: an element budget for Office XML, and a child process
with a memory and a time limit for every file, so that no upload can take a worker down."""
import ast
import io
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from investigations.evidence import extraction
from investigations.evidence.extraction import (
    TOO_DEEP,
    TOO_MANY_ELEMENTS,
    ExtractionStopped,
    extract_in_child,
    extract_text,
)
from investigations.extensions import db
from investigations.models import Evidence
from tests import evidence_files as files
from tests.conftest import file_case, sign_in

CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.wordprocessingml.document.main+xml"/></Types>')
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(body: str, prolog: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", f'<?xml version="1.0"?>{prolog}<w:document xmlns:w="{W}">'
                                              f"<w:body>{body}</w:body></w:document>")
    return out.getvalue()


def flood_docx(elements: int = 5_000_000) -> bytes:
    """One real paragraph, then millions of empty elements: 20 MB of XML, about 20 KB zipped."""
    return docx_with_body("<w:p><w:r><w:t>Kept before the flood</w:t></w:r></w:p>" + "<x/>" * elements
                          + "<w:p><w:r><w:t>Never reached</w:t></w:r></w:p>")


@pytest.fixture(scope="module")
def flood(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("flood") / "flood.docx"
    path.write_bytes(flood_docx())
    assert path.stat().st_size < 60_000
    return path


def upload_with(app_factory, content: bytes, name: str = "contract.docx", **settings) -> Evidence:
    """Upload one file through the web with these settings (extraction inline) and return its row."""
    app = app_factory(EVIDENCE_EXTRACTION="inline", **settings)
    client = app.test_client()
    sign_in(client, "rita@example.org")
    reference = file_case(client)
    response = client.post(f"/cases/{reference}/evidence", data={"files": [(io.BytesIO(content), name)]},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    app.test_reference, app.test_client_signed_in = reference, client
    with app.app_context():
        row = db.session.scalars(select(Evidence).order_by(Evidence.id.desc())).first()
        db.session.expunge(row)
    row.app = app
    return row


# --- The element budget ----------------------------------------------------------------------


def test_a_flood_of_empty_elements_is_cut_at_the_budget_and_the_text_before_is_kept(flood):
    result = extract_text(flood, "document")
    assert result.text == "Kept before the flood"
    assert result.note == TOO_MANY_ELEMENTS


def test_the_budget_is_a_setting(tmp_path):
    path = tmp_path / "small.docx"
    path.write_bytes(files.docx([f"paragraph {i}" for i in range(100)]))
    whole = extract_text(path, "document")
    assert whole.note is None and "paragraph 99" in whole.text
    cut = extract_text(path, "document", max_elements=50)  # 4 elements a paragraph
    assert cut.note == TOO_MANY_ELEMENTS
    assert "paragraph 0" in cut.text and "paragraph 99" not in cut.text


def test_spreadsheets_have_the_same_budget(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.'
                         'org/spreadsheetml/2006/main"><si><t>Invoice 4411</t></si>' + "<si/>" * 600_000 + "</sst>")
    path = tmp_path / "book.xlsx"
    path.write_bytes(out.getvalue())
    result = extract_text(path, "spreadsheet")
    assert result.text == "Invoice 4411" and result.note == TOO_MANY_ELEMENTS


def test_deep_nesting_is_cut_too(tmp_path):
    path = tmp_path / "deep.docx"
    path.write_bytes(docx_with_body("<w:p><w:r><w:t>Top</w:t></w:r></w:p>" + "<x>" * 100_000 + "</x>" * 100_000))
    result = extract_text(path, "document")
    assert result.text == "Top" and result.note == TOO_DEEP


def test_entity_expansion_is_still_refused(tmp_path):
    laughs = '<!DOCTYPE d [<!ENTITY a "hahahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = tmp_path / "laughs.docx"
    path.write_bytes(docx_with_body("<w:p><w:r><w:t>&b;</w:t></w:r></w:p>", prolog=laughs))
    with pytest.raises(Exception, match="(?i)entit"):
        extract_text(path, "document")
    with pytest.raises(RuntimeError, match="(?i)entit"):
        extract_in_child(path, "document", memory_mb=512, seconds=60)


# --- The child process -----------------------------------------------------------------------


def test_the_child_reads_a_flood_within_a_small_memory_limit(tmp_path):
    # Kept as a tree, each empty element cost about 85 bytes: the 5-million-element flood took a
    # worker from 129 to 557 MB, and these 2 million would need some 170 MB on top of the
    # interpreter, so a 128 MB address-space limit would stop them. Freed one by one, they fit.
    path = tmp_path / "flood.docx"
    path.write_bytes(flood_docx(2_000_000))
    result = extract_in_child(path, "document", memory_mb=128, seconds=60, max_elements=10**9)
    assert result.text == "Kept before the flood\nNever reached" and result.note is None


def test_a_file_needing_more_memory_than_the_limit_is_stopped(tmp_path):
    path = tmp_path / "n.txt"
    path.write_bytes(b"Manager said no\n" * 20_000)  # 320 KB, read whole, then decoded
    assert extract_in_child(path, "text", memory_mb=512, seconds=60).text.startswith("Manager said no")
    with pytest.raises(ExtractionStopped, match="^Text extraction stopped: the file needed more than 8 MB$"):
        extract_in_child(path, "text", memory_mb=8, seconds=60)


def test_a_file_taking_longer_than_the_limit_is_stopped(flood):
    started = time.perf_counter()
    with pytest.raises(ExtractionStopped, match="^Text extraction stopped: the file took longer than 1 s$"):
        extract_in_child(flood, "document", memory_mb=512, seconds=1, max_elements=10**9)  # about 8 s to read
    assert time.perf_counter() - started < 30  # stopped, not read to the end (no wall-clock target: CI is shared)


def test_the_child_gives_the_same_text_as_reading_in_process(tmp_path):
    for name, kind, content in [("r.pdf", "pdf", files.text_pdf("Refund refused by ACME")),
                                ("m.eml", "email", files.eml()),
                                ("c.docx", "document", files.docx(["Clause 7: no refunds after 14 days"])),
                                ("n.txt", "text", b"Manager said no\n")]:
        path = tmp_path / name
        path.write_bytes(content)
        assert extract_in_child(path, kind, memory_mb=512, seconds=60) == extract_text(path, kind)


def test_the_child_does_not_import_the_app():
    """The child runs extraction.py as a script: it may import nothing of the package (no Flask, no database)."""
    tree = ast.parse(Path(extraction.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith(("investigations", "flask")), node.module
        elif isinstance(node, ast.Import):
            assert not any(alias.name.startswith(("investigations", "flask")) for alias in node.names)


# --- Through the app -------------------------------------------------------------------------


def test_an_uploaded_flood_is_marked_as_cut_on_its_pages(app_factory, users):
    row = upload_with(app_factory, flood_docx(), EXTRACTION_MEMORY_MB=128)
    assert row.extraction_state == "done"
    assert row.extracted_text == "Kept before the flood"
    assert row.extraction_error == TOO_MANY_ELEMENTS
    client = row.app.test_client_signed_in
    page = client.get(f"/evidence/{row.id}").get_data(as_text=True)
    assert "Text extracted, in part. Text extraction stopped: too many elements" in page
    case_page = client.get(f"/cases/{row.app.test_reference}").get_data(as_text=True)
    assert "Text extracted, in part (Text extraction stopped: too many elements)" in case_page


def test_the_element_budget_comes_from_the_settings(app_factory, users):
    row = upload_with(app_factory, files.docx([f"paragraph {i}" for i in range(100)]), EXTRACTION_MAX_ELEMENTS=50)
    assert row.extraction_state == "done" and row.extraction_error == TOO_MANY_ELEMENTS
    assert "paragraph 0" in row.extracted_text and "paragraph 99" not in row.extracted_text


def test_an_upload_over_the_time_limit_is_recorded_as_failed(app_factory, users):
    started = time.perf_counter()
    row = upload_with(app_factory, flood_docx(), EXTRACTION_SECONDS=1, EXTRACTION_MAX_ELEMENTS=10**9)
    assert time.perf_counter() - started < 30
    assert row.extraction_state == "failed" and row.extracted_text is None
    assert row.extraction_error == "Text extraction stopped: the file took longer than 1 s"
    page = row.app.test_client_signed_in.get(f"/evidence/{row.id}").get_data(as_text=True)
    assert "Text extraction failed: Text extraction stopped: the file took longer than 1 s" in page


def test_an_upload_over_the_memory_limit_is_recorded_as_failed(app_factory, users):
    row = upload_with(app_factory, b"Manager said no\n" * 20_000, name="n.txt", EXTRACTION_MEMORY_MB=8)
    assert row.extraction_state == "failed" and row.extracted_text is None
    assert row.extraction_error == "Text extraction stopped: the file needed more than 8 MB"
