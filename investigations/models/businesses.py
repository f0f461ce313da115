from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import utcnow


class Business(db.Model):
    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # "ACME Corp." and "Acme Corp" share one normalized name; see businesses/naming.py.
    normalized_name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    website: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(120))
    industry: Mapped[str | None] = mapped_column(String(120))
    # Whom the newsroom writes to for the business's side (right-of-reply letters go here).
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_address: Mapped[str | None] = mapped_column(Text)
    # A duplicate record merged into another business stays as a pointer to it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    aliases: Mapped[list["BusinessAlias"]] = relationship(
        back_populates="business", cascade="all, delete-orphan", order_by="BusinessAlias.name"
    )
    cases: Mapped[list["Case"]] = relationship(back_populates="business")  # noqa: F821
    merged_into: Mapped["Business | None"] = relationship(remote_side=[id])

    @property
    def current_cases(self) -> list["Case"]:  # noqa: F821
        """Its cases, without duplicates that were merged into other cases."""
        return [case for case in self.cases if case.merged_into_id is None]

    @property
    def alias_names(self) -> list[str]:
        return [alias.name for alias in self.aliases]

    def __repr__(self) -> str:
        return f"<Business {self.name}>"


class BusinessAlias(db.Model):
    """Another name the business trades under; it finds the business like its own name does."""

    __tablename__ = "business_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200), unique=True)

    business: Mapped[Business] = relationship(back_populates="aliases")
