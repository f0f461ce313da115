"""Full-text search with tantivy (Rust, through its official Python bindings): schema, writing
documents, searching with permissions, facets, highlights, spelling suggestions and similar cases.

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

The user's query is parsed here, into tantivy queries built term by term (tantivy's own parser
knows neither wildcards, `word~` nor a lenient reading of a lone operator), with the same
analyzers the index uses, so that stemming, phrases and fields behave as on the other engines.
"""
import contextlib
import fcntl
import os
import re
import shutil
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import tantivy
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from tantivy import Filter, Occur, Query, TextAnalyzerBuilder, Tokenizer

from ..extensions import db
from ..models import Case
from ..permissions import case_visibility
from .documents import snippet_texts
from .generations import Generations
from .query import FACETS, Hit, SearchBackend, SearchRequest, SearchResults

WRITE_TIMEOUT_SECONDS = 10
WRITE_HEAP_BYTES = 32_000_000  # one thread; tantivy needs at least 15 MB per writer thread
REBUILD_HEAP_BYTES = 256_000_000
MAX_FACET_VALUES = 65_000  # tantivy's bucket limit; far above any facet's number of values here
SNIPPET_CHARS = 220
MAX_OFFSET = 100_000
MAX_FUZZY_DISTANCE = 2

STEMMED_FIELDS = ("title", "narrative", "notes", "evidence", "business")  # tokenizer en_stem
SNIPPET_FIELDS = {"title": "Title", "narrative": "Complaint", "notes": "Timeline", "evidence": "Evidence",
                  "business": "Business"}
# Searched when a word names no field, with the boosts the Whoosh engine gives them.
DEFAULT_FIELDS = {"title": 2.0, "narrative": 1.0, "notes": 1.0, "evidence": 1.0, "business": 1.5,
                  "complainant": 1.0, "reference": 1.0, "source_id": 1.0}
KEYWORD_FIELDS = ("tag", *FACETS)  # raw: one term per value
TEXT_VALUES = ("reference", "source_id", *STEMMED_FIELDS, "complainant", *FACETS)  # a document's text values, as they are
FIELD_ALIASES = {"ref": "reference", "tags": "tag"}
QUERYABLE_FIELDS = set(DEFAULT_FIELDS) | set(KEYWORD_FIELDS)
# Left out of similar-case matching only (they are searchable as any other word).
STOP_WORDS = ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
              "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this",
              "to", "was", "will", "with", "i", "my", "me", "we", "our", "you", "your", "he", "she", "his", "her",
              "have", "has", "had", "were", "been", "from", "so", "do", "did"]


def make_schema() -> tantivy.Schema:
    """Nothing of a case's text is stored: a page's hits read their titles and the text of their
    snippets from the database (only 20 cases a page), so the index holds no second copy of every
    complaint, and a worker's memory holds none of it. What a search reads per hit is the `id`
    column; the only stored value is the digest that `flask search check` compares."""
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", indexed=True, fast=True)
    builder.add_text_field("reference", tokenizer_name="raw", index_option="basic")  # one term: c-2026-00042
    builder.add_text_field("source_id", tokenizer_name="raw", index_option="basic")  # the CFPB's 4201337, lowercased
    for name in STEMMED_FIELDS:
        builder.add_text_field(name, tokenizer_name="en_stem")
    builder.add_text_field("complainant", tokenizer_name="default")  # searchable, never stored or shown
    # Each distinct word as typed (lowercased), for "Did you mean": stemmed terms are not words.
    builder.add_text_field("spell", tokenizer_name="default", index_option="basic")
    builder.add_text_field("tag", tokenizer_name="raw", index_option="basic")  # one term per tag, lowercased
    for name in FACETS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    builder.add_integer_field("received", indexed=True, fast=True)  # date received, as a day number
    builder.add_integer_field("created", indexed=True)  # filed at, in µs since 1970 (UTC)
    builder.add_integer_field("created_by", indexed=True)
    builder.add_integer_field("assigned_to", indexed=True)
    builder.add_bytes_field("digest", stored=True)  # not searched (a text field would be: a term per case)
    return builder.build()


SCHEMA = make_schema()
LAYOUT = 3  # raise it whenever the schema changes (3: source, source_id and the CFPB's fields)


def _analyzer(*filters) -> tantivy.TextAnalyzer:
    builder = TextAnalyzerBuilder(Tokenizer.simple())
    for one in filters:
        builder = builder.filter(one)
    return builder.build()


# The query side of tantivy's built-in tokenizers: "en_stem" and "default" (tested against the index).
ANALYZERS = {
    "en_stem": _analyzer(Filter.remove_long(40), Filter.lowercase(), Filter.stemmer("english")),
    "default": _analyzer(Filter.remove_long(40), Filter.lowercase()),
}
FIELD_ANALYZER = {**dict.fromkeys(STEMMED_FIELDS, "en_stem"), "complainant": "default"}  # others: raw


def _day(value: date) -> int:
    return value.toordinal()


def _micros(moment: datetime) -> int:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


# --- the query language --------------------------------------------------------------------

TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?:(?P<pfield>[A-Za-z_]+):)?"(?P<phrase>[^"]*)"?(?:~\d*)?(?:\^[\d.]*)?
  | (?:(?P<field>[A-Za-z_]+):(?=[^\s()]))?(?P<word>[^\s()"]+)
''', re.VERBOSE)
OPERATORS = ("AND", "OR", "NOT")


def _tokens(text: str) -> list[tuple]:
    """(kind, field, text) tuples: op, open, close, phrase or word. Unknown fields stay part of the word."""
    tokens = []
    for match in TOKEN.finditer(text):
        if match.group("space"):
            continue
        if match.group("open") or match.group("close"):
            tokens.append(("open" if match.group("open") else "close", None, None))
        elif match.group("phrase") is not None:
            field = match.group("pfield")
            name = FIELD_ALIASES.get((field or "").lower(), (field or "").lower())
            if field and name not in QUERYABLE_FIELDS:
                tokens.append(("word", None, field))
                name = None
            tokens.append(("phrase", name or None, match.group("phrase")))
        else:
            field, word = match.group("field"), match.group("word")
            if word in OPERATORS and not field:
                tokens.append(("op", None, word))
                continue
            name = FIELD_ALIASES.get((field or "").lower(), (field or "").lower())
            if field and name not in QUERYABLE_FIELDS:
                name, word = None, f"{field}:{word}"
            tokens.append(("word", name or None, word))
    return tokens


class _Parser:
    """or := and (OR and)* ; and := unary ((AND)? unary)* ; unary := NOT unary | atom ;
    atom := ( or ) | word | phrase. Stray operators and parentheses are skipped, never an error.
    Produces nested tuples: ("or", [...]), ("and", [...]), ("not", x), ("word"/"phrase", field, text)."""

    def __init__(self, tokens):
        self.tokens, self.at = tokens, 0

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self):
        parts = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                parts.append(node)
            elif self.peek() is not None:
                self.at += 1  # a token no rule takes (a stray ")" or operator)
        return ("and", parts) if len(parts) > 1 else (parts[0] if parts else None)

    def or_expr(self):
        parts = [self.and_expr()]
        while (token := self.peek()) and token[0] == "op" and token[2] == "OR":
            self.at += 1
            parts.append(self.and_expr())
        parts = [part for part in parts if part is not None]
        return ("or", parts) if len(parts) > 1 else (parts[0] if parts else None)

    def and_expr(self):
        parts = []
        while (token := self.peek()) is not None:
            if token[0] == "close" or (token[0] == "op" and token[2] == "OR"):
                break
            if token[0] == "op" and token[2] == "AND":
                self.at += 1
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        return ("and", parts) if len(parts) > 1 else (parts[0] if parts else None)

    def unary(self):
        token = self.peek()
        if token[0] == "op" and token[2] == "NOT":
            self.at += 1
            if self.peek() is None or self.peek()[0] == "close":
                return None
            inner = self.unary()
            return ("not", inner) if inner is not None else None
        self.at += 1
        if token[0] == "open":
            inner = self.or_expr()
            if (close := self.peek()) is not None and close[0] == "close":
                self.at += 1
            return inner
        if token[0] in ("word", "phrase"):
            return token
        return None  # an operator where a word belongs


class _Compiler:
    """Turns the parsed query into a tantivy Query over the schema's fields."""

    def __init__(self, schema):
        self.schema = schema

    def compile(self, node) -> Query | None:
        kind = node[0]
        if kind == "not":  # a NOT alone: everything but it
            inner = self.compile(node[1])
            return None if inner is None else Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, inner)])
        if kind in ("and", "or"):
            clauses = []
            for part in node[1]:
                if kind == "and" and part[0] == "not":
                    inner = self.compile(part[1])
                    if inner is not None:
                        clauses.append((Occur.MustNot, inner))
                else:
                    query = self.compile(part)
                    if query is not None:
                        clauses.append((Occur.Must if kind == "and" else Occur.Should, query))
            if not clauses:
                return None
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.append((Occur.Must, Query.all_query()))
            if len(clauses) == 1 and clauses[0][0] != Occur.MustNot:
                return clauses[0][1]
            return Query.boolean_query(clauses)
        return self.leaf(kind, node[1], node[2])

    def leaf(self, kind: str, field: str | None, text: str) -> Query | None:
        fuzzy = None
        if kind == "word":
            text = re.sub(r"\^[\d.]*$", "", text)  # boosts are ignored
            if (match := re.fullmatch(r"(.+?)~(\d*)", text)) and re.search(r"\w", match.group(1)):
                text = match.group(1)
                fuzzy = min(int(match.group(2) or 1), MAX_FUZZY_DISTANCE)
            text = text.rstrip("~")
            if not field and text.strip("*?") == "" and "*" in text:
                return Query.all_query()  # "*": every case, as on Whoosh
        fields = {field: 1.0} if field else DEFAULT_FIELDS
        queries = []
        for name, boost in fields.items():
            query = self.field_query(name, kind, text, fuzzy)
            if query is not None:
                queries.append(query if boost == 1.0 else Query.boost_query(query, boost))
        if not queries:
            return None
        return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Should, q) for q in queries])

    def field_query(self, name: str, kind: str, text: str, fuzzy: int | None) -> Query | None:
        analyzer = FIELD_ANALYZER.get(name)
        if kind == "word" and ("*" in text or "?" in text):
            pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text.lower())
            literal = re.sub(r"[*?]", "", text)
            if analyzer and not re.fullmatch(r"\w*", literal):
                return None  # wildcards apply to single words of text fields
            return Query.regex_query(self.schema, name, pattern)
        if analyzer is None:  # one term per value: a reference, a tag, a facet value
            values = sorted({text.strip(), text.strip().lower()} - {""})
            if not values:
                return None
            if len(values) == 1:
                return Query.term_query(self.schema, name, values[0])
            return Query.term_set_query(self.schema, name, values)
        words = ANALYZERS[analyzer].analyze(text)
        if not words:
            return None
        if len(words) == 1:
            if fuzzy:
                return Query.fuzzy_term_query(self.schema, name, words[0], distance=fuzzy)
            return Query.term_query(self.schema, name, words[0])
        return Query.phrase_query(self.schema, name, words)


def parse(text: str, schema=SCHEMA) -> Query:
    """The query for a user's text; an empty text finds every case, text without any word none."""
    if not text.strip():
        return Query.all_query()
    tree = _Parser(_tokens(text)).parse()
    query = _Compiler(schema).compile(tree) if tree is not None else None
    if query is None:
        raise ValueError("no searchable word")
    return query


def plain_words(text: str, schema=SCHEMA) -> Query:
    """The fallback for a query that cannot be read: every word of it, as plain words."""
    words = re.findall(r"\w+", text)
    if not words:
        return Query.empty_query()
    return _Compiler(schema).compile(("and", [("word", None, word) for word in words])) or Query.empty_query()


# --- snippets -------------------------------------------------------------------------------

def _snippet_html(snippet) -> str:
    """The fragment escaped, with the highlighted ranges (UTF-8 byte offsets) in <mark>."""
    fragment = snippet.fragment().encode()
    parts, last = [], 0
    for span in snippet.highlighted():
        parts.append(str(escape(fragment[last:span.start].decode(errors="ignore"))))
        parts.append(f"<mark>{escape(fragment[span.start:span.end].decode(errors='ignore'))}</mark>")
        last = span.end
    parts.append(str(escape(fragment[last:].decode(errors="ignore"))))
    return "".join(parts).strip()


def _case_texts(ids: list[int]) -> dict[int, dict]:
    """The titles of these cases, and the texts their snippets are cut from, read from the database
    as their documents have them (the index stores no text)."""
    with Session(db.engine) as session:
        return snippet_texts(session, ids)


def _case_titles(ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    with Session(db.engine) as session:
        return {row.id: (row.reference, row.title) for row in session.execute(
            select(Case.id, Case.reference, Case.title).where(Case.id.in_(ids), Case.merged_into_id.is_(None)))}


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

    @staticmethod
    def _document(doc: dict) -> tantivy.Document:
        fields = {name: [doc[name]] for name in TEXT_VALUES if doc.get(name)}
        texts = [doc[name] for name in STEMMED_FIELDS if doc.get(name)]
        if texts:
            fields["spell"] = texts
        tags = {tag.strip().lower() for tag in doc.get("tag", "").split(",")} - {""}
        if tags:
            fields["tag"] = list(tags)
        fields["id"] = [int(doc["id"])]
        fields["received"] = [_day(date.fromisoformat(doc["received"][:10]))]
        fields["created"] = [_micros(datetime.fromisoformat(doc["created"]))]
        fields["created_by"] = [int(doc["created_by"])]
        if doc.get("assigned_to"):
            fields["assigned_to"] = [int(doc["assigned_to"])]
        if doc.get("digest"):
            fields["digest"] = [doc["digest"].encode()]
        return tantivy.Document.from_dict(fields, SCHEMA)  # one call: half the cost of add_text() per field

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
        searcher.aggregate(Query.all_query(), self._facet_aggregations())  # loads the facets' columns

    @staticmethod
    def permission_filter(user) -> Query | None:
        visibility = case_visibility(user)
        if visibility.every_case:
            return None
        return Query.boolean_query([(Occur.Should, Query.term_query(SCHEMA, field, int(visibility.person_id)))
                                    for field in visibility.OWN_CASE_FIELDS])

    def _filters(self, request: SearchRequest, user) -> list[Query]:
        parts = [f for f in [self.permission_filter(user)] if f is not None]
        for name, chosen in request.filters.items():
            if name not in FACETS:
                raise ValueError(f"no facet called {name!r}")
            values = [chosen] if isinstance(chosen, str) else list(chosen)  # several values: any of them
            if values:
                parts.append(Query.term_set_query(SCHEMA, name, [str(value) for value in values]))
        if request.date_from or request.date_to:
            parts.append(Query.range_query(
                SCHEMA, "received", tantivy.FieldType.Integer,
                _day(request.date_from) if request.date_from else None,
                _day(request.date_to) if request.date_to else None))
        if request.created_after:
            parts.append(Query.range_query(SCHEMA, "created", tantivy.FieldType.Integer,
                                           _micros(request.created_after), None, include_lower=False))
        return parts

    def run_text(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        searcher = self.searcher()
        try:
            query = parse(text)
        except Exception:  # never let a typed query become an error page
            results.notice = "Your search could not be read as typed; showing results for the words in it."
            query = plain_words(text)
        try:
            return self._run(searcher, query, request, user)
        except Exception:  # a query that builds but cannot run (a regex tantivy refuses, say)
            results.notice = "Your search could not be run as typed; showing results for the words in it."
            return self._run(searcher, plain_words(text), request, user)

    @staticmethod
    def _facet_aggregations(names=FACETS) -> dict:
        return {name: {"terms": {"field": name, "size": MAX_FACET_VALUES}} for name in names}

    def _run(self, searcher, text_query: Query, request: SearchRequest, user) -> SearchResults:
        filters = self._filters(request, user)
        # The filters go inside the query (scored only by the text): counts, facets and hits agree.
        query = Query.boolean_query([(Occur.Must, text_query), *((Occur.Must, Query.const_score_query(f, 0.0))
                                                                 for f in filters)]) if filters else text_query
        start = (max(request.page, 1) - 1) * request.per_page
        found = SearchResults(request)
        wanted = FACETS if request.facets_wanted is None else tuple(request.facets_wanted)
        counted = None
        if wanted:
            # Every case has exactly one status, so its counts add up to the total: one pass over
            # the matches gives facets and count, and the page below needs no count of its own.
            names = (*wanted, "status") if "status" not in wanted else wanted
            aggregations = self._facet_counts(searcher.aggregate(query, self._facet_aggregations(names)))
            counted = sum(aggregations["status"].values())
            found.facets = {name: aggregations[name] for name in wanted}
        if start >= MAX_OFFSET:  # far past any page shown (a count-only request): no top-N heap that size
            found.total = counted if counted is not None else searcher.search(query, limit=1, count=True).count
            return found
        if request.sort in ("newest", "oldest"):
            order = tantivy.Order.Desc if request.sort == "newest" else tantivy.Order.Asc
            result = searcher.search(query, limit=request.per_page, offset=start, count=counted is None,
                                     order_by_field="received", order=order)
            page, scores = result.hits, [0.0] * len(result.hits)
        else:
            result = searcher.search(query, limit=request.per_page, offset=start, count=counted is None)
            page, scores = result.hits, [score for score, _ in result.hits]
        found.total = counted if counted is not None else result.count
        if not page:
            return found
        ids = searcher.fast_field_values("id", [address for _, address in page])
        texts = _case_texts(ids)
        generators = {}
        for name in SNIPPET_FIELDS:
            generator = tantivy.SnippetGenerator.create(searcher, text_query, SCHEMA, name)
            generator.set_max_num_chars(SNIPPET_CHARS)
            generators[name] = generator
        for score, case_id in zip(scores, ids, strict=True):
            doc = texts.get(case_id)
            if doc is None:  # deleted or merged since the index was written: the indexer catches up
                continue
            snippets = []
            for name, label in SNIPPET_FIELDS.items():
                if doc.get(name):
                    snippet = generators[name].snippet_from_doc(tantivy.Document.from_dict({name: [doc[name]]}, SCHEMA))
                    if snippet.highlighted():
                        snippets.append((label, Markup(_snippet_html(snippet))))
            found.hits.append(Hit(case_id, doc["reference"].upper(), doc.get("title") or "", snippets, score))
        return found

    @staticmethod
    def _facet_counts(aggregations: dict) -> dict[str, dict[str, int]]:
        facets = {}
        for name, result in aggregations.items():
            if result.get("sum_other_doc_count"):  # more values than the bucket limit: never a silent cut
                raise RuntimeError(f"facet {name} has more than {MAX_FACET_VALUES} values")
            facets[name] = {str(bucket["key"]): bucket["doc_count"] for bucket in result["buckets"]}
        return facets

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
        doc = _case_texts([case_id]).get(case_id, {})
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
        titles = _case_titles(ids)
        return [Hit(other, titles[other][0].upper(), titles[other][1] or "", [], score)
                for (score, _), other in zip(found, ids, strict=True) if other in titles]

    def close(self) -> None:
        with self._lock:
            self._index = self._index_dir = self._seen = None
            self._vocabulary = {}
