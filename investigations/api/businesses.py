"""Businesses: list and read them (every account), change their details (editors).

Thin views over businesses/queries.py and services.py, the same functions as the web's business
pages: every account sees every business that was not merged into another (a merged one's
address leads to the business it became); the cases and counts shown with a business are those
the caller may see, without cases merged into another, so a count and its case list agree.
"""
import re

from flask import current_app

from ..businesses.queries import business_page, case_counts, visible_cases
from ..businesses.services import BusinessDetails, BusinessNameTaken, get_business_by_slug, update_business
from ..extensions import db
from ..models import Business
from .auth import ApiBlueprint, editors_only
from .cases import TOTAL_HEADER, me, paged
from .errors import fail
from .schemas import BusinessArgsSchema, BusinessDetailSchema, BusinessListSchema, BusinessUpdateSchema

blp = ApiBlueprint("api_businesses", __name__, tag="Businesses", description=(
    "The businesses complained about, with their aliases. Everyone may read them; editors change them."))

SLUG = re.compile(r"[A-Za-z0-9_-]{1,220}")


def business_or_404(slug: str) -> Business:
    """The business at this slug; a merged one's GET leads (308) to the business it became, a change 409s."""
    if not SLUG.fullmatch(slug):
        fail(404)
    return get_business_by_slug(slug, redirect_status=308)


def _with_details(business: Business) -> Business:
    """The business with what the caller may see of its cases (for BusinessDetailSchema)."""
    business.counts = case_counts(business, me())
    business.case_count = business.counts["total"]
    business.cases_visible = visible_cases(business, me())
    return business


@blp.route("/businesses", methods=["GET"])
@blp.arguments(BusinessArgsSchema, location="query")
@blp.response(200, BusinessListSchema, headers=TOTAL_HEADER)
def list_businesses(args):
    """List businesses

    By name; `q` finds a part of a name or alias, as the web's business list does. Businesses merged
    into another are not listed.
    """
    listed = business_page(me(), args.get("q") or "", args["page"],
                           args["per_page"] or current_app.config["CASES_PER_PAGE"])
    items = []
    for row in listed.rows:
        row.business.case_count = row.case_count
        items.append(row.business)
    return paged(items, listed.total, listed.page, listed.per_page)


@blp.route("/businesses/<slug>", methods=["GET"])
@blp.response(200, BusinessDetailSchema)
@blp.problem(404)
def get_business(slug):
    """Read a business

    With counts of its cases by status and category, and the cases themselves, among those you may see.
    """
    return _with_details(business_or_404(slug))


@blp.route("/businesses/<slug>", methods=["PATCH"])
@editors_only("change businesses")
@blp.arguments(BusinessUpdateSchema, required=False)  # no body (or {}) changes nothing
@blp.response(200, BusinessDetailSchema)
@blp.problem(403)
@blp.problem(404)
@blp.problem(409, "The name or an alias belongs to another business (`errors` says which), or this business "
                  "was merged into another (change that one).")
def update_business_view(changes, slug):
    """Change a business's details (editors)

    Send only the fields to change; `aliases` replaces the list of other names. A renamed business
    keeps its old name as an alias. A name or alias that belongs to another business answers 409.
    """
    business = business_or_404(slug)
    try:
        update_business(business, BusinessDetails.of(business).replace(**changes))
    except BusinessNameTaken as error:
        db.session.rollback()
        fail(409, str(error), errors={error.field: [str(error)]})
    db.session.commit()
    return _with_details(business)
