import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .businesses import Business
from .cases import Case
from .common import utcnow
from .users import User


class DossierState(str, enum.Enum):
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"


class Dossier(db.Model):
    """A PDF the app issued, of one case or of a business. Its SHA-256 identifies the exact file,
    so a recipient's copy can be checked later (flask dossier verify)."""

    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    audience: Mapped[str] = mapped_column(String(20))
    with_originals: Mapped[bool] = mapped_column(default=False)
    # Outside dossiers: photos of files whose complainant did not consent are left out unless asked for.
    with_photos: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Words the editor asked to withhold besides the complainant's identity, one per line.
    withheld_words: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=DossierState.RENDERING.value)
    error: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    size: Mapped[int | None]
    pages: Mapped[int | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_by_label: Mapped[str] = mapped_column(String(254))  # e-mail, or "command line"
    # Who it was prepared for, as typed at export ("BBB of Central Ohio", "The Dispatch, J. Doe").
    recipient: Mapped[str | None] = mapped_column(String(200))
    # A business dossier's choice of cases (dossiers/selection.py: Selection.as_dict); None: every case.
    selection: Mapped[dict | None] = mapped_column(JSON)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]

    case: Mapped[Case | None] = relationship()
    business: Mapped[Business | None] = relationship()
    issued_by: Mapped[User | None] = relationship()

    @property
    def subject(self) -> str:
        return self.case.reference if self.case else self.business.name

    @property
    def is_ready(self) -> bool:
        return self.state == DossierState.READY.value

    @property
    def withheld_word_list(self) -> list[str]:
        return [word for word in (self.withheld_words or "").splitlines() if word.strip()]
