"""Full-text search with tantivy (Rust, through its official Python bindings): the engine, which
keeps the index on disk, writes documents, and searches with permissions, facets, highlights,
spelling suggestions and similar cases.

The index lives in SEARCH_INDEX_DIR/tantivy-3/<generation>, with SEARCH_INDEX_DIR/tantivy-3/current
pointing at the one in use (apart from Whoosh's generations, so the two engines can be switched
back and forth; generations.py); `flask search reindex` builds a new generation aside and swaps
the pointer.

The index stores no text: a page's hits take their titles, and the text their snippets are cut
from, from the database (20 cases, a few column queries), which keeps the index small and a web
worker's memory free of a second copy of the archive.

tantivy allows one IndexWriter per index at a time, across processes: every write commits under
an fcntl lock; the indexer keeps its writer open from batch to batch while the queue has work
(indexer.py), others open theirs for one write and drop it. Each process keeps one reader open and
reloads it (cheaply: only new segments are opened) when the index's meta.json has changed.

The schema, its analyzers and the documents written are in tantivy_schema.py; the user's query is
parsed in tantivy_query.py; a page of results (filters, facets, snippets) is built in
tantivy_results.py.
"""
import contextlib
import fcntl
import os
import shutil
import threading
import time
from pathlib import Path

import tantivy
from tantivy import Occur, Query

from .generations import Generations
from .query import Hit, SearchBackend, SearchRequest, SearchResults
from .tantivy_query import parse, plain_words
from .tantivy_results import case_texts, case_titles, facet_aggregations, permission_filter, results_page
from .tantivy_schema import ANALYZERS as ANALYZERS  # imported from here by the tests
from .tantivy_schema import LAYOUT, SCHEMA, tantivy_document

WRITE_TIMEOUT_SECONDS = 10
WRITE_HEAP_BYTES = 32_000_000  # one thread; tantivy needs at least 15 MB per writer thread
REBUILD_HEAP_BYTES = 256_000_000

# Left out of similar-case matching only (they are searchable as any other word).
STOP_WORDS = ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
              "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this",
              "to", "was", "will", "with", "i", "my", "me", "we", "our", "you", "your", "he", "she", "his", "her",
              "have", "has", "had", "were", "been", "from", "so", "do", "did"]


class _WriterBusy(Exception):
    """Another process's tantivy writer is open on the index."""


def _levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, or limit + 1 as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


class TantivyBackend(SearchBackend):
    name = "tantivy"
    # The index keeps common words (phrases match exactly as written); a query leaves them out as
    # free words, so "incorrect information on your report" needs no "on" or "your".
    stop_words = frozenset(STOP_WORDS)

    def __init__(self, directory: str | Path):
        # The layout's number is in the folder's name: an index of an earlier layout (one that stored
        # text and kept ids as text) is never opened with this schema; `flask search reindex` builds one.
        self.root = Path(directory) / f"tantivy-{LAYOUT}"
        self.generations = Generations(self.root, lambda generation: tantivy.Index(SCHEMA, path=str(generation),
                                                                                   reuse=False))
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._index_dir: Path | None = None
        self._seen: tuple | None = None  # meta.json's identity when the reader was last reloaded
        self._vocabulary: dict[str, dict[int, list]] = {}  # spelling words by first letter, then length
        # The indexer keeps its writer open from batch to batch (keep_writer), so that a commit
        # never waits for merges; it lets go when the queue is empty (release_writer()).
        self.keep_writer = False
        self._writer = None
        self._writer_dir: Path | None = None

    # --- the index on disk ---------------------------------------------------------------

    @property
    def pointer(self) -> Path:
        return self.generations.pointer

    def current_dir(self) -> Path:
        """The generation in use, created empty on first use."""
        return self.generations.current_dir()

    @contextlib.contextmanager
    def _write_lock(self, deadline: float | None = None):
        """The index's one writer, across processes; waits up to WRITE_TIMEOUT_SECONDS, then raises."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".write.lock", "w") as lock:
            deadline = deadline or time.monotonic() + WRITE_TIMEOUT_SECONDS
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("the search index is busy (another process is writing)") from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- writing --------------------------------------------------------------------------

    # Looked up on the class at each write, so a test can make one document fail.
    _document = staticmethod(tantivy_document)

    def _take_writer(self, directory: Path, deadline: float):
        """A writer on `directory`: this process's open one, or a new one. The fcntl lock is held."""
        if self._writer is not None and self._writer_dir != directory:
            self.release_writer()  # a reindex swapped the generation: the old one is gone
        if self._writer is None:
            index = tantivy.Index.open(str(directory))
            index.config_reader(reload_policy="Manual")
            try:
                self._writer = index.writer(WRITE_HEAP_BYTES, 1)
            except ValueError as error:  # the indexer holds its writer open between batches
                if "LockBusy" in str(error):
                    raise _WriterBusy from None
                raise
            self._writer_dir = directory
        return self._writer

    def release_writer(self) -> None:
        """Close this process's writer, once its merges are done (its lock is released then)."""
        writer, self._writer, self._writer_dir = self._writer, None, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.wait_merging_threads()
            del writer

    def write(self, docs: list[dict], deleted_ids: list[int] = ()) -> None:
        """Add or replace documents, and remove deleted cases, in one commit. Raises TimeoutError
        if the index stays busy; on any failure nothing of the batch is kept."""
        deadline = time.monotonic() + WRITE_TIMEOUT_SECONDS
        while True:
            with self._write_lock(deadline):
                try:
                    writer = self._take_writer(self.current_dir(), deadline)
                except _WriterBusy:
                    writer = None
                if writer is not None:
                    try:
                        for case_id in deleted_ids:
                            writer.delete_documents_by_term("id", int(case_id))
                        for doc in docs:
                            writer.delete_documents_by_term("id", int(doc["id"]))  # only copies added before it
                            writer.add_document(self._document(doc))
                        writer.commit()
                    except BaseException:
                        with contextlib.suppress(Exception):
                            writer.rollback()
                        self.release_writer()
                        raise
                    if not self.keep_writer:
                        self.release_writer()
                    return
            # Another process's writer is open (the indexer's, between batches): wait outside the lock.
            if time.monotonic() > deadline:
                raise TimeoutError("the search index is busy (another process is writing)")
            time.sleep(0.05)

    def rebuild(self, docs, progress=None, expected: int = 0) -> int:
        """Build a new generation from `docs` aside, then swap it in; return the documents written."""
        generation = self.generations.new()
        index = tantivy.Index.open(str(generation))
        index.config_reader(reload_policy="Manual")
        threads = min(2, os.cpu_count() or 1) if expected > 5000 else 1
        writer = index.writer(REBUILD_HEAP_BYTES if expected > 5000 else WRITE_HEAP_BYTES * 2, threads)
        count = 0
        try:
            for doc in docs:
                writer.add_document(self._document(doc))
                count += 1
                if progress:
                    progress(1)
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.rollback()
                writer.wait_merging_threads()
            shutil.rmtree(generation, ignore_errors=True)
            raise
        with self._write_lock():  # no write is half-way into the old generation while it goes
            self.generations.swap(generation)  # open readers keep their mapped files
        return count

    def stored_digests(self) -> dict[int, str]:
        searcher = self.searcher()
        if not searcher.num_docs:
            return {}
        addresses = [address for _, address in
                     searcher.search(Query.all_query(), limit=searcher.num_docs, count=False).hits]
        digests = {}
        for start in range(0, len(addresses), 10_000):
            chunk = addresses[start:start + 10_000]
            for case_id, address in zip(searcher.fast_field_values("id", chunk), chunk, strict=True):
                digests[case_id] = (searcher.doc(address).get_first("digest") or b"").decode()
        return digests

    # --- searching ------------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        """A searcher on the latest commit: this process's index, reloaded only when it changed."""
        with self._lock:
            directory = self.current_dir()
            for attempt in range(10):
                try:
                    meta = os.stat(directory / "meta.json")
                    seen = (directory, meta.st_ino, meta.st_mtime_ns, meta.st_size)
                    if self._index is None or self._index_dir != directory:
                        self._index = tantivy.Index.open(str(directory))
                        self._index.config_reader(reload_policy="Manual")
                        self._index_dir, self._vocabulary = directory, {}
                    elif seen != self._seen:
                        self._index.reload()  # opens only the new segments
                        self._vocabulary = {}
                    self._seen = seen
                    return self._index.searcher()
                except (OSError, ValueError):
                    # Another process's merge removed a segment named by the meta.json just read,
                    # or a reindex swapped the generation: read the newest one again.
                    if attempt == 9:
                        raise
                    time.sleep(0.01 * (attempt + 1))
                    directory = self.current_dir()

    def warm_up(self) -> None:
        searcher = self.searcher()
        searcher.search(Query.all_query(), limit=1)
        searcher.aggregate(Query.all_query(), facet_aggregations())  # loads the facets' columns

    permission_filter = staticmethod(permission_filter)

    def run_text(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        searcher = self.searcher()
        try:
            query = parse(text)
        except Exception:  # never let a typed query become an error page
            results.notice = "Your search could not be read as typed; showing results for the words in it."
            query = plain_words(text)
        try:
            return results_page(searcher, query, request, user)
        except Exception:  # a query that builds but cannot run (a regex tantivy refuses, say)
            results.notice = "Your search could not be run as typed; showing results for the words in it."
            return results_page(searcher, plain_words(text), request, user)

    # --- spelling and similar cases ---------------------------------------------------------

    def suggestions(self, word: str) -> list[str]:
        """Indexed words spelled nearly like `word`: same first letter, at most two edits (the
        shared flow ranks them and keeps the first a case the user may open contains)."""
        if not word:
            return []
        vocabulary = self._vocabulary.get(word[0])
        if vocabulary is None:
            # By length, each word with its set of letters: two edits change a word's length by at
            # most 2 and its set of letters by at most 4 (a substitution takes one out, puts one in),
            # so most words are ruled out without computing their edit distance.
            vocabulary = {}
            for term, _count in self.searcher().terms_with_prefix("spell", word[0]):
                vocabulary.setdefault(len(term), []).append((term, frozenset(term)))
            self._vocabulary[word[0]] = vocabulary
        letters = frozenset(word)
        return [term for length in range(len(word) - 2, len(word) + 3) for term, its in vocabulary.get(length, ())
                if len(letters ^ its) <= 4 and term != word and _levenshtein(word, term, 2) <= 2]

    def similar(self, case_id: int, user, limit: int = 5) -> list[Hit]:
        searcher = self.searcher()
        if not searcher.search(Query.term_query(SCHEMA, "id", int(case_id)), limit=1, count=False).hits:
            return []  # not indexed (yet)
        doc = case_texts([case_id]).get(case_id, {})
        fields = {name: doc[name] for name in ("title", "narrative") if doc.get(name)}
        if not fields:
            return []
        like = Query.more_like_this_document_fields_query(
            SCHEMA, fields, min_doc_frequency=2, min_term_frequency=1, max_query_terms=12, stop_words=STOP_WORDS)
        clauses = [(Occur.Must, like), (Occur.MustNot, Query.term_query(SCHEMA, "id", int(case_id)))]
        if (allowed := self.permission_filter(user)) is not None:
            clauses.append((Occur.Must, allowed))
        found = searcher.search(Query.boolean_query(clauses), limit=limit, count=False).hits
        ids = searcher.fast_field_values("id", [address for _, address in found])
        titles = case_titles(ids)
        return [Hit(other, titles[other][0].upper(), titles[other][1] or "", [], score)
                for (score, _), other in zip(found, ids, strict=True) if other in titles]

    def close(self) -> None:
        with self._lock:
            self._index = self._index_dir = self._seen = None
            self._vocabulary = {}
