import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
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

    case: Mapped[Case] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def extraction_label(self) -> str:
        return ExtractionState(self.extraction_state).label
