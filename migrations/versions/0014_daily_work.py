"""daily work: follow-up dates on timeline notes, note corrections, assignments seen by the assignee

A call or meeting note may carry a follow-up date that stays a due item on My work until it is
marked done. A note corrected by its author keeps each earlier text in timeline_revisions. A case
assigned to someone else is unseen (assignee_seen false) until the assignee opens it; existing
cases count as seen.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 09:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_seen', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('follow_up_done_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_timeline_entries_follow_up_on'), ['follow_up_on'], unique=False)
    op.create_table(
        'timeline_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('replaced_at', sa.DateTime(), nullable=False),
        sa.Column('replaced_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['timeline_entries.id'],
                                name=op.f('fk_timeline_revisions_entry_id_timeline_entries'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['replaced_by_id'], ['users.id'],
                                name=op.f('fk_timeline_revisions_replaced_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_revisions')),
    )
    with op.batch_alter_table('timeline_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_revisions_entry_id'), ['entry_id'], unique=False)


def downgrade():
    with op.batch_alter_table('timeline_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_revisions_entry_id'))
    op.drop_table('timeline_revisions')
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_entries_follow_up_on'))
        batch_op.drop_column('edited_at')
        batch_op.drop_column('follow_up_done_at')
        batch_op.drop_column('follow_up_on')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('assignee_seen')
