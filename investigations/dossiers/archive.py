"""What an archival dossier carries inside it besides its pages: the evidence manifest (CSV) and the
case data (JSON), each exactly as the audience may read the printed pages (the same CaseContent
decides both), so a copy kept for decades still says which files it describes.

`flask dossier verify` reads the manifest back out of a PDF and checks it against the stored evidence.
"""
import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ..spreadsheets import spreadsheet_safe
from ..storage import EvidenceStore
from ..template_helpers import format_iso
from .audiences import CaseContent

MANIFEST_NAME = "evidence-manifest.csv"
CASE_DATA_NAME = "case-data.json"
MANIFEST_COLUMNS = ["case", "number", "name", "type", "media_type", "size_bytes", "sha256", "withdrawn", "attached_as"]


def manifest_csv(contents: list[CaseContent], attached: dict[int, str]) -> bytes:
    """One row per evidence file the dossier lists: the name as this audience reads it, its type,
    size and SHA-256; `attached` maps evidence ids to the name of their original inside the PDF."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_COLUMNS)
    for content in contents:
        for number, item in enumerate(content.evidence, start=1):
            writer.writerow([spreadsheet_safe(str(value)) for value in (
                content.case.reference, number, content.evidence_title(item, number), item.type_label,
                item.media_type, item.size, item.sha256, "yes" if item.is_withdrawn else "",
                attached.get(item.id, ""))])
    return out.getvalue().encode()


def _source(content: CaseContent) -> dict:
    case = content.case
    fields = {"source": case.source, "source_id": case.source_id}
    for name in ("product", "sub_product", "issue", "sub_issue", "company_response", "timely_response",
                 "consumer_disputed", "submitted_via"):
        value = getattr(case, name, None)
        if value not in (None, ""):
            fields[name] = value
    return {key: content.text(value) if isinstance(value, str) else value for key, value in fields.items()}


def case_summary(content: CaseContent) -> dict:
    """What the one-line table prints of a case."""
    case = content.case
    return {"reference": case.reference, "title": content.title, "category": case.category_label,
            "status": case.status_label, "date_received": case.date_received.isoformat(), **_source(content)}


def case_record(content: CaseContent) -> dict:
    """What the full text of a case prints, as data."""
    case = content.case
    record = case_summary(content)
    if content.show_complainant:
        record["complainant"] = {"name": case.complainant_name, "email": case.complainant_email,
                                 "phone": case.complainant_phone, "address": case.complainant_address}
    else:
        record["complainant"] = "identity withheld"
    record.update({
        "business": case.business.name,
        "narrative": content.text(case.narrative),
        "resolution_sought": content.text(case.desired_resolution) or None,
        "amount_in_dispute": str(case.amount_in_dispute) if case.amount_in_dispute is not None else None,
        "currency": case.currency,
        "incident_date": case.incident_date.isoformat() if case.incident_date else None,
        "response_requested_on": case.response_requested_on.isoformat() if case.response_requested_on else None,
        "response_due_on": case.response_due_on.isoformat() if case.response_due_on else None,
        "response_received_on": case.response_received_on.isoformat() if case.response_received_on else None,
        "business_response": content.text(case.business_response) or None,
        "timeline": [{"when": content.entry_when(entry), "what": entry.kind_label, "details": content.entry_text(entry)}
                     for entry in content.timeline],
        "evidence": [{"number": number, "name": content.evidence_title(item, number), "caption": content.caption(item),
                      "type": item.type_label, "size_bytes": item.size, "sha256": item.sha256,
                      "withdrawn": item.is_withdrawn} for number, item in enumerate(content.evidence, start=1)],
    })
    return record


def case_data_json(dossier, audience, issued_by: str, issued_at, full: list[CaseContent],
                   listed: list[CaseContent] = ()) -> bytes:
    data = {
        "dossier": dossier.id, "audience": audience.key, "confidentiality": audience.confidentiality,
        "issued_by": issued_by, "issued_at": format_iso(issued_at, "seconds"),
        "recipient": dossier.recipient or None,
        "cases": [case_record(content) for content in full],
    }
    if dossier.business is not None:
        data["business"] = dossier.business.name
        data["selection"] = dossier.selection
        data["cases_listed"] = [case_summary(content) for content in listed]
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


# --- Checking a manifest against the evidence store ----------------------------------------------


@dataclass
class ManifestCheck:
    found: bool  # the PDF carries a manifest
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.found and not self.problems


def read_attachment(data: bytes, name: str) -> bytes | None:
    from pypdf import PdfReader

    try:
        attachments = PdfReader(io.BytesIO(data), strict=False).attachments
        contents = attachments.get(name)
    except Exception:  # a damaged or hostile file: it carries nothing we can read
        return None
    return contents[0] if contents else None


def check_manifest(data: bytes, store: EvidenceStore,
                   sizes_on_record: Callable[[list[str]], dict[str, int]]) -> ManifestCheck:
    """Is every file the PDF's manifest names stored, unaltered (re-hashed), with the size it says?
    `sizes_on_record(hashes)` maps those of the given SHA-256 that are on record to their size."""
    raw = read_attachment(data, MANIFEST_NAME)
    if raw is None:
        return ManifestCheck(found=False)
    check = ManifestCheck(found=True)
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        check.problems.append("The attached manifest cannot be read.")
        return check
    known_sizes = sizes_on_record(sorted({(row.get("sha256") or "").strip().lower() for row in rows}))
    for row in rows:
        sha256, label = (row.get("sha256") or "").strip().lower(), f"{row.get('case', '?')} evidence {row.get('number', '?')}"
        check.files += 1
        if len(sha256) != 64 or sha256 not in known_sizes:
            check.problems.append(f"{label}: no evidence with SHA-256 {sha256[:64] or '(none)'} is on record.")
        elif str(known_sizes[sha256]) != (row.get("size_bytes") or "").strip():
            check.problems.append(f"{label}: the manifest says {row.get('size_bytes')} bytes, the record {known_sizes[sha256]}.")
        elif not store.exists(sha256):
            check.problems.append(f"{label}: the stored file is missing; run `flask evidence verify`.")
        elif _hash_file(store, sha256) != sha256:
            check.problems.append(f"{label}: the stored file no longer has its SHA-256 (altered); run `flask evidence verify`.")
    return check


def _hash_file(store: EvidenceStore, sha256: str) -> str:
    digest = hashlib.sha256()
    with open(store.path_for(sha256), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
