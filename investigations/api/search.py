"""Search: the same search as the /search page, over the cases the caller may see."""
from flask import url_for

from ..search import get_backend
from ..search.requests import facet_labeller, request_from_api
from .auth import ApiBlueprint
from .cases import TOTAL_HEADER, me
from .schemas import SearchArgsSchema, SearchResultSchema

blp = ApiBlueprint("api_search", __name__, tag="Search", description=(
    "Full-text search with the query language, facets, date range, sorting and spelling suggestions "
    "of the search page. Reporters search their own cases."))

# The API's names for the search backend's facets.
FACET_NAMES = {"status": "status", "category": "category", "business_id": "business", "region": "region",
               "year": "year", "source": "source", "product": "product", "issue": "issue",
               "company_response": "company_response"}


@blp.route("/search", methods=["GET"])
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchResultSchema, headers=TOTAL_HEADER)
def search(args):
    """Search cases

    Ranked by relevance (or newest or oldest first), with snippets of where each case matched,
    facet counts, and, when the query finds nothing, the results of its spelling-corrected form
    (`suggestion`). A malformed query gets a `notice` and a best-effort result, never an error.
    Each hit's `score` is its rank on this page scaled to 0..1 (1 for the first hit, 1/n for the
    n-th and last): the order of the results, never the engine's raw relevance score, whose word
    statistics count cases the caller may not see.
    """
    request = request_from_api(args)
    results = get_backend().search(request, me())
    label = facet_labeller(results.facets)
    facets = {
        FACET_NAMES[facet]: [{"value": value, "label": label(facet, value), "count": count}
                             for value, count in counts.items()]
        for facet, counts in results.facets.items() if facet in FACET_NAMES
    }
    shown = len(results.hits)
    hits = [{"reference": hit.reference, "title": hit.title, "score": round((shown - rank) / shown, 4),
             "snippets": [{"field": where, "html": str(snippet)} for where, snippet in hit.snippets],
             "url": url_for("api_cases.get_case", reference=hit.reference, _external=True)}
            for rank, hit in enumerate(results.hits)]
    body = {"query": args["q"], "suggestion": results.corrected, "notice": results.notice,
            "took_ms": round(results.took_ms, 1), "hits": hits, "facets": facets, "total": results.total,
            "page": request.page, "per_page": request.per_page, "pages": results.pages}
    return body, 200, {"X-Total-Count": str(results.total)}
