"""postgres search at scale

The PostgreSQL search engine's GIN index loses its pending list (fastupdate off, and what is
pending is merged now): searches scanned it linearly and the planner, costing it, read and
decompressed every document's tsvector instead of using the index. A `tsv_head` column (title and
business, weight A) lets a large match set be ranked cheaply before the best candidates are ranked
on the whole document. A `search_words` table keeps the documents' words for "Did you mean",
instead of reading every document's text with ts_stat. Both are filled here from the documents
already indexed. On SQLite (where the PostgreSQL engine is not used) only the columns and the table
are created.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:15:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

TSVECTOR_OR_TEXT = sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql')
# Kept in step with investigations/search/postgres_backend.py (HEAD and WORDS_OF).
HEAD = "setweight(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(business, '')), 'A')"
WORDS = ("SELECT DISTINCT lexeme FROM search_documents, unnest(to_tsvector('simple', title || ' ' || narrative "
         "|| ' ' || notes || ' ' || evidence || ' ' || business)) AS t "
         "WHERE lexeme ~ '^[[:alpha:]]+$' AND length(lexeme) <= 60")


def upgrade():
    op.create_table('search_words',
    sa.Column('word', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tsv_head', TSVECTOR_OR_TEXT, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_search_documents_tsv SET (fastupdate = off)")
        op.execute("SELECT gin_clean_pending_list('ix_search_documents_tsv')")
        op.execute(f"UPDATE search_documents SET tsv_head = {HEAD}")
        op.execute(f"INSERT INTO search_words (word) {WORDS} ON CONFLICT DO NOTHING")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_search_documents_tsv RESET (fastupdate)")
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_column('tsv_head')
    op.drop_table('search_words')
