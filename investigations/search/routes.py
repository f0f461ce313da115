import re
from dataclasses import replace
from datetime import date
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..forms import page_number
from ..models import Business, Case, SavedSearch
from ..models.cases import CATEGORIES, STATUS_LABELS, Status
from ..permissions import require, signed_in, visible_cases_clause
from . import bp, get_backend
from .forms import SaveSearchForm
from .query import FACETS, SORTS, SearchRequest
from .saved import forget, mark_seen, new_matches, save_search

FACET_LABELS = {"status": "Status", "category": "Category", "business_id": "Business", "region": "State or region",
                "year": "Year"}


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
    """The case a query names by its reference, or by the number alone (the newest such case),
    if `user` may open it; None otherwise, so a hidden case is searched for like any other words."""
    match = REFERENCE.match(text or "")
    if not match:
        return None
    year, number = match.groups()
    if int(number) == 0:
        return None
    pattern = f"C-{year}-{int(number):05d}" if year else f"C-____-{int(number):05d}"
    return db.session.scalar(select(Case).where(Case.reference.like(pattern), Case.merged_into_id.is_(None),
                                                visible_cases_clause(user)).order_by(Case.reference.desc()).limit(1))


def request_from_args(args) -> SearchRequest:
    filters = {name: values for name in FACETS if (values := _values(args, name))}
    return SearchRequest(
        text=args.get("q", ""), filters=filters, date_from=_date(args.get("from")), date_to=_date(args.get("to")),
        sort=args.get("sort") if args.get("sort") in SORTS else "relevance", page=page_number(args.get("page"), 500),
    )


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


def facet_labeller(facets: dict[str, dict[str, int]]):
    """value -> readable label for each facet (business ids become names)."""
    business_ids = [int(v) for v in facets.get("business_id", {}) if v.isdigit()]
    names = dict(db.session.execute(select(Business.id, Business.name).where(Business.id.in_(business_ids))).all())

    def label(facet: str, value: str) -> str:
        if facet == "status":
            return STATUS_LABELS.get(Status(value), value) if value in {s.value for s in Status} else value
        if facet == "category":
            return CATEGORIES.get(value, value)
        if facet == "business_id":
            return names.get(int(value), "Unknown business") if value.isdigit() else value
        if facet == "region":
            return value.title() if value != "unknown" else "Not recorded"
        return value

    return label


@bp.route("/search/saved", methods=["GET", "POST"])
@signed_in
def saved():
    """The user's saved searches; POST saves the search described by the form's fields."""
    if request.method == "POST":
        form = SaveSearchForm()
        if form.validate_on_submit():
            saved_search = save_search(current_user, form.name.data, request.form)
            db.session.commit()
            flash(f"Saved “{saved_search.name}”. New matching cases will be counted in the navigation.", "success")
            # Stay on the results that were saved (without their page number: the search itself).
            return redirect(url_for("search.index") + "?" + saved_search.query_string)
        return redirect(url_for("search.saved"))
    return render_template("search/saved.html", searches=new_matches(current_user, fresh=True),
                           delete_form=SaveSearchForm())


def _own_saved_search(saved_id: int) -> SavedSearch:
    saved_search = db.session.get(SavedSearch, saved_id)
    require(saved_search is not None and saved_search.user_id == current_user.id)
    return saved_search


@bp.route("/search/saved/<int:saved_id>")
@signed_in
def open_saved(saved_id):
    saved_search = _own_saved_search(saved_id)
    mark_seen(saved_search)
    db.session.commit()
    return redirect(url_for("search.index") + "?" + saved_search.query_string)


@bp.route("/search/saved/<int:saved_id>/delete", methods=["POST"])
@signed_in
def delete_saved(saved_id):
    forget(_own_saved_search(saved_id))
    db.session.commit()
    flash("Saved search removed.", "info")
    return redirect(url_for("search.saved"))


@bp.route("/search")
@signed_in
def index():
    search_request = request_from_args(request.args)
    if request.args.get("q") and not request.args.get("page"):
        case = case_for_reference(search_request.text, current_user)
        if case is not None:
            return redirect(url_for("cases.detail", reference=case.reference))
    results = get_backend().search(search_request, current_user) if request.args else None
    facets = shown_facets(results.facets, search_request.filters) if results else {}
    args = {k: [v for v in values if v] for k, values in request.args.lists() if k != "page" and any(values)}

    def with_arg(name, value):
        return {**args, name: [value]}

    def without_arg(name):
        return {k: v for k, v in args.items() if k != name}

    def with_value(name, value):
        """These arguments with one more value of a facet: cases with any of the chosen values."""
        return {**args, name: [*args.get(name, []), value]}

    def without_value(name, value):
        return {**without_arg(name), **({name: rest} if (rest := [v for v in args.get(name, []) if v != value])
                                        else {})}

    def result_link(hit, index):
        """The hit's case page, remembering the search and the hit's place in it (back, next, previous)."""
        if results is None:
            return url_for("cases.detail", reference=hit.reference)
        position = (search_request.page - 1) * search_request.per_page + index
        return url_for("cases.detail", reference=hit.reference, **result_nav(args, position, results.total))

    return render_template("search/results.html", results=results, search_request=search_request, args=args,
                           save_form=SaveSearchForm(), with_value=with_value, without_value=without_value,
                           with_arg=with_arg, without_arg=without_arg, facet_labels=FACET_LABELS, sorts=SORTS,
                           facets=facets, labels=facet_labeller({f: top for f, (top, _) in facets.items()}),
                           result_link=result_link)


# --- From a case opened from the results: back to them, and the next or previous result ------

MAX_NAV_QUERY = 4000


def result_nav(args: dict[str, list[str]], position: int, total: int) -> dict:
    """Arguments a case page carries when opened from search: the search, the hit's place, the count."""
    return {"search": urlencode([(k, v) for k, values in args.items() for v in values])[:MAX_NAV_QUERY],
            "pos": position, "of": total}


def _nav_args(query: str) -> MultiDict:
    return MultiDict([(k, v) for k, v in parse_qsl(query[:MAX_NAV_QUERY]) if k != "page"])


def results_address(query: str, position: int) -> str:
    """The results page that holds the hit at `position` of the search `query`."""
    args = _nav_args(query)
    page = position // SearchRequest.per_page + 1
    if page > 1:
        args["page"] = str(page)
    return url_for("search.index") + ("?" + urlencode(list(args.items(multi=True))) if args else "")


@bp.route("/search/step")
@signed_in
def step():
    """Open the hit at ?pos= of the search ?search= (a query string): the next or previous result."""
    query = request.args.get("search", "")
    try:
        position = max(0, min(int(request.args.get("pos", "0")), 10_000))
    except ValueError:
        position = 0
    args = _nav_args(query)
    if not args.get("q") and not any(args.values()):
        return redirect(url_for("search.index"))
    search_request = request_from_args(args)
    search_request = replace(search_request, page=position // search_request.per_page + 1)
    results = get_backend().search(search_request, current_user)
    index = position % search_request.per_page
    if index >= len(results.hits):
        flash("There is no result there any more: the search has changed since.", "info")
        return redirect(results_address(query, position))
    return redirect(url_for("cases.detail", reference=results.hits[index].reference,
                            search=query, pos=position, of=results.total))
