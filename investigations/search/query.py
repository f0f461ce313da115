"""The search request and its results, the same whichever backend answers."""
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from markupsafe import Markup

MAX_QUERY_CHARS = 500
# The CFPB's product, issue and company response are facets of imported complaints only: a case
# without one has no value there (no "" bucket), so the facet stays empty in a newsroom's own cases.
FACETS = ("status", "category", "business_id", "region", "year", "source", "product", "issue", "company_response")
SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}
OPERATORS = ("AND", "OR", "NOT")  # only in capitals: "and", "or" and "not" are words
MAX_SUGGESTIONS_TRIED = 20  # candidate corrections checked against the cases the user may open, per word
MAX_WORDS_TRIED = 8  # words left out one at a time to find the one that emptied a search


@dataclass
class SearchRequest:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet -> chosen values (any of them)
    date_from: date | None = None
    date_to: date | None = None
    created_after: datetime | None = None  # only cases filed since then (saved searches' "new")
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    # Which facets to count (None: all of them). The shared flow's own searches ask for none (a
    # count) or one (_facets_of_chosen); an engine may skip the others, or count them anyway.
    facets_wanted: tuple[str, ...] | None = None

    def __post_init__(self):
        # One value may still be given as a string (older callers): it is a list of one.
        self.filters = {name: [values] if isinstance(values, str) else list(values)
                        for name, values in self.filters.items() if values}


@dataclass
class Hit:
    case_id: int
    reference: str
    title: str
    snippets: list[tuple[str, Markup]]  # (where it matched, highlighted text)
    score: float = 0.0  # the engine's own score: for ordering only, never shown (it counts hidden cases)


@dataclass
class SearchResults:
    request: SearchRequest
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> count
    took_ms: float = 0.0
    corrected: str | None = None  # the query actually run, when the typed one found nothing
    notice: str | None = None  # what was done with a query that could not be read as typed
    emptied_by: str | None = None  # when nothing matched: the word without which something does
    without: str | None = None  # the query as typed, without that word
    without_total: int = 0  # how many cases the query without it finds

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))


WORD = re.compile(r"(?<![\w:~*?])[A-Za-z]{3,}(?![\w:*?])")  # plain words (perhaps fuzzy~), not fields or wildcards
TOKEN = re.compile(r'"[^"]*"?|[()]|[^\s()"]+')  # a phrase (perhaps unclosed), a bracket, or anything else up to a space


@dataclass
class ReadQuery:
    text: str  # what the engine is given
    dropped: list[str]  # common words left out, as typed
    only_common: bool = False  # every word was a common one: the query asks for everything


def _bare(token: str) -> str:
    return re.sub(r"^\W+|\W+$", "", token).lower()


def read_query(text: str, stop_words: frozenset[str]) -> ReadQuery:
    """The query with the words that the engine leaves out of its index left out of the query too.

    Without this an engine ANDs a word that only its keyword fields keep ("the" in a complainant's
    name, say) with the others, and "incorrect information on your report" finds nothing. Phrases,
    fields (business:acme), wildcards and fuzzy terms are kept as typed; operators left without a
    word on one side go too. Lower-case and/or/not are words like any other, so they are common
    words wherever the engine drops them."""
    tokens, dropped = [], []
    for token in TOKEN.findall(text):
        plain = not token.startswith('"') and not re.search(r"[:*?~]", token)
        if token in OPERATORS or token in "()":
            tokens.append(token)
        elif plain and _bare(token) in stop_words:
            dropped.append(_bare(token))
        elif plain and not re.search(r"\w", token) and token not in ("-", "+"):
            continue  # punctuation on its own
        else:
            tokens.append(token)
    # Operators need a word after them (and AND/OR one before), brackets something inside.
    changed = True
    while changed:
        changed = False
        for i, token in enumerate(tokens):
            before = tokens[i - 1] if i else None
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            lonely = (token in OPERATORS and (after is None or after in ("AND", "OR", ")"))) or \
                     (token in ("AND", "OR") and (before is None or before in (*OPERATORS, "("))) or \
                     (token == "(" and after == ")")
            if lonely:
                del tokens[i:i + (2 if token == "(" else 1)]
                changed = True
                break
    kept = " ".join(tokens)
    only_common = bool(dropped) and not re.search(r"\w", kept)
    return ReadQuery("" if only_common else kept if dropped else text, dropped, only_common)


def correct_words(text: str, is_known: Callable[[str], bool], suggest: Callable[[str], str | None]) -> str | None:
    """The query with each unknown plain word replaced by a suggestion; None if nothing changed."""
    changed = False

    def fix(match):
        nonlocal changed
        word = match.group(0)
        if word in OPERATORS or is_known(word.lower()):
            return word
        suggestion = suggest(word.lower())
        if suggestion:
            changed = True
            return suggestion
        return word

    corrected = WORD.sub(fix, text)
    return corrected if changed else None


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def without_word(text: str, word: str) -> str:
    """`text` with every standalone occurrence of `word` (as typed) left out."""
    pattern = re.compile(rf"(?<![\w:~*?\"]){re.escape(word)}(?![\w:*?\"])", re.IGNORECASE)
    return " ".join(pattern.sub(" ", text).split())


class SearchBackend:
    """The course of a search, the same for every backend: trim the query, leave out the words the
    index leaves out, run it; when it finds nothing, run the spelling-corrected query instead, and
    when that finds nothing either, find the word without which something matches. Everything but
    running a query and listing an index's words near a word is done here, for every engine, and
    every judgement about words (known, suggested, emptying) is made by searching only the cases the
    user may open: the archive's own statistics would tell a reporter about cases hidden from them.

    Engines supply run_text() and suggestions(), and set stop_words to the words their text analysis
    drops at index time."""

    stop_words: frozenset[str] = frozenset()

    def warm_up(self) -> None:
        """Get ready to answer quickly (open files, fill caches); before a process's first request."""

    def search(self, request: SearchRequest, user) -> SearchResults:
        started = time.perf_counter()
        results = SearchResults(request)
        text = request.text.replace("\x00", "")
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            results.notice = f"Your search was cut to its first {MAX_QUERY_CHARS} characters."
        found = self._read_and_run(text, request, user, results)
        if found.total == 0 and text.strip():
            corrected = self.visible_correction(text, request, user)
            if corrected:
                again = self._read_and_run(corrected, request, user, results)
                if again.total:
                    found, results.corrected = again, corrected
            if not found.total:
                self.find_emptying_word(text, request, user, results)
        if found.total and request.filters:
            found.facets = self._facets_of_chosen(results.corrected or text, request, user, found.facets)
        results.total, results.hits, results.facets = found.total, found.hits, found.facets
        results.took_ms = (time.perf_counter() - started) * 1000
        return results

    def _read_and_run(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        read = read_query(text, self.stop_words)
        if read.only_common and results.notice is None:
            words = ", ".join(f"“{word}”" for word in dict.fromkeys(read.dropped))
            results.notice = f"{words} {'is' if len(set(read.dropped)) == 1 else 'are'} too common to search " \
                             "for: showing every case."
        return self.run_text(read.text, request, user, results)

    def _count(self, text: str, request: SearchRequest, user) -> int:
        """How many cases the user may open match `text` (a page past the end: no hits, no highlights)."""
        count_only = replace(request, page=10**6, per_page=1, facets_wanted=())
        return self._read_and_run(text, count_only, user, SearchResults(count_only)).total

    def _facets_of_chosen(self, text: str, request: SearchRequest, user, facets):
        """A facet with chosen values is counted as if none of its values were chosen (the other
        facets' choices still apply), so its other values stay on offer: Equifax or Experian."""
        facets = dict(facets)
        for name in request.filters:
            others = replace(request, filters={k: v for k, v in request.filters.items() if k != name},
                             page=10**6, per_page=1, facets_wanted=(name,))
            facets[name] = self._read_and_run(text, others, user, SearchResults(others)).facets.get(name, {})
        return facets

    def visible_correction(self, text: str, request: SearchRequest, user) -> str | None:
        """`text` with each word that no case the user may open contains replaced by the nearest
        word that one does. Both judgements are searches among those cases only: the index's words
        and frequencies come from the whole archive, and a reporter would learn from a suggestion,
        or its absence, whether a name occurs in another reporter's case."""
        cache: dict[str, bool] = {}

        def visible(word: str) -> bool:
            if word not in cache:
                cache[word] = word in self.stop_words or self._count(word, request, user) > 0
            return cache[word]

        def suggest(word: str) -> str | None:
            candidates = sorted({c for c in self.suggestions(word) if c != word and c.isalpha()},
                                key=lambda c: (edit_distance(word, c), c))
            return next((c for c in candidates[:MAX_SUGGESTIONS_TRIED] if visible(c)), None)

        return correct_words(text, visible, suggest)

    def find_emptying_word(self, text: str, request: SearchRequest, user, results: SearchResults) -> None:
        """When nothing matches: the word whose leaving out finds the most cases the user may open."""
        words = [w for w in dict.fromkeys(_bare(t) for t in TOKEN.findall(text)
                                          if not t.startswith('"') and t not in OPERATORS and t not in "()")
                 if w and w not in self.stop_words]
        if len(words) < 2:
            return
        best = None
        for word in words[:MAX_WORDS_TRIED]:
            shorter = without_word(text, word)
            if shorter and shorter != text and re.search(r"\w", shorter):
                total = self._count(shorter, request, user)
                if total and (best is None or total > best[2]):
                    best = (word, shorter, total)
        if best:
            results.emptied_by, results.without, results.without_total = best

    def run_text(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        """One page of hits with facet counts for `text` (may set results.notice); an empty text
        matches every case the user may open."""
        raise NotImplementedError

    def suggestions(self, word: str) -> list[str]:
        """Words of the index spelled nearly like `word` (same first letter, at most 2 edits), in any
        order and as many as it has (at least MAX_SUGGESTIONS_TRIED): the shared flow ranks them by
        edit distance and keeps the first that occurs in a case the user may open.

        The default serves an engine that only has correct(text): it offers that engine's one
        suggestion, which it chose among the whole archive's words."""
        correct = getattr(self, "correct", None)
        fixed = correct(word) if correct else None
        return [fixed.lower()] if fixed else []
