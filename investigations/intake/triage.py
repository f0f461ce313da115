"""The editors' side: the triage queue and its three decisions, each audited.

Accepting makes a proper Case through the same service as the New case form (reference, the
"Case opened" entry, search through the usual session hooks), with the complainant's files as its
evidence. A duplicate leaves a note on the existing case; a decline keeps the reason.
"""
from sqlalchemy import select

from .. import audit
from ..cases.services import CaseDetails, add_timeline, assign_case, create_case
from ..extensions import db
from ..models import Case, Evidence, ExtractionState, IntakeFile, IntakeState, IntakeSubmission, User, utcnow
from ..models.cases import TimelineKind
from ..template_helpers import format_date, to_local
from .services import COMPLAINANT, after_evidence_commit


class TriageError(ValueError):
    """A decision that cannot be made (already decided, no such case); str() says why."""


def queue() -> list[IntakeSubmission]:
    """Waiting submissions, oldest first."""
    return list(db.session.scalars(select(IntakeSubmission).where(IntakeSubmission.state == IntakeState.TRIAGE.value)
                                   .order_by(IntakeSubmission.submitted_at, IntakeSubmission.id)))


def waiting_count() -> int:
    return db.session.scalar(select(db.func.count(IntakeSubmission.id))
                             .where(IntakeSubmission.state == IntakeState.TRIAGE.value)) or 0


def recently_decided(limit: int = 20) -> list[IntakeSubmission]:
    return list(db.session.scalars(select(IntakeSubmission).where(IntakeSubmission.state != IntakeState.TRIAGE.value)
                                   .order_by(IntakeSubmission.decided_at.desc(), IntakeSubmission.id.desc())
                                   .limit(limit)))


def _decide(submission: IntakeSubmission, state: IntakeState, editor: User) -> None:
    if submission.state != IntakeState.TRIAGE.value:
        raise TriageError(f"{submission.reference} was already decided ({submission.state_enum.label.lower()}).")
    submission.state = state.value
    submission.decided_by = editor
    submission.decided_at = utcnow()


def attach_file(case: Case, intake_file: IntakeFile, submission: IntakeSubmission) -> Evidence:
    """Make a complainant's file evidence of `case`: the same stored bytes, and a custody log that
    starts with the complainant. Evidence rows need an uploader account: the editor who accepted
    the submission takes that place (and the "Evidence added" entry that cases/activity.py writes)."""
    evidence = Evidence(case=case, sha256=intake_file.sha256, size=intake_file.size, media_type=intake_file.media_type,
                        kind=intake_file.kind, type_label=intake_file.type_label,
                        original_name=intake_file.original_name, source="Public complaint form",
                        uploaded_by=submission.decided_by, width=intake_file.width, height=intake_file.height,
                        gps_location=intake_file.gps_location, has_thumbnail=intake_file.kind == "image",
                        extraction_state=ExtractionState.PENDING.value)
    db.session.add(evidence)
    db.session.flush()
    intake_file.evidence = evidence
    event = audit.record("evidence.upload", evidence, case=case.reference, sha256=evidence.sha256, size=evidence.size,
                         media_type=evidence.media_type, name=evidence.original_name, via="public form",
                         submission=submission.reference, received=intake_file.received_at.isoformat(timespec="seconds"),
                         taken_in_by=submission.decided_by.email)
    # The file was submitted by the complainant, not by whoever is signed in now: the custody log says so.
    event.actor_id, event.actor_label = None, COMPLAINANT
    return evidence


def accept(submission: IntakeSubmission, editor: User, title: str, category: str,
           assignee: User | None = None) -> tuple[Case, list[Evidence]]:
    """Make the submission a case; the caller commits, then calls after_evidence_commit(evidence)."""
    _decide(submission, IntakeState.ACCEPTED, editor)
    data = {
        "title": title, "narrative": submission.narrative, "category": category,
        "business_name": submission.business_name, "desired_resolution": submission.desired_resolution,
        "amount_in_dispute": submission.amount_in_dispute, "currency": submission.currency,
        "incident_date": submission.incident_date, "date_received": to_local(submission.submitted_at).date(),
        "received_via": "web", "complainant_name": submission.complainant_name,
        "complainant_email": submission.complainant_email, "complainant_phone": submission.complainant_phone,
        "complainant_address": submission.complainant_address, "consent_to_publish": submission.consent_to_publish,
    }
    case, _ = create_case(CaseDetails.from_fields(data), editor)
    case.source, case.source_id = "public_form", str(submission.id)
    submission.case = case
    add_timeline(case, TimelineKind.NOTE, f"Filed by the complainant on the public complaint form on "
                 f"{format_date(submission.submitted_at)} ({submission.reference}); accepted from the triage queue.",
                 editor, internal=True)
    db.session.flush()
    if assignee is not None:
        assign_case(case, assignee, editor)
    evidence = [attach_file(case, row, submission) for row in submission.files]
    for note in submission.notes:
        entry = add_timeline(case, TimelineKind.NOTE, f"From the complainant, through the status page: {note.body}",
                             None, occurred_at=note.added_at, internal=True)
        db.session.flush()
        note.timeline_entry_id = entry.id
    audit.record("intake.accept", submission, actor=editor, case=case.reference,
                 assigned_to=assignee.email if assignee else None, files=len(evidence))
    return case, evidence


def mark_duplicate(submission: IntakeSubmission, editor: User, reference: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise TriageError(f"There is no case {reference.strip()}.")
    while case.merged_into is not None:
        case = case.merged_into
    _decide(submission, IntakeState.DUPLICATE, editor)
    submission.case = case
    add_timeline(case, TimelineKind.NOTE, f"A complaint sent on the public complaint form on "
                 f"{format_date(submission.submitted_at)} ({submission.reference}) was marked as a duplicate of this "
                 f"case. Its details and files stay in the triage record.", editor, internal=True)
    audit.record("intake.duplicate", submission, actor=editor, case=case.reference)
    return case


def decline(submission: IntakeSubmission, editor: User, reason: str) -> None:
    _decide(submission, IntakeState.DECLINED, editor)
    submission.decline_reason = reason.strip()
    audit.record("intake.decline", submission, actor=editor, reason=submission.decline_reason)


def log_view(submission: IntakeSubmission, editor: User) -> None:
    """Opening a submission shows the complainant's details: audited like Show contact details."""
    audit.record("intake.view", submission, actor=editor)


__all__ = ["TriageError", "accept", "after_evidence_commit", "decline", "log_view", "mark_duplicate", "queue",
           "recently_decided", "waiting_count"]
