import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .businesses import Business
from .common import utcnow
from .users import User


class Status(str, enum.Enum):
    NEW = "new"
    INVESTIGATING = "investigating"
    AWAITING_RESPONSE = "awaiting_response"
    RESOLVED = "resolved"
    PUBLISHED = "published"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.NEW: "New",
    Status.INVESTIGATING: "Investigating",
    Status.AWAITING_RESPONSE: "Awaiting business response",
    Status.RESOLVED: "Resolved",
    Status.PUBLISHED: "Published",
    Status.CLOSED: "Closed",
}

CATEGORIES = {
    "refund": "Refunds and returns",
    "warranty": "Warranty and repairs",
    "billing": "Billing, fees and overcharging",
    "advertising": "Misleading advertising",
    "faulty_product": "Faulty or unsafe product",
    "contract": "Contracts and subscriptions",
    "delivery": "Non-delivery and delays",
    "debt_collection": "Debt collection",
    "housing": "Housing and landlords",
    "home_improvement": "Home improvement and contractors",
    "auto": "Car sales and repair",
    "travel": "Travel and holidays",
    "telecom": "Phone, internet and TV",
    "financial": "Banking, loans and insurance",
    "scam": "Scams and fraud",
    "other": "Other",
}

RECEIVED_VIA = {
    "web": "Web form",
    "email": "E-mail",
    "phone": "Phone",
    "letter": "Letter",
    "in_person": "In person",
    "social": "Social media",
    "referral": "Referral",
    "import": "Imported",
}

# Where a case came from. "staff": typed in by the newsroom; the others arrive with the source's own ID.
SOURCES = {
    "cfpb": "CFPB Consumer Complaint Database",
    "csv": "CSV import",
    "public_form": "Public complaint form",
    "staff": "Entered by staff",
}
SOURCE_ID_MAX = 80
CFPB_RECORD_URL = "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/{}"

CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY", "INR", "ZAR"]


class TimelineKind(str, enum.Enum):
    NOTE = "note"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    # Written by the application, never chosen in the note form:
    CREATED = "created"
    STATUS = "status"
    ASSIGNMENT = "assignment"
    RESPONSE = "response"
    DOSSIER = "dossier"
    EVIDENCE = "evidence"
    OUTCOME = "outcome"
    STORY = "story"

    @property
    def label(self) -> str:
        return TIMELINE_LABELS[self]


TIMELINE_LABELS = {
    TimelineKind.NOTE: "Note",
    TimelineKind.CALL: "Call",
    TimelineKind.EMAIL: "E-mail",
    TimelineKind.MEETING: "Meeting",
    TimelineKind.CREATED: "Case opened",
    TimelineKind.STATUS: "Status change",
    TimelineKind.ASSIGNMENT: "Assignment",
    TimelineKind.RESPONSE: "Business response",
    TimelineKind.DOSSIER: "Dossier exported",
    TimelineKind.EVIDENCE: "Evidence added",
    TimelineKind.OUTCOME: "Outcome",
    TimelineKind.STORY: "Story",
}
# Entries an outside recipient may read: the case's public course, not the newsroom's work on it.
PUBLIC_KINDS = {TimelineKind.CREATED, TimelineKind.STATUS, TimelineKind.RESPONSE}
NOTE_KINDS = [TimelineKind.NOTE, TimelineKind.CALL, TimelineKind.EMAIL, TimelineKind.MEETING]


CURRENT = text("merged_into_id IS NULL")
MERGED = text("merged_into_id IS NOT NULL")
# As unseen_assignments_count() asks (SQLite writes false as 0): a partial index is used only for
# a query whose conditions include its own, as written.
UNSEEN_SQLITE = text("assignee_seen IS 0 AND merged_into_id IS NULL")
UNSEEN_POSTGRESQL = text("assignee_seen IS false AND merged_into_id IS NULL")


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        # Lists are of current cases, newest first: an editor's page reads 50 entries of this index
        # and counts it, where a sort of the whole archive would be needed without it.
        Index("ix_cases_current_by_date", "date_received", "id", sqlite_where=CURRENT, postgresql_where=CURRENT),
        # Only the few duplicates: a full index on merged_into_id (NULL nearly everywhere) is what
        # SQLite's planner would otherwise pick for "merged_into_id IS NULL", reading every case.
        Index("ix_cases_merged_into_id", "merged_into_id", sqlite_where=MERGED, postgresql_where=MERGED),
        # The navigation's "n new" beside My work, counted on every page: only the assignments not
        # opened yet. With the index on assigned_to_id alone, each page read every case assigned
        # to the user (a reporter's hundreds: ~1 ms a page at 10,000 cases).
        Index("ix_cases_unseen_assignments", "assigned_to_id", sqlite_where=UNSEEN_SQLITE,
              postgresql_where=UNSEEN_POSTGRESQL),
        UniqueConstraint("source", "source_id", name="uq_cases_source_source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # C-2026-00042
    title: Mapped[str] = mapped_column(String(200))
    narrative: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(30), default=Status.NEW.value, index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)

    # Confidential unless consent_to_publish; every view of these is audited.
    complainant_name: Mapped[str] = mapped_column(String(200))
    complainant_email: Mapped[str | None] = mapped_column(String(254))
    complainant_phone: Mapped[str | None] = mapped_column(String(50))
    complainant_address: Mapped[str | None] = mapped_column(Text)
    consent_to_publish: Mapped[bool] = mapped_column(default=False)

    amount_in_dispute: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    incident_date: Mapped[date | None]
    date_received: Mapped[date]
    received_via: Mapped[str] = mapped_column(String(20), default="web")
    desired_resolution: Mapped[str | None] = mapped_column(Text)

    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    # The business's right of reply: asked on, due by, answered on.
    business_response: Mapped[str | None] = mapped_column(Text)
    response_requested_on: Mapped[date | None]
    response_due_on: Mapped[date | None]
    response_received_on: Mapped[date | None]

    # Where the case came from (SOURCES) and the source's own ID (the CFPB's Complaint ID, a CSV's
    # external ID): unique together, so importing the same complaint twice adds nothing.
    source: Mapped[str] = mapped_column(String(20), default="staff", server_default="staff")
    source_id: Mapped[str | None] = mapped_column(String(SOURCE_ID_MAX))
    # The CFPB's own fields of an imported complaint, as the CFPB wrote them.
    product: Mapped[str | None] = mapped_column(String(200))
    sub_product: Mapped[str | None] = mapped_column(String(200))
    issue: Mapped[str | None] = mapped_column(String(200))
    sub_issue: Mapped[str | None] = mapped_column(String(200))
    company_response: Mapped[str | None] = mapped_column(String(200))
    timely_response: Mapped[bool | None]
    consumer_disputed: Mapped[bool | None]
    submitted_via: Mapped[str | None] = mapped_column(String(50))
    consumer_state: Mapped[str | None] = mapped_column(String(2))
    consumer_zip: Mapped[str | None] = mapped_column(String(10))
    # A duplicate merged into another case stays as a pointer to it; its address leads there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # False from an assignment to someone else until the assignee opens the case: My work marks it new.
    assignee_seen: Mapped[bool] = mapped_column(default=True, server_default=true())

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    business: Mapped[Business] = relationship(back_populates="cases")
    merged_into: Mapped["Case | None"] = relationship(remote_side=[id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    tags: Mapped[list["CaseTag"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseTag.name"
    )
    timeline: Mapped[list["TimelineEntry"]] = relationship(
        back_populates="case",
        foreign_keys="TimelineEntry.case_id",
        cascade="all, delete-orphan",
        order_by="(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())",
    )

    evidence: Mapped[list["Evidence"]] = relationship(  # noqa: F821
        back_populates="case", order_by="Evidence.uploaded_at, Evidence.id", foreign_keys="Evidence.case_id"
    )

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def status_label(self) -> str:
        return self.status_enum.label

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def received_via_label(self) -> str:
        return RECEIVED_VIA.get(self.received_via, self.received_via)

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    @property
    def source_url(self) -> str | None:
        """The complaint's public record at its source (the CFPB's complaint page), if it has one."""
        if self.source == "cfpb" and self.source_id:
            return CFPB_RECORD_URL.format(self.source_id)
        return None

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    def is_overdue(self, today: date | None = None) -> bool:
        """True while the business's right-of-reply deadline has passed unanswered."""
        if not today:  # None, or a template's undefined `today`
            from ..template_helpers import local_today  # the newsroom's date (helpers import this module)

            today = local_today()
        return (
            self.status == Status.AWAITING_RESPONSE.value
            and self.response_received_on is None
            and self.response_due_on is not None
            and self.response_due_on < today
        )

    def __repr__(self) -> str:
        return f"<Case {self.reference}>"


class CaseReferenceCounter(db.Model):
    """The last case number given out in each year (C-2026-00042 is number 42 of 2026)."""

    __tablename__ = "case_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class CaseTag(db.Model):
    __tablename__ = "case_tags"
    __table_args__ = (UniqueConstraint("case_id", "name", name="uq_case_tags_case_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60), index=True)

    case: Mapped[Case] = relationship(back_populates="tags")


class TimelineEntry(db.Model):
    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    # Internal entries never leave the newsroom: dossiers for outside audiences omit them.
    internal: Mapped[bool] = mapped_column(default=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Set when a merge brought the entry here: the case it was written on, whose complainant's
    # consent still decides what outside dossiers may print of it.
    origin_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    # "The owner will call back by Friday": a due item on My work until someone marks it done.
    follow_up_on: Mapped[date | None] = mapped_column(index=True)
    follow_up_done_at: Mapped[datetime | None]
    # Set when the author corrected the text; the earlier versions are in `revisions`.
    edited_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="timeline", foreign_keys=[case_id])
    origin_case: Mapped[Case | None] = relationship(foreign_keys=[origin_case_id])
    author: Mapped[User | None] = relationship()
    revisions: Mapped[list["TimelineRevision"]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="TimelineRevision.id.desc()"
    )

    @property
    def kind_label(self) -> str:
        return TimelineKind(self.kind).label

    @property
    def is_system(self) -> bool:
        return TimelineKind(self.kind) not in NOTE_KINDS


class TimelineRevision(db.Model):
    """The text a timeline note had before its author corrected it: corrections never erase."""

    __tablename__ = "timeline_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("timeline_entries.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)  # the earlier text
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    entry: Mapped[TimelineEntry] = relationship(back_populates="revisions")
    replaced_by: Mapped[User | None] = relationship()
