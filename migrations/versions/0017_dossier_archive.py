"""dossier archive: issued dossiers' recipients, newsroom settings

A dossier records who it was prepared for (the recipient typed at export) and, for a business
dossier, which cases the editor chose (date range, statuses, categories, which ones in full).
The newsroom's own settings (its name, paper size, time zone) are one row of newsroom_settings.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 17:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('selection', sa.JSON(), nullable=True))
    op.create_table(
        'newsroom_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('paper_size', sa.String(length=10), server_default='A4', nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_newsroom_settings_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_newsroom_settings')),
    )


def downgrade():
    op.drop_table('newsroom_settings')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('selection')
        batch_op.drop_column('recipient')
