"""Adding, reading, withdrawing and verifying evidence. The custody log is the audit trail."""
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from .. import audit
from ..extensions import db
from ..models import AuditEvent, Case, Evidence, ExtractionState, IntakeFile, User, utcnow
from ..permissions import require, visible_cases_clause
from ..spreadsheets import spreadsheet_safe
from ..storage import EvidenceStore, StagedFile
from . import images
from .extraction import ExtractionStopped, NothingToExtract, extract_in_child
from .filetypes import EXTENSIONS, FileType, RefusedFile, detect


def store() -> EvidenceStore:
    return EvidenceStore(current_app.config["EVIDENCE_DIR"])


def display_name(raw: str | None) -> str:
    """The uploaded file name as metadata: no path, no control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # "C:\\Users\\x\\receipt.pdf" and "../../etc/passwd" keep the last part
    name = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in name)
    name = " ".join(name.split()).strip(" .")
    return name[:200] or "unnamed file"


@dataclass
class Upload:
    """One file of a submission, as the browser sent it."""

    stream: object
    filename: str | None
    caption: str = ""
    source: str = ""


@dataclass
class UploadResult:
    added: list[Evidence] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (display name, reason)
    repeats: list[str] = field(default_factory=list)  # names of files identical to one already on the case
    staged: list[StagedFile] = field(default_factory=list)  # received files, until finished or abandoned


@dataclass
class _Checked:
    upload: Upload
    staged: StagedFile
    file_type: FileType
    image_info: images.ImageInfo | None


def add_evidence(case: Case, uploads: Iterable[Upload], uploader: User,
                 result: UploadResult | None = None, photo_copies_later: bool = False) -> UploadResult:
    """Receive every file, refuse what is not acceptable, store the rest and add their rows.

    A photo's thumbnail and print copy are made here, or with `photo_copies_later` by a job
    queued after the commit (schedule_photo_copies): decoding a large photo takes a second or more.

    Raises TooLarge if any file is over the limit. Call it inside `upload_committed(result)`, which
    commits, or on that and any other failure rolls back and keeps none of the upload's files.
    Pass `result` to keep hold of what was received when this raises.
    """
    result = result if result is not None else UploadResult()
    evidence_store = store()
    limit = current_app.config["MAX_UPLOAD_MB"] * 2**20
    max_pixels = current_app.config["MAX_IMAGE_MEGAPIXELS"] * 1_000_000
    checked = []
    for upload in uploads:
        staged = evidence_store.receive(upload.stream, limit)
        result.staged.append(staged)
        name = display_name(upload.filename)
        try:
            file_type = detect(staged.temp_path)
            info = images.inspect(staged.temp_path, max_pixels) if file_type.kind == "image" else None
        except RefusedFile as error:
            result.refused.append((name, str(error)))
            evidence_store.discard(staged)
            continue
        checked.append(_Checked(upload, staged, file_type, info))

    already_on_case = {evidence.sha256 for evidence in case.evidence}
    for item in checked:
        if item.staged.sha256 in already_on_case:
            result.repeats.append(display_name(item.upload.filename))
        evidence_store.store(item.staged)
        evidence = Evidence(
            case=case, sha256=item.staged.sha256, size=item.staged.size, media_type=item.file_type.media_type,
            kind=item.file_type.kind, type_label=item.file_type.label,
            original_name=display_name(item.upload.filename),
            caption=item.upload.caption.strip()[:2000] or None, source=item.upload.source.strip()[:255] or None,
            uploaded_by=uploader, extraction_state=ExtractionState.PENDING.value,
        )
        if item.image_info:
            evidence.width, evidence.height = item.image_info.width, item.image_info.height
            evidence.gps_location = item.image_info.gps_location
            # Later: its header was read, so it has a preview unless the job finds the pixels damaged.
            evidence.has_thumbnail = True if photo_copies_later else make_image_copies(item.staged.sha256)
        db.session.add(evidence)
        db.session.flush()
        audit.record("evidence.upload", evidence, case=case.reference, sha256=evidence.sha256, size=evidence.size,
                     media_type=evidence.media_type, name=evidence.original_name)
        result.added.append(evidence)
    return result


def store_uploads(case: Case, uploads: list[Upload], uploader: User) -> UploadResult:
    """Add the files to the case and commit, then start reading their text. On any failure
    (TooLarge included, which the caller turns into 413) nothing of the upload stays behind."""
    result = UploadResult()
    later = current_app.config["EVIDENCE_EXTRACTION"] != "inline"
    with upload_committed(result):
        add_evidence(case, uploads, uploader, result, photo_copies_later=later)
    added = [(evidence.id, evidence.sha256, evidence.kind) for evidence in result.added]
    if later:
        schedule_photo_copies([sha256 for _, sha256, kind in added if kind == "image"])
    schedule_extraction([evidence_id for evidence_id, _, _ in added])
    return result


def finish_upload(result: UploadResult) -> None:
    """After the commit: the rows are in; drop the temporary files (restoring any object a
    concurrent clean-up removed meanwhile)."""
    evidence_store = store()
    for staged in result.staged:
        if staged.lock_fd is not None:  # refused files were released already
            evidence_store.finish(staged)


@contextmanager
def upload_committed(result: UploadResult) -> Iterator[None]:
    """Commit what the block adds with the files received into `result`, then finish the upload; on
    any failure (re-raised) roll back and keep none of the files no committed row refers to."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        abandon_upload(result)
        raise
    finish_upload(result)


def abandon_upload(result: UploadResult) -> None:
    """After a refusal, or a failure and rollback: keep nothing of this upload that no committed row
    (evidence, or a public submission's file) refers to."""
    evidence_store = store()
    for staged in result.staged:
        if staged.created_object and staged.sha256 and not stored_object_referenced(staged.sha256):
            evidence_store.remove(staged.sha256)
        evidence_store.discard(staged)


def stored_object_referenced(sha256: str) -> bool:
    """Whether a committed row refers to the stored object: evidence of a case, or a file sent with
    a public submission (whose bytes are in the same store)."""
    return (db.session.scalar(select(Evidence.id).where(Evidence.sha256 == sha256).limit(1)) is not None
            or db.session.scalar(select(IntakeFile.id).where(IntakeFile.sha256 == sha256).limit(1)) is not None)


def make_image_copies(sha256: str) -> bool:
    """Make the thumbnail and print copy of a stored photo; False (no preview) if it cannot be decoded."""
    evidence_store = store()
    try:
        images.make_copies(evidence_store.path_for(sha256), {
            evidence_store.derived_path(sha256, "thumb"): images.THUMB_PX,
            evidence_store.derived_path(sha256, "print"): images.PRINT_PX,
        }, current_app.config["MAX_IMAGE_MEGAPIXELS"] * 1_000_000)
    except RefusedFile:
        return False  # the original is kept as received; it just has no preview
    return True


PHOTO_COPIES_JOB = "evidence.photo_copies"


def photo_copies_job_key(sha256: str) -> str:
    return f"photo:{sha256}"


def schedule_photo_copies(hashes: list[str]) -> None:
    """Queue the thumbnail and print copy of each stored photo (investigations/jobs runs them)."""
    from ..jobs.queue import submit

    for sha256 in dict.fromkeys(hashes):
        try:
            submit(PHOTO_COPIES_JOB, key=photo_copies_job_key(sha256), sha256=sha256)
        except Exception:  # the upload is committed; the image page makes missing copies when asked
            db.session.rollback()
            current_app.logger.exception("Could not queue the photo copies of %s", sha256)


def run_photo_copies(sha256: str) -> bool:
    """Make a stored photo's copies; a photo whose pixels cannot be decoded loses its preview.
    Safe to run twice: the copies are written again, each replacing the last whole."""
    made = make_image_copies(sha256)
    if not made:
        db.session.execute(update(Evidence).where(Evidence.sha256 == sha256).values(has_thumbnail=False)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    return made


def print_copies_to_remake(everything: bool = False) -> list[str]:
    """The stored photos whose print copy is missing or larger than images.PRINT_PX (made before the
    print size changed); with `everything`, every photo."""
    hashes = list(db.session.scalars(select(Evidence.sha256).where(Evidence.has_thumbnail.is_(True)).distinct()))
    if everything:
        return hashes
    evidence_store = store()
    return [sha256 for sha256 in hashes
            if (side := images.long_side(evidence_store.derived_path(sha256, "print"))) is None
            or side > images.PRINT_PX]


def ensure_photo_copies(items: Iterable[Evidence]) -> None:
    """Before a dossier prints photos: make now the copies whose job has not run yet. (A copy that
    is missing for any other reason stays missing, and the dossier says so.)"""
    from ..models import Job
    from ..models.jobs import UNFINISHED

    evidence_store = store()
    for item in items:
        if not item.has_thumbnail or evidence_store.derived_path(item.sha256, "print").is_file():
            continue
        pending = db.session.scalar(select(Job.id).where(
            Job.key == photo_copies_job_key(item.sha256), Job.state.in_(UNFINISHED)).limit(1))
        if pending is not None and evidence_store.exists(item.sha256) and not make_image_copies(item.sha256):
            item.has_thumbnail = False


# --- Reading ---------------------------------------------------------------------------------


def get_visible_evidence(evidence_id: int, user: User) -> Evidence:
    evidence = db.session.scalar(
        select(Evidence).join(Case, Evidence.case_id == Case.id).where(Evidence.id == evidence_id, visible_cases_clause(user))
    )
    require(evidence is not None)
    return evidence


def custody_log(evidence: Evidence) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "evidence", AuditEvent.object_id == str(evidence.id))
        .order_by(AuditEvent.seq)
    ))


def withdraw(evidence: Evidence, reason: str, actor: User) -> None:
    if evidence.is_withdrawn:
        raise ValueError("This file is already withdrawn.")
    evidence.withdrawn_at = utcnow()
    evidence.withdrawn_by = actor
    evidence.withdrawal_reason = reason.strip()
    audit.record("evidence.withdraw", evidence, case=evidence.case.reference, reason=evidence.withdrawal_reason)


# --- Text extraction, after the response -----------------------------------------------------

def run_extraction(evidence_id: int) -> None:
    """Read the text of one evidence file and save it with its state (done, failed or none)."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        return
    config = current_app.config
    try:
        # In a child process with a memory and a time limit: no file can take this worker down.
        result = extract_in_child(store().path_for(evidence.sha256), evidence.kind,
                                  memory_mb=config["EXTRACTION_MEMORY_MB"], seconds=config["EXTRACTION_SECONDS"],
                                  max_elements=config["EXTRACTION_MAX_ELEMENTS"])
    except NothingToExtract as reason:
        evidence.extraction_state, evidence.extraction_error = ExtractionState.NONE.value, str(reason)
    except ExtractionStopped as error:
        current_app.logger.warning("Text extraction of evidence %s stopped: %s", evidence_id, error)
        evidence.extraction_state, evidence.extraction_error = ExtractionState.FAILED.value, str(error)[:500]
    except Exception as error:  # a damaged file must not stop the others
        current_app.logger.warning("Text extraction failed for evidence %s: %s", evidence_id, error)
        evidence.extraction_state = ExtractionState.FAILED.value
        evidence.extraction_error = (str(error) or error.__class__.__name__)[:500]
    else:
        evidence.extraction_state, evidence.extraction_method = ExtractionState.DONE.value, result.method
        # The note says what was left unread (a document cut at its element budget); the text
        # read before that point is kept and searchable.
        evidence.extracted_text, evidence.extraction_error = result.text, result.note
    evidence.extracted_at = utcnow()
    try:
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        current_app.logger.warning("Saving the text of evidence %s failed: %s", evidence_id, error)
        evidence = db.session.get(Evidence, evidence_id)
        evidence.extraction_state = ExtractionState.FAILED.value
        evidence.extraction_error, evidence.extracted_text = f"Could not save the text: {error}"[:500], None
        db.session.commit()


def schedule_extraction(evidence_ids: list[int]) -> None:
    """Extract after the response, as background jobs (`flask jobs consumer` runs them; see
    investigations/jobs/queue.py), or at once when EVIDENCE_EXTRACTION is 'inline'."""
    if not evidence_ids:
        return
    if current_app.config["EVIDENCE_EXTRACTION"] == "inline":
        for evidence_id in evidence_ids:
            run_extraction(evidence_id)
        return
    from ..jobs.queue import submit

    for evidence_id in evidence_ids:
        try:
            submit("evidence.extract", key=f"evidence:{evidence_id}", evidence_id=evidence_id)
        except Exception:  # the upload is committed; `flask evidence extract` reads what stays pending
            db.session.rollback()
            current_app.logger.exception("Could not queue the text extraction of evidence %s", evidence_id)


# --- Export and verification -----------------------------------------------------------------

MANIFEST_FIELDS = ["file", "original_name", "type", "size_bytes", "sha256", "uploaded_by", "uploaded_at", "caption",
                   "source", "withdrawn"]
ALREADY_COMPRESSED = {"image", "audio", "video", "pdf", "document", "spreadsheet"}


def download_name(evidence: Evidence) -> str:
    """The original name with the extension of the detected type: a text file named run.vbs downloads
    as run.txt, so opening it never runs it."""
    stem = Path(evidence.original_name).stem.strip() or "evidence"
    return f"{stem[:120]}.{EXTENSIONS.get(evidence.media_type, 'bin')}"


def write_case_zip(case: Case, evidence_list: list[Evidence], out: io.BufferedIOBase, actor: User) -> None:
    """The originals of a case's evidence and a manifest (CSV) of names, types, sizes and hashes."""
    evidence_store = store()
    manifest = io.StringIO()
    writer = csv.DictWriter(manifest, fieldnames=MANIFEST_FIELDS)
    writer.writeheader()
    with zipfile.ZipFile(out, "w") as archive:
        for index, evidence in enumerate(evidence_list, start=1):
            path = evidence_store.path_for(evidence.sha256)
            safe_name = re.sub(r"[^\w.\- ]+", "_", download_name(evidence))
            name = f"evidence/{index:03d}-{safe_name}"
            if path.is_file():
                compression = zipfile.ZIP_STORED if evidence.kind in ALREADY_COMPRESSED else zipfile.ZIP_DEFLATED
                archive.write(path, name, compress_type=compression)
                audit.record("evidence.export", evidence, actor=actor, case=case.reference, via="zip")
            else:
                name = "MISSING FROM STORAGE (run flask evidence verify)"
            writer.writerow({key: spreadsheet_safe(str(value)) for key, value in {
                "file": name, "original_name": evidence.original_name, "type": evidence.media_type,
                "size_bytes": evidence.size, "sha256": evidence.sha256, "uploaded_by": evidence.uploaded_by.email,
                "uploaded_at": evidence.uploaded_at.isoformat(timespec="seconds") + "Z",
                "caption": evidence.caption or "", "source": evidence.source or "",
                "withdrawn": (evidence.withdrawal_reason or "") if evidence.is_withdrawn else "",
            }.items()})
        archive.writestr("manifest.csv", manifest.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    audit.record("case.evidence_zip", case, actor=actor, files=len(evidence_list))
