"""Accounts: password hashing, creating users, signing in, password changes."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import Role, User, utcnow
from ..models.users import normalize_email
from .forms import MIN_PASSWORD_LENGTH

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def generate_password() -> str:
    """A one-time password: easy to read aloud and type, ~100 bits."""
    words = [secrets.token_urlsafe(6).replace("-", "x").replace("_", "y") for _ in range(3)]
    return "-".join(words)


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(email: str, display_name: str, role: str, password: str | None = None,
                actor: User | None = None) -> tuple[User, str]:
    """Create an account; return (user, password). Without a password, a one-time one is made
    and the user must change it at first sign-in."""
    email = normalize_email(email)
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role “{role}”: use reporter, editor or admin.")
    if find_user(email) is not None:
        raise AccountError(f"An account for {email} already exists.")
    one_time = password is None
    if one_time:
        password = generate_password()
    elif len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = User(email=email, display_name=display_name.strip(), role=role,
                password_hash=hash_password(password), must_change_password=one_time)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, actor=actor, email=email, role=role)
    return user, password


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Failures are audited."""
    user = find_user(email)
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
    elif check_password(user, password) and user.active:
        user.last_login_at = utcnow()
        audit.record("auth.login", user, actor=user)
        return user
    audit.record("auth.login_failed", user, actor_label=normalize_email(email)[:254],
                 reason="inactive account" if user is not None and user.active is False else "bad credentials")
    return None


def change_password(user: User, current: str, new: str) -> None:
    if not check_password(user, current):
        raise AccountError("The current password is not right.")
    if current == new:
        raise AccountError("Choose a password different from the current one.")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.end_all_sessions()  # a stolen session or remember-me cookie stops working
    audit.record("user.password_change", user, actor=user)


def reset_password(user: User, actor: User) -> str:
    """Give the user a new one-time password, to be changed at next sign-in."""
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.end_all_sessions()
    audit.record("user.password_reset", user, actor=actor)
    return password


def active_admin_count() -> int:
    """Counts the active admins, locking their rows so two admins cannot demote each other at once."""
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True)).with_for_update()
    ).all()
    return len(admins)


def update_user(user: User, display_name: str, role: str, active: bool, actor: User) -> list[str]:
    """Edit an account; refuses to leave the app without an active admin."""
    losing_admin = user.is_admin and user.active and (role != Role.ADMIN.value or not active)
    if losing_admin and active_admin_count() <= 1:
        raise AccountError("This is the last active admin; make another admin first.")
    changed = []
    for field, value in (("display_name", display_name.strip()), ("role", role), ("active", active)):
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        audit.record("user.update", user, actor=actor, fields=changed, role=user.role, active=user.active)
    return changed


def ensure_first_admin(email: str) -> tuple[User, str] | None:
    """With no accounts at all, create an admin with a one-time password; else do nothing."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    return create_user(email, "Administrator", Role.ADMIN.value)
