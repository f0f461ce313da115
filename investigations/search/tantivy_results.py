"""A page of tantivy search results: permission and facet filters, facet counts, and hits with snippets.

The index stores no text: a page's hits take their titles, and the text their snippets are cut
from, from the database (20 cases, a few column queries).
"""
import tantivy
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from tantivy import Occur, Query

from ..extensions import db
from ..models import Case
from ..permissions import case_visibility
from .documents import snippet_texts
from .query import FACETS, Hit, SearchRequest, SearchResults
from .tantivy_schema import SCHEMA, day_number, epoch_micros

MAX_FACET_VALUES = 65_000  # tantivy's bucket limit; far above any facet's number of values here
SNIPPET_CHARS = 220
MAX_OFFSET = 100_000
SNIPPET_FIELDS = {"title": "Title", "narrative": "Complaint", "notes": "Timeline", "evidence": "Evidence",
                  "business": "Business"}


def permission_filter(user) -> Query | None:
    visibility = case_visibility(user)
    if visibility.every_case:
        return None
    return Query.boolean_query([(Occur.Should, Query.term_query(SCHEMA, field, int(visibility.person_id)))
                                for field in visibility.OWN_CASE_FIELDS])


def request_filters(request: SearchRequest, user) -> list[Query]:
    parts = [f for f in [permission_filter(user)] if f is not None]
    for name, chosen in request.filters.items():
        if name not in FACETS:
            raise ValueError(f"no facet called {name!r}")
        values = [chosen] if isinstance(chosen, str) else list(chosen)  # several values: any of them
        if values:
            parts.append(Query.term_set_query(SCHEMA, name, [str(value) for value in values]))
    if request.date_from or request.date_to:
        parts.append(Query.range_query(
            SCHEMA, "received", tantivy.FieldType.Integer,
            day_number(request.date_from) if request.date_from else None,
            day_number(request.date_to) if request.date_to else None))
    if request.created_after:
        parts.append(Query.range_query(SCHEMA, "created", tantivy.FieldType.Integer,
                                       epoch_micros(request.created_after), None, include_lower=False))
    return parts


def facet_aggregations(names=FACETS) -> dict:
    return {name: {"terms": {"field": name, "size": MAX_FACET_VALUES}} for name in names}


def facet_counts(aggregations: dict) -> dict[str, dict[str, int]]:
    facets = {}
    for name, result in aggregations.items():
        if result.get("sum_other_doc_count"):  # more values than the bucket limit: never a silent cut
            raise RuntimeError(f"facet {name} has more than {MAX_FACET_VALUES} values")
        facets[name] = {str(bucket["key"]): bucket["doc_count"] for bucket in result["buckets"]}
    return facets


def results_page(searcher: tantivy.Searcher, text_query: Query, request: SearchRequest, user) -> SearchResults:
    """The request's page of hits for `text_query`, with its total and facets, as `user` may see them."""
    filters = request_filters(request, user)
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
        aggregations = facet_counts(searcher.aggregate(query, facet_aggregations(names)))
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
    texts = case_texts(ids)
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
                    snippets.append((label, Markup(snippet_html(snippet))))
        found.hits.append(Hit(case_id, doc["reference"].upper(), doc.get("title") or "", snippets, score))
    return found


def snippet_html(snippet) -> str:
    """The fragment escaped, with the highlighted ranges (UTF-8 byte offsets) in <mark>."""
    fragment = snippet.fragment().encode()
    parts, last = [], 0
    for span in snippet.highlighted():
        parts.append(str(escape(fragment[last:span.start].decode(errors="ignore"))))
        parts.append(f"<mark>{escape(fragment[span.start:span.end].decode(errors='ignore'))}</mark>")
        last = span.end
    parts.append(str(escape(fragment[last:].decode(errors="ignore"))))
    return "".join(parts).strip()


# Read on a connection of their own, outside the request's ORM session: plain column queries need
# none of its bookkeeping (an ORM execute costs several times a Core one, four a page).
def case_texts(ids: list[int]) -> dict[int, dict]:
    """The titles of these cases, and the texts their snippets are cut from, read from the database
    as their documents have them (the index stores no text)."""
    with db.engine.connect() as connection:
        return snippet_texts(connection, ids)


_CASE_TITLES = select(Case.id, Case.reference, Case.title).where(
    Case.id.in_(bindparam("ids", expanding=True)), Case.merged_into_id.is_(None))


def case_titles(ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    with db.engine.connect() as connection:
        return {row.id: (row.reference, row.title) for row in connection.execute(_CASE_TITLES, {"ids": list(ids)})}
