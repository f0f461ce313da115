"""Full-text search with Whoosh: schema, writing documents, searching with permissions, facets,
highlights, spelling suggestions and similar cases.

The index lives in SEARCH_INDEX_DIR/whoosh-2/<generation>, with SEARCH_INDEX_DIR/whoosh-2/current
pointing at the one in use; `flask search reindex` builds a new generation aside and swaps the pointer.
(Before layout 2 it was SEARCH_INDEX_DIR itself: an index without the source fields is never opened.)
Each process keeps one searcher open and reopens it only when the index has changed.
"""
import contextlib
import heapq
import os
import re
import shutil
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from markupsafe import Markup, escape
from whoosh import highlight, index
from whoosh.analysis import STOP_WORDS, KeywordAnalyzer, SimpleAnalyzer, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.qparser import AndGroup, FieldAliasPlugin, FuzzyTermPlugin, MultifieldParser
from whoosh.query import And, DateRange, Every, Or, Term
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from ..permissions import case_visibility
from .generations import Generations
from .query import FACETS, MAX_SUGGESTIONS_TRIED, Hit, SearchBackend, SearchRequest, SearchResults

TEXT_FIELDS = ["title", "narrative", "notes", "evidence", "business", "complainant", "reference", "source_id"]
SNIPPET_FIELDS = {"title": "Title", "narrative": "Complaint", "notes": "Timeline", "evidence": "Evidence",
                  "business": "Business"}
WRITE_TIMEOUT_SECONDS = 10
WORD = re.compile(r"\w+(?:\.?\w+)*")  # what SimpleAnalyzer calls a word
LAYOUT = 2  # raise it whenever the schema changes (2: source, source_id and the CFPB's fields)


def make_schema() -> Schema:
    stem = StemmingAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        reference=TEXT(analyzer=KeywordAnalyzer(lowercase=True), stored=True),  # one token: c-2026-00042
        title=TEXT(analyzer=stem, stored=True, field_boost=2.0),
        narrative=TEXT(analyzer=stem, stored=True),
        notes=TEXT(analyzer=stem, stored=True),
        evidence=TEXT(analyzer=stem, stored=True),
        business=TEXT(analyzer=stem, stored=True, field_boost=1.5),
        complainant=TEXT(analyzer=SimpleAnalyzer()),  # searchable, never stored or shown
        spell=KEYWORD(scorable=False),  # each distinct word as typed, lowercased, for "Did you mean"
        category=ID(stored=True, sortable=True),
        status=ID(stored=True, sortable=True),
        business_id=ID(stored=True, sortable=True),
        region=ID(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        source=ID(stored=True, sortable=True),
        source_id=TEXT(analyzer=KeywordAnalyzer(lowercase=True)),  # one token: the CFPB's 4201337
        product=ID(stored=True, sortable=True),
        issue=ID(stored=True, sortable=True),
        company_response=ID(stored=True, sortable=True),
        tag=KEYWORD(commas=True, lowercase=True, stored=True),
        received=DATETIME(stored=True, sortable=True),
        created=DATETIME(stored=True),
        created_by=ID,
        assigned_to=ID,
        digest=STORED,
    )


def _despite_concurrent_commits(read):
    """read(), tried again when another process's commit removed a file it was about to open:
    Whoosh deletes the previous table of contents, and segments merged away, right after a commit."""
    for attempt in range(10):
        try:
            return read()
        except FileNotFoundError:
            if attempt == 9:
                raise
            time.sleep(0.01 * (attempt + 1))


def _open_dir(directory: Path):
    return _despite_concurrent_commits(lambda: index.open_dir(directory))


def _reopen(directory: Path, previous: Searcher) -> Searcher:
    """A searcher on the latest commit that keeps the segments `previous` already has open and that
    are unchanged (same segment, no new deletions): after a commit that adds a case, only its small
    new segment is opened. Searcher.refresh() is meant to do this, but whoosh-reloaded's fails
    (TypeError in FileIndex._reader)."""
    open_readers = {reader.segment(): reader for reader, _ in previous.reader().leaf_readers()
                    if reader.segment() is not None}

    def read():
        ix, opened, readers = index.open_dir(directory), [], []
        try:
            toc = ix._read_toc()
            for segment in toc.segments:
                kept = open_readers.get(segment)
                if kept is not None and kept.segment().deleted_count() == segment.deleted_count():
                    readers.append(kept)
                else:
                    opened.append(SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation))
                    readers.append(opened[-1])
        except FileNotFoundError:
            for reader in opened:  # only this attempt's: the kept ones still serve `previous`
                reader.close()
            raise
        return ix, toc, readers

    ix, toc, readers = _despite_concurrent_commits(read)
    in_use = {id(reader) for reader in readers}
    for reader in open_readers.values():
        if id(reader) not in in_use:  # merged away, or with new deletions: opened again above
            reader.close()
    # Even one kept reader is wrapped: the wrapper carries the new generation that up_to_date() checks.
    combined = MultiReader(readers, generation=toc.generation) if readers else EmptyReader(toc.schema)
    return Searcher(combined, fromindex=ix)


class _EscapingFormatter(highlight.Formatter):
    """Highlights matches with <mark>, escaping everything else (user text is never markup)."""

    between = " … "

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"

    def _text(self, text):
        return str(escape(text))


class WhooshBackend(SearchBackend):
    name = "whoosh"
    # StemmingAnalyzer's, dropped from the text fields at index time. The shared flow leaves them
    # out of queries too: the parser would otherwise look for them in `reference` and `complainant`
    # (whose analyzers keep them) only, and AND that with the other words: "the" found nothing.
    stop_words = frozenset(STOP_WORDS)

    def __init__(self, directory: str | Path):
        self.root = Path(directory) / f"whoosh-{LAYOUT}"
        self.generations = Generations(self.root, lambda generation: index.create_in(generation, make_schema()))
        self._lock = threading.Lock()
        self._searcher = None
        self._searcher_dir: Path | None = None
        self._columns_by_segment: dict[str, dict[str, list[str]]] = {}

    # --- the index on disk ---------------------------------------------------------------

    @property
    def pointer(self) -> Path:
        return self.generations.pointer

    def current_dir(self) -> Path:
        """The generation in use, created empty on first use."""
        return self.generations.current_dir()

    def open(self):
        return _open_dir(self.current_dir())

    # --- writing --------------------------------------------------------------------------

    @staticmethod
    def _fields(doc: dict) -> dict:
        fields = dict(doc)
        fields["received"] = datetime.fromisoformat(doc["received"])
        fields["created"] = datetime.fromisoformat(doc["created"])
        text = " ".join(doc[name] for name in ("title", "narrative", "notes", "evidence", "business"))
        fields["spell"] = " ".join(set(WORD.findall(text.lower())))
        return fields

    def write(self, docs: list[dict], deleted_ids: list[int] = ()) -> None:
        """Add or replace documents, and remove deleted cases. Raises LockError if the index stays busy."""
        ix = self.open()
        writer = ix.writer(timeout=WRITE_TIMEOUT_SECONDS)
        try:
            for case_id in deleted_ids:
                writer.delete_by_term("id", str(case_id))
            for doc in docs:
                writer.update_document(**self._fields(doc))
            writer.commit()
        except BaseException:
            _abandon(writer)
            raise

    def rebuild(self, docs, progress=None, expected: int = 0) -> int:
        """Build a new generation from `docs` aside, then swap it in; return the documents written.

        Large rebuilds use two writer processes that each write their own segment (1.8 times
        faster than one process on two cores). Merging the two afterwards would cost as much again
        in one process, and queries over two large segments are about as fast as over one.
        """
        generation = self.generations.new()
        ix = index.open_dir(generation)
        procs = min(2, os.cpu_count() or 1) if expected > 5000 else 1
        writer = ix.writer(limitmb=256, procs=procs, **({"multisegment": True} if procs > 1 else {}))
        count = 0
        try:
            for doc in docs:
                writer.add_document(**self._fields(doc))
                count += 1
                if progress:
                    progress(1)
            writer.commit()
        except BaseException:
            _abandon(writer)
            shutil.rmtree(generation, ignore_errors=True)
            raise
        self.generations.swap(generation)  # open searchers keep their files until closed
        return count

    def stored_digests(self) -> dict[int, str]:
        with self.open().searcher() as searcher:
            return {int(fields["id"]): fields.get("digest", "") for fields in searcher.all_stored_fields()}

    # --- searching ------------------------------------------------------------------------

    def searcher(self):
        """This process's searcher, reopened only when the index has changed."""
        with self._lock:
            directory = self.current_dir()
            if self._searcher is None or self._searcher_dir != directory or not self._searcher.up_to_date():
                if self._searcher is not None and self._searcher_dir == directory:
                    self._searcher = _reopen(directory, self._searcher)
                else:
                    if self._searcher is not None:
                        self._searcher.close()
                    self._searcher = _open_dir(directory).searcher()
                self._searcher_dir = directory
                live = {reader.segment().segment_id() for reader, _ in self._searcher.reader().leaf_readers()
                        if reader.doc_count_all()}  # an empty index has no segment
                for key in set(self._columns_by_segment) - live:  # merged away or another generation
                    del self._columns_by_segment[key]
            return self._searcher

    def warm_up(self) -> None:
        for reader, _ in self.searcher().reader().leaf_readers():
            if reader.doc_count_all():
                self._columns(reader)

    def _parser(self, schema):
        parser = MultifieldParser(TEXT_FIELDS, schema, group=AndGroup)
        parser.add_plugin(FuzzyTermPlugin())
        parser.add_plugin(FieldAliasPlugin({"reference": ["ref"], "tag": ["tags"]}))
        return parser

    @staticmethod
    def permission_filter(user):
        visibility = case_visibility(user)
        if visibility.every_case:
            return None
        return Or([Term(field, str(visibility.person_id)) for field in visibility.OWN_CASE_FIELDS])

    def _filters(self, request: SearchRequest, user):
        parts = [f for f in [self.permission_filter(user)] if f is not None]
        for name, values in request.filters.items():
            parts.append(Or([Term(name, value) for value in values]))  # any of the chosen values
        if request.date_from or request.date_to:
            start = datetime.combine(request.date_from, datetime.min.time()) if request.date_from else None
            end = datetime.combine(request.date_to, datetime.max.time()) if request.date_to else None
            parts.append(DateRange("received", start, end))
        if request.created_after:
            parts.append(DateRange("created", request.created_after, None, startexcl=True))
        return And(parts) if parts else None

    def _parse(self, searcher, text: str, results: SearchResults):
        parser = self._parser(searcher.schema)
        if not text.strip():
            return Every()
        try:
            return parser.parse(text)
        except Exception:  # the parser is lenient, but never let a typed query become an error page
            words = " ".join(re.findall(r"\w+", text))
            results.notice = "Your search could not be read as typed; showing results for the words in it."
            return parser.parse(words) if words else Every()

    def run_text(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        searcher = self.searcher()
        try:
            return self._run(searcher, self._parse(searcher, text, results), request, user)
        except Exception:  # a query that parses but cannot run (e.g. a phrase on a field without positions)
            results.notice = "Your search could not be run as typed; showing results for the words in it."
            words = " ".join(re.findall(r"\w+", text))
            return self._run(searcher, self._parser(searcher.schema).parse(words) if words else Every(), request, user)

    def _run(self, searcher, query, request: SearchRequest, user) -> SearchResults:
        filter_query = self._filters(request, user)
        matches = self._matches(searcher, And([query, filter_query]) if filter_query else query)
        total = sum(len(docs) for _, docs, _ in matches)
        found = SearchResults(request, total=total, facets=self._facet_counts(matches))
        start = (max(request.page, 1) - 1) * request.per_page
        if start >= total:
            return found
        if request.sort in ("newest", "oldest"):
            # Sorting by date: pick the page from the cached dates of the matches, then let Whoosh
            # fetch just those documents (with their highlights).
            page_docs = self._by_date(matches, start + request.per_page, newest=request.sort == "newest")[start:]
            hits = searcher.search(query, limit=request.per_page, filter=set(page_docs), sortedby="received",
                                   reverse=request.sort == "newest")
            page_hits = list(hits)
        else:
            # A limited search lets Whoosh skip documents that cannot reach the page. (terms=True
            # would record the matched terms of every match; the highlighter finds them per hit.)
            hits = searcher.search(query, limit=start + request.per_page, filter=filter_query)
            page_hits = hits[start:start + request.per_page]
        hits.fragmenter = highlight.ContextFragmenter(maxchars=220, surround=60)
        hits.formatter = _EscapingFormatter()
        for hit in page_hits:
            snippets = []
            for fieldname, label in SNIPPET_FIELDS.items():
                if hit.get(fieldname):
                    text = hit.highlights(fieldname, top=2)  # empty where the field has no match
                    if text:
                        snippets.append((label, Markup(text)))
            found.hits.append(Hit(int(hit["id"]), hit["reference"].upper(), hit["title"], snippets, hit.score or 0))
        return found

    def _matches(self, searcher, query) -> list[tuple[int, list[int], dict[str, list]]]:
        """Every matching document, segment by segment: (docnum offset, local docnums, the
        segment's cached columns). Far cheaper than Whoosh's own facet and sort collectors,
        which do Python work per match per facet."""
        matches = []
        for subsearcher, offset in searcher.subsearchers or [(searcher, 0)]:
            if subsearcher.reader().doc_count_all():
                docs = list(query.docs(subsearcher))  # deleted documents never match
                matches.append((offset, docs, self._columns(subsearcher.reader())))
        return matches

    @staticmethod
    def _facet_counts(matches) -> dict[str, dict[str, int]]:
        counters = {name: Counter() for name in FACETS}
        for _, docs, columns in matches:
            for name in FACETS:
                counters[name].update(map(columns[name].__getitem__, docs))
        return {name: {value: count for value, count in counter.most_common() if value != ""}
                for name, counter in counters.items()}

    @staticmethod
    def _by_date(matches, count: int, newest: bool) -> list[int]:
        """The global docnums of the first `count` matches by date received."""
        pick = heapq.nlargest if newest else heapq.nsmallest
        candidates = []
        for offset, docs, columns in matches:
            received = columns["received"]
            candidates += [(received[doc], offset + doc) for doc in pick(count, docs, key=received.__getitem__)]
        return [docnum for _, docnum in pick(count, candidates)]

    def _columns(self, reader) -> dict[str, list]:
        """The facet and date values of every document of one segment. Segments never change
        once written, so this is read once per segment, not per search or per searcher."""
        key = reader.segment().segment_id()
        columns = self._columns_by_segment.get(key)
        if columns is None:
            columns = {name: list(reader.column_reader(name)) for name in (*FACETS, "received")}
            self._columns_by_segment[key] = columns
        return columns

    def suggestions(self, word: str) -> list[str]:
        """Indexed words within two edits of `word`, with its first letter as typed (as most spell
        checkers do: trying every first letter costs a distance computation per word of the
        vocabulary). The shared flow keeps only those found in cases the user may open."""
        return self.searcher().suggest("spell", word, limit=MAX_SUGGESTIONS_TRIED * 2, maxdist=2, prefix=1)

    def similar(self, case_id: int, user, limit: int = 5) -> list[Hit]:
        searcher = self.searcher()
        docnum = searcher.document_number(id=str(case_id))
        if docnum is None:
            return []
        filter_query = self.permission_filter(user)
        hits = searcher.more_like(docnum, "narrative", top=limit, numterms=12, filter=filter_query)
        return [Hit(int(hit["id"]), hit["reference"].upper(), hit["title"], [], hit.score or 0) for hit in hits]

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None


def _abandon(writer) -> None:
    """Cancel a writer after a failure, even one inside commit(), so that its lock is released now
    rather than whenever the writer is garbage-collected; the original error is what gets raised."""
    if not writer.is_closed:
        with contextlib.suppress(Exception):
            writer.cancel()
