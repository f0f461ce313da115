"""outcomes and stories: what a case got back and what was published

Each case may have one outcome (what happened, money recovered with its own currency, the date,
a note); stories (outlet, headline, URL, date, format) link to one or more cases. CFPB complaints
imported before this revision whose company response says "Closed with monetary relief" get a
refund outcome with the amount unknown ("Closed with non-monetary relief": other).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 17:30:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# As investigations/outcomes/cfpb.py maps them at import (a migration keeps its own copy).
CFPB_OUTCOMES = {
    "Closed with monetary relief": ("refund", True),
    "Closed with non-monetary relief": ("other", False),
}
CFPB_NOTE = "From the CFPB: the company's response to the consumer was “{}”."


def upgrade():
    op.create_table(
        'case_outcomes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('money_recovered', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('amount_unknown', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('outcome_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_outcomes_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_outcomes_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_outcomes')),
        sa.UniqueConstraint('case_id', name='uq_case_outcomes_case_id'),
    )
    with op.batch_alter_table('case_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_outcomes_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_outcomes_outcome_on'), ['outcome_on'], unique=False)

    op.create_table(
        'stories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outlet', sa.String(length=200), nullable=False),
        sa.Column('headline', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=True),
        sa.Column('published_on', sa.Date(), nullable=False),
        sa.Column('format', sa.String(length=20), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_stories_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stories')),
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stories_published_on'), ['published_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_stories_url'), ['url'], unique=False)

    op.create_table(
        'case_stories',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_stories_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_case_stories_story_id_stories'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'story_id', name=op.f('pk_case_stories')),
    )
    with op.batch_alter_table('case_stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_stories_story_id'), ['story_id'], unique=False)

    _backfill_cfpb_outcomes()


def _backfill_cfpb_outcomes():
    """One INSERT … SELECT per mapped response: set-based, however large the archive."""
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('source', sa.String),
                     sa.column('company_response', sa.String), sa.column('response_received_on', sa.Date),
                     sa.column('date_received', sa.Date))
    outcomes = sa.table('case_outcomes', *[sa.column(name) for name in (
        'case_id', 'kind', 'amount_unknown', 'outcome_on', 'note', 'recorded_at', 'updated_at')])
    now = datetime.now(UTC).replace(tzinfo=None)
    for response, (kind, money) in CFPB_OUTCOMES.items():
        select = sa.select(
            cases.c.id, sa.literal(kind, sa.String), sa.literal(money, sa.Boolean),
            sa.func.coalesce(cases.c.response_received_on, cases.c.date_received),
            sa.literal(CFPB_NOTE.format(response), sa.Text), sa.literal(now, sa.DateTime),
            sa.literal(now, sa.DateTime),
        ).where(cases.c.source == 'cfpb', cases.c.company_response == response)
        op.execute(outcomes.insert().from_select(
            ['case_id', 'kind', 'amount_unknown', 'outcome_on', 'note', 'recorded_at', 'updated_at'], select))


def downgrade():
    with op.batch_alter_table('case_stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_stories_story_id'))
    op.drop_table('case_stories')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stories_url'))
        batch_op.drop_index(batch_op.f('ix_stories_published_on'))
    op.drop_table('stories')
    with op.batch_alter_table('case_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_outcomes_outcome_on'))
        batch_op.drop_index(batch_op.f('ix_case_outcomes_kind'))
    op.drop_table('case_outcomes')
