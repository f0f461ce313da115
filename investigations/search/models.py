"""The search request and its results, the same whichever backend answers."""
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from markupsafe import Markup

MAX_QUERY_CHARS = 500
FACETS = ("status", "category", "business_id", "region", "year")
SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}


@dataclass
class SearchRequest:
    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)  # facet name -> chosen value
    date_from: date | None = None
    date_to: date | None = None
    created_after: datetime | None = None  # only cases filed since then (saved searches' "new")
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass
class Hit:
    case_id: int
    reference: str
    title: str
    snippets: list[tuple[str, Markup]]  # (where it matched, highlighted text)
    score: float = 0.0


@dataclass
class SearchResults:
    request: SearchRequest
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> count
    took_ms: float = 0.0
    corrected: str | None = None  # the query actually run, when the typed one found nothing
    notice: str | None = None  # what was done with a query that could not be read as typed

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))


WORD = re.compile(r"(?<![\w:~*?])[A-Za-z]{3,}(?![\w:*?])")  # plain words (perhaps fuzzy~), not fields or wildcards


def correct_words(text: str, is_known: Callable[[str], bool], suggest: Callable[[str], str | None]) -> str | None:
    """The query with each unknown plain word replaced by a suggestion; None if nothing changed."""
    changed = False

    def fix(match):
        nonlocal changed
        word = match.group(0)
        if word.upper() in ("AND", "OR", "NOT") or is_known(word.lower()):
            return word
        suggestion = suggest(word.lower())
        if suggestion:
            changed = True
            return suggestion
        return word

    corrected = WORD.sub(fix, text)
    return corrected if changed else None


class SearchBackend:
    """The course of a search, the same for every backend: trim the query, run it, and when it
    finds nothing, run the spelling-corrected query instead. Backends supply the two steps."""

    def warm_up(self) -> None:
        """Get ready to answer quickly (open files, fill caches); before a process's first request."""

    def search(self, request: SearchRequest, user) -> SearchResults:
        started = time.perf_counter()
        results = SearchResults(request)
        text = request.text.replace("\x00", "")
        if len(text) > MAX_QUERY_CHARS:
            text = text[:MAX_QUERY_CHARS]
            results.notice = f"Your search was cut to its first {MAX_QUERY_CHARS} characters."
        found = self.run_text(text, request, user, results)
        if found.total == 0 and text.strip():
            corrected = self.correct(text)
            if corrected and corrected != text:
                corrected = self.visible_corrections(text, corrected, request, user)
            if corrected:
                again = self.run_text(corrected, request, user, results)
                if again.total:
                    found, results.corrected = again, corrected
        results.total, results.hits, results.facets = found.total, found.hits, found.facets
        results.took_ms = (time.perf_counter() - started) * 1000
        return results

    def visible_corrections(self, text: str, corrected: str, request: SearchRequest, user) -> str | None:
        """`corrected` with only the replacement words that occur in a case `user` may see: the
        suggestions come from the words of the whole archive, and offering a word from a case the
        user may not open (a name in another reporter's case) would give it away."""
        originals, replacements = WORD.findall(text), WORD.findall(corrected)
        if len(originals) != len(replacements):
            return None
        count_only = replace(request, page=10**6)  # a page past the end: the total, without hits or highlights
        visible = {new for old, new in zip(originals, replacements, strict=True)
                   if old != new and self.run_text(new, count_only, user, SearchResults(count_only)).total}
        if not visible:
            return None
        kept = iter(replacements)
        return WORD.sub(lambda match: new if (new := next(kept)) in visible else match.group(0), text)

    def run_text(self, text: str, request: SearchRequest, user, results: SearchResults) -> SearchResults:
        """One page of hits with facet counts for `text` (may set results.notice)."""
        raise NotImplementedError

    def correct(self, text: str) -> str | None:
        raise NotImplementedError
