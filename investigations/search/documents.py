"""What the search index holds for a case, built from the database in one place."""
import hashlib
import re
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session, selectinload

from ..models import Business, BusinessAlias, Case, CaseTag, Evidence, TimelineEntry
from ..regions import complaint_region

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
    (re.compile(r"^Unknown complainant$"), ""),  # imports/row_mapping.py and generic.py, when no name is given
    (re.compile(r"^CFPB complainant\s+"), ""),  # cfpb.py: only the CFPB's complaint ID is anyone's
]


def without_placeholders(text: str, placeholders=PLACEHOLDERS) -> str:
    for pattern, replacement in placeholders:
        text = pattern.sub(replacement, text)
    return text.strip()


# Texts without any of these cannot match a placeholder pattern (each a scan of the whole text):
# cheap substring tests let most of them skip the patterns.
_PLACEHOLDER_MARKERS = ("No narrative was published", "Company response to consumer:", "Timely response:",
                        "Consumer disputed:")


def _without_placeholders(text: str | None) -> str:
    text = text or ""
    if any(marker in text for marker in _PLACEHOLDER_MARKERS) or "company public response:" in text.lower():
        return without_placeholders(text)
    return text.strip()


NOTE_KINDS = ("note", "call", "email", "meeting")  # timeline entries whose text is searched
DIGEST_KEYS = ("id", "reference", "title", "narrative", "notes", "evidence", "business", "business_id", "complainant",
               "category", "status", "tag", "region", "year", "received", "created", "created_by", "assigned_to",
               "source", "source_id", "product", "issue", "company_response")


def _narrative(case) -> str:
    return "\n".join(filter(None, [_without_placeholders(case.narrative), case.desired_resolution or "",
                                   _without_placeholders(case.business_response)]))


def _evidence_text(evidence: list) -> str:
    return "\n".join(part for original_name, caption, extracted in evidence
                     for part in (original_name, caption or "", (extracted or "")[:STORED_TEXT_CHARS]) if part)


def _document(case, notes: list[str], evidence: list, business_name: str, aliases: list[str],
              region: str | None, tags: list[str]) -> dict:
    """The document of one case, from plain values (`case` has the cases table's columns)."""
    doc = {
        "id": str(case.id),
        "reference": case.reference.lower(),
        "title": case.title,
        "narrative": _narrative(case),
        "notes": "\n".join(notes),
        "evidence": _evidence_text(evidence),
        "business": " ".join([business_name, *aliases]),
        "business_id": str(case.business_id),
        "complainant": " ".join(filter(None, [without_placeholders(case.complainant_name or "", COMPLAINANT_PLACEHOLDERS),
                                              case.complainant_email, case.complainant_phone])),
        "category": case.category,
        "status": case.status,
        "tag": ",".join(tags),
        # An imported complaint's consumer's state (or ZIP) first: the business's region is where it is.
        "region": (complaint_region(case.consumer_state, case.consumer_zip) or region or "").strip().lower()
        or "unknown",
        "year": str(case.date_received.year),
        "received": case.date_received.isoformat(),
        "created": case.created_at.isoformat(),
        "created_by": str(case.created_by_id),
        "assigned_to": str(case.assigned_to_id or ""),
        "source": case.source or "staff",
        "source_id": (case.source_id or "").lower(),  # one term, matched as typed in any case
        # The CFPB's own fields as facets, as the CFPB writes them ("" where a case has none).
        "product": case.product or "",
        "issue": case.issue or "",
        "company_response": case.company_response or "",
    }
    doc["digest"] = digest(doc)
    return doc


def digest(doc: dict) -> str:
    """A fingerprint of a document's values (every one a string), to tell a stale index entry: the
    values in a fixed order of keys, each ended by a separator no text contains (four times
    cheaper than hashing the document as sorted JSON, which costs 10 % of a reindex)."""
    return hashlib.sha1("\x1e".join(doc[key] for key in DIGEST_KEYS).encode()).hexdigest()


def case_document(case: Case) -> dict:
    """The document of a case loaded as an ORM object (case_documents() builds many faster)."""
    business: Business = case.business
    return _document(
        case, [entry.body for entry in case.timeline if entry.kind in NOTE_KINDS],
        [(item.original_name, item.caption, item.extracted_text) for item in case.evidence if not item.is_withdrawn],
        business.name, business.alias_names, business.region, case.tag_names)


CASE_COLUMNS = [Case.id, Case.reference, Case.title, Case.narrative, Case.desired_resolution, Case.business_response,
                Case.business_id, Case.complainant_name, Case.complainant_email, Case.complainant_phone, Case.category,
                Case.status, Case.date_received, Case.created_at, Case.created_by_id, Case.assigned_to_id,
                Case.source, Case.source_id, Case.product, Case.issue, Case.company_response, Case.consumer_state,
                Case.consumer_zip]


def _grouped(session: Session, query, where) -> dict[int, list]:
    """Rows of `query` restricted by `where`, grouped by their first column, in the query's order."""
    grouped: dict[int, list] = {}
    for row in session.execute(query.where(where)):
        grouped.setdefault(row[0], []).append(row[1] if len(row) == 2 else tuple(row[1:]))
    return grouped


# The texts a page of hits cuts its snippets from, for a few cases by id: statements built once
# (an expanding "ids" parameter), so a search pays for four cached queries, not for building them.
_IDS = bindparam("ids", expanding=True)
_SNIPPET_CASES = select(Case.id, Case.reference, Case.title, Case.narrative, Case.desired_resolution,
                        Case.business_response, Case.business_id, Business.name).join(
    Business, Business.id == Case.business_id).where(Case.id.in_(_IDS), Case.merged_into_id.is_(None))
_SNIPPET_NOTES = select(TimelineEntry.case_id, TimelineEntry.body).where(
    TimelineEntry.case_id.in_(_IDS), TimelineEntry.kind.in_(NOTE_KINDS)).order_by(
    TimelineEntry.case_id, TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
_SNIPPET_EVIDENCE = select(Evidence.case_id, Evidence.original_name, Evidence.caption, Evidence.extracted_text).where(
    Evidence.case_id.in_(_IDS), Evidence.withdrawn_at.is_(None)).order_by(
    Evidence.case_id, Evidence.uploaded_at, Evidence.id)
_SNIPPET_ALIASES = select(BusinessAlias.business_id, BusinessAlias.name).where(
    BusinessAlias.business_id.in_(_IDS)).order_by(BusinessAlias.business_id, BusinessAlias.name)


def snippet_texts(session: Session | Connection, case_ids: list[int]) -> dict[int, dict]:
    """The reference, title and snippet fields (narrative, notes, evidence, business) of these
    cases, exactly as their documents have them; merged duplicates are left out. `session` may be
    a plain connection (cheaper: the statements are column queries)."""
    if not case_ids:
        return {}
    rows = session.execute(_SNIPPET_CASES, {"ids": list(case_ids)}).all()
    if not rows:
        return {}
    ids = [row.id for row in rows]

    def grouped(statement, keys) -> dict[int, list]:
        found: dict[int, list] = {}
        for row in session.execute(statement, {"ids": keys}):
            found.setdefault(row[0], []).append(row[1] if len(row) == 2 else tuple(row[1:]))
        return found

    notes = grouped(_SNIPPET_NOTES, ids)
    evidence = grouped(_SNIPPET_EVIDENCE, ids)
    aliases = grouped(_SNIPPET_ALIASES, sorted({row.business_id for row in rows}))
    return {row.id: {
        "reference": row.reference.lower(),
        "title": row.title,
        "narrative": _narrative(row),
        "notes": "\n".join(notes.get(row.id, [])),
        "evidence": _evidence_text(evidence.get(row.id, [])),
        "business": " ".join([row.name, *aliases.get(row.business_id, [])]),
    } for row in rows}


def case_documents(session: Session, case_ids: Iterable[int] | None = None, batch: int = 2000) -> Iterator[dict]:
    """The documents of these cases (or of every current one), in id order, built from column
    queries: a batch of cases, then its notes, evidence and tags grouped by case, instead of ORM
    objects (several times faster, and memory stays flat: nothing is kept in the session).
    Same documents, digests included, as case_document(); merged duplicates are left out."""
    businesses: dict[int, tuple[str, list[str], str | None]] = {}
    notes_query = select(TimelineEntry.case_id, TimelineEntry.body).where(
        TimelineEntry.kind.in_(NOTE_KINDS)).order_by(
        TimelineEntry.case_id, TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
    evidence_query = select(Evidence.case_id, Evidence.original_name, Evidence.caption, Evidence.extracted_text).where(
        Evidence.withdrawn_at.is_(None)).order_by(Evidence.case_id, Evidence.uploaded_at, Evidence.id)
    tags_query = select(CaseTag.case_id, CaseTag.name).order_by(CaseTag.case_id, CaseTag.name)
    cases_query = select(*CASE_COLUMNS).where(Case.merged_into_id.is_(None)).order_by(Case.id)

    def build(rows) -> Iterator[dict]:
        if not rows:
            return
        ids = [row.id for row in rows]
        if case_ids is None:  # consecutive ids: a range reads the indexes in order
            def where(column):
                return column.between(ids[0], ids[-1])
        else:
            def where(column):
                return column.in_(ids)
        notes = _grouped(session, notes_query, where(TimelineEntry.case_id))
        evidence = _grouped(session, evidence_query, where(Evidence.case_id))
        tags = _grouped(session, tags_query, where(CaseTag.case_id))
        wanted = {row.business_id for row in rows} - businesses.keys()
        if wanted:
            aliases = _grouped(session, select(BusinessAlias.business_id, BusinessAlias.name).order_by(
                BusinessAlias.business_id, BusinessAlias.name), BusinessAlias.business_id.in_(wanted))
            for business_id, name, region in session.execute(
                    select(Business.id, Business.name, Business.region).where(Business.id.in_(wanted))):
                businesses[business_id] = (name, aliases.get(business_id, []), region)
        for row in rows:
            name, aliases, region = businesses[row.business_id]
            yield _document(row, notes.get(row.id, []), evidence.get(row.id, []), name, aliases, region,
                            tags.get(row.id, []))

    if case_ids is not None:
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), batch):
            yield from build(session.execute(cases_query.where(Case.id.in_(ids[start:start + batch]))).all())
        return
    last = 0
    while True:
        rows = session.execute(cases_query.where(Case.id > last).limit(batch)).all()
        if not rows:
            return
        yield from build(rows)
        last = rows[-1].id
        if len(businesses) > 100_000:  # an archive of very many businesses: keep memory bounded
            businesses.clear()


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
