"""API tokens: made from 256 random bits, shown once, stored only as their SHA-256.

A token reads `inv_` followed by 43 URL-safe characters. Its first 12 characters are kept as
its prefix, so a list of tokens can show which is which; they do not help anyone guess it.
A token works while it is not revoked, has not expired (API_TOKEN_DAYS after it was made) and
its account is active. Changing the password, an admin's reset, and turning two-factor sign-in on
or off revoke all of an account's tokens (auth.accounts.revoke_api_tokens).
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from .. import audit
from ..extensions import db
from ..models import ApiToken, User, utcnow

TOKEN_PREFIX = "inv_"
PREFIX_CHARS = 12
MAX_TOKEN_CHARS = 200  # anything longer is not one of ours; do not even hash it
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


class TokenError(ValueError):
    """A token cannot be made or changed as asked; the message says why."""


def lifetime() -> timedelta:
    return timedelta(days=int(current_app.config.get("API_TOKEN_DAYS", 90)))


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(user: User, name: str, actor_label: str | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`; return (row, secret). The secret is not stored: show it once.
    The caller commits."""
    name = " ".join((name or "").split())[:100]
    if not name:
        raise TokenError("Give the token a name, e.g. the script or tool that will use it.")
    if not user.active:
        raise TokenError(f"{user.email} is deactivated; its tokens would not work.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user=user, name=name, token_hash=hash_token(secret), prefix=secret[:PREFIX_CHARS],
                     created_at=now, expires_at=now + lifetime())
    db.session.add(token)
    db.session.flush()
    details = {"name": name, "prefix": token.prefix, "user": user.email, "expires_at": token.expires_at}
    if actor_label:
        details["actor_label"] = actor_label  # made from the terminal: no signed-in actor
    audit.record("api_token.create", token, **details)
    return token, secret


def revoke_token(token: ApiToken) -> None:
    """Stop a token from working, for good. The caller commits."""
    if token.revoked_at is not None:
        raise TokenError("This token is already revoked.")
    token.revoked_at = utcnow()
    audit.record("api_token.revoke", token, name=token.name, prefix=token.prefix, user=token.user.email)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def own_token(user: User, token_id: int) -> ApiToken | None:
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def find_token(secret: str) -> ApiToken | None:
    """The token that `secret` is, whatever its state, if any."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_CHARS:
        return None
    return db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == hash_token(secret))
    )


def find_active_token(secret: str) -> ApiToken | None:
    """The unrevoked, unexpired token of an active account that `secret` is, if any."""
    token = find_token(secret)
    if token is None or not token.is_active or not token.user.active:
        return None
    return token


def note_use(token: ApiToken) -> None:
    """Record when the token was last used, at most once a minute (one UPDATE, then commit)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY))
        .values(last_used_at=now)
    )
    db.session.commit()
