"""audit chain keyed outside the database; CFPB imports lose a consent they never had

Every existing audit event is re-chained in order with HMAC-SHA256, keyed by the audit key
(AUDIT_KEY, or the file AUDIT_KEY_FILE, created on first use), which the database does not hold.
The old SHA-256 chain is checked first; the outcome, the old head and the new key's fingerprint
are recorded in an "audit.rechain" event appended at the end, so the re-chaining itself is in the
trail. Cases imported from the CFPB ("cfpb:" source_ref) had consent_to_publish set from the CFPB's
"Consumer consent provided?" column, which is consent to publish the narrative, not to name the
complainant: it is set false, and the cases changed are named in the same event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00

"""
import hashlib
import hmac
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
BATCH = 1000

events = sa.table(
    'audit_events',
    sa.column('id', sa.Integer), sa.column('seq', sa.BigInteger), sa.column('created_at', sa.DateTime),
    sa.column('actor_id', sa.Integer), sa.column('actor_label', sa.String), sa.column('action', sa.String),
    sa.column('object_type', sa.String), sa.column('object_id', sa.String), sa.column('details', sa.Text),
    sa.column('ip', sa.String), sa.column('prev_hash', sa.String), sa.column('hash', sa.String),
)
head = sa.table('audit_chain_head', sa.column('id', sa.Integer), sa.column('seq', sa.BigInteger),
                sa.column('last_hash', sa.String), sa.column('key_id', sa.String))
cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('reference', sa.String),
                 sa.column('source_ref', sa.String), sa.column('consent_to_publish', sa.Boolean))


def _canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _content(row, prev_hash: str) -> bytes:
    """The hashed content of an event, as audit.event_hash builds it at this revision."""
    return _canonical({
        "seq": row.seq, "created_at": row.created_at.isoformat(timespec="microseconds"),
        "actor_id": row.actor_id, "actor_label": row.actor_label, "action": row.action,
        "object_type": row.object_type, "object_id": row.object_id, "details": row.details, "ip": row.ip,
        "prev_hash": prev_hash,
    }).encode("utf-8")


def _batches(bind):
    after = 0
    while True:
        rows = bind.execute(sa.select(events).where(events.c.seq > after).order_by(events.c.seq).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def upgrade():
    with op.batch_alter_table('audit_chain_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))

    bind = op.get_bind()
    # Takes the head's row lock (PostgreSQL) or the write lock (SQLite) for the rest of the migration.
    bind.execute(head.update().where(head.c.id == 1).values(seq=head.c.seq))
    current = bind.execute(sa.select(head).where(head.c.id == 1)).first()
    cleared = [ref for ref, in bind.execute(
        sa.select(cases.c.reference).where(cases.c.source_ref.like('cfpb:%'), cases.c.consent_to_publish.is_(True))
        .order_by(cases.c.reference))]
    if current is None or (current.seq == 0 and not cleared):
        return  # a new database: nothing to re-chain, and no key is needed yet

    bind.execute(cases.update().where(cases.c.source_ref.like('cfpb:%')).values(consent_to_publish=False))

    from investigations.audit import key_id, load_audit_key  # the key is found as the app finds it

    key = load_audit_key(current_app.config.get("AUDIT_KEY"), current_app.config["AUDIT_KEY_FILE"])
    old_prev, new_prev, expected_seq, count = GENESIS_HASH, GENESIS_HASH, 1, 0
    old_problem = None
    for rows in _batches(bind):
        updates = []
        for row in rows:
            if old_problem is None:
                if row.seq != expected_seq:
                    old_problem = f"event #{expected_seq} is missing"
                elif row.prev_hash != old_prev:
                    old_problem = f"event #{row.seq}: its link to the previous event is broken"
                elif hashlib.sha256(_content(row, row.prev_hash)).hexdigest() != row.hash:
                    old_problem = f"event #{row.seq}: its content does not match its hash"
            old_prev, expected_seq = row.hash, row.seq + 1
            new_hash = hmac.new(key, _content(row, new_prev), hashlib.sha256).hexdigest()
            updates.append({"row_id": row.id, "new_prev": new_prev, "new_hash": new_hash})
            new_prev, count = new_hash, count + 1
        bind.execute(events.update().where(events.c.id == sa.bindparam("row_id"))
                     .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")), updates)
    if old_problem is None and (current.seq != expected_seq - 1 or current.last_hash != old_prev):
        old_problem = f"events after #{expected_seq - 1} have been removed"

    details = {"events": count, "sha256_head_seq": current.seq, "sha256_head_hash": current.last_hash,
               "sha256_chain_ok": old_problem is None, "key_id": key_id(key),
               "cfpb_consent_cleared": cleared}
    if old_problem:
        details["sha256_chain_problem"] = old_problem
        print(f"WARNING: the audit chain was broken before it was re-chained ({old_problem}); "
              f"this is recorded in the audit.rechain event.")
    seq = max(current.seq, expected_seq - 1) + 1
    rechain = {"seq": seq, "created_at": datetime.now(UTC).replace(tzinfo=None), "actor_id": None,
               "actor_label": "migration 0010", "action": "audit.rechain", "object_type": None, "object_id": None,
               "details": _canonical(details), "ip": None}
    rechain["hash"] = hmac.new(key, _content(_Row(rechain), new_prev), hashlib.sha256).hexdigest()
    bind.execute(events.insert().values(prev_hash=new_prev, **rechain))
    bind.execute(head.update().where(head.c.id == 1).values(seq=seq, last_hash=rechain["hash"], key_id=key_id(key)))


class _Row:
    def __init__(self, values: dict):
        self.__dict__.update(values)


def downgrade():
    # The HMAC chain is kept (a SHA-256 chain anyone can recompute is what this revision removed);
    # the consent values cleared are named in the audit.rechain event.
    with op.batch_alter_table('audit_chain_head', schema=None) as batch_op:
        batch_op.drop_column('key_id')
