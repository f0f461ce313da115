"""Finding, creating and editing businesses, and the pattern of complaints against one."""
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

from flask import abort, redirect, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from .. import audit
from ..charts import bar_chart
from ..database import insert_if_absent
from ..extensions import db
from ..models import Business, BusinessAlias, Case, utcnow
from ..models.cases import CATEGORIES, Status
from ..permissions import require
from .naming import normalize_business_name, slugify
from .queries import business_at_slug, cases_of_clause, follow_merges, merged_message


class BusinessNameTaken(ValueError):
    """The name (or an alias) already belongs to another business."""

    def __init__(self, name: str, owner: Business, field: str):
        super().__init__(f"“{name}” is already the name or an alias of {owner.name}.")
        self.owner = owner
        self.field = field  # the form field that carries the clashing name


class MergeError(ValueError):
    """Two records that cannot be merged (the same business, or one already merged away)."""


def get_business_by_slug(slug: str, redirect_status: int = 302) -> Business:
    """The business at /businesses/<slug> for a view, or 404. A merged duplicate's address leads
    (GET) to the same address of the business it was merged into; changes to it are refused (409).
    The web's pages and the API both come through here."""
    found = business_at_slug(slug)
    require(found is not None)
    if found.merged:
        if request.method in ("GET", "HEAD"):
            address = url_for(request.endpoint, **{**(request.view_args or {}), "slug": found.survivor.slug})
            abort(redirect(address, redirect_status))
        abort(409, merged_message(found.business, found.survivor))
    return found.business


def find_business(name: str) -> Business | None:
    """The business whose name or alias normalizes like `name`, if any."""
    normalized = normalize_business_name(name)
    if not normalized:
        return None
    business = db.session.scalar(select(Business).where(Business.normalized_name == normalized))
    if business is None:
        business = db.session.scalar(
            select(Business).join(BusinessAlias).where(BusinessAlias.normalized_name == normalized)
        )
    return follow_merges(business) if business is not None else None


def _unique_slug(name: str) -> str:
    base = slugify(name)
    slug, n = base, 2
    while db.session.scalar(select(Business.id).where(Business.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def find_or_create_business(name: str) -> tuple[Business, bool]:
    """Return (business, created). Matches existing businesses by normalized name or alias."""
    name = " ".join(name.split())
    existing = find_business(name)
    if existing is not None:
        return existing, False
    connection = db.session.connection()
    inserted = connection.execute(insert_if_absent(
        connection, Business.__table__,
        {"name": name, "normalized_name": normalize_business_name(name), "slug": _unique_slug(name),
         "created_at": utcnow(), "updated_at": utcnow()},
        ["normalized_name"],
    )).rowcount
    business = find_business(name)
    if not inserted:  # someone filed against the same new business a moment ago
        return business, False
    audit.record("business.create", business, name=name)
    return business, True


def set_aliases(business: Business, names: list[str]) -> None:
    """Replace the aliases; raises BusinessNameTaken if one belongs to another business."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())[:200]
        normalized = normalize_business_name(name)
        if not normalized or normalized == business.normalized_name:
            continue
        owner = find_business(name)
        if owner is not None and owner.id != business.id:
            raise BusinessNameTaken(name, owner, "aliases")
        wanted.setdefault(normalized, name)
    for alias in list(business.aliases):
        if alias.normalized_name not in wanted:
            business.aliases.remove(alias)
        else:
            alias.name = wanted.pop(alias.normalized_name)
    db.session.flush()  # removed aliases must leave before re-added ones take their name
    for normalized, name in wanted.items():
        business.aliases.append(BusinessAlias(name=name, normalized_name=normalized))


BUSINESS_FIELDS = ("name", "website", "address", "city", "region", "country", "industry", "contact_name",
                   "contact_email", "contact_address")


@dataclass
class BusinessDetails:
    """What an editor may change about a business: its details and its other names (a list)."""

    name: str
    website: str | None = None
    address: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    industry: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_address: str | None = None
    aliases: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, business: Business) -> "BusinessDetails":
        return cls(**{name: getattr(business, name) for name in BUSINESS_FIELDS}, aliases=business.alias_names)

    @classmethod
    def from_mapping(cls, data, aliases: list[str]) -> "BusinessDetails":
        """From a mapping with (at least) the BUSINESS_FIELDS, e.g. a form's data."""
        return cls(**{name: data.get(name) for name in BUSINESS_FIELDS}, aliases=list(aliases))

    def replace(self, **changes) -> "BusinessDetails":
        known = {f.name for f in fields(self)}
        return BusinessDetails(**{**{name: getattr(self, name) for name in known},
                                  **{name: value for name, value in changes.items() if name in known}})


def update_business(business: Business, details: BusinessDetails) -> list[str]:
    """Apply edited details; return the names of the fields that changed. Raises BusinessNameTaken
    if the name or an alias belongs to another business."""
    new_name = " ".join(details.name.split())
    normalized = normalize_business_name(new_name)
    if normalized != business.normalized_name:
        owner = find_business(new_name)
        if owner is not None and owner.id != business.id:
            raise BusinessNameTaken(new_name, owner, "name")
    old_name = business.name
    aliases = list(details.aliases)
    changed = []
    for name in BUSINESS_FIELDS:
        value = getattr(details, name)
        value = " ".join(value.split()) if name == "name" else (value.strip() or None if value else None)
        if getattr(business, name) != value:
            setattr(business, name, value)
            changed.append(name)
    if "name" in changed:
        business.normalized_name = normalized
        aliases = [*aliases, old_name]  # complaints may still arrive under the old name
    before = business.alias_names
    set_aliases(business, aliases)
    if business.alias_names != before:
        changed.append("aliases")
    if changed:
        audit.record("business.update", business, fields=changed)
    return changed


def merge_businesses(duplicate: Business, survivor: Business, actor) -> int:
    """Fold the `duplicate` record into `survivor`: its cases move over, its name and aliases become
    the survivor's aliases, and it stays behind as a pointer. Returns how many cases moved."""
    if duplicate.id == survivor.id:
        raise MergeError("A business cannot be merged into itself.")
    if duplicate.merged_into_id is not None or survivor.merged_into_id is not None:
        raise MergeError("One of these businesses was already merged into another.")
    moved = db.session.scalars(select(Case).where(Case.business_id == duplicate.id)).all()
    for case in moved:
        case.business = survivor
    names = [duplicate.name, *duplicate.alias_names]
    duplicate.aliases.clear()
    duplicate.merged_into = survivor
    # Its name now belongs to the survivor (as an alias, which is how it still finds the survivor),
    # so the survivor may later be renamed to it; no typed name normalizes to this placeholder.
    duplicate.normalized_name = f"~merged-{duplicate.id}"
    db.session.flush()  # the duplicate's aliases leave before the survivor takes them
    set_aliases(survivor, [*survivor.alias_names, *names])
    audit.record("business.merge", survivor, actor=actor, duplicate=duplicate.name, cases=len(moved))
    return len(moved)


@dataclass
class ComplaintPattern:
    """How many complaints against a business, of which kinds, over what period, for how much money."""

    total: int
    first: date | None
    last: date | None
    by_category: dict[str, int]
    by_status: dict[str, int]
    amounts: dict[str, Decimal]  # currency -> total in dispute
    months: list[str]  # "2026-03", every month from first to last
    per_month: list[int]

    def chart(self, title: str) -> Markup:
        return bar_chart([_month_label(m) for m in self.months], self.per_month, title)


def _month_label(month: str) -> str:
    return date(int(month[:4]), int(month[5:]), 1).strftime("%b %Y")


@dataclass
class CaseFacts:
    """What a complaint pattern needs of a case, without loading the case."""
    date_received: date
    category: str
    status: str
    amount_in_dispute: Decimal | None
    currency: str

    @property
    def status_label(self) -> str:
        return Status(self.status).label


def visible_pattern(business: Business, user) -> ComplaintPattern:
    """The pattern of every case against `business` that `user` may see (pages list only the newest)."""
    rows = db.session.execute(
        select(Case.date_received, Case.category, Case.status, Case.amount_in_dispute, Case.currency)
        .where(cases_of_clause(business.id, user))
    ).all()
    return complaint_pattern([CaseFacts(*row) for row in rows])


def complaint_pattern(cases: list[Case] | list[CaseFacts]) -> ComplaintPattern:
    received = sorted(case.date_received for case in cases)
    by_category = Counter(CATEGORIES.get(case.category, case.category) for case in cases)
    by_status = Counter(case.status_label for case in cases)
    amounts: dict[str, Decimal] = {}
    for case in cases:
        if case.amount_in_dispute is not None:
            amounts[case.currency] = amounts.get(case.currency, Decimal(0)) + case.amount_in_dispute
    months: list[str] = []
    if received:
        year, month = received[0].year, received[0].month
        while (year, month) <= (received[-1].year, received[-1].month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    per_month = Counter(f"{d.year:04d}-{d.month:02d}" for d in received)
    return ComplaintPattern(
        total=len(cases), first=received[0] if received else None, last=received[-1] if received else None,
        by_category=dict(by_category.most_common()), by_status=dict(by_status.most_common()), amounts=amounts,
        months=months, per_month=[per_month[m] for m in months],
    )
