"""Full-text search with PostgreSQL (SEARCH_BACKEND=postgres), for deployments with several
app servers: a weighted tsvector per case with a GIN index, websearch_to_tsquery for what
people type, ts_headline for snippets, GROUP BY for facets, and the index's own vocabulary
(the search_words table) for "Did you mean". Same requests and results as the other backends.

Where the time goes, and what keeps it short at 100,000 cases:
- Searches match, count, facet and sort on search_terms (SearchTerms), a narrow row per case
  (facets, dates, owners, ~25 rows a page) with the tsvector stored out of the row; the texts
  for snippets stay in search_documents and are read for the page's hits only. Every match is
  found in the GIN index, never by reading every row's tsvector: inside a search sequential scans
  are off (the planner does not count reading a tsvector from TOAST) and so is JIT.
- A phrase's positions are read only for documents that have its words side by side: the GIN
  index on tsv_pairs (the adjacent words of each document) is asked first.
- Ranking reads each match's whole tsvector: a match set larger than FULL_RANK_LIMIT is ranked on
  the title and business first (tsv_head, in the row), and the best RANK_CANDIDATES of those on
  the whole document.
- The shared flow's count-only searches (spelling, the emptying word) are a count(*), and the
  facets of chosen values one GROUP BY each; snippets are made for the page's hits only.
"""
import difflib
import re
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import cast, delete, func, literal, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import TSQUERY, insert

from ..extensions import db
from ..models import SearchDocument
from ..models.search import SearchTerms, SearchWord
from .postgres_query import SearchConditions, quoted_lexemes, split_query, visible_documents
from .query import FACETS, MAX_SUGGESTIONS_TRIED, Hit, SearchBackend, SearchRequest, SearchResults, read_query

SNIPPET_FIELDS = {"title": "Title", "narrative": "Complaint", "notes": "Timeline", "evidence": "Evidence",
                  "business": "Business"}
START, STOP = "\x01", "\x02"  # ts_headline markers, replaced after escaping
TSV = (
    "setweight(to_tsvector('english', coalesce(:title, '') || ' ' || coalesce(:business, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(:narrative, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(:notes, '') || ' ' || coalesce(:evidence, '')), 'C') || "
    "to_tsvector('simple', coalesce(:complainant, '') || ' ' || coalesce(:reference, '') || ' ' || "
    "replace(coalesce(:tag, ''), ',', ' ') || ' ' || coalesce(:source_id, ''))"
)
# The title and business alone (migration 0012 fills it in the same way for documents written before).
TSV_HEAD = "setweight(to_tsvector('english', coalesce(:title, '') || ' ' || coalesce(:business, '')), 'A')"
# Each two lexemes at adjacent positions of a tsvector, as one lexeme: the hash of "first second"
# in 16 bits (PAIR_HASH; 65,536 lexemes at most, so the GIN index stays small). A document that
# `a <-> b` matches has PAIR_HASH('a b') in its tsv_pairs; a few others do too (hashes collide),
# and the phrase itself is still checked on those. Migration 0015 fills it in the same way.
PAIRS = ("array_to_tsvector(coalesce((SELECT array_agg((hashtext(a.lexeme || ' ' || b.lexeme) & 65535)::text) "
         "FROM (SELECT lexeme, unnest(positions) AS pos FROM unnest({tsv})) a "
         "JOIN (SELECT lexeme, unnest(positions) AS pos FROM unnest({tsv})) b ON b.pos = a.pos + 1), '{{}}'))")
TERM_COLUMNS = ("reference", "business", "tag", "category", "status", "business_id", "region", "year", "received",
                "created", "created_by", "assigned_to", "source", "source_id", "product", "issue", "company_response")
WRITE_TERMS = text(
    f"INSERT INTO search_terms (case_id, {', '.join(TERM_COLUMNS)}, tsv_head, tsv, tsv_pairs) "
    f"SELECT :case_id, {', '.join(':' + name for name in TERM_COLUMNS)}, {TSV_HEAD}, v.tsv, {PAIRS.format(tsv='v.tsv')} "
    f"FROM (SELECT {TSV} AS tsv) v ON CONFLICT (case_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*TERM_COLUMNS, "tsv_head", "tsv", "tsv_pairs")))
# The words of some documents, as the vocabulary keeps them (migration 0012 reads every document's).
WORDS_OF = text(
    "INSERT INTO search_words (word) SELECT DISTINCT lexeme FROM search_documents, unnest(to_tsvector('simple', "
    "title || ' ' || narrative || ' ' || notes || ' ' || evidence || ' ' || business)) AS t "
    "WHERE case_id = ANY(:ids) AND lexeme ~ '^[[:alpha:]]+$' AND length(lexeme) <= 60 ORDER BY lexeme "
    "ON CONFLICT DO NOTHING")
FULL_RANK_LIMIT = 2000  # matches ranked on their whole document; beyond, on tsv_head first
RANK_CANDIDATES = 200  # of a larger match set, the best on tsv_head ranked again on the whole document
VOCABULARY_SECONDS = 300
# PostgreSQL's `english` configuration drops these (its english.stop, Snowball's list) from the
# text at index time. The shared flow leaves them out of queries too: the query's `simple` half
# keeps them, and websearch_to_tsquery reads a lower-case "or" as an operator.
ENGLISH_STOP_WORDS = frozenset("""
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself
it its itself they them their theirs themselves what which who whom this that these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until while of at by for with
about against between into through during before after above below to from up down in out on off over under again
further then once here there when where why how all any both each few more most other some such no nor not only
own same so than too very s t can will just don should now
""".split())


class PostgresBackend(SearchBackend):
    name = "postgres"
    stop_words = ENGLISH_STOP_WORDS

    def __init__(self):
        self._vocabulary: tuple[float, dict[int, list[str]]] | None = None  # (when read, words by length)
        self._conditions = SearchConditions()

    def warm_up(self) -> None:
        self._words()

    # --- writing --------------------------------------------------------------------------

    @staticmethod
    def _row(doc: dict) -> dict:
        row = {key: doc[key] for key in ("reference", "title", "narrative", "notes", "evidence", "business",
                                         "complainant", "category", "status", "business_id", "region", "year", "tag",
                                         "created_by", "assigned_to", "digest", "source", "source_id", "product",
                                         "issue", "company_response")}
        row["case_id"] = int(doc["id"])
        row["received"] = datetime.fromisoformat(doc["received"])
        row["created"] = datetime.fromisoformat(doc["created"])
        return row

    def write(self, docs: list[dict], deleted_ids=()) -> None:
        with db.engine.begin() as connection:
            # During a reindex the rows are locked until it commits: give up quickly and leave the
            # change queued (the reindex catches up with it) rather than hold up the user's request.
            connection.execute(text("SET LOCAL lock_timeout = '2s'"))
            self._write(connection, docs, deleted_ids)

    def _write(self, connection, docs: list[dict], deleted_ids=()) -> None:
        if deleted_ids:
            connection.execute(delete(SearchDocument).where(SearchDocument.case_id.in_(list(deleted_ids))))
        for doc in sorted(docs, key=lambda doc: int(doc["id"])):  # one order for every writer: no deadlocks
            row = self._row(doc)
            statement = insert(SearchDocument).values(**row)
            connection.execute(statement.on_conflict_do_update(index_elements=["case_id"], set_=row))
            connection.execute(WRITE_TERMS, row)
        if docs:
            connection.execute(WORDS_OF.bindparams(ids=[int(doc["id"]) for doc in docs]))

    def rebuild(self, docs, progress=None, expected: int = 0) -> int:
        """Replace every document in one transaction: searches see the old set until it commits."""
        count = 0
        with db.engine.begin() as connection:
            connection.execute(delete(SearchDocument))
            connection.execute(delete(SearchWord))
            for batch in _batches(docs, 200):
                self._write(connection, batch)
                count += len(batch)
                if progress:
                    progress(len(batch))
        self._vocabulary = None
        return count

    def stored_digests(self) -> dict[int, str]:
        return dict(db.session.execute(select(SearchDocument.case_id, SearchDocument.digest)).all())

    # --- searching ------------------------------------------------------------------------

    def search(self, request: SearchRequest, user) -> SearchResults:
        if not request.text.strip():
            return super().search(request, user)
        with _index_scans():
            return super().search(request, user)

    def run_text(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        return self._run(request, user, text)

    def _run(self, request: SearchRequest, user, text_query: str) -> SearchResults:
        where, query = self._conditions.of(request, user, text_query)
        doc = SearchDocument
        found = SearchResults(request)
        found.total, found.facets = self._counts(where)
        offset = (max(request.page, 1) - 1) * request.per_page
        if offset >= found.total:
            return found  # past the last match (the shared flow's counting requests): no page to find
        page_ids = self._page(where, query, split_query(text_query)[0], request.sort, offset, request.per_page,
                              found.total)
        columns = [doc.case_id, doc.reference, doc.title]
        if query is not None:
            options = f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=8"
            columns += [func.ts_headline("english", getattr(doc, name), query, options).label(name)
                        for name in SNIPPET_FIELDS]
        # The page's cases first, then their snippets: ts_headline re-reads a whole text, so it
        # runs for the page only, never for every match the sort looks at.
        by_id = {row.case_id: row for row in db.session.execute(
            select(*columns).where(doc.case_id.in_(page_ids)))} if page_ids else {}
        for row in (by_id[case_id] for case_id in page_ids if case_id in by_id):
            snippets = []
            if query is not None:
                for name, label in SNIPPET_FIELDS.items():
                    fragment = getattr(row, name) or ""
                    if START in fragment:
                        snippets.append((label, Markup(str(escape(fragment)).replace(START, "<mark>")
                                                       .replace(STOP, "</mark>"))))
            found.hits.append(Hit(row.case_id, row.reference.upper(), row.title, snippets))
        return found

    def _page(self, where, query, words: str, sort: str, offset: int, limit: int, total: int) -> list[int]:
        """The page's case ids in the order asked for. By relevance, up to FULL_RANK_LIMIT matches are
        ranked on their whole tsvector; a larger match set is ranked on tsv_head (title and business,
        read from the row) and its best RANK_CANDIDATES ranked again on the whole tsvector, ahead of
        the rest in tsv_head's order: ranking every match would decompress every match's tsvector."""
        doc = SearchTerms
        order = {"newest": [doc.received.desc(), doc.case_id.desc()], "oldest": [doc.received, doc.case_id]}.get(sort)
        if order is None and query is None:
            order = [doc.received.desc(), doc.case_id.desc()]
        if order is not None:
            return list(db.session.scalars(select(doc.case_id).where(where).order_by(*order)
                                           .limit(limit).offset(offset)))
        by_rank = [func.ts_rank_cd(doc.tsv, query).desc(), doc.received.desc(), doc.case_id.desc()]
        if total <= FULL_RANK_LIMIT:
            return list(db.session.scalars(select(doc.case_id).where(where).order_by(*by_rank)
                                           .limit(limit).offset(offset)))
        by_head = [func.ts_rank_cd(doc.tsv_head, query).desc().nulls_last(), doc.received.desc(),
                   doc.case_id.desc()]
        ids = []
        if offset < RANK_CANDIDATES:
            candidates = self._head_candidates(where, query, words)
            if candidates is None:
                candidates = select(doc.case_id).where(where).order_by(*by_head).limit(RANK_CANDIDATES).scalar_subquery()
            ids = list(db.session.scalars(select(doc.case_id).where(doc.case_id.in_(candidates))
                                          .order_by(*by_rank).limit(limit).offset(offset)))
        if len(ids) < limit:
            ids += db.session.scalars(select(doc.case_id).where(where).order_by(*by_head)
                                      .limit(limit - len(ids)).offset(max(offset, RANK_CANDIDATES)))
        return ids

    def _head_candidates(self, where, query, words: str) -> list[int] | None:
        """The best RANK_CANDIDATES matches by tsv_head (ts_rank_cd, then newest first), ranking only the
        matches whose title or business has one of the query's words: every other match ranks 0 on
        it (and a match without tsv_head last), so the rest of the candidates are the newest of
        those. None when the query's words cannot be listed (a prefix or weight)."""
        lexemes = quoted_lexemes(self._conditions.tsquery_texts_of(words)[0])
        if lexemes is None:
            return None
        doc = SearchTerms
        ranked = []
        if lexemes:
            rank = func.ts_rank_cd(doc.tsv_head, query)
            any_word = cast(literal(" | ".join(dict.fromkeys(lexemes))), TSQUERY)
            rows = db.session.execute(select(doc.case_id, rank).where(where, doc.tsv_head.op("@@")(any_word))
                                      .order_by(rank.desc().nulls_last(), doc.received.desc(), doc.case_id.desc())
                                      .limit(RANK_CANDIDATES)).all()
            ranked = [case_id for case_id, value in rows if value]
            if len(ranked) == RANK_CANDIDATES:
                return ranked
        rest = select(doc.case_id).where(where, doc.case_id.not_in(ranked) if ranked else literal_column("true"))
        return ranked + list(db.session.scalars(
            rest.order_by(doc.tsv_head.is_(None), doc.received.desc(), doc.case_id.desc())
            .limit(RANK_CANDIDATES - len(ranked))))

    @staticmethod
    def _counts(where) -> tuple[int, dict[str, dict[str, int]]]:
        """The number of matches and every facet's counts, in one pass over the matches."""
        columns = [getattr(SearchTerms, name) for name in FACETS]
        rows = db.session.execute(
            select(*columns, *[func.grouping(column) for column in columns], func.count()).where(where)
            .group_by(func.grouping_sets(*[tuple_(column) for column in columns], tuple_()))).all()
        total, facets = 0, {name: {} for name in FACETS}
        for row in rows:
            values, grouped, count = row[:len(FACETS)], row[len(FACETS):-1], row[-1]
            if all(grouped):  # grouping() is 1 for every column: the grand total
                total = count
                continue
            name = FACETS[list(grouped).index(0)]
            facets[name][values[FACETS.index(name)]] = count
        for name in FACETS:
            facets[name] = _by_count(facets[name].items())
        return total, facets

    # --- the shared flow's extra searches, without what they would not use --------------------

    def _count(self, text: str, request: SearchRequest, user) -> int:
        """How many cases the user may open match `text`: a count, without facets or a page."""
        where, _ = self._conditions.of(request, user, read_query(text, self.stop_words).text)
        return db.session.scalar(select(func.count()).select_from(SearchTerms).where(where))

    def _facets_of_chosen(self, text: str, request: SearchRequest, user, facets):
        """Each facet with chosen values counted without its own choice (the others' still apply):
        one GROUP BY of that facet, not a whole search."""
        facets = dict(facets)
        words = read_query(text, self.stop_words).text
        for name in request.filters:
            others = replace(request, filters={k: v for k, v in request.filters.items() if k != name})
            where, _ = self._conditions.of(others, user, words)
            column = getattr(SearchTerms, name)
            facets[name] = _by_count(db.session.execute(select(column, func.count()).where(where)
                                                        .group_by(column)).tuples())
        return facets

    # --- spelling ---------------------------------------------------------------------------

    def _words(self) -> dict[int, list[str]]:
        """The vocabulary by word length, read from search_words at most every VOCABULARY_SECONDS."""
        if self._vocabulary is None or time.monotonic() - self._vocabulary[0] > VOCABULARY_SECONDS:
            by_length: dict[int, list[str]] = {}
            for word in db.session.scalars(select(SearchWord.word)):
                if word.isalpha():
                    by_length.setdefault(len(word), []).append(word)
            self._vocabulary = (time.monotonic(), by_length)
        return self._vocabulary[1]

    def suggestions(self, word: str) -> list[str]:
        """Indexed words spelled nearly like `word`; the shared flow keeps those the user may see."""
        # A ratio of 0.75 needs lengths within about a third of each other: skip the rest early.
        spread = max(2, len(word) // 3)
        words = self._words()
        near = [w for length in range(len(word) - spread, len(word) + spread + 1) for w in words.get(length, ())]
        return difflib.get_close_matches(word, near, n=MAX_SUGGESTIONS_TRIED * 2, cutoff=0.75)

    def similar(self, case_id: int, user, limit: int = 5) -> list[Hit]:
        doc = SearchTerms
        source = db.session.scalar(select(doc.tsv).where(doc.case_id == case_id))
        if not source:
            return []
        terms = db.session.scalars(text(
            "SELECT lexeme FROM unnest(CAST(:tsv AS tsvector)) ORDER BY cardinality(positions) DESC, lexeme LIMIT 12"
        ).bindparams(tsv=source)).all()
        if not terms:
            return []
        query = func.to_tsquery("english", " | ".join(re.sub(r"\W", "", t) for t in terms if re.sub(r"\W", "", t)))
        conditions = [doc.case_id != case_id, doc.tsv.op("@@")(query)]
        if (visible := visible_documents(user)) is not None:
            conditions.append(visible)
        with _index_scans():
            ids = list(db.session.scalars(select(doc.case_id).where(*conditions)
                                          .order_by(func.ts_rank(doc.tsv, query).desc()).limit(limit)))
        titles = {row.case_id: row for row in db.session.execute(
            select(SearchDocument.case_id, SearchDocument.reference, SearchDocument.title)
            .where(SearchDocument.case_id.in_(ids)))} if ids else {}
        return [Hit(titles[i].case_id, titles[i].reference.upper(), titles[i].title, []) for i in ids if i in titles]

    def close(self) -> None:
        pass


@contextmanager
def _index_scans():
    """For the statements inside: no sequential scans (a scan evaluates `tsv @@ query` on every row,
    reading each row's tsvector from TOAST, where the GIN index reads none; the planner does not
    count that) and no JIT compilation (tens of milliseconds for statements that take a few)."""
    old_seqscan, old_jit = db.session.execute(text(
        "SELECT current_setting('enable_seqscan'), current_setting('jit'), "
        "set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)")).one()[:2]
    yield
    db.session.execute(text("SELECT set_config('enable_seqscan', :seqscan, true), set_config('jit', :jit, true)"),
                       {"seqscan": old_seqscan, "jit": old_jit})


def _by_count(counts) -> dict[str, int]:
    """Facet values, the most frequent first (then by value, so the order is always the same); a case
    without a value ("": no CFPB product) is in no facet value."""
    return dict(sorted(((value, count) for value, count in counts if value != ""),
                       key=lambda item: (-item[1], item[0])))


def _batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
