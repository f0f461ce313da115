"""Server-side sessions: a sign-in is a row of user_sessions, named by a random token.

Flask-Login keeps a user id in the session cookie and in the remember-me cookie; here that id is
the session's token (User.get_id), and the user loader accepts it only while its row is alive:
not ended (sign-out, password change or reset, "sign out other sessions"), used within
SESSION_IDLE_MINUTES, and begun less than SESSION_LIFETIME_HOURS ago. So a cookie copied before
any of those stops working, whichever cookie it is. Only the token's SHA-256 is stored.

Client addresses are request.remote_addr: a client-sent X-Forwarded-For counts only through
ProxyFix, when PROXY_FIX_X_FOR says how many proxies to trust.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, user_loaded_from_cookie
from sqlalchemy import and_, bindparam, delete, or_, select, update

from .. import audit
from ..extensions import db
from ..models import User, UserSession, utcnow

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100  # anything longer is not one of ours; do not even hash it
LAST_SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
KEEP_ENDED = timedelta(days=30)  # ended sessions are kept this long for the list, then removed


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("SESSION_IDLE_MINUTES", 8 * 60)))


def lifetime() -> timedelta:
    return timedelta(hours=int(current_app.config.get("SESSION_LIFETIME_HOURS", 14 * 24)))


def client_address() -> str | None:
    """The client's address as the server saw it (after ProxyFix, when configured), never a header."""
    return request.remote_addr[:45] if request.remote_addr else None


def session_identifier() -> str:
    """Flask-Login's "strong" session protection fingerprint, from the connection's address and the
    User-Agent. (Flask-Login's own reads a client-sent X-Forwarded-For, which anyone can forge.)"""
    base = f"{client_address()}|{request.headers.get('User-Agent')}"
    return hashlib.sha512(base.encode("utf-8")).hexdigest()


@user_loaded_from_cookie.connect
def _bind_remembered_session(app, user=None, **extra) -> None:
    """A browser signed back in by its remember-me cookie gets the fingerprint login_user gives.
    (Flask-Login leaves it out, and "strong" protection then signs the browser out again at
    its next request, deleting the remember-me cookie.)"""
    session["_id"] = session_identifier()


def _prune(user: User, now) -> None:
    """Forget the user's sessions that ended, or ran out, more than KEEP_ENDED ago."""
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at < now - KEEP_ENDED, UserSession.created_at < now - lifetime() - KEEP_ENDED),
    ).execution_options(synchronize_session=False))


def sign_in(user: User, remember: bool = False) -> UserSession:
    """Start a server-side session for `user` and sign this browser in with it. The caller commits."""
    now = utcnow()
    _prune(user, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = UserSession(user_id=user.id, token_hash=hash_token(token), created_at=now, last_seen_at=now,
                      remember=bool(remember), ip_address=client_address(),
                      user_agent=(request.headers.get("User-Agent") or "")[:200] or None)
    db.session.add(row)
    db.session.flush()
    user.session_token = token
    login_user(user, remember=bool(remember), duration=lifetime())
    g.user_session_id = row.id
    return row


# A session and its account in one query, built once: run before every request (a statement built
# each time, then a second query for the account, cost four times as much).
_SESSION_AND_USER = select(UserSession, User).join(User, User.id == UserSession.user_id).where(
    UserSession.token_hash == bindparam("token_hash"))


def load_user(token: str) -> User | None:
    """Flask-Login's user loader: the account of a live session, or None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    found = db.session.execute(_SESSION_AND_USER, {"token_hash": hash_token(token)}).first()
    if found is None:  # no such session (or, impossibly, its account is gone)
        return None
    row, user = found
    if row.ended_at is not None:
        return None
    now = utcnow()
    if now - row.last_seen_at > idle_limit() or now - row.created_at > lifetime():
        return None
    if not user.active:
        return None
    user.session_token = token
    g.user_session_id = row.id
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        g.user_session_seen_due = True
    return user


def note_activity() -> None:
    """Move the current session's last_seen_at on, at most once a minute (one UPDATE, then commit).
    Runs before every request, before any view has changed anything."""
    if not g.pop("user_session_seen_due", False) or "user_session_id" not in g:
        return
    now = utcnow()
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == g.user_session_id, UserSession.ended_at.is_(None),
               UserSession.last_seen_at < now - LAST_SEEN_EVERY)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def current_session_id() -> int | None:
    return g.get("user_session_id")


def end_current_session() -> None:
    """Sign-out: the session this request came with ends on the server. The caller commits."""
    session_id = current_session_id()
    if session_id is not None:
        db.session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow()).execution_options(synchronize_session=False))


def renew(user: User) -> None:
    """After every session of `user` was ended (password change, two-factor enrolment), sign this
    browser in again with a new session, remembered if the old one was."""
    old = db.session.get(UserSession, current_session_id()) if current_session_id() is not None else None
    sign_in(user, remember=bool(old and old.remember))


def _alive(now):
    return and_(UserSession.ended_at.is_(None), UserSession.last_seen_at >= now - idle_limit(),
                UserSession.created_at >= now - lifetime())


def active_sessions(user: User) -> list[UserSession]:
    """The user's live sessions, the most recently used first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, _alive(utcnow()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ))


def end_other_sessions(user: User) -> int:
    """End every live session of `user` but this one; return how many. The caller commits."""
    now = utcnow()
    ended = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.id != (current_session_id() or 0), _alive(now))
        .values(ended_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if ended:
        audit.record("auth.sessions_ended", user, actor=user, sessions=ended)
    return ended

