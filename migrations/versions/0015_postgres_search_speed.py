"""postgres search speed: a narrow search_terms table

The PostgreSQL search engine counted and faceted its matches by reading each match's row of
search_documents, whose narrative is stored in the row (one or two rows a page, 150 MB at 100,000
cases), and checked a phrase by reading the positions of every document with its words. What
searches match, count and sort on moves to search_terms, one narrow row per document (about 25 a
page) with the tsvector stored out of the row, and a `tsv_pairs` tsvector of the adjacent words
(GIN-indexed too) lets a phrase be looked up before positions are checked. search_documents keeps
the text the snippets are made from. Filled here from the documents already indexed, with the
same expressions the engine writes with. On SQLite (where the PostgreSQL engine is not used) only
the table is created and the columns dropped.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TSVECTOR_OR_TEXT = sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql')
# Kept in step with investigations/search/postgres_backend.py (TSV, TSV_HEAD and PAIRS).
PAIRS = ("array_to_tsvector(coalesce((SELECT array_agg((hashtext(a.lexeme || ' ' || b.lexeme) & 65535)::text) "
         "FROM (SELECT lexeme, unnest(positions) AS pos FROM unnest({tsv})) a "
         "JOIN (SELECT lexeme, unnest(positions) AS pos FROM unnest({tsv})) b ON b.pos = a.pos + 1), '{{}}'))")
HEAD = "setweight(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(business, '')), 'A')"
TSV = ("setweight(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(business, '')), 'A') || "
       "setweight(to_tsvector('english', coalesce(narrative, '')), 'B') || "
       "setweight(to_tsvector('english', coalesce(notes, '') || ' ' || coalesce(evidence, '')), 'C') || "
       "to_tsvector('simple', coalesce(complainant, '') || ' ' || coalesce(reference, '') || ' ' || "
       "replace(coalesce(tag, ''), ',', ' '))")
COLUMNS = ("case_id, reference, business, tag, category, status, business_id, region, year, received, created, "
           "created_by, assigned_to")


def upgrade():
    op.create_table('search_terms',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('business', sa.Text(), nullable=False),
    sa.Column('tag', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('business_id', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=False),
    sa.Column('year', sa.String(length=4), nullable=False),
    sa.Column('received', sa.DateTime(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=20), nullable=False),
    sa.Column('assigned_to', sa.String(length=20), nullable=False),
    sa.Column('tsv_head', TSVECTOR_OR_TEXT, nullable=True),
    sa.Column('tsv', TSVECTOR_OR_TEXT, nullable=True),
    sa.Column('tsv_pairs', TSVECTOR_OR_TEXT, nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['search_documents.case_id'],
                            name=op.f('fk_search_terms_case_id_search_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_search_terms'))
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the GIN indexes built in one pass
        # The tsvector out of the row (uncompressed: it is read whole or not at all), the small
        # title-and-business tsvector kept in it: a row is the facets, dates and owners, ~300 bytes.
        op.execute("ALTER TABLE search_terms SET (toast_tuple_target = 128)")
        op.execute("ALTER TABLE search_terms ALTER COLUMN tsv SET STORAGE EXTERNAL, "
                   "ALTER COLUMN tsv_pairs SET STORAGE EXTERNAL, ALTER COLUMN tsv_head SET STORAGE MAIN")
        op.execute(f"INSERT INTO search_terms ({COLUMNS}, tsv_head, tsv, tsv_pairs) "
                   f"SELECT {COLUMNS}, coalesce(tsv_head, {HEAD}), v.tsv, {PAIRS.format(tsv='v.tsv')} "
                   f"FROM search_documents, LATERAL (SELECT coalesce(search_documents.tsv, {TSV}) AS tsv) v "
                   "ORDER BY case_id")
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.create_index('ix_search_terms_tsv', ['tsv'], unique=False, postgresql_using='gin',
                              postgresql_with={'fastupdate': 'off'})
        batch_op.create_index('ix_search_terms_tsv_pairs', ['tsv_pairs'], unique=False, postgresql_using='gin',
                              postgresql_with={'fastupdate': 'off'})
        batch_op.create_index('ix_search_terms_created_by', ['created_by'], unique=False)
        batch_op.create_index('ix_search_terms_assigned_to', ['assigned_to'], unique=False)
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_tsv')
        batch_op.drop_column('tsv_head')
        batch_op.drop_column('tsv')
    if postgres:
        op.execute("ANALYZE search_terms")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tsv', TSVECTOR_OR_TEXT, nullable=True))
        batch_op.add_column(sa.Column('tsv_head', TSVECTOR_OR_TEXT, nullable=True))
    if postgres:
        op.execute("UPDATE search_documents d SET tsv = t.tsv, tsv_head = t.tsv_head FROM search_terms t "
                   "WHERE t.case_id = d.case_id")
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index('ix_search_documents_tsv', ['tsv'], unique=False, postgresql_using='gin',
                              postgresql_with={'fastupdate': 'off'})
    op.drop_table('search_terms')
