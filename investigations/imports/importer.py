"""The import engine shared by the CFPB and generic CSV imports.

A mapper turns each CSV row into a NewCase (or rejects it with a reason); the engine skips
complaints already imported (by source_ref), files the rest in batches, and writes one audit
event for the run. Everything happens in the caller's transaction: the caller commits with
commit_import() or rolls back when ImportAborted is raised, so a broken file leaves nothing.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO, Protocol

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..businesses.naming import normalize_business_name
from ..businesses.services import find_or_create_business
from ..cases.services import add_timeline, next_reference
from ..extensions import db
from ..models import Case, CaseTag, SearchQueueEntry, User
from ..models.cases import Status, TimelineKind
from ..models.common import EARLIEST_DATE
from ..search.sync import QUEUE_KEY, process_queue
from .reader import CsvFile, ImportAborted
from .report import ImportReport

BATCH_SIZE = 500
TITLE_MAX = 200
NAME_MAX = 200
SOURCE_REF_MAX = 80


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
    source_ref: str | None = None
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


class Mapper(Protocol):
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


def check_business_name(name: str, column: str, problems: list[str]) -> str:
    name = " ".join(name.split())
    if not name:
        problems.append(f"missing {column}")
    elif len(name) > NAME_MAX:
        problems.append(f"{column} is longer than {NAME_MAX} characters")
    elif not normalize_business_name(name):
        problems.append(f"{column} \"{shorten(name)}\" has no letters or digits")
    return name


def check_source_ref(prefix: str, value: str, column: str, problems: list[str]) -> str | None:
    value = " ".join(value.split())
    if not value:
        return None
    ref = f"{prefix}:{value}"
    if len(ref) > SOURCE_REF_MAX:
        problems.append(f"{column} is longer than {SOURCE_REF_MAX - len(prefix) - 1} characters")
        return None
    return ref


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

class _Run:
    def __init__(self, mapper: Mapper, author: User, report: ImportReport):
        self.mapper = mapper
        self.author = author
        self.report = report
        self.business_ids: dict[str, int] = {}  # normalized name -> id, so each business is looked up once
        self.batch: list[NewCase] = []

    def add(self, row: NewCase) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH_SIZE:
            self.write_batch()

    def write_batch(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        refs = [row.source_ref for row in batch if row.source_ref]
        known = set(db.session.scalars(select(Case.source_ref).where(Case.source_ref.in_(refs)))) if refs else set()
        created = []
        with db.session.no_autoflush:
            for row in batch:
                if row.source_ref:
                    if row.source_ref in known:  # imported before, or earlier in this file
                        self.report.skipped += 1
                        continue
                    known.add(row.source_ref)
                created.append(self.file_case(row))
        try:
            db.session.flush()
        except IntegrityError as error:
            if "source_ref" in str(error.orig):  # another import filed the same complaint a moment ago
                raise ImportAborted("Another import added some of the same complaints at the same time. "
                                    "Run this import again: complaints already imported are skipped.") from error
            raise
        for case in created:
            self.report.add_case(case.id, case.reference)
            db.session.expunge(case)  # keeps memory flat over a long file; its timeline and tags go with it

    def business_id(self, name: str) -> int:
        key = normalize_business_name(name)
        if key not in self.business_ids:
            business, created = find_or_create_business(name)
            self.business_ids[key] = business.id
            self.report.businesses_created += int(created)
        return self.business_ids[key]

    def file_case(self, row: NewCase) -> Case:
        """The same record the case form files (see cases.services.create_case), for an imported complaint:
        received via "import", its origin in source_ref, and one audit event for the whole run, not per case."""
        case = Case(
            reference=next_reference(date.today().year), business_id=self.business_id(row.business_name),
            created_by_id=self.author.id, assigned_to_id=None, status=Status.NEW.value, source_ref=row.source_ref,
            title=truncate(row.title, TITLE_MAX), narrative=row.narrative, category=row.category,
            complainant_name=row.complainant_name, complainant_email=row.complainant_email,
            complainant_phone=row.complainant_phone, complainant_address=row.complainant_address,
            consent_to_publish=row.consent_to_publish, amount_in_dispute=row.amount_in_dispute,
            currency=current_app.config["DEFAULT_CURRENCY"], date_received=row.date_received, received_via="import",
            business_response=row.business_response,
            response_requested_on=row.response_requested_on, response_received_on=row.response_received_on,
        )
        case.tags = [CaseTag(name=name) for name in tag_names(row.tags)]
        add_timeline(case, TimelineKind.CREATED, row.timeline_body, self.author)
        db.session.add(case)
        return case


def run_import(stream: BinaryIO, mapper: Mapper, author: User, report: ImportReport,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Read the CSV stream through `mapper` and file its rows as cases, in the current transaction.

    Raises ImportAborted (the caller rolls back) for a file that cannot be imported as a whole.
    """
    if not author.is_editor:
        raise ImportAborted(f"{author.email} is a reporter: imports are filed by editors or admins.")
    run = _Run(mapper, author, report)
    with CsvFile(stream, progress) as csv_file:
        mapper.bind(csv_file.header)
        for line, values in csv_file.rows():
            try:
                row = mapper.parse(values, line)
            except RowRejected as rejected:
                report.reject(line, str(rejected))
                continue
            run.add(row)
        run.write_batch()
        report.sha256, report.size = csv_file.sha256, csv_file.bytes_read
    audit.record(f"import.{report.kind}", None, actor=author, file=report.file_name, sha256=report.sha256,
                 size=report.size, imported=report.imported, skipped=report.skipped, rejected=report.rejected,
                 businesses_created=report.businesses_created, **mapper.audit_details())
    db.session.flush()
    return report


def commit_import(report: ImportReport) -> ImportReport:
    """Commit the import, then bring the search index up to date in batches (unless SEARCH_SYNC is off).

    The session's after-commit hook would index the touched cases in one go; for an import we take
    them over and index them BATCH_SIZE at a time, so a long file never makes one huge query.
    """
    db.session.flush()
    db.session.info.pop(QUEUE_KEY, None)
    db.session.commit()
    report.search_sync = bool(current_app.config.get("SEARCH_SYNC", True))
    ids = report.case_ids
    if report.search_sync:
        try:
            for start in range(0, len(ids), BATCH_SIZE):
                process_queue(only=set(ids[start:start + BATCH_SIZE]), limit=BATCH_SIZE)
        except Exception:  # the import is committed; the queue keeps what the index did not take
            current_app.logger.warning("Search index update after an import failed", exc_info=True)
    report.index_pending = sum(
        db.session.scalar(select(func.count()).select_from(SearchQueueEntry).where(
            SearchQueueEntry.case_id.in_(list(ids[start:start + BATCH_SIZE])))) or 0
        for start in range(0, len(ids), BATCH_SIZE)
    )
    db.session.commit()  # ends the read transaction the count opened
    return report
