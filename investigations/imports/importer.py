"""The import engine shared by the CFPB and generic CSV imports.

A mapper turns each CSV row into a NewCase (or rejects it with a reason); the engine skips
complaints already imported (by the source's own ID, also within the file), and files the rest in batches
of BATCH_SIZE with Core bulk inserts, each batch committed on its own with its search_queue rows
and an audit event, then handed to the search index. A file whose header or first bytes are wrong
writes nothing; a fault further on keeps the batches committed before it (the report says how far
it got) and a second run skips them. Memory stays flat: one batch, the business map, and counts.
"""
import gc
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..database import increment_row
from ..extensions import db
from ..models import Case, CaseTag, SearchQueueEntry, TimelineEntry, User, utcnow
from ..models.cases import PUBLIC_KINDS, CaseReferenceCounter, Status, TimelineKind
from ..search.sync import QUEUE_KEY, process_queue, writes_inline
from .batch_businesses import BatchBusinesses
from .batch_indexer import BatchIndexer
from .bulk_insert import bulk_insert
from .reader import CsvFile, ImportAborted
from .report import ImportReport
from .row_mapping import TITLE_MAX, Mapper, NewCase, RowRejected, tag_names, truncate

BATCH_SIZE = 2000  # rows per transaction: a batch is committed, audited and indexed as one
GC_THRESHOLD = 50_000  # allocations between two collections of the youngest generation during a run


def reserve_references(year: int, count: int) -> list[str]:
    """Claim `count` consecutive case references of `year` in one UPDATE of its counter row (held until
    the transaction ends, so concurrent writers get the numbers after these)."""
    row = increment_row(db.session.connection(), CaseReferenceCounter.__table__, {"year": year}, "last_number",
                        by=count)
    first = row.last_number - count + 1
    return [f"C-{year}-{number:05d}" for number in range(first, row.last_number + 1)]


class _Run:
    """Files the rows BATCH_SIZE at a time, each batch in its own transaction: its cases (Core bulk
    inserts), their timeline entries and tags, their search_queue rows and an audit event, committed
    together; then the search index takes the batch from the queue."""

    def __init__(self, mapper: Mapper, author: User, report: ImportReport):
        self.mapper = mapper
        self.author = author
        self.report = report
        self.businesses = BatchBusinesses()
        self.tags_of: dict[tuple, list[str]] = {}
        self.batch: list[NewCase] = []
        self.line = 0  # the line of the last row added
        self.currency = current_app.config["DEFAULT_CURRENCY"]
        report.search_sync = bool(current_app.config.get("SEARCH_SYNC", True))
        # With the single indexer (SEARCH_INDEXER=separate) the committed batches wait in search_queue
        # for it (flask import starts one alongside if none runs); inline, this process indexes them.
        self.indexer = BatchIndexer(current_app._get_current_object(), report) \
            if report.search_sync and writes_inline() else None

    def close(self) -> None:
        if self.indexer:
            indexer, self.indexer = self.indexer, None
            indexer.close()

    def add(self, row: NewCase, line: int) -> None:
        self.batch.append(row)
        self.line = line
        if len(self.batch) >= BATCH_SIZE:
            self.write_batch()

    def write_batch(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        line = self.line  # where the batch ends in the file
        rows = self._new_rows(batch)
        if not rows:
            self.report.committed_line = line
            return
        self.report.businesses_created += self.businesses.add(row.business_name for row in rows)
        business_ids = [self.businesses.business_id(row.business_name) for row in rows]
        references = reserve_references(date.today().year, len(rows))
        now = utcnow()
        author_id = self.author.id
        session = db.session
        connection = session.connection()
        # Plain executemany of prepared tuples (bulk_insert): RETURNING would go row by row on SQLite.
        try:
            bulk_insert(connection, Case.__table__, _CASE_COLUMNS, [(
                reference, business_id, row.source_id, truncate(row.title, TITLE_MAX), row.narrative, row.category,
                row.complainant_name, row.complainant_email, row.complainant_phone, row.complainant_address,
                row.consent_to_publish, row.amount_in_dispute, row.date_received, row.business_response,
                row.response_requested_on, row.response_received_on, row.product, row.sub_product, row.issue,
                row.sub_issue, row.company_response, row.timely_response, row.consumer_disputed, row.submitted_via,
                row.consumer_state, row.consumer_zip,
            ) for row, reference, business_id in zip(rows, references, business_ids, strict=True)], same={
                "created_by_id": author_id, "assigned_to_id": None, "status": Status.NEW.value,
                "currency": self.currency, "received_via": "import", "source": self.mapper.source,
                "created_at": now, "updated_at": now})
        except IntegrityError as error:
            if "source_id" in str(error.orig):  # another import filed the same complaint a moment ago
                raise ImportAborted("Another import added some of the same complaints at the same time. "
                                    "Run this import again: complaints already imported are skipped.") from error
            raise
        id_of = dict(session.execute(select(Case.reference, Case.id).where(Case.reference.in_(references))).all())
        ids = [id_of[reference] for reference in references]
        bulk_insert(connection, TimelineEntry.__table__, ["case_id", "body"], [
            (case_id, row.timeline_body) for case_id, row in zip(ids, rows, strict=True)], same={
            "author_id": author_id, "kind": TimelineKind.CREATED.value, "internal": TimelineKind.CREATED not in PUBLIC_KINDS,
            "occurred_at": now, "created_at": now, "origin_case_id": None})
        bulk_insert(connection, CaseTag.__table__, ["case_id", "name"], [
            (case_id, name) for case_id, row in zip(ids, rows, strict=True) for name in self.tag_names(row.tags)])
        # What the after-flush hook of search/sync.py does for ORM changes (it does not see Core inserts):
        # queued in the same transaction, so a batch committed but not yet indexed is never lost.
        bulk_insert(connection, SearchQueueEntry.__table__, ["case_id"], [(case_id,) for case_id in ids],
                    same={"queued_at": now}, suffix=" ON CONFLICT (case_id) DO NOTHING")
        # One event for the batch: its references are consecutive, so first and last name every case it filed.
        audit.record(f"import.{self.report.kind}.batch", None, actor=self.author, file=self.report.file_name,
                     first=references[0], last=references[-1], count=len(ids))
        session.info.pop(QUEUE_KEY, None)
        session.commit()
        self.report.add_batch(references)
        self.report.committed_line = line
        if self.indexer:
            self.indexer.submit(ids)

    def tag_names(self, names: list[str]) -> list[str]:
        """tag_names, remembered for the few combinations a file repeats."""
        key = tuple(names)
        cleaned = self.tags_of.get(key)
        if cleaned is None:
            cleaned = tag_names(names)
            if len(self.tags_of) < 10_000:
                self.tags_of[key] = cleaned
        return cleaned

    def _new_rows(self, batch: list[NewCase]) -> list[NewCase]:
        """The rows whose complaint was not imported before (committed batches included) nor earlier in the batch."""
        source_ids = [row.source_id for row in batch if row.source_id]
        known: set[str] = set()
        for start in range(0, len(source_ids), 1000):
            known.update(db.session.scalars(select(Case.source_id).where(
                Case.source == self.mapper.source, Case.source_id.in_(source_ids[start:start + 1000]))))
        rows = []
        for row in batch:
            if row.source_id:
                if row.source_id in known:
                    self.report.skipped += 1
                    continue
                known.add(row.source_id)
            rows.append(row)
        return rows


_CASE_COLUMNS = [
    "reference", "business_id", "source_id", "title", "narrative", "category", "complainant_name",
    "complainant_email", "complainant_phone", "complainant_address", "consent_to_publish", "amount_in_dispute",
    "date_received", "business_response", "response_requested_on", "response_received_on", "product", "sub_product",
    "issue", "sub_issue", "company_response", "timely_response", "consumer_disputed", "submitted_via",
    "consumer_state", "consumer_zip",
]


@contextmanager
def _fewer_collections():
    """The run allocates a batch of rows after another, few of them in reference cycles: the garbage
    collector, at its default thresholds, spent a third of the import's time walking them and the app's
    own objects. Those are set aside (gc.freeze) and the youngest generation collected less often."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run_import(stream: BinaryIO, mapper: Mapper, author: User, report: ImportReport,
               progress: Callable[[ImportReport, int], None] | None = None) -> ImportReport:
    """Read the CSV stream through `mapper` and file its rows as cases, committing every BATCH_SIZE rows.

    A file that cannot be read as a whole (header, encoding) raises ImportAborted before anything is
    written. A fault later on (a broken line, Ctrl-C) rolls back the batch being written, keeps the
    committed ones, writes the run's summary event if any were, and raises with `error.report` set.
    Call commit_import() after a complete run: it commits the run's summary event.
    """
    if not author.is_editor:
        raise ImportAborted(f"{author.email} is a reporter: imports are filed by editors or admins.")
    report.started = time.monotonic()
    on_bytes = (lambda read: progress(report, read)) if progress else None
    with _fewer_collections(), CsvFile(stream, on_bytes) as csv_file:
        mapper.bind(csv_file.header)
        run = _Run(mapper, author, report)
        try:
            for line, values in csv_file.rows():
                report.rows += 1
                report.last_line = line
                try:
                    row = mapper.parse(values, line)
                except RowRejected as rejected:
                    report.reject(line, str(rejected))
                    continue
                run.add(row, line)
            run.write_batch()
            run.close()
        except BaseException as error:  # a broken line, a damaged ZIP, Ctrl-C, a database error
            db.session.rollback()  # the batch being written; the committed ones stay
            run.close()
            report.stopped = str(error) or type(error).__name__
            if report.imported:  # say in the trail how far it got
                try:
                    _summary_event(mapper, author, report, csv_file)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    current_app.logger.warning("Could not record the stopped import", exc_info=True)
            error.report = report
            raise
        report.sha256, report.size = csv_file.sha256, csv_file.bytes_read
    _summary_event(mapper, author, report, csv_file)
    db.session.flush()
    return report


def _summary_event(mapper: Mapper, author: User, report: ImportReport, csv_file: CsvFile) -> None:
    details = dict(file=report.file_name, sha256=report.sha256, size=report.size, imported=report.imported,
                   skipped=report.skipped, rejected=report.rejected, businesses_created=report.businesses_created,
                   batches=report.batches, first=report.first_reference, last=report.last_reference,
                   **mapper.audit_details())
    if report.stopped:
        details.update(stopped=report.stopped, committed_up_to_line=report.committed_line,
                       bytes_read=csv_file.bytes_read)
    audit.record(f"import.{report.kind}", None, actor=author, **details)


def commit_import(report: ImportReport) -> ImportReport:
    """Commit the run's summary event. The batches are committed already, and indexed unless SEARCH_SYNC
    is off; those the index did not take (report.index_pending) wait in search_queue for `flask search sync`."""
    db.session.info.pop(QUEUE_KEY, None)
    db.session.commit()
    if report.search_sync and report.started and writes_inline():
        # Cases queued before this run began are left over (an import killed after a commit, an index
        # that was busy): index them now, so a second run of a killed import leaves the index complete.
        since = timedelta(seconds=max(time.monotonic() - report.started, 0))
        try:
            for _ in range(1000):
                if not process_queue(older_than=since, limit=BATCH_SIZE):
                    break
        except Exception:
            current_app.logger.warning("Search index update after an import failed", exc_info=True)
    return report
