"""public intake: complaints filed by consumers, the triage queue and receipts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 17:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'intake_submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('receipt_hash', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('summary', sa.String(length=200), nullable=False),
        sa.Column('narrative', sa.Text(), nullable=False),
        sa.Column('business_name', sa.String(length=200), nullable=False),
        sa.Column('incident_date', sa.Date(), nullable=True),
        sa.Column('amount_in_dispute', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('desired_resolution', sa.Text(), nullable=True),
        sa.Column('complainant_name', sa.String(length=200), nullable=False),
        sa.Column('complainant_email', sa.String(length=254), nullable=True),
        sa.Column('complainant_phone', sa.String(length=50), nullable=True),
        sa.Column('complainant_address', sa.Text(), nullable=True),
        sa.Column('consent_to_publish', sa.Boolean(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decline_reason', sa.Text(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_intake_submissions_case_id_cases')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_intake_submissions_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_submissions')),
        sa.UniqueConstraint('receipt_hash', name=op.f('uq_intake_submissions_receipt_hash')),
    )
    with op.batch_alter_table('intake_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_submissions_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_submissions_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_submissions_case_id'), ['case_id'], unique=False)

    op.create_table(
        'intake_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('type_label', sa.String(length=60), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('gps_location', sa.String(length=60), nullable=True),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('evidence_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_intake_files_evidence_id_evidence')),
        sa.ForeignKeyConstraint(['submission_id'], ['intake_submissions.id'],
                                name=op.f('fk_intake_files_submission_id_intake_submissions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_files')),
    )
    with op.batch_alter_table('intake_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_files_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_files_sha256'), ['sha256'], unique=False)

    op.create_table(
        'intake_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('timeline_entry_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['submission_id'], ['intake_submissions.id'],
                                name=op.f('fk_intake_notes_submission_id_intake_submissions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['timeline_entry_id'], ['timeline_entries.id'],
                                name=op.f('fk_intake_notes_timeline_entry_id_timeline_entries'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_notes')),
    )
    with op.batch_alter_table('intake_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_notes_submission_id'), ['submission_id'], unique=False)


def downgrade():
    op.drop_table('intake_notes')
    op.drop_table('intake_files')
    op.drop_table('intake_submissions')
