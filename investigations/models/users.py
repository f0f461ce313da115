import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, String, update
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import utcnow
from .sessions import UserSession


class Role(str, enum.Enum):
    REPORTER = "reporter"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see normalize_email), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default=Role.REPORTER.value)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Raised whenever every session of the user ends (end_all_sessions): a sign-in waiting for its
    # two-factor code started before then cannot be finished.
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    # Lockout (auth/lockout.py): failed passwords and codes since failed_logins_since; sign-in
    # is refused until locked_until. A successful sign-in or an admin's password reset clears them.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_logins_since: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]

    # Two-factor sign-in (auth/totp.py): the base32 TOTP secret, set when enrolment starts and
    # in force once totp_enabled_at is set; totp_last_step is the time step of the last code
    # accepted, so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    # The token of the server-side session (auth/sessions.py) this object was signed in or loaded
    # with, for this request only; never stored on the row.
    session_token = None

    def get_id(self) -> str:
        """Flask-Login's user id, kept in the session and remember-me cookies: the token of a
        server-side session (Flask-Login's "alternative token"), so ending that session on the
        server makes both cookies worthless. Set by auth.sessions.sign_in and the user loader."""
        if not self.session_token:
            raise RuntimeError("Sign users in with investigations.auth.sessions.sign_in, which starts a session.")
        return self.session_token

    def __eq__(self, other):
        if isinstance(other, User):
            return self.id is not None and self.id == other.id
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def end_all_sessions(self) -> None:
        """Sign the user out everywhere: every server-side session ends (session and remember-me
        cookies stop working), and a sign-in waiting for its two-factor code cannot finish."""
        self.session_version = (self.session_version or 0) + 1
        db.session.execute(update(UserSession).where(UserSession.user_id == self.id, UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow()).execution_options(synchronize_session=False))

    @property
    def is_locked_out(self) -> bool:
        """Signing in is refused for now (too many failed passwords or codes)."""
        return self.locked_until is not None and self.locked_until > utcnow()

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive users
        return self.active

    @property
    def is_editor(self) -> bool:
        """Editors and admins see and edit every case."""
        return self.role in (Role.EDITOR.value, Role.ADMIN.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    def __repr__(self) -> str:
        return f"<User {self.email} ({self.role})>"


def normalize_email(email: str) -> str:
    return email.strip().lower()


class LoginThrottle(db.Model):
    """Failed sign-ins for an e-mail address that has no account, counted exactly as an account's
    are (see auth/lockout.py), so the answers never tell whether an account exists. Keyed by an
    HMAC of the address, so the addresses people mistype are not kept."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_logins_since: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
