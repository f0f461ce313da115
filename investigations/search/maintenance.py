"""Rebuilding and checking the index: `flask search reindex`, `check` and `sync`."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..database import insert_if_absent
from ..extensions import db
from ..models import Case, Evidence, SearchQueueEntry, TimelineEntry, utcnow
from . import get_backend
from .documents import case_documents


def case_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def changed_since(session: Session, moment: datetime) -> set[int]:
    """Cases whose documents may have changed since `moment`."""
    ids = set(session.scalars(select(Case.id).where(Case.updated_at >= moment)))
    ids |= set(session.scalars(select(TimelineEntry.case_id).where(TimelineEntry.created_at >= moment)))
    ids |= set(session.scalars(select(Evidence.case_id).where(
        or_(Evidence.uploaded_at >= moment, Evidence.extracted_at >= moment, Evidence.withdrawn_at >= moment))))
    return ids


def reindex(progress=None) -> int:
    """Build a fresh index aside from every case, swap it in, then catch up with edits made meanwhile.

    Reads columns through its own session (no ORM objects), batch by batch, to keep memory flat.
    """
    backend = get_backend()
    started = utcnow()
    with Session(db.engine) as session:
        count = backend.rebuild(case_documents(session), progress, expected=case_count())
    with Session(db.engine) as session:
        late = changed_since(session, started)
        if late:
            try:
                backend.write(list(case_documents(session, late)))
            except TimeoutError:  # the indexer is busy writing: it will write them, from the queue
                queue(session, late)
    return count


def queue(session: Session, case_ids) -> None:
    """Leave these cases to the indexer (the search queue), as a commit does."""
    connection = session.connection()
    for case_id in case_ids:
        connection.execute(insert_if_absent(connection, SearchQueueEntry.__table__, {"case_id": case_id}, ["case_id"]))
    session.commit()


@dataclass
class CheckReport:
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    orphaned: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def check(progress=None, repair: bool = False) -> CheckReport:
    """Compare every case's document with the index: missing, stale, or indexed but gone."""
    backend = get_backend()
    indexed = backend.stored_digests()
    report = CheckReport()
    seen = set()
    with Session(db.engine) as session:
        _compare(session, indexed, report, seen, progress)
    report.orphaned = sorted(set(indexed) - seen)
    if repair and not report.ok:
        with Session(db.engine) as session:
            docs = list(case_documents(session, report.missing + report.stale))
        backend.write(docs, deleted_ids=report.orphaned)
    return report


def _compare(session: Session, indexed: dict[int, str], report: CheckReport, seen: set, progress) -> None:
    for doc in case_documents(session):
        case_id = int(doc["id"])
        seen.add(case_id)
        digest = indexed.get(case_id)
        if digest is None:
            report.missing.append(case_id)
        elif digest != doc["digest"]:
            report.stale.append(case_id)
        if progress:
            progress(1)
