from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import SavedSearch
from ..permissions import require, signed_in
from . import bp, get_backend
from .forms import SaveSearchForm
from .links import FacetList, FacetValue, QueryStrings, with_query
from .query import SORTS, SearchRequest
from .requests import FACET_LABELS, case_for_reference, facet_labeller, request_from_args, shown_facets
from .saved import forget, mark_seen, new_matches, save_search


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
    # The page's links: an address from url_for() and a query string built here (links.py), not a
    # url_for() for each of some 60 links.
    search_address, query_string = url_for("search.index"), QueryStrings()

    def search_link(link_args: dict) -> str:
        return with_query(search_address, query_string(link_args))

    def with_arg(name, value):
        return {**args, name: [value]}

    def page_link(page: int) -> str:
        return search_link({"page": page, **args})

    nav = result_nav(args, 0, results.total) if results else {}  # the same for every hit but its place

    def result_link(hit, index):
        """The hit's case page, remembering the search and the hit's place in it (back, next, previous)."""
        position = (search_request.page - 1) * search_request.per_page + index
        return with_query(url_for("cases.detail", reference=hit.reference), query_string({**nav, "pos": position}))

    return render_template("search/results.html", results=results, search_request=search_request, args=args,
                           save_form=SaveSearchForm(), with_arg=with_arg, search_link=search_link,
                           page_link=page_link, sorts=SORTS, result_link=result_link,
                           facet_lists=facet_lists(facets, search_request.filters, args, search_link))


def with_value(args: dict[str, list[str]], name: str, value: str) -> dict[str, list[str]]:
    """These arguments with one more value of a facet: cases with any of the chosen values."""
    return {**args, name: [*args.get(name, []), value]}


def without_value(args: dict[str, list[str]], name: str, value: str) -> dict[str, list[str]]:
    rest = [v for v in args.get(name, []) if v != value]
    return {**{k: v for k, v in args.items() if k != name}, **({name: rest} if rest else {})}


def facet_lists(facets: dict[str, tuple[dict[str, int], int]], chosen: dict[str, list[str]],
                args: dict[str, list[str]], search_link) -> list[FacetList]:
    """The facets as the page lists them: each value's label, count, and link that adds it to the
    search (or takes it away, when chosen)."""
    label = facet_labeller({name: counts for name, (counts, _) in facets.items()})
    lists = []
    for name, (counts, left_out) in facets.items():
        if not counts:
            continue
        chosen_here = chosen.get(name, [])
        values = [FacetValue(label(name, value), count, value in chosen_here,
                             search_link(without_value(args, name, value) if value in chosen_here
                                         else with_value(args, name, value)))
                  for value, count in counts.items()]
        lists.append(FacetList(FACET_LABELS[name], name, values, left_out, bool(chosen_here)))
    return lists


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
