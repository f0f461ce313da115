"""case list indexes

Current cases by date received (the case lists' order), and an index of merged duplicates only,
replacing the full index on merged_into_id that SQLite's planner chose for "IS NULL".

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CURRENT = sa.text("merged_into_id IS NULL")
MERGED = sa.text("merged_into_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_merged_into_id'))
    op.create_index('ix_cases_merged_into_id', 'cases', ['merged_into_id'], unique=False,
                    sqlite_where=MERGED, postgresql_where=MERGED)
    op.create_index('ix_cases_current_by_date', 'cases', ['date_received', 'id'], unique=False,
                    sqlite_where=CURRENT, postgresql_where=CURRENT)


def downgrade():
    op.drop_index('ix_cases_current_by_date', table_name='cases')
    op.drop_index('ix_cases_merged_into_id', table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_merged_into_id'), ['merged_into_id'], unique=False)
