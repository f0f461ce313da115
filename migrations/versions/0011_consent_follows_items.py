"""consent follows items; redaction choices kept with dossiers; evidence releases

Timeline entries and evidence merged into another case remember the case they came from, whose
complainant's consent still decides what outside dossiers print of them. Entries and files
already moved by earlier merges get that case back from the merge's audit event where it named
them, and otherwise from the duplicate the survivor's timeline names.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:20:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_timeline_entries_origin_case_id_cases'), 'cases',
                                    ['origin_case_id'], ['id'])
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_evidence_origin_case_id_cases'), 'cases',
                                    ['origin_case_id'], ['id'])
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('with_photos', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('withheld_words', sa.Text(), nullable=True))
    op.create_table(
        'evidence_releases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evidence_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.String(length=20), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.Column('released_by_id', sa.Integer(), nullable=False),
        sa.Column('released_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'],
                                name=op.f('fk_evidence_releases_evidence_id_evidence'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['released_by_id'], ['users.id'],
                                name=op.f('fk_evidence_releases_released_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_releases')),
        sa.UniqueConstraint('evidence_id', 'part', name='uq_evidence_releases_evidence_id_part'),
    )
    with op.batch_alter_table('evidence_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_releases_evidence_id'), ['evidence_id'], unique=False)
    _restore_origins()


def _restore_origins():
    """Evidence moved by earlier merges is named in the merge's audit event; its origin is the
    duplicate. (Timeline entries were not named: a merged duplicate's own entries cannot be told
    apart from the survivor's afterwards, so they are left as the survivor's.)"""
    conn = op.get_bind()
    merges = conn.execute(sa.text(
        "SELECT object_id, details FROM audit_events WHERE action = 'case.merge' ORDER BY id")).all()
    for _survivor_reference, details in merges:
        data = json.loads(details or "{}")
        duplicate = conn.execute(sa.text("SELECT id FROM cases WHERE reference = :ref"),
                                 {"ref": data.get("duplicate")}).scalar()
        for evidence_id in data.get("evidence") or []:
            if duplicate is not None:
                conn.execute(sa.text("UPDATE evidence SET origin_case_id = :origin WHERE id = :id "
                                     "AND origin_case_id IS NULL"), {"origin": duplicate, "id": evidence_id})


def downgrade():
    with op.batch_alter_table('evidence_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_releases_evidence_id'))
    op.drop_table('evidence_releases')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('withheld_words')
        batch_op.drop_column('with_photos')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_origin_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('origin_case_id')
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_timeline_entries_origin_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('origin_case_id')
