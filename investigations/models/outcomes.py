"""What a case got back for the complainant (its outcome) and what was published about it (stories).

A case has at most one outcome, recorded when it is resolved, published or closed and editable
later. Money recovered is kept apart from the amount in dispute, as a Decimal with its own ISO
currency: figures are totalled per currency and never added across currencies. A story (an
article, a TV or radio piece, an online video) can cover several cases: a pattern story about
one business links to each of them.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..extensions import db
from .cases import Case
from .common import utcnow
from .users import User

OUTCOME_KINDS = {
    "refund": "Refund",
    "replacement": "Replacement",
    "repair": "Repair",
    "debt_cancelled": "Debt cancelled",
    "contract_released": "Released from contract",
    "apology": "Apology only",
    "no_remedy": "No remedy",
    "referred": "Referred to a regulator",
    "other": "Other",
}

STORY_FORMATS = {
    "article": "Article",
    "tv": "TV",
    "radio": "Radio",
    "online_video": "Online video",
}


class CaseOutcome(db.Model):
    __tablename__ = "case_outcomes"
    __table_args__ = (UniqueConstraint("case_id", name="uq_case_outcomes_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    # Money the complainant got back (not the amount in dispute); None with amount_unknown when the
    # source says money was returned without saying how much (the CFPB's "monetary relief").
    money_recovered: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_unknown: Mapped[bool] = mapped_column(default=False, server_default=false())
    outcome_on: Mapped[date] = mapped_column(index=True)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(backref=backref("outcome", uselist=False, cascade="all, delete-orphan",
                                                      passive_deletes=True))
    recorded_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return OUTCOME_KINDS.get(self.kind, self.kind)

    @property
    def money_back(self) -> bool:
        """Whether money came back to the complainant (a known amount above zero, or an unknown one)."""
        return bool(self.money_recovered) or self.amount_unknown


case_stories = Table(
    "case_stories",
    db.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Story(db.Model):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
    published_on: Mapped[date] = mapped_column(index=True)
    format: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cases: Mapped[list[Case]] = relationship(
        secondary=case_stories, order_by=Case.reference,
        backref=backref("stories", order_by="(Story.published_on.desc(), Story.id.desc())"))
    created_by: Mapped[User | None] = relationship()

    @property
    def format_label(self) -> str:
        return STORY_FORMATS.get(self.format, self.format)
