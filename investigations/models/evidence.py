import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .cases import Case
from .common import utcnow
from .users import User


class ExtractionState(str, enum.Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    NONE = "none"  # nothing to read: audio, video, or OCR switched off

    @property
    def label(self) -> str:
        return {"pending": "Reading text…", "done": "Text extracted", "failed": "Text extraction failed",
                "none": "No text"}[self.value]


class Evidence(db.Model):
    """One file attached to a case. The bytes live in the evidence store under `sha256`
    and are never replaced; a correction is a new Evidence row."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    type_label: Mapped[str] = mapped_column(String(60))
    # As the uploader's computer named it, cleaned for display. Never used as a path.
    original_name: Mapped[str] = mapped_column(String(255))
    caption: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    width: Mapped[int | None]
    height: Mapped[int | None]
    has_thumbnail: Mapped[bool] = mapped_column(default=False)
    # "lat, lon" from a photo's EXIF: it can identify where a complainant lives.
    gps_location: Mapped[str | None] = mapped_column(String(60))

    extraction_state: Mapped[str] = mapped_column(String(10), default=ExtractionState.PENDING.value)
    extraction_method: Mapped[str | None] = mapped_column(String(20))
    extraction_error: Mapped[str | None] = mapped_column(String(500))
    extracted_text: Mapped[str | None] = mapped_column(Text)
    extracted_at: Mapped[datetime | None]

    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    # Set when a merge brought the file here: the case it was uploaded to, whose complainant's
    # consent still decides whether outside dossiers may name or attach it.
    origin_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    case: Mapped[Case] = relationship(back_populates="evidence", foreign_keys=[case_id])
    origin_case: Mapped[Case | None] = relationship(foreign_keys=[origin_case_id])
    releases: Mapped[list["EvidenceRelease"]] = relationship(back_populates="evidence", cascade="all, delete-orphan")
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def extraction_label(self) -> str:
        return ExtractionState(self.extraction_state).label

    @property
    def complainant_case(self) -> Case:
        """The case whose complainant this file came from (its own case unless merged in)."""
        return self.origin_case or self.case

    def released(self, part: str) -> "EvidenceRelease | None":
        return next((release for release in self.releases if release.part == part), None)


RELEASE_PARTS = {
    "caption": "its caption",
    "file_name": "its file name",
    "original": "the original file",
}


class EvidenceRelease(db.Model):
    """An editor's decision that outside dossiers may show part of a file whose complainant did not
    consent to be named, because the complainant agreed to that referral: who, when, on what basis."""

    __tablename__ = "evidence_releases"
    __table_args__ = (UniqueConstraint("evidence_id", "part", name="uq_evidence_releases_evidence_id_part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(20))  # a key of RELEASE_PARTS
    basis: Mapped[str] = mapped_column(Text)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="releases")
    released_by: Mapped[User] = relationship()

    @property
    def part_label(self) -> str:
        return RELEASE_PARTS[self.part]
