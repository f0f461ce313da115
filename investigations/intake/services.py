"""The public side: filing a complaint, finding it again by its receipt code, adding to it.

Nothing here reads or returns anything of the archive but the one submission the code names and
the one status word of the case it became.
"""
from dataclasses import dataclass

from flask import current_app

from .. import audit
from ..cases.services import add_timeline
from ..evidence.services import (
    Upload,
    UploadResult,
    schedule_extraction,
    schedule_photo_copies,
    upload_committed,
)
from ..extensions import db
from ..models import Case, IntakeNote, IntakeState, IntakeSubmission, utcnow
from ..models.cases import Status, TimelineKind
from . import files, receipts

# Who the audit trail names for what the public does (there is no account).
COMPLAINANT = "the complainant (public form)"

RECEIVED, LOOKED_INTO, CLOSED = "received", "being looked into", "closed"
STATUS_EXPLANATIONS = {
    RECEIVED: "We have your complaint. An editor will read it soon.",
    LOOKED_INTO: "Our reporters are looking into your complaint. We will contact you if we need more.",
    CLOSED: "We have finished with this complaint. Thank you for telling us about it.",
}
CLOSED_STATUSES = {Status.RESOLVED.value, Status.PUBLISHED.value, Status.CLOSED.value}

SUBMISSION_FIELDS = ("summary", "narrative", "business_name", "incident_date", "amount_in_dispute", "currency",
                     "desired_resolution", "complainant_name", "complainant_email", "complainant_phone",
                     "complainant_address")


def _clean(value):
    return (value.strip() or None) if isinstance(value, str) else value


def submit(data: dict, uploads: list[Upload]) -> tuple[IntakeSubmission, str]:
    """Keep a complaint and its files for triage; return it and its receipt code (shown once).
    Raises files.FileProblem (nothing kept) when a file cannot be taken."""
    code = receipts.new_code()
    fields = {name: _clean(data.get(name)) for name in SUBMISSION_FIELDS}
    fields["currency"] = fields["currency"] or current_app.config["DEFAULT_CURRENCY"]
    submission = IntakeSubmission(receipt_hash=receipts.code_hash(code), consent_to_publish=data.get("consent") == "yes",
                                  **fields)
    result = UploadResult()
    with upload_committed(result):
        submission.files = files.keep(files.receive(uploads, result))
        db.session.add(submission)
        db.session.flush()
        audit.record("intake.submit", submission, actor_label=COMPLAINANT,
                     files=[{"sha256": row.sha256, "size": row.size} for row in submission.files])
    return submission, code


def find_by_code(typed: str | None) -> IntakeSubmission | None:
    code = receipts.normalize(typed)
    if code is None:
        return None
    return db.session.scalar(db.select(IntakeSubmission).where(IntakeSubmission.receipt_hash == receipts.code_hash(code)))


def current_case(submission: IntakeSubmission) -> Case | None:
    """The case the submission became or duplicates, followed through merges."""
    case = submission.case
    while case is not None and case.merged_into is not None:
        case = case.merged_into
    return case


@dataclass
class PublicStatus:
    word: str  # RECEIVED, LOOKED_INTO or CLOSED
    explanation: str
    may_add: bool


def public_status(submission: IntakeSubmission) -> PublicStatus:
    """All the public side may know: one of three words."""
    state = submission.state_enum
    if state == IntakeState.TRIAGE:
        word = RECEIVED
    elif state == IntakeState.DECLINED:
        word = CLOSED
    else:
        case = current_case(submission)
        word = CLOSED if case is None or case.status in CLOSED_STATUSES else LOOKED_INTO
    return PublicStatus(word, STATUS_EXPLANATIONS[word], may_add=word != CLOSED)


def add_information(submission: IntakeSubmission, note: str | None, uploads: list[Upload]) -> tuple[bool, int]:
    """The complainant adds a note and/or files; return (note added, files added).
    Before triage they wait with the submission; once accepted they go to the case (files as evidence,
    the note as an internal timeline entry); a duplicate's note goes to the case it duplicates."""
    from .triage import attach_file  # the editors' side makes evidence of files the same way at acceptance

    note = (note or "").strip()
    result = UploadResult()
    added_evidence = []
    with upload_committed(result):
        new_files = files.keep(files.receive(uploads, result))
        submission.files.extend(new_files)
        case = current_case(submission)
        if note:
            row = IntakeNote(body=note)
            submission.notes.append(row)
            if case is not None:
                entry = add_timeline(case, TimelineKind.NOTE, f"From the complainant, through the status page: {note}",
                                     None, internal=True)
                case.updated_at = utcnow()
                db.session.flush()
                row.timeline_entry_id = entry.id
        db.session.flush()
        if case is not None and submission.state == IntakeState.ACCEPTED.value:
            added_evidence = [attach_file(case, row, submission) for row in new_files]
        audit.record("intake.add", submission, actor_label=COMPLAINANT, note=bool(note),
                     files=[{"sha256": row.sha256, "size": row.size} for row in new_files])
    after_evidence_commit(added_evidence)
    return bool(note), len(new_files)


def after_evidence_commit(evidence_rows) -> None:
    """Once evidence rows are committed: their photo copies and text, as for staff uploads."""
    rows = [(row.id, row.sha256, row.kind) for row in evidence_rows]
    schedule_photo_copies([sha256 for _, sha256, kind in rows if kind == "image"])
    schedule_extraction([evidence_id for evidence_id, _, _ in rows])
