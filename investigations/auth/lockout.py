"""Account lockout: after LOGIN_LOCKOUT_ATTEMPTS failed passwords or two-factor codes within
LOGIN_LOCKOUT_MINUTES, sign-in for that e-mail address is refused for LOGIN_LOCKOUT_MINUTES.

An account keeps its counters in the users table. An address with no account keeps the same
counters in login_throttles and goes through the same steps, so neither the messages nor their
order tell whether an account exists. A successful sign-in, or an admin resetting the password,
clears an account's counters. The per-IP rate limit (LOGIN_RATE_LIMIT) applies on top.
"""
import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import audit
from ..extensions import db
from ..models import User
from ..models.users import LoginThrottle

DEFAULT_ATTEMPTS = 5
DEFAULT_MINUTES = 15


def max_attempts() -> int:
    return int(current_app.config.get("LOGIN_LOCKOUT_ATTEMPTS", DEFAULT_ATTEMPTS))


def lockout_period() -> timedelta:
    """Both the window in which failures are counted and how long a lockout lasts."""
    return timedelta(minutes=int(current_app.config.get("LOGIN_LOCKOUT_MINUTES", DEFAULT_MINUTES)))


def _minutes() -> int:
    return int(lockout_period().total_seconds() // 60)


def locked_message() -> str:
    """The answer to a sign-in while locked: the same whether or not the address has an account."""
    return (f"Too many failed sign-ins for this e-mail address, so signing in with it is paused for "
            f"{_minutes()} minutes. Try again later, or ask an admin of your newsroom to reset your password.")


def paused_message() -> str:
    """The answer to a signed-in user's password or code check while their account is locked."""
    return (f"Too many wrong passwords or codes for your account, so this is paused for {_minutes()} minutes. "
            f"Try again later.")


def is_locked(state: User | LoginThrottle, now: datetime) -> bool:
    return state.locked_until is not None and state.locked_until > now


def clear(state: User | LoginThrottle) -> None:
    state.failed_logins = 0
    state.failed_logins_since = None
    state.locked_until = None


def register_failure(state: User | LoginThrottle, now: datetime, label: str) -> bool:
    """Count one failed password or code; lock and audit when that makes too many. True if it locked."""
    period = lockout_period()
    if state.failed_logins_since is None or now - state.failed_logins_since >= period:
        state.failed_logins, state.failed_logins_since = 0, now
    state.failed_logins = (state.failed_logins or 0) + 1
    if state.failed_logins < max_attempts():
        return False
    failures = state.failed_logins
    clear(state)
    state.locked_until = now + period
    if isinstance(state, User):
        audit.record("auth.lockout", state, actor_label=label, failures=failures, until=state.locked_until)
    else:
        audit.record("auth.lockout", None, actor_label=label, failures=failures, until=state.locked_until,
                     account="none")
    return True


def _address_key(email: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, email.encode("utf-8"), hashlib.sha256).hexdigest()


def throttle_for_address(email: str, now: datetime) -> LoginThrottle:
    """The counters of an e-mail address without an account, created if need be and locked for
    this transaction. Rows that no longer hold a count or a lockout are removed on the way."""
    period = lockout_period()
    db.session.execute(delete(LoginThrottle).where(
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        or_(LoginThrottle.failed_logins_since.is_(None), LoginThrottle.failed_logins_since <= now - period),
    ).execution_options(synchronize_session=False))
    key = _address_key(email)
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(LoginThrottle).values(key=key, failed_logins=0)
                       .on_conflict_do_nothing(index_elements=["key"]))
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key)
                             .with_for_update().execution_options(populate_existing=True))
