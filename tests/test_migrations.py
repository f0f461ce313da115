"""The committed migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from investigations.extensions import db


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_audit_chain_head_is_seeded(app):
    from investigations.models import AuditChainHead

    head = db.session.get(AuditChainHead, 1)
    assert head.seq == 0 and head.last_hash == "0" * 64
