"""A case's "last change" and timeline follow the work done on it, wherever it is done.

Evidence is added by investigations/evidence (the upload form, the API): each new file puts an
"Evidence added" entry on its case's timeline, by its uploader, and moves the case's last change,
in the same flush as the file's row. Internal, like every entry of the newsroom's own work.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import Case, Evidence, TimelineEntry, utcnow
from ..models.cases import TimelineKind


def evidence_entry_body(evidence: Evidence) -> str:
    label = f" ({evidence.type_label})" if evidence.type_label else ""
    return f"Added {evidence.original_name}{label}."


@event.listens_for(Session, "before_flush")
def _evidence_on_the_timeline(session: Session, flush_context, instances) -> None:
    for obj in list(session.new):
        if not isinstance(obj, Evidence):
            continue
        case = obj.case
        if case is None and obj.case_id is not None:
            case = session.get(Case, obj.case_id)
        if case is None:
            continue
        now = utcnow()
        case.timeline.append(TimelineEntry(kind=TimelineKind.EVIDENCE.value, body=evidence_entry_body(obj),
                                           author=obj.uploaded_by, occurred_at=now, internal=True))
        case.updated_at = now
