"""The import engine shared by the CFPB and generic CSV imports.

A mapper turns each CSV row into a NewCase (or rejects it with a reason); the engine skips
complaints already imported (by the source's own ID, also within the file), and files the rest in batches
of BATCH_SIZE with Core bulk inserts, each batch committed on its own with its search_queue rows
and an audit event, then handed to the search index. A file whose header or first bytes are wrong
writes nothing; a fault further on keeps the batches committed before it (the report says how far
it got) and a second run skips them. Memory stays flat: one batch, the business map, and counts.
"""
import gc
import queue
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import BinaryIO, Protocol

from flask import current_app
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..businesses.naming import normalize_business_name, slugify
from ..businesses.queries import follow_merges
from ..database import increment_row, insert_if_absent
from ..extensions import db
from ..models import Business, BusinessAlias, Case, CaseTag, SearchQueueEntry, TimelineEntry, User, utcnow
from ..models.cases import PUBLIC_KINDS, SOURCE_ID_MAX, CaseReferenceCounter, Status, TimelineKind
from ..models.common import EARLIEST_DATE
from ..search.sync import QUEUE_KEY, process_queue, writes_inline
from .reader import CsvFile, ImportAborted
from .report import ImportReport

BATCH_SIZE = 2000  # rows per transaction: a batch is committed, audited and indexed as one
TITLE_MAX = 200
NAME_MAX = 200
FIELD_MAX = 200  # the CFPB's product, issue, company response… as columns
GC_THRESHOLD = 50_000  # allocations between two collections of the youngest generation during a run


class RowRejected(ValueError):
    """This row cannot become a case; the message is the reason shown in the report."""


@dataclass
class NewCase:
    """One row, ready to be filed."""

    business_name: str
    title: str
    narrative: str
    date_received: date
    timeline_body: str
    category: str = "other"
    source_id: str | None = None  # the source's own ID: a complaint with one is imported once
    complainant_name: str = "Unknown complainant"
    complainant_email: str | None = None
    complainant_phone: str | None = None
    complainant_address: str | None = None
    consent_to_publish: bool = False
    amount_in_dispute: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    business_response: str | None = None
    response_requested_on: date | None = None
    response_received_on: date | None = None
    # The CFPB's own fields (None for other sources)
    product: str | None = None
    sub_product: str | None = None
    issue: str | None = None
    sub_issue: str | None = None
    company_response: str | None = None
    timely_response: bool | None = None
    consumer_disputed: bool | None = None
    submitted_via: str | None = None
    consumer_state: str | None = None
    consumer_zip: str | None = None


class Mapper(Protocol):
    source: str  # the cases' `source` (models.cases.SOURCES)

    def bind(self, header: list[str]) -> None:
        """Find the columns in the header; raise ImportAborted if required ones are missing."""

    def parse(self, values: list[str], line: int) -> NewCase:
        """The row as a NewCase; raise RowRejected with the reason(s) if it cannot be one."""

    def audit_details(self) -> dict:
        """What to add to the run's audit event."""


# --- Values ----------------------------------------------------------------------------------

def parse_date(text: str, us_dates: bool = False) -> date | None:
    """2023-04-05, 2023-04-05T00:00:00, 2023-04-05T12:00:00Z (the date as written, not moved to UTC);
    with us_dates also 04/05/2023 and 04/05/23 (the CFPB's older exports). None if unreadable."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if us_dates:
        for pattern in ("%m/%d/%Y", "%m/%d/%y"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                pass
    return None


def required_date(text: str, column: str, problems: list[str], us_dates: bool = False) -> date | None:
    """The date of a required column, or None after adding the reason to `problems`."""
    if not text.strip():
        problems.append(f"missing {column}")
        return None
    value = parse_date(text, us_dates)
    if value is None:
        problems.append(f"unreadable date \"{shorten(text)}\" in {column} (expected YYYY-MM-DD)")
    elif value > date.today():
        problems.append(f"{column} {value.isoformat()} is in the future")
        return None
    elif value < EARLIEST_DATE:
        problems.append(f"{column} {value.isoformat()} is before {EARLIEST_DATE.year}")
        return None
    return value


@lru_cache(maxsize=65536)
def normalized_name(name: str) -> str:
    """normalize_business_name, remembered: a file names the same few thousand companies again and again."""
    return normalize_business_name(name)


def check_business_name(name: str, column: str, problems: list[str]) -> str:
    name = " ".join(name.split())
    if not name:
        problems.append(f"missing {column}")
    elif len(name) > NAME_MAX:
        problems.append(f"{column} is longer than {NAME_MAX} characters")
    elif not normalized_name(name):
        problems.append(f"{column} \"{shorten(name)}\" has no letters or digits")
    return name


def check_source_id(value: str, column: str, problems: list[str]) -> str | None:
    value = " ".join(value.split())
    if not value:
        return None
    if len(value) > SOURCE_ID_MAX:
        problems.append(f"{column} is longer than {SOURCE_ID_MAX} characters")
        return None
    return value


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def shorten(text: str, limit: int = 40) -> str:
    """A value quoted in a reason: one line, not too long."""
    return truncate(" ".join(text.split()), limit)


def tag_names(names) -> list[str]:
    """Tags as the case form stores them: lower-case, single-spaced, at most 60 characters, once each."""
    cleaned = {" ".join(name.split()).lower()[:60].strip() for name in names}
    return sorted(name for name in cleaned if name)


# --- The run ---------------------------------------------------------------------------------

def reserve_references(year: int, count: int) -> list[str]:
    """Claim `count` consecutive case references of `year` in one UPDATE of its counter row (held until
    the transaction ends, so concurrent writers get the numbers after these)."""
    row = increment_row(db.session.connection(), CaseReferenceCounter.__table__, {"year": year}, "last_number",
                        by=count)
    first = row.last_number - count + 1
    return [f"C-{year}-{number:05d}" for number in range(first, row.last_number + 1)]


def _business_map() -> dict[str, int]:
    """normalized name (or alias) -> id of the business it finds (following merges), as find_business does."""
    merged = dict(db.session.execute(select(Business.id, Business.merged_into_id)).all())

    def survivor(business_id: int) -> int:
        seen = set()
        while merged.get(business_id) is not None and business_id not in seen:
            seen.add(business_id)
            business_id = merged[business_id]
        return business_id

    names = {name: survivor(business_id) for business_id, name in
             db.session.execute(select(Business.id, Business.normalized_name))}
    for name, business_id in db.session.execute(select(BusinessAlias.normalized_name, BusinessAlias.business_id)):
        names.setdefault(name, survivor(business_id))
    return names


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def bulk_insert(connection: Connection, table: Table, columns: list[str], rows: list[tuple],
                same: dict | None = None, suffix: str = "") -> None:
    """INSERT the rows (tuples of `columns`' values; `same`: the values every row shares) as one plain
    executemany of prepared tuples, without SQLAlchemy's per-row parameter handling (a third of an
    import's time). Values go through the column types' bind processors as SQLAlchemy would (dates and
    booleans on SQLite), the shared ones once; columns left out get their Python-side default, evaluated
    once for the statement, or the server's. `suffix` is added to the statement (ON CONFLICT …)."""
    if not rows:
        return
    dialect = connection.dialect
    placeholder = _PLACEHOLDERS.get(dialect.paramstyle)
    same = dict(same or {})
    for column in table.columns:
        if column.key not in same and column.key not in columns and column.default is not None \
                and not column.primary_key:
            default = column.default
            if default.is_scalar:
                same[column.key] = default.arg
            elif default.is_callable:
                same[column.key] = default.arg(None)
            else:  # a sequence or SQL expression: let SQLAlchemy apply it
                placeholder = None
    if placeholder is None:
        connection.execute(insert(table), [{**dict(zip(columns, row, strict=True)), **same} for row in rows])
        return

    def processor(key: str):
        return table.c[key].type._cached_bind_processor(dialect)

    shared = tuple(process(value) if (process := processor(key)) else value for key, value in same.items())
    processed = [(index, process) for index, key in enumerate(columns) if (process := processor(key))]
    if processed:
        def prepare(row: tuple) -> tuple:
            values = list(row)
            for index, process in processed:
                values[index] = process(values[index])
            return (*values, *shared)
        parameters = [prepare(row) for row in rows]
    else:
        parameters = [(*row, *shared) for row in rows]
    quote = dialect.identifier_preparer.quote
    names = [*columns, *same]
    statement = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(quote(table.c[name].name) for name in names)}) "
                 f"VALUES ({', '.join([placeholder] * len(names))}){suffix}")
    connection.exec_driver_sql(statement, parameters)


class _Indexer:
    """Feeds committed batches to the search index (process_queue) on a thread of its own, while the
    next batch is read and inserted; at most QUEUED_BATCHES wait, so a slow index slows the import
    instead of filling memory. What the index does not take stays in search_queue."""

    QUEUED_BATCHES = 2

    def __init__(self, app, report: ImportReport):
        self.report = report
        self.batches: queue.Queue = queue.Queue(maxsize=self.QUEUED_BATCHES)
        self.thread = threading.Thread(target=self._work, args=(app,), name="import-indexer", daemon=True)
        self.thread.start()

    def submit(self, ids: list[int]) -> None:
        if not self.thread.is_alive():
            raise RuntimeError("The import's search indexer stopped.")
        self.batches.put(ids)

    def close(self) -> None:
        """Wait for the batches handed over so far to be indexed."""
        self.batches.put(None)
        self.thread.join()

    def _work(self, app) -> None:
        with app.app_context():
            try:
                while (ids := self.batches.get()) is not None:
                    done = 0
                    try:
                        done = process_queue(only=set(ids), limit=len(ids))
                    except Exception:  # the batch is committed; the queue keeps what the index did not take
                        app.logger.warning("Search index update during an import failed", exc_info=True)
                    self.report.index_pending += len(ids) - done
            finally:
                db.session.remove()


class _Run:
    """Files the rows BATCH_SIZE at a time, each batch in its own transaction: its cases (Core bulk
    inserts), their timeline entries and tags, their search_queue rows and an audit event, committed
    together; then the search index takes the batch from the queue."""

    def __init__(self, mapper: Mapper, author: User, report: ImportReport):
        self.mapper = mapper
        self.author = author
        self.report = report
        self.business_ids = _business_map()  # normalized name -> id, loaded once; new ones added per batch
        self.by_name: dict[str, int] = {}  # the names as written in the file -> id
        self.tags_of: dict[tuple, list[str]] = {}
        self.batch: list[NewCase] = []
        self.line = 0  # the line of the last row added
        self.currency = current_app.config["DEFAULT_CURRENCY"]
        report.search_sync = bool(current_app.config.get("SEARCH_SYNC", True))
        # With the single indexer (SEARCH_INDEXER=separate) the committed batches wait in search_queue
        # for it (flask import starts one alongside if none runs); inline, this process indexes them.
        self.indexer = _Indexer(current_app._get_current_object(), report) \
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
        self._add_businesses(rows)
        business_ids = [self.business_id(row.business_name) for row in rows]
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

    def _add_businesses(self, rows: list[NewCase]) -> None:
        """Find or create, a few statements for the whole batch, the businesses of names the map does not
        know: as find_or_create_business does one by one (a name or alias another user added since the run
        began is found, merges followed; a new business gets a unique slug and a business.create event)."""
        wanted: dict[str, str] = {}  # normalized -> the name as first written in the batch
        for row in rows:
            name = row.business_name
            if name not in self.by_name:
                key = normalized_name(name)
                if key not in self.business_ids:
                    wanted.setdefault(key, name)
        if not wanted:
            return
        self._look_up(list(wanted))
        missing = {key: name for key, name in wanted.items() if key not in self.business_ids}
        if not missing:
            return
        session = db.session
        connection = session.connection()
        table = Business.__table__
        taken = set(session.scalars(select(Business.slug).where(Business.slug.in_(
            {slugify(name) for name in missing.values()}))))
        now = utcnow()
        created = []
        for key, name in missing.items():
            base = slugify(name)
            slug, n = base, 2
            while slug in taken or (slug != base and session.scalar(select(Business.id).where(Business.slug == slug))):
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            values = {"name": name, "normalized_name": key, "slug": slug, "created_at": now, "updated_at": now}
            if connection.execute(insert_if_absent(connection, table, values, ["normalized_name"])).rowcount:
                created.append(key)
        self._look_up(list(missing))  # the new ones, and any another user added a moment ago
        if created:
            for business in session.scalars(select(Business).where(Business.normalized_name.in_(created))
                                            .order_by(Business.id)):
                audit.record("business.create", business, name=business.name)
            self.report.businesses_created += len(created)

    def _look_up(self, keys: list[str]) -> None:
        """Add to the map those of these normalized names that are a business's name or alias."""
        session = db.session
        found = {key: (business_id, merged) for key, business_id, merged in session.execute(
            select(Business.normalized_name, Business.id, Business.merged_into_id)
            .where(Business.normalized_name.in_(keys)))}
        for key, business_id in session.execute(select(BusinessAlias.normalized_name, BusinessAlias.business_id)
                                                .where(BusinessAlias.normalized_name.in_(keys))):
            found.setdefault(key, (business_id, True))
        for key, (business_id, merged) in found.items():
            if merged:
                business_id = follow_merges(session.get(Business, business_id)).id
            self.business_ids[key] = business_id

    def business_id(self, name: str) -> int:
        business_id = self.by_name.get(name)  # the same spelling again: no normalizing
        if business_id is None:
            business_id = self.business_ids[normalized_name(name)]  # _add_businesses found or made it
            if len(self.by_name) < 100_000:
                self.by_name[name] = business_id
        return business_id


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
