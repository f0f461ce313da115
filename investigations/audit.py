"""The audit trail: record(action, obj, **details) and verify_chain().

Events are append-only and tamper-evident. Each stores the SHA-256 of its own content
together with the previous event's hash, so changing, removing or reordering any row
breaks every link after it. The chain is extended at flush time, under a lock on the
single audit_chain_head row, so concurrent writers (several gunicorn workers, several
processes on PostgreSQL) always extend it one after the other.
"""
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditChainHead, AuditEvent, User, utcnow
from .models.audit import GENESIS_HASH

_order = itertools.count()


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


def event_hash(event_row: AuditEvent) -> str:
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
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, flush_context, instances) -> None:
    pending = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.hash is None]
    if not pending:
        return
    pending.sort(key=lambda obj: getattr(obj, "_chain_order", 0))
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
        event_row.hash = last_hash = event_hash(event_row)
    connection.execute(table.update().where(table.c.id == 1).values(last_hash=last_hash))


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
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    events = iter_events(up_to=head.seq)
    try:
        for event_row in events:
            if event_row.seq != expected_seq:
                return ChainReport(checked, False, expected_seq, f"event #{expected_seq} is missing")
            if event_row.prev_hash != expected_prev:
                return ChainReport(checked, False, event_row.seq, "its link to the previous event is broken")
            if event_hash(event_row) != event_row.hash:
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

