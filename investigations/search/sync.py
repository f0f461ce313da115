"""Keeping the index in step with the database: the one place that does it.

After each flush, the cases touched by the changes (a case itself, its timeline, evidence or
tags, or a business it belongs to) are written to the search_queue table, in the same
transaction as the change. The single indexer process (indexer.py) rewrites their documents
and empties those queue rows a moment later; with SEARCH_INDEXER=inline (tests, scripts) the
committing process does it itself, right after its commit. If the index write fails (the index
is busy, the disk full) or the process dies in between, the rows stay and are retried: the
database change is never lost or blocked.
"""
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from ..database import insert_if_absent
from ..extensions import db
from ..models import Business, BusinessAlias, Case, CaseTag, Evidence, SearchQueueEntry, TimelineEntry, utcnow

QUEUE_KEY = "search_queued"
STALE_SECONDS = 10  # an index write normally finishes within a second of its commit


def _touched_case_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    business_ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Case):
            ids.add(obj.id)
        elif isinstance(obj, (TimelineEntry, Evidence, CaseTag)):
            ids.add(obj.case_id)
        elif isinstance(obj, Business) and obj in session.dirty and session.is_modified(
                obj, include_collections=False):
            business_ids.add(obj.id)  # renamed: every case against it has a new business name
        elif isinstance(obj, BusinessAlias):
            business_ids.add(obj.business_id)
    if business_ids:
        ids |= set(session.scalars(select(Case.id).where(Case.business_id.in_(business_ids))))
    return {case_id for case_id in ids if case_id is not None}


def _after_flush(session: Session, flush_context) -> None:
    """Queue the touched cases in the flushing transaction (changes are still visible in session.new etc.)."""
    ids = _touched_case_ids(session)
    if not ids:
        return
    connection = session.connection()
    table = SearchQueueEntry.__table__
    for case_id in ids:
        connection.execute(insert_if_absent(connection, table, {"case_id": case_id}, ["case_id"]))
    session.info.setdefault(QUEUE_KEY, set()).update(ids)


def writes_inline() -> bool:
    """Whether this process writes the index right after its own commits (SEARCH_INDEXER=inline:
    tests and scripts); otherwise the separate indexer (indexer.py) does."""
    return current_app.config.get("SEARCH_SYNC", True) and current_app.config.get("SEARCH_INDEXER") == "inline"


def _after_commit(session: Session) -> None:
    ids = session.info.pop(QUEUE_KEY, None)
    if ids and has_app_context() and writes_inline():
        process_queue(only=ids)
        # Updates left behind by a failed write or a worker killed after its commit: retried
        # here, by whichever worker commits next (older ones only, so as not to redo others'
        # updates that are still on their way).
        process_queue(older_than=timedelta(seconds=STALE_SECONDS), limit=100)


def _after_rollback(session: Session) -> None:
    session.info.pop(QUEUE_KEY, None)


def process_queue(only: set[int] | None = None, limit: int = 500, older_than: timedelta | None = None) -> int:
    """Rewrite the documents of queued cases (these, or the oldest `limit`, perhaps only those
    queued longer ago than `older_than`); return how many.

    Uses its own session, so it can run right after another session's commit.
    """
    from . import get_backend
    from .documents import case_documents

    backend = get_backend()
    with Session(db.engine) as session:
        query = select(SearchQueueEntry.case_id).order_by(SearchQueueEntry.queued_at).limit(limit)
        if only is not None:
            query = query.where(SearchQueueEntry.case_id.in_(list(only)))
        if older_than is not None:
            query = query.where(SearchQueueEntry.queued_at < utcnow() - older_than)
        ids = list(session.scalars(query))
        if not ids:
            return 0
        docs = list(case_documents(session, ids))  # column queries: no ORM object per case
        missing = set(ids) - {int(doc["id"]) for doc in docs}  # deleted or merged away
        try:
            backend.write(docs, deleted_ids=sorted(missing))
        except Exception:  # busy or failing index: the queue keeps them for the next try
            current_app.logger.warning("Search index update deferred for %d cases", len(ids), exc_info=True)
            return 0
        session.execute(delete(SearchQueueEntry).where(SearchQueueEntry.case_id.in_(ids)))
        session.commit()
        return len(ids)


_registered = False


def register_session_events() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    event.listen(db.session.session_factory.class_, "after_flush", _after_flush)
    event.listen(db.session.session_factory.class_, "after_commit", _after_commit)
    event.listen(db.session.session_factory.class_, "after_soft_rollback", lambda s, t: _after_rollback(s))
