"""unseen assignments index: the navigation's count of cases newly assigned to the user

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 21:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

UNSEEN_SQLITE = sa.text("assignee_seen IS 0 AND merged_into_id IS NULL")
UNSEEN_POSTGRESQL = sa.text("assignee_seen IS false AND merged_into_id IS NULL")


def upgrade():
    op.create_index('ix_cases_unseen_assignments', 'cases', ['assigned_to_id'], unique=False,
                    sqlite_where=UNSEEN_SQLITE, postgresql_where=UNSEEN_POSTGRESQL)


def downgrade():
    op.drop_index('ix_cases_unseen_assignments', table_name='cases')
