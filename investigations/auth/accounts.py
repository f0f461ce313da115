"""Accounts: password hashing, creating users, signing in (password, lockout, two-factor code),
password changes and resets, turning two-factor sign-in on and off."""
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update

from .. import audit
from ..database import serialize_with_other_writers
from ..extensions import db
from ..models import ApiToken, Role, User, utcnow
from ..models.users import normalize_email
from . import lockout, totp
from .forms import MIN_PASSWORD_LENGTH

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


class WrongCode(AccountError):
    """The two-factor code was the problem (not the password)."""


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


# One-time passwords are read aloud or copied from a screen: no characters that look alike
# (0/O/o, 1/l/I/i, 5/S, 2/Z, 8/B, u/v), lower case and digits only, so nobody guesses at a shift key.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstwxyz34679"
PASSWORD_GROUPS = 4
PASSWORD_GROUP_CHARS = 5


def generate_password() -> str:
    """A one-time password: four groups of five from PASSWORD_ALPHABET, "k7dmq-…" (~94 bits)."""
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_CHARS))
                    for _ in range(PASSWORD_GROUPS))


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


@dataclass
class SignInAttempt:
    """What a password (or code) step of signing in came to."""
    user: User | None = None  # set when the password was right
    needs_code: bool = False  # the password was right; the account's two-factor code comes next
    locked: bool = False  # refused: too many failures for this address (see lockout.py)

    @property
    def signed_in(self) -> bool:
        return self.user is not None and not self.needs_code


def _waste_a_hash(password: str) -> bool:
    """Verify against a dummy hash, so a refusal takes as long as checking a real password. False."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
    return False


def authenticate(email: str, password: str) -> SignInAttempt:
    """The password step of signing in. Failures are audited and counted towards a lockout,
    for addresses without an account exactly as for accounts."""
    now = utcnow()
    label = normalize_email(email)[:254]
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)).with_for_update())
    # The slow hash comes first, then the decision, with concurrent sign-ins to the same address
    # decided one after the other: however many guesses arrive at once, once the failures decided
    # before one reach the limit, it is refused, the right password included.
    password_right = check_password(user, password) if user is not None else _waste_a_hash(password)
    serialize_with_other_writers(db.session)
    if user is None:
        throttle = lockout.throttle_for_address(label, now)
        if lockout.is_locked(throttle, now):
            audit.record("auth.login_failed", None, actor_label=label, reason="locked out")
            return SignInAttempt(locked=True)
        audit.record("auth.login_failed", None, actor_label=label, reason="bad credentials")
        return SignInAttempt(locked=lockout.register_failure(throttle, now, label))
    if lockout.is_locked(user, now):
        audit.record("auth.login_failed", user, actor_label=label, reason="locked out")
        return SignInAttempt(locked=True)
    if password_right and user.active:
        if user.has_two_factor:
            return SignInAttempt(user=user, needs_code=True)
        complete_sign_in(user)
        return SignInAttempt(user=user)
    audit.record("auth.login_failed", user, actor_label=label,
                 reason="inactive account" if user.active is False else "bad credentials")
    return SignInAttempt(locked=lockout.register_failure(user, now, label))


def pending_user(user_id: int, session_version: int) -> User | None:
    """The account whose password was right and whose code is awaited, if it still may sign in."""
    user = db.session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None or not user.active or user.session_version != session_version or not user.has_two_factor:
        return None
    return user


def check_sign_in_code(user: User, code: str) -> SignInAttempt:
    """The second step of signing in: the code from the account's authenticator app.
    A wrong code is audited and counts towards the lockout like a wrong password."""
    serialize_with_other_writers(db.session)  # two sign-ins with the same code: only the first may use it
    now = utcnow()
    if lockout.is_locked(user, now):
        audit.record("auth.login_failed", user, actor_label=user.email, reason="locked out")
        return SignInAttempt(locked=True)
    step = totp.matching_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        audit.record("auth.totp_failed", user, actor_label=user.email, purpose="sign-in")
        return SignInAttempt(user=user, needs_code=True, locked=lockout.register_failure(user, now, user.email))
    user.totp_last_step = step
    complete_sign_in(user, two_factor=True)
    return SignInAttempt(user=user)


def complete_sign_in(user: User, two_factor: bool = False) -> None:
    lockout.clear(user)
    user.last_login_at = utcnow()
    audit.record("auth.login", user, actor=user, **({"two_factor": True} if two_factor else {}))


def _check_password_again(user: User, password: str, purpose: str) -> None:
    """Ask a signed-in user for their password before a sensitive change. A wrong one counts
    towards the lockout, so a borrowed session cannot be used to guess it."""
    now = utcnow()
    if lockout.is_locked(user, now):
        raise AccountError(lockout.paused_message())
    if not check_password(user, password):
        audit.record("auth.password_failed", user, actor=user, purpose=purpose)
        if lockout.register_failure(user, now, user.email):
            raise AccountError(lockout.paused_message())
        raise AccountError("The current password is not right.")


def confirm_identity(user: User, password: str, code: str | None, purpose: str) -> None:
    """Before something that hands out a credential (an API token): the account's password, and its
    current two-factor code when two-factor sign-in is on. Raises AccountError if either is wrong;
    the caller commits either way (failures count towards the lockout)."""
    _check_password_again(user, password, purpose)
    if not user.has_two_factor:
        return
    step = totp.matching_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        audit.record("auth.totp_failed", user, actor=user, purpose=purpose)
        if lockout.register_failure(user, utcnow(), user.email):
            raise WrongCode(lockout.paused_message())
        raise WrongCode("That code is not right; enter the one your app shows now.")
    user.totp_last_step = step


def revoke_api_tokens(user: User) -> int:
    """Revoke every unrevoked API token of the account; return how many. The caller commits and
    records the count in its own audit event."""
    return db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


def change_password(user: User, current: str, new: str) -> int:
    """Raises AccountError if refused; the caller commits either way (a failure is counted).
    Ends every session and revokes the account's API tokens; returns how many tokens."""
    _check_password_again(user, current, "change password")
    if current == new:
        raise AccountError("Choose a password different from the current one.")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.end_all_sessions()  # a stolen session or remember-me cookie stops working
    revoked = revoke_api_tokens(user)  # and so does a token made with a stolen session
    audit.record("user.password_change", user, actor=user, **({"tokens_revoked": revoked} if revoked else {}))
    return revoked


def reset_password(user: User, actor: User) -> str:
    """Give the user a new one-time password, to be changed at next sign-in. This also lifts a
    lockout and turns two-factor sign-in off (the way back for someone who lost their phone), and
    revokes the account's API tokens (a reset is what follows a suspected compromise)."""
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.end_all_sessions()
    was_locked = lockout.is_locked(user, utcnow())
    had_two_factor = user.has_two_factor
    lockout.clear(user)
    _remove_two_factor(user)
    revoked = revoke_api_tokens(user)
    audit.record("user.password_reset", user, actor=actor, **({"tokens_revoked": revoked} if revoked else {}),
                 **({"unlocked": True} if was_locked else {}),
                 **({"two_factor_removed": True} if had_two_factor else {}))
    return password


# --- Two-factor sign-in ----------------------------------------------------------------------


def two_factor_required(user: User) -> bool:
    return user.is_admin and bool(current_app.config.get("REQUIRE_TOTP_FOR_ADMINS", False))


def start_two_factor(user: User) -> None:
    """Make a new secret for the user to put in an authenticator app; in force once confirmed."""
    if user.has_two_factor:
        raise AccountError("Two-factor sign-in is already on for your account.")
    user.totp_secret = totp.new_secret()
    user.totp_enabled_at = None
    user.totp_last_step = None


def confirm_two_factor(user: User, code: str) -> int:
    """Turn two-factor sign-in on once the app shows the right code. Every session ends and the
    account's API tokens are revoked (made before, they were made without a code); returns how many."""
    if user.has_two_factor:
        raise AccountError("Two-factor sign-in is already on for your account.")
    if not user.totp_secret:
        raise AccountError("Start the set-up first.")
    step = totp.matching_step(user.totp_secret, code)
    if step is None:
        audit.record("auth.totp_failed", user, actor=user, purpose="set-up")
        raise AccountError("That code does not match. Check that the app shows “Investigations” with your "
                           "e-mail address and that your phone's clock is right, then enter the code it shows now.")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.end_all_sessions()
    revoked = revoke_api_tokens(user)
    audit.record("auth.totp_enable", user, actor=user, **({"tokens_revoked": revoked} if revoked else {}))
    return revoked


def disable_two_factor(user: User, password: str, code: str) -> int:
    """Turn two-factor sign-in off, with the password and a current code. Raises AccountError if
    refused; the caller commits either way (failures are counted towards the lockout). The account's
    API tokens are revoked; returns how many."""
    if not user.has_two_factor:
        raise AccountError("Two-factor sign-in is not on for your account.")
    if two_factor_required(user):
        raise AccountError("Admins must keep two-factor sign-in on in this newsroom.")
    _check_password_again(user, password, "turn off two-factor sign-in")
    now = utcnow()
    step = totp.matching_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        audit.record("auth.totp_failed", user, actor=user, purpose="turn off")
        if lockout.register_failure(user, now, user.email):
            raise AccountError(lockout.paused_message())
        raise AccountError("That code is not right; enter the one your app shows now.")
    _remove_two_factor(user)
    revoked = revoke_api_tokens(user)
    audit.record("auth.totp_disable", user, actor=user, **({"tokens_revoked": revoked} if revoked else {}))
    return revoked


def _remove_two_factor(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None


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
