"""What the search index holds for a case, built from the database in one place."""
import hashlib
import json
import re
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import Business, Case

STORED_TEXT_CHARS = 20_000  # per field, enough for snippets

# Text the importers write where a source had nothing to say (investigations/imports/): it is no
# one's words, and indexed it would make "narrative", "published" or "complainant" match every
# imported complaint. What such a line carries of substance (the product named) is kept.
PLACEHOLDERS = [
    # cfpb.py, for a complaint without a consumer narrative; product and issue are kept (the issue
    # is the title as well).
    (re.compile(r"No narrative was published with this complaint\.\s*Product:\s*(.*?);\s*Issue:\s*(.*?)\.?$",
                re.MULTILINE), lambda m: " ".join(part for part in m.groups() if part != "not given")),
    (re.compile(r"No narrative was published with this complaint\.?"), ""),
    # cfpb.py, the company's response: the labels, a response that says there is none, and yes/no
    # fields are left out; the response itself ("Closed with explanation") is kept.
    (re.compile(r"^Company response to consumer:\s*", re.MULTILINE), ""),
    (re.compile(r"^Company public response:\s*Company has responded to the consumer and the CFPB and chooses not "
                r"to provide a public response\.?\s*$", re.MULTILINE | re.IGNORECASE), ""),
    (re.compile(r"^Company public response:\s*", re.MULTILINE), ""),
    (re.compile(r"^(?:Timely response|Consumer disputed):\s*\S*\s*$", re.MULTILINE), ""),
]
COMPLAINANT_PLACEHOLDERS = [
    (re.compile(r"^Unknown complainant$"), ""),  # importer.py and generic.py, when no name is given
    (re.compile(r"^CFPB complainant\s+"), ""),  # cfpb.py: only the CFPB's complaint ID is anyone's
]


def without_placeholders(text: str, placeholders=PLACEHOLDERS) -> str:
    for pattern, replacement in placeholders:
        text = pattern.sub(replacement, text)
    return text.strip()


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
        "narrative": "\n".join(filter(None, [without_placeholders(case.narrative or ""), case.desired_resolution or "",
                                             without_placeholders(case.business_response or "")])),
        "notes": "\n".join(entry.body for entry in case.timeline if entry.kind in ("note", "call", "email", "meeting")),
        "evidence": evidence_text,
        "business": " ".join([business.name, *business.alias_names]),
        "business_id": str(business.id),
        "complainant": " ".join(filter(None, [without_placeholders(case.complainant_name or "", COMPLAINANT_PLACEHOLDERS),
                                              case.complainant_email, case.complainant_phone])),
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
