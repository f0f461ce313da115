"""Reading businesses: the one set of queries under both the web's business pages and the API.

What a list or a page of a business shows is decided here, once: businesses merged into another
are not listed (their address leads to the business they were merged into), and a business's
cases, their count and their counts by status and category are the same set: the cases the user
may see, without those merged into another case. No request, form or response in here: the
views (businesses/routes.py, api/businesses.py) turn their arguments into these calls.
"""
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Business, BusinessAlias, Case
from ..models.cases import CATEGORIES, Status
from ..permissions import visible_cases_clause
from .naming import normalize_business_name

CASES_LISTED = 200  # the newest of a business's cases on its page; the case list filtered by business shows all


# --- Finding one -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessAtSlug:
    """What is at /businesses/<slug>: the business, and if it was merged away, the one it now is."""

    business: Business
    survivor: Business | None = None

    @property
    def merged(self) -> bool:
        return self.survivor is not None


def business_at_slug(slug: str) -> BusinessAtSlug | None:
    """The business with this slug (None if there is none), following merges to the survivor."""
    business = db.session.scalar(select(Business).where(Business.slug == slug))
    if business is None:
        return None
    if business.merged_into_id is None:
        return BusinessAtSlug(business)
    return BusinessAtSlug(business, follow_merges(business))


def follow_merges(business: Business) -> Business:
    while business.merged_into_id is not None:
        business = business.merged_into
    return business


def merged_message(duplicate: Business, survivor: Business) -> str:
    return f"{duplicate.name} was merged into {survivor.name}; make changes there."


# --- Its cases -------------------------------------------------------------------------------


def cases_of_clause(business_id, user):
    """The cases against a business (its id, or a correlated column) that `user` may see and that
    were not merged into another case: the one set that is listed and counted."""
    return (Case.business_id == business_id) & Case.merged_into_id.is_(None) & visible_cases_clause(user)


def visible_cases(business: Business, user, limit: int | None = None) -> list[Case]:
    """The newest (at most CASES_LISTED) of the business's cases that `user` may see."""
    return list(db.session.scalars(
        select(Case).where(cases_of_clause(business.id, user))
        .order_by(Case.date_received.desc(), Case.id.desc()).limit(limit or CASES_LISTED)
    ))


def case_counts(business: Business, user) -> dict:
    """Counts of the business's cases that `user` may see, by status and by category, and in all."""
    base = select(Case.status, Case.category).where(cases_of_clause(business.id, user)).subquery()
    by_status = dict(db.session.execute(select(base.c.status, func.count()).group_by(base.c.status)).all())
    by_category = dict(db.session.execute(select(base.c.category, func.count()).group_by(base.c.category)).all())
    return {
        "status": {s.label: by_status[s.value] for s in Status if by_status.get(s.value)},
        "category": {
            CATEGORIES.get(key, key): count
            for key, count in sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
        },
        "total": sum(by_status.values()),
    }


# --- Lists -----------------------------------------------------------------------------------


@dataclass
class BusinessRow:
    business: Business
    case_count: int  # its cases that the user may see, as counted on its page


@dataclass
class BusinessPage:
    rows: list[BusinessRow]
    total: int  # businesses in all pages
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _listed_clause(q: str):
    """Businesses not merged away, and with `q`, those whose name or an alias contains it."""
    condition = Business.merged_into_id.is_(None)
    normalized = normalize_business_name(q or "")
    if normalized:
        alias_match = select(BusinessAlias.business_id).where(BusinessAlias.normalized_name.contains(normalized))
        condition = condition & or_(Business.normalized_name.contains(normalized), Business.id.in_(alias_match))
    return condition


def business_page(user, q: str = "", page: int = 1, per_page: int = 25) -> BusinessPage:
    """A page of the business list by name, with the count of each one's cases `user` may see."""
    condition = _listed_clause(q)
    case_count = (
        select(func.count(Case.id)).where(cases_of_clause(Business.id, user)).correlate(Business).scalar_subquery()
    )
    total = db.session.scalar(select(func.count(Business.id)).where(condition))
    rows = db.session.execute(
        select(Business, case_count.label("case_count")).where(condition)
        .options(selectinload(Business.aliases))  # aliases for the whole page in one query
        .order_by(Business.name, Business.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return BusinessPage([BusinessRow(business, count) for business, count in rows], total, page, per_page)
