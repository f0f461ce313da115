"""Search arguments (of the /search page, a saved search or the API) made into a search request,
and the labels of facet values: one place, so every way into search reads arguments alike."""
import re
from dataclasses import replace
from datetime import date

from sqlalchemy import bindparam, select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..forms import page_number
from ..models import Business, Case
from ..models.cases import CATEGORIES, SOURCE_ID_MAX, SOURCES, STATUS_LABELS, Status
from ..permissions import visible_cases_clause
from ..regions import region_label
from .query import FACETS, SORTS, SearchRequest

FACET_LABELS = {"status": "Status", "category": "Category", "business_id": "Business", "region": "State or region",
                "year": "Year", "source": "Source", "product": "Product", "issue": "Issue",
                "company_response": "Company response"}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


MAX_FACET_VALUES_CHOSEN = 20
REFERENCE = re.compile(r"^\s*(?:C-?(\d{4})-?)?0*(\d{1,5})\s*$", re.IGNORECASE)  # C-2026-02287, c-2026-2287, 2287


def _values(args, name: str) -> list[str]:
    """Every value given for `name` (?business_id=3&business_id=7), or the one of a plain dict."""
    given = args.getlist(name) if hasattr(args, "getlist") else [args.get(name) or ""]
    return list(dict.fromkeys(v.strip()[:100] for v in given if v and v.strip()))[:MAX_FACET_VALUES_CHOSEN]


def case_for_reference(text: str, user) -> Case | None:
    """The case a query names by its reference, or by the number alone (the newest such case), or
    else by its source's own ID (a CFPB Complaint ID), if `user` may open it; None otherwise, so a
    hidden case is searched for like any other words."""
    match = REFERENCE.match(text or "")
    if not match or int(match.group(2)) == 0:
        return case_for_source_id(text, user)
    year, number = match.groups()
    pattern = f"C-{year}-{int(number):05d}" if year else f"C-____-{int(number):05d}"
    return db.session.scalar(select(Case).where(Case.reference.like(pattern), Case.merged_into_id.is_(None),
                                                visible_cases_clause(user)).order_by(Case.reference.desc()).limit(1)) \
        or case_for_source_id(text, user)


# Asked of every one-word search. Most words are no case's source ID, and the unique index on
# (source, source_id) says so alone; asked together with a reporter's permission clause, SQLite
# would read all of the reporter's cases by owner instead (hundreds of rows, ~2 ms a search), so
# the candidates come first. Built once: building the statement cost more than running it.
_CASES_BY_SOURCE_ID = select(Case.id).where(
    Case.source.in_(bindparam("sources", expanding=True)),  # the unique index's first column: no scan
    Case.source_id.in_(bindparam("source_ids", expanding=True)), Case.merged_into_id.is_(None))


def case_for_source_id(text: str, user) -> Case | None:
    """The case a query names by its source's own ID alone ("4201337", "gym-1"), if `user` may open it."""
    source_id = (text or "").strip()
    if not source_id or len(source_id) > SOURCE_ID_MAX or not source_id.isprintable() or " " in source_id:
        return None
    candidates = db.session.connection().scalars(_CASES_BY_SOURCE_ID, {
        "sources": list(SOURCES), "source_ids": list({source_id, source_id.upper(), source_id.lower()})}).all()
    if not candidates:
        return None
    return db.session.scalar(select(Case).where(Case.id.in_(candidates), visible_cases_clause(user))
                             .order_by(Case.id).limit(1))


def request_from_args(args) -> SearchRequest:
    """The search the page's arguments describe (?q=…&status=…&from=…&page=…); a saved search is
    the same arguments kept."""
    filters = {name: values for name in FACETS if (values := _values(args, name))}
    if "region" in filters:  # regions are indexed in lower case
        filters["region"] = [value.lower() for value in filters["region"]]
    return SearchRequest(
        text=args.get("q", ""), filters=filters, date_from=_date(args.get("from")), date_to=_date(args.get("to")),
        sort=args.get("sort") if args.get("sort") in SORTS else "relevance", page=page_number(args.get("page"), 500),
    )


API_ARGUMENT_NAMES = {"business": "business_id", "date_from": "from", "date_to": "to"}  # the rest are the same


def request_from_api(args: dict) -> SearchRequest:
    """The search the JSON API's (validated) arguments describe, read as the page's arguments are."""
    page_args = MultiDict()
    for name, value in args.items():
        if value is not None and value != "" and name != "per_page":
            page_args.add(API_ARGUMENT_NAMES.get(name, name), value.isoformat() if isinstance(value, date) else str(value))
    return replace(request_from_args(page_args), per_page=args["per_page"])


FACET_VALUES_SHOWN = 10


def shown_facets(facets: dict[str, dict[str, int]],
                 filters: dict[str, list[str]]) -> dict[str, tuple[dict[str, int], int]]:
    """Each facet's most frequent values (and the chosen ones), with how many values are left out:
    a common word can match cases against thousands of businesses."""
    shown = {}
    for facet, counts in facets.items():
        top = dict(list(counts.items())[:FACET_VALUES_SHOWN])
        for chosen in filters.get(facet, []):
            if chosen not in top:
                top[chosen] = counts.get(chosen, 0)
        shown[facet] = (top, len(counts) - len(top))
    return shown


# Built once, and run as a plain column query on the request's connection (an ORM execute costs
# two to three times as much): the names of the business facet's values, on every results page.
_BUSINESS_NAMES = select(Business.id, Business.name).where(Business.id.in_(bindparam("ids", expanding=True)))


def facet_labeller(facets: dict[str, dict[str, int]]):
    """value -> readable label for each facet (business ids become names)."""
    business_ids = [int(v) for v in facets.get("business_id", {}) if v.isdigit()]
    names = dict(db.session.connection().execute(_BUSINESS_NAMES, {"ids": business_ids}).all()) \
        if business_ids else {}

    def label(facet: str, value: str) -> str:
        if facet == "status":
            return STATUS_LABELS.get(Status(value), value) if value in {s.value for s in Status} else value
        if facet == "category":
            return CATEGORIES.get(value, value)
        if facet == "business_id":
            return names.get(int(value), "Unknown business") if value.isdigit() else value
        if facet == "region":
            return region_label(value) if value != "unknown" else "Not recorded"
        if facet == "source":
            return SOURCES.get(value, value)
        return value

    return label
