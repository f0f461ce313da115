"""right of reply: letters to businesses and their answers online; business contacts

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 17:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('contact_address', sa.Text(), nullable=True))

    op.create_table(
        'reply_letters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('form_nonce', sa.String(length=64), nullable=False),
        sa.Column('recipient_name', sa.String(length=200), nullable=True),
        sa.Column('recipient_email', sa.String(length=254), nullable=True),
        sa.Column('recipient_address', sa.Text(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('delivery', sa.String(length=10), nullable=False),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
        sa.Column('pdf_size', sa.Integer(), nullable=True),
        sa.Column('sent_by_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('mailed_at', sa.DateTime(), nullable=True),
        sa.Column('superseded_at', sa.DateTime(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('answer_name', sa.String(length=200), nullable=True),
        sa.Column('answer_text', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reply_letters_case_id_cases')),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_reply_letters_sent_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_letters')),
        sa.UniqueConstraint('form_nonce', name=op.f('uq_reply_letters_form_nonce')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_reply_letters_token_hash')),
    )
    with op.batch_alter_table('reply_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_letters_case_id'), ['case_id'], unique=False)

    op.create_table(
        'reply_letter_files',
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('evidence_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['reply_letters.id'],
                                name=op.f('fk_reply_letter_files_letter_id_reply_letters'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'],
                                name=op.f('fk_reply_letter_files_evidence_id_evidence'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('letter_id', 'evidence_id', name=op.f('pk_reply_letter_files')),
    )


def downgrade():
    op.drop_table('reply_letter_files')
    with op.batch_alter_table('reply_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_letters_case_id'))
    op.drop_table('reply_letters')
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.drop_column('contact_address')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_name')
