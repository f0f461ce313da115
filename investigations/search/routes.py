from datetime import date

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..forms import page_number
from ..models import Business
from ..models.cases import CATEGORIES, STATUS_LABELS, Status
from ..permissions import signed_in
from . import bp, get_backend
from .models import FACETS, SORTS, SearchRequest

FACET_LABELS = {"status": "Status", "category": "Category", "business_id": "Business", "region": "State or region",
                "year": "Year"}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def request_from_args(args) -> SearchRequest:
    filters = {name: args[name].strip()[:100] for name in FACETS if args.get(name, "").strip()}
    return SearchRequest(
        text=args.get("q", ""), filters=filters, date_from=_date(args.get("from")), date_to=_date(args.get("to")),
        sort=args.get("sort") if args.get("sort") in SORTS else "relevance", page=page_number(args.get("page"), 500),
    )


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


@bp.route("/search")
@signed_in
def index():
    search_request = request_from_args(request.args)
    results = get_backend().search(search_request, current_user) if request.args else None
    args = {k: v for k, v in request.args.items() if k != "page" and v}

    def with_arg(name, value):
        return {**args, name: value}

    def without_arg(name):
        return {k: v for k, v in args.items() if k != name}

    return render_template("search/results.html", results=results, search_request=search_request, args=args,
                           with_arg=with_arg, without_arg=without_arg, facet_labels=FACET_LABELS, sorts=SORTS,
                           labels=facet_labeller(results.facets) if results else None)
