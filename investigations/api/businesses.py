"""Businesses: list and read them (every account), change their details (editors).

Every account sees every business, as on the web; the cases and counts shown with a business
are only those the caller may see.
"""
import re

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..businesses.naming import normalize_business_name
from ..businesses.services import BUSINESS_FIELDS, BusinessNameTaken, case_counts, get_business_by_slug, update_business
from ..extensions import db
from ..models import Business, BusinessAlias, Case
from ..permissions import public, visible_cases_clause
from .auth import ApiBlueprint, editors_only
from .cases import TOTAL_HEADER, me, paged
from .errors import fail
from .schemas import BusinessArgsSchema, BusinessDetailSchema, BusinessListSchema, BusinessUpdateSchema

blp = ApiBlueprint("api_businesses", __name__, tag="Businesses", description=(
    "The businesses complained about, with their aliases. Everyone may read them; editors change them."))

SLUG = re.compile(r"[A-Za-z0-9_-]{1,220}")


def business_or_404(slug: str) -> Business:
    if not SLUG.fullmatch(slug):
        fail(404)
    return get_business_by_slug(slug)


def _with_details(business: Business) -> Business:
    """The business with what the caller may see of its cases (for BusinessDetailSchema)."""
    business.counts = case_counts(business, me())
    business.case_count = business.counts["total"]
    business.cases_visible = db.session.scalars(
        select(Case).where(Case.business_id == business.id, visible_cases_clause(me()))
        .order_by(Case.date_received.desc(), Case.id.desc()).limit(200)
    ).all()
    return business


@blp.route("/businesses", methods=["GET"])
@public  # the API blueprint's token check applies: see auth.py
@blp.arguments(BusinessArgsSchema, location="query")
@blp.response(200, BusinessListSchema, headers=TOTAL_HEADER)
def list_businesses(args):
    """List businesses

    By name; `q` finds a part of a name or alias, as the web's business list does.
    """
    per_page = args["per_page"] or current_app.config["CASES_PER_PAGE"]
    visible_count = (
        select(func.count(Case.id))
        .where(Case.business_id == Business.id, visible_cases_clause(me()))
        .correlate(Business)
        .scalar_subquery()
    )
    condition = Business.id.isnot(None)
    normalized = normalize_business_name(args.get("q") or "")
    if normalized:
        alias_match = select(BusinessAlias.business_id).where(BusinessAlias.normalized_name.contains(normalized))
        condition = or_(Business.normalized_name.contains(normalized), Business.id.in_(alias_match))
    total = db.session.scalar(select(func.count(Business.id)).where(condition))
    rows = db.session.execute(
        select(Business, visible_count.label("case_count")).where(condition)
        .options(selectinload(Business.aliases)).order_by(Business.name, Business.id)
        .limit(per_page).offset((args["page"] - 1) * per_page)
    ).all()
    items = []
    for business, case_count in rows:
        business.case_count = case_count
        items.append(business)
    return paged(items, total, args["page"], per_page)


@blp.route("/businesses/<slug>", methods=["GET"])
@public
@blp.response(200, BusinessDetailSchema)
@blp.problem(404)
def get_business(slug):
    """Read a business

    With counts of its cases by status and category, and the cases themselves, among those you may see.
    """
    return _with_details(business_or_404(slug))


@blp.route("/businesses/<slug>", methods=["PATCH"])
@public
@editors_only("change businesses")
@blp.arguments(BusinessUpdateSchema)
@blp.response(200, BusinessDetailSchema)
@blp.problem(403)
@blp.problem(404)
def update_business_view(changes, slug):
    """Change a business's details (editors)

    Send only the fields to change; `aliases` replaces the list of other names. A renamed business
    keeps its old name as an alias. A name or alias that belongs to another business answers 422.
    """
    business = business_or_404(slug)
    data = {field: getattr(business, field) for field in BUSINESS_FIELDS}
    aliases = changes.pop("aliases", business.alias_names)
    data.update(changes)
    try:
        update_business(business, data, aliases)
    except BusinessNameTaken as error:
        db.session.rollback()
        fail(422, errors={error.field: [str(error)]})
    db.session.commit()
    return _with_details(business)
