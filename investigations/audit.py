"""The audit trail: record(action, obj, **details), changes(old, new) and verify_chain().

Events are append-only and tamper-evident. Each stores an HMAC-SHA256 of its own content and
the previous event's hash, keyed by a secret kept outside the database (AUDIT_KEY, or the file
AUDIT_KEY_FILE, by default instance/audit_key, created with mode 0600 on first use). Changing,
removing or reordering any row breaks every link after it, and someone who can write to the
database but does not hold the key cannot compute the hashes of a rewritten chain. The chain is
extended at flush time, under a lock on the single audit_chain_head row, so concurrent writers
(several gunicorn workers, several processes on PostgreSQL) always extend it one after the other.
"""
import hashlib
import hmac
import itertools
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditChainHead, AuditEvent, User, utcnow
from .models.audit import GENESIS_HASH

_order = itertools.count()


MIN_KEY_LENGTH = 32
KEY_ID_LABEL = b"investigations audit key id"
# Case fields whose old and new values an edit's audit event keeps (the others: by name only,
# so complainants' personal details are never copied into the append-only trail).
VALUE_FIELDS = ("consent_to_publish",)


def load_audit_key(key: str | None, key_file: str | os.PathLike) -> bytes:
    """The chain's key: `key` (AUDIT_KEY) if set, else the file `key_file`, created on first use
    with a random key, readable by its owner only. Used by the app and by migrations alike."""
    if not key:
        path = Path(key_file)
        if not path.exists():
            _create_key_file(path)
        key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise RuntimeError(f"The audit key (AUDIT_KEY or {key_file}) must be at least {MIN_KEY_LENGTH} characters.")
    return key.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Write a new key beside `path` and link it into place: a process starting at the same moment
    either creates the file or reads the complete one another process made, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
    finally:
        partial.unlink(missing_ok=True)


def audit_key() -> bytes:
    """This app's audit key, loaded (or created) once per app and setting."""
    config = current_app.config
    source = (config.get("AUDIT_KEY"), config["AUDIT_KEY_FILE"])
    cache = current_app.extensions.setdefault("audit_key", {})
    if source not in cache:
        cache[source] = load_audit_key(*source)
    return cache[source]


def key_id(key: bytes) -> str:
    """A short fingerprint of a key, stored with the chain head: it tells a wrong key from a
    tampered chain, and reveals nothing about the key."""
    return hmac.new(key, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def canonical_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def describe(obj: Any) -> tuple[str | None, str | None]:
    """The (object_type, object_id) an audit event names for a model instance."""
    if obj is None:
        return None, None
    object_type = obj.__class__.__name__.lower()
    if getattr(obj, "reference", None):  # cases are known by their reference
        return object_type, obj.reference
    if getattr(obj, "id", None) is None:
        db.session.flush()
    return object_type, str(obj.id)


def changes(old: Mapping[str, Any], new: Mapping[str, Any], *,
            values: Iterable[str] = VALUE_FIELDS) -> dict[str, Any]:
    """Audit details of an edit: `fields`, the names that changed (in `new`'s order), and for each
    changed name in `values` its old and new value, e.g.
    changes({"consent_to_publish": False, "title": "a"}, {"consent_to_publish": True, "title": "b"})
    == {"fields": ["consent_to_publish", "title"], "consent_to_publish": {"from": False, "to": True}}.
    Use it as record("case.update", case, **changes(before, after))."""
    changed = [name for name, value in new.items() if old.get(name) != value]
    details: dict[str, Any] = {"fields": changed}
    for name in values:
        if name in changed:
            details[name] = {"from": old.get(name), "to": new[name]}
    return details


def record(action: str, obj: Any = None, *, actor: User | None = None, **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction; it is chained when the session flushes."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    object_type, object_id = describe(obj)
    event_row = AuditEvent(
        created_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else details.pop("actor_label", "system"),
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=canonical_json(details),
        ip=request.remote_addr if has_request_context() else None,
    )
    event_row._chain_order = next(_order)
    db.session.add(event_row)
    return event_row


def event_hash(event_row: AuditEvent, key: bytes | None = None) -> str:
    """HMAC-SHA256, keyed by the audit key, of the event's content and the previous event's hash."""
    content = canonical_json(
        {
            "seq": event_row.seq,
            "created_at": event_row.created_at.isoformat(timespec="microseconds"),
            "actor_id": event_row.actor_id,
            "actor_label": event_row.actor_label,
            "action": event_row.action,
            "object_type": event_row.object_type,
            "object_id": event_row.object_id,
            "details": event_row.details,
            "ip": event_row.ip,
            "prev_hash": event_row.prev_hash,
        }
    )
    return hmac.new(key if key is not None else audit_key(), content.encode("utf-8"), hashlib.sha256).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, flush_context, instances) -> None:
    pending = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.hash is None]
    if not pending:
        return
    pending.sort(key=lambda obj: getattr(obj, "_chain_order", 0))
    key = audit_key()  # before the lock: a missing key file is created outside the transaction
    connection = session.connection()
    # Locks the head until commit, so no other transaction extends the chain from the same link.
    table = AuditChainHead.__table__
    head = connection.execute(
        table.update().where(table.c.id == 1).values(seq=table.c.seq + len(pending)).returning(*table.c)
    ).first()
    if head is None:  # created by the first migration; never recreated, or a cut chain would restart
        raise RuntimeError("The audit chain head is missing; run `flask audit verify`.")
    last_seq, last_hash = head.seq - len(pending), head.last_hash
    for offset, event_row in enumerate(pending, start=1):
        event_row.seq = last_seq + offset
        event_row.prev_hash = last_hash
        event_row.hash = last_hash = event_hash(event_row, key)
    connection.execute(table.update().where(table.c.id == 1).values(last_hash=last_hash, key_id=key_id(key)))


@dataclass
class ChainReport:
    checked: int
    ok: bool
    broken_seq: int | None = None
    problem: str | None = None


def iter_events(up_to: int, batch: int = 1000) -> Iterator[AuditEvent]:
    query = (select(AuditEvent).where(AuditEvent.seq <= up_to).order_by(AuditEvent.seq)
             .execution_options(yield_per=batch, populate_existing=True))
    return db.session.scalars(query)


def verify_chain(progress=None) -> ChainReport:
    """Walk every event in order; report the first link that does not hold.

    `progress`, if given, is called with the number of events checked so far.
    """
    # The head first: events committed while we walk come after it and are left for next time.
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    if head is None:
        return ChainReport(0, False, None, "the chain head is missing")
    key = audit_key()
    if head.key_id is not None and head.key_id != key_id(key):
        return ChainReport(0, False, None, "the chain was written with another audit key than this server's "
                                           "(check AUDIT_KEY / AUDIT_KEY_FILE)")
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    events = iter_events(up_to=head.seq)
    try:
        for event_row in events:
            if event_row.seq != expected_seq:
                return ChainReport(checked, False, expected_seq, f"event #{expected_seq} is missing")
            if event_row.prev_hash != expected_prev:
                return ChainReport(checked, False, event_row.seq, "its link to the previous event is broken")
            if event_hash(event_row, key) != event_row.hash:
                return ChainReport(checked, False, event_row.seq, "its content does not match its hash")
            expected_prev, expected_seq = event_row.hash, expected_seq + 1
            checked += 1
            if progress:
                progress(checked)
    finally:
        events.close()  # a server-side cursor on PostgreSQL, left open when we stop early
    if head.seq != expected_seq - 1 or head.last_hash != expected_prev:
        return ChainReport(checked, False, expected_seq, "events after it have been removed")
    return ChainReport(checked, True)

