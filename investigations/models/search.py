from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import utcnow


class SearchQueueEntry(db.Model):
    """A case whose search document must be rewritten. Written in the same transaction as the
    change, removed once the index has it: an index write that fails is retried, never lost."""

    __tablename__ = "search_queue"

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedSearch(db.Model):
    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    query_string: Mapped[str] = mapped_column(Text)  # the search page's URL parameters
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


TSVECTOR_OR_TEXT = Text().with_variant(TSVECTOR(), "postgresql")


class SearchDocument(db.Model):
    """A case's search document for the PostgreSQL backend (SEARCH_BACKEND=postgres): the text the
    snippets are made from and the facet values. What searches match on is in SearchTerms, one row
    each. Unused by the other backends."""

    __tablename__ = "search_documents"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    reference: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    narrative: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    business: Mapped[str] = mapped_column(Text)
    complainant: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30))
    business_id: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(120))
    year: Mapped[str] = mapped_column(String(4))
    tag: Mapped[str] = mapped_column(Text)
    received: Mapped[datetime]
    created: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(20))
    assigned_to: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(40))
    # Where the case came from; "" for the CFPB's fields of a case that has none.
    source: Mapped[str] = mapped_column(String(20), server_default="")
    source_id: Mapped[str] = mapped_column(String(80), server_default="")
    product: Mapped[str] = mapped_column(String(200), server_default="")
    issue: Mapped[str] = mapped_column(String(200), server_default="")
    company_response: Mapped[str] = mapped_column(String(200), server_default="")


class SearchTerms(db.Model):
    """What the PostgreSQL backend's searches match, count and sort on, one narrow row per search
    document (migration 0015): the weighted tsvector with a GIN index, the pairs of adjacent words,
    the facet values, dates, owners and the few short texts that field searches (business:, tag:,
    ref:) read. Counts and facets read a match's row here, about 25 to a page, not its document's
    (one or two a page, the narrative stored in the row).

    On PostgreSQL the tsvector is stored out of the row (STORAGE EXTERNAL, toast_tuple_target 128,
    set by the migration): it is read only to check a phrase or rank the page's candidates. The
    GIN indexes have no pending list (fastupdate off): with one, every search scanned up to 4 MB of
    unsorted entries and the planner, costing that, read every document instead. `tsv_head` is
    the title and business alone (small, kept in the row): a large match set is ranked on it first,
    and only the best of those on the whole document. `tsv_pairs` holds each two words found next
    to each other in `tsv`, as a 16-bit hash of "refund polici" (see PAIRS in postgres_backend.py):
    a phrase is looked up there first, so only the documents with its words side by side (and the
    few whose pairs share its hashes) have their positions checked."""

    __tablename__ = "search_terms"
    __table_args__ = (Index("ix_search_terms_tsv", "tsv", postgresql_using="gin", postgresql_with={"fastupdate": "off"}),
                      Index("ix_search_terms_tsv_pairs", "tsv_pairs", postgresql_using="gin",
                            postgresql_with={"fastupdate": "off"}),
                      Index("ix_search_terms_created_by", "created_by"),
                      Index("ix_search_terms_assigned_to", "assigned_to"))

    case_id: Mapped[int] = mapped_column(ForeignKey("search_documents.case_id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    reference: Mapped[str] = mapped_column(String(20))
    business: Mapped[str] = mapped_column(Text)
    tag: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30))
    business_id: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(120))
    year: Mapped[str] = mapped_column(String(4))
    received: Mapped[datetime]
    created: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(20))
    assigned_to: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), server_default="")
    source_id: Mapped[str] = mapped_column(String(80), server_default="")  # lower case, for source_id:
    product: Mapped[str] = mapped_column(String(200), server_default="")
    issue: Mapped[str] = mapped_column(String(200), server_default="")
    company_response: Mapped[str] = mapped_column(String(200), server_default="")
    tsv_head: Mapped[str | None] = mapped_column(TSVECTOR_OR_TEXT)
    tsv: Mapped[str | None] = mapped_column(TSVECTOR_OR_TEXT)
    tsv_pairs: Mapped[str | None] = mapped_column(TSVECTOR_OR_TEXT)


class SearchWord(db.Model):
    """A word of the PostgreSQL backend's documents, for "Did you mean": kept up as documents are
    written, refilled by a rebuild. A word may outlive the cases that had it; the shared search
    flow only offers words it finds in cases the user may open."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(Text, primary_key=True)
