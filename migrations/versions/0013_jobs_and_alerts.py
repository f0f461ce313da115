"""background jobs and e-mail alerts

`jobs` records every piece of background work (evidence text, dossier renders, scheduled checks)
before it is queued, so work interrupted by a killed consumer is found and run again;
`alert_preferences` holds each user's choice of e-mails; `saved_search_matches` and
`reminders_sent` remember what the hourly and daily alert jobs found and mailed, so running a job
twice mails nothing twice.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=True),
        sa.Column('args', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('worker', sa.String(length=120), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('run_after', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_key'), ['key'], unique=False)
        batch_op.create_index('ix_jobs_state_created_at', ['state', 'created_at'], unique=False)

    op.create_table(
        'alert_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('saved_search_digest', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('reply_reminders', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('integrity_alerts', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_preferences_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_alert_preferences')),
    )

    op.create_table(
        'saved_search_matches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('saved_search_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('found_at', sa.DateTime(), nullable=False),
        sa.Column('mailed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_saved_search_matches_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'],
                                name=op.f('fk_saved_search_matches_saved_search_id_saved_searches'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search_matches')),
        sa.UniqueConstraint('saved_search_id', 'case_id', name=op.f('uq_saved_search_matches_saved_search_id')),
    )
    with op.batch_alter_table('saved_search_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_search_matches_case_id'), ['case_id'], unique=False)

    op.create_table(
        'reminders_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reminders_sent_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminders_sent_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
        sa.UniqueConstraint('case_id', 'user_id', 'kind', 'due_on', name=op.f('uq_reminders_sent_case_id')),
    )
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_sent_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_sent_user_id'))
    op.drop_table('reminders_sent')
    with op.batch_alter_table('saved_search_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_search_matches_case_id'))
    op.drop_table('saved_search_matches')
    op.drop_table('alert_preferences')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_created_at')
        batch_op.drop_index(batch_op.f('ix_jobs_key'))
    op.drop_table('jobs')
