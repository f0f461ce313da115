"""Right of reply: the letter that asks a business for its side, and the answer it gives online.

A letter is written once and never changed: its text as sent, its PDF (in the letter store, by
its SHA-256) and the hash of the private link's token (the token itself is only in the PDF, the
e-mail and the page shown once after sending). The business answers once through that link;
the answer and its files stay with the letter.
"""
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .cases import Case
from .common import utcnow
from .evidence import Evidence
from .users import User

DELIVERY_LABELS = {"email": "E-mailed by the app", "hand": "Sent by hand"}

reply_letter_files = Table(
    "reply_letter_files",
    db.metadata,
    Column("letter_id", ForeignKey("reply_letters.id", ondelete="CASCADE"), primary_key=True),
    Column("evidence_id", ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
)


class ReplyLetter(db.Model):
    __tablename__ = "reply_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The send form's one-time number: the same form sent twice (a double click, a reload) sends one letter.
    form_nonce: Mapped[str] = mapped_column(String(64), unique=True)

    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    recipient_address: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # as sent: the complainant's identity already withheld
    due_on: Mapped[date]  # the right-of-reply deadline printed in the letter
    expires_on: Mapped[date]  # the link answers until the end of this day (deadline + grace period)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the link's token

    delivery: Mapped[str] = mapped_column(String(10))  # DELIVERY_LABELS
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_size: Mapped[int | None]
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[datetime | None]
    # A later letter on the same case replaces this one: its link stops answering.
    superseded_at: Mapped[datetime | None]

    answered_at: Mapped[datetime | None]
    answer_name: Mapped[str | None] = mapped_column(String(200))  # who answered for the business
    answer_text: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()
    sent_by: Mapped[User] = relationship()
    answer_files: Mapped[list[Evidence]] = relationship(secondary=reply_letter_files, order_by="Evidence.id")

    @property
    def delivery_label(self) -> str:
        return DELIVERY_LABELS.get(self.delivery, self.delivery)

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    def __repr__(self) -> str:
        return f"<ReplyLetter {self.id} of case {self.case_id}>"
