"""Complaints filed by consumers on the public form, waiting in the editors' triage queue.

A submission is not a case: it lives in these tables until an editor accepts it (then a Case is
made from it), marks it as a duplicate of an existing case, or declines it. Case lists, search,
dossiers, dashboards and counts read only `cases`, so nothing untriaged can reach them.
"""
import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .cases import Case
from .common import utcnow
from .evidence import Evidence
from .users import User


class IntakeState(str, enum.Enum):
    TRIAGE = "triage"  # waiting for an editor
    ACCEPTED = "accepted"  # became `case`
    DUPLICATE = "duplicate"  # of `case`, which already existed
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"triage": "Waiting for triage", "accepted": "Accepted", "duplicate": "Duplicate",
                "declined": "Declined"}[self.value]


class IntakeSubmission(db.Model):
    __tablename__ = "intake_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the receipt code (investigations/intake/receipts.py); the code itself is never stored.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=IntakeState.TRIAGE.value, index=True)

    summary: Mapped[str] = mapped_column(String(200))  # the consumer's one line: becomes the case title
    narrative: Mapped[str] = mapped_column(Text)
    business_name: Mapped[str] = mapped_column(String(200))
    incident_date: Mapped[date | None]
    amount_in_dispute: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    desired_resolution: Mapped[str | None] = mapped_column(Text)

    complainant_name: Mapped[str] = mapped_column(String(200))
    complainant_email: Mapped[str | None] = mapped_column(String(254))
    complainant_phone: Mapped[str | None] = mapped_column(String(50))
    complainant_address: Mapped[str | None] = mapped_column(Text)
    consent_to_publish: Mapped[bool] = mapped_column(default=False)

    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # The case it became (accepted) or duplicates (duplicate).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)

    decided_by: Mapped[User | None] = relationship()
    case: Mapped[Case | None] = relationship()
    files: Mapped[list["IntakeFile"]] = relationship(back_populates="submission", order_by="IntakeFile.id",
                                                     cascade="all, delete-orphan")
    notes: Mapped[list["IntakeNote"]] = relationship(back_populates="submission", order_by="IntakeNote.id",
                                                     cascade="all, delete-orphan")

    @property
    def state_enum(self) -> IntakeState:
        return IntakeState(self.state)

    @property
    def reference(self) -> str:
        """How the newsroom names a submission (never shown to the public)."""
        return f"S-{self.id:05d}"


class IntakeFile(db.Model):
    """A file the complainant sent. Its bytes are in the evidence store, exactly like staff uploads;
    it becomes an Evidence row of the case when the submission is accepted (or when added later)."""

    __tablename__ = "intake_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("intake_submissions.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    type_label: Mapped[str] = mapped_column(String(60))
    original_name: Mapped[str] = mapped_column(String(255))
    width: Mapped[int | None]
    height: Mapped[int | None]
    gps_location: Mapped[str | None] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))

    submission: Mapped[IntakeSubmission] = relationship(back_populates="files")
    evidence: Mapped[Evidence | None] = relationship()


class IntakeNote(db.Model):
    """Information the complainant added later through the status page."""

    __tablename__ = "intake_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("intake_submissions.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    timeline_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entries.id", ondelete="SET NULL"))

    submission: Mapped[IntakeSubmission] = relationship(back_populates="notes")
