from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import utcnow


class UserSession(db.Model):
    """A sign-in, kept on the server (auth/sessions.py). The session cookie and the remember-me
    cookie carry a random token naming this row; only the token's SHA-256 is stored. The row ends
    at sign-out, when the password changes or is reset, after SESSION_IDLE_MINUTES without a
    request, and SESSION_LIFETIME_HOURS after it began: a cookie copied before then stops working."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)  # written at most once a minute
    ended_at: Mapped[datetime | None]
    remember: Mapped[bool] = mapped_column(default=False)
    # For the list of the account's sessions only; never used to decide anything.
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ip_address: Mapped[str | None] = mapped_column(String(45))
