"""What the search index holds for a case, built from the database in one place."""
import hashlib
import json
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import Business, Case

STORED_TEXT_CHARS = 20_000  # per field, enough for snippets


def case_document(case: Case) -> dict:
    business: Business = case.business
    evidence_text = "\n".join(
        part for item in case.evidence if not item.is_withdrawn
        for part in (item.original_name, item.caption or "", (item.extracted_text or "")[:STORED_TEXT_CHARS]) if part
    )
    doc = {
        "id": str(case.id),
        "reference": case.reference.lower(),
        "title": case.title,
        "narrative": "\n".join(filter(None, [case.narrative, case.desired_resolution or "",
                                             case.business_response or ""])),
        "notes": "\n".join(entry.body for entry in case.timeline if entry.kind in ("note", "call", "email", "meeting")),
        "evidence": evidence_text,
        "business": " ".join([business.name, *business.alias_names]),
        "business_id": str(business.id),
        "complainant": " ".join(filter(None, [case.complainant_name, case.complainant_email, case.complainant_phone])),
        "category": case.category,
        "status": case.status,
        "tag": ",".join(case.tag_names),
        "region": (business.region or "").strip().lower() or "unknown",
        "year": str(case.date_received.year),
        "received": case.date_received.isoformat(),
        "created": case.created_at.isoformat(),
        "created_by": str(case.created_by_id),
        "assigned_to": str(case.assigned_to_id or ""),
    }
    doc["digest"] = hashlib.sha1(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    return doc


def load_cases(session: Session, case_ids: Iterable[int] | None = None, batch: int = 500) -> Iterator[Case]:
    """Cases with everything their documents need, loaded in batches (merged duplicates are not indexed)."""
    query = select(Case).where(Case.merged_into_id.is_(None)).options(
        selectinload(Case.business).selectinload(Business.aliases), selectinload(Case.tags),
        selectinload(Case.timeline), selectinload(Case.evidence),
    ).order_by(Case.id)
    ids = sorted(set(case_ids)) if case_ids is not None else None
    if ids is not None:
        for start in range(0, len(ids), batch):
            yield from session.scalars(query.where(Case.id.in_(ids[start:start + batch])))
        return
    last = 0
    while True:
        chunk = session.scalars(query.where(Case.id > last).limit(batch)).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].id
        session.expunge_all()
