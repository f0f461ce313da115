from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import utcnow
from .users import User

PAPER_SIZES = {"A4": "A4 (210 × 297 mm)", "letter": "US Letter (8.5 × 11 in)"}


class NewsroomSettings(db.Model):
    """The newsroom's own settings, chosen by an admin: one row (id 1). An unset value falls back to
    the server's configuration (investigations/settings.py reads them)."""

    __tablename__ = "newsroom_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    paper_size: Mapped[str] = mapped_column(String(10), default="A4", server_default="A4")  # a key of PAPER_SIZES
    timezone: Mapped[str | None] = mapped_column(String(64))  # an IANA zone name
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    updated_by: Mapped[User | None] = relationship()
